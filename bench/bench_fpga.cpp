// Fixed-point simulation speed: mnist-mlp (784-256-128-10, ReLU) at ap_fixed<16,6> through
// the FPGA's exact arithmetic, images per second on one core — the fast evaluator and the
// reference FixedNetwork::run. Inputs are quantized from f32 inside the timed loop.
#include <benchmark/benchmark.h>

#include <vector>

#include "tessera/nn/layers.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/train/model.h"

namespace {

using namespace tessera;

struct Setup {
  sim::FixedNetwork net;
  Tensor images;
};

// Blank-ish images like MNIST's (a third of the pixels zero) with a fixed seed.
Setup make(const char* yaml) {
  Sequential m({Flatten("flatten"), Dense(256, {.activation = "relu", .name = "hidden1"}),
                Dense(128, {.activation = "relu", .name = "hidden2"}),
                Dense(10, {.activation = "softmax", .name = "logits"})},
               "mnist-mlp", 1);
  m.build(Shape{28, 28});
  const int64_t n = 256;
  std::vector<float> v(static_cast<size_t>(n * 784));
  uint64_t s = 42;
  for (float& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = (s >> 40) % 3 == 0 ? 0.0f : static_cast<float>((s >> 33) % 256) / 255.0f;
  }
  return {sim::build_fixed_network(m.predict_graph(), sim::parse_fpga_config(yaml, "bench"), nullptr),
          Tensor::from_vector(v, {n, 28, 28})};
}

void run_fast(benchmark::State& state, const char* yaml) {
  const Setup s = make(yaml);
  sim::FixedEvaluator ev(s.net);
  for (auto _ : state) benchmark::DoNotOptimize(ev.classify(s.images));
  state.SetItemsProcessed(state.iterations() * s.images.shape()[0]);
  state.SetLabel("images/s = items_per_second");
}

void BM_FpgaMnistMlpFast(benchmark::State& state) { run_fast(state, "Model: {Precision: ap_fixed<16,6>}"); }
void BM_FpgaMnistMlpFastAutoAccum(benchmark::State& state) {
  run_fast(state, "Model: {Precision: {default: ap_fixed<16,6>, accum: auto}}");
}
void BM_FpgaMnistMlpFastSaturating(benchmark::State& state) {
  run_fast(state, "Model: {Precision: ap_fixed<16,6,AP_RND_CONV,AP_SAT>}");
}

void BM_FpgaMnistMlpReference(benchmark::State& state) {
  const Setup s = make("Model: {Precision: ap_fixed<16,6>}");
  const std::vector<float> xv = s.images.to_f32_vector();
  int64_t i = 0;
  for (auto _ : state) {
    const int64_t k = i++ % s.images.shape()[0];
    benchmark::DoNotOptimize(
        s.net.run(s.net.quantize_input(std::span<const float>(xv.data() + k * 784, 784))));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_FpgaMnistMlpFast)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FpgaMnistMlpFastAutoAccum)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FpgaMnistMlpFastSaturating)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FpgaMnistMlpReference)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
