// layer_norm and rms_norm on the cpu backend, 4096 rows of 256 (f32): the fused ops (row
// kernels; the backward as *_grad_input plus column sums) against their decompositions into
// primitives (what a backend without the ops runs, elementwise fusion included).
//
// Pass 0 times the forward graph (y); pass 1 the forward and backward graph (y and the
// gradients of x, gamma and beta for a given dy), so backward = pass 1 - pass 0.
#include <benchmark/benchmark.h>

#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

constexpr int64_t kRows = 4096, kCols = 256;

Tensor filled(const Shape& s, float scale, int salt) {
  Tensor t = Tensor::zeros(kF32, s);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = (static_cast<float>((i * 13 + 5 + salt) % 101) - 50) * scale;
  return t;
}

Graph norm_graph(bool rms, bool decomposed, bool backward) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kRows, kCols});
  ValueId gamma = b.parameter("gamma", filled({kCols}, 0.02f, 1));
  ValueId beta = b.parameter("beta", filled({kCols}, 0.01f, 2));
  ValueId y = rms ? b.rms_norm(x, gamma, 1e-6) : b.layer_norm(x, gamma, beta, 1e-5);
  b.output(y);
  if (backward) b.input("dy", kF32, {kRows, kCols});
  Graph g = b.finish();
  if (decomposed)
    g = decompose(
        g, [](const Node& n) { return n.op == OpKind::kLayerNorm || n.op == OpKind::kRmsNorm; });
  if (!backward) return g;
  std::vector<ValueId> wrt = {g.find("x"), g.find("gamma")};
  if (!rms) wrt.push_back(g.find("beta"));
  Gradients d = differentiate(g, g.outputs()[0], g.find("dy"), wrt);
  for (ValueId grad : d.grads) d.graph.outputs().push_back(grad);
  return d.graph;
}

// Args: op (0 layer_norm, 1 rms_norm), path (0 fused op, 1 decomposed), pass (0 forward,
// 1 forward + backward).
void BM_Norm(benchmark::State& state) {
  const bool rms = state.range(0) != 0, decomposed = state.range(1) != 0;
  const bool backward = state.range(2) != 0;
  Program p = compile_program(norm_graph(rms, decomposed, backward), {});
  std::vector<Tensor> in = {filled({kRows, kCols}, 0.05f, 3)};
  if (backward) in.push_back(filled({kRows, kCols}, 0.03f, 4));
  p.run(in);
  for (auto _ : state) benchmark::DoNotOptimize(p.run(in)[0].raw_data());
  state.counters["nodes"] = p.graph().size();
  state.SetItemsProcessed(state.iterations() * kRows);  // rows per second
}
BENCHMARK(BM_Norm)
    ->ArgsProduct({{0, 1}, {0, 1}, {0, 1}})
    ->ArgNames({"rms", "decomposed", "backward"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera

BENCHMARK_MAIN();
