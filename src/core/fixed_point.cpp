// Fixed point with the exact semantics of Xilinx ap_fixed<W,I,Q,O> / ap_ufixed (N = 0):
// the value is quantized with the rounding mode Q first, then the overflow mode O handles a
// result outside the format's range. Everything is integer arithmetic on a sign and a
// magnitude, so every format of width 1…64 is exact; long double only carries values in
// and out, and its 64-bit mantissa holds any raw integer.
#include <cmath>
#include <cstring>

#include "dtype_internal.h"
#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

namespace tessera {
namespace detail {
namespace {

using u128 = unsigned __int128;

// Where the dropped fraction lies relative to one half.
enum class Fraction { kZero, kBelowHalf, kHalf, kAboveHalf };

// Whether rounding adds one to the truncated magnitude. Modes are defined on the signed
// value, so "toward +inf" rounds the magnitude up only for positive values, etc.
bool rounds_up(Rounding r, bool negative, Fraction frac, uint64_t truncated) {
  if (frac == Fraction::kZero) return false;
  bool above = frac == Fraction::kAboveHalf;
  bool at_least_half = above || frac == Fraction::kHalf;
  switch (r) {
    case Rounding::kTruncate:
      return negative;  // floor: -2.25 -> -3
    case Rounding::kTruncateZero:
      return false;
    case Rounding::kHalfUp:
      return negative ? above : at_least_half;
    case Rounding::kHalfZero:
      return above;
    case Rounding::kHalfAway:
      return at_least_half;
    case Rounding::kHalfDown:
      return negative ? at_least_half : above;
    case Rounding::kHalfEven:
      return above || (frac == Fraction::kHalf && (truncated & 1u) != 0);
  }
  return false;
}

}  // namespace

// The low `width` bits of `bits`, sign- or zero-extended as the format stores them.
int64_t extend(uint64_t bits, const FixedFormat& f) {
  if (f.width >= 64) return static_cast<int64_t>(bits);
  uint64_t mask = (uint64_t{1} << f.width) - 1;
  bits &= mask;
  if (f.is_signed && ((bits >> (f.width - 1)) & 1u)) bits |= ~mask;
  return static_cast<int64_t>(bits);
}

namespace {

int64_t raw_max(const FixedFormat& f) {
  int value_bits = f.is_signed ? f.width - 1 : f.width;
  return extend(value_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << value_bits) - 1, f);
}

int64_t raw_min(const FixedFormat& f) {
  return f.is_signed ? extend(uint64_t{1} << (f.width - 1), f) : 0;
}

}  // namespace

int64_t fixed_infinity(bool negative, const FixedFormat& f) {
  if (f.overflow == Overflow::kSaturateZero) return 0;
  if (!negative) return raw_max(f);
  // ap_fixed's AP_SAT_SYM writes min | 1 (= -max for W >= 2) on negative overflow.
  if (f.overflow == Overflow::kSymmetricSaturate && f.is_signed) return raw_min(f) | 1;
  return raw_min(f);
}

int64_t quantize_scaled(bool negative, uint64_t magnitude, int64_t shift, const FixedFormat& f) {
  if (magnitude == 0) return 0;
  // The rounded magnitude. `huge` marks magnitudes of 2^64 or more that do not fit `mag`;
  // their low 64 bits (all wrap mode keeps) are zero.
  u128 mag = 0;
  bool huge = false;
  if (shift >= 64) {
    huge = true;
  } else if (shift >= 0) {
    mag = static_cast<u128>(magnitude) << shift;
  } else {
    uint64_t truncated = 0;
    Fraction frac;
    if (shift <= -65) {
      frac = Fraction::kBelowHalf;  // magnitude < 2^64 <= 2^(-shift-1)
    } else {
      auto k = static_cast<int>(-shift);  // 1 … 64
      u128 m = magnitude;
      truncated = static_cast<uint64_t>(m >> k);
      u128 rest = m & ((u128{1} << k) - 1);
      u128 half = u128{1} << (k - 1);
      frac = rest == 0      ? Fraction::kZero
             : rest < half  ? Fraction::kBelowHalf
             : rest == half ? Fraction::kHalf
                            : Fraction::kAboveHalf;
    }
    mag = static_cast<u128>(truncated) + (rounds_up(f.rounding, negative, frac, truncated) ? 1 : 0);
    if (mag == 0) return 0;
  }

  // Range check on the exact rounded value.
  int value_bits = f.is_signed ? f.width - 1 : f.width;
  u128 max_mag = (u128{1} << value_bits) - 1;
  u128 min_mag = f.is_signed ? u128{1} << (f.width - 1) : 0;  // |most negative value|
  bool overflow = !negative && (huge || mag > max_mag);
  bool underflow = negative && (huge || mag > min_mag);
  // AP_SAT_SYM excludes the most negative value itself: ap_fixed treats it as underflow.
  if (f.overflow == Overflow::kSymmetricSaturate && f.is_signed && negative && mag == min_mag)
    underflow = true;
  auto low_bits = static_cast<uint64_t>(mag);  // huge: 0
  if (!overflow && !underflow) return extend(negative ? 0 - low_bits : low_bits, f);

  switch (f.overflow) {
    case Overflow::kWrap:
      return extend(negative ? 0 - low_bits : low_bits, f);
    case Overflow::kSaturate:
    case Overflow::kSaturateZero:
    case Overflow::kSymmetricSaturate:
      return fixed_infinity(negative, f);
  }
  return 0;
}

int64_t requantize_fixed(int64_t raw, const FixedFormat& from, const FixedFormat& to) {
  bool negative = from.is_signed && raw < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(raw) : static_cast<uint64_t>(raw);
  int64_t shift = static_cast<int64_t>(to.frac_bits()) - from.frac_bits();
  return quantize_scaled(negative, magnitude, shift, to);
}

}  // namespace detail

int64_t requantize_fixed(int64_t raw, const FixedFormat& from, const FixedFormat& to) {
  return detail::requantize_fixed(raw, from, to);
}

int64_t quantize_fixed(long double v, const FixedFormat& f) {
  if (std::isnan(v)) return 0;
  if (std::isinf(v)) return detail::fixed_infinity(v < 0, f);
  if (v == 0) return 0;
  int exponent = 0;
  long double mantissa = std::frexp(std::fabs(v), &exponent);  // [0.5, 1)
  // |v| = m * 2^(exponent - 64) with a 64-bit integer m: exact for the x87 long double.
  auto m = static_cast<uint64_t>(std::ldexp(mantissa, 64));
  int64_t shift = static_cast<int64_t>(exponent) - 64 + f.frac_bits();
  return detail::quantize_scaled(v < 0, m, shift, f);
}

long double fixed_to_real(int64_t raw, const FixedFormat& f) {
  long double r = f.is_signed ? static_cast<long double>(raw)
                              : static_cast<long double>(static_cast<uint64_t>(raw));
  return std::ldexp(r, -f.frac_bits());
}

int64_t load_fixed_raw(const void* p, const FixedFormat& f) {
  // Extending from the width (rather than trusting the upper storage bits) makes any
  // stored bit pattern read as a valid value.
  uint64_t bits = 0;
  switch (detail::fixed_storage_bytes(f.width)) {
    case 1: {
      uint8_t v;
      std::memcpy(&v, p, 1);
      bits = v;
      break;
    }
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      bits = v;
      break;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      bits = v;
      break;
    }
    default:
      std::memcpy(&bits, p, 8);
      break;
  }
  return detail::extend(bits, f);
}

void store_fixed_raw(int64_t raw, void* p, const FixedFormat& f) {
  auto bits = static_cast<uint64_t>(detail::extend(static_cast<uint64_t>(raw), f));
  switch (detail::fixed_storage_bytes(f.width)) {
    case 1: {
      auto v = static_cast<uint8_t>(bits);
      std::memcpy(p, &v, 1);
      break;
    }
    case 2: {
      auto v = static_cast<uint16_t>(bits);
      std::memcpy(p, &v, 2);
      break;
    }
    case 4: {
      auto v = static_cast<uint32_t>(bits);
      std::memcpy(p, &v, 4);
      break;
    }
    default:
      std::memcpy(p, &bits, 8);
      break;
  }
}

}  // namespace tessera
