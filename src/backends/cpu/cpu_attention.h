// Internal to the cpu backend: the row primitives of the streaming attention kernel
// (cpu_attention.cpp), in an AVX2/FMA version (cpu_attention_avx2.cpp) and a scalar one,
// chosen at run time like the f32 elementwise table.
#pragma once

#include <cstdint>

namespace tessera::cpu {

struct AttentionRowKernels {
  // s[j] = scale · Σ_c q[c] · k[j·d + c] for j in [0, n): one query against n keys. Returns
  // max_j s[j].
  float (*scores)(const float* q, const float* k, int64_t d, int64_t n, float scale, float* s);
  // s[j] = exp(s[j] - m) in place; returns Σ_j s[j].
  float (*exp_shifted)(float* s, float m, int64_t n);
  // acc[c] = acc[c] · corr + Σ_j p[j] · v[j·dv + c] for c in [0, dv).
  void (*accumulate)(const float* p, const float* v, int64_t n, int64_t dv, float corr, float* acc);
};

const AttentionRowKernels& scalar_attention_kernels();  // cpu_attention.cpp
const AttentionRowKernels& avx2_attention_kernels();    // cpu_attention_avx2.cpp

}  // namespace tessera::cpu
