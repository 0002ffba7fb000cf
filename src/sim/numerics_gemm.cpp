// The matrix unit's GEMMs in bf16 and int8 (numerics.h defines the order of every
// operation). Outputs are split across the pool in groups of rows; each output is computed
// by one thread in the defined order, so results are the same on any thread count. Within
// a group, the loops run across n (the vector lanes), which keeps every output's order.
#include <algorithm>
#include <vector>

#include "numerics_internal.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"
#include "tessera/sim/numerics.h"

namespace tessera::sim {
namespace detail {
namespace {

constexpr int64_t kRowGroup = 4;   // rows sharing each load of b
constexpr int64_t kColTile = 128;  // accumulators per row kept in L1

template <bool kInt>
void row_group(int64_t r0, int64_t rows, int64_t n, int64_t k, const float* a, int64_t lda,
               const float* b, int64_t ldb, float* c, int64_t ldc, int64_t block,
               const float* scale_a, const float* scale_b) {
  alignas(64) float part[kRowGroup][kColTile];
  alignas(64) float acc_f[kRowGroup][kColTile];
  alignas(64) int32_t acc_i[kRowGroup][kColTile];
  for (int64_t n0 = 0; n0 < n; n0 += kColTile) {
    const int64_t nt = std::min(kColTile, n - n0);
    for (int64_t r = 0; r < rows; ++r) {
      std::fill(acc_f[r], acc_f[r] + nt, 0.0f);
      std::fill(acc_i[r], acc_i[r] + nt, 0);
    }
    for (int64_t k0 = 0; k0 < k; k0 += block) {
      const int64_t k1 = std::min(k, k0 + block);
      for (int64_t r = 0; r < rows; ++r) std::fill(part[r], part[r] + nt, 0.0f);
      for (int64_t kk = k0; kk < k1; ++kk) {
        const float* brow = b + kk * ldb + n0;
        for (int64_t r = 0; r < rows; ++r) {
          const float av = a[(r0 + r) * lda + kk];
          float* p = part[r];
          for (int64_t j = 0; j < nt; ++j) p[j] += av * brow[j];
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        if constexpr (kInt) {
          for (int64_t j = 0; j < nt; ++j) acc_i[r][j] += static_cast<int32_t>(part[r][j]);
        } else {
          for (int64_t j = 0; j < nt; ++j) acc_f[r][j] += part[r][j];
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      float* out = c + (r0 + r) * ldc + n0;
      if constexpr (kInt) {
        const float sa = scale_a[r0 + r];
        for (int64_t j = 0; j < nt; ++j)
          out[j] = static_cast<float>(acc_i[r][j]) * (sa * scale_b[n0 + j]);
      } else {
        std::copy(acc_f[r], acc_f[r] + nt, out);
      }
    }
  }
}

template <bool kInt>
void run_gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc, int64_t block, const float* scale_a,
              const float* scale_b) {
  if (m <= 0 || n <= 0) return;
  const int64_t groups = (m + kRowGroup - 1) / kRowGroup;
  // About 256k multiply-adds per chunk: enough to hide the pool's hand-off.
  const int64_t per_group = std::max<int64_t>(1, kRowGroup * n * std::max<int64_t>(k, 1));
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / per_group);
  default_thread_pool().parallel_for(groups, grain, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * kRowGroup;
      row_group<kInt>(r0, std::min(kRowGroup, m - r0), n, k, a, lda, b, ldb, c, ldc, block, scale_a,
                      scale_b);
    }
  });
}

}  // namespace

void gemm_blocked_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, int64_t block) {
  run_gemm<false>(m, n, k, a, lda, b, ldb, c, ldc, std::max<int64_t>(block, 1), nullptr, nullptr);
}

void gemm_int_in_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                     int64_t ldb, const float* scale_a, const float* scale_b, float* c,
                     int64_t ldc) {
  run_gemm<true>(m, n, k, a, lda, b, ldb, c, ldc, kExactF32Block, scale_a, scale_b);
}

}  // namespace detail

void gemm_bf16(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float* c, int64_t ldc, int64_t fold_rows) {
  TS_CHECK(m >= 0 && n >= 0 && k >= 0 && fold_rows >= 0, ErrorKind::kInvalidArgument,
           "gemm_bf16: sizes must be >= 0, got m={} n={} k={} fold_rows={}", m, n, k, fold_rows);
  detail::gemm_blocked_f32(m, n, k, a, lda, b, ldb, c, ldc, fold_rows > 0 ? fold_rows : k);
}

void gemm_int8(int64_t m, int64_t n, int64_t k, const int8_t* a, int64_t lda, const int8_t* b,
               int64_t ldb, const float* scale_a, const float* scale_b, float* c, int64_t ldc) {
  TS_CHECK(m >= 0 && n >= 0 && k >= 0, ErrorKind::kInvalidArgument,
           "gemm_int8: sizes must be >= 0, got m={} n={} k={}", m, n, k);
  TS_CHECK(k <= kInt8MaxDepth, ErrorKind::kUnsupported,
           "gemm_int8: depth k={} could overflow the int32 accumulator (at most {})", k,
           kInt8MaxDepth);
  // Widened once: the engine sums integers exactly in f32 blocks (numerics_internal.h).
  std::vector<float> fa(static_cast<size_t>(m * k)), fb(static_cast<size_t>(k * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) fa[i * k + j] = a[i * lda + j];
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) fb[i * n + j] = b[i * ldb + j];
  detail::gemm_int_in_f32(m, n, k, fa.data(), k, fb.data(), n, scale_a, scale_b, c, ldc);
}

}  // namespace tessera::sim
