// Fixed point against an independent exact reference written here with floor division on
// 128-bit integers (the implementation works on a sign and a magnitude instead), over
// exhaustive small formats and random wide ones, from fixed, integer and float sources.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tessera/core/dtype.h"

namespace tessera {
namespace {

using i128 = __int128;

i128 floor_div_pow2(i128 a, int k) {  // floor(a / 2^k), k < 127
  i128 d = i128{1} << k;
  i128 q = a / d;
  if (a % d != 0 && a < 0) --q;
  return q;
}

// The raw value that a * 2^shift takes in format f: round by the mode, then handle
// overflow. Requires |a| < 2^50 and shift <= 70 so that everything fits in 128 bits.
int64_t reference(i128 a, int shift, const FixedFormat& f) {
  i128 r = 0;
  if (shift >= 0) {
    r = a * (i128{1} << shift);
  } else {
    int k = -shift;
    if (k > 120) {  // |a| < 2^50: the fraction is nonzero and below one half
      r = a < 0 ? -1 : 0;
      switch (f.rounding) {
        case Rounding::kTruncate: break;
        default: r = 0; break;  // every other mode goes to 0: toward zero or to nearest
      }
    } else {
      i128 fl = floor_div_pow2(a, k);
      i128 rem2 = 2 * (a - fl * (i128{1} << k));  // twice the fraction, in units of 2^-k
      i128 one = i128{1} << k;                     // 2 * (1/2)
      bool exact = rem2 == 0, above = rem2 > one, tie = rem2 == one;
      bool neg = a < 0;
      switch (f.rounding) {
        case Rounding::kTruncate: r = fl; break;
        case Rounding::kTruncateZero: r = (neg && !exact) ? fl + 1 : fl; break;
        case Rounding::kHalfUp: r = (above || tie) ? fl + 1 : fl; break;
        case Rounding::kHalfZero: r = (above || (tie && neg)) ? fl + 1 : fl; break;
        case Rounding::kHalfAway: r = (above || (tie && !neg)) ? fl + 1 : fl; break;
        case Rounding::kHalfDown: r = above ? fl + 1 : fl; break;
        case Rounding::kHalfEven: r = (above || (tie && (fl & 1) != 0)) ? fl + 1 : fl; break;
      }
    }
  }
  i128 lo = f.is_signed ? -(i128{1} << (f.width - 1)) : 0;
  i128 hi = f.is_signed ? (i128{1} << (f.width - 1)) - 1 : (i128{1} << f.width) - 1;
  bool sym = f.overflow == Overflow::kSymmetricSaturate && f.is_signed;
  // ap_fixed's AP_SAT_SYM writes min | 1 for negative results at or below min: -max for
  // W >= 2, and min itself for W = 1 (where -max would be 0).
  i128 sym_lo = f.width >= 2 ? -hi : lo;
  if (r >= lo && r <= hi && !(sym && r == lo)) return static_cast<int64_t>(r);
  switch (f.overflow) {
    case Overflow::kWrap: {
      i128 m = i128{1} << f.width;
      i128 w = r % m;
      if (w < 0) w += m;
      if (w > hi) w -= m;
      return static_cast<int64_t>(w);
    }
    case Overflow::kSaturate: return static_cast<int64_t>(r < lo ? lo : hi);
    case Overflow::kSaturateZero: return 0;
    case Overflow::kSymmetricSaturate:
      if (!f.is_signed) return static_cast<int64_t>(r < lo ? lo : hi);
      return static_cast<int64_t>(r < 0 ? sym_lo : hi);
  }
  return 0;
}

FixedFormat format(int w, int i, bool s, int q, int o) {
  return FixedFormat{w, i, s, static_cast<Rounding>(q), static_cast<Overflow>(o)};
}

// Every 8-bit raw of a few source formats into many small target formats, all modes.
TEST(FixedProperty, ExhaustiveSmallFormats) {
  int64_t checked = 0;
  for (bool src_signed : {true, false}) {
    for (int src_int : {-2, 3, 8, 11}) {
      FixedFormat src{8, src_int, src_signed};
      for (int w = 1; w <= 10; ++w) {
        for (int i = -3; i <= 12; i += 3) {
          for (bool s : {true, false}) {
            for (int q = 0; q < kRoundingCount; ++q) {
              for (int o = 0; o < kOverflowCount; ++o) {
                FixedFormat dst = format(w, i, s, q, o);
                DType dt = DType::fixed(dst);
                for (int v = 0; v < 256; ++v) {
                  auto byte = static_cast<uint8_t>(v);
                  int64_t a = load_fixed_raw(&byte, src);
                  int64_t want = reference(a, dst.frac_bits() - src.frac_bits(), dst);
                  uint64_t out = 0;
                  convert(&byte, DType::fixed(src), &out, dt, 1);
                  int64_t got = load_fixed_raw(&out, dst);
                  ASSERT_EQ(got, want) << DType::fixed(src).name() << " raw " << a << " -> "
                                       << dt.name();
                  // Through a real value too: the long double path must agree.
                  ASSERT_EQ(quantize_fixed(fixed_to_real(a, src), dst), want);
                  ++checked;
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000000);
}

// Random wide formats (up to 64 bits) and random raw values up to 50 bits.
TEST(FixedProperty, RandomWideFormats) {
  std::mt19937_64 gen(2024);
  for (int iter = 0; iter < 400000; ++iter) {
    int src_w = 1 + static_cast<int>(gen() % 50);
    bool src_s = gen() % 2;
    int src_i = static_cast<int>(gen() % 100) - 30;
    FixedFormat src{src_w, src_i, src_s};
    int w = 1 + static_cast<int>(gen() % 64);
    int i = static_cast<int>(gen() % 120) - 40;
    FixedFormat dst = format(w, i, gen() % 2, static_cast<int>(gen() % kRoundingCount),
                             static_cast<int>(gen() % kOverflowCount));
    int shift = dst.frac_bits() - src.frac_bits();
    if (shift > 70) continue;
    uint64_t bits = gen();
    auto store_bits = static_cast<uint64_t>(bits);
    int64_t a = load_fixed_raw(&store_bits, src);  // a valid raw of src
    int64_t want = reference(a, shift, dst);
    int64_t got = 0;
    convert(&store_bits, DType::fixed(src), &got, DType::fixed(dst), 1);
    ASSERT_EQ(load_fixed_raw(&got, dst), want)
        << DType::fixed(src).name() << " raw " << a << " -> " << DType::fixed(dst).name();
    ASSERT_EQ(quantize_fixed(fixed_to_real(a, src), dst), want);
  }
}

// f32 sources: a float is m * 2^(e - 23) with a 24-bit integer m.
TEST(FixedProperty, RandomFloats) {
  std::mt19937_64 gen(99);
  for (int iter = 0; iter < 400000; ++iter) {
    uint32_t exponent = 127 - 40 + static_cast<uint32_t>(gen() % 80);  // 2^-40 … 2^39
    uint32_t bits = (static_cast<uint32_t>(gen()) & 0x807fffffu) | (exponent << 23);
    float v = std::bit_cast<float>(bits);
    i128 m = (bits & 0x7fffffu) | 0x800000u;
    if (bits >> 31) m = -m;
    int e = static_cast<int>(exponent) - 127 - 23;
    int w = 1 + static_cast<int>(gen() % 64);
    int i = static_cast<int>(gen() % 100) - 30;
    FixedFormat dst = format(w, i, gen() % 2, static_cast<int>(gen() % kRoundingCount),
                             static_cast<int>(gen() % kOverflowCount));
    int shift = e + dst.frac_bits();
    if (shift > 70) continue;
    int64_t want = reference(m, shift, dst);
    uint64_t out = 0;
    store_f32(v, &out, DType::fixed(dst));
    ASSERT_EQ(load_fixed_raw(&out, dst), want) << v << " -> " << DType::fixed(dst).name();
    float arr[3] = {v, v, v};
    // Bulk convert of a float array: fixed results are stored at dst.size() strides.
    std::vector<unsigned char> buf(3 * DType::fixed(dst).size());
    convert(arr, kF32, buf.data(), DType::fixed(dst), 3);
    ASSERT_EQ(load_fixed_raw(buf.data() + 2 * DType::fixed(dst).size(), dst), want);
  }
}

// Integer sources: i64 v is v * 2^0.
TEST(FixedProperty, RandomIntegers) {
  std::mt19937_64 gen(5);
  for (int iter = 0; iter < 200000; ++iter) {
    auto v = static_cast<int64_t>(gen()) >> (14 + gen() % 50);  // |v| < 2^50
    int w = 1 + static_cast<int>(gen() % 64);
    int i = static_cast<int>(gen() % 100) - 20;
    FixedFormat dst = format(w, i, gen() % 2, static_cast<int>(gen() % kRoundingCount),
                             static_cast<int>(gen() % kOverflowCount));
    if (dst.frac_bits() > 70) continue;
    uint64_t out = 0;
    store_i64(v, &out, DType::fixed(dst));
    ASSERT_EQ(load_fixed_raw(&out, dst), reference(v, dst.frac_bits(), dst))
        << v << " -> " << DType::fixed(dst).name();
  }
}

}  // namespace
}  // namespace tessera
