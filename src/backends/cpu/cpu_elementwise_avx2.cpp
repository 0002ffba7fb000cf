// AVX2/FMA f32 kernels: unary and binary elementwise arrays and the row primitives of
// reductions and softmax. Tails run through masked loads and stores, so every element is
// computed by the same vector code (results do not depend on an element's position).
#include <cmath>

#include "cpu_internal.h"
#include "cpu_vecmath_avx2.h"

namespace tessera::cpu {
namespace {

using namespace avx2;  // NOLINT: the vector math vocabulary of this file

inline __m256i tail_mask(int64_t r) {
  alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                 0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - r));
}

template <typename Op>
void unary_loop(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a0 = _mm256_loadu_ps(x + i), a1 = _mm256_loadu_ps(x + i + 8);
    _mm256_storeu_ps(y + i, Op::v(a0));
    _mm256_storeu_ps(y + i + 8, Op::v(a1));
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, Op::v(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i m = tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, Op::v(_mm256_maskload_ps(x + i, m)));
  }
}

struct Neg { static __m256 v(__m256 x) { return _mm256_xor_ps(x, set1(-0.0f)); } };
struct Abs { static __m256 v(__m256 x) { return abs_ps(x); } };
// relu keeps NaN (max(x, 0) with NaN propagation).
struct Relu { static __m256 v(__m256 x) { return max_nan(x, _mm256_setzero_ps()); } };
struct Exp { static __m256 v(__m256 x) { return exp_ps(x); } };
struct Log { static __m256 v(__m256 x) { return log_ps(x); } };
struct Sqrt { static __m256 v(__m256 x) { return _mm256_sqrt_ps(x); } };
struct Rsqrt {
  static __m256 v(__m256 x) { return _mm256_div_ps(set1(1.0f), _mm256_sqrt_ps(x)); }
};
struct Tanh { static __m256 v(__m256 x) { return tanh_ps(x); } };
struct Sigmoid { static __m256 v(__m256 x) { return sigmoid_ps(x); } };
struct Gelu { static __m256 v(__m256 x) { return gelu_ps(x); } };
struct Erf { static __m256 v(__m256 x) { return erf_ps(x); } };

template <typename Op>
void binary_loop(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  auto load = [](const float* p, int64_t s, int64_t i) {
    return s ? _mm256_loadu_ps(p + i) : _mm256_set1_ps(*p);
  };
  int64_t i = 0;
  if (sa && sb) {
    for (; i + 16 <= n; i += 16) {
      __m256 r0 = Op::v(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
      __m256 r1 = Op::v(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
      _mm256_storeu_ps(y + i, r0);
      _mm256_storeu_ps(y + i + 8, r1);
    }
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, Op::v(load(a, sa, i), load(b, sb, i)));
  if (i < n) {
    __m256i m = tail_mask(n - i);
    __m256 va = sa ? _mm256_maskload_ps(a + i, m) : _mm256_set1_ps(*a);
    __m256 vb = sb ? _mm256_maskload_ps(b + i, m) : _mm256_set1_ps(*b);
    _mm256_maskstore_ps(y + i, m, Op::v(va, vb));
  }
}

struct Add { static __m256 v(__m256 a, __m256 b) { return _mm256_add_ps(a, b); } };
struct Sub { static __m256 v(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); } };
struct Mul { static __m256 v(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); } };
struct Div { static __m256 v(__m256 a, __m256 b) { return _mm256_div_ps(a, b); } };
struct Max {
  static __m256 v(__m256 a, __m256 b) { return _mm256_blendv_ps(max_nan(a, b), b, is_nan(b)); }
};
struct Min {
  static __m256 v(__m256 a, __m256 b) { return _mm256_blendv_ps(min_nan(a, b), b, is_nan(b)); }
};

// pow has no vector form here: C powf per element (its edge cases are many and exact).
void pow_loop(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::pow(a[i * sa], b[i * sb]);
}

// ---- row primitives -----------------------------------------------------------------

float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float hmax(__m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float m = lanes[0];
  for (int i = 1; i < 8; ++i) m = (std::isnan(m) || m >= lanes[i]) ? m : lanes[i];
  return m;
}

float row_sum(const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
  if (i < n) s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + i, tail_mask(n - i)));
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

float row_max(const float* x, int64_t n) {
  const __m256 ninf = set1(-__builtin_inff());
  __m256 m0 = ninf, m1 = ninf;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = max_nan(m0, _mm256_loadu_ps(x + i));
    m1 = max_nan(m1, _mm256_loadu_ps(x + i + 8));
  }
  for (; i + 8 <= n; i += 8) m0 = max_nan(m0, _mm256_loadu_ps(x + i));
  if (i < n) {
    __m256i m = tail_mask(n - i);
    __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m));
    m1 = max_nan(m1, v);
  }
  return hmax(max_nan(m0, m1));
}

void row_add_into(float* acc, const float* x, int64_t n) {
  binary_loop<Add>(acc, 1, x, 1, acc, n);
}
void row_max_into(float* acc, const float* x, int64_t n) {
  binary_loop<Max>(acc, 1, x, 1, acc, n);
}

// y = exp(x - m), returning the sum of y.
float exp_shifted(const float* x, float m, float* y, int64_t n) {
  __m256 vm = set1(m), s0 = _mm256_setzero_ps(), s1 = s0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    if (y) _mm256_storeu_ps(y + i, e);
    s0 = _mm256_add_ps(s0, e);
  }
  if (i < n) {
    __m256i mask = tail_mask(n - i);
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), vm));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
    if (y) _mm256_maskstore_ps(y + i, mask, e);
    s1 = e;
  }
  return hsum(_mm256_add_ps(s0, s1));
}

void row_softmax(const float* x, float* y, int64_t n) {
  float m = row_max(x, n);
  float s = exp_shifted(x, m, y, n);
  float inv = 1.0f / s;
  __m256 vi = set1(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), vi));
  for (; i < n; ++i) y[i] *= inv;
}

void row_log_softmax(const float* x, float* y, int64_t n) {
  float m = row_max(x, n);
  float ls = std::log(exp_shifted(x, m, nullptr, n));
  __m256 vm = set1(m), vl = set1(ls);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vl));
  for (; i < n; ++i) y[i] = (x[i] - m) - ls;
}

float row_logsumexp(const float* x, int64_t n) {
  float m = row_max(x, n);
  return m + std::log(exp_shifted(x, m, nullptr, n));
}

F32Kernels make_table() {
  F32Kernels k{};
  auto u = [&](OpKind op, UnaryF32 f) { k.unary[static_cast<int>(op)] = f; };
  auto b = [&](OpKind op, BinaryF32 f) { k.binary[static_cast<int>(op)] = f; };
  u(OpKind::kNeg, unary_loop<Neg>);
  u(OpKind::kAbs, unary_loop<Abs>);
  u(OpKind::kRelu, unary_loop<Relu>);
  u(OpKind::kExp, unary_loop<Exp>);
  u(OpKind::kLog, unary_loop<Log>);
  u(OpKind::kSqrt, unary_loop<Sqrt>);
  u(OpKind::kRsqrt, unary_loop<Rsqrt>);
  u(OpKind::kTanh, unary_loop<Tanh>);
  u(OpKind::kSigmoid, unary_loop<Sigmoid>);
  u(OpKind::kGelu, unary_loop<Gelu>);
  u(OpKind::kErf, unary_loop<Erf>);
  b(OpKind::kAdd, binary_loop<Add>);
  b(OpKind::kSub, binary_loop<Sub>);
  b(OpKind::kMul, binary_loop<Mul>);
  b(OpKind::kDiv, binary_loop<Div>);
  b(OpKind::kPow, pow_loop);
  b(OpKind::kMaximum, binary_loop<Max>);
  b(OpKind::kMinimum, binary_loop<Min>);
  k.sum = row_sum;
  k.max = row_max;
  k.add_into = row_add_into;
  k.max_into = row_max_into;
  k.softmax = row_softmax;
  k.log_softmax = row_log_softmax;
  k.logsumexp = row_logsumexp;
  return k;
}

}  // namespace

const F32Kernels& avx2_f32_kernels() {
  static const F32Kernels k = make_table();
  return k;
}

}  // namespace tessera::cpu
