// Internal: running the external hardware tools (Verilator, Yosys, the built simulation)
// as child processes with their output captured in a log file, for cosim.cpp and yosys.cpp.
#pragma once

#include <string>
#include <vector>

namespace tessera::sim::rtl {

// The full path of `name` found on PATH; empty when it is not installed.
std::string find_tool(const std::string& name);

struct ToolRun {
  int exit_code = 0;   // the process's exit status; 128 + signal when killed by one
  double seconds = 0;  // wall time
  std::string tail;    // the last lines of its output (stdout and stderr together)
};

// Runs argv (argv[0] looked up on PATH) in `cwd`, stdout and stderr to `log_path`.
// Error(kIo) when the process cannot be started.
ToolRun run_tool(const std::vector<std::string>& argv, const std::string& cwd,
                 const std::string& log_path);

// The last `max_chars` characters of a file (from a line start when possible).
std::string file_tail(const std::string& path, size_t max_chars = 3000);

}  // namespace tessera::sim::rtl
