// hls4ml precision strings <-> core FixedFormat. hls4ml configs (and Vivado/Vitis HLS code)
// name fixed-point types as C++ template ids; this parses them into the exact ap_fixed
// semantics core implements and writes them back.
//
// Accepted (spaces anywhere, mode names with or without the AP_ prefix, any case):
//   ap_fixed<W,I>  ap_fixed<W,I,Q>  ap_fixed<W,I,Q,O>  ap_fixed<W,I,Q,O,0>   ap_ufixed<…>
//   ap_int<W> (= ap_fixed<W,W>)  ap_uint<W>   and hls4ml's aliases fixed<…> ufixed<…> int<W> uint<W>
// Q: AP_TRN AP_TRN_ZERO AP_RND AP_RND_ZERO AP_RND_INF AP_RND_MIN_INF AP_RND_CONV (default AP_TRN)
// O: AP_WRAP AP_SAT AP_SAT_ZERO AP_SAT_SYM (default AP_WRAP). N (saturation bits) must be 0.
//
//   FixedFormat f = parse_precision("ap_fixed<8,3,AP_RND,AP_SAT>");
//   precision_string(f);  // "ap_fixed<8,3,AP_RND,AP_SAT>"
//   PrecisionSpec s = parse_precision_spec("auto<16>");  // chosen from calibration data
#pragma once

#include <string>
#include <string_view>

#include "tessera/core/dtype.h"

namespace tessera::sim {

// Throws Error(kInvalidArgument) quoting the text: an unknown type or mode, W outside 1…64,
// W < I, N != 0.
FixedFormat parse_precision(std::string_view text);
// The shortest ap_fixed/ap_ufixed string naming `f` (modes left out when they are defaults).
std::string precision_string(const FixedFormat& f);
const char* rounding_name(Rounding r);  // "AP_TRN", …
const char* overflow_name(Overflow o);  // "AP_WRAP", …

// A precision as a config gives it: a fixed format, hls4ml's `auto` (inferred from the
// layer's other formats, as hls4ml's precision inference does), or `auto<W>` / `auto<W,Q,O>`
// (profiled: W bits, the integer bits chosen from the calibration data's range).
struct PrecisionSpec {
  enum class Kind { kFixed, kAuto, kProfile };
  Kind kind = Kind::kFixed;
  FixedFormat format;  // kFixed: the format; kProfile: width, signedness and modes
  bool operator==(const PrecisionSpec&) const = default;
};
PrecisionSpec parse_precision_spec(std::string_view text);
std::string precision_spec_string(const PrecisionSpec& s);

}  // namespace tessera::sim
