// Internal: the subcommands of the tessera command, one file each, and what they share.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace tessera::cli {

void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_summary_command(CLI::App& app);
void add_demo_command(CLI::App& app);  // compare_command.cpp
void add_generate_command(CLI::App& app);
void add_simulate_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_profile_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_explore_command(CLI::App& app);
void add_advise_command(CLI::App& app);

// What `tessera train` runs; compare, explore and advise run it for --train.
struct TrainArgs {
  std::string model;
  std::string dataset;  // empty: the built-in dataset that fits the model
  int epochs = 10;
  int64_t batch_size = 32;
  std::string optimizer;       // empty: the spec's or adam
  double learning_rate = 0.0;  // 0: the spec's or the optimizer's Keras default
  std::string loss;            // empty: the spec's or sparse_categorical_crossentropy
  double validation_split = 0.0;
  uint64_t seed = 0;
  int threads = 0;
  std::string save, resume, json;
  std::string backend = "cpu";
  int verbose = 1;
  int64_t context = 0;  // text datasets: bytes per window; 0: the model's sequence length
  // Training at scale; unset (empty, 0, false): the spec's settings, else off.
  std::string dtype_policy;
  bool recompute = false;
  int64_t gradient_accumulation_steps = 0;
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;
  // Distribution (docs/distributed.md): run properties, not saved with the model.
  std::string strategy = "default";  // default | mirrored | mpi
  int replicas = 2;                  // mirrored
  bool deterministic = false;
  double timeout = 60.0;  // seconds a collective waits for a silent rank
  std::string checkpoint;        // saved (rank 0, atomically) at epoch ends
  int64_t checkpoint_steps = 0;  // and every this many batches
};
nlohmann::json run_train(const TrainArgs& args);

// Options every command shares (they follow the Keras names).
void add_threads_option(CLI::App* cmd, int* threads);
// --backend NAME and --device cpu|cuda|auto (which sets the backend; the two exclude each
// other).
void add_backend_option(CLI::App* cmd, std::string* backend);
void add_json_option(CLI::App* cmd, std::string* path);
// Sets the thread count when given (> 0).
void apply_threads(int threads);
// Writes `j` atomically when `path` is not empty and says so.
void write_json(const std::string& path, const nlohmann::json& j);
std::string format_metrics(const std::map<std::string, double>& metrics,
                           const std::string& prefix = "");

}  // namespace tessera::cli
