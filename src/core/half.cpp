// f16 and bf16 bit conversions, round to nearest even, matching x86 F16C (vcvtps2ph with
// imm 0, vcvtph2ps) bit for bit: NaNs keep their sign and top payload bits and come out
// quiet. tests/core/half_test.cpp checks this against the hardware on millions of inputs.
#include <bit>
#include <cmath>
#include <cstdint>

#include "dtype_internal.h"
#include "tessera/core/dtype.h"

namespace tessera {

uint16_t f32_to_f16_bits(float v) {
  uint32_t x = std::bit_cast<uint32_t>(v);
  auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) {
    if (x == 0x7f800000u) return sign | 0x7c00u;                          // Inf
    return static_cast<uint16_t>(sign | 0x7e00u | ((x >> 13) & 0x3ffu));  // quiet NaN
  }
  // 65520 = 65504 + half an ulp: from here on the nearest-even result is Inf.
  if (x >= 0x477ff000u) return sign | 0x7c00u;
  if (x >= 0x38800000u) {  // >= 2^-14: a normal f16
    uint32_t h = (x >> 13) - ((127u - 15u) << 10);
    uint32_t rest = x & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry may bump the exponent
    return static_cast<uint16_t>(sign | h);
  }
  // Subnormal f16 (units of 2^-24) or zero. x <= 2^-25 rounds to zero (2^-25 is a tie
  // between 0 and 2^-24 and goes to the even 0).
  if (x <= 0x33000000u) return sign;
  uint32_t exponent = x >> 23;  // 102 … 112
  uint32_t mantissa = (x & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126u - exponent;  // value / 2^-24 = mantissa >> shift
  uint32_t h = mantissa >> shift;
  uint32_t rest = mantissa & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float f16_bits_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t x;
  if (exponent == 0x1fu) {
    x = mantissa == 0 ? sign | 0x7f800000u : sign | 0x7fc00000u | (mantissa << 13);
  } else if (exponent != 0) {
    x = sign | ((exponent + 127u - 15u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    x = sign;
  } else {
    // Subnormal: normalize. The value is mantissa * 2^-24, exact in f32.
    int e = std::bit_width(mantissa) - 1;  // 0 … 9: position of the leading one
    uint32_t m = (mantissa << (23 - e)) & 0x7fffffu;
    x = sign | (static_cast<uint32_t>(e - 24 + 127) << 23) | m;
  }
  return std::bit_cast<float>(x);
}

uint16_t f32_to_bf16_bits(float v) {
  uint32_t x = std::bit_cast<uint32_t>(v);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  // Adding 0x7fff plus the result's lowest bit rounds to nearest even; a carry out of the
  // mantissa bumps the exponent, and past the largest finite value gives Inf, as it should.
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

float bf16_bits_to_f32(uint16_t h) {
  uint32_t x = static_cast<uint32_t>(h) << 16;
  if ((x & 0x7fffffffu) > 0x7f800000u) x |= 0x00400000u;  // quiet, as f16 -> f32 does
  return std::bit_cast<float>(x);
}

namespace detail {

float round_to_odd_f32(long double x) {
  float f = static_cast<float>(x);  // nearest even
  if (std::isnan(x) || static_cast<long double>(f) == x) return f;
  // Inexact: step back toward zero if the rounding went away from it (this also brings an
  // overflowed Inf back to the largest finite value), then mark the result inexact.
  if (std::fabs(static_cast<long double>(f)) > std::fabs(x)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

}  // namespace detail
}  // namespace tessera
