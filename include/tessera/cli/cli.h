// The tessera command as a library: main() is run_cli(argc, argv), and tests call it with
// argument lists. Errors end here: one line "error: …" on stderr and exit code 1 (2 for
// usage errors); --help and --version exit 0.
//
//   int rc = tessera::cli::run_cli({"tessera", "train", "seed-mlp", "--epochs", "2"});
#pragma once

#include <string>
#include <vector>

namespace tessera::cli {

int run_cli(int argc, const char* const* argv);
int run_cli(const std::vector<std::string>& args);  // args[0] is the program name

}  // namespace tessera::cli
