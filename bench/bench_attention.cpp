// Attention forward on the cpu backend: the fused streaming kernel against the decomposed
// path (q·kᵀ, mask, softmax, ·v as separate nodes, the same graph after decompose()), in
// tokens/s (query positions per second, all heads). Shapes: 4 heads of 64, batch 2, causal,
// T = 128 (gpt-tiny's context), 512 and 1024; plus one decode step (Tq = 1) against a cache
// of L keys, to show its cost growing with L (the keys it may see), not with the cache size.
#include <benchmark/benchmark.h>

#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/rng.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

constexpr int64_t kBatch = 2, kHeads = 4, kHeadDim = 64;

Tensor random(const Shape& s, uint64_t seed) {
  Tensor t = Tensor::zeros(kF32, s);
  Rng rng(seed);
  rng.fill_uniform(t, -1.0, 1.0);
  return t;
}

// causal attention over q [B, H, tq, 64] and k, v [B, H, tk, 64], with kv_len when `decode`.
Graph attention_graph(int64_t tq, int64_t tk, bool decode, bool decomposed) {
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {kBatch, kHeads, tq, kHeadDim});
  ValueId k = b.input("k", kF32, {kBatch, kHeads, tk, kHeadDim});
  ValueId v = b.input("v", kF32, {kBatch, kHeads, tk, kHeadDim});
  ValueId len = decode ? b.input("len", kI32, {}) : kNoValue;
  b.output(b.attention(q, k, v, /*causal=*/true, std::nullopt, len));
  Graph g = b.finish();
  if (!decomposed) return g;
  return decompose(g, [](const Node& n) { return n.op == OpKind::kAttention; });
}

void run(benchmark::State& state, const Graph& g, std::vector<Tensor> inputs, int64_t tokens) {
  Program p = compile_program(g, {});
  p.run(inputs);
  for (auto _ : state) benchmark::DoNotOptimize(p.run(inputs)[0].raw_data());
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

// Arg 0: T; arg 1: 0 fused, 1 decomposed.
void BM_AttentionForward(benchmark::State& state) {
  const int64_t t = state.range(0);
  const Shape s{kBatch, kHeads, t, kHeadDim};
  run(state, attention_graph(t, t, false, state.range(1) != 0),
      {random(s, 1), random(s, 2), random(s, 3)}, kBatch * t);
}
BENCHMARK(BM_AttentionForward)
    ->ArgsProduct({{128, 512, 1024}, {0, 1}})
    ->ArgNames({"T", "decomposed"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One new query per sequence against a cache of 1024 positions of which L are filled.
// Arg 0: L; arg 1: 0 fused, 1 decomposed.
void BM_AttentionDecodeStep(benchmark::State& state) {
  const int64_t len = state.range(0), cache = 1024;
  const Shape kv{kBatch, kHeads, cache, kHeadDim};
  run(state, attention_graph(1, cache, true, state.range(1) != 0),
      {random({kBatch, kHeads, 1, kHeadDim}, 4), random(kv, 5), random(kv, 6),
       Tensor::scalar(static_cast<double>(len), kI32)},
      kBatch);
}
BENCHMARK(BM_AttentionDecodeStep)
    ->ArgsProduct({{64, 256, 1024}, {0, 1}})
    ->ArgNames({"L", "decomposed"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera

BENCHMARK_MAIN();
