// Elementwise kernels: unary and binary arithmetic, comparisons, where, cast and the fused
// elementwise interpreter. Float types compute in f32 (precise math functions, no fast-math
// intrinsics) and round once; integers compute in 64-bit unsigned arithmetic so that
// overflow wraps (two's complement) as docs/ops.md requires.
#include <cmath>

#include "cuda_device.cuh"

namespace tessera::cuda {
namespace {

__device__ __forceinline__ float unary_f(OpKind op, float x) {
  switch (op) {
    case OpKind::kNeg:
      return -x;
    case OpKind::kAbs:
      return fabsf(x);
    case OpKind::kExp:
      return expf(x);
    case OpKind::kLog:
      return logf(x);
    case OpKind::kSqrt:
      return sqrtf(x);
    case OpKind::kRsqrt:
      return 1.f / sqrtf(x);
    case OpKind::kTanh:
      return tanhf(x);
    case OpKind::kSigmoid:
      return 1.f / (1.f + expf(-x));
    case OpKind::kRelu:
      return x > 0.f ? x : (x == x ? 0.f : x);  // NaN stays NaN
    case OpKind::kGelu:
      return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case OpKind::kErf:
      return erff(x);
    default:
      return x;
  }
}

__device__ __forceinline__ float binary_f(OpKind op, float a, float b) {
  switch (op) {
    case OpKind::kAdd:
      return a + b;
    case OpKind::kSub:
      return a - b;
    case OpKind::kMul:
      return a * b;
    case OpKind::kDiv:
      return a / b;
    case OpKind::kPow:
      return powf(a, b);
    case OpKind::kMaximum:
      return (a != a || b != b) ? a + b : fmaxf(a, b);
    case OpKind::kMinimum:
      return (a != a || b != b) ? a + b : fminf(a, b);
    default:
      return 0.f;
  }
}

__device__ __forceinline__ bool compare(OpKind op, float a, float b) {
  switch (op) {
    case OpKind::kEqual:
      return a == b;
    case OpKind::kNotEqual:
      return a != b;
    case OpKind::kLess:
      return a < b;
    case OpKind::kLessEqual:
      return a <= b;
    case OpKind::kGreater:
      return a > b;
    case OpKind::kGreaterEqual:
      return a >= b;
    default:
      return false;
  }
}

__device__ __forceinline__ bool compare_i(OpKind op, int64_t a, int64_t b) {
  switch (op) {
    case OpKind::kEqual:
      return a == b;
    case OpKind::kNotEqual:
      return a != b;
    case OpKind::kLess:
      return a < b;
    case OpKind::kLessEqual:
      return a <= b;
    case OpKind::kGreater:
      return a > b;
    case OpKind::kGreaterEqual:
      return a >= b;
    default:
      return false;
  }
}

// Wrapping integer arithmetic (no division: the host leaves integer div to the cpu, which
// reports division by zero).
__device__ __forceinline__ int64_t unary_i(OpKind op, int64_t x) {
  uint64_t u = static_cast<uint64_t>(x);
  switch (op) {
    case OpKind::kNeg:
      return static_cast<int64_t>(0ull - u);
    case OpKind::kAbs:
      return x < 0 ? static_cast<int64_t>(0ull - u) : x;
    case OpKind::kRelu:
      return x > 0 ? x : 0;
    default:
      return x;
  }
}

__device__ __forceinline__ int64_t binary_i(OpKind op, int64_t a, int64_t b) {
  uint64_t ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
  switch (op) {
    case OpKind::kAdd:
      return static_cast<int64_t>(ua + ub);
    case OpKind::kSub:
      return static_cast<int64_t>(ua - ub);
    case OpKind::kMul:
      return static_cast<int64_t>(ua * ub);
    case OpKind::kMaximum:
      return a > b ? a : b;
    case OpKind::kMinimum:
      return a < b ? a : b;
    default:
      return 0;
  }
}

template <typename T>
__global__ void unary_float_kernel(OpKind op, const T* x, T* y, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    y[i] = from_f32<T>(unary_f(op, to_f32(x[i])));
}

template <typename T>
__global__ void unary_int_kernel(OpKind op, const T* x, T* y, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads())
    y[i] = static_cast<T>(unary_i(op, static_cast<int64_t>(x[i])));
}

// Operand offsets of output element i.
__device__ __forceinline__ void operand_offsets(const ElemDesc& d, int64_t i, int64_t* off) {
  for (int k = 0; k < d.num_operands; ++k) off[k] = 0;
  for (int dim = d.rank - 1; dim >= 0; --dim) {
    int64_t q = i / d.dims[dim];
    int64_t r = i - q * d.dims[dim];
    for (int k = 0; k < d.num_operands; ++k) off[k] += r * d.strides[k][dim];
    i = q;
  }
}

template <typename T>
__global__ void binary_float_kernel(OpKind op, ElemDesc d, const T* a, const T* b, T* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t off[3] = {i, i, i};
    if (!d.contiguous) operand_offsets(d, i, off);
    y[i] = from_f32<T>(binary_f(op, to_f32(a[off[0]]), to_f32(b[off[1]])));
  }
}

template <typename T>
__global__ void binary_int_kernel(OpKind op, ElemDesc d, const T* a, const T* b, T* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t off[3] = {i, i, i};
    if (!d.contiguous) operand_offsets(d, i, off);
    y[i] = static_cast<T>(
        binary_i(op, static_cast<int64_t>(a[off[0]]), static_cast<int64_t>(b[off[1]])));
  }
}

template <typename T>
__global__ void compare_float_kernel(OpKind op, ElemDesc d, const T* a, const T* b, uint8_t* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t off[3] = {i, i, i};
    if (!d.contiguous) operand_offsets(d, i, off);
    y[i] = compare(op, to_f32(a[off[0]]), to_f32(b[off[1]])) ? 1 : 0;
  }
}

template <typename T>
__global__ void compare_int_kernel(OpKind op, ElemDesc d, const T* a, const T* b, uint8_t* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t off[3] = {i, i, i};
    if (!d.contiguous) operand_offsets(d, i, off);
    y[i] = compare_i(op, static_cast<int64_t>(a[off[0]]), static_cast<int64_t>(b[off[1]])) ? 1 : 0;
  }
}

template <typename E>
__global__ void where_kernel(ElemDesc d, const uint8_t* c, const E* a, const E* b, E* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t off[3] = {i, i, i};
    if (!d.contiguous) operand_offsets(d, i, off);
    y[i] = c[off[0]] ? a[off[1]] : b[off[2]];
  }
}

bool is_compare(OpKind op) {
  return op == OpKind::kEqual || op == OpKind::kNotEqual || op == OpKind::kLess ||
         op == OpKind::kLessEqual || op == OpKind::kGreater || op == OpKind::kGreaterEqual;
}

// ---- cast -----------------------------------------------------------------------------
// As the dtype table converts (convert_element): float -> int truncates toward zero and
// saturates (NaN -> 0), int -> narrower int saturates, -> bool is x != 0, and every result
// is rounded once from the exact source value.
__device__ __forceinline__ double load_as_double(DevType t, const void* p, int64_t i) {
  switch (t) {
    case DevType::kF32:
      return static_cast<const float*>(p)[i];
    case DevType::kBF16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case DevType::kF16:
      return __half2float(static_cast<const __half*>(p)[i]);
    case DevType::kI32:
      return static_cast<const int32_t*>(p)[i];
    case DevType::kI64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DevType::kBool:
      return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
    case DevType::kI8:
      return static_cast<const int8_t*>(p)[i];
  }
  return 0;
}

__device__ __forceinline__ bool is_int_type(DevType t) {
  return t == DevType::kI32 || t == DevType::kI64 || t == DevType::kI8 || t == DevType::kBool;
}

__device__ __forceinline__ int64_t load_as_int(DevType t, const void* p, int64_t i) {
  switch (t) {
    case DevType::kI32:
      return static_cast<const int32_t*>(p)[i];
    case DevType::kI64:
      return static_cast<const int64_t*>(p)[i];
    case DevType::kI8:
      return static_cast<const int8_t*>(p)[i];
    case DevType::kBool:
      return static_cast<const uint8_t*>(p)[i] ? 1 : 0;
    default:
      return 0;
  }
}

// An integer rounded to f32 toward zero, the last mantissa bit set when inexact (round to
// odd): rounding that once more to bf16/f16 equals rounding the integer itself, as the dtype
// table does (round_to_odd_f32, core/half.cpp). Through double, an i64 past 2^53 would be
// rounded twice and could land on the wrong side of a halfway point.
__device__ __forceinline__ float int_to_f32_odd(int64_t v) {
  float f = __ll2float_rz(v);
  if (static_cast<int64_t>(f) != v) f = __int_as_float(__float_as_int(f) | 1);
  return f;
}

__device__ __forceinline__ int64_t saturate_double(double v, double lo, double hi) {
  if (v != v) return 0;
  if (v <= lo) return static_cast<int64_t>(lo);
  if (v >= hi) return static_cast<int64_t>(hi);
  return static_cast<int64_t>(v);  // truncates toward zero
}

__global__ void cast_kernel(DevType from, DevType to, const void* x, void* y, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const bool int_src = is_int_type(from);
    switch (to) {
      case DevType::kF32:  // int64 -> f32 rounds once (cvt.rn); via double it would not
        static_cast<float*>(y)[i] = int_src ? static_cast<float>(load_as_int(from, x, i))
                                            : static_cast<float>(load_as_double(from, x, i));
        break;
      case DevType::kBF16:
        static_cast<__nv_bfloat16*>(y)[i] =
            int_src ? __float2bfloat16_rn(int_to_f32_odd(load_as_int(from, x, i)))
                    : __float2bfloat16_rn(static_cast<float>(load_as_double(from, x, i)));
        break;
      case DevType::kF16:
        static_cast<__half*>(y)[i] =
            int_src ? __float2half_rn(int_to_f32_odd(load_as_int(from, x, i)))
                    : __float2half_rn(static_cast<float>(load_as_double(from, x, i)));
        break;
      case DevType::kBool:
        static_cast<uint8_t*>(y)[i] =
            int_src ? (load_as_int(from, x, i) != 0) : (load_as_double(from, x, i) != 0.0);
        break;
      case DevType::kI32:
      case DevType::kI64:
      case DevType::kI8: {
        int64_t v;
        const int64_t lo = to == DevType::kI32  ? INT32_MIN
                           : to == DevType::kI8 ? INT8_MIN
                                                : INT64_MIN;
        const int64_t hi = to == DevType::kI32  ? INT32_MAX
                           : to == DevType::kI8 ? INT8_MAX
                                                : INT64_MAX;
        if (int_src) {
          v = load_as_int(from, x, i);
          v = v < lo ? lo : v > hi ? hi : v;
        } else {
          // 2^63 is not representable in int64: compare against the doubles bounding it.
          double d = load_as_double(from, x, i);
          if (to == DevType::kI64) {
            v = d != d                       ? 0
                : d >= 9223372036854775808.0 ? INT64_MAX
                : d < -9223372036854775808.0 ? INT64_MIN
                                             : static_cast<int64_t>(d);
          } else {
            v = saturate_double(d, static_cast<double>(lo), static_cast<double>(hi));
          }
        }
        if (to == DevType::kI32)
          static_cast<int32_t*>(y)[i] = static_cast<int32_t>(v);
        else if (to == DevType::kI8)
          static_cast<int8_t*>(y)[i] = static_cast<int8_t>(v);
        else
          static_cast<int64_t*>(y)[i] = v;
        break;
      }
    }
  }
}

// ---- fused ----------------------------------------------------------------------------
struct FusedInputs {
  const float* p[kMaxFusedOperands];
};

__global__ void fused_kernel(const FusedDevInstr* __restrict__ instrs, int32_t num_instrs,
                             int32_t num_inputs, ElemDesc d, FusedInputs in, float* y) {
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    float r[kMaxFusedSlots];
    if (d.contiguous) {
      for (int k = 0; k < num_inputs; ++k) r[k] = in.p[k][i];
    } else {
      int64_t off[kMaxFusedOperands];
      operand_offsets(d, i, off);
      for (int k = 0; k < num_inputs; ++k) r[k] = in.p[k][off[k]];
    }
    float v = 0.f;
    for (int j = 0; j < num_instrs; ++j) {
      const FusedDevInstr ins = instrs[j];
      const OpKind op = static_cast<OpKind>(ins.op);
      const float a = r[ins.a];
      v = ins.b < 0 ? unary_f(op, a) : binary_f(op, a, r[ins.b]);
      r[ins.dst] = v;
    }
    y[i] = v;
  }
}

}  // namespace

void launch_unary(OpKind op, DevType t, const void* x, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  const unsigned g = grid_for(n);
  switch (t) {
    case DevType::kI32:
      unary_int_kernel<<<g, kThreads, 0, s>>>(op, static_cast<const int32_t*>(x),
                                              static_cast<int32_t*>(y), n);
      return;
    case DevType::kI64:
      unary_int_kernel<<<g, kThreads, 0, s>>>(op, static_cast<const int64_t*>(x),
                                              static_cast<int64_t*>(y), n);
      return;
    default:
      dispatch_float(t, [&](auto tag) {
        using T = decltype(tag);
        unary_float_kernel<<<g, kThreads, 0, s>>>(op, static_cast<const T*>(x), static_cast<T*>(y),
                                                  n);
      });
  }
}

void launch_binary(OpKind op, DevType t, const ElemDesc& d, const void* a, const void* b, void* y,
                   cudaStream_t s) {
  if (d.numel == 0) return;
  const unsigned g = grid_for(d.numel);
  if (is_compare(op)) {
    uint8_t* out = static_cast<uint8_t*>(y);
    switch (t) {
      case DevType::kI32:
        compare_int_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const int32_t*>(a),
                                                  static_cast<const int32_t*>(b), out);
        return;
      case DevType::kI64:
        compare_int_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const int64_t*>(a),
                                                  static_cast<const int64_t*>(b), out);
        return;
      case DevType::kBool:
        compare_int_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const uint8_t*>(a),
                                                  static_cast<const uint8_t*>(b), out);
        return;
      default:
        dispatch_float(t, [&](auto tag) {
          using T = decltype(tag);
          compare_float_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const T*>(a),
                                                      static_cast<const T*>(b), out);
        });
        return;
    }
  }
  switch (t) {
    case DevType::kI32:
      binary_int_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const int32_t*>(a),
                                               static_cast<const int32_t*>(b),
                                               static_cast<int32_t*>(y));
      return;
    case DevType::kI64:
      binary_int_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const int64_t*>(a),
                                               static_cast<const int64_t*>(b),
                                               static_cast<int64_t*>(y));
      return;
    default:
      dispatch_float(t, [&](auto tag) {
        using T = decltype(tag);
        binary_float_kernel<<<g, kThreads, 0, s>>>(op, d, static_cast<const T*>(a),
                                                   static_cast<const T*>(b), static_cast<T*>(y));
      });
  }
}

void launch_where(int elem_size, const ElemDesc& d, const void* cond, const void* a, const void* b,
                  void* y, cudaStream_t s) {
  if (d.numel == 0) return;
  const unsigned g = grid_for(d.numel);
  const uint8_t* c = static_cast<const uint8_t*>(cond);
  switch (elem_size) {
    case 1:
      where_kernel<<<g, kThreads, 0, s>>>(d, c, static_cast<const uint8_t*>(a),
                                          static_cast<const uint8_t*>(b), static_cast<uint8_t*>(y));
      break;
    case 2:
      where_kernel<<<g, kThreads, 0, s>>>(d, c, static_cast<const uint16_t*>(a),
                                          static_cast<const uint16_t*>(b),
                                          static_cast<uint16_t*>(y));
      break;
    case 4:
      where_kernel<<<g, kThreads, 0, s>>>(d, c, static_cast<const uint32_t*>(a),
                                          static_cast<const uint32_t*>(b),
                                          static_cast<uint32_t*>(y));
      break;
    default:
      where_kernel<<<g, kThreads, 0, s>>>(d, c, static_cast<const uint64_t*>(a),
                                          static_cast<const uint64_t*>(b),
                                          static_cast<uint64_t*>(y));
      break;
  }
}

void launch_cast(DevType from, DevType to, const void* x, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  cast_kernel<<<grid_for(n), kThreads, 0, s>>>(from, to, x, y, n);
}

void launch_fused(const FusedDevInstr* instrs, int32_t num_instrs, int32_t num_slots,
                  const ElemDesc& d, const float* const* inputs, float* y, cudaStream_t s) {
  (void)num_slots;  // checked by the host against kMaxFusedSlots
  if (d.numel == 0) return;
  FusedInputs in{};
  for (int k = 0; k < d.num_operands; ++k) in.p[k] = inputs[k];
  fused_kernel<<<grid_for(d.numel), kThreads, 0, s>>>(instrs, num_instrs, d.num_operands, d, in, y);
}

}  // namespace tessera::cuda
