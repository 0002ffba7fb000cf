#include "config_yaml.h"

#include <fmt/core.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tessera/core/error.h"

namespace tessera::sim {

std::string read_config_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "{} '{}': cannot open: {}", what, path,
           std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  TS_CHECK(!in.bad(), ErrorKind::kIo, "{} '{}': read failed", what, path);
  return ss.str();
}

YAML::Node YamlConfigReader::load(const std::string& text) const {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{}:{}: YAML syntax error: {}", source_, e.mark.line + 1, e.msg));
  }
}

void YamlConfigReader::fail(const YAML::Node& at, const std::string& what) const {
  int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 1;
  throw Error(ErrorKind::kInvalidArgument, fmt::format("{}:{}: {}", source_, line, what));
}

void YamlConfigReader::expect_keys(const YAML::Node& map, std::string_view what,
                                   std::initializer_list<std::string_view> allowed) const {
  if (!map.IsMap()) fail(map, fmt::format("'{}' must be a mapping", what));
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  for (const auto& kv : map) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known)
      fail(kv.first, fmt::format("unknown key '{}' in '{}' (expected one of: {})", key, what,
                                 list));
  }
}

std::string YamlConfigReader::string(const YAML::Node& n, std::string_view field) const {
  if (!n.IsScalar()) fail(n, fmt::format("'{}' must be a single value", field));
  return n.Scalar();
}

double YamlConfigReader::number(const YAML::Node& n, std::string_view field) const {
  if (!n.IsScalar()) fail(n, fmt::format("'{}' must be a number", field));
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(n, fmt::format("'{}' must be a number, got '{}'", field, n.Scalar()));
  }
  if (!std::isfinite(v)) fail(n, fmt::format("'{}' must be finite, got '{}'", field, n.Scalar()));
  return v;
}

double YamlConfigReader::positive(const YAML::Node& n, std::string_view field) const {
  double v = number(n, field);
  if (v <= 0) fail(n, fmt::format("'{}' must be positive, got {}", field, n.Scalar()));
  return v;
}

double YamlConfigReader::non_negative(const YAML::Node& n, std::string_view field) const {
  double v = number(n, field);
  if (v < 0) fail(n, fmt::format("'{}' must be zero or more, got {}", field, n.Scalar()));
  return v;
}

int64_t YamlConfigReader::positive_int(const YAML::Node& n, std::string_view field) const {
  double v = positive(n, field);
  if (v != std::floor(v) || v > 9.0e15)
    fail(n, fmt::format("'{}' must be a positive integer, got {}", field, n.Scalar()));
  return static_cast<int64_t>(v);
}

bool YamlConfigReader::boolean(const YAML::Node& n, std::string_view field) const {
  if (!n.IsScalar()) fail(n, fmt::format("'{}' must be true or false", field));
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    fail(n, fmt::format("'{}' must be true or false, got '{}'", field, n.Scalar()));
  }
}

}  // namespace tessera::sim
