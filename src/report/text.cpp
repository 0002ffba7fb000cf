#include "text.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace tessera::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

struct Prefix {
  double scale;
  const char* symbol;
};

// From pico to peta: the range the report's figures span (ps-scale cycles to PB/s).
constexpr std::array<Prefix, 11> kPrefixes{{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"},
                                            {1e3, "k"}, {1.0, ""}, {1e-3, "m"},
                                            {1e-6, "\u00b5"}, {1e-9, "n"}, {1e-12, "p"},
                                            {1e-15, "f"}}};

// Three significant digits of a mantissa in [1, 1000).
std::string three_digits(double mantissa) {
  if (mantissa >= 99.95) return fmt::format("{:.0f}", mantissa);
  if (mantissa >= 9.995) return fmt::format("{:.1f}", mantissa);
  return fmt::format("{:.2f}", mantissa);
}

std::string trim_zeros(std::string digits) {
  if (digits.find('.') == std::string::npos) return digits;
  while (digits.back() == '0') digits.pop_back();
  if (digits.back() == '.') digits.pop_back();
  return digits;
}

std::string with_prefix(double value, std::string_view unit, bool space, bool trim = false) {
  if (!std::isfinite(value)) return std::string(kMissing);
  if (value == 0.0) return fmt::format("0{}{}", space && !unit.empty() ? " " : "", unit);
  const double magnitude = std::fabs(value);
  const Prefix* chosen = &kPrefixes.back();
  for (const Prefix& p : kPrefixes) {
    // 999.96 would print as "1000" under this prefix: take the next one up instead.
    if (magnitude >= p.scale * 0.99995) {
      chosen = &p;
      break;
    }
  }
  std::string digits = three_digits(magnitude / chosen->scale);
  if (trim) digits = trim_zeros(digits);
  const std::string suffix = std::string(chosen->symbol) + std::string(unit);
  return fmt::format("{}{}{}{}", value < 0 ? "-" : "", digits,
                     space && !suffix.empty() ? " " : "", suffix);
}

}  // namespace

std::string format_si(double value, std::string_view unit) { return with_prefix(value, unit, true); }

std::string format_tick(double value, std::string_view unit) {
  return with_prefix(value, unit, true, true);
}

std::string format_count(double value) {
  if (!std::isfinite(value)) return std::string(kMissing);
  if (std::fabs(value) < 1000.0 && value == std::floor(value)) return fmt::format("{:.0f}", value);
  return with_prefix(value, "", false);
}

std::string format_percent(double fraction, int digits) {
  if (!std::isfinite(fraction)) return std::string(kMissing);
  return fmt::format("{:.{}f} %", fraction * 100.0, digits);
}

}  // namespace tessera::report
