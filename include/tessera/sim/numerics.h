// The matrix unit's numerics: bf16 x bf16 -> f32 and int8 x int8 -> int32, defined bit for
// bit so that the functional mode (functional.h) reproduces a TPU-like target exactly.
//
// Only the matrix unit's GEMMs change numerics; everything else runs in f32, as on a TPU
// whose vector unit is f32. The exact semantics (docs/simulators/numerics.md):
//
//   bf16  Both operands are rounded to bf16 (round to nearest even, through the dtype
//         table). Each product is exact in f32. With fold_rows = 0 the products are summed
//         in f32 in k order from 0. With fold_rows = R > 0 each block of R consecutive k
//         (one pass down a weight-stationary array of R rows) is summed from 0 in k order
//         into a partial sum p, then acc = fl(acc + p), blocks in k order.
//   int8  Symmetric, zero point 0: q = clamp(round_half_even(fl(x / s)), -127, 127) (NaN
//         gives 0). Products are summed exactly in int32 (K <= kInt8MaxDepth, so it cannot
//         overflow). y = fl(float(acc) * fl(s_a[m] * s_b[n])).
//
//   TargetNumerics t = parse_numerics("int8", "--numerics");
//   std::vector<int8_t> qa(m * k), qb(k * n);
//   quantize_int8(a, m * k, sa, qa.data());               // sa = int8_scale(max |a|)
//   gemm_int8(m, n, k, qa.data(), qb.data(), sa_rows, sb_cols, c);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::sim {

enum class NumericsMode { kF32, kBF16, kInt8 };

struct TargetNumerics {
  NumericsMode mode = NumericsMode::kF32;
  // int8: a weight operand gets one scale per output channel (else one per tensor).
  // Activations always get one scale per tensor, from calibration.
  bool per_channel = true;
  // bf16: rows of the weight-stationary array whose partial sums are added to the output
  // accumulator once per pass (0: one accumulator over the whole depth).
  int64_t fold_rows = 0;

  // "f32", "bf16", "bf16 fold 128", "int8 per-channel", "int8 per-tensor".
  std::string str() const;
};

// "f32" | "bf16" | "int8" (per-channel weights) | "int8-per-channel" | "int8-per-tensor".
// `where` names the source in errors ("tpu.yaml line 4, field numerics").
TargetNumerics parse_numerics(std::string_view text, std::string_view where);

// The deepest int8 GEMM whose int32 accumulator cannot overflow: 127 · 127 · K <= 2^31 - 1.
inline constexpr int64_t kInt8MaxDepth = 133144;

// --- Rounding and quantization --------------------------------------------------------

// out[i] = x[i] rounded to bf16 and back (exact), through the dtype table's converters.
void round_to_bf16(const float* x, float* out, int64_t n);

// The scale of a tensor whose largest magnitude is `max_abs`: fl(max_abs / 127), or 1 when
// max_abs is 0 (an all-zero tensor quantizes to zeros with any scale). Throws
// Error(kInvalidArgument) naming `what` when max_abs is not finite.
float int8_scale(float max_abs, std::string_view what);

// q[i] = clamp(round_half_even(fl(x[i] / scale)), -127, 127), NaN -> 0, through the dtype
// table's fixed<8,8,rnd_conv,sat_sym> converter. -127 rather than -128 keeps the range
// symmetric, so negating a value never overflows and the zero point stays exactly 0.
void quantize_int8(const float* x, int64_t n, float scale, int8_t* q);

// quantize_int8 with one scale per channel: x viewed as [outer, channels, inner], element
// (o, c, i) quantized with scales[c].
void quantize_int8_per_channel(const float* x, int64_t outer, int64_t channels, int64_t inner,
                               const float* scales, int8_t* q);

// --- GEMMs (row-major: a [m, k] with leading dimension lda, b [k, n] with ldb, c [m, n]
// with ldc). Deterministic on any thread count: each output is computed by one thread in
// the order defined above. -------------------------------------------------------------

// a and b hold bf16 values (round_to_bf16 first); c gets the f32 results.
void gemm_bf16(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float* c, int64_t ldc, int64_t fold_rows);

// c[i, j] = fl(float(Σ_k a[i, k]·b[k, j]) * fl(scale_a[i] * scale_b[j])), the sum exact in
// int32. Throws Error(kUnsupported) when k > kInt8MaxDepth.
void gemm_int8(int64_t m, int64_t n, int64_t k, const int8_t* a, int64_t lda, const int8_t* b,
               int64_t ldb, const float* scale_a, const float* scale_b, float* c, int64_t ldc);

}  // namespace tessera::sim
