// `tessera simulate --target tpu[:preset|config.yaml|scalesim.cfg] MODEL`: the model's
// inference (or, with --train, its whole training step) costed on a simulated accelerator.
#include <fmt/core.h>

#include <map>

#include "commands.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/sim/report.h"
#include "tessera/sim/tpu/tpu_simulator.h"
#include "tessera/sim/workload.h"

namespace tessera::cli {
namespace {

struct SimulateArgs {
  std::string model, target = "tpu", topology, json, fidelity, numerics, dataset;
  bool train = false, per_op = false, accuracy = false;
  int64_t batch = 1;
  int threads = 0;
};

// "tpu:rest" -> rest; the only target so far.
std::string tpu_spec(const std::string& target) {
  size_t colon = target.find(':');
  std::string name = target.substr(0, colon);
  TS_CHECK(name == "tpu", ErrorKind::kInvalidArgument,
           "--target '{}': unknown target '{}' (known: tpu)", target, name);
  return colon == std::string::npos ? std::string() : target.substr(colon + 1);
}

Model& compiled(ModelSource& m) {
  if (!m.model.compiled()) {
    CompileConfig c;
    if (m.compile) c = *m.compile;
    c.backends = {"cpu"};
    m.model.compile(std::move(c));
  }
  return m.model;
}

void run_simulate(const SimulateArgs& a) {
  apply_threads(a.threads);
  sim::TpuConfig config = sim::load_tpu_target(tpu_spec(a.target));
  if (!a.fidelity.empty()) config.fidelity = sim::parse_fidelity(a.fidelity, "--fidelity");
  sim::TpuSimulator simulator(config);

  TS_CHECK(!a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give a MODEL (zoo name, YAML spec or checkpoint) or --topology FILE.csv");
  ModelSource m = open_model(a.model, 0, {"cpu"});
  Model& model = compiled(m);
  const Graph& graph = a.train ? model.train_graph() : model.predict_graph();
  sim::Workload w = sim::lower_to_workload(graph, {.batch = a.batch, .name = m.name});
  sim::SimReport report = simulator.simulate(w);
  fmt::print("{}", sim::format_report(report, a.per_op));
  nlohmann::json j = {{"command", "simulate"}, {"report", sim::to_json(report)}};
  write_json(a.json, j);
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Cycles, time, utilization, memory traffic and energy of a model on a "
                  "simulated accelerator");
  cmd->add_option("MODEL", a->model, "Zoo model, YAML spec or checkpoint");
  cmd->add_option("--target", a->target,
                  "tpu[:tpu-v1|tpu-v4|edge-tpu|CONFIG.yaml|SCALESIM.cfg] (default tpu = "
                  "tpu-v4)")
      ->capture_default_str();
  cmd->add_flag("--train", a->train, "Simulate a whole training step (forward, backward, update)");
  cmd->add_option("--batch", a->batch, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--fidelity", a->fidelity,
                  "cycle (every fold and tile) or analytic (closed forms); default: the "
                  "config's")
      ->check(CLI::IsMember({"cycle", "analytic"}));
  cmd->add_flag("--per-op", a->per_op, "One row per op instead of per layer");
  add_threads_option(cmd, &a->threads);
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_simulate(*a); });
}

}  // namespace tessera::cli
