// Simulator speed: GPT-2-small inference over 1024 tokens on the tpu-v4 preset, lowering
// plus simulation, with the analytic and the cycle-level engines (the goal for the analytic
// engine is under 1 s), and the whole mnist-mlp training step.
#include <benchmark/benchmark.h>

#include "tessera/nn/gpt.h"
#include "tessera/sim/tpu/tpu_simulator.h"
#include "tessera/train/model.h"

namespace tessera::sim {
namespace {

const Graph& gpt2_small_graph() {
  static Model* model = [] {
    auto* m = new Model(make_gpt(GptConfig::gpt2_small()));
    m->compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
    return m;
  }();
  return model->predict_graph();
}

void simulate_gpt2(benchmark::State& state, Fidelity fidelity) {
  const Graph& g = gpt2_small_graph();
  TpuConfig c = tpu_preset("tpu-v4");
  c.fidelity = fidelity;
  TpuSimulator sim(c);
  double macs = 0;
  for (auto _ : state) {
    Workload w = lower_to_workload(g, {.batch = 1, .name = "gpt2-small"});
    SimReport r = sim.simulate(w);
    macs = r.macs;
    benchmark::DoNotOptimize(r.cycles);
  }
  state.counters["simulated_GMACs"] = macs / 1e9;
  state.counters["simulated_MACs_per_s"] =
      benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Gpt2Small1024Tokens_Analytic(benchmark::State& s) { simulate_gpt2(s, Fidelity::kAnalytic); }
void BM_Gpt2Small1024Tokens_Cycle(benchmark::State& s) { simulate_gpt2(s, Fidelity::kCycle); }
BENCHMARK(BM_Gpt2Small1024Tokens_Analytic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gpt2Small1024Tokens_Cycle)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::sim

BENCHMARK_MAIN();
