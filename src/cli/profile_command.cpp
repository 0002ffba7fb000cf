// `tessera profile MODEL`: runs the model's inference (or, with --train, its training step)
// on a backend, times every node of the compiled program (median over --repeat runs after a
// warm-up), and — with a GPU model (--target gpu:NAME, or the detected GPU on cuda) — prints
// the model's estimate for each node beside the measurement. The estimates come from the
// same compiled graphs the backends run, so fused nodes match one to one.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "commands.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/backends/scheduler.h"
#include "tessera/cli/sources.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/op_table.h"
#include "tessera/sim/gpu/gpu_simulator.h"

namespace tessera::cli {
namespace {

struct ProfileArgs {
  std::string model, backend = "cpu", target, json;
  int64_t batch = 32;
  bool train = false;
  int repeat = 5;
  int top = 20;
  int threads = 0;
};

// The GPU model to estimate with: --target gpu[:…], else the detected GPU when the backend
// is cuda, else none.
std::optional<sim::GpuSimulator> estimator(const ProfileArgs& a, std::string* label) {
  if (a.target.empty()) {
    if (a.backend != "cuda" || gpu_devices().empty()) return std::nullopt;
    const GpuDeviceInfo& d = gpu_devices().front();
    *label = fmt::format("gpu:{} (detected)", d.name);
    return sim::GpuSimulator(sim::gpu_config_from_device(d));
  }
  const bool gpu = a.target == "gpu" || a.target.rfind("gpu:", 0) == 0;
  TS_CHECK(gpu, ErrorKind::kInvalidArgument,
           "--target '{}': profile estimates per node with the GPU model only: "
           "gpu[:t4|a100|h100|h200|CONFIG.yaml] (tessera simulate costs the other targets)",
           a.target);
  sim::GpuConfig config = sim::load_gpu_target(a.target.size() > 4 ? a.target.substr(4) : "");
  *label = "gpu:" + config.name;
  return sim::GpuSimulator(std::move(config));
}

// Inputs of the right types: data in [0, 1), integer ids and labels 0, sample weights 1, the
// step counter 0 (as fit's first step).
std::vector<Tensor> synthetic_inputs(const Graph& g) {
  Rng rng(1);
  std::vector<Tensor> inputs;
  for (ValueId id : g.inputs()) {
    const Node& n = g.node(id);
    if (n.name == "sample_weight") {
      inputs.push_back(Tensor::full(n.type.dtype, n.type.shape, 1.0));
    } else if (n.type.dtype == kF32) {
      Tensor t = Tensor::zeros(kF32, n.type.shape);
      rng.fill_uniform(t, 0.0, 1.0);
      inputs.push_back(std::move(t));
    } else {
      inputs.push_back(Tensor::full(n.type.dtype, n.type.shape, n.type.dtype.is_float() ? 0.5 : 0));
    }
  }
  return inputs;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::string format_time(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.1f} us", s * 1e6);
}

std::string clip(const std::string& s, size_t width) {
  return s.size() <= width ? s : "…" + s.substr(s.size() - (width - 1));
}

struct Row {
  const ProfiledNode* node;  // of the first profiled run
  std::vector<double> times;
  double measured = 0;
  std::optional<sim::NodeEstimate> estimate;
};

void run_profile(const ProfileArgs& a) {
  apply_threads(a.threads);
  std::string label;
  std::optional<sim::GpuSimulator> gpu = estimator(a, &label);
  ModelSource m = open_model(a.model, 0, {a.backend});
  if (!m.model.compiled()) {
    CompileConfig c;
    if (m.compile) c = *m.compile;
    c.backends = {a.backend};
    m.model.compile(std::move(c));
  }
  const Graph& graph = a.train ? m.model.train_graph() : m.model.predict_graph();
  Program program = compile_program(graph, {.batch = a.batch, .backends = {a.backend}});
  std::vector<Tensor> inputs = synthetic_inputs(program.graph());
  program.run(inputs);  // warm-up: caches, page faults, lazy initialization

  const bool progress = ::isatty(STDERR_FILENO) != 0;
  std::vector<std::vector<ProfiledNode>> runs;
  std::vector<double> walls;
  for (int r = 0; r < a.repeat; ++r) {
    if (progress) fmt::print(stderr, "\rprofiling: run {}/{}", r + 1, a.repeat);
    auto t0 = std::chrono::steady_clock::now();
    runs.push_back(program.profile(inputs));
    walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (progress) fmt::print(stderr, "\r{:30}\r", "");

  // Per node (segment, id): the median over the runs.
  std::vector<Row> rows;
  std::map<std::pair<int, ValueId>, size_t> row_of;
  for (const ProfiledNode& n : runs.front()) {
    row_of[{n.segment, n.id}] = rows.size();
    rows.push_back({&n, {}, 0, std::nullopt});
  }
  for (const std::vector<ProfiledNode>& run : runs)
    for (const ProfiledNode& n : run) {
      auto it = row_of.find({n.segment, n.id});
      if (it != row_of.end()) rows[it->second].times.push_back(n.seconds);
    }
  double measured_total = 0;
  for (Row& r : rows) {
    r.measured = median(r.times);
    measured_total += r.measured;
  }
  // The model's estimates, per compiled graph.
  double estimate_total = 0, estimated_measured = 0;
  if (gpu) {
    std::map<const Graph*, std::map<ValueId, sim::NodeEstimate>> estimates;
    for (Row& r : rows) {
      const Graph* g = r.node->graph;
      if (g == nullptr) continue;
      auto it = estimates.find(g);
      if (it == estimates.end()) {
        std::map<ValueId, sim::NodeEstimate> per_node;
        for (const sim::NodeEstimate& e : gpu->estimate_nodes(*g)) per_node[e.node] = e;
        it = estimates.emplace(g, std::move(per_node)).first;
      }
      auto e = it->second.find(r.node->id);
      if (e == it->second.end()) continue;
      r.estimate = e->second;
      estimate_total += e->second.seconds;
      estimated_measured += r.measured;
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& x, const Row& y) { return x.measured > y.measured; });

  fmt::print("{} — {}, batch {}, backend {}, median of {} run(s){}\n\n", m.name,
             a.train ? "training step" : "inference", a.batch, a.backend, a.repeat,
             gpu ? ", estimates: " + label : "");
  fmt::print("{:<40} {:<18} {:<20} {:<8} {:>11} {:>7}", "node", "op", "shape", "backend",
             "measured", "share");
  if (gpu) fmt::print(" {:>11} {:>9}", "estimate", "meas/est");
  fmt::print("\n");
  nlohmann::json nodes = nlohmann::json::array();
  const size_t shown = a.top > 0 ? std::min(rows.size(), static_cast<size_t>(a.top)) : rows.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const ProfiledNode& n = *r.node;
    std::string name = n.graph ? n.graph->node(n.id).name : fmt::format("node {}", n.id);
    std::string op = n.graph ? op_name(n.graph->node(n.id).op) : "?";
    std::string shape = n.graph ? n.graph->node(n.id).type.str() : "?";
    const double share = measured_total > 0 ? r.measured / measured_total : 0.0;
    nlohmann::json j = {{"name", name},
                        {"op", op},
                        {"shape", shape},
                        {"backend", n.backend},
                        {"segment", n.segment},
                        {"node", n.id},
                        {"measured_seconds", r.measured},
                        {"share", share}};
    if (r.estimate) {
      j["estimate_seconds"] = r.estimate->seconds;
      j["ratio"] = r.estimate->seconds > 0 ? r.measured / r.estimate->seconds : 0.0;
      j["estimate_unit"] = r.estimate->unit;
      j["estimate_bound"] = sim::bound_name(r.estimate->bound);
    }
    nodes.push_back(std::move(j));
    if (i >= shown) continue;
    fmt::print("{:<40} {:<18} {:<20} {:<8} {:>11} {:>6.1f}%", clip(name, 40), clip(op, 18),
               clip(shape, 20), n.backend, format_time(r.measured), 100 * share);
    if (r.estimate)
      fmt::print(" {:>11} {:>9.2f}", format_time(r.estimate->seconds),
                 r.estimate->seconds > 0 ? r.measured / r.estimate->seconds : 0.0);
    fmt::print("\n");
  }
  if (shown < rows.size())
    fmt::print("… {} more node(s) (--top 0 lists all)\n", rows.size() - shown);
  fmt::print("{:<40} {:<18} {:<20} {:<8} {:>11} {:>6.1f}%", "total", "", "",
             fmt::format("{}", rows.size()), format_time(measured_total), 100.0);
  if (gpu)
    fmt::print(" {:>11} {:>9.2f}", format_time(estimate_total),
               estimate_total > 0 ? estimated_measured / estimate_total : 0.0);
  fmt::print("\nwall time per run (median): {}\n", format_time(median(walls)));

  nlohmann::json totals = {{"nodes", rows.size()},
                           {"measured_seconds", measured_total},
                           {"wall_seconds", median(walls)}};
  if (gpu) {
    totals["estimate_seconds"] = estimate_total;
    totals["ratio"] = estimate_total > 0 ? estimated_measured / estimate_total : 0.0;
  }
  write_json(a.json, {{"command", "profile"},
                      {"model", m.name},
                      {"training", a.train},
                      {"batch", a.batch},
                      {"backend", a.backend},
                      {"repeat", a.repeat},
                      {"threads", num_threads()},
                      {"target", gpu ? nlohmann::json(label) : nlohmann::json(nullptr)},
                      {"nodes", nodes},
                      {"totals", totals}});
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto a = std::make_shared<ProfileArgs>();
  CLI::App* cmd =
      app.add_subcommand("profile",
                         "Time every node of a model's compiled program, beside the GPU model's "
                         "estimates");
  cmd->add_option("MODEL", a->model, "Zoo model, YAML spec, checkpoint or ONNX file")->required();
  cmd->add_option("--batch", a->batch, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_flag("--train", a->train,
                "Profile a whole training step (forward, loss, backward, update)");
  cmd->add_option("--repeat", a->repeat, "Profiled runs after one warm-up; the median per node")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--target", a->target,
                  "GPU model to estimate each node with: gpu[:t4|a100|h100|h200|CONFIG.yaml] "
                  "(default: the detected GPU with --backend cuda, none otherwise)");
  cmd->add_option("--top", a->top, "Print the K slowest nodes (0: all; --json has all)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 30));
  add_backend_option(cmd, &a->backend);
  add_threads_option(cmd, &a->threads);
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_profile(*a); });
}

}  // namespace tessera::cli
