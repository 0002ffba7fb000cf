#!/usr/bin/env python3
"""PyTorch peer of Tessera's CUDA training: gpt-tiny or GPT-2-small training tokens/s on a GPU.

    python3 bench/peers/torch_gpt_cuda.py --model gpt-tiny   [--batch 16] [--steps 30]
    python3 bench/peers/torch_gpt_cuda.py --model gpt2-small --batch 8

The model is bench/peers/torch_gpt.py's (GPT-2 layout, pre-norm, exact GELU), with its
dimensions set to GptConfig::tiny() or GptConfig::gpt2_small() (include/tessera/nn/gpt.h;
GPT-2-small ties the head to the token embedding). Data, optimizer and loss as there:
windows of the context's length from a text's bytes, AdamW (1e-3, eps 1e-7, weight decay
0.004), cross-entropy on the logits, eager mode, f32 (TF32 off, as Tessera's default). A
step is timed from before zero_grad to after loss.item() (which synchronizes the GPU).
The Tessera side: bench_gpt_tessera --device cuda --model MODEL (docs/benchmarks.md).
Prints one JSON line; without a GPU prints "no GPU: skipped" and exits 0.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit("torch_gpt_cuda: %s; install PyTorch with CUDA for %s" % (e, sys.executable))

CONFIGS = {
    # VOCAB, CONTEXT, D_MODEL, HEADS, LAYERS, D_FF, tied head
    "gpt-tiny": (256, 128, 256, 4, 4, 1024, False),
    "gpt2-small": (50257, 1024, 768, 12, 12, 3072, True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), default="gpt-tiny")
    parser.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup-steps", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no GPU: skipped (torch.cuda.is_available() is false)")
        return 0
    import torch_gpt as tg  # the CPU peer's model definition, re-dimensioned below
    (tg.VOCAB, tg.CONTEXT, tg.D_MODEL, tg.HEADS, tg.LAYERS, tg.D_FF, tied) = CONFIGS[args.model]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1)
    dev = torch.device("cuda")
    with open(args.text, "rb") as f:
        data = f.read()
    x, y = tg.windows(data, tg.CONTEXT)
    n = x.shape[0]
    if n < args.batch:
        sys.exit("torch_gpt_cuda: the text has %d windows of %d bytes, fewer than a batch"
                 % (n, tg.CONTEXT))
    net = tg.Gpt()
    if tied:
        net.head.weight = net.tokens.weight
    net = net.to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7,
                            weight_decay=0.004)
    g = torch.Generator().manual_seed(1000)
    order, cursor = torch.randperm(n, generator=g), 0
    step_seconds, losses = [], []
    net.train()
    for step in range(args.warmup_steps + args.steps):
        if cursor + args.batch > n:
            order, cursor = torch.randperm(n, generator=g), 0
        idx = order[cursor:cursor + args.batch]
        cursor += args.batch
        xb, yb = x[idx].to(dev), y[idx].to(dev)
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = F.cross_entropy(logits.reshape(-1, tg.VOCAB), yb.reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step >= args.warmup_steps:
            step_seconds.append(time.perf_counter() - start)
    median = statistics.median(step_seconds)
    print(json.dumps({
        "framework": "pytorch", "version": torch.__version__, "device": "cuda",
        "gpu": torch.cuda.get_device_name(0), "model": args.model,
        "params": sum(p.numel() for p in net.parameters()), "batch": args.batch,
        "context": tg.CONTEXT, "timed_steps": args.steps, "step_s_median": median,
        "train_tokens_per_s": args.batch * tg.CONTEXT / median,
        "first_loss": losses[0], "final_loss": statistics.mean(losses[-10:]),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
