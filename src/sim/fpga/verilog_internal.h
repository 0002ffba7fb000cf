// Internal: the pieces of the Verilog generator (verilog_requant.cpp, verilog_layers.cpp,
// verilog_top.cpp). Everything here works on raw integers as the reference
// (FixedNetwork::run) does; the generated RTL carries every value as a signed vector, an
// unsigned format being zero-extended by one bit first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim::rtl {

// A Verilog identifier from any name: [A-Za-z0-9_], never starting with a digit.
std::string identifier(std::string_view name);

// A sized constant `width'h…` holding `value`'s two's-complement bits (`is_signed` adds the
// `s` so that comparisons stay signed). width may exceed 128: the pattern is sign-extended.
std::string constant(int width, __int128 value, bool is_signed);

// The hex digits (most significant first, no prefix) of a bus of `values.size()` fields of
// `width` bits each, field 0 in the least significant bits (each value's low bits).
std::string bus_hex(const std::vector<int64_t>& values, int width);
// Testbench files carry buses in words of this many bits (an $fscanf/$fwrite argument may
// not exceed 8192 bits in Verilator).
inline constexpr int64_t kTestbenchChunkBits = 4096;

// The width of a format's raw value as a signed vector: W (signed) or W + 1 (unsigned).
inline int signed_width(const FixedFormat& f) { return f.is_signed ? f.width : f.width + 1; }

// Verilog expression extending the W-bit bus `bits` of format `f` into a signed
// signed_width(f)-bit value (a concatenation, so Verilog's sign rules cannot bite).
std::string to_signed(const std::string& bits, const FixedFormat& f);

// A Verilog-2005 function `name` that converts a signed `in_width`-bit value with
// `in_frac` fractional bits into format `to` (its W-bit raw pattern), with `to`'s rounding
// and overflow modes — exactly requantize_fixed. `in_nonneg`: the value is known to be
// >= 0 (it came from an unsigned format), which drops impossible overflow checks.
std::string requant_function(const std::string& name, int in_width, int in_frac,
                             bool in_nonneg, const FixedFormat& to);

// One pipeline stage's timing under the hardware contract (docs/simulators/fpga.md).
struct StageTiming {
  int64_t latency = 0;  // cycles from valid_in to valid_out
  int64_t ii = 1;       // cycles between accepted inputs
};
// Checks that `l` can be generated (kind, reuse factor, formats) and returns its timing;
// Error naming the layer otherwise.
StageTiming stage_timing(const FixedLayer& l);

// The module of one layer: `module <module_name>(clk, rst, valid_in, in_data, valid_out,
// out_data)`, with a header comment.
std::string layer_module(const FixedLayer& l, const std::string& module_name);

}  // namespace tessera::sim::rtl
