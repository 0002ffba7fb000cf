// ASIC simulator speed: mapping evaluations per second on one core (mnist-cnn's second conv
// on the eyeriss preset; goal >= 100k), the mapper's search rate on one and on all threads,
// and the time to map every conv/GEMM layer of mnist-cnn and resnet-small (inference,
// batch 1) with the default budget.
#include <benchmark/benchmark.h>

#include "tessera/cli/model_spec.h"
#include "tessera/sim/asic/mapper.h"
#include "tessera/sim/workload.h"

namespace tessera::sim {
namespace {

LoopNest conv2() {
  ConvShape c{.n = 1, .h = 14, .w = 14, .c = 32, .r = 3, .s = 3, .filters = 64, .p = 14,
              .q = 14, .pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1};
  return loop_nest_from_conv(c, "conv2");
}

// Valid mappings to evaluate, collected once from the mapper's own random search space by
// perturbing the dataflow templates' factors between levels.
std::vector<Mapping> sample_mappings(const LoopNest& n, const Architecture& a) {
  std::vector<Mapping> out;
  for (AsicDataflow df : {AsicDataflow::kWeightStationary, AsicDataflow::kOutputStationary,
                          AsicDataflow::kInputStationary, AsicDataflow::kRowStationary}) {
    Mapping base = dataflow_mapping(df, n, a);
    out.push_back(base);
    for (int from = 1; from < base.num_levels; ++from)
      for (int d = 0; d < kNumDims; ++d)
        for (int o = 0; o < 3; ++o) {
          Mapping m = base;
          if (m.levels[from].temporal[d] % 2 == 0) {
            m.levels[from].temporal[d] /= 2;
            m.levels[0].temporal[d] *= 2;
          }
          m.levels[from].order = mapper_orders()[o];
          if (!mapping_error(n, a, m)) out.push_back(m);
        }
  }
  return out;
}

void BM_AsicEvaluateConv(benchmark::State& state) {
  LoopNest n = conv2();
  AsicEvaluator ev(asic_preset("eyeriss"));
  std::vector<Mapping> maps = sample_mappings(n, ev.arch());
  size_t i = 0;
  for (auto _ : state) {
    AsicEvaluation e = ev.evaluate(n, maps[i]);
    benchmark::DoNotOptimize(e.energy_pj);
    if (++i == maps.size()) i = 0;
  }
  state.counters["mappings"] = static_cast<double>(maps.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AsicEvaluateConv);

void mapper_rate(benchmark::State& state, int threads) {
  LoopNest n = conv2();
  AsicEvaluator ev(asic_preset("eyeriss"));
  MapperOptions o{.objective = MapperObjective::kEdp, .max_trials = 100000, .seed = 1,
                  .threads = threads};
  int64_t evaluated = 0, considered = 0;
  for (auto _ : state) {
    MapperResult r = map_layer(n, ev, o);
    evaluated += r.evaluated;
    considered += r.considered;
    benchmark::DoNotOptimize(r.evaluation.energy_pj);
  }
  state.counters["evaluated_per_s"] =
      benchmark::Counter(static_cast<double>(evaluated), benchmark::Counter::kIsRate);
  state.counters["sampled_per_s"] =
      benchmark::Counter(static_cast<double>(considered), benchmark::Counter::kIsRate);
}
void BM_AsicMapperConv_1Thread(benchmark::State& s) { mapper_rate(s, 1); }
void BM_AsicMapperConv_AllThreads(benchmark::State& s) { mapper_rate(s, 0); }
BENCHMARK(BM_AsicMapperConv_1Thread)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AsicMapperConv_AllThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

void map_model(benchmark::State& state, const char* name, const char* preset) {
  cli::ModelSpec spec = cli::zoo_spec(name);
  Model model = cli::build_model(spec, 42);
  if (spec.compile) model.compile(*spec.compile);
  Workload w = lower_to_workload(model.predict_graph(), {.batch = 1, .name = name});
  AsicEvaluator ev(asic_preset(preset));
  int layers = 0;
  double energy = 0;
  for (auto _ : state) {
    layers = 0;
    energy = 0;
    for (const WorkOp& op : w.ops) {
      if (op.kind != WorkKind::kGemm) continue;
      MapperResult r = map_layer(loop_nest_from(op), ev, {});
      ++layers;
      energy += r.evaluation.energy_pj;
    }
  }
  state.counters["layers"] = layers;
  state.counters["uJ"] = energy / 1e6;
}
void BM_AsicMapMnistCnn_Eyeriss(benchmark::State& s) { map_model(s, "mnist-cnn", "eyeriss"); }
void BM_AsicMapResnetSmall_Eyeriss(benchmark::State& s) {
  map_model(s, "resnet-small", "eyeriss");
}
BENCHMARK(BM_AsicMapMnistCnn_Eyeriss)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AsicMapResnetSmall_Eyeriss)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tessera::sim

BENCHMARK_MAIN();
