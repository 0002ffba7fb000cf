// Shared by the tessera command's tests: running the command in process with its output
// captured, and a per-test scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/cli/cli.h"

namespace tessera::cli {

struct Result {
  int code;
  std::string out, err;
};

// `tessera args...`, in process, with stdout and stderr captured.
inline Result run(std::vector<std::string> args) {
  args.insert(args.begin(), "tessera");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = run_cli(args);
  std::string out = testing::internal::GetCapturedStdout();
  return {code, out, testing::internal::GetCapturedStderr()};
}

// A fresh directory per test, named after the test and the process, removed afterwards.
class ScratchDirTest : public testing::Test {
 protected:
  explicit ScratchDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    namespace fs = std::filesystem;
    dir_ = (fs::temp_directory_path() /
            (prefix_ + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  nlohmann::json read_json(const std::string& name) const {
    return nlohmann::json::parse(read(name));
  }

  std::string prefix_;
  std::string dir_;
};

}  // namespace tessera::cli
