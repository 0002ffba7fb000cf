// Internal: the FixedEvaluator's dense kernels on raw integers, built twice (baseline x86-64
// and AVX2) and chosen at run time. Every kernel adds, for ascending i with x[i] != 0,
//   acc[j] += conv(x[i] * w[i * n_out + j])      (j < n_out)
// wrapping in the lane type, where conv(p) rounds away k > 0 fractional bits with the
// rounding mode r (the exact integer formula of ap_fixed's mode) or shifts left by -k when
// k <= 0. The caller guarantees every product, and product + 2^k, fits the lane type.
#pragma once

#include <cstdint>

#include "tessera/core/dtype.h"

namespace tessera::sim::fpga_kernels {

void dense_i32(int32_t* acc, const int32_t* w, const int32_t* x, int64_t n_in, int64_t n_out,
               int k, Rounding r);
void dense_i64(int64_t* acc, const int64_t* w, const int64_t* x, int64_t n_in, int64_t n_out,
               int k, Rounding r);

// One value: p's k > 0 low bits rounded away with mode r (floor(p / 2^k) adjusted), exact
// for any two's-complement integer type T when p + 2^k does not overflow.
template <class T>
inline T round_shift(T p, int k, Rounding r) {
  const T q = p >> k;
  const T rest = p & ((T{1} << k) - 1);
  const T half = T{1} << (k - 1);
  switch (r) {
    case Rounding::kTruncate: return q;
    case Rounding::kTruncateZero: return q + T(rest != 0 && p < 0);
    case Rounding::kHalfUp: return q + T(rest >= half);
    case Rounding::kHalfZero: return q + T(rest > half || (rest == half && p < 0));
    case Rounding::kHalfAway: return q + T(rest > half || (rest == half && p >= 0));
    case Rounding::kHalfDown: return q + T(rest > half);
    case Rounding::kHalfEven: return q + T(rest > half || (rest == half && (q & 1) != 0));
  }
  return q;
}

namespace baseline {
void dense_i32(int32_t*, const int32_t*, const int32_t*, int64_t, int64_t, int, Rounding);
void dense_i64(int64_t*, const int64_t*, const int64_t*, int64_t, int64_t, int, Rounding);
}  // namespace baseline
namespace avx2 {
void dense_i32(int32_t*, const int32_t*, const int32_t*, int64_t, int64_t, int, Rounding);
void dense_i64(int64_t*, const int64_t*, const int64_t*, int64_t, int64_t, int, Rounding);
}  // namespace avx2

}  // namespace tessera::sim::fpga_kernels
