// The Verilog of a fixed-point conversion: requantize_fixed (core/fixed_point.cpp) as a
// Verilog-2005 function. The reference rounds a sign and a magnitude; the hardware works on
// two's complement, so every rounding mode is restated on the floor q = v >> k and the
// dropped bits r (0 <= r < 2^k, half = 2^(k-1)); the value is q + r / 2^k:
//
//   AP_TRN        q                       AP_RND_ZERO     q + (v < 0 ? r >= half : r > half)
//   AP_TRN_ZERO   q + (v < 0 && r != 0)   AP_RND_INF      q + (v < 0 ? r > half : r >= half)
//   AP_RND        q + (r >= half)         AP_RND_MIN_INF  q + (r > half)
//   AP_RND_CONV   q + (r > half || (r == half && q odd))
//
// (for v < 0, rounding the magnitude up is adding nothing to q, and r > half means the
// magnitude's dropped fraction is below one half). The overflow mode then acts on the exact
// rounded value, as the reference does.
#include <algorithm>

#include "tessera/core/error.h"
#include "verilog_internal.h"

namespace tessera::sim::rtl {
namespace {

std::string range(int width) { return fmt::format("[{}:0]", width - 1); }

// `v` (a signed `from`-bit vector expression that is a plain name) sign-extended to `to` bits.
std::string sign_extend(const std::string& v, int from, int to) {
  if (to <= from) return v;
  return fmt::format("{{{{{}{{{}[{}]}}}}, {}}}", to - from, v, from - 1, v);
}

// The rounding increment (a 1-bit expression) for dropping k >= 1 bits; `neg` is the input's
// sign bit, `r` the dropped bits, `q` the floor.
std::string round_increment(Rounding mode, int k, const std::string& neg) {
  const std::string half = fmt::format("r[{}]", k - 1);
  const std::string low = k >= 2 ? fmt::format("(|r[{}:0])", k - 2) : "1'b0";
  const std::string above = fmt::format("({} & {})", half, low);
  switch (mode) {
    case Rounding::kTruncate: return "1'b0";
    case Rounding::kTruncateZero: return fmt::format("{} & (|r)", neg);
    case Rounding::kHalfUp: return half;
    case Rounding::kHalfZero: return fmt::format("{} ? {} : {}", neg, half, above);
    case Rounding::kHalfAway: return fmt::format("{} ? {} : {}", neg, above, half);
    case Rounding::kHalfDown: return above;
    case Rounding::kHalfEven:
      return fmt::format("{} | ({} & ~{} & q[0])", above, half, low);
  }
  return "1'b0";
}

}  // namespace

std::string identifier(std::string_view name) {
  std::string id;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    id += ok ? c : '_';
  }
  if (id.empty() || (id[0] >= '0' && id[0] <= '9')) id = "n" + id;
  return id;
}

std::string constant(int width, __int128 value, bool is_signed) {
  TS_ASSERT(width >= 1);
  const int digits = (width + 3) / 4;
  std::string hex;
  for (int d = digits - 1; d >= 0; --d) {
    unsigned nibble = 0;
    if (4 * d >= 127) {
      nibble = value < 0 ? 0xF : 0;
    } else {
      nibble = static_cast<unsigned>((value >> (4 * d)) & 0xF);
    }
    if (d == digits - 1 && width % 4 != 0) nibble &= (1u << (width % 4)) - 1;
    hex += "0123456789abcdef"[nibble];
  }
  return fmt::format("{}'{}h{}", width, is_signed ? "s" : "", hex);
}

std::string to_signed(const std::string& bits, const FixedFormat& f) {
  return f.is_signed ? bits : fmt::format("{{1'b0, {}}}", bits);
}

std::string requant_function(const std::string& name, int in_width, int in_frac,
                             bool in_nonneg, const FixedFormat& to) {
  const int n = in_width, wt = to.width;
  const int d = to.frac_bits() - in_frac;  // > 0: shift left, < 0: round off -d bits
  std::string decl = fmt::format("    input signed {} v;\n", range(n));
  std::string body;
  int ny = 0;  // the rounded value y: signed, exact
  if (d >= 0) {
    // Shifting further than wt + 1 bits changes nothing the overflow modes can see: any
    // nonzero value overflows either way, and its low wt bits are zero either way.
    const int shift = std::min(d, wt + 1);
    ny = n + shift;
    decl += fmt::format("    reg signed {} y;\n", range(ny));
    body += shift == 0 ? "    y = v;\n" : fmt::format("    y = {{v, {}'b0}};\n", shift);
  } else {
    // Dropping more than n + 1 bits rounds exactly as dropping n + 1: the floor is 0 or -1
    // either way and r lies on the same side of one half (|v| < 2^(n-1) < half).
    const int k = std::min(-d, n + 1);
    const int ne = std::max(n, k + 1), nq = ne - k;
    ny = nq + 1;
    decl += fmt::format("    reg signed {} ve;\n    reg signed {} q;\n    reg {} r;\n",
                        range(ne), range(nq), range(k));
    decl += fmt::format("    reg inc;\n    reg signed {} y;\n", range(ny));
    body += fmt::format("    ve = {};\n", sign_extend("v", n, ne));
    body += fmt::format("    q = ve[{}:{}];\n    r = ve[{}:0];\n", ne - 1, k, k - 1);
    body += fmt::format("    inc = {};\n", round_increment(to.rounding, k, fmt::format("v[{}]", n - 1)));
    body += fmt::format("    y = {{q[{}], q}} + {{{}'b0, inc}};\n", nq - 1, ny - 1);
  }

  // Overflow on the exact rounded value y.
  const __int128 one = 1;
  const __int128 max_v = to.is_signed ? (one << (wt - 1)) - 1 : (one << wt) - 1;
  const __int128 min_v = to.is_signed ? -(one << (wt - 1)) : 0;
  const __int128 y_max = (one << (ny - 1)) - 1, y_min = in_nonneg ? 0 : -(one << (ny - 1));
  const bool sym = to.overflow == Overflow::kSymmetricSaturate && to.is_signed;
  const bool hi_possible = y_max > max_v;
  const bool lo_possible = sym ? y_min <= min_v : y_min < min_v;
  const std::string low_bits =
      ny >= wt ? fmt::format("y[{}:0]", wt - 1) : sign_extend("y", ny, wt);
  if (to.overflow == Overflow::kWrap || (!hi_possible && !lo_possible)) {
    body += fmt::format("    {} = {};\n", name, low_bits);
  } else {
    const int nc = std::max(ny, wt + 1) + 1;
    decl += fmt::format("    reg signed {} yc;\n    reg hi, lo;\n", range(nc));
    body += fmt::format("    yc = {};\n", sign_extend("y", ny, nc));
    body += fmt::format("    hi = {};\n",
                        hi_possible ? fmt::format("yc > {}", constant(nc, max_v, true)) : "1'b0");
    body += fmt::format("    lo = {};\n",
                        !lo_possible ? std::string("1'b0")
                                     : fmt::format("yc {} {}", sym ? "<=" : "<",
                                                   constant(nc, min_v, true)));
    std::string hi_value = constant(wt, max_v, false), lo_value = constant(wt, min_v, false);
    if (to.overflow == Overflow::kSaturateZero) hi_value = lo_value = constant(wt, 0, false);
    if (sym) lo_value = constant(wt, min_v | 1, false);  // ap_fixed writes min | 1 = -max
    body += fmt::format("    if (hi) {} = {};\n    else if (lo) {} = {};\n    else {} = yc[{}:0];\n",
                        name, hi_value, name, lo_value, name, wt - 1);
  }
  return fmt::format("  function {} {};\n{}  begin\n{}  end\n  endfunction\n", range(wt), name,
                     decl, body);
}

}  // namespace tessera::sim::rtl
