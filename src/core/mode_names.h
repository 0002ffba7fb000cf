// The spellings of fixed-point rounding and overflow modes: ours (name() and parse()) and
// the Xilinx ones (parse() only).
#pragma once

#include <array>
#include <string_view>

#include "tessera/core/dtype.h"

namespace tessera::detail {

struct RoundingName {
  Rounding mode;
  std::string_view name;
  std::string_view xilinx;
};
inline constexpr std::array<RoundingName, kRoundingCount> kRoundingNames{{
    {Rounding::kTruncate, "trn", "AP_TRN"},
    {Rounding::kTruncateZero, "trn_zero", "AP_TRN_ZERO"},
    {Rounding::kHalfUp, "rnd", "AP_RND"},
    {Rounding::kHalfZero, "rnd_zero", "AP_RND_ZERO"},
    {Rounding::kHalfAway, "rnd_inf", "AP_RND_INF"},
    {Rounding::kHalfDown, "rnd_min_inf", "AP_RND_MIN_INF"},
    {Rounding::kHalfEven, "rnd_conv", "AP_RND_CONV"},
}};

struct OverflowName {
  Overflow mode;
  std::string_view name;
  std::string_view xilinx;
};
inline constexpr std::array<OverflowName, kOverflowCount> kOverflowNames{{
    {Overflow::kWrap, "wrap", "AP_WRAP"},
    {Overflow::kSaturate, "sat", "AP_SAT"},
    {Overflow::kSaturateZero, "sat_zero", "AP_SAT_ZERO"},
    {Overflow::kSymmetricSaturate, "sat_sym", "AP_SAT_SYM"},
}};

inline std::string_view rounding_name(Rounding r) {
  for (const auto& row : kRoundingNames)
    if (row.mode == r) return row.name;
  return "?";
}
inline std::string_view overflow_name(Overflow o) {
  for (const auto& row : kOverflowNames)
    if (row.mode == o) return row.name;
  return "?";
}

}  // namespace tessera::detail
