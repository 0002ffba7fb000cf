// `tessera demo`: the main job for now — a small end-to-end training run on the seed's
// synthetic task, through the whole engine, with a summary and optional JSON results.
#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "tessera/cli/demo_model.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/thread_pool.h"

namespace tessera::cli {
namespace {

struct DemoOptions {
  int epochs = 10;
  int64_t batch = 32;
  double learning_rate = 0.05;
  std::string backend = "cpu";
  int threads = 0;
  uint64_t seed = 7;
  int64_t train_size = 8192;
  int64_t test_size = 2048;
  std::string json;
};

void run_demo(const DemoOptions& o) {
  using Clock = std::chrono::steady_clock;
  if (o.threads > 0) set_num_threads(o.threads);
  DemoData data = make_demo_data(o.seed, o.train_size, o.test_size);
  DemoModel model(o.seed, 64);
  DemoTrainer trainer(model, {.batch = o.batch, .learning_rate = o.learning_rate,
                              .backends = {o.backend}});
  fmt::print("Tessera demo: MLP 32-64-10 on synthetic data ({} train, {} test), batch {}, "
             "SGD lr {} momentum 0.9, backend {}, {} threads\n",
             o.train_size, o.test_size, o.batch, o.learning_rate, o.backend, num_threads());

  nlohmann::json history = nlohmann::json::array();
  double train_seconds = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    auto t0 = Clock::now();
    double loss = trainer.train_epoch(data.train_x, data.train_y);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += secs;
    double acc = trainer.accuracy(data.test_x, data.test_y);
    fmt::print("epoch {:>2}/{}  loss {:.4f}  val_accuracy {:.4f}  {:.3f} s  ({:.0f} samples/s)\n",
               epoch, o.epochs, loss, acc, secs, static_cast<double>(o.train_size) / secs);
    std::fflush(stdout);
    history.push_back({{"epoch", epoch}, {"loss", loss}, {"val_accuracy", acc},
                       {"seconds", secs}});
  }
  double final_acc = trainer.accuracy(data.test_x, data.test_y);
  double samples_per_s = static_cast<double>(o.train_size) * o.epochs / train_seconds;
  fmt::print("test accuracy {:.4f}; {:.0f} training samples/s; step arena {} bytes\n",
             final_acc, samples_per_s, trainer.arena_bytes());
  if (!o.json.empty()) {
    nlohmann::json j = {{"model", "mlp-32-64-10"},      {"backend", o.backend},
                        {"threads", num_threads()},     {"batch", o.batch},
                        {"history", history},           {"test_accuracy", final_acc},
                        {"train_samples_per_second", samples_per_s}};
    write_file_atomic(o.json, j.dump(2) + "\n");
    fmt::print("wrote {}\n", o.json);
  }
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Train a small MLP end to end on synthetic data and report accuracy and speed");
  cmd->add_option("--epochs", opts->epochs, "Passes over the training data")
      ->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--batch-size", opts->batch, "Samples per step")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--learning-rate", opts->learning_rate, "SGD learning rate")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--backend", opts->backend, "Backend to run on (cpu, ref)")
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--seed", opts->seed, "Seed for data and initial weights")->capture_default_str();
  cmd->add_option("--train-size", opts->train_size, "Training samples")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--test-size", opts->test_size, "Test samples")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--json", opts->json, "Write results (history, accuracy, speed) as JSON");
  cmd->callback([opts] { run_demo(*opts); });
}

}  // namespace tessera::cli
