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
  cnn    mnist-cnn: Conv2d 32 3x3 relu -> MaxPool 2 -> Conv2d 64 3x3 relu -> MaxPool 2 ->
         Linear 128 relu -> Linear 10 ('same' padding), batch 128, Fashion-MNIST, in
         PyTorch's natural NCHW layout (Tessera's is NHWC; the shapes and the arithmetic are
         the same). Then the quality recipe: a fresh network trained for --quality-epochs at
         --quality-batch (Keras' default 32) with Adam at 0.002 decayed to 0 along a cosine
         over those epochs' steps (as Tessera's cosine_decay), its test accuracy reported,
         untimed.

The softmax of the Keras model is folded into nn.CrossEntropyLoss for training (loss on
logits: the numerically stable equivalent of softmax + sparse categorical cross-entropy);
inference applies it, so both frameworks return probabilities.

Run with Debian's interpreter, which is the one python3-torch installs into:
  /usr/bin/python3 bench/peers/torch_bench.py --model seed --threads 2
"""

import argparse
import gzip
import math
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


def load_data(model, train_size, data_dir, split="train"):
    """Returns (x f32 [n, features] or [n, 1, 28, 28] for cnn, y int64 [n])."""
    if model == "seed":
        rng = np.random.default_rng(7)
        centres = rng.normal(0.0, 1.0, size=(10, 32)).astype(np.float32)
        y = rng.integers(0, 10, size=train_size)
        x = centres[y] + rng.normal(0.0, 1.2, size=(train_size, 32)).astype(np.float32)
        return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
    shape = (len(images), 1, 28, 28) if model == "cnn" else (len(images), -1)
    x = images.reshape(shape).astype(np.float32) / np.float32(255.0)
    del images
    return x, labels.astype(np.int64)


def build(model):
    """Returns (network producing logits, batch size)."""
    if model == "seed":
        net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
        return net, 32
    if model == "cnn":
        net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
        return net, 128
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    return net, 128


def glorot_init(net):
    """Keras' defaults: glorot_uniform kernels, zero biases."""
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["seed", "mnist", "cnn"], required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs (default: 10 seed, 3 mnist, 2 cnn)")
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=8192, help="seed model only")
    parser.add_argument("--infer-calls", type=int, default=3000)
    parser.add_argument("--data-dir", default=FASHION_MNIST_DIR)
    parser.add_argument("--quality-epochs", type=int, default=2, help="cnn only; 0 skips")
    parser.add_argument("--quality-batch", type=int, default=32, help="cnn only")
    parser.add_argument("--foreach", choices=["default", "on", "off"], default="default",
                        help="Adam's multi-tensor path (default: PyTorch's own choice)")
    args = parser.parse_args()
    epochs = args.epochs or {"seed": 10, "mnist": 3, "cnn": 2}[args.model]

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

    def train_epoch(epoch, net=net, opt=opt, batch=batch, schedule=None):
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
            if schedule is not None:
                schedule.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(idx)
                correct += (logits.argmax(1) == yb).sum()
        seconds = time.perf_counter() - start
        return seconds, loss_sum.item() / n, correct.item() / n

    def test_accuracy(net):
        """Accuracy on the test split (cnn), in batches of 512, untimed."""
        xt_np, yt_np = load_data(args.model, 0, args.data_dir, split="test")
        xt, yt = torch.from_numpy(xt_np), torch.from_numpy(yt_np)
        net.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, xt.shape[0], 512):
                correct += (net(xt[i:i + 512]).argmax(1) == yt[i:i + 512]).sum().item()
        return correct / xt.shape[0]

    for e in range(args.warmup_epochs):
        train_epoch(e)
    epoch_seconds = []
    for e in range(args.warmup_epochs, args.warmup_epochs + epochs):
        seconds, loss, acc = train_epoch(e)
        epoch_seconds.append(seconds)
    train_rss = max_rss_kib()

    # The quality goal: a fresh network, the quality recipe, then the test split.
    test_acc = None
    quality_s = 0.0
    if args.model == "cnn" and args.quality_epochs > 0:
        fresh, _ = build(args.model)
        glorot_init(fresh)
        fresh_opt = torch.optim.Adam(fresh.parameters(), lr=2e-3, eps=1e-7, foreach=foreach)
        steps = args.quality_epochs * ((n + args.quality_batch - 1) // args.quality_batch)
        cosine = torch.optim.lr_scheduler.LambdaLR(
            fresh_opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, steps) / steps)))
        start = time.perf_counter()
        for e in range(args.quality_epochs):
            train_epoch(e, fresh, fresh_opt, args.quality_batch, cosine)
        quality_s = time.perf_counter() - start
        test_acc = test_accuracy(fresh)

    # Batch-1 inference: softmax probabilities, as Keras' predict on the softmax model.
    infer = nn.Sequential(net, nn.Softmax(dim=1))
    infer.eval()
    samples = [x[i:i + 1].clone() for i in range(256)]
    out_shape = (1, 10)
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
        assert out.shape == out_shape

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
        "test_accuracy": test_acc,
        "test_accuracy_epochs": args.quality_epochs if test_acc is not None else 0,
        "test_accuracy_batch": args.quality_batch if test_acc is not None else 0,
        "quality_train_s": quality_s,
    }))


if __name__ == "__main__":
    main()
