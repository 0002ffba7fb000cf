// Internal: the subcommands of the tessera command, one file each.
#pragma once

#include <CLI/CLI.hpp>

namespace tessera::cli {

// Registers `tessera demo` on `app`.
void add_demo_command(CLI::App& app);

}  // namespace tessera::cli
