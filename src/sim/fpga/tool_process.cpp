// Child processes for the hardware tools: fork/exec with the output in a log file (no shell,
// so paths need no quoting).
#include "tool_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tessera/core/error.h"

namespace tessera::sim::rtl {

std::string find_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string file_tail(const std::string& path, size_t max_chars) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() <= max_chars) return text;
  text = text.substr(text.size() - max_chars);
  const size_t nl = text.find('\n');
  return nl != std::string::npos && nl + 1 < text.size() ? text.substr(nl + 1) : text;
}

ToolRun run_tool(const std::vector<std::string>& argv, const std::string& cwd,
                 const std::string& log_path) {
  TS_ASSERT(!argv.empty());
  const auto start = std::chrono::steady_clock::now();
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TS_CHECK(log_fd >= 0, ErrorKind::kIo, "cannot write the log '{}': {}", log_path,
           std::strerror(errno));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  TS_CHECK(pid > 0, ErrorKind::kIo, "cannot start '{}': {}", argv[0], std::strerror(errno));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    TS_CHECK(errno == EINTR, ErrorKind::kIo, "waiting for '{}' failed: {}", argv[0],
             std::strerror(errno));
  }
  ToolRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.tail = file_tail(log_path);
  return run;
}

}  // namespace tessera::sim::rtl
