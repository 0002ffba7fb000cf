// Internal: reading hardware configs from YAML with errors that name the file, line and
// field. Shared by the targets' config loaders.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace tessera::sim {

// Reads a whole text file; Error(kNotFound) naming `what` and the path when it cannot.
std::string read_config_file(const std::string& path, std::string_view what);

class YamlConfigReader {
 public:
  explicit YamlConfigReader(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  // Parses `text`; a syntax error names the line.
  YAML::Node load(const std::string& text) const;

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const;

  // `map` must be a mapping whose keys are all in `allowed` (the error lists them).
  void expect_keys(const YAML::Node& map, std::string_view what,
                   std::initializer_list<std::string_view> allowed) const;
  std::string string(const YAML::Node& n, std::string_view field) const;
  double number(const YAML::Node& n, std::string_view field) const;
  double positive(const YAML::Node& n, std::string_view field) const;  // > 0
  double non_negative(const YAML::Node& n, std::string_view field) const;  // >= 0
  int64_t positive_int(const YAML::Node& n, std::string_view field) const;
  bool boolean(const YAML::Node& n, std::string_view field) const;

 private:
  std::string source_;
};

}  // namespace tessera::sim
