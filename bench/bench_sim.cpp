// Simulator speed: GPT-2-small inference over 1024 tokens on the tpu-v4 preset, lowering
// plus simulation, with the analytic and the cycle-level engines (the goal for the analytic
// engine is under 1 s), and the GPU model (h100) on gpt-tiny's and GPT-2 small's training
// steps: the backends' passes, the memory planner, lowering and the model.
#include <benchmark/benchmark.h>

#include <map>

#include "tessera/nn/gpt.h"
#include "tessera/sim/gpu/gpu_simulator.h"
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

const Graph& train_graph(const GptConfig& config) {
  static std::map<int64_t, Model*> models;  // by d_model: tiny 256, small 768
  Model*& m = models[config.d_model];
  if (m == nullptr) {
    m = new Model(make_gpt(config));
    m->compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
  }
  return m->train_graph();
}

void simulate_gpu_step(benchmark::State& state, const GptConfig& config, int64_t batch) {
  const Graph& g = train_graph(config);
  GpuSimulator sim(gpu_preset("h100"));
  double seconds = 0;
  for (auto _ : state) {
    SimReport r = sim.simulate_graph(g, batch, "gpt");
    seconds = r.seconds;
    benchmark::DoNotOptimize(r.cycles);
  }
  state.counters["simulated_step_ms"] = seconds * 1e3;
}

void BM_GpuH100_GptTinyTrainStep_Batch32(benchmark::State& s) {
  simulate_gpu_step(s, GptConfig::tiny(), 32);
}
void BM_GpuH100_Gpt2SmallTrainStep_Batch8(benchmark::State& s) {
  simulate_gpu_step(s, GptConfig::gpt2_small(), 8);
}
BENCHMARK(BM_GpuH100_GptTinyTrainStep_Batch32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GpuH100_Gpt2SmallTrainStep_Batch8)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tessera::sim

BENCHMARK_MAIN();
