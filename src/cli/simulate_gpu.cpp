// `tessera simulate --target gpu[:t4|a100|h100|h200|config.yaml] MODEL`: the model's inference
// (or, with --train, its training step) on the GPU performance model, kernel by kernel.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "simulate.h"
#include "tessera/core/error.h"
#include "tessera/sim/gpu/gpu_simulator.h"
#include "tessera/sim/report.h"

namespace tessera::cli {

void run_simulate_gpu(const SimulateArgs& a, const std::string& spec) {
  TS_CHECK(a.topology.empty() && a.scalesim_out.empty() && a.fidelity.empty() && a.pod.empty(),
           ErrorKind::kInvalidArgument,
           "--topology, --scalesim-out, --fidelity and --pod are TPU options (--target tpu…)");
  TS_CHECK(!a.accuracy && a.numerics.empty(), ErrorKind::kInvalidArgument,
           "--accuracy and --numerics: the GPU model costs time and energy only; the GPU's "
           "numerics are those of the cuda backend (tessera evaluate --backend …)");
  sim::GpuSimulator simulator(sim::load_gpu_target(spec));
  TS_CHECK(!a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give a MODEL (zoo name, YAML spec or checkpoint)");
  ModelSource m = open_model(a.model, 0, {"cpu"});
  Model& model = compiled(m);
  const Graph& graph = a.train ? model.train_graph() : model.predict_graph();
  sim::SimReport report = simulator.simulate_graph(graph, a.batch, m.name);
  fmt::print("{}", sim::format_report(report, a.per_op));
  write_json(a.json, {{"command", "simulate"}, {"report", sim::to_json(report)}});
}

}  // namespace tessera::cli
