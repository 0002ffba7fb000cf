// Internal to the cpu backend: the f32 row kernels of layer_norm, rms_norm and their
// *_grad_input ops, as a scalar and an AVX2 table (chosen at run time with the elementwise
// tables). A row is the last axis, C elements; the caller threads over rows.
//
// Each kernel reads its row once for the statistics (a one-pass shifted sum: the row's
// first element is subtracted before summing, so the variance does not cancel when the
// mean is large against the spread) and once more for the output; the backward adds one
// pass for its two row sums. A row of a few thousand floats stays in L1/L2 between passes.
#pragma once

#include <cstdint>

namespace tessera::cpu {

struct NormRowKernels {
  // y = (x - mean) · rstd · gamma + beta, rstd = 1/sqrt(var + eps).
  void (*layer_norm)(const float* x, const float* gamma, const float* beta, float eps, float* y,
                     int64_t n);
  // y = x · rstd · gamma, rstd = 1/sqrt(mean(x²) + eps).
  void (*rms_norm)(const float* x, const float* gamma, float eps, float* y, int64_t n);
  // dx of layer_norm given dy: rstd · (g - mean(g) - x̂ · mean(g·x̂)), g = dy · gamma.
  void (*layer_norm_grad)(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                          int64_t n);
  // dx of rms_norm given dy: rstd · (g - x̂ · mean(g·x̂)).
  void (*rms_norm_grad)(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                        int64_t n);
};

const NormRowKernels& scalar_norm_rows();  // cpu_norm.cpp
const NormRowKernels& avx2_norm_rows();    // cpu_norm_avx2.cpp

}  // namespace tessera::cpu
