// `tessera evaluate MODEL|CHECKPOINT`: loss and metrics on a dataset's test split (or on the
// whole file for single-file datasets).
#include <fmt/core.h>

#include <chrono>

#include "commands.h"
#include "tessera/cli/sources.h"
#include "tessera/core/thread_pool.h"

namespace tessera::cli {
namespace {

struct EvaluateArgs {
  std::string model, dataset, json, backend = "cpu";
  int64_t batch_size = 256;
  int threads = 0;
};

void run_evaluate(const EvaluateArgs& a) {
  apply_threads(a.threads);
  ModelSource m = open_model(a.model, 0, {a.backend});
  if (!m.model.compiled()) {
    CompileConfig c;  // (not value_or: g++ 12 warns about the std::function inside)
    if (m.compile) {
      c = *m.compile;
    } else {
      c.metrics = {"accuracy"};
    }
    c.backends = {a.backend};
    m.model.compile(std::move(c));
  }
  const std::string& loss = m.model.compile_config().loss;
  std::string dataset = a.dataset.empty() ? default_dataset(m.model) : a.dataset;
  DataSource data = open_dataset(dataset, {.context = model_sequence_length(m.model)});
  bool on_test = data.test.has_value();
  Dataset d = conform(on_test ? *data.test : data.train, m.model,
                      "dataset '" + data.name + "'" + (on_test ? " (test)" : ""), loss);
  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, double> metrics = m.model.evaluate(d.x, d.y, a.batch_size);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("{} on {} ({} samples{}): {}\n", m.name, data.name, d.size(),
             on_test ? ", test split" : "", format_metrics(metrics));
  nlohmann::json j = {
      {"command", "evaluate"},
      {"model", m.name},
      {"dataset", data.name},
      {"split", on_test ? "test" : "all"},
      {"samples", d.size()},
      {"backend", a.backend},
      {"threads", num_threads()},
      {"metrics", metrics},
      {"timings",
       {{"evaluate_seconds", secs}, {"samples_per_second", secs > 0 ? d.size() / secs : 0.0}}}};
  write_json(a.json, j);
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto a = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Loss and metrics of a model (usually a checkpoint) on a dataset");
  cmd->add_option("MODEL", a->model, "Checkpoint, zoo model, YAML spec or ONNX file")->required();
  cmd->add_option("--dataset", a->dataset,
                  "fashion-mnist, synthetic, FILE.csv, FILE.npz, text or text:FILE (default: "
                  "the built-in one that fits the model)");
  cmd->add_option("--batch-size", a->batch_size, "Samples per step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  add_threads_option(cmd, &a->threads);
  add_backend_option(cmd, &a->backend);
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_evaluate(*a); });
}

}  // namespace tessera::cli
