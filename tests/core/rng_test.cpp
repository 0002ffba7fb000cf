// Rng: Philox4x32-10 known-answer vectors, thread-count independence of the fills, and
// sanity of the distributions.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tessera/core/rng.h"
#include "tessera/core/tensor.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {

// Random123's kat_vectors for philox4x32_10, given as ctr = (c0, c1, c2, c3), key =
// (k0, k1). Our philox4x32(key, counter_hi, counter_lo) packs c0 | c1 << 32 into counter_lo,
// c2 | c3 << 32 into counter_hi and k0 | k1 << 32 into key.
std::array<uint32_t, 4> philox_kat(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  auto pack = [](uint32_t lo, uint32_t hi) { return uint64_t{lo} | (uint64_t{hi} << 32); };
  return philox4x32(pack(k[0], k[1]), pack(c[2], c[3]), pack(c[0], c[1]));
}

TEST(Philox, KnownAnswerVectors) {
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(philox_kat({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox_kat({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                       {0xffffffffu, 0xffffffffu}),
            (A4{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox_kat({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                       {0xa4093822u, 0x299f31d0u}),
            (A4{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Rng, PureFunctionsOfSeedStreamIndex) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.bits(3, 7), b.bits(3, 7));
  EXPECT_NE(a.bits(3, 7), c.bits(3, 7));
  EXPECT_NE(a.bits(3, 7), a.bits(4, 7));
  EXPECT_NE(a.bits(3, 7), a.bits(3, 8));
  EXPECT_EQ(a.uniform(1, 2), b.uniform(1, 2));
  EXPECT_EQ(a.seed(), 42u);
  for (uint64_t i = 0; i < 10000; ++i) {
    double u = a.uniform(5, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_TRUE(std::isfinite(a.normal(5, i)));
  }
}

TEST(Rng, SequentialDrawsAreReproducible) {
  Rng a(7), b(7);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
  for (int i = 0; i < 100; ++i) {
    double u = a.next_uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Rng, NextBelowIsInRangeAndRoughlyUniform) {
  Rng rng(11);
  EXPECT_EQ(rng.next_below(0), 0u);
  EXPECT_EQ(rng.next_below(1), 0u);
  constexpr int kBins = 7, kDraws = 70000;
  std::array<int, kBins> counts{};
  for (int i = 0; i < kDraws; ++i) {
    uint64_t v = rng.next_below(kBins);
    ASSERT_LT(v, static_cast<uint64_t>(kBins));
    counts[v]++;
  }
  // Each bin expects 10000 with sd ~93; 6 sd of slack.
  for (int c : counts) EXPECT_NEAR(c, kDraws / kBins, 600);
  // A bound just above 2^63: rejection must keep it in range (half the draws rejected).
  uint64_t big = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.next_below(big), big);
}

std::vector<float> fill_with(int threads, DType dtype, int which) {
  set_num_threads(threads);
  Tensor t = Tensor::zeros(dtype, {300007});
  Rng rng(2024);
  if (which == 0) rng.fill_uniform(t, -1.0, 1.0);
  if (which == 1) rng.fill_normal(t, 0.5, 2.0);
  if (which == 2) rng.fill_truncated_normal(t, 0.0, 1.0);
  return t.to_f32_vector();
}

TEST(Rng, FillsAreIdenticalOnOneAndFourThreads) {
  int before = num_threads();
  for (int which = 0; which < 3; ++which) {
    for (DType dt : {kF32, kBF16}) {
      std::vector<float> one = fill_with(1, dt, which), four = fill_with(4, dt, which);
      ASSERT_EQ(one, four) << "fill " << which << " " << dt.name();
    }
  }
  set_num_threads(before);
}

TEST(Rng, SuccessiveFillsDiffer) {
  Rng rng(1);
  Tensor a = Tensor::zeros(kF32, {16}), b = Tensor::zeros(kF32, {16});
  rng.fill_uniform(a, 0, 1);
  rng.fill_uniform(b, 0, 1);
  EXPECT_NE(a.to_f32_vector(), b.to_f32_vector());
}

struct Moments {
  double mean, var, min, max;
};
Moments moments(const std::vector<float>& v) {
  double s = 0, s2 = 0, lo = v[0], hi = v[0];
  for (float x : v) {
    s += x;
    s2 += static_cast<double>(x) * x;
    lo = std::min<double>(lo, x);
    hi = std::max<double>(hi, x);
  }
  double mean = s / static_cast<double>(v.size());
  return {mean, s2 / static_cast<double>(v.size()) - mean * mean, lo, hi};
}

TEST(Rng, DistributionMomentsAreSane) {
  std::vector<float> u = fill_with(2, kF32, 0);  // U(-1, 1): mean 0, var 1/3
  Moments mu = moments(u);
  EXPECT_NEAR(mu.mean, 0.0, 0.01);
  EXPECT_NEAR(mu.var, 1.0 / 3, 0.01);
  EXPECT_GE(mu.min, -1.0);
  EXPECT_LT(mu.max, 1.0);
  std::vector<float> n = fill_with(2, kF32, 1);  // N(0.5, 4)
  Moments mn = moments(n);
  EXPECT_NEAR(mn.mean, 0.5, 0.02);
  EXPECT_NEAR(mn.var, 4.0, 0.05);
  // Truncated at 2 sd: variance of the standard normal truncated to [-2, 2] is 0.7737.
  std::vector<float> tn = fill_with(2, kF32, 2);
  Moments mt = moments(tn);
  EXPECT_NEAR(mt.mean, 0.0, 0.01);
  EXPECT_NEAR(mt.var, 0.7737, 0.01);
  EXPECT_GE(mt.min, -2.0);
  EXPECT_LE(mt.max, 2.0);
}

}  // namespace
}  // namespace tessera
