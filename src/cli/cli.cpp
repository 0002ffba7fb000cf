// The tessera command's dispatcher and the options its subcommands share.
#include "tessera/cli/cli.h"

#include <fmt/core.h>

#include <cstdio>

#include "commands.h"
#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/backends/device_select.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"

namespace tessera::cli {

void add_threads_option(CLI::App* cmd, int* threads) {
  cmd->add_option("--threads", *threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
}

void add_backend_option(CLI::App* cmd, std::string* backend) {
  std::vector<std::string> names = {"cpu", "ref"};
  if (kHaveCudaBackend) names.push_back("cuda");
  cmd->add_option("--backend", *backend, "Backend to run on")
      ->capture_default_str()
      ->check(CLI::IsMember(names));
  // --device picks the backend by hardware; the cpu runs what the chosen one does not.
  cmd->add_option_function<std::string>(
         "--device",
         [backend](const std::string& device) { *backend = backends_for_device(device)[0]; },
         "Device to run on: cpu, cuda (an NVIDIA GPU; an error without one) or auto (cuda "
         "when a GPU is present, else cpu); default: the --backend")
      ->type_name("DEVICE")
      ->check(CLI::IsMember(device_names()))
      ->excludes("--backend");
}

void add_json_option(CLI::App* cmd, std::string* path) {
  cmd->add_option("--json", *path, "Write machine-readable results to FILE (atomically)")
      ->type_name("FILE");
}

void apply_threads(int threads) {
  if (threads > 0) set_num_threads(threads);
}

void write_json(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return;
  write_file_atomic(path, j.dump(2) + "\n");
  fmt::print("wrote {}\n", path);
}

std::string format_metrics(const std::map<std::string, double>& metrics,
                           const std::string& prefix) {
  std::string out;
  for (const auto& [name, value] : metrics)
    out += fmt::format("{}{}{}: {:.4f}", out.empty() ? "" : " - ", prefix, name, value);
  return out;
}

int run_cli(int argc, const char* const* argv) {
  CLI::App app{
      "Tessera: train neural networks on CPU and GPU, simulate them on TPU, FPGA "
      "and ASIC targets."};
  app.set_version_flag("--version", "tessera 0.1.0");
  app.require_subcommand(1);
  add_train_command(app);
  add_evaluate_command(app);
  add_predict_command(app);
  add_summary_command(app);
  add_demo_command(app);
  add_generate_command(app);
  add_simulate_command(app);
  add_export_command(app);
  add_profile_command(app);
  add_compare_command(app);
  add_explore_command(app);
  add_advise_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\nRun with --help for usage.\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // tessera::Error and the rest: one line, exit 1
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  std::fflush(stdout);
  return 0;
}

int run_cli(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return run_cli(static_cast<int>(args.size()), argv.data());
}

}  // namespace tessera::cli
