// `tessera simulate --target tpu[:preset|config.yaml|scalesim.cfg] MODEL`: the model's
// inference (or, with --train, its whole training step) costed on a simulated accelerator
// (fpga, asic and gpu targets: simulate_fpga.cpp, simulate_asic.cpp, simulate_gpu.cpp).
#include <fmt/core.h>

#include <map>

#include "commands.h"
#include "simulate.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/sim/functional.h"
#include "tessera/sim/pod.h"
#include "tessera/sim/report.h"
#include "tessera/sim/tpu/tpu_simulator.h"
#include "tessera/sim/workload.h"

namespace tessera::cli {
namespace {



// "1,2,4" or "all" (1, 2, 4, … 1024).
std::vector<int> parse_chip_list(const std::string& text) {
  if (text == "all") return sim::PodOptions{}.chips;
  std::vector<int> chips;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    int n = 0;
    size_t used = 0;
    try {
      n = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    TS_CHECK(used == item.size() && !item.empty() && n >= 1 && n <= (1 << 20),
             ErrorKind::kInvalidArgument,
             "--pod: '{}' is not a chip count (expected positive integers separated by commas, "
             "e.g. 1,8,64, or 'all')",
             item);
    chips.push_back(n);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return chips;
}

// The training step over N chips, each chip the simulated TPU.
nlohmann::json simulate_pod_scaling(const SimulateArgs& a, const sim::TpuSimulator& simulator,
                                    const Graph& train_graph, const sim::Workload& step) {
  sim::PodOptions o;
  o.interconnect = sim::interconnect_preset(a.interconnect);
  o.algorithm = sim::parse_algorithm(a.allreduce);
  o.chips = parse_chip_list(a.pod);
  o.scaling = a.scaling == "strong" ? sim::PodScaling::kStrong : sim::PodScaling::kWeak;
  o.per_chip_batch = a.batch;
  o.global_batch = a.batch;
  o.overlap = a.overlap;
  o.gradient_bytes = sim::allreduce_bytes(step, a.gradient_dtype == "bf16" ? kBF16 : kF32);
  std::vector<sim::PodStep> steps = sim::simulate_pod(o, [&](int64_t per_chip) {
    if (per_chip == a.batch) return simulator.simulate(step).seconds;
    return simulator.simulate(sim::lower_to_workload(train_graph, {.batch = per_chip})).seconds;
  });
  fmt::print("\ndata-parallel training over {} ({}, {} scaling, {} gradients):\n{}",
             o.interconnect.name, sim::algorithm_name(o.algorithm), a.scaling,
             a.gradient_dtype, sim::format_pod(steps));
  return sim::pod_to_json(steps, o);
}

// "tpu:rest" -> rest; the only target so far.
std::string tpu_spec(const std::string& target) {
  size_t colon = target.find(':');
  std::string name = target.substr(0, colon);
  TS_CHECK(name == "tpu", ErrorKind::kInvalidArgument,
           "--target '{}': unknown target '{}' (known: tpu, fpga, asic, gpu)", target, name);
  return colon == std::string::npos ? std::string() : target.substr(colon + 1);
}

// SCALE-Sim's experiment: its config (or our TPU's first MXU) and a topology file, with the
// quantities SCALE-Sim reports.
void run_topology(const SimulateArgs& a, const std::string& spec, const sim::TpuConfig& config) {
  sim::ScaleSimConfig cfg;
  if (spec.ends_with(".cfg")) {
    cfg = sim::read_scalesim_config(spec);
  } else {
    cfg.run_name = config.name;
    cfg.array = config.array;
    cfg.user_bandwidth = true;
    cfg.array.dram_words_per_cycle = config.dram_bandwidth / config.clock_hz /
                                     static_cast<double>(config.array.operand_bytes) /
                                     static_cast<double>(config.matrix_units);
  }
  std::string topology = a.topology.empty() ? cfg.topology : a.topology;
  TS_CHECK(!topology.empty(), ErrorKind::kInvalidArgument,
           "simulate: no topology: give --topology FILE.csv (the config names none)");
  std::vector<sim::ScaleSimLayer> layers = sim::read_scalesim_topology(topology);
  sim::ScaleSimRun run =
      sim::run_scalesim(cfg, layers, config.fidelity == sim::Fidelity::kCycle);
  fmt::print("{} on a {}x{} {} array ({}, {} engine)\n\n", topology, cfg.array.rows,
             cfg.array.cols, sim::dataflow_name(cfg.array.dataflow),
             cfg.user_bandwidth ? "USER bandwidth" : "CALC bandwidth",
             sim::fidelity_name(config.fidelity));
  fmt::print("{:<16} {:>12} {:>10} {:>7} {:>7} {:>7} {:>12} {:>12} {:>12} {:>11} {:>11} {:>11}\n",
             "layer", "cycles", "stalls", "util%", "map%", "comp%", "sram ifmap", "sram filter",
             "sram ofmap", "dram ifmap", "dram filt", "dram ofmap");
  nlohmann::json rows = nlohmann::json::array();
  for (const sim::ScaleSimRow& r : run.rows) {
    const sim::GemmStats& s = r.stats;
    fmt::print("{:<16} {:>12} {:>10} {:>7.2f} {:>7.2f} {:>7.2f} {:>12} {:>12} {:>12} {:>11} {:>11} "
               "{:>11}\n",
               r.layer, r.total_cycles, r.stall_cycles, r.overall_util_pct,
               r.mapping_efficiency_pct, r.compute_util_pct, s.ifmap_sram_reads,
               s.filter_sram_reads, s.ofmap_sram_writes, s.ifmap_dram_reads, s.filter_dram_reads,
               s.ofmap_dram_writes);
    rows.push_back({{"layer", r.layer},
                    {"total_cycles", r.total_cycles},
                    {"stall_cycles", r.stall_cycles},
                    {"overall_utilization_pct", r.overall_util_pct},
                    {"mapping_efficiency_pct", r.mapping_efficiency_pct},
                    {"compute_utilization_pct", r.compute_util_pct},
                    {"sram_ifmap_reads", s.ifmap_sram_reads},
                    {"sram_filter_reads", s.filter_sram_reads},
                    {"sram_ofmap_writes", s.ofmap_sram_writes},
                    {"dram_ifmap_reads", s.ifmap_dram_reads},
                    {"dram_filter_reads", s.filter_dram_reads},
                    {"dram_ofmap_writes", s.ofmap_dram_writes}});
  }
  fmt::print("total: {} cycles\n", run.total_cycles());
  if (!a.scalesim_out.empty()) {
    sim::write_scalesim_reports(run, a.scalesim_out);
    fmt::print("wrote SCALE-Sim reports to {}\n", a.scalesim_out);
  }
  write_json(a.json, {{"command", "simulate"},
                      {"scalesim",
                       {{"run_name", cfg.run_name},
                        {"topology", topology},
                        {"array_rows", cfg.array.rows},
                        {"array_cols", cfg.array.cols},
                        {"dataflow", sim::dataflow_name(cfg.array.dataflow)},
                        {"engine", sim::fidelity_name(config.fidelity)},
                        {"total_cycles", run.total_cycles()},
                        {"layers", rows}}}});
}

// The functional mode: the model's predict graph in the target's numerics against f32 on
// the dataset's test split (int8 calibrated on the first training samples).
sim::AccuracyReport target_accuracy(const SimulateArgs& a, Model& model,
                                    const sim::TpuConfig& config) {
  sim::TargetNumerics numerics =
      sim::parse_numerics(a.numerics.empty() ? config.numerics : a.numerics, "--numerics");
  // bf16 partial sums are added to the accumulator once per pass down the array.
  if (numerics.mode == sim::NumericsMode::kBF16) numerics.fold_rows = config.array.rows;
  EvalData data = load_eval_data(a, model);
  fmt::print("measuring accuracy in {} on {} ({} test samples)…\n", numerics.str(), data.name,
             data.test.size());
  return sim::measure_accuracy(model.predict_graph(), numerics, data.calibration, data.test.x,
                               data.test.y, 256);
}

}  // namespace

Model& compiled(ModelSource& m) {
  if (!m.model.compiled()) {
    CompileConfig c;
    if (m.compile) c = *m.compile;
    c.backends = {"cpu"};
    m.model.compile(std::move(c));
  }
  return m.model;
}

EvalData load_eval_data(const SimulateArgs& a, Model& model) {
  const std::string& loss = model.compile_config().loss;
  std::string dataset = a.dataset.empty() ? default_dataset(model) : a.dataset;
  DataSource data = open_dataset(dataset, {.context = model_sequence_length(model)});
  TS_CHECK(data.test.has_value(), ErrorKind::kInvalidArgument,
           "--accuracy: dataset '{}' has no test split to measure on", data.name);
  Dataset train = conform(data.train, model, "dataset '" + data.name + "'", loss);
  return {data.name, train.slice(0, std::min<int64_t>(a.calibration, train.size())).x,
          conform(*data.test, model, "dataset '" + data.name + "' (test)", loss)};
}

namespace {

void run_simulate(const SimulateArgs& a) {
  apply_threads(a.threads);
  if (a.target == "asic" || a.target.rfind("asic:", 0) == 0) {
    run_simulate_asic(a, a.target.size() > 5 ? a.target.substr(5) : std::string());
    return;
  }
  TS_CHECK(a.mapper.empty() && a.budget.empty() && a.arch.empty() && a.problem.empty() &&
               a.mapping.empty() && a.ert.empty() && a.art.empty(),
           ErrorKind::kInvalidArgument,
           "--mapper, --budget, --arch, --problem, --mapping, --ert and --art are ASIC options "
           "(--target asic…)");
  if (a.target == "fpga" || a.target.rfind("fpga:", 0) == 0) {
    run_simulate_fpga(a, a.target.size() > 5 ? a.target.substr(5) : std::string());
    return;
  }
  TS_CHECK(a.precision.empty() && a.reuse_factor == 0, ErrorKind::kInvalidArgument,
           "--precision and --reuse-factor are FPGA options (--target fpga…)");
  if (a.target == "gpu" || a.target.rfind("gpu:", 0) == 0) {
    run_simulate_gpu(a, a.target.size() > 4 ? a.target.substr(4) : std::string());
    return;
  }
  sim::TpuConfig config = sim::load_tpu_target(tpu_spec(a.target));
  if (!a.fidelity.empty()) config.fidelity = sim::parse_fidelity(a.fidelity, "--fidelity");
  const std::string spec = tpu_spec(a.target);
  if (!a.topology.empty() || (a.model.empty() && spec.ends_with(".cfg"))) {
    TS_CHECK(a.model.empty(), ErrorKind::kInvalidArgument,
             "simulate: give either a MODEL or --topology FILE.csv, not both");
    run_topology(a, spec, config);
    return;
  }
  sim::TpuSimulator simulator(config);

  TS_CHECK(!a.model.empty(), ErrorKind::kInvalidArgument,
           "simulate: give a MODEL (zoo name, YAML spec or checkpoint) or --topology FILE.csv");
  ModelSource m = open_model(a.model, 0, {"cpu"});
  Model& model = compiled(m);
  const Graph& graph = a.train ? model.train_graph() : model.predict_graph();
  sim::Workload w = sim::lower_to_workload(graph, {.batch = a.batch, .name = m.name});
  sim::SimReport report = simulator.simulate(w);
  if (a.accuracy) {
    report.accuracy = target_accuracy(a, model, config);
    if (m.kind != "checkpoint")
      report.notes.push_back(
          "accuracy of a model with its initial weights: train it first (tessera train … "
          "--save FILE) and simulate the checkpoint");
  }
  fmt::print("{}", sim::format_report(report, a.per_op));
  nlohmann::json j = {{"command", "simulate"}, {"report", sim::to_json(report)}};
  if (!a.pod.empty()) {
    TS_CHECK(a.train, ErrorKind::kInvalidArgument,
             "--pod simulates data-parallel training: add --train");
    j["pod"] = simulate_pod_scaling(a, simulator, graph, w);
  }
  write_json(a.json, j);
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Cycles, time, utilization, memory traffic and energy of a model on a "
                  "simulated accelerator");
  cmd->add_option("MODEL", a->model, "Zoo model, YAML spec, checkpoint or ONNX file");
  cmd->add_option("--target", a->target,
                  "tpu[:tpu-v1|tpu-v4|edge-tpu|CONFIG.yaml|SCALESIM.cfg] (default tpu = "
                  "tpu-v4), fpga[:xc7z020|xczu9eg|xcu250|lfe5u-85f|HLS4ML_CONFIG.yaml], "
                  "asic[:eyeriss|ws-16x16|os-16x16|nvdla-like|edge-npu|ARCH.yaml] or "
                  "gpu[:t4|a100|h100|h200|CONFIG.yaml] (default gpu = h100)")
      ->capture_default_str();
  cmd->add_flag("--train", a->train, "Simulate a whole training step (forward, backward, update)");
  cmd->add_option("--batch", a->batch, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--fidelity", a->fidelity,
                  "cycle (every fold and tile) or analytic (closed forms); default: the "
                  "config's")
      ->check(CLI::IsMember({"cycle", "analytic"}));
  cmd->add_option("--topology", a->topology,
                  "A SCALE-Sim topology .csv (convolution or M,N,K rows) instead of a MODEL")
      ->type_name("FILE");
  cmd->add_option("--scalesim-out", a->scalesim_out,
                  "With --topology: write SCALE-Sim's report CSVs into DIR")
      ->type_name("DIR");
  cmd->add_flag("--accuracy", a->accuracy,
                "Functional mode: run the model in the target's numerics on the dataset's test "
                "split and report its accuracy against f32");
  cmd->add_option("--numerics", a->numerics,
                  "For --accuracy: bf16, int8 (per-channel weights), int8-per-tensor or f32; "
                  "default: the target's")
      ->check(CLI::IsMember({"f32", "bf16", "int8", "int8-per-channel", "int8-per-tensor"}));
  cmd->add_option("--dataset", a->dataset,
                  "For --accuracy: fashion-mnist, synthetic, FILE.npz, … (default: the built-in "
                  "one that fits the model)");
  cmd->add_option("--calibration", a->calibration,
                  "For --accuracy with int8: training samples that set the activation scales")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--precision", a->precision,
                  "FPGA: the Model precision, hls4ml-style (ap_fixed<16,6>, "
                  "ap_fixed<8,3,AP_RND,AP_SAT>, auto<16>)");
  cmd->add_option("--reuse-factor", a->reuse_factor,
                  "FPGA: the Model reuse factor (multiplications per multiplier)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--mapper", a->mapper,
                  "ASIC: what the mapper minimizes per layer (default edp: energy x delay)")
      ->check(CLI::IsMember({"energy", "delay", "edp"}));
  cmd->add_option("--budget", a->budget,
                  "ASIC: the mapper's budget: N sampled mappings per distinct layer (default "
                  "20000) or a time for the whole model (2s, 500ms)");
  cmd->add_option("--arch", a->arch,
                  "ASIC, one layer: a Timeloop v0.4 architecture YAML (with --problem, and "
                  "optionally --mapping, --ert, --art; without --mapping the mapper searches)")
      ->type_name("FILE");
  cmd->add_option("--problem", a->problem, "ASIC, one layer: a Timeloop v0.4 problem YAML")
      ->type_name("FILE");
  cmd->add_option("--mapping", a->mapping, "ASIC, one layer: a Timeloop v0.4 mapping YAML")
      ->type_name("FILE");
  cmd->add_option("--ert", a->ert, "ASIC, one layer: an Accelergy energy reference table")
      ->type_name("FILE");
  cmd->add_option("--art", a->art, "ASIC, one layer: an Accelergy area reference table")
      ->type_name("FILE");
  cmd->add_flag("--per-op", a->per_op, "One row per op instead of per layer");
  cmd->add_option("--pod", a->pod,
                  "Data-parallel training over N chips: a list of chip counts (1,8,64) or "
                  "'all' (1, 2, 4, … 1024); needs --train");
  cmd->add_option("--interconnect", a->interconnect,
                  "Chip-to-chip links for --pod: tpu-v4-ici, tpu-v3-ici, tpu-v5e-ici, "
                  "ethernet-100g")
      ->capture_default_str();
  cmd->add_option("--allreduce", a->allreduce, "All-reduce algorithm for --pod")
      ->capture_default_str()
      ->check(CLI::IsMember({"ring", "torus2d", "torus3d"}));
  cmd->add_option("--scaling", a->scaling,
                  "weak: --batch per chip (TPUStrategy); strong: --batch is the global batch")
      ->capture_default_str()
      ->check(CLI::IsMember({"weak", "strong"}));
  cmd->add_option("--overlap", a->overlap,
                  "Fraction of the all-reduce hidden under the backward pass (0..1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--gradient-dtype", a->gradient_dtype, "Gradients as all-reduced")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16"}));
  add_threads_option(cmd, &a->threads);
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_simulate(*a); });
}

}  // namespace tessera::cli
