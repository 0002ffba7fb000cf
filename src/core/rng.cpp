#include "tessera/core/rng.h"

#include <cmath>
#include <numbers>

#include "tessera/core/tensor.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {
constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

inline double to_unit(uint32_t hi, uint32_t lo) {
  // 53 random bits -> [0, 1)
  uint64_t v = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(v & ((1ull << 53) - 1)) * 0x1.0p-53;
}
}  // namespace

std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(kMul0, c0, &hi0);
    uint32_t lo1 = mulhilo(kMul1, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

uint32_t Rng::bits(uint64_t stream, uint64_t index) const {
  return philox4x32(seed_, stream, index)[0];
}

double Rng::uniform(uint64_t stream, uint64_t index) const {
  auto r = philox4x32(seed_, stream, index);
  return to_unit(r[0], r[1]);
}

double Rng::normal(uint64_t stream, uint64_t index) const {
  auto r = philox4x32(seed_, stream, index);
  double u1 = to_unit(r[0], r[1]), u2 = to_unit(r[2], r[3]);
  if (u1 <= 0.0) u1 = 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t Rng::next_u64() {
  auto r = philox4x32(seed_, 0, position_++);
  return (static_cast<uint64_t>(r[0]) << 32) | r[1];
}

double Rng::next_uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Rng::next_below(uint64_t bound) {
  if (bound <= 1) return 0;
  // Rejection sampling removes the modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

namespace {
template <typename Draw>
void fill(Tensor& t, Draw draw) {
  int64_t n = t.numel();
  default_thread_pool().parallel_for(n, 16384, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) t.set(i, draw(static_cast<uint64_t>(i)));
  });
}
}  // namespace

void Rng::fill_uniform(Tensor& t, double lo, double hi) {
  uint64_t stream = next_stream_++;
  fill(t, [&](uint64_t i) { return lo + (hi - lo) * uniform(stream, i); });
}

void Rng::fill_normal(Tensor& t, double mean, double stddev) {
  uint64_t stream = next_stream_++;
  fill(t, [&](uint64_t i) { return mean + stddev * normal(stream, i); });
}

void Rng::fill_truncated_normal(Tensor& t, double mean, double stddev) {
  uint64_t stream = next_stream_++;
  fill(t, [&](uint64_t i) {
    // Redraw (with a sub-index) until within two standard deviations; deterministic.
    for (uint64_t k = 0;; ++k) {
      double z = normal(stream, i + (k << 40));
      if (std::fabs(z) <= 2.0) return mean + stddev * z;
    }
  });
}

}  // namespace tessera
