#include "headless_browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace tessera::test_support {

using nlohmann::json;
namespace fs = std::filesystem;

std::string find_chromium() {
  if (const char* env = std::getenv("TESSERA_CHROMIUM"); env != nullptr && *env != '\0') {
    return access(env, X_OK) == 0 ? env : "";
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    size_t start = 0;
    while (start <= dirs.size()) {
      const size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string candidate = dirs.substr(start, end - start) + "/" + name;
      if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  return "";
}

namespace {

std::vector<uint8_t> base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;  // padding, whitespace
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<uint8_t>((bits >> count) & 0xff));
    }
  }
  return out;
}

// One browser process and the two pipe ends the DevTools protocol runs over: Chromium reads
// commands from its fd 3 and writes replies and events to its fd 4, each message ending in NUL.
class Browser {
 public:
  Browser(const std::string& chromium, const PageOptions& options)
      : deadline_(std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000))) {
    char dir_template[] = "/tmp/tessera-chromium-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
    profile_dir_ = dir_template;
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    const std::vector<std::string> args = {
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
        "--user-data-dir=" + profile_dir_, "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--disable-background-networking", "--disable-sync",
        "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1",
        "--window-size=" + std::to_string(options.width) + "," + std::to_string(options.height),
        "about:blank"};
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Move the pipe ends out of the way first: they may already be fds 3 or 4.
      const int in = fcntl(to_child[0], F_DUPFD, 10);
      const int out = fcntl(from_child[1], F_DUPFD, 10);
      if (in < 0 || out < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0) _exit(126);
      const int null = open("/dev/null", O_RDWR);
      if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
      }
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(chromium.c_str(), argv.data());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    write_fd_ = to_child[1];
    read_fd_ = from_child[0];
  }

  ~Browser() {
    if (write_fd_ >= 0) {
      // Ask politely (no reply awaited); closing the pipe also tells Chromium to quit.
      static constexpr char kClose[] = "{\"id\":999999,\"method\":\"Browser.close\"}";
      [[maybe_unused]] const ssize_t ignored = write(write_fd_, kClose, sizeof kClose);
      close(write_fd_);
    }
    if (read_fd_ >= 0) close(read_fd_);
    if (pid_ > 0) {
      // Give it a moment to exit on its own, then stop it.
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ignored;
    fs::remove_all(profile_dir_, ignored);
  }

  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Sends a command and waits for its reply, collecting events meanwhile.
  json call(const std::string& method, json params = json::object(),
            const std::string& session = "") {
    const int id = ++last_id_;
    json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty()) message["sessionId"] = session;
    std::string text = message.dump();
    text.push_back('\0');
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = write(write_fd_, text.data() + done, text.size() - done);
      if (n <= 0) throw std::runtime_error("chromium: cannot send " + method);
      done += static_cast<size_t>(n);
    }
    for (;;) {
      json reply = next_message();
      if (reply.contains("id") && reply["id"] == id) {
        if (reply.contains("error")) {
          throw std::runtime_error("chromium: " + method + " failed: " + reply["error"].dump());
        }
        return reply.value("result", json::object());
      }
      events_.push_back(std::move(reply));
    }
  }

  // Waits for an event named `method`, looking first at those already received.
  json wait_event(const std::string& method) {
    for (;;) {
      for (size_t i = checked_; i < events_.size(); ++i) {
        if (events_[i].value("method", "") == method) {
          checked_ = i + 1;
          return events_[i];
        }
      }
      checked_ = events_.size();
      events_.push_back(next_message());
    }
  }

  const std::vector<json>& events() const { return events_; }

 private:
  json next_message() {
    for (;;) {
      const size_t end = buffer_.find('\0');
      if (end != std::string::npos) {
        json message = json::parse(buffer_.substr(0, end));
        buffer_.erase(0, end + 1);
        return message;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("chromium: timed out");
      pollfd p{read_fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) throw std::runtime_error("chromium: timed out");
      char chunk[65536];
      const ssize_t n = read(read_fd_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("chromium: the browser exited early");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  std::chrono::steady_clock::time_point deadline_;
  std::string profile_dir_;
  pid_t pid_ = -1;
  int write_fd_ = -1, read_fd_ = -1;
  int last_id_ = 0;
  std::string buffer_;
  std::vector<json> events_;
  size_t checked_ = 0;
};

std::string describe_console(const json& params) {
  std::string text = params.value("type", "log") + ":";
  for (const json& arg : params.value("args", json::array())) {
    text += ' ';  // appended piecewise: g++ 12 warns (-Wrestrict) on " " + std::string&&
    text += arg.contains("value") ? arg["value"].dump() : arg.value("description", "?");
  }
  return text;
}

}  // namespace

PageRun run_page(const std::string& chromium, const std::string& url, const PageOptions& options) {
  Browser browser(chromium, options);
  const json target = browser.call("Target.createTarget", {{"url", "about:blank"}});
  const json attached = browser.call(
      "Target.attachToTarget", {{"targetId", target.at("targetId")}, {"flatten", true}});
  const std::string session = attached.at("sessionId");
  browser.call("Runtime.enable", json::object(), session);
  browser.call("Log.enable", json::object(), session);
  browser.call("Page.enable", json::object(), session);
  browser.call("Emulation.setDeviceMetricsOverride",
               {{"width", options.width}, {"height", options.height}, {"deviceScaleFactor", 1},
                {"mobile", false}},
               session);
  browser.call("Page.navigate", {{"url", url}}, session);
  browser.wait_event("Page.loadEventFired");

  PageRun run;
  if (!options.expression.empty()) {
    const json result = browser.call(
        "Runtime.evaluate", {{"expression", options.expression}, {"returnByValue", true}}, session);
    if (result.contains("exceptionDetails")) {
      run.errors.push_back("evaluate: " + result["exceptionDetails"].dump());
    }
    run.value = result.value("result", json::object()).value("value", json());
  }
  const json metrics = browser.call("Page.getLayoutMetrics", json::object(), session);
  const json size = metrics.value("cssContentSize", metrics.value("contentSize", json::object()));
  const double height = size.value("height", static_cast<double>(options.height));
  const json shot = browser.call(
      "Page.captureScreenshot",
      {{"format", "png"},
       {"captureBeyondViewport", true},
       {"clip", {{"x", 0}, {"y", 0}, {"width", options.width}, {"height", height}, {"scale", 1}}}},
      session);
  run.screenshot_png = base64_decode(shot.at("data").get<std::string>());

  for (const json& event : browser.events()) {
    const std::string method = event.value("method", "");
    const json params = event.value("params", json::object());
    if (method == "Runtime.consoleAPICalled") {
      const std::string text = describe_console(params);
      run.messages.push_back(text);
      const std::string type = params.value("type", "");
      if (type == "error" || type == "assert") run.errors.push_back(text);
    } else if (method == "Runtime.exceptionThrown") {
      run.errors.push_back("exception: " + params.value("exceptionDetails", json::object()).dump());
    } else if (method == "Log.entryAdded") {
      const json entry = params.value("entry", json::object());
      const std::string text =
          "log " + entry.value("level", "?") + ": " + entry.value("text", "") + " " +
          entry.value("url", "");
      run.messages.push_back(text);
      if (entry.value("level", "") == "error") run.errors.push_back(text);
    }
  }
  return run;
}

}  // namespace tessera::test_support
