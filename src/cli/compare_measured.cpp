// The measured rows of `tessera compare`: the model run for real on this machine's CPU and,
// when one is present, on its GPU (cuda backend). Latency is the median of repeated batch-1
// predictions, throughput the median over repeated batch-B predictions; power comes from
// RAPL when the kernel exposes it and is otherwise modelled from a stated assumption.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "compare_eval.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/cpu_features.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"
#include "tessera/sim/gpu/gpu_simulator.h"
#include "tessera/sim/workload.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Assumed draw of one busy core when RAPL cannot be read: a server core at full load under
// AVX2 (a 200 W part with 20 cores) — docs/cli.md states it.
constexpr double kWattsPerBusyCore = 10.0;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Runs `fn` once to warm up, then at least `min_runs` times and until `min_seconds` passed
// (at most `max_runs`); the per-run wall times.
std::vector<double> time_runs(const std::function<void()>& fn, int min_runs, int max_runs,
                              double min_seconds) {
  fn();
  std::vector<double> t;
  auto start = Clock::now();
  while (static_cast<int>(t.size()) < max_runs) {
    auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (static_cast<int>(t.size()) >= min_runs &&
        std::chrono::duration<double>(Clock::now() - start).count() >= min_seconds)
      break;
  }
  return t;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "CPU";
}

double cpu_mhz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("cpu MHz", 0) == 0) {
      size_t colon = line.find(':');
      try {
        return std::stod(line.substr(colon + 1));
      } catch (const std::exception&) {
        return 0;
      }
    }
  return 0;
}

// The package energy counters (microjoules) of every RAPL domain "intel-rapl:N", or empty
// when none is readable (containers, non-Intel/AMD parts, no permission).
std::vector<std::string> rapl_files() {
  std::vector<std::string> files;
  for (int i = 0; i < 8; ++i) {
    std::string f = fmt::format("/sys/class/powercap/intel-rapl:{}/energy_uj", i);
    std::ifstream in(f);
    long long v = 0;
    if (in >> v) files.push_back(f);
  }
  return files;
}

double rapl_joules(const std::vector<std::string>& files) {
  double sum = 0;
  for (const std::string& f : files) {
    std::ifstream in(f);
    long long v = 0;
    in >> v;
    sum += static_cast<double>(v) * 1e-6;
  }
  return sum;
}

Tensor rows_of(const Tensor& x, int64_t n) {
  std::vector<int64_t> shape = x.shape().to_vector();
  if (x.shape()[0] >= n) return Dataset{x, Tensor()}.slice(0, n).x;
  shape[0] = n;
  return Tensor::zeros(x.dtype(), Shape(shape));
}

// A batch-B input: test samples when there are enough, else zeros of the model's input.
Tensor sample_input(CompareContext& ctx, int64_t n) {
  if (ctx.data) return rows_of(ctx.data->test.x, n);
  const Node& in = ctx.predict->node(ctx.predict->inputs()[0]);
  std::vector<int64_t> shape = in.type.shape.to_vector();
  shape[0] = n;
  for (int64_t& d : shape) d = std::max<int64_t>(d, 1);
  return Tensor::zeros(in.type.dtype, Shape(shape));
}

// Latency, throughput, accuracy and per-layer time of `model` on its compiled backends.
void measure(nlohmann::json& row, Model& model, const Graph& graph, CompareContext& ctx,
             const std::string& backend) {
  Tensor one = sample_input(ctx, 1);
  Tensor many = sample_input(ctx, ctx.batch);
  std::vector<double> lat = time_runs([&] { model.predict(one, 1); }, 20, 2000, 0.3);
  std::vector<double> thr =
      time_runs([&] { model.predict(many, ctx.batch); }, 3, 200, 0.4);
  row["latency_seconds"] = median(lat);
  double batch_s = median(thr);
  row["throughput_per_second"] = static_cast<double>(ctx.batch) / batch_s;
  if (ctx.data) {
    Tensor scores = model.predict(ctx.data->test.x, 256);
    row["accuracy"] = top1_accuracy(scores, ctx.data->test.y);
  } else {
    row["notes"].push_back("accuracy: " + ctx.data_note);
  }
  // Per layer at batch B: node times of a profiled run grouped by layer, with the layer's
  // MACs and bytes from the lowered workload.
  Program program = compile_program(graph, {.batch = ctx.batch, .backends = {backend, "cpu"}});
  std::vector<Tensor> inputs = {many};
  program.run(inputs);
  std::map<std::string, double> seconds;
  std::vector<std::string> order;
  for (int r = 0; r < 3; ++r) {
    std::map<std::string, double> run;
    for (const ProfiledNode& n : program.profile(inputs)) {
      std::string name = n.graph ? n.graph->node(n.id).name : "?";
      std::string layer = sim::layer_of(name);
      if (layer.empty()) layer = name;
      if (!seconds.count(layer) && std::find(order.begin(), order.end(), layer) == order.end())
        order.push_back(layer);
      run[layer] += n.seconds;
    }
    for (const auto& [l, s] : run) seconds[l] = r == 0 ? s : std::min(seconds[l], s);
  }
  sim::Workload w = sim::lower_to_workload(graph, {.batch = ctx.batch});
  std::map<std::string, std::pair<double, double>> work;  // macs, bytes
  double total_flops = 0;
  for (const sim::WorkOp& op : w.ops) {
    std::string layer = op.layer.empty() ? op.name : op.layer;
    work[layer].first += static_cast<double>(op.macs());
    work[layer].second += op.bytes_read + op.bytes_written;
    total_flops += op.flops();
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const std::string& l : order)
    layers.push_back({{"name", l},
                      {"seconds", seconds[l]},
                      {"macs", work.count(l) ? nlohmann::json(work[l].first) : nlohmann::json()},
                      {"bytes", work.count(l) ? nlohmann::json(work[l].second) : nlohmann::json()},
                      {"energy_joules", nullptr},
                      {"bound", nullptr}});
  row["layers"] = layers;
  row["achieved_flops"] = total_flops / batch_s;
  row["batch_seconds"] = batch_s;
}

}  // namespace

double top1_accuracy(const Tensor& scores, const Tensor& y) {
  TS_CHECK(scores.rank() == 2, ErrorKind::kInvalidArgument,
           "accuracy: the model's prediction is {}, expected [samples, classes]",
           scores.shape().str());
  const int64_t n = scores.shape()[0], c = scores.shape()[1];
  std::vector<float> s = scores.to_f32_vector();
  std::vector<float> t = y.to_f32_vector();
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = s.data() + i * c;
    int64_t arg = std::max_element(row, row + c) - row;
    int64_t label = y.rank() == 2 ? std::max_element(t.begin() + i * c, t.begin() + (i + 1) * c) -
                                        (t.begin() + i * c)
                                  : static_cast<int64_t>(std::llround(t[i]));
    right += arg == label;
  }
  return n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0.0;
}

nlohmann::json measure_cpu(const TargetSpec& t, CompareContext& ctx) {
  nlohmann::json row = empty_row(t);
  row["method"] = "measured";
  const int threads = num_threads();
  row["device"] = fmt::format("{} ({} threads)", cpu_model_name(), threads);
  row["numerics"] = "f32";
  Model& model = ctx.source->model;
  std::vector<std::string> rapl = rapl_files();
  double e0 = rapl.empty() ? 0 : rapl_joules(rapl);
  auto t0 = Clock::now();
  measure(row, model, *ctx.predict, ctx, "cpu");
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double power = 0;
  if (!rapl.empty() && rapl_joules(rapl) > e0) {
    // The whole measurement's package energy over its wall time (the package, not the
    // process: other load on the machine counts too).
    power = (rapl_joules(rapl) - e0) / wall;
    row["notes"].push_back("power measured: RAPL package energy over the measurement");
  } else {
    power = kWattsPerBusyCore * threads;
    row["notes"].push_back(fmt::format(
        "power modelled: RAPL not readable; assumed {:.0f} W per busy core x {} threads",
        kWattsPerBusyCore, threads));
  }
  row["power_watts"] = power;
  row["energy_per_inference_joules"] = power * row["batch_seconds"].get<double>() /
                                       static_cast<double>(ctx.batch);
  for (auto& l : row["layers"]) l["energy_joules"] = power * l["seconds"].get<double>();
  // Peak: FMA units x lanes x clock x threads (AVX2 with FMA: 2 x 8 f32 lanes x 2 flops).
  double ghz = cpu_mhz() / 1e3;
  double per_cycle = cpu_features().avx2 && cpu_features().fma ? 32 : 8;
  if (ghz > 0) {
    double peak = per_cycle * ghz * 1e9 * threads;
    row["peak_ops_per_second"] = peak;
    double util = row["achieved_flops"].get<double>() / peak;
    row["utilization"] = std::min(1.0, util);
    if (util > 1)
      row["notes"].push_back(fmt::format(
          "achieved {:.3g} flop/s exceeds the modelled peak (a boost clock above the reported "
          "one): utilization shown as 100 %",
          row["achieved_flops"].get<double>()));
    row["notes"].push_back(fmt::format(
        "peak modelled: {} threads x {:.2f} GHz x {:.0f} flop/cycle (f32 {})", threads, ghz,
        per_cycle, per_cycle == 32 ? "AVX2 FMA" : "SSE"));
  }
  row.erase("achieved_flops");
  row.erase("batch_seconds");
  return row;
}

nlohmann::json measure_gpu(const TargetSpec& t, CompareContext& ctx) {
  nlohmann::json row = empty_row(t);
  row["method"] = "measured";
  const GpuDeviceInfo& dev = gpu_devices().front();
  row["device"] = dev.name;
  row["numerics"] = "f32";
  // Its own copy of the model, compiled for the GPU (the cpu runs what cuda does not).
  ModelSource m = open_model(ctx.model_arg, 0, {"cuda", "cpu"});
  CompileConfig c;
  if (m.compile) c = *m.compile;
  c.backends = {"cuda", "cpu"};
  c.device.clear();
  m.model.compile(std::move(c));
  measure(row, m.model, m.model.predict_graph(), ctx, "cuda");
  // Power: no counter is read; the GPU model of this device gives the draw at this batch.
  sim::GpuSimulator model(sim::gpu_config_from_device(dev));
  sim::SimReport r = model.simulate_graph(*ctx.predict, ctx.batch, ctx.source->name);
  double power = r.figures.count("power_w") ? r.figures.at("power_w") : model.config().tdp_w;
  row["power_watts"] = power;
  row["energy_per_inference_joules"] =
      power * row["batch_seconds"].get<double>() / static_cast<double>(ctx.batch);
  row["notes"].push_back(
      "power modelled: the GPU performance model of this device at this batch (no power "
      "counter read)");
  double peak = model.config().peak_flops(sim::GpuPrecision::kFp32);
  row["peak_ops_per_second"] = peak;
  row["memory_bandwidth_bytes_per_second"] = model.config().hbm_bandwidth;
  row["utilization"] = std::min(1.0, row["achieved_flops"].get<double>() / peak);
  for (auto& l : row["layers"]) l["energy_joules"] = power * l["seconds"].get<double>();
  row.erase("achieved_flops");
  row.erase("batch_seconds");
  return row;
}

}  // namespace tessera::cli
