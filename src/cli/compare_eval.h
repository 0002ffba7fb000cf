// Internal: evaluating one target for `tessera compare`, `explore` and `advise` — a row of
// the comparison report (docs/report.md, tessera.compare_report/1). compare_measured.cpp
// measures the cpu and a present GPU; compare_simulated.cpp costs tpu, fpga, asic and the
// GPU model; compare_command.cpp runs the rows and writes the report.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "simulate.h"
#include "tessera/cli/compare.h"
#include "tessera/cli/sources.h"
#include "tessera/sim/report.h"

namespace tessera::cli {

// What every row shares: the model, its predict graph, the data and the accuracies already
// measured (many rows share a numerics). Rows run in parallel threads; the memo is locked.
struct CompareContext {
  std::string model_arg;  // what open_model takes (a measured GPU opens its own copy)
  std::string model_name;  // for the report: the zoo name even when trained here
  ModelSource* source = nullptr;
  const Graph* predict = nullptr;  // source->model.predict_graph(), built before any thread
  std::optional<EvalData> data;    // null: no accuracy (--no-accuracy or no test split)
  std::string data_note;           // why there is no data, when there is none
  int64_t batch = 256;
  int asic_trials = 2000;  // the ASIC mapper's sampled mappings per distinct layer
  bool all_precisions = false;  // rows add accuracy_by_precision (compare; not explore)

  // Memoized accuracy per numerics key; `compute` runs at most once per key (others wait).
  std::optional<sim::AccuracyReport> accuracy(const std::string& key,
                                              const std::function<sim::AccuracyReport()>& compute,
                                              std::string* error);
  std::optional<double> f32_accuracy();

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::once_flag>> once_;
  std::map<std::string, std::optional<sim::AccuracyReport>> done_;
  std::map<std::string, std::string> errors_;
};

// A row with every schema field, null where unknown.
nlohmann::json empty_row(const TargetSpec& t);
// The row of `t`; a failure is the row's "error" (its figures null), never an exception.
nlohmann::json evaluate_target(const TargetSpec& t, CompareContext& ctx);

// Measured rows (compare_measured.cpp).
nlohmann::json measure_cpu(const TargetSpec& t, CompareContext& ctx);
nlohmann::json measure_gpu(const TargetSpec& t, CompareContext& ctx);
// Simulated and modelled rows (compare_simulated.cpp); `overrides` of explore apply.
nlohmann::json simulate_tpu(const TargetSpec& t, CompareContext& ctx);
nlohmann::json simulate_fpga(const TargetSpec& t, CompareContext& ctx);
nlohmann::json simulate_asic(const TargetSpec& t, CompareContext& ctx);
nlohmann::json model_gpu(const TargetSpec& t, CompareContext& ctx);
// The target's configuration after overrides, as JSON (the explore cache key); throws
// Error(kInvalidArgument) for a bad override value.
nlohmann::json resolved_config(const TargetSpec& t);

// Fills the cost fields of `row` from a batch-1 and a batch-B report.
void fill_from_reports(nlohmann::json& row, const sim::SimReport& one, const sim::SimReport& many,
                       int64_t batch);
// Top-1 accuracy of scores [N, C] against class ids (rank 1) or one-hot rows (rank 2).
double top1_accuracy(const Tensor& scores, const Tensor& y);
// Accuracy fields from a functional-mode report (and a note when it fails).
void set_accuracy(nlohmann::json& row, const std::optional<sim::AccuracyReport>& r,
                  const std::string& numerics, const std::string& error);

// The rows of `targets` in order: measured ones one after another (nothing else running
// beside them), then the rest on `jobs` threads, with a progress bar.
std::vector<nlohmann::json> evaluate_targets(const std::vector<TargetSpec>& targets,
                                             CompareContext& ctx, int jobs);

// Runs fn(i) for i in [0, n) on `jobs` threads (1: in order on this thread).
void parallel_run(size_t n, int jobs, const std::function<void(size_t)>& fn);

// A bar on stderr when it is a terminal: "[=====     ] 3/8 what".
class TaskProgress {
 public:
  TaskProgress(std::string title, size_t total);
  ~TaskProgress();
  void finished(const std::string& what);

 private:
  std::mutex mu_;
  std::string title_;
  size_t total_, done_ = 0;
  bool live_;
};

// The report skeleton (schema, created, model) shared by compare, explore and advise.
nlohmann::json report_skeleton(const CompareContext& ctx, const nlohmann::json& training);
// One table, a row per target: the comparison the terminal shows.
std::string format_comparison(const nlohmann::json& rows, int64_t batch);
// Writes --json and --html (atomically) when given.
void write_report(const nlohmann::json& report, const std::string& json_path,
                  const std::string& html_path);

// Shared by compare, explore and advise: the model (trained first with --train) and data.
struct ModelOptions {
  std::string model, dataset;
  bool train = false, no_accuracy = false;
  int epochs = 5;
  int64_t batch = 256, samples = 0;
  int threads = 0, jobs = 0;
  std::string device = "auto";  // where --train trains
};
void add_model_options(CLI::App* cmd, ModelOptions* o);
// Opens (and trains) the model and loads the data; returns the training JSON (or null).
struct PreparedModel {
  std::unique_ptr<ModelSource> source;
  std::unique_ptr<CompareContext> ctx;
  nlohmann::json training = nullptr;
  std::string checkpoint;  // the trained model's temporary checkpoint, removed on destruction
  PreparedModel() = default;
  PreparedModel(PreparedModel&&) = default;
  ~PreparedModel();
};
PreparedModel prepare_model(const ModelOptions& o);
int resolve_jobs(int jobs);

}  // namespace tessera::cli
