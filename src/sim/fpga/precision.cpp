// hls4ml precision strings: a small hand-written parser (the grammar is a C++ template id with
// integer and enumerator arguments) so every error can quote the text and the numbers.
#include "tessera/sim/fpga/precision.h"

#include <fmt/core.h>

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

constexpr std::array<std::pair<const char*, Rounding>, 7> kRoundings = {{
    {"AP_TRN", Rounding::kTruncate},
    {"AP_TRN_ZERO", Rounding::kTruncateZero},
    {"AP_RND", Rounding::kHalfUp},
    {"AP_RND_ZERO", Rounding::kHalfZero},
    {"AP_RND_INF", Rounding::kHalfAway},
    {"AP_RND_MIN_INF", Rounding::kHalfDown},
    {"AP_RND_CONV", Rounding::kHalfEven},
}};
constexpr std::array<std::pair<const char*, Overflow>, 4> kOverflows = {{
    {"AP_WRAP", Overflow::kWrap},
    {"AP_SAT", Overflow::kSaturate},
    {"AP_SAT_ZERO", Overflow::kSaturateZero},
    {"AP_SAT_SYM", Overflow::kSymmetricSaturate},
}};

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument, fmt::format("precision '{}': {}", text, why));
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "name<arg, arg, …>" with spaces removed: the name (lower case) and the arguments.
std::pair<std::string, std::vector<std::string>> split(std::string_view text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  const size_t open = s.find('<');
  if (open == std::string::npos || s.back() != '>' || open == 0)
    bad(text, "expected a type such as ap_fixed<16,6> or ap_fixed<8,3,AP_RND,AP_SAT>");
  std::string name = s.substr(0, open);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> args;
  std::string inner = s.substr(open + 1, s.size() - open - 2);
  size_t start = 0;
  while (true) {
    const size_t comma = inner.find(',', start);
    args.push_back(inner.substr(start, comma == std::string::npos ? std::string::npos
                                                                   : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const std::string& a : args)
    if (a.empty()) bad(text, "an empty template argument");
  return {name, args};
}

int integer(std::string_view text, const std::string& arg, const char* what) {
  int v = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
  if (ec != std::errc() || end != arg.data() + arg.size())
    bad(text, fmt::format("{} must be an integer, got '{}'", what, arg));
  return v;
}

Rounding rounding(std::string_view text, const std::string& arg) {
  std::string u = upper(arg);
  if (u.rfind("AP_", 0) != 0) u = "AP_" + u;
  for (const auto& [name, r] : kRoundings)
    if (u == name) return r;
  bad(text, fmt::format("unknown quantization mode '{}' (expected AP_TRN, AP_TRN_ZERO, AP_RND, "
                        "AP_RND_ZERO, AP_RND_INF, AP_RND_MIN_INF or AP_RND_CONV)",
                        arg));
}

Overflow overflow(std::string_view text, const std::string& arg) {
  std::string u = upper(arg);
  if (u.rfind("AP_", 0) != 0) u = "AP_" + u;
  for (const auto& [name, o] : kOverflows)
    if (u == name) return o;
  bad(text, fmt::format("unknown overflow mode '{}' (expected AP_WRAP, AP_SAT, AP_SAT_ZERO or "
                        "AP_SAT_SYM)",
                        arg));
}

void check_width(std::string_view text, int width) {
  if (width < 1 || width > 64)
    bad(text, fmt::format("width W = {} is outside 1…64 (64-bit values are the widest computed "
                          "exactly)",
                          width));
}

}  // namespace

const char* rounding_name(Rounding r) { return kRoundings[static_cast<size_t>(r)].first; }
const char* overflow_name(Overflow o) { return kOverflows[static_cast<size_t>(o)].first; }

FixedFormat parse_precision(std::string_view text) {
  auto [name, args] = split(text);
  FixedFormat f;
  const bool is_int = name == "ap_int" || name == "ap_uint" || name == "int" || name == "uint";
  const bool is_fixed =
      name == "ap_fixed" || name == "ap_ufixed" || name == "fixed" || name == "ufixed";
  if (!is_int && !is_fixed)
    bad(text, fmt::format("unknown type '{}' (expected ap_fixed, ap_ufixed, ap_int, ap_uint or "
                          "hls4ml's fixed, ufixed, int, uint)",
                          name));
  f.is_signed = name[0] != 'u' && name.rfind("ap_u", 0) != 0;
  if (is_int) {
    if (args.size() != 1) bad(text, fmt::format("{}<W> takes one argument, got {}", name, args.size()));
    f.width = integer(text, args[0], "the width W");
    check_width(text, f.width);
    f.int_bits = f.width;
    return f;
  }
  if (args.size() < 2 || args.size() > 5)
    bad(text, fmt::format("{}<W,I[,Q[,O[,N]]]> takes 2 to 5 arguments, got {}", name, args.size()));
  f.width = integer(text, args[0], "the width W");
  f.int_bits = integer(text, args[1], "the integer bits I");
  check_width(text, f.width);
  if (f.width < f.int_bits)
    bad(text, fmt::format("W = {} is less than I = {}: the width must hold the integer bits",
                          f.width, f.int_bits));
  if (f.int_bits < -1024)
    bad(text, fmt::format("I = {} is below -1024", f.int_bits));
  if (args.size() >= 3) f.rounding = rounding(text, args[2]);
  if (args.size() >= 4) f.overflow = overflow(text, args[3]);
  if (args.size() == 5) {
    const int n = integer(text, args[4], "the saturation bits N");
    if (n != 0)
      bad(text, fmt::format("N = {} saturation bits are not supported (only N = 0)", n));
  }
  return f;
}

std::string precision_string(const FixedFormat& f) {
  std::string s = fmt::format("{}<{},{}", f.is_signed ? "ap_fixed" : "ap_ufixed", f.width,
                              f.int_bits);
  if (f.rounding != Rounding::kTruncate || f.overflow != Overflow::kWrap)
    s += fmt::format(",{}", rounding_name(f.rounding));
  if (f.overflow != Overflow::kWrap) s += fmt::format(",{}", overflow_name(f.overflow));
  return s + ">";
}

PrecisionSpec parse_precision_spec(std::string_view text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += static_cast<char>(std::tolower(c));
  if (s == "auto") return {.kind = PrecisionSpec::Kind::kAuto};
  if (s.rfind("auto<", 0) == 0) {
    auto [name, args] = split(text);
    if (args.size() != 1 && args.size() != 3)
      bad(text, fmt::format("auto<W> or auto<W,Q,O> takes 1 or 3 arguments, got {}", args.size()));
    PrecisionSpec p{.kind = PrecisionSpec::Kind::kProfile};
    p.format.width = integer(text, args[0], "the width W");
    check_width(text, p.format.width);
    if (args.size() == 3) {
      p.format.rounding = rounding(text, args[1]);
      p.format.overflow = overflow(text, args[2]);
    }
    return p;
  }
  return {.kind = PrecisionSpec::Kind::kFixed, .format = parse_precision(text)};
}

std::string precision_spec_string(const PrecisionSpec& s) {
  switch (s.kind) {
    case PrecisionSpec::Kind::kFixed: return precision_string(s.format);
    case PrecisionSpec::Kind::kAuto: return "auto";
    case PrecisionSpec::Kind::kProfile:
      if (s.format.rounding == Rounding::kTruncate && s.format.overflow == Overflow::kWrap)
        return fmt::format("auto<{}>", s.format.width);
      return fmt::format("auto<{},{},{}>", s.format.width, rounding_name(s.format.rounding),
                         overflow_name(s.format.overflow));
  }
  return "?";
}

}  // namespace tessera::sim
