// What compare, explore and advise share: the model (trained first with --train, through
// the train command's run_train), the test data, the memo of accuracies per numerics, the
// parallel runner and its progress bar, the comparison table and the report files.
#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <thread>

#include "commands.h"
#include "compare_eval.h"
#include "tessera/backends/device_select.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/report/html_report.h"
#include "tessera/sim/functional.h"

namespace tessera::cli {
namespace {

std::string si(double v, const char* unit) {
  if (!std::isfinite(v)) return "-";
  const char* prefixes[] = {"p", "n", "u", "m", "", "k", "M", "G", "T"};
  int i = 4;
  double a = std::abs(v);
  while (a >= 1000 && i < 8) {
    a /= 1000;
    v /= 1000;
    ++i;
  }
  while (a > 0 && a < 1 && i > 0) {
    a *= 1000;
    v *= 1000;
    --i;
  }
  return fmt::format("{:.3g} {}{}", v, prefixes[i], unit);
}

std::string cell(const nlohmann::json& row, const char* field, const char* unit) {
  auto it = row.find(field);
  if (it == row.end() || !it->is_number()) return "-";
  return si(it->get<double>(), unit);
}

}  // namespace

std::optional<sim::AccuracyReport> CompareContext::accuracy(
    const std::string& key, const std::function<sim::AccuracyReport()>& compute,
    std::string* error) {
  std::shared_ptr<std::once_flag> flag;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& f = once_[key];
    if (!f) f = std::make_shared<std::once_flag>();
    flag = f;
  }
  std::call_once(*flag, [&] {
    std::optional<sim::AccuracyReport> r;
    std::string e;
    try {
      r = compute();
    } catch (const std::exception& ex) {
      e = ex.what();
    }
    std::lock_guard<std::mutex> lock(mu_);
    done_[key] = r;
    errors_[key] = e;
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (error) *error = errors_[key];
  return done_[key];
}

std::optional<double> CompareContext::f32_accuracy() {
  if (!data) return std::nullopt;
  std::optional<sim::AccuracyReport> r = accuracy(
      "functional f32",
      [&] {
        return sim::measure_accuracy(*predict, sim::parse_numerics("f32", "numerics"),
                                     data->calibration, data->test.x, data->test.y, 256);
      },
      nullptr);
  if (!r) return std::nullopt;
  return r->reference;
}

void parallel_run(size_t n, int jobs, const std::function<void(size_t)>& fn) {
  if (jobs <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(jobs, static_cast<int>(n)); ++t)
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);  // fn handles its own errors
    });
  for (std::thread& t : threads) t.join();
}

TaskProgress::TaskProgress(std::string title, size_t total)
    : title_(std::move(title)), total_(total), live_(::isatty(STDERR_FILENO) != 0) {
  if (live_) fmt::print(stderr, "\r{} [{:30}] 0/{}", title_, "", total_);
}

TaskProgress::~TaskProgress() {
  if (live_) fmt::print(stderr, "\r{:100}\r", "");
}

void TaskProgress::finished(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_;
  if (!live_) return;
  size_t filled = total_ ? 30 * done_ / total_ : 30;
  std::string bar(filled, '=');
  bar.resize(30, ' ');
  std::string label = what.size() > 40 ? what.substr(0, 39) + "…" : what;
  fmt::print(stderr, "\r{} [{}] {}/{} {:<40}", title_, bar, done_, total_, label);
  std::fflush(stderr);
}

int resolve_jobs(int jobs) {
  if (jobs > 0) return jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

nlohmann::json report_skeleton(const CompareContext& ctx, const nlohmann::json& training) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const Node& in = ctx.predict->node(ctx.predict->inputs()[0]);
  std::vector<int64_t> shape = in.type.shape.to_vector();
  if (!shape.empty()) shape.erase(shape.begin());
  return {{"schema", "tessera.compare_report/1"},
          {"created", created},
          {"model",
           {{"name", ctx.model_name},
            {"parameters", ctx.source->model.net().count_params()},
            {"input_shape", shape},
            {"dataset", ctx.data ? nlohmann::json(ctx.data->name) : nlohmann::json(nullptr)},
            {"training", training}}},
          {"batch", ctx.batch},
          {"targets", nlohmann::json::array()},
          {"exploration", nullptr},
          {"advice", nullptr}};
}

std::string format_comparison(const nlohmann::json& rows, int64_t batch) {
  size_t w = 22;
  for (const nlohmann::json& r : rows) w = std::max(w, r.value("target", std::string()).size());
  w = std::min<size_t>(w, 48);
  std::string out = fmt::format(
      "{:<{}} {:<9} {:<18} {:>8} {:>10} {:>12} {:>10} {:>9} {:>16} {:>6} {:<7}\n", "target", w,
      "method", "numerics", "accuracy", "latency", "throughput", "energy/inf", "power",
      "area/resources", "util", "bound");
  out += fmt::format("{:<{}} {:<9} {:<18} {:>8} {:>10} {:>12} {:>10} {:>9} {:>16} {:>6} {:<7}\n",
                     "", w, "", "", "", "batch 1", fmt::format("batch {}", batch), "", "", "", "",
                     "");
  for (const nlohmann::json& r : rows) {
    std::string target = r.value("target", "?");
    if (target.size() > w) target = target.substr(0, w - 1) + "…";
    if (!r["error"].is_null()) {
      out += fmt::format("{:<{}} error: {}\n", target, w, r["error"].get<std::string>());
      continue;
    }
    std::string acc = r["accuracy"].is_number()
                          ? fmt::format("{:.2f}%", 100 * r["accuracy"].get<double>())
                          : "-";
    std::string area = "-";
    if (r["area_mm2"].is_number()) {
      area = fmt::format("{:.3g} mm2", r["area_mm2"].get<double>());
    } else if (r["fpga_resources"].is_object()) {
      const nlohmann::json& f = r["fpga_resources"];
      double lut = f.value("lut_percent", 0.0), dsp = f.value("dsp_percent", 0.0);
      area = fmt::format("{:.0f}% LUT {:.0f}% DSP", lut, dsp);
    }
    std::string util = r["utilization"].is_number()
                           ? fmt::format("{:.1f}%", 100 * r["utilization"].get<double>())
                           : "-";
    std::string numerics = r["numerics"].is_string() ? r["numerics"].get<std::string>() : "-";
    if (numerics.size() > 18) numerics = numerics.substr(0, 17) + "…";
    out += fmt::format(
        "{:<{}} {:<9} {:<18} {:>8} {:>10} {:>12} {:>10} {:>9} {:>16} {:>6} {:<7}\n", target, w,
        r.value("method", ""), numerics, acc, cell(r, "latency_seconds", "s"),
        cell(r, "throughput_per_second", "/s"), cell(r, "energy_per_inference_joules", "J"),
        cell(r, "power_watts", "W"), area, util,
        r["bound"].is_string() ? r["bound"].get<std::string>() : "-");
  }
  return out;
}

void write_report(const nlohmann::json& report, const std::string& json_path,
                  const std::string& html_path) {
  // Render first: a report the renderer rejects writes neither file.
  std::string html = html_path.empty() ? std::string() : report::render_html_report(report);
  write_json(json_path, report);
  if (!html_path.empty()) {
    write_file_atomic(html_path, html);
    fmt::print("wrote {}\n", html_path);
  }
}

void add_model_options(CLI::App* cmd, ModelOptions* o) {
  cmd->add_option("MODEL", o->model, "Zoo model, YAML spec, ONNX file or checkpoint")->required();
  cmd->add_option("--batch", o->batch, "Throughput batch (latency is at batch 1)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_flag("--train", o->train,
                "Train the model first (on the best device present: cuda with a GPU, else cpu)");
  cmd->add_option("--epochs", o->epochs, "With --train: epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--device", o->device, "With --train: where to train (cpu, cuda, auto)")
      ->capture_default_str()
      ->check(CLI::IsMember(device_names()));
  cmd->add_option("--dataset", o->dataset,
                  "Training and accuracy data: fashion-mnist, synthetic, FILE.npz, … (default: "
                  "the built-in one that fits the model)");
  cmd->add_option("--samples", o->samples,
                  "Test samples the accuracies are measured on (default: the whole test split)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_flag("--no-accuracy", o->no_accuracy, "Cost only: measure no accuracy");
  cmd->add_option("--jobs", o->jobs, "Targets evaluated in parallel (default: the cores)")
      ->check(CLI::Range(1, 256));
  add_threads_option(cmd, &o->threads);
}

PreparedModel::~PreparedModel() {
  if (!checkpoint.empty()) {
    std::error_code ec;
    std::filesystem::remove(checkpoint, ec);
  }
}

PreparedModel prepare_model(const ModelOptions& o) {
  apply_threads(o.threads);
  PreparedModel p;
  std::string model_arg = o.model;
  if (o.train) {
    TrainArgs t;
    t.model = o.model;
    t.dataset = o.dataset;
    t.epochs = o.epochs;
    t.batch_size = 128;
    t.seed = 1;
    t.backend = backends_for_device(o.device)[0];
    t.verbose = ::isatty(STDOUT_FILENO) ? 1 : 2;
    p.checkpoint = (std::filesystem::temp_directory_path() /
                    fmt::format("tessera-compare-{}-{}.tsr", ::getpid(),
                                std::chrono::steady_clock::now().time_since_epoch().count()))
                       .string();
    t.save = p.checkpoint;
    nlohmann::json tj = run_train(t);
    const nlohmann::json& loss = tj["history"]["loss"];
    const nlohmann::json& fin = tj["final"];
    p.training = {{"device", t.backend},
                  {"epochs", t.epochs},
                  {"batch_size", t.batch_size},
                  {"seconds", tj["timings"]["train_seconds"]},
                  {"final_loss", loss.empty() ? nlohmann::json(nullptr) : loss.back()},
                  {"test_accuracy", fin.contains("test_accuracy") ? fin["test_accuracy"]
                                                                  : nlohmann::json(nullptr)}};
    model_arg = p.checkpoint;
  }
  p.source = std::make_unique<ModelSource>(open_model(model_arg, 0, {"cpu"}));
  p.ctx = std::make_unique<CompareContext>();
  CompareContext& ctx = *p.ctx;
  ctx.model_arg = model_arg;
  ctx.model_name = o.train ? o.model : p.source->name;
  ctx.source = p.source.get();
  ctx.batch = o.batch;
  Model& model = compiled(*p.source);
  ctx.predict = &model.predict_graph();
  if (o.no_accuracy) {
    ctx.data_note = "not measured (--no-accuracy)";
  } else {
    SimulateArgs a;
    a.dataset = o.dataset;
    a.calibration = 1000;
    try {
      ctx.data = load_eval_data(a, model);
    } catch (const Error& e) {
      if (!o.dataset.empty()) throw;  // the data the user named must load
      ctx.data_note = fmt::format("no data: {}", e.what());
    }
    if (ctx.data && o.samples > 0 && o.samples < ctx.data->test.size())
      ctx.data->test = ctx.data->test.slice(0, o.samples);
  }
  if (!o.train && p.source->kind != "checkpoint" && ctx.data)
    fmt::print(
        "note: '{}' has its initial weights: accuracies are near chance; add --train or give a "
        "checkpoint\n",
        o.model);
  return p;
}

}  // namespace tessera::cli
