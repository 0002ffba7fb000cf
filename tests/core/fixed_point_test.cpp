// Fixed point, hand-computed: every rounding mode and every overflow mode, signed and
// unsigned, widths 1, 8, 16, 32 and 64. Each expected raw value carries its derivation:
// x is the input times 2^F (F = W - I fraction bits), then the rounding mode picks an
// integer, then the overflow mode maps it into the format's range.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

// The raw integer `v` quantizes to in the format named `type`. Also checks that the store
// path (store_f64 -> load_fixed_raw) agrees with quantize_fixed.
int64_t q(const char* type, long double v) {
  DType t = DType::parse(type);
  int64_t raw = quantize_fixed(v, t.fixed_format());
  if (static_cast<long double>(static_cast<double>(v)) == v || std::isnan(v)) {
    unsigned char buf[8] = {};
    store_f64(static_cast<double>(v), buf, t);
    EXPECT_EQ(load_fixed_raw(buf, t.fixed_format()), raw) << type << " " << static_cast<double>(v);
  }
  return raw;
}

// fixed<8,4>: F = 4, so x = 16 v. Inputs chosen so that x is 2.5, 3.5 (ties with an even
// and an odd floor), 2.25, 2.75 and their negatives.
TEST(FixedRounding, EveryModeOnTiesAndNonTies) {
  // Columns: x = 2.5, 3.5, 2.25, 2.75, -2.5, -3.5, -2.25, -2.75.
  const double inputs[] = {2.5 / 16, 3.5 / 16, 2.25 / 16, 2.75 / 16,
                           -2.5 / 16, -3.5 / 16, -2.25 / 16, -2.75 / 16};
  struct Row {
    const char* type;
    int64_t want[8];
    const char* why;
  };
  const Row rows[] = {
      {"fixed<8,4>", {2, 3, 2, 2, -3, -4, -3, -3}, "trn = floor(x)"},
      {"fixed<8,4,trn_zero,wrap>", {2, 3, 2, 2, -2, -3, -2, -2}, "trn_zero = trunc(x)"},
      {"fixed<8,4,rnd,wrap>", {3, 4, 2, 3, -2, -3, -2, -3}, "rnd = floor(x + 1/2): ties up"},
      {"fixed<8,4,rnd_zero,wrap>", {2, 3, 2, 3, -2, -3, -2, -3}, "nearest, ties toward 0"},
      {"fixed<8,4,rnd_inf,wrap>", {3, 4, 2, 3, -3, -4, -2, -3}, "nearest, ties away from 0"},
      {"fixed<8,4,rnd_min_inf,wrap>", {2, 3, 2, 3, -3, -4, -2, -3}, "ceil(x - 1/2): ties down"},
      {"fixed<8,4,rnd_conv,wrap>", {2, 4, 2, 3, -2, -4, -2, -3}, "nearest, ties to even"},
  };
  for (const Row& r : rows)
    for (int i = 0; i < 8; ++i)
      EXPECT_EQ(q(r.type, inputs[i]), r.want[i]) << r.type << " x=" << inputs[i] * 16 << ": "
                                                  << r.why;
}

TEST(FixedRounding, UnsignedModes) {
  // ufixed<8,4>: F = 4, x = 16 v. x = 2.5: trn 2, rnd 3, rnd_zero 2, rnd_conv 2.
  EXPECT_EQ(q("ufixed<8,4>", 2.5 / 16), 2);
  EXPECT_EQ(q("ufixed<8,4,rnd,wrap>", 2.5 / 16), 3);
  EXPECT_EQ(q("ufixed<8,4,rnd_zero,wrap>", 2.5 / 16), 2);
  EXPECT_EQ(q("ufixed<8,4,rnd_conv,wrap>", 2.5 / 16), 2);
  EXPECT_EQ(q("ufixed<8,4,rnd_conv,wrap>", 3.5 / 16), 4);
  // x = -0.25: floor is -1, below the unsigned range: wrap keeps the low 8 bits (255),
  // sat clamps to 0. trn_zero and the rounding modes give 0 directly (no overflow).
  EXPECT_EQ(q("ufixed<8,4>", -0.25 / 16), 255);
  EXPECT_EQ(q("ufixed<8,4,trn,sat>", -0.25 / 16), 0);
  EXPECT_EQ(q("ufixed<8,4,trn_zero,wrap>", -0.25 / 16), 0);
  EXPECT_EQ(q("ufixed<8,4,rnd,wrap>", -0.25 / 16), 0);
  // x = -0.5 with rnd_min_inf: the tie goes down to -1, which wraps to 255.
  EXPECT_EQ(q("ufixed<8,4,rnd_min_inf,wrap>", -0.5 / 16), 255);
  EXPECT_EQ(q("ufixed<8,4,rnd_min_inf,sat_sym>", -0.5 / 16), 0) << "unsigned sat_sym = sat";
}

// fixed<8,8>: integers -128 … 127 (F = 0).
TEST(FixedOverflow, SignedWidth8) {
  struct Case {
    double v;
    int64_t wrap, sat, sat_zero, sat_sym;
    const char* why;
  };
  const Case cases[] = {
      {127, 127, 127, 127, 127, "max: in range everywhere"},
      {128, -128, 127, 0, 127, "max + 1: wrap 128 - 256"},
      {-128, -128, -128, -128, -127, "min: in range, but sat_sym's range is [-127, 127]"},
      {-129, 127, -128, 0, -127, "min - 1: wrap -129 + 256"},
      {300, 44, 127, 0, 127, "300 - 256"},
      {-300, -44, -128, 0, -127, "-300 + 256 = -44"},
      {1e30, 0, 127, 0, 127, "huge: wrap keeps the low 8 bits of 1e30 (2^100 divides it)"},
      {-1e30, 0, -128, 0, -127, "huge negative"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(q("fixed<8,8>", c.v), c.wrap) << c.v << ": " << c.why;
    EXPECT_EQ(q("fixed<8,8,trn,sat>", c.v), c.sat) << c.v << ": " << c.why;
    EXPECT_EQ(q("fixed<8,8,trn,sat_zero>", c.v), c.sat_zero) << c.v << ": " << c.why;
    EXPECT_EQ(q("fixed<8,8,trn,sat_sym>", c.v), c.sat_sym) << c.v << ": " << c.why;
  }
  // Rounding happens first and can overflow: 127.5 rounds (rnd) to 128.
  EXPECT_EQ(q("fixed<8,8,rnd,wrap>", 127.5), -128);
  EXPECT_EQ(q("fixed<8,8,rnd,sat>", 127.5), 127);
  EXPECT_EQ(q("fixed<8,8,rnd,sat_zero>", 127.5), 0);
  EXPECT_EQ(q("fixed<8,8,rnd_zero,sat_zero>", 127.5), 127) << "ties toward zero: no overflow";
  // -128.5 with trn (floor) is -129: overflow. With rnd (ties up) it is -128: no overflow.
  EXPECT_EQ(q("fixed<8,8,trn,sat_zero>", -128.5), 0);
  EXPECT_EQ(q("fixed<8,8,rnd,sat_zero>", -128.5), -128);
}

// ufixed<8,8>: integers 0 … 255.
TEST(FixedOverflow, UnsignedWidth8) {
  struct Case {
    double v;
    int64_t wrap, sat, sat_zero, sat_sym;
  };
  const Case cases[] = {
      {255, 255, 255, 255, 255},  // max
      {256, 0, 255, 0, 255},      // 256 mod 256 = 0
      {0, 0, 0, 0, 0},
      {-1, 255, 0, 0, 0},         // -1 mod 256 = 255; unsigned sat_sym behaves as sat
      {-255, 1, 0, 0, 0},         // -255 + 256
      {513, 1, 255, 0, 255},      // 513 - 512
  };
  for (const Case& c : cases) {
    EXPECT_EQ(q("ufixed<8,8>", c.v), c.wrap) << c.v;
    EXPECT_EQ(q("ufixed<8,8,trn,sat>", c.v), c.sat) << c.v;
    EXPECT_EQ(q("ufixed<8,8,trn,sat_zero>", c.v), c.sat_zero) << c.v;
    EXPECT_EQ(q("ufixed<8,8,trn,sat_sym>", c.v), c.sat_sym) << c.v;
  }
}

TEST(FixedWidths, Width1) {
  // fixed<1,1>: one sign bit, raw -1 or 0 (values -1, 0).
  EXPECT_EQ(q("fixed<1,1>", 0.7), 0);    // floor(0.7) = 0
  EXPECT_EQ(q("fixed<1,1>", -0.3), -1);  // floor(-0.3) = -1
  EXPECT_EQ(q("fixed<1,1,trn_zero,wrap>", -0.3), 0);
  EXPECT_EQ(q("fixed<1,1,rnd,wrap>", 0.5), -1);  // rnd: 1 overflows; low bit 1 is -1
  EXPECT_EQ(q("fixed<1,1,rnd,sat>", 0.5), 0);    // clamp to max 0
  EXPECT_EQ(q("fixed<1,1>", -2.0), 0);           // -2: low bit 0
  EXPECT_EQ(q("fixed<1,1,trn,sat>", -2.0), -1);  // clamp to min -1
  // sat_sym writes min | 1 on negative overflow (ap_fixed): for W = 1 that is -1 itself.
  EXPECT_EQ(q("fixed<1,1,trn,sat_sym>", -2.0), -1);
  EXPECT_EQ(q("fixed<1,1,trn,sat_sym>", 5.0), 0);
  // ufixed<1,0>: F = 1, raw 0 or 1 (values 0, 0.5).
  EXPECT_EQ(q("ufixed<1,0>", 0.5), 1);
  EXPECT_EQ(q("ufixed<1,0>", 0.75), 1);                  // x = 1.5, floor 1
  EXPECT_EQ(q("ufixed<1,0,rnd,wrap>", 0.75), 0);         // x = 1.5 -> 2, low bit 0
  EXPECT_EQ(q("ufixed<1,0,rnd,sat>", 0.75), 1);          // 2 clamps to 1
  EXPECT_EQ(q("ufixed<1,0,rnd_conv,wrap>", 0.25), 0);    // x = 0.5: tie, even 0
  EXPECT_EQ(q("ufixed<1,0,rnd,wrap>", 0.25), 1);         // x = 0.5: tie up to 1
}

TEST(FixedWidths, Width16) {
  // fixed<16,6>: F = 10. pi * 1024 = 3216.99: floor 3216, nearest 3217.
  EXPECT_EQ(q("fixed<16,6>", 3.14159265358979), 3216);
  EXPECT_EQ(q("fixed<16,6,rnd,wrap>", 3.14159265358979), 3217);
  EXPECT_EQ(q("fixed<16,6>", -3.14159265358979), -3217);  // floor(-3216.99)
  EXPECT_EQ(q("fixed<16,6,trn_zero,wrap>", -3.14159265358979), -3216);
  // 32 * 1024 = 32768 = max + 1.
  EXPECT_EQ(q("fixed<16,6>", 32.0), -32768);
  EXPECT_EQ(q("fixed<16,6,trn,sat>", 32.0), 32767);
  EXPECT_EQ(q("fixed<16,6,trn,sat_sym>", -32.0), -32767);
  EXPECT_EQ(q("fixed<16,6,trn,sat>", -32.0), -32768);
  // ufixed<16,16>: 65535 max, 65536 wraps to 0.
  EXPECT_EQ(q("ufixed<16,16>", 65535.0), 65535);
  EXPECT_EQ(q("ufixed<16,16>", 65536.0), 0);
  EXPECT_EQ(q("ufixed<16,16,rnd_conv,sat>", 65535.5), 65535);  // tie -> 65536 (even), clamp
}

TEST(FixedWidths, Width32) {
  // fixed<32,16>: F = 16. v = -1.5 * 2^-16 gives x = -1.5.
  double v = -1.5 / 65536;
  EXPECT_EQ(q("fixed<32,16>", v), -2);                  // floor
  EXPECT_EQ(q("fixed<32,16,trn_zero,wrap>", v), -1);    // toward zero
  EXPECT_EQ(q("fixed<32,16,rnd,wrap>", v), -1);         // tie toward +inf
  EXPECT_EQ(q("fixed<32,16,rnd_inf,wrap>", v), -2);     // tie away from zero
  EXPECT_EQ(q("fixed<32,16,rnd_conv,wrap>", v), -2);    // tie to even
  EXPECT_EQ(q("fixed<32,16,rnd_zero,wrap>", v), -1);    // tie toward zero
  EXPECT_EQ(q("fixed<32,16,rnd_min_inf,wrap>", v), -2); // tie toward -inf
  // x = 32768 * 65536 = 2^31 = max + 1.
  EXPECT_EQ(q("fixed<32,16>", 32768.0), -2147483648LL);
  EXPECT_EQ(q("fixed<32,16,trn,sat>", 32768.0), 2147483647LL);
  EXPECT_EQ(q("fixed<32,16,trn,sat_sym>", -32768.0), -2147483647LL);
  EXPECT_EQ(q("ufixed<32,32>", 4294967295.0), 4294967295LL);
  EXPECT_EQ(q("ufixed<32,32>", 4294967296.0), 0);
  EXPECT_EQ(q("ufixed<32,32,trn,sat>", 1e12), 4294967295LL);
}

TEST(FixedWidths, Width64) {
  // fixed<64,32>: F = 32. x = 2^31 * 2^32 = 2^63 = max + 1.
  EXPECT_EQ(q("fixed<64,32>", 2147483648.0), kI64Min);
  EXPECT_EQ(q("fixed<64,32,trn,sat>", 2147483648.0), kI64Max);
  EXPECT_EQ(q("fixed<64,32,trn,sat_sym>", 2147483648.0), kI64Max);
  EXPECT_EQ(q("fixed<64,32>", -2147483648.0), kI64Min);  // min itself is in range
  EXPECT_EQ(q("fixed<64,32,trn,sat_sym>", -2147483648.0), kI64Min + 1);
  // v = 1 + 2^-33: x = 2^32 + 0.5, a tie. The floor 2^32 is even.
  double v = 1.0 + std::ldexp(1.0, -33);
  EXPECT_EQ(q("fixed<64,32,rnd_conv,wrap>", v), int64_t{1} << 32);
  EXPECT_EQ(q("fixed<64,32,rnd,wrap>", v), (int64_t{1} << 32) + 1);
  // ufixed<64,64>: 2^64 - 1 is exact in long double; it is the max.
  long double max_u64 = std::ldexp(1.0L, 64) - 1;
  EXPECT_EQ(static_cast<uint64_t>(q("ufixed<64,64>", max_u64)), ~uint64_t{0});
  EXPECT_EQ(q("ufixed<64,64>", std::ldexp(1.0L, 64)), 0);  // 2^64 wraps to 0
  EXPECT_EQ(static_cast<uint64_t>(q("ufixed<64,64,trn,sat>", 1e30)), ~uint64_t{0});
  EXPECT_EQ(q("fixed<64,64>", std::ldexp(1.0L, 63) - 1), kI64Max);
  // 2^63 + 2^40 wraps to -2^63 + 2^40.
  EXPECT_EQ(q("fixed<64,64>", std::ldexp(1.0L, 63) + std::ldexp(1.0L, 40)),
            kI64Min + (int64_t{1} << 40));
}

TEST(FixedSpecials, NanAndInfinity) {
  // NaN -> 0 in every mode; +-Inf saturate even in wrap mode; sat_zero gives 0.
  for (const char* t : {"fixed<8,3>", "fixed<8,3,rnd,sat>", "ufixed<8,3,rnd_conv,sat_sym>"})
    EXPECT_EQ(q(t, NAN), 0) << t;
  EXPECT_EQ(q("fixed<8,3>", INFINITY), 127);
  EXPECT_EQ(q("fixed<8,3>", -INFINITY), -128);
  EXPECT_EQ(q("fixed<8,3,trn,sat_sym>", -INFINITY), -127);
  EXPECT_EQ(q("fixed<8,3,trn,sat_zero>", INFINITY), 0);
  EXPECT_EQ(q("ufixed<8,3>", INFINITY), 255);
  EXPECT_EQ(q("ufixed<8,3>", -INFINITY), 0);
  EXPECT_EQ(q("fixed<64,10>", INFINITY), kI64Max);
  EXPECT_EQ(q("fixed<64,10>", -INFINITY), kI64Min);
}

TEST(FixedFormats, NegativeAndLargeIntegerBits) {
  // fixed<8,-2>: F = 10, values in [-2^-3, 2^-3). 0.1 * 1024 = 102.4 -> 102.
  EXPECT_EQ(q("fixed<8,-2>", 0.1), 102);
  EXPECT_EQ(q("fixed<8,-2>", 0.125), -128);  // x = 128: wraps
  // fixed<4,10>: F = -6, steps of 64. 100 / 64 = 1.5625 -> floor 1, nearest 2.
  EXPECT_EQ(q("fixed<4,10>", 100.0), 1);
  EXPECT_EQ(q("fixed<4,10,rnd,wrap>", 100.0), 2);
  EXPECT_EQ(q("fixed<4,10,rnd,wrap>", 96.0), 2);   // x = 1.5: tie up
  EXPECT_EQ(q("fixed<4,10,rnd_conv,wrap>", 96.0), 2);
  EXPECT_EQ(q("fixed<4,10,rnd_conv,wrap>", 160.0), 2);  // x = 2.5: tie to even 2
  EXPECT_EQ(fixed_to_real(3, DType::parse("fixed<4,10>").fixed_format()), 192.0L);
}

TEST(FixedRequantize, FixedToFixedIsExact) {
  // fixed<8,4> raw 41 = 2.5625 into fixed<4,2> (F = 2): x = 41 / 4 = 10.25, floor 10, above
  // the 4-bit max 7: wrap 10 - 16 = -6, sat 7.
  DType src = DType::parse("fixed<8,4>");
  int8_t raw = 41;
  int8_t out = 0;
  convert(&raw, src, &out, DType::parse("fixed<4,2>"), 1);
  EXPECT_EQ(load_fixed_raw(&out, DType::parse("fixed<4,2>").fixed_format()), -6);
  convert(&raw, src, &out, DType::parse("fixed<4,2,trn,sat>"), 1);
  EXPECT_EQ(out, 7);
  // raw 42 = 2.625 -> x = 10.5: rnd_conv picks 10, rnd 11 (both in fixed<8,6>'s range).
  raw = 42;
  convert(&raw, src, &out, DType::parse("fixed<8,6,rnd_conv,wrap>"), 1);
  EXPECT_EQ(out, 10);
  convert(&raw, src, &out, DType::parse("fixed<8,6,rnd,wrap>"), 1);
  EXPECT_EQ(out, 11);
  // 64-bit raws survive a round trip through a wider-fraction format without loss (no
  // float detour): fixed<64,60> raw 2^62 + 1 into fixed<64,62> (F 4 -> 2) drops 2 bits.
  int64_t big = (int64_t{1} << 62) + 1, big_out = 0;
  convert(&big, DType::parse("fixed<64,60>"), &big_out, DType::parse("fixed<64,62>"), 1);
  EXPECT_EQ(big_out, int64_t{1} << 60);  // (2^62 + 1) / 4 = 2^60 + 0.25, floor
  convert(&big, DType::parse("fixed<64,60>"), &big_out, DType::parse("fixed<64,58>"), 1);
  EXPECT_EQ(big_out, 4);  // x = (2^62 + 1) * 4 = 2^64 + 4: wrap keeps the low 64 bits
}

TEST(FixedRaw, StorageAndExtension) {
  FixedFormat f{12, 4, true};
  uint16_t slot = 0;
  store_fixed_raw(-5, &slot, f);
  EXPECT_EQ(load_fixed_raw(&slot, f), -5);
  slot = 0x0fffu;  // upper storage bits clear: still the 12-bit -1
  EXPECT_EQ(load_fixed_raw(&slot, f), -1);
  FixedFormat u{12, 4, false};
  slot = 0xffffu;  // garbage above bit 12 is ignored
  EXPECT_EQ(load_fixed_raw(&slot, u), 4095);
  EXPECT_EQ(fixed_to_real(4095, u), 4095.0L / 256);
  for (int w = 1; w <= 64; ++w)
    EXPECT_EQ(DType::fixed(w, 0).size(), w <= 8 ? 1u : w <= 16 ? 2u : w <= 32 ? 4u : 8u) << w;
}

}  // namespace
}  // namespace tessera
