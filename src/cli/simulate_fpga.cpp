// `tessera simulate --target fpga[:device | hls4ml_config.yaml] MODEL`: the model converted
// into an hls4ml-style fixed-point dataflow network, its latency, II, throughput, resources
// against the device and power; with --accuracy, its accuracy in fixed point against f32.
#include <fmt/core.h>

#include <filesystem>

#include "commands.h"
#include "simulate.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/fpga_simulator.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/report.h"

namespace tessera::cli {

FpgaBuild build_fpga(const SimulateArgs& a, const std::string& spec, ModelSource& m,
                     bool need_data) {
  FpgaBuild b;
  b.simulator = sim::make_fpga_simulator(spec);
  sim::FpgaConfig config = b.simulator->config();
  if (!a.precision.empty()) config.precision = sim::parse_precision_spec(a.precision);
  if (a.reuse_factor > 0) config.reuse_factor = a.reuse_factor;
  Model& model = compiled(m);
  if (need_data || config.needs_calibration()) b.data = load_eval_data(a, model);
  b.net = sim::build_fixed_network(model.predict_graph(), config,
                                   b.data ? &b.data->calibration : nullptr);
  // Module and report names: a checkpoint's file stem rather than its path.
  b.net.name = m.kind == "checkpoint" ? std::filesystem::path(m.name).stem().string() : m.name;
  b.simulator->set_config(std::move(config));
  return b;
}

void run_simulate_fpga(const SimulateArgs& a, const std::string& spec) {
  TS_CHECK(!a.train, ErrorKind::kInvalidArgument,
           "--train: the FPGA target runs inference (an hls4ml-style dataflow network); "
           "simulate training steps on --target tpu");
  TS_CHECK(a.topology.empty() && a.pod.empty(), ErrorKind::kInvalidArgument,
           "--topology and --pod are TPU options (--target tpu…)");
  TS_CHECK(!a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give a MODEL (zoo name, YAML spec or checkpoint)");
  ModelSource m = open_model(a.model, 0, {"cpu"});
  FpgaBuild b = build_fpga(a, spec, m, a.accuracy);
  const sim::FixedNetwork& net = b.net;
  const std::optional<EvalData>& data = b.data;
  const Graph& graph = m.model.predict_graph();
  sim::SimReport report = b.simulator->simulate_network(net, a.batch);
  for (const std::string& n : net.notes) report.notes.push_back(n);
  if (a.accuracy) {
    fmt::print("measuring fixed-point accuracy on {} ({} test samples)…\n", data->name,
               data->test.size());
    report.accuracy = sim::fixed_point_accuracy(graph, net, data->test.x, data->test.y);
    if (m.kind != "checkpoint")
      report.notes.push_back(
          "accuracy of a model with its initial weights: train it first (tessera train … "
          "--save FILE) and simulate the checkpoint");
  }
  fmt::print("{}", sim::format_report(report, a.per_op));
  write_json(a.json, {{"command", "simulate"}, {"report", sim::to_json(report)}});
}

}  // namespace tessera::cli
