// Small text helpers the SCALE-Sim readers share: lines, fields, trimming, integers, and reading
// a whole file with an error that names it. Private to src/sim/tpu.
//
//   for (std::string_view line : scalesim_text::split_lines(text)) ...
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/error.h"

namespace tessera::sim::scalesim_text {

// Splits on '\n', dropping a '\r' before it (files written on Windows).
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      fields.push_back(text.substr(start));
      return fields;
    }
    fields.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A whole decimal integer (optional sign), nothing else.
inline std::optional<int64_t> to_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::string read_text_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "{} '{}' cannot be opened", what, path);
  std::ostringstream ss;
  ss << in.rdbuf();
  TS_CHECK(!in.bad(), ErrorKind::kIo, "{} '{}': read error", what, path);
  return ss.str();
}

}  // namespace tessera::sim::scalesim_text
