// Unary and binary elementwise kernels for every numeric dtype, the scalar f32 table (the
// fallback of the AVX2 one) and the broadcast loop. f32 runs the table's array kernels on
// contiguous runs; f16/bf16 convert tiles to f32 through the dtype table, compute, and round
// once; integers compute natively and wrap (two's complement via unsigned arithmetic).
#include <cmath>
#include <cstring>
#include <type_traits>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {

// ---- broadcast loop -----------------------------------------------------------------------

ElemLoop make_elem_loop(const Shape& out, std::span<const Shape> inputs) {
  ElemLoop l;
  l.num_inputs = static_cast<int>(inputs.size());
  TS_ASSERT(l.num_inputs <= kMaxLoopInputs);
  // Per-input strides aligned to the output's dims (numpy: align at the right).
  int r = out.rank();
  std::array<std::array<int64_t, kMaxRank>, kMaxLoopInputs> st{};
  for (int k = 0; k < l.num_inputs; ++k) {
    const Shape& s = inputs[k];
    int64_t stride = 1;
    for (int i = r - 1; i >= 0; --i) {
      int j = s.rank() - r + i;
      int64_t d = j >= 0 ? s[j] : 1;
      st[k][i] = (d == 1) ? 0 : stride;
      stride *= d;
    }
  }
  // Drop size-1 dims, then merge neighbours that are contiguous for every operand.
  int n = 0;
  for (int i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    if (n > 0) {
      bool merge = true;
      for (int k = 0; k < l.num_inputs; ++k)
        merge = merge && l.strides[k][n - 1] == st[k][i] * out[i];
      if (merge) {
        l.dims[n - 1] *= out[i];
        for (int k = 0; k < l.num_inputs; ++k) l.strides[k][n - 1] = st[k][i];
        continue;
      }
    }
    l.dims[n] = out[i];
    for (int k = 0; k < l.num_inputs; ++k) l.strides[k][n] = st[k][i];
    ++n;
  }
  if (n == 0) {
    l.dims[0] = 1;
    for (int k = 0; k < l.num_inputs; ++k) l.strides[k][0] = 0;
    n = 1;
  }
  l.rank = n;
  return l;
}

namespace {

// ---- scalar f32 table ---------------------------------------------------------------------

template <float (*F)(float)>
void unary_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = F(x[i]);
}
float s_neg(float x) { return -x; }
float s_abs(float x) { return std::fabs(x); }
float s_relu(float x) { return std::isnan(x) ? x : (x > 0.0f ? x : 0.0f); }
float s_exp(float x) { return std::exp(x); }
float s_log(float x) { return std::log(x); }
float s_sqrt(float x) { return std::sqrt(x); }
float s_rsqrt(float x) { return 1.0f / std::sqrt(x); }
float s_tanh(float x) { return std::tanh(x); }
float s_sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float s_gelu(float x) { return 0.5f * x * std::erfc(-x * 0.70710678118654752f); }
float s_erf(float x) { return std::erf(x); }

template <float (*F)(float, float)>
void binary_scalar(const float* a, int64_t sa, const float* b, int64_t sb, float* y,
                   int64_t n) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) y[i] = F(a[i], b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = F(a[i * sa], b[i * sb]);
  }
}
float s_add(float a, float b) { return a + b; }
float s_sub(float a, float b) { return a - b; }
float s_mul(float a, float b) { return a * b; }
float s_div(float a, float b) { return a / b; }
float s_pow(float a, float b) { return std::pow(a, b); }
float s_max(float a, float b) { return std::isnan(a) || std::isnan(b) ? a + b : (a > b ? a : b); }
float s_min(float a, float b) { return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? a : b); }

F32Kernels make_scalar_table() {
  F32Kernels k{};
  auto u = [&](OpKind op, UnaryF32 f) { k.unary[static_cast<int>(op)] = f; };
  auto b = [&](OpKind op, BinaryF32 f) { k.binary[static_cast<int>(op)] = f; };
  u(OpKind::kNeg, unary_scalar<s_neg>);
  u(OpKind::kAbs, unary_scalar<s_abs>);
  u(OpKind::kRelu, unary_scalar<s_relu>);
  u(OpKind::kExp, unary_scalar<s_exp>);
  u(OpKind::kLog, unary_scalar<s_log>);
  u(OpKind::kSqrt, unary_scalar<s_sqrt>);
  u(OpKind::kRsqrt, unary_scalar<s_rsqrt>);
  u(OpKind::kTanh, unary_scalar<s_tanh>);
  u(OpKind::kSigmoid, unary_scalar<s_sigmoid>);
  u(OpKind::kGelu, unary_scalar<s_gelu>);
  u(OpKind::kErf, unary_scalar<s_erf>);
  b(OpKind::kAdd, binary_scalar<s_add>);
  b(OpKind::kSub, binary_scalar<s_sub>);
  b(OpKind::kMul, binary_scalar<s_mul>);
  b(OpKind::kDiv, binary_scalar<s_div>);
  b(OpKind::kPow, binary_scalar<s_pow>);
  b(OpKind::kMaximum, binary_scalar<s_max>);
  b(OpKind::kMinimum, binary_scalar<s_min>);
  k.sum = scalar_sum;
  k.max = scalar_max;
  k.add_into = scalar_add_into;
  k.max_into = scalar_max_into;
  k.softmax = scalar_softmax;
  k.log_softmax = scalar_log_softmax;
  k.logsumexp = scalar_logsumexp;
  return k;
}

bool is_costly(OpKind op) {
  switch (op) {
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kRelu:
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
      return false;
    default:
      return true;
  }
}

// ---- integer ops (wrapping) ----------------------------------------------------------------

template <typename T>
struct IntMath {
  using U = std::make_unsigned_t<T>;
  static T neg(T x) { return static_cast<T>(U(0) - static_cast<U>(x)); }
  static T abs(T x) { return x < 0 ? neg(x) : x; }
  static T relu(T x) { return x > 0 ? x : T(0); }
  static T add(T a, T b) { return static_cast<T>(static_cast<U>(a) + static_cast<U>(b)); }
  static T sub(T a, T b) { return static_cast<T>(static_cast<U>(a) - static_cast<U>(b)); }
  static T mul(T a, T b) {
    // Promote so i8 * i8 is not int arithmetic that UBSan could flag; wrap on the way back.
    using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, U>;
    return static_cast<T>(static_cast<W>(static_cast<U>(a)) * static_cast<W>(static_cast<U>(b)));
  }
  // b != 0 is checked by the caller; MIN / -1 wraps to MIN.
  static T div(T a, T b) { return b == T(-1) ? neg(a) : static_cast<T>(a / b); }
  static T max(T a, T b) { return a > b ? a : b; }
  static T min(T a, T b) { return a < b ? a : b; }
};

template <typename T>
void int_binary(const KernelArgs& args, const ElemLoop& l) {
  using M = IntMath<T>;
  const T* a = args.inputs[0].data<T>();
  const T* b = args.inputs[1].data<T>();
  T* y = args.output.data<T>();
  const int64_t sa = l.strides[0][l.rank - 1], sb = l.strides[1][l.rank - 1];
  const OpKind op = args.node.op;
  for_each_run(l, kCheapGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    const T* pa = a + off[0];
    const T* pb = b + off[1];
    T* py = y + o;
    switch (op) {
      case OpKind::kAdd: return binary_run(pa, sa, pb, sb, py, n, M::add);
      case OpKind::kSub: return binary_run(pa, sa, pb, sb, py, n, M::sub);
      case OpKind::kMul: return binary_run(pa, sa, pb, sb, py, n, M::mul);
      case OpKind::kMaximum: return binary_run(pa, sa, pb, sb, py, n, M::max);
      case OpKind::kMinimum: return binary_run(pa, sa, pb, sb, py, n, M::min);
      case OpKind::kDiv:
        for (int64_t i = 0; i < n; ++i)
          TS_CHECK(pb[i * sb] != 0, ErrorKind::kInvalidArgument,
                   "{}: integer division by zero (element {})", args.graph.describe(args.id),
                   o + i);
        return binary_run(pa, sa, pb, sb, py, n, M::div);
      default:
        TS_ASSERT(false);
    }
  });
}

template <typename T>
void int_unary(const KernelArgs& args) {
  using M = IntMath<T>;
  const T* x = args.inputs[0].data<T>();
  T* y = args.output.data<T>();
  const OpKind op = args.node.op;
  pool().parallel_for(args.output.numel(), kCheapGrain, [&](int64_t b, int64_t e) {
    switch (op) {
      case OpKind::kNeg:
        for (int64_t i = b; i < e; ++i) y[i] = M::neg(x[i]);
        break;
      case OpKind::kAbs:
        for (int64_t i = b; i < e; ++i) y[i] = M::abs(x[i]);
        break;
      case OpKind::kRelu:
        for (int64_t i = b; i < e; ++i) y[i] = M::relu(x[i]);
        break;
      default:
        TS_ASSERT(false);
    }
  });
}

// ---- f16 / bf16 through f32 tiles ---------------------------------------------------------

void half_unary(const KernelArgs& args, UnaryF32 f) {
  DType t = args.output.dtype();
  size_t es = t.size();
  const char* x = static_cast<const char*>(args.inputs[0].raw_data());
  char* y = static_cast<char*>(args.output.raw_data());
  pool().parallel_for(args.output.numel(), kCostlyGrain, [&](int64_t b, int64_t e) {
    float buf[kTile];
    for (int64_t i = b; i < e; i += kTile) {
      size_t n = static_cast<size_t>(std::min(kTile, e - i));
      convert(x + i * es, t, buf, kF32, n);
      f(buf, buf, static_cast<int64_t>(n));
      convert(buf, kF32, y + i * es, t, n);
    }
  });
}

void half_binary(const KernelArgs& args, const ElemLoop& l, BinaryF32 f) {
  DType t = args.output.dtype();
  size_t es = t.size();
  const char* a = static_cast<const char*>(args.inputs[0].raw_data());
  const char* b = static_cast<const char*>(args.inputs[1].raw_data());
  char* y = static_cast<char*>(args.output.raw_data());
  const int64_t sa = l.strides[0][l.rank - 1], sb = l.strides[1][l.rank - 1];
  for_each_run(l, kCostlyGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    float ba[kTile], bb[kTile];
    for (int64_t i = 0; i < n; i += kTile) {
      size_t m = static_cast<size_t>(std::min(kTile, n - i));
      convert(a + (off[0] + i * sa) * es, t, ba, kF32, sa ? m : 1);
      convert(b + (off[1] + i * sb) * es, t, bb, kF32, sb ? m : 1);
      f(ba, sa, bb, sb, ba, static_cast<int64_t>(m));
      convert(ba, kF32, y + (o + i) * es, t, m);
    }
  });
}

template <typename Fn>
void dispatch_int(DType t, Fn&& fn) {
  switch (t.id()) {
    case DTypeId::kI8: return fn(int8_t{});
    case DTypeId::kI32: return fn(int32_t{});
    case DTypeId::kI64: return fn(int64_t{});
    default: TS_ASSERT(false);
  }
}

}  // namespace

const F32Kernels& scalar_f32_kernels() {
  static const F32Kernels k = make_scalar_table();
  return k;
}

void unary_kernel(const KernelArgs& args) {
  DType t = args.output.dtype();
  if (t.is_int()) {
    dispatch_int(t, [&](auto v) { int_unary<decltype(v)>(args); });
    return;
  }
  UnaryF32 f = f32_kernels().unary[static_cast<int>(args.node.op)];
  TS_ASSERT(f != nullptr);
  if (t != kF32) return half_unary(args, f);
  const float* x = args.inputs[0].data<float>();
  float* y = args.output.data<float>();
  int64_t grain = is_costly(args.node.op) ? kCostlyGrain : kCheapGrain;
  pool().parallel_for(args.output.numel(), grain,
                      [&](int64_t b, int64_t e) { f(x + b, y + b, e - b); });
}

void binary_kernel(const KernelArgs& args) {
  const Shape shapes[2] = {args.inputs[0].shape(), args.inputs[1].shape()};
  ElemLoop l = make_elem_loop(args.output.shape(), shapes);
  DType t = args.output.dtype();
  if (t.is_int()) {
    dispatch_int(t, [&](auto v) { int_binary<decltype(v)>(args, l); });
    return;
  }
  BinaryF32 f = f32_kernels().binary[static_cast<int>(args.node.op)];
  TS_ASSERT(f != nullptr);
  if (t != kF32) return half_binary(args, l, f);
  const float* a = args.inputs[0].data<float>();
  const float* b = args.inputs[1].data<float>();
  float* y = args.output.data<float>();
  const int64_t sa = l.strides[0][l.rank - 1], sb = l.strides[1][l.rank - 1];
  int64_t grain = is_costly(args.node.op) ? kCostlyGrain : kCheapGrain;
  for_each_run(l, grain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    f(a + off[0], sa, b + off[1], sb, y + o, n);
  });
}

}  // namespace tessera::cpu
