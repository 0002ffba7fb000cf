// `tessera simulate --target asic[:preset | arch.yaml] MODEL`: every conv/GEMM of the model's
// inference (or, with --train, of its training step) mapped onto the accelerator by the
// mapper, and the whole step's cycles, traffic per storage level, energy and area.
#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "simulate.h"
#include "tessera/core/error.h"
#include "tessera/sim/asic/asic_simulator.h"
#include "tessera/sim/asic/timeloop.h"
#include "tessera/sim/report.h"
#include "tessera/sim/workload.h"

namespace tessera::cli {
namespace {

// "--budget 20000" (sampled mappings per distinct layer) or "2s" / "1.5s" / "500ms" (the
// whole model's mapping time).
void apply_budget(const std::string& text, sim::AsicSimulatorOptions& o) {
  if (text.empty()) return;
  const char* begin = text.data();
  const char* end = begin + text.size();
  int64_t trials = 0;
  auto [p, ec] = std::from_chars(begin, end, trials);
  if (ec == std::errc() && p == end) {
    // The mapper keeps a best-so-far per 2048 trials: 1e8 trials is ~120 MB of them.
    TS_CHECK(trials >= 1 && trials <= 100'000'000, ErrorKind::kInvalidArgument,
             "--budget {}: expected 1 to 100000000 trials per layer (or a time: 2s, 500ms)",
             text);
    o.mapper.max_trials = trials;
    return;
  }
  double value = 0;
  auto [q, ec2] = std::from_chars(begin, end, value);
  std::string_view unit(q, static_cast<size_t>(end - q));
  double seconds = unit == "s" ? value : unit == "ms" ? value / 1000 : -1;
  TS_CHECK(ec2 == std::errc() && seconds > 0 && std::isfinite(seconds) && seconds <= 86400,
           ErrorKind::kInvalidArgument,
           "--budget '{}': expected a number of trials per layer (20000) or a positive time "
           "for the whole model (2s, 500ms)",
           text);
  o.time_budget_s = seconds;
}

// One layer from Timeloop files: evaluated with the given mapping, or mapped by the mapper.
void run_timeloop_layer(const SimulateArgs& a, const sim::AsicSimulatorOptions& options) {
  TS_CHECK(a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give either a MODEL or --arch/--problem (one layer), not both");
  TS_CHECK(!a.problem.empty(), ErrorKind::kInvalidArgument,
           "--arch needs --problem (Timeloop v0.4 problem YAML)");
  std::vector<std::string> files = {a.arch, a.problem};
  for (const std::string* f : {&a.mapping, &a.ert, &a.art})
    if (!f->empty()) files.push_back(*f);
  sim::TimeloopDesign d = sim::load_timeloop_design(files);
  sim::AsicEvaluator evaluator(d.arch);
  sim::MapperResult result;
  if (d.mapped) {
    result.found = true;
    result.mapping = d.mapping;
    result.evaluation = evaluator.evaluate(d.nest, d.mapping);
  } else {
    result = sim::map_layer(d.nest, evaluator, options.mapper);
    TS_CHECK(result.found, ErrorKind::kInvalidArgument,
             "the mapper found no valid mapping of '{}' on '{}' in {} trials", d.nest.name,
             d.arch.name, result.considered);
    fmt::print("mapper ({}): best of {} valid mappings ({} considered, {:.2f} s)\n",
               sim::mapper_objective_name(options.mapper.objective), result.evaluated,
               result.considered, result.seconds);
  }
  fmt::print("{}\n{}", result.mapping.str(d.arch),
             sim::format_asic_evaluation(result.evaluation, d.arch));
  sim::AsicLayer layer{d.nest, {d.nest.name}, result};
  write_json(a.json, {{"command", "simulate"},
                      {"asic",
                       {{"architecture", d.arch.name},
                        {"mapped_by", d.mapped ? "file" : "mapper"},
                        {"layers", sim::asic_layers_to_json({layer}, d.arch)}}}});
}

}  // namespace

void run_simulate_asic(const SimulateArgs& a, const std::string& spec) {
  TS_CHECK(a.topology.empty() && a.scalesim_out.empty() && a.pod.empty() && a.fidelity.empty(),
           ErrorKind::kInvalidArgument,
           "--topology, --scalesim-out, --pod and --fidelity are TPU options (--target tpu…)");
  TS_CHECK(a.precision.empty() && a.reuse_factor == 0, ErrorKind::kInvalidArgument,
           "--precision and --reuse-factor are FPGA options (--target fpga…)");
  TS_CHECK(!a.accuracy && a.numerics.empty(), ErrorKind::kInvalidArgument,
           "--accuracy and --numerics: the ASIC target costs a model but does not run it "
           "(use --target tpu or fpga for the functional mode)");
  sim::AsicSimulatorOptions options;
  if (!a.mapper.empty()) options.mapper.objective = sim::parse_mapper_objective(a.mapper, "--mapper");
  apply_budget(a.budget, options);
  if (!a.arch.empty()) {
    TS_CHECK(spec.empty(), ErrorKind::kInvalidArgument,
             "--arch gives the architecture: use --target asic without ':{}'", spec);
    run_timeloop_layer(a, options);
    return;
  }
  TS_CHECK(a.problem.empty() && a.mapping.empty() && a.ert.empty() && a.art.empty(),
           ErrorKind::kInvalidArgument,
           "--problem, --mapping, --ert and --art go with --arch (one layer from Timeloop files)");
  TS_CHECK(!a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give a MODEL (zoo name, YAML spec or checkpoint) or --arch/--problem");
  // The architecture first: a bad preset or file fails before the model is built.
  std::unique_ptr<sim::AsicSimulator> simulator = sim::make_asic_simulator(spec, options);

  ModelSource m = open_model(a.model, 0, {"cpu"});
  Model& model = compiled(m);
  const Graph& graph = a.train ? model.train_graph() : model.predict_graph();
  sim::AsicRun run =
      simulator->run(sim::lower_to_workload(graph, {.batch = a.batch, .name = m.name}));
  fmt::print("{}", sim::format_report(run.report, a.per_op));
  write_json(a.json, {{"command", "simulate"},
                      {"report", sim::to_json(run.report)},
                      {"asic",
                       {{"architecture", simulator->arch().name},
                        {"objective", sim::mapper_objective_name(options.mapper.objective)},
                        {"layers", sim::asic_layers_to_json(run.layers, simulator->arch())}}}});
}

}  // namespace tessera::cli
