// AVX2/FMA row primitives of the streaming attention kernel: query-key dot products four
// keys at a time (head_dim 64 is eight FMAs per key), exp of the shifted scores, and the
// probability-weighted sum of value rows with the accumulator held in registers. Tails run
// through masked loads, so every element is computed by the same vector code.
#include <limits>

#include "cpu_attention.h"
#include "cpu_vecmath_avx2.h"

namespace tessera::cpu {
namespace {

using namespace avx2;  // NOLINT: the vector math vocabulary of this file

inline __m256i tail_mask(int64_t r) {
  alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - r));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four horizontal sums of a0..a3, in order.
inline __m128 hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Eight keys per pass over q (eight independent FMA chains hide the FMA latency), then four,
// then one. Every key's dot product sums its lanes in the same order (hsum4), so a key's
// score does not depend on the group it falls in. Returns the maximum score.
float scores(const float* q, const float* k, int64_t d, int64_t n, float scale, float* s) {
  const int64_t full = d / 8 * 8;
  const __m256i mask = tail_mask(d - full);
  const __m128 vscale = _mm_set1_ps(scale);
  __m128 vmax = _mm_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const float* kj = k + j * d;
    __m256 a[8];
    for (int r = 0; r < 8; ++r) a[r] = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8) {
      __m256 qv = _mm256_loadu_ps(q + c);
      for (int r = 0; r < 8; ++r) a[r] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kj + r * d + c), a[r]);
    }
    if (full < d) {
      __m256 qv = _mm256_maskload_ps(q + full, mask);
      for (int r = 0; r < 8; ++r)
        a[r] = _mm256_fmadd_ps(qv, _mm256_maskload_ps(kj + r * d + full, mask), a[r]);
    }
    __m128 lo = _mm_mul_ps(hsum4(a[0], a[1], a[2], a[3]), vscale);
    __m128 hi = _mm_mul_ps(hsum4(a[4], a[5], a[6], a[7]), vscale);
    _mm_storeu_ps(s + j, lo);
    _mm_storeu_ps(s + j + 4, hi);
    vmax = _mm_max_ps(vmax, _mm_max_ps(lo, hi));
  }
  for (; j + 4 <= n; j += 4) {
    const float* k0 = k + j * d;
    const float* k1 = k0 + d;
    const float* k2 = k1 + d;
    const float* k3 = k2 + d;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t c = 0; c < full; c += 8) {
      __m256 qv = _mm256_loadu_ps(q + c);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + c), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + c), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + c), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + c), a3);
    }
    if (full < d) {
      __m256 qv = _mm256_maskload_ps(q + full, mask);
      a0 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + full, mask), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k1 + full, mask), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k2 + full, mask), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k3 + full, mask), a3);
    }
    __m128 r = _mm_mul_ps(hsum4(a0, a1, a2, a3), vscale);
    _mm_storeu_ps(s + j, r);
    vmax = _mm_max_ps(vmax, r);
  }
  for (; j < n; ++j) {
    const float* kj = k + j * d;
    __m256 a = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(kj + c), a);
    if (full < d)
      a = _mm256_fmadd_ps(_mm256_maskload_ps(q + full, mask), _mm256_maskload_ps(kj + full, mask),
                          a);
    __m256 z = _mm256_setzero_ps();
    __m128 r = _mm_mul_ps(hsum4(a, z, z, z), vscale);
    s[j] = _mm_cvtss_f32(r);
    vmax = _mm_max_ss(vmax, r);
  }
  vmax = _mm_max_ps(vmax, _mm_movehl_ps(vmax, vmax));
  vmax = _mm_max_ss(vmax, _mm_movehdup_ps(vmax));
  return _mm_cvtss_f32(vmax);
}

float exp_shifted(float* s, float m, int64_t n) {
  __m256 vm = set1(m), acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + i), vm));
    _mm256_storeu_ps(s + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {
    __m256i mask = tail_mask(n - i);
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_maskload_ps(s + i, mask), vm));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(s + i, mask, e);
    acc = _mm256_add_ps(acc, e);
  }
  return hsum(acc);
}

// Columns in chunks of 64 (eight registers, eight independent FMA chains) held across all
// n value rows, then 32, then 8-wide chunks and a masked tail. Each column accumulates its
// rows in order, whatever the chunk.
template <int R>
inline void accumulate_chunk(const float* p, const float* v, int64_t n, int64_t dv, __m256 corr,
                             float* acc) {
  __m256 r[R];
  for (int i = 0; i < R; ++i) r[i] = _mm256_mul_ps(_mm256_loadu_ps(acc + 8 * i), corr);
  for (int64_t j = 0; j < n; ++j) {
    const float* vj = v + j * dv;
    __m256 pj = set1(p[j]);
    for (int i = 0; i < R; ++i) r[i] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8 * i), r[i]);
  }
  for (int i = 0; i < R; ++i) _mm256_storeu_ps(acc + 8 * i, r[i]);
}

void accumulate(const float* p, const float* v, int64_t n, int64_t dv, float corr, float* acc) {
  const __m256 vc = set1(corr);
  int64_t c = 0;
  for (; c + 64 <= dv; c += 64) accumulate_chunk<8>(p, v + c, n, dv, vc, acc + c);
  for (; c + 32 <= dv; c += 32) accumulate_chunk<4>(p, v + c, n, dv, vc, acc + c);
  for (; c < dv; c += 8) {
    __m256i mask = tail_mask(dv - c < 8 ? dv - c : 8);
    __m256 r = _mm256_mul_ps(_mm256_maskload_ps(acc + c, mask), vc);
    for (int64_t j = 0; j < n; ++j)
      r = _mm256_fmadd_ps(set1(p[j]), _mm256_maskload_ps(v + j * dv + c, mask), r);
    _mm256_maskstore_ps(acc + c, mask, r);
  }
}

}  // namespace

const AttentionRowKernels& avx2_attention_kernels() {
  static const AttentionRowKernels k = {scores, exp_shifted, accumulate};
  return k;
}

}  // namespace tessera::cpu
