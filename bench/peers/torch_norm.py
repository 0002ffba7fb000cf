#!/usr/bin/env python3
"""PyTorch's side of bench/bench_norm.cpp: layer norm and RMS norm on 4096 x 256 f32, the
forward pass and the forward and backward pass (gradients of x, gamma and beta for a given
dy), timed the same way (median of repetitions of a timed loop).

    OPENBLAS_NUM_THREADS=1 python3 bench/peers/torch_norm.py --threads 2

PyTorch 1.13 has no fused RMS norm; it is written as PyTorch users write it
(x * rsqrt(mean(x^2) + eps) * gamma), eager ops with autograd.
"""
import argparse
import statistics
import time

import torch


def timed(fn, iters, reps):
    for _ in range(3):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--iters", type=int, default=200)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    rows, cols = 4096, 256
    x = torch.randn(rows, cols)
    dy = torch.randn(rows, cols)
    gamma = torch.randn(cols)
    beta = torch.randn(cols)

    def layer_norm(x, g, b):
        return torch.nn.functional.layer_norm(x, (cols,), g, b, 1e-5)

    def rms_norm(x, g, _b):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g

    for name, f in (("layer_norm", layer_norm), ("rms_norm", rms_norm)):
        with torch.no_grad():
            fwd = timed(lambda: f(x, gamma, beta), a.iters, a.reps)
        xr = x.clone().requires_grad_()
        gr = gamma.clone().requires_grad_()
        br = beta.clone().requires_grad_()
        params = [xr, gr] + ([br] if name == "layer_norm" else [])

        def step():
            y = f(xr, gr, br)
            torch.autograd.grad(y, params, dy)

        both = timed(step, a.iters // 2, a.reps)
        print(f"{name}: forward {fwd * 1e6:.1f} us, forward+backward {both * 1e6:.1f} us "
              f"(torch {torch.__version__}, {a.threads} threads)")


if __name__ == "__main__":
    main()
