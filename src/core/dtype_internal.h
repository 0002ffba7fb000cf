// Helpers shared by the dtype translation units (table, half types, fixed point, scalar and
// bulk conversion). Not a public header: everything outside core goes through dtype.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tessera/core/dtype.h"

namespace tessera::detail {

// Limits on the integer-bit count of a fixed-point format. Xilinx allows any int, but the
// exact arithmetic (long double scaling, int64 shift counts) needs a bound, and formats with
// more than 1024 integer or fractional bits beyond the width have no practical use.
inline constexpr int kMaxFixedIntBits = 1024;
inline constexpr int kMinFixedIntBits = -1024;

// Storage bytes of a fixed-point element: the narrowest of 1, 2, 4, 8 holding `width` bits.
size_t fixed_storage_bytes(int width);

// Rounds the exact value (negative ? -1 : 1) * magnitude * 2^shift into `f` (its rounding,
// then its overflow mode) and returns the raw integer, sign- or zero-extended from the
// format's width. Everything fixed point (from floats, ints, other fixed formats) ends here.
int64_t quantize_scaled(bool negative, uint64_t magnitude, int64_t shift, const FixedFormat& f);

// fixed -> fixed on the raw integers, exact.
int64_t requantize_fixed(int64_t raw, const FixedFormat& from, const FixedFormat& to);

// The low `width` bits of `bits`, sign- or zero-extended as format `f` stores them.
int64_t extend(uint64_t bits, const FixedFormat& f);

// The saturated result for +-Inf: max / min (or -max for symmetric saturation), or 0 for
// AP_SAT_ZERO. Wrap mode saturates too: an infinity has no low bits to keep.
int64_t fixed_infinity(bool negative, const FixedFormat& f);

// The integer types behave as fixed-point formats with no fraction bits that truncate
// toward zero and saturate: float -> int and fixed -> int conversions reuse quantize_scaled.
inline constexpr FixedFormat kI8AsFixed{8, 8, true, Rounding::kTruncateZero, Overflow::kSaturate};
inline constexpr FixedFormat kI32AsFixed{32, 32, true, Rounding::kTruncateZero,
                                         Overflow::kSaturate};
inline constexpr FixedFormat kI64AsFixed{64, 64, true, Rounding::kTruncateZero,
                                         Overflow::kSaturate};

// Rounds x to f32 with round-to-odd: truncate toward zero, then set the last mantissa bit if
// anything was dropped. Rounding that result once more to any format with at least two
// fewer significand bits (f16, bf16) equals rounding x directly, so wide values (i64, f64,
// fixed) reach f16/bf16 with a single rounding.
float round_to_odd_f32(long double x);

// Correctly rounded (nearest even) conversions of an exact real value.
inline uint16_t real_to_f16_bits(long double x) { return f32_to_f16_bits(round_to_odd_f32(x)); }
inline uint16_t real_to_bf16_bits(long double x) { return f32_to_bf16_bits(round_to_odd_f32(x)); }

// One element of any type into any other: the exact source value, rounded once. The bulk
// convert() must agree with this element for element.
void convert_element(const void* src, DType src_type, void* dst, DType dst_type);

}  // namespace tessera::detail
