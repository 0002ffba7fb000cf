// The tessera command. Errors end here: one line "error: …" and exit 1 (2 for usage).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "tessera/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"Tessera: train neural networks on CPU and GPU, simulate them on TPU, FPGA "
               "and ASIC targets."};
  app.set_version_flag("--version", "tessera 0.1.0");
  app.require_subcommand(1);
  tessera::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "error: {}\nRun with --help for usage.\n", e.what());
    return 2;
  } catch (const tessera::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
