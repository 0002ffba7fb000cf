// AVX2/FMA row kernels of layer_norm, rms_norm and their backward (cpu_norm.h). Two
// independent accumulators per sum hide the add latency; tails use masked loads whose
// masked-off lanes are zeroed after the shift, so they add nothing.
#include <cmath>

#include "cpu_norm.h"
#include "cpu_vecmath_avx2.h"

namespace tessera::cpu {
namespace {

using avx2::set1;

inline __m256i tail_mask(int64_t r) {
  alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - r));
}

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct RowStats {
  float mean, rstd;
};

// One pass: Σ(x - x₀) and Σ(x - x₀)².
RowStats layer_stats(const float* x, float eps, int64_t n) {
  const __m256 k = set1(x[0]);
  __m256 s1a = _mm256_setzero_ps(), s1b = s1a, s2a = s1a, s2b = s1a;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), k);
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), k);
    s1a = _mm256_add_ps(s1a, d0);
    s1b = _mm256_add_ps(s1b, d1);
    s2a = _mm256_fmadd_ps(d0, d0, s2a);
    s2b = _mm256_fmadd_ps(d1, d1, s2b);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), k);
    s1a = _mm256_add_ps(s1a, d);
    s2a = _mm256_fmadd_ps(d, d, s2a);
  }
  if (i < n) {
    __m256i m = tail_mask(n - i);
    __m256 d =
        _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), k), _mm256_castsi256_ps(m));
    s1b = _mm256_add_ps(s1b, d);
    s2b = _mm256_fmadd_ps(d, d, s2b);
  }
  const float inv_n = 1.0f / static_cast<float>(n);
  const float shift = hsum(_mm256_add_ps(s1a, s1b)) * inv_n;
  const float var = std::fmax(hsum(_mm256_add_ps(s2a, s2b)) * inv_n - shift * shift, 0.0f);
  return {x[0] + shift, 1.0f / std::sqrt(var + eps)};
}

float rms_rstd(const float* x, float eps, int64_t n) {
  __m256 sa = _mm256_setzero_ps(), sb = sa;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    sa = _mm256_fmadd_ps(a, a, sa);
    sb = _mm256_fmadd_ps(b, b, sb);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 a = _mm256_loadu_ps(x + i);
    sa = _mm256_fmadd_ps(a, a, sa);
  }
  if (i < n) {
    __m256 a = _mm256_maskload_ps(x + i, tail_mask(n - i));  // masked lanes read as 0
    sb = _mm256_fmadd_ps(a, a, sb);
  }
  return 1.0f / std::sqrt(hsum(_mm256_add_ps(sa, sb)) / static_cast<float>(n) + eps);
}

// Runs body(i, mask) over the row in vectors of 8, the last one masked (mask all ones
// before it).
template <typename Body>
inline void for_vectors(int64_t n, Body&& body) {
  const __m256i all = _mm256_set1_epi32(-1);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) body(i, all, false);
  if (i < n) body(i, tail_mask(n - i), true);
}

inline __m256 load(const float* p, __m256i m, bool tail) {
  return tail ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}
inline void store(float* p, __m256i m, bool tail, __m256 v) {
  if (tail)
    _mm256_maskstore_ps(p, m, v);
  else
    _mm256_storeu_ps(p, v);
}

void layer_norm_row(const float* x, const float* gamma, const float* beta, float eps, float* y,
                    int64_t n) {
  RowStats s = layer_stats(x, eps, n);
  const __m256 mean = set1(s.mean), rstd = set1(s.rstd);
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(load(x + i, m, tail), mean), rstd);
    store(y + i, m, tail, _mm256_fmadd_ps(xh, load(gamma + i, m, tail), load(beta + i, m, tail)));
  });
}

void rms_norm_row(const float* x, const float* gamma, float eps, float* y, int64_t n) {
  const __m256 r = set1(rms_rstd(x, eps, n));
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 xh = _mm256_mul_ps(load(x + i, m, tail), r);
    store(y + i, m, tail, _mm256_mul_ps(xh, load(gamma + i, m, tail)));
  });
}

void layer_norm_grad_row(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                         int64_t n) {
  RowStats s = layer_stats(x, eps, n);
  const __m256 mean = set1(s.mean), rstd = set1(s.rstd);
  __m256 sg = _mm256_setzero_ps(), sgx = sg;
  // Masked-off lanes load 0 for dy, so g and g·x̂ are 0 there.
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 g = _mm256_mul_ps(load(dy + i, m, tail), load(gamma + i, m, tail));
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(load(x + i, m, tail), mean), rstd);
    sg = _mm256_add_ps(sg, g);
    sgx = _mm256_fmadd_ps(g, xh, sgx);
  });
  const float inv_n = 1.0f / static_cast<float>(n);
  const __m256 a = set1(hsum(sg) * inv_n), b = set1(hsum(sgx) * inv_n);
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 g = _mm256_mul_ps(load(dy + i, m, tail), load(gamma + i, m, tail));
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(load(x + i, m, tail), mean), rstd);
    __m256 t = _mm256_fnmadd_ps(xh, b, _mm256_sub_ps(g, a));
    store(dx + i, m, tail, _mm256_mul_ps(t, rstd));
  });
}

void rms_norm_grad_row(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                       int64_t n) {
  const float r = rms_rstd(x, eps, n);
  __m256 sgx = _mm256_setzero_ps();
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 g = _mm256_mul_ps(load(dy + i, m, tail), load(gamma + i, m, tail));
    sgx = _mm256_fmadd_ps(g, load(x + i, m, tail), sgx);
  });
  const __m256 b = set1(hsum(sgx) * r * r / static_cast<float>(n));  // mean(g·x̂) · rstd
  const __m256 rv = set1(r);
  for_vectors(n, [&](int64_t i, __m256i m, bool tail) {
    __m256 g = _mm256_mul_ps(load(dy + i, m, tail), load(gamma + i, m, tail));
    __m256 t = _mm256_fnmadd_ps(load(x + i, m, tail), b, g);
    store(dx + i, m, tail, _mm256_mul_ps(t, rv));
  });
}

}  // namespace

const NormRowKernels& avx2_norm_rows() {
  static const NormRowKernels k = {layer_norm_row, rms_norm_row, layer_norm_grad_row,
                                   rms_norm_grad_row};
  return k;
}

}  // namespace tessera::cpu
