// f16 and bf16: exhaustive round trips, hand-computed round-to-nearest-even cases, and
// f32 <-> f16 against the F16C hardware on millions of random and boundary inputs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tessera/core/dtype.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define TESSERA_TEST_F16C 1
#else
#define TESSERA_TEST_F16C 0
#endif

namespace tessera {
namespace {

float from_bits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t to_bits(float f) { return std::bit_cast<uint32_t>(f); }

bool f16_is_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }
bool bf16_is_nan(uint16_t h) { return (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0; }

#if TESSERA_TEST_F16C
bool have_f16c() {
  // CPUID leaf 1, ECX bit 29; AVX (checked by the builtin, OS support included) is its
  // prerequisite. clang 14's __builtin_cpu_supports does not know "f16c".
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__builtin_cpu_supports("avx") || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & (1u << 29)) != 0;
}
__attribute__((target("f16c"))) uint16_t hw_f32_to_f16(float v) {
  return static_cast<uint16_t>(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

TEST(F16, AllPatternsRoundTripThroughF32) {
  for (uint32_t i = 0; i < 65536; ++i) {
    auto h = static_cast<uint16_t>(i);
    float f = f16_bits_to_f32(h);
    uint16_t back = f32_to_f16_bits(f);
    if (f16_is_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << i;
      // NaN stays NaN with its sign and payload, quieted.
      ASSERT_EQ(back, h | 0x200u) << std::hex << i;
    } else {
      ASSERT_EQ(back, h) << std::hex << i;
    }
  }
}

TEST(F16, DecodesHandPickedValues) {
  EXPECT_EQ(f16_bits_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_bits_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_bits_to_f32(0x7bff), 65504.0f);          // largest finite
  EXPECT_EQ(f16_bits_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(f16_bits_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_bits_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(to_bits(f16_bits_to_f32(0x8000)), 0x80000000u);   // -0
  EXPECT_EQ(f16_bits_to_f32(0x7c00), INFINITY);
  EXPECT_EQ(f16_bits_to_f32(0xfc00), -INFINITY);
  // A signaling NaN (quiet bit clear) comes out quiet, payload shifted up by 13.
  EXPECT_EQ(to_bits(f16_bits_to_f32(0x7c01)), 0x7fc02000u);
  EXPECT_EQ(to_bits(f16_bits_to_f32(0xfe00)), 0xffc00000u);
}

TEST(F16, RoundsHandPickedValuesToNearestEven) {
  struct Case {
    uint32_t f32;
    uint16_t f16;
    const char* why;
  };
  const Case cases[] = {
      {0x3f800000u, 0x3c00, "1.0 exact"},
      {0x3f801000u, 0x3c00, "1 + 2^-11: tie between 0x3c00 and 0x3c01, even is 0x3c00"},
      {0x3f803000u, 0x3c02, "1 + 3*2^-11: tie between 0x3c01 and 0x3c02, even is 0x3c02"},
      {0x3f801001u, 0x3c01, "just above the tie rounds up"},
      {0x3f800fffu, 0x3c00, "just below the tie rounds down"},
      {0x477fe000u, 0x7bff, "65504: the largest finite f16"},
      {0x477fefffu, 0x7bff, "65519.99: below 65504 + half ulp (65520)"},
      {0x477ff000u, 0x7c00, "65520: the tie above the largest finite goes to Inf"},
      {0x4f000000u, 0x7c00, "2^31 overflows to Inf"},
      {0xc77ff000u, 0xfc00, "-65520 overflows to -Inf"},
      {0x7f7fffffu, 0x7c00, "FLT_MAX overflows to Inf"},
      {0x38800000u, 0x0400, "2^-14: the smallest normal"},
      {0x387fc000u, 0x03ff, "1023 * 2^-24: the largest subnormal, exact"},
      {0x387fe000u, 0x0400, "1023.5 * 2^-24 is a tie; the even neighbour is 0x400"},
      {0x33800000u, 0x0001, "2^-24: the smallest subnormal"},
      {0x33000000u, 0x0000, "2^-25: tie between 0 and 2^-24, even is 0"},
      {0x33000001u, 0x0001, "just above 2^-25 rounds up to 2^-24"},
      {0x33c00000u, 0x0002, "3 * 2^-25 = 1.5 units: tie between 1 and 2, even is 2"},
      {0x34200000u, 0x0002, "5 * 2^-25 = 2.5 units: tie between 2 and 3, even is 2"},
      {0x00000001u, 0x0000, "the smallest f32 subnormal underflows to +0"},
      {0x80000001u, 0x8000, "... and its negative to -0"},
      {0x80000000u, 0x8000, "-0 keeps its sign"},
      {0x7f800000u, 0x7c00, "+Inf"},
      {0xff800000u, 0xfc00, "-Inf"},
      {0x7fc00000u, 0x7e00, "quiet NaN"},
      {0x7f800001u, 0x7e00, "signaling NaN with a low payload: quieted, payload lost"},
      {0x7fa00000u, 0x7f00, "signaling NaN: top payload bits kept, quieted"},
      {0xff812345u, 0xfe09, "negative NaN keeps its sign and top payload"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(f32_to_f16_bits(from_bits(c.f32)), c.f16) << std::hex << c.f32 << ": " << c.why;
}

// Inputs that stress rounding: every f16 value, the midpoints between neighbours and the
// f32 values one and two ulps either side of them, and random bit patterns of all kinds.
std::vector<float> f16_stress_inputs(size_t num_random) {
  std::vector<float> v;
  for (uint32_t i = 0; i < 0x7c00; ++i) {
    double lo = f16_bits_to_f32(static_cast<uint16_t>(i));
    double hi = f16_bits_to_f32(static_cast<uint16_t>(i + 1));
    auto mid = static_cast<float>((lo + hi) / 2);  // exact: 12 significant bits
    for (int sign : {1, -1}) {
      float m = static_cast<float>(sign) * mid;
      uint32_t b = to_bits(m);
      for (uint32_t d : {0u, 1u, 2u}) {
        v.push_back(from_bits(b + d));
        v.push_back(from_bits(b - d));
      }
      v.push_back(static_cast<float>(sign * lo));
    }
  }
  std::mt19937_64 gen(12345);
  for (size_t i = 0; i < num_random; ++i) {
    auto bits = static_cast<uint32_t>(gen());
    if (i % 2 == 0) {
      // Half of them with exponents near the f16 range, where rounding is interesting.
      uint32_t exponent = 127 - 30 + static_cast<uint32_t>(gen() % 50);
      bits = (bits & 0x807fffffu) | (exponent << 23);
    }
    v.push_back(from_bits(bits));
  }
  return v;
}

TEST(F16, MatchesHardwareOnMillionsOfInputs) {
#if TESSERA_TEST_F16C
  if (!have_f16c()) GTEST_SKIP() << "the CPU has no F16C";
  std::vector<float> inputs = f16_stress_inputs(size_t{3} << 20);
  size_t mismatches = 0;
  for (float f : inputs) {
    uint16_t want = hw_f32_to_f16(f), got = f32_to_f16_bits(f);
    if (want != got && ++mismatches <= 10)
      ADD_FAILURE() << std::hex << "f32 " << to_bits(f) << ": want " << want << " got " << got;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << inputs.size();
  for (uint32_t i = 0; i < 65536; ++i) {
    auto h = static_cast<uint16_t>(i);
    ASSERT_EQ(to_bits(f16_bits_to_f32(h)), to_bits(hw_f16_to_f32(h))) << std::hex << i;
  }
#else
  GTEST_SKIP() << "not an x86-64 build";
#endif
}

TEST(F16, BulkConvertEqualsScalar) {
  std::vector<float> inputs = f16_stress_inputs(1 << 16);
  inputs.resize(inputs.size() - 3);  // not a multiple of the vector width
  std::vector<uint16_t> h(inputs.size());
  convert(inputs.data(), kF32, h.data(), kF16, inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    ASSERT_EQ(h[i], f32_to_f16_bits(inputs[i])) << std::hex << to_bits(inputs[i]);

  std::vector<uint16_t> all(65536 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> f(all.size());
  convert(all.data(), kF16, f.data(), kF32, all.size());
  for (size_t i = 0; i < all.size(); ++i)
    ASSERT_EQ(to_bits(f[i]), to_bits(f16_bits_to_f32(all[i]))) << std::hex << all[i];
}

TEST(F16, WideSourcesRoundOnce) {
  // 1 + 2^-11 + 2^-40: above the tie between 0x3c00 and 0x3c01, so it rounds up. Rounding
  // to f32 first would drop 2^-40, land on the tie and give the even 0x3c00.
  uint16_t h = 0;
  store_f64(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40), &h, kF16);
  EXPECT_EQ(h, 0x3c01);
  // The same from an integer: 2^40 + 2^29 + 1 (= 2^40 * (1 + 2^-11 + 2^-40)).
  store_i64((int64_t{1} << 40) + (int64_t{1} << 29) + 1, &h, kF16);
  EXPECT_EQ(h, 0x7c00) << "2^40 overflows f16";
  store_i64(2049, &h, kF16);  // 2048 + 1: tie between 2048 and 2050, even is 2048
  EXPECT_EQ(f16_bits_to_f32(h), 2048.0f);
  store_i64(2051, &h, kF16);  // tie between 2050 and 2052, even mantissa is 2052
  EXPECT_EQ(f16_bits_to_f32(h), 2052.0f);
}

TEST(BF16, RoundsHandPickedValuesToNearestEven) {
  struct Case {
    uint32_t f32;
    uint16_t bf16;
    const char* why;
  };
  const Case cases[] = {
      {0x3f800000u, 0x3f80, "1.0 exact"},
      {0x3f808000u, 0x3f80, "tie, the lower neighbour 0x3f80 is even"},
      {0x3f818000u, 0x3f82, "tie, the lower neighbour 0x3f81 is odd: up to 0x3f82"},
      {0x3f808001u, 0x3f81, "just above the tie"},
      {0x3f807fffu, 0x3f80, "just below the tie"},
      {0xbf818000u, 0xbf82, "negative tie goes to even magnitude"},
      {0x3f7f8000u, 0x3f80, "tie with carry into the exponent: 0x3f7f odd -> 0x3f80"},
      {0x7f7f7fffu, 0x7f7f, "below the tie under the largest finite bf16"},
      {0x7f7f8000u, 0x7f80, "tie at the top: 0x7f7f is odd, rounds up to Inf"},
      {0x7f7fffffu, 0x7f80, "FLT_MAX rounds to Inf"},
      {0x7f800000u, 0x7f80, "+Inf"},
      {0xff800000u, 0xff80, "-Inf"},
      {0x7fc00000u, 0x7fc0, "quiet NaN"},
      {0x7f800001u, 0x7fc0, "signaling NaN, low payload: quieted (no rounding into Inf)"},
      {0x7f810000u, 0x7fc1, "signaling NaN: payload kept, quiet bit set"},
      {0xffffffffu, 0xffff, "all-ones NaN stays NaN (no carry out)"},
      {0x00008000u, 0x0000, "subnormal tie, even is 0"},
      {0x00018000u, 0x0002, "subnormal tie, odd lower neighbour: up"},
      {0x00000001u, 0x0000, "tiny subnormal to +0"},
      {0x80000000u, 0x8000, "-0"},
      {0x40490fdbu, 0x4049, "pi: 0x0fdb is below the half 0x8000"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(f32_to_bf16_bits(from_bits(c.f32)), c.bf16) << std::hex << c.f32 << ": " << c.why;
  EXPECT_EQ(bf16_bits_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_bits_to_f32(0xc0a0), -5.0f);
  EXPECT_EQ(to_bits(bf16_bits_to_f32(0x7f81)), 0x7fc10000u) << "NaN quieted on the way up";
}

TEST(BF16, AllPatternsRoundTripThroughF32) {
  for (uint32_t i = 0; i < 65536; ++i) {
    auto h = static_cast<uint16_t>(i);
    float f = bf16_bits_to_f32(h);
    if (bf16_is_nan(h)) {
      ASSERT_TRUE(std::isnan(f));
      ASSERT_EQ(f32_to_bf16_bits(f), h | 0x40u) << std::hex << i;
    } else {
      ASSERT_EQ(to_bits(f), i << 16) << std::hex << i;
      ASSERT_EQ(f32_to_bf16_bits(f), h) << std::hex << i;
    }
  }
}

TEST(BF16, BulkConvertEqualsScalar) {
  std::mt19937_64 gen(7);
  std::vector<float> inputs;
  for (uint32_t i = 0; i < 65536; ++i) {
    inputs.push_back(from_bits((i << 16) | 0x8000u));  // every tie
    inputs.push_back(from_bits((i << 16) | 0x7fffu));
    inputs.push_back(from_bits((i << 16) | 0x8001u));
    inputs.push_back(from_bits(static_cast<uint32_t>(gen())));
  }
  inputs.push_back(1.5f);  // odd length
  std::vector<uint16_t> h(inputs.size());
  convert(inputs.data(), kF32, h.data(), kBF16, inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    ASSERT_EQ(h[i], f32_to_bf16_bits(inputs[i])) << std::hex << to_bits(inputs[i]);
  std::vector<float> back(h.size());
  convert(h.data(), kBF16, back.data(), kF32, h.size());
  for (size_t i = 0; i < h.size(); ++i)
    ASSERT_EQ(to_bits(back[i]), to_bits(bf16_bits_to_f32(h[i]))) << std::hex << h[i];
}

TEST(BF16, WideSourcesRoundOnce) {
  // 2^40 * (1 + 2^-8 + 2^-40): just above a tie, so it rounds up to 1 + 2^-7. Through f32
  // (24 bits) the 2^-40 part would vanish and the tie would go to the even 1.0.
  uint16_t h = 0;
  store_i64((int64_t{1} << 40) + (int64_t{1} << 32) + 1, &h, kBF16);
  EXPECT_EQ(bf16_bits_to_f32(h), std::ldexp(1.0f + std::ldexp(1.0f, -7), 40));
  store_f64(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30), &h, kBF16);
  EXPECT_EQ(h, 0x3f81);
}

}  // namespace
}  // namespace tessera
