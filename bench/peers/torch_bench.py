#!/usr/bin/python3
"""PyTorch side of the peer benchmark (bench/peers/README.md, scripts/run-peers.sh).

Trains one model the way Keras' fit does (seeded shuffle every epoch, Adam, sparse
categorical cross-entropy, running loss and accuracy), then times batch-1 inference, and
prints one JSON line with what it measured:

  {"framework": "pytorch", "model": "seed", "train_samples_per_s": ...,
   "infer_latency_us": ..., "train_max_rss_kib": ..., "max_rss_kib": ..., ...}

Models (the same as bench/peers/tessera_bench.cpp builds):
  seed   Dense 64 relu -> Dense 10 softmax on 32 features, batch 32, synthetic data
         (Gaussian clusters around 10 centres drawn from N(0, 1), noise 1.2; 8192 samples)
  mnist  784-256-128-10 relu MLP, batch 128, Fashion-MNIST train split (60000 samples)

The softmax of the Keras model is folded into nn.CrossEntropyLoss for training (loss on
logits: the numerically stable equivalent of softmax + sparse categorical cross-entropy);
inference applies it, so both frameworks return probabilities.

Run with Debian's interpreter, which is the one python3-torch installs into:
  /usr/bin/python3 bench/peers/torch_bench.py --model seed --threads 2
"""

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:
    sys.exit("torch_bench: %s under %s; install Debian's python3-torch and run this with "
             "/usr/bin/python3 (scripts/install-deps.sh --bench)" % (e, sys.executable))

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """Reads a gzip-compressed IDX file (the MNIST family) into a numpy array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(model, train_size, data_dir):
    """Returns (x f32 [n, features], y int64 [n]) for the model's task."""
    if model == "seed":
        rng = np.random.default_rng(7)
        centres = rng.normal(0.0, 1.0, size=(10, 32)).astype(np.float32)
        y = rng.integers(0, 10, size=train_size)
        x = centres[y] + rng.normal(0.0, 1.2, size=(train_size, 32)).astype(np.float32)
        return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    del images
    return x, labels.astype(np.int64)


def build(model):
    """Returns (network producing logits, batch size)."""
    if model == "seed":
        net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
        return net, 32
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    return net, 128


def glorot_init(net):
    """Keras' defaults: glorot_uniform kernels, zero biases."""
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["seed", "mnist"], required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs (default: 10 seed, 3 mnist)")
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=8192, help="seed model only")
    parser.add_argument("--infer-calls", type=int, default=3000)
    parser.add_argument("--data-dir", default=FASHION_MNIST_DIR)
    parser.add_argument("--foreach", choices=["default", "on", "off"], default="default",
                        help="Adam's multi-tensor path (default: PyTorch's own choice)")
    args = parser.parse_args()
    epochs = args.epochs or (10 if args.model == "seed" else 3)

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    rss_start = max_rss_kib()

    x_np, y_np = load_data(args.model, args.train_size, args.data_dir)
    x = torch.from_numpy(x_np)
    y = torch.from_numpy(y_np)
    n = x.shape[0]
    net, batch = build(args.model)
    glorot_init(net)
    foreach = {"default": None, "on": True, "off": False}[args.foreach]
    # Keras' Adam defaults: lr 1e-3, betas (0.9, 0.999), epsilon 1e-7.
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7, foreach=foreach)
    loss_fn = nn.CrossEntropyLoss()

    def train_epoch(epoch):
        """One Keras-style epoch; returns (seconds, mean loss, accuracy)."""
        net.train()
        g = torch.Generator().manual_seed(1000 + epoch)
        start = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(idx)
                correct += (logits.argmax(1) == yb).sum()
        seconds = time.perf_counter() - start
        return seconds, loss_sum.item() / n, correct.item() / n

    for e in range(args.warmup_epochs):
        train_epoch(e)
    epoch_seconds = []
    for e in range(args.warmup_epochs, args.warmup_epochs + epochs):
        seconds, loss, acc = train_epoch(e)
        epoch_seconds.append(seconds)
    train_rss = max_rss_kib()

    # Batch-1 inference: softmax probabilities, as Keras' predict on the softmax model.
    infer = nn.Sequential(net, nn.Softmax(dim=1))
    infer.eval()
    samples = [x[i:i + 1].clone() for i in range(256)]
    latencies_ns = []
    with torch.inference_mode():
        for i in range(200):
            infer(samples[i % len(samples)])
        for i in range(args.infer_calls):
            s = samples[i % len(samples)]
            t0 = time.perf_counter_ns()
            out = infer(s)
            t1 = time.perf_counter_ns()
            latencies_ns.append(t1 - t0)
        assert out.shape == (1, 10)

    median_epoch = statistics.median(epoch_seconds)
    print(json.dumps({
        "framework": "pytorch",
        "version": torch.__version__,
        "model": args.model,
        "threads": args.threads,
        "env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                            "OMP_WAIT_POLICY") if k in os.environ},
        "batch": batch,
        "train_samples": n,
        "timed_epochs": epochs,
        "train_samples_per_s": n / median_epoch,
        "epoch_s_median": median_epoch,
        "final_loss": loss,
        "final_accuracy": acc,
        "infer_latency_us": statistics.median(latencies_ns) / 1000.0,
        "infer_latency_p90_us": sorted(latencies_ns)[int(0.9 * len(latencies_ns))] / 1000.0,
        "start_max_rss_kib": rss_start,
        "train_max_rss_kib": train_rss,
        "max_rss_kib": max_rss_kib(),
    }))


if __name__ == "__main__":
    main()
