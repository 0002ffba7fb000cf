// AVX2/FMA vector math for f32: exp, log, tanh, erf, erfc-based gelu, sigmoid. Include only
// from *_avx2.cpp files (built with -mavx2 -mfma). Maximum errors against the correctly
// rounded result are measured by tests/backends/cpu_vecmath_test.cpp and recorded in
// docs/benchmarks.md (exp, log, tanh, erf within 1.4 ulp; sigmoid 2.5; gelu 11).
//
// exp and log follow Cephes (range reduction by ln2 in two parts, degree-5/8 polynomials);
// erf uses Norbert Juffa's branch-free minimax pair (|x| < 0.9277: odd polynomial;
// beyond: 1 - exp(poly)); gelu's tails use a relative-accuracy erfc (erfc_tail_ps); tanh
// uses a least-squares odd polynomial below 0.6 and
// 1 - 2/(exp(2|x|)+1) above.
#pragma once

#include <immintrin.h>

namespace tessera::cpu::avx2 {

inline __m256 set1(float v) { return _mm256_set1_ps(v); }

inline __m256 abs_ps(__m256 x) { return _mm256_andnot_ps(set1(-0.0f), x); }
inline __m256 copysign_ps(__m256 mag, __m256 sign) {
  __m256 m = set1(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(m, mag), _mm256_and_ps(m, sign));
}
inline __m256 is_nan(__m256 x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }

// NaN-propagating max/min (maxps returns its second operand when either is NaN).
inline __m256 max_nan(__m256 a, __m256 b) {
  __m256 m = _mm256_max_ps(a, b);
  return _mm256_blendv_ps(m, a, is_nan(a));
}
inline __m256 min_nan(__m256 a, __m256 b) {
  __m256 m = _mm256_min_ps(a, b);
  return _mm256_blendv_ps(m, a, is_nan(a));
}

// 2^n for integer-valued n in [-252, 254]: two normal factors so subnormal results round
// once in the final multiply.
inline __m256 scale_pow2(__m256 y, __m256 n) {
  __m256 n1 = _mm256_round_ps(_mm256_mul_ps(n, set1(0.5f)), _MM_FROUND_TO_NEG_INF |
                                                               _MM_FROUND_NO_EXC);
  __m256 n2 = _mm256_sub_ps(n, n1);
  auto pow2 = [](__m256 k) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  };
  return _mm256_mul_ps(_mm256_mul_ps(y, pow2(n1)), pow2(n2));
}

// exp(x + lo) for a small correction lo (the low part of an exactly split argument), which
// joins the reduced argument after the exact Cody-Waite step.
inline __m256 exp_ps(__m256 x, __m256 lo) {
  __m256 nan = is_nan(x);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, set1(-104.0f)), set1(89.0f));
  // n from the whole argument; xc - n*C1 stays exact (C1 has 9 significant bits).
  __m256 n = _mm256_round_ps(_mm256_mul_ps(_mm256_add_ps(xc, lo), set1(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, set1(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  r = _mm256_add_ps(r, lo);
  __m256 p = set1(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, set1(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, set1(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, set1(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, set1(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, set1(5.0000001201e-1f));
  __m256 r2 = _mm256_mul_ps(r, r);
  __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), set1(1.0f));
  y = scale_pow2(y, n);
  y = _mm256_blendv_ps(y, set1(__builtin_inff()), _mm256_cmp_ps(x, set1(88.72283935546875f),
                                                                _CMP_GT_OQ));
  return _mm256_blendv_ps(y, x, nan);
}

inline __m256 exp_ps(__m256 x) { return exp_ps(x, _mm256_setzero_ps()); }

inline __m256 log_ps(__m256 x) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 invalid = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);  // x < 0 -> NaN
  __m256 is_zero = _mm256_cmp_ps(x, zero, _CMP_EQ_OQ);
  __m256 is_inf = _mm256_cmp_ps(x, set1(__builtin_inff()), _CMP_EQ_OQ);
  __m256 nan = is_nan(x);
  // Subnormals: scale into the normal range first.
  __m256 sub = _mm256_cmp_ps(x, set1(1.17549435e-38f), _CMP_LT_OQ);
  __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, set1(8388608.0f)), sub);
  __m256 ebias = _mm256_blendv_ps(zero, set1(23.0f), sub);
  __m256i xi = _mm256_castps_si256(xs);
  __m256i ei = _mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126));
  __m256 e = _mm256_sub_ps(_mm256_cvtepi32_ps(ei), ebias);
  // Mantissa in [0.5, 1).
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(xi, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  __m256 small = _mm256_cmp_ps(m, set1(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(small, set1(1.0f)));
  __m256 t = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), set1(1.0f));
  __m256 z = _mm256_mul_ps(t, t);
  __m256 p = set1(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, t, set1(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, t, set1(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, t, set1(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, t, set1(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, t, set1(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, t, set1(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, t, set1(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, t, set1(3.3333331174e-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, t), z);
  y = _mm256_fmadd_ps(e, set1(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, set1(0.5f), y);
  __m256 r = _mm256_add_ps(t, y);
  r = _mm256_fmadd_ps(e, set1(0.693359375f), r);
  r = _mm256_blendv_ps(r, set1(-__builtin_inff()), is_zero);
  r = _mm256_blendv_ps(r, x, is_inf);
  r = _mm256_blendv_ps(r, set1(__builtin_nanf("")), invalid);
  return _mm256_blendv_ps(r, x, nan);
}

inline __m256 tanh_ps(__m256 x) {
  __m256 t = abs_ps(x);
  // Large: 1 - 2 / (exp(2t) + 1); exp overflows to inf and gives exactly 1.
  __m256 e = exp_ps(_mm256_add_ps(t, t));
  __m256 big = _mm256_sub_ps(set1(1.0f), _mm256_div_ps(set1(2.0f), _mm256_add_ps(e, set1(1.0f))));
  big = copysign_ps(big, x);
  __m256 s = _mm256_mul_ps(x, x);
  __m256 p = set1(-5.893945322e-03f);
  p = _mm256_fmadd_ps(p, s, set1(2.079461773e-02f));
  p = _mm256_fmadd_ps(p, s, set1(-5.378329301e-02f));
  p = _mm256_fmadd_ps(p, s, set1(1.333191530e-01f));
  p = _mm256_fmadd_ps(p, s, set1(-3.333329751e-01f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, s), x, x);
  __m256 r = _mm256_blendv_ps(big, small, _mm256_cmp_ps(t, set1(0.6f), _CMP_LT_OQ));
  return _mm256_blendv_ps(r, x, is_nan(x));
}

// The exponent q(t) with erfc(t) = exp(q(t)) for t >= 0.9277 (Juffa's minimax fit).
inline __m256 erfc_exponent(__m256 t) {
  __m256 s = _mm256_mul_ps(t, t);
  __m256 r = _mm256_fmadd_ps(set1(-1.72853470e-5f), t, set1(3.83197126e-4f));
  __m256 u = _mm256_fmadd_ps(set1(-3.88396438e-3f), t, set1(2.42546219e-2f));
  r = _mm256_fmadd_ps(r, s, u);
  r = _mm256_fmadd_ps(r, t, set1(-1.06777877e-1f));
  r = _mm256_fmadd_ps(r, t, set1(-6.34846687e-1f));
  r = _mm256_fmadd_ps(r, t, set1(-1.28717512e-1f));
  return _mm256_fmsub_ps(r, t, t);
}

// erf(x) = x + x * p(x^2) for |x| < 0.9277.
inline __m256 erf_small(__m256 x) {
  __m256 s = _mm256_mul_ps(x, x);
  __m256 r = set1(-5.96761703e-4f);
  r = _mm256_fmadd_ps(r, s, set1(4.99119423e-3f));
  r = _mm256_fmadd_ps(r, s, set1(-2.67681349e-2f));
  r = _mm256_fmadd_ps(r, s, set1(1.12819925e-1f));
  r = _mm256_fmadd_ps(r, s, set1(-3.76125336e-1f));
  r = _mm256_fmadd_ps(r, s, set1(1.28379166e-1f));
  return _mm256_fmadd_ps(r, x, x);
}

inline __m256 erf_ps(__m256 x) {
  __m256 t = abs_ps(x);
  // Beyond 4, erf rounds to 1 and the fit is not used.
  __m256 tc = _mm256_min_ps(t, set1(4.0f));
  __m256 big = copysign_ps(_mm256_sub_ps(set1(1.0f), exp_ps(erfc_exponent(tc))), x);
  __m256 r = _mm256_blendv_ps(big, erf_small(x), _mm256_cmp_ps(t, set1(0.927734375f),
                                                               _CMP_LE_OQ));
  return _mm256_blendv_ps(r, x, is_nan(x));
}

// erfc(t) for 0.9277 <= t <= 10 with relative accuracy (for gelu's negative tail, where
// 1 + erf(x) would cancel): erfc(t) = exp(-t^2) * exp(q(v)), q = log(erfcx) fitted by least
// squares in Chebyshev form (degree 13, |error| < 8e-8) over v = ((t-2)/(t+2) - c) / h, and
// t^2 given exactly as hi + lo so exp(-t^2) keeps full precision (erfc is ill-conditioned:
// a relative error d in t becomes 2 t^2 d in the result, so t^2 must not be rounded).
inline __m256 erfc_tail_ps(__m256 t, __m256 hi, __m256 lo) {
  __m256 v = _mm256_div_ps(_mm256_fmadd_ps(t, set1(8.449315068e-01f), set1(-2.310136986e+00f)),
                           _mm256_fmadd_ps(t, set1(5.249315068e-01f), set1(1.049863014e+00f)));
  static constexpr float kQ[14] = {
      -7.002543169e-04f, -1.088938954e-03f, 5.707776715e-04f,  5.747302363e-04f,
      -2.451427486e-03f, -3.884822164e-03f, -4.679363133e-03f, -9.083032313e-03f,
      -1.884403574e-02f, -3.851675626e-02f, -7.430739397e-02f, -1.744048147e-01f,
      -9.649696553e-01f, -1.636439975e+00f};
  __m256 q = set1(kQ[0]);
  for (int i = 1; i < 14; ++i) q = _mm256_fmadd_ps(q, v, set1(kQ[i]));
  return exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), hi), _mm256_sub_ps(q, lo));
}

// gelu(x) = x/2 * erfc(-x/sqrt2); in the tails erfc comes from erfc_tail_ps, so the negative
// side keeps its relative accuracy instead of cancelling in 1 + erf.
inline __m256 gelu_ps(__m256 x) {
  __m256 z = _mm256_mul_ps(x, set1(0.70710678118654752f));
  __m256 t = abs_ps(z);
  // z^2 = x^2 / 2 exactly (hi + lo), from x rather than the rounded z.
  __m256 xc = _mm256_min_ps(abs_ps(x), set1(14.5f));
  __m256 hi = _mm256_mul_ps(xc, xc);
  __m256 lo = _mm256_mul_ps(_mm256_fmsub_ps(xc, xc, hi), set1(0.5f));
  hi = _mm256_mul_ps(hi, set1(0.5f));
  __m256 c = erfc_tail_ps(_mm256_min_ps(t, set1(10.0f)), hi, lo);  // erfc(|z|)
  // Past 10, erfc is below the smallest subnormal: exactly 0, as the exact form rounds.
  c = _mm256_andnot_ps(_mm256_cmp_ps(t, set1(10.0f), _CMP_GE_OQ), c);
  // z < 0: erfc(-z) = erfc(|z|); z > 0: erfc(-z) = 2 - erfc(z).
  __m256 erfc_neg_z = _mm256_blendv_ps(_mm256_sub_ps(set1(2.0f), c), c,
                                       _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ));
  __m256 small = _mm256_add_ps(set1(1.0f), erf_small(z));
  __m256 e = _mm256_blendv_ps(erfc_neg_z, small, _mm256_cmp_ps(t, set1(0.927734375f),
                                                               _CMP_LE_OQ));
  __m256 r = _mm256_mul_ps(_mm256_mul_ps(x, set1(0.5f)), e);
  return _mm256_blendv_ps(r, x, is_nan(x));
}

inline __m256 sigmoid_ps(__m256 x) {
  __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), e));
}

}  // namespace tessera::cpu::avx2
