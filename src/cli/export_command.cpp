// `tessera export --format verilog|hls|onnx MODEL OUT`: the model as an hls4ml-style
// fixed-point network, written as synthesizable Verilog with a testbench (checked, with
// --cosim N, by Verilator against the bit-exact C++ model on N test samples) or as C++ for
// Vitis HLS, into the directory OUT; or its inference graph as the ONNX file OUT.
#include <fmt/core.h>

#include <algorithm>

#include "commands.h"
#include "simulate.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/io/onnx.h"
#include "tessera/sim/fpga/cosim.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/hls_export.h"
#include "tessera/sim/fpga/verilog.h"

namespace tessera::cli {
namespace {

struct ExportArgs {
  SimulateArgs net;  // model, --target fpga[:…], --precision, --reuse-factor, data options
  std::string format, outdir;
  int64_t cosim = 0;
};

// The first n test samples as raw input vectors of the network.
std::vector<std::vector<int64_t>> test_vectors(const sim::FixedNetwork& net, const EvalData& data,
                                               int64_t n) {
  const int64_t per = net.inputs();
  std::vector<float> x = data.test.slice(0, n).x.to_f32_vector();
  std::vector<std::vector<int64_t>> out;
  for (int64_t s = 0; s < n; ++s)
    out.push_back(net.quantize_input(
        std::span<const float>(x.data() + s * per, static_cast<size_t>(per))));
  return out;
}

nlohmann::json cosimulate(const ExportArgs& a, const FpgaBuild& b) {
  const int64_t n = std::min<int64_t>(a.cosim, b.data->test.size());
  std::vector<std::vector<int64_t>> inputs = test_vectors(b.net, *b.data, n);
  fmt::print("co-simulating {} test samples with Verilator…\n", n);
  sim::CosimResult r = sim::run_verilator(b.net, inputs, a.outdir + "/cosim");
  sim::FixedEvaluator eval(b.net);
  int64_t mismatches = 0, latency_errors = 0;
  for (int64_t s = 0; s < n; ++s) {
    if (r.outputs[s] != eval.run(inputs[s])) ++mismatches;
    if (r.latencies[s] != r.expected_latency) ++latency_errors;
  }
  fmt::print("Verilator: {} of {} outputs bit-identical to the C++ model; latency {} cycles "
             "({} samples differ from the predicted {}); build {:.1f} s, run {:.1f} s\n",
             n - mismatches, n, r.latencies.empty() ? 0 : r.latencies[0], latency_errors,
             r.expected_latency, r.build_seconds, r.run_seconds);
  TS_CHECK(mismatches == 0 && latency_errors == 0, ErrorKind::kInternal,
           "co-simulation: {} of {} outputs differ from the C++ fixed-point model and {} "
           "latencies from the predicted {} cycles (work files in {})",
           mismatches, n, latency_errors, r.expected_latency, r.work_dir);
  return {{"samples", n},
          {"bit_identical", n - mismatches},
          {"latency_cycles", r.expected_latency},
          {"build_seconds", r.build_seconds},
          {"run_seconds", r.run_seconds}};
}

// `--format onnx`: the model's inference graph as an ONNX file (opset 17).
void run_export_onnx(const ExportArgs& a) {
  TS_CHECK(a.cosim == 0, ErrorKind::kInvalidArgument,
           "--cosim runs Verilator on the Verilog export (--format verilog)");
  ModelSource m = open_model(a.net.model, 0, {"cpu"});
  export_onnx(m.model, a.outdir);
  fmt::print("wrote {} (ONNX opset 17, {} parameters)\n", a.outdir, m.model.net().count_params());
  write_json(a.net.json, {{"command", "export"}, {"format", "onnx"}, {"model", m.name},
                          {"output", a.outdir}, {"opset", 17},
                          {"parameters", m.model.net().count_params()}});
}

void run_export(const ExportArgs& a) {
  apply_threads(a.net.threads);
  if (a.format == "onnx") return run_export_onnx(a);
  const std::string& t = a.net.target;
  TS_CHECK(t == "fpga" || t.rfind("fpga:", 0) == 0, ErrorKind::kInvalidArgument,
           "--target '{}': export writes FPGA designs (fpga[:device | config.yaml])", t);
  TS_CHECK(a.cosim == 0 || a.format == "verilog", ErrorKind::kInvalidArgument,
           "--cosim runs Verilator on the Verilog export (--format verilog)");
  ModelSource m = open_model(a.net.model, 0, {"cpu"});
  FpgaBuild b = build_fpga(a.net, t.size() > 5 ? t.substr(5) : std::string(), m, a.cosim > 0);
  nlohmann::json j = {{"command", "export"}, {"format", a.format}, {"model", m.name},
                      {"outdir", a.outdir}};
  if (a.format == "verilog") {
    sim::VerilogDesign d = sim::write_verilog(b.net, a.outdir);
    fmt::print("wrote {} ({} files, top module {}): latency {} cycles, II {} cycles, {}-bit "
               "input and {}-bit output buses\n",
               a.outdir, d.files.size() + 1, d.top, d.latency, d.initiation_interval,
               d.input_bits, d.output_bits);
    j["top"] = d.top;
    j["files"] = d.files;
    j["latency_cycles"] = d.latency;
    j["ii_cycles"] = d.initiation_interval;
    if (a.cosim > 0) j["cosim"] = cosimulate(a, b);
  } else {
    sim::write_hls(b.net, a.outdir);
    fmt::print("wrote {} (C++ for Vitis HLS: ap_fixed types, pragmas from the reuse factors)\n",
               a.outdir);
  }
  for (const std::string& n : b.net.notes) fmt::print("note: {}\n", n);
  write_json(a.net.json, j);
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  a->net.target = "fpga";
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write a model as an FPGA design (Verilog with a testbench, or Vitis HLS C++) or as ONNX");
  cmd->add_option("--format", a->format, "verilog, hls or onnx")
      ->required()
      ->check(CLI::IsMember({"verilog", "hls", "onnx"}));
  cmd->add_option("MODEL", a->net.model, "Zoo model, YAML spec, checkpoint or ONNX file")
      ->required();
  cmd->add_option("OUT", a->outdir, "Directory to write (created); the .onnx file for --format onnx")
      ->required();
  cmd->add_option("--target", a->net.target,
                  "fpga[:xc7z020|xczu9eg|xcu250|lfe5u-85f|HLS4ML_CONFIG.yaml]: the precisions "
                  "and reuse factors")
      ->capture_default_str();
  cmd->add_option("--precision", a->net.precision, "The Model precision (ap_fixed<16,6>, …)");
  cmd->add_option("--reuse-factor", a->net.reuse_factor, "The Model reuse factor")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--cosim", a->cosim,
                  "Co-simulate N test samples with Verilator and check them bit for bit "
                  "against the C++ fixed-point model")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--dataset", a->net.dataset, "Test samples for --cosim, calibration for auto<W>");
  cmd->add_option("--calibration", a->net.calibration,
                  "Training samples that profile auto<W> precisions")
      ->capture_default_str();
  add_threads_option(cmd, &a->net.threads);
  add_json_option(cmd, &a->net.json);
  cmd->callback([a] { run_export(*a); });
}

}  // namespace tessera::cli
