// matmul through the engine (a compiled one-node Program, timed run()) next to cblas_sgemm
// called directly, in the same process and run, at n = 256 … 2048. Counter: GFLOP/s.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/tensor.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

Tensor filled(int64_t rows, int64_t cols, float seed) {
  Tensor t = Tensor::zeros(kF32, {rows, cols});
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((i * 7 + 3) % 17) * 0.1f - seed;
  return t;
}

void set_flops(benchmark::State& state, int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_EngineMatMul(benchmark::State& state) {
  const int64_t n = state.range(0);
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {n, n});
  ValueId w = b.parameter("w", filled(n, n, 0.5f));
  b.output(b.matmul(x, w));
  Program p = compile_program(b.finish(), {});
  std::vector<Tensor> in = {filled(n, n, 0.7f)};
  p.run(in);  // warm up
  for (auto _ : state) benchmark::DoNotOptimize(p.run(in)[0].raw_data());
  set_flops(state, n);
  state.counters["threads"] = num_threads();
}

void BM_DirectSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = filled(n, n, 0.7f), w = filled(n, n, 0.5f), c = Tensor::zeros(kF32, {n, n});
  openblas_set_num_threads(num_threads());
  const int m = static_cast<int>(n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a.data<float>(), m,
                w.data<float>(), m, 0.0f, c.data<float>(), m);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_flops(state, n);
  state.counters["threads"] = num_threads();
}

}  // namespace
}  // namespace tessera

// Registered engine/direct pairs per size, so the two of each pair run back to back and see
// the same machine state.
int main(int argc, char** argv) {
  for (int64_t n : {256, 512, 1024, 2048}) {
    benchmark::RegisterBenchmark("BM_EngineMatMul", tessera::BM_EngineMatMul)
        ->Arg(n)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DirectSgemm", tessera::BM_DirectSgemm)
        ->Arg(n)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
