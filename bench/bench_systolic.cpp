// The systolic engines on a 128x128 weight-, output- and input-stationary array over the
// convolution and matmul layers of a ResNet-50-like network and a transformer block (as GEMMs:
// m = output pixels or tokens, n = output channels, k = window). Counter: simulated MACs per
// host second (the layer's MACs / the wall time of one simulate_gemm or estimate_gemm call).
//
//   ninja -C build bench_systolic && build/bench/bench_systolic
#include <benchmark/benchmark.h>

#include <vector>

#include "tessera/sim/tpu/systolic.h"

namespace tessera::sim {
namespace {

struct Layer {
  const char* name;
  GemmShape gemm;
};

const std::vector<Layer>& layers() {
  static const std::vector<Layer> l = {
      {"conv1_7x7", {.m = 112 * 112, .n = 64, .k = 7 * 7 * 3}},
      {"res2_3x3", {.m = 56 * 56, .n = 64, .k = 3 * 3 * 64}},
      {"res3_3x3", {.m = 28 * 28, .n = 128, .k = 3 * 3 * 128}},
      {"res4_3x3", {.m = 14 * 14, .n = 256, .k = 3 * 3 * 256}},
      {"res5_3x3", {.m = 7 * 7, .n = 512, .k = 3 * 3 * 512}},
      {"res4_1x1", {.m = 14 * 14, .n = 1024, .k = 256}},
      {"fc1000", {.m = 1, .n = 1000, .k = 2048}},
      {"qkv_proj", {.m = 512, .n = 3 * 768, .k = 768}},
      {"attn_scores", {.batch = 12, .m = 512, .n = 512, .k = 64}},
      {"mlp_up", {.m = 512, .n = 3072, .k = 768}},
  };
  return l;
}

template <GemmStats (*Engine)(const GemmShape&, const SystolicArray&)>
void BM_Systolic(benchmark::State& state) {
  SystolicArray a;  // 128x128, 1 MiB SRAMs
  a.dataflow = static_cast<Dataflow>(state.range(0));
  a.dram_words_per_cycle = static_cast<double>(state.range(1));
  int64_t macs = 0;
  for (auto _ : state) {
    for (const Layer& l : layers()) {
      GemmStats s = Engine(l.gemm, a);
      benchmark::DoNotOptimize(s);
      macs += s.macs;
    }
  }
  state.counters["simulated_MACs_per_s"] =
      benchmark::Counter(static_cast<double>(macs), benchmark::Counter::kIsRate);
  state.SetLabel(dataflow_name(a.dataflow));
}

// Arguments: dataflow (0 ws, 1 os, 2 is), DRAM words per cycle (0: unlimited).
BENCHMARK(BM_Systolic<simulate_gemm>)
    ->ArgsProduct({{0, 1, 2}, {0, 16}})
    ->Name("BM_SimulateGemm");
BENCHMARK(BM_Systolic<estimate_gemm>)
    ->ArgsProduct({{0, 1, 2}, {0, 16}})
    ->Name("BM_EstimateGemm");

}  // namespace
}  // namespace tessera::sim

BENCHMARK_MAIN();
