#!/usr/bin/python3
"""PyTorch twin of Tessera's gpt-tiny for the peer benchmark (bench/peers/README.md).

Builds the architecture documented in include/tessera/nn/gpt.h for GptConfig::tiny(), trains
it on next-byte windows of a text (the GPL-3 every Debian system has), then times greedy
generation, and prints one JSON line with what it measured:

  {"framework": "pytorch", "model": "gpt-tiny", "train_tokens_per_s": ...,
   "generate_tokens_per_s": ..., "train_max_rss_kib": ..., "final_loss": ..., ...}

Model (GPT-2 layout, pre-norm): token embedding [256, 256] + learned positional embedding
[128, 256] -> 4 x [x + attn(LayerNorm(x)), x + mlp(LayerNorm(x))] -> LayerNorm -> head
Linear(256, 256, bias=False) (untied). attn: one fused Linear(d, 3d) for q, k, v (split in
that order, heads contiguous), 4 heads of 64, causal scaled dot-product attention, output
Linear(d, d). mlp: Linear(d, 1024) -> exact GELU -> Linear(1024, d). LayerNorm epsilon 1e-5;
no dropout. Weights start from normal(0, 0.02), biases at 0, norm scales at 1 (3,323,392
parameters). Attention is torch.nn.functional.scaled_dot_product_attention(is_causal=True)
where this PyTorch has it (2.0 and later), else its 1.13 predecessor
torch.nn.functional._scaled_dot_product_attention with the same arguments, else the same
computation written out; the JSON names the one used ("attention").

Data: the file's bytes as token ids, cut into non-overlapping windows of 128 inputs with the
window shifted by one byte as targets (what tessera::load_text_bytes gives with context
128): 274 windows for the GPL-3. Each step takes 16 windows (16 x 128 = 2048 tokens) from a
seeded shuffle, reshuffled when exhausted. Loss: cross-entropy on the logits, mean over
tokens (nats per token). AdamW with Tessera's (and Keras') defaults: learning rate 1e-3,
betas (0.9, 0.999), epsilon 1e-7, decoupled weight decay 0.004 on every weight.

Figures:
- train_tokens_per_s: 2048 / the median wall time of the timed steps (after the warm-up
  steps); a step is zero_grad, forward, loss, backward, optimizer step and reading the loss.
- final_loss: the mean loss of the last 10 timed steps (nats per token); first_loss: step 1.
- generate_*: greedy decoding of 64 new bytes after a 64-byte prompt (the text's first 64
  bytes), batch 1, with this script's own KV cache (keys and values of every layer kept in
  preallocated [1, heads, 128, 64] buffers; each new token runs one position). prefill: the
  prompt in one forward pass, which yields the first new token's logits; a decode step
  chooses a token (argmax) and feeds it, yielding the next logits; the last token is chosen
  but not fed (the definitions of `tessera generate`). generate_tokens_per_s = new tokens /
  (prefill + decode); generate_decode_tokens_per_s = decode steps / their time;
  generate_per_token_ms = their median. Medians over --gen-reps runs after one warm-up.
  generate_nocache_*: the same without a cache (every token re-runs the whole sequence).
- train_max_rss_kib: getrusage max RSS right after training; max_rss_kib at exit;
  start_max_rss_kib after `import torch`, before the data and the model.

Run with Debian's interpreter, which is the one python3-torch installs into:
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/torch_gpt.py --threads 2
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:
    sys.exit("torch_gpt: %s under %s; install Debian's python3-torch and run this with "
             "/usr/bin/python3 (scripts/install-deps.sh --bench)" % (e, sys.executable))

DEFAULT_TEXT = "/usr/share/common-licenses/GPL-3"

# GptConfig::tiny() (include/tessera/nn/gpt.h).
VOCAB, CONTEXT, D_MODEL, HEADS, LAYERS, D_FF, EPS = 256, 128, 256, 4, 4, 1024, 1e-5


def pick_attention():
    """(name, fn(q, k, v, causal)) for q, k, v [B, heads, T, head_dim]."""
    if hasattr(F, "scaled_dot_product_attention"):
        return "sdpa", lambda q, k, v, causal: F.scaled_dot_product_attention(
            q, k, v, is_causal=causal)
    if hasattr(F, "_scaled_dot_product_attention"):
        # PyTorch 1.13: (query, key, value, attn_mask, dropout_p, need_attn_weights, is_causal)
        return "sdpa-1.13", lambda q, k, v, causal: F._scaled_dot_product_attention(
            q, k, v, None, 0.0, False, causal)[0]

    def manual(q, k, v, causal):
        s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        if causal:
            t, u = q.shape[-2], k.shape[-2]
            mask = torch.ones(t, u, dtype=torch.bool).tril()
            s = s.masked_fill(~mask, float("-inf"))
        return torch.softmax(s, dim=-1) @ v

    return "manual", manual


ATTENTION_NAME, attention = pick_attention()


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.norm2 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.fc1 = nn.Linear(D_MODEL, D_FF)
        self.fc2 = nn.Linear(D_FF, D_MODEL)

    def forward(self, x, cache=None, pos=0):
        """x [B, T, d]. With cache = (k, v) buffers [B, heads, CONTEXT, head_dim], the new
        keys and values go to positions pos..pos+T-1 and attention reads 0..pos+T-1."""
        b, t, d = x.shape
        hd = d // HEADS
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, HEADS, hd).transpose(1, 2) for z in (q, k, v))
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos:pos + t] = k
            vc[:, :, pos:pos + t] = v
            k, v = kc[:, :, :pos + t], vc[:, :, :pos + t]
            # A prefill (pos 0) is causal over itself; a single new token sees every position.
            assert pos == 0 or t == 1, "the cache takes a prefill, then one token at a time"
            y = attention(q, k, v, pos == 0 and t > 1)
        else:
            y = attention(q, k, v, True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))  # exact (erf) GELU


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, D_MODEL)
        self.positions = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D_MODEL, eps=EPS)
        self.head = nn.Linear(D_MODEL, VOCAB, bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, ids, caches=None, pos=0):
        """ids [B, T] (int64) -> logits [B, T, VOCAB]."""
        t = ids.shape[1]
        x = self.tokens(ids) + self.positions(torch.arange(pos, pos + t, device=ids.device))
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], pos)
        return self.head(self.norm(x))


def windows(data, context):
    """Non-overlapping next-byte windows: x, y [n, context] int64 (load_text_bytes)."""
    n = (len(data) - context - 1) // context + 1
    if len(data) <= context or n < 1:
        sys.exit("torch_gpt: the text has %d bytes; it needs at least %d" % (len(data),
                                                                           context + 1))
    b = torch.tensor(list(data), dtype=torch.int64)
    starts = torch.arange(n) * context
    idx = starts[:, None] + torch.arange(context)[None, :]
    return b[idx], b[idx + 1]


def max_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def generate(net, prompt, new_tokens, cached):
    """Greedy decoding; returns (tokens, prefill seconds, decode step seconds, decode total)."""
    caches = None
    if cached:
        hd = D_MODEL // HEADS
        caches = [(torch.zeros(1, HEADS, CONTEXT, hd), torch.zeros(1, HEADS, CONTEXT, hd))
                  for _ in range(LAYERS)]
    seq = list(prompt)
    t0 = time.perf_counter()
    logits = net(torch.tensor([seq]), caches, 0)[0, -1]
    t1 = time.perf_counter()
    out, steps, decode = [], [], 0.0
    start = t1
    while True:
        token = int(torch.argmax(logits))  # the first maximum: lowest id on ties
        out.append(token)
        last = len(out) == new_tokens or len(seq) >= CONTEXT
        if not last:
            seq.append(token)
            if cached:
                logits = net(torch.tensor([[token]]), caches, len(seq) - 1)[0, -1]
            else:
                logits = net(torch.tensor([seq]))[0, -1]
        end = time.perf_counter()
        decode += end - start
        if not last:
            steps.append(end - start)
        if last:
            break
        start = time.perf_counter()
    return out, t1 - t0, steps, decode


def time_generation(net, prompt, new_tokens, cached, reps):
    """Median figures over `reps` runs after one warm-up; checks every run agrees."""
    with torch.inference_mode():
        reference = generate(net, prompt, new_tokens, cached)[0]
        runs = []
        for _ in range(reps):
            tokens, prefill, steps, decode = generate(net, prompt, new_tokens, cached)
            assert tokens == reference
            runs.append((prefill, steps, decode))
    return {
        "tokens": reference,
        "tokens_per_s": statistics.median(len(reference) / (p + d) for p, _, d in runs),
        "decode_tokens_per_s": statistics.median(len(s) / sum(s) for _, s, _ in runs),
        "per_token_ms": statistics.median(statistics.median(s) for _, s, _ in runs) * 1e3,
        "prefill_ms": statistics.median(p for p, _, _ in runs) * 1e3,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30, help="timed training steps")
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--prompt-bytes", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--gen-reps", type=int, default=3)
    parser.add_argument("--no-nocache", action="store_true",
                        help="skip the generation without a KV cache")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    rss_start = max_rss_kib()

    with open(args.text, "rb") as f:
        data = f.read()
    x, y = windows(data, CONTEXT)
    n = x.shape[0]
    net = Gpt()
    params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7,
                            weight_decay=0.004)

    g = torch.Generator().manual_seed(1000)
    order, cursor = torch.randperm(n, generator=g), 0

    def next_batch():
        nonlocal order, cursor
        if cursor + args.batch > n:
            order, cursor = torch.randperm(n, generator=g), 0
        idx = order[cursor:cursor + args.batch]
        cursor += args.batch
        return x[idx], y[idx]

    net.train()
    step_seconds, losses = [], []
    for step in range(args.warmup_steps + args.steps):
        xb, yb = next_batch()
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = net(xb)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), yb.reshape(-1))
        loss.backward()
        opt.step()
        value = loss.item()
        seconds = time.perf_counter() - start
        losses.append(value)
        if step >= args.warmup_steps:
            step_seconds.append(seconds)
    train_rss = max_rss_kib()

    net.eval()
    prompt = list(data[:args.prompt_bytes])
    cached = time_generation(net, prompt, args.new_tokens, True, args.gen_reps)
    nocache = None
    if not args.no_nocache:
        nocache = time_generation(net, prompt, args.new_tokens, False, args.gen_reps)
        assert nocache["tokens"] == cached["tokens"], "the KV cache changed the greedy tokens"

    tokens_per_step = args.batch * CONTEXT
    median_step = statistics.median(step_seconds)
    result = {
        "framework": "pytorch",
        "version": torch.__version__,
        "model": "gpt-tiny",
        "threads": args.threads,
        "env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                            "OMP_WAIT_POLICY") if k in os.environ},
        "attention": ATTENTION_NAME,
        "params": params,
        "text": args.text,
        "windows": n,
        "batch": args.batch,
        "context": CONTEXT,
        "warmup_steps": args.warmup_steps,
        "timed_steps": args.steps,
        "step_s_median": median_step,
        "train_tokens_per_s": tokens_per_step / median_step,
        "train_samples_per_s": args.batch / median_step,
        "first_loss": losses[0],
        "final_loss": statistics.mean(losses[-10:]),
        "loss_units": "nats/token",
        "generate_prompt_tokens": len(prompt),
        "generate_new_tokens": len(cached["tokens"]),
        "generate_kv_cache": True,
        "generate_tokens_per_s": cached["tokens_per_s"],
        "generate_decode_tokens_per_s": cached["decode_tokens_per_s"],
        "generate_per_token_ms": cached["per_token_ms"],
        "generate_prefill_ms": cached["prefill_ms"],
        "start_max_rss_kib": rss_start,
        "train_max_rss_kib": train_rss,
        "max_rss_kib": max_rss_kib(),
    }
    if nocache:
        result.update({
            "generate_nocache_tokens_per_s": nocache["tokens_per_s"],
            "generate_nocache_decode_tokens_per_s": nocache["decode_tokens_per_s"],
            "generate_nocache_per_token_ms": nocache["per_token_ms"],
        })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
