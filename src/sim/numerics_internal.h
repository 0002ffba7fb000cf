// The GEMM engine behind gemm_bf16 and gemm_int8, on float operands, for the numerics
// backend's node kernels (which prepare their operands once per node).
#pragma once

#include <cstdint>

namespace tessera::sim::detail {

// Integers up to 2^24 are exact in f32: a partial sum of at most this many int8 products
// (each at most 127·127 in magnitude) is an exact integer in f32.
inline constexpr int64_t kExactF32Block = (int64_t{1} << 24) / (127 * 127);  // 1040

// bf16 order: per block of `block` k (block >= 1; block >= k: one block) a partial sum
// from 0 in k order, then acc = fl(acc + partial). a and b hold bf16 values.
void gemm_blocked_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, int64_t block);

// int8 in floats: a and b hold integers in [-127, 127]; the sum is exact (int32) and
// c = fl(float(acc) * fl(scale_a[i] * scale_b[j])). k <= kInt8MaxDepth (unchecked).
void gemm_int_in_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                     int64_t ldb, const float* scale_a, const float* scale_b, float* c,
                     int64_t ldc);

}  // namespace tessera::sim::detail
