// softmax, log_softmax and cross_entropy as direct row kernels (max, exp-sum, normalize in
// one pass over a row held in cache), plus the scalar row primitives of the f32 table.
// f16/bf16 rows are converted to f32 scratch, computed, and rounded once.
#include <cmath>
#include <limits>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {

// ---- scalar row primitives ---------------------------------------------------------------

float scalar_sum(const float* x, int64_t n) {
  // Eight interleaved accumulators, like the vector kernel's lanes: shorter error chains.
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  for (int j = 0; i < n; ++i, ++j) acc[j] += x[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

namespace {
inline float max_nan(float a, float b) { return (std::isnan(a) || a >= b) ? a : b; }
}  // namespace

float scalar_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = max_nan(m, x[i]);
  return m;
}

void scalar_add_into(float* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
}

void scalar_max_into(float* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = std::isnan(x[i]) ? x[i] : max_nan(acc[i], x[i]);
}

void scalar_softmax(const float* x, float* y, int64_t n) {
  float m = scalar_max(x, n);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
  float inv = 1.0f / s;
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void scalar_log_softmax(const float* x, float* y, int64_t n) {
  float m = scalar_max(x, n);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  float ls = std::log(s);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
}

float scalar_logsumexp(const float* x, int64_t n) {
  float m = scalar_max(x, n);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

// ---- kernels ------------------------------------------------------------------------------

namespace {

// Converts a non-f32 tensor into f32 scratch slot `Slot` (in parallel).
template <int Slot>
const float* as_f32(const Tensor& t) {
  if (t.dtype() == kF32) return t.data<float>();
  int64_t n = t.numel();
  float* buf = scratch<Slot>(static_cast<size_t>(n));
  const char* src = static_cast<const char*>(t.raw_data());
  size_t es = t.dtype().size();
  DType dt = t.dtype();
  pool().parallel_for(n, kCheapGrain, [&](int64_t b, int64_t e) {
    convert(src + b * es, dt, buf + b, kF32, static_cast<size_t>(e - b));
  });
  return buf;
}

}  // namespace

void softmax_kernel(const KernelArgs& args) {
  const Tensor& in = args.inputs[0];
  const Shape& s = in.shape();
  const int axis = s.normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  int64_t P = 1, C = s[axis], K = 1;
  for (int i = 0; i < axis; ++i) P *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) K *= s[i];
  const DType t = in.dtype();
  const float* x = as_f32<8>(in);
  float* y = t == kF32 ? args.output.data<float>() : scratch<9>(static_cast<size_t>(in.numel()));
  const F32Kernels& kern = f32_kernels();
  const auto row = args.node.op == OpKind::kSoftmax ? kern.softmax : kern.log_softmax;
  if (C > 0) {
    if (K == 1) {
      pool().parallel_for(P, std::max<int64_t>(1, kCostlyGrain / C), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) row(x + p * C, y + p * C, C);
      });
    } else {
      // A strided axis: gather each column into a contiguous row, compute, scatter back.
      pool().parallel_for(P * K, std::max<int64_t>(1, kCostlyGrain / C), [&](int64_t b,
                                                                             int64_t e) {
        float* buf = scratch<10>(static_cast<size_t>(C));
        for (int64_t it = b; it < e; ++it) {
          int64_t p = it / K, k = it % K;
          const float* xs = x + p * C * K + k;
          for (int64_t c = 0; c < C; ++c) buf[c] = xs[c * K];
          row(buf, buf, C);
          float* ys = y + p * C * K + k;
          for (int64_t c = 0; c < C; ++c) ys[c * K] = buf[c];
        }
      });
    }
  }
  if (t != kF32)
    convert(y, kF32, args.output.raw_data(), t, static_cast<size_t>(args.output.numel()));
}

void cross_entropy_kernel(const KernelArgs& args) {
  const Tensor& logits = args.inputs[0];
  const Tensor& labels = args.inputs[1];
  const int64_t C = logits.shape()[logits.rank() - 1];
  const int64_t P = labels.numel();
  const bool i64 = labels.dtype() == kI64;
  auto label = [&](int64_t p) -> int64_t {
    return i64 ? labels.data<int64_t>()[p] : labels.data<int32_t>()[p];
  };
  for (int64_t p = 0; p < P; ++p) {
    int64_t l = label(p);
    TS_CHECK(l >= 0 && l < C, ErrorKind::kInvalidArgument,
             "{}: label {} at position {} is outside [0, {})", args.graph.describe(args.id), l,
             p, C);
  }
  const DType t = logits.dtype();
  const float* x = as_f32<8>(logits);
  float* y = t == kF32 ? args.output.data<float>() : scratch<9>(static_cast<size_t>(P));
  const F32Kernels& kern = f32_kernels();
  pool().parallel_for(P, std::max<int64_t>(1, kCostlyGrain / std::max<int64_t>(C, 1)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t p = b; p < e; ++p) {
                          const float* row = x + p * C;
                          y[p] = kern.logsumexp(row, C) - row[label(p)];
                        }
                      });
  if (t != kF32) convert(y, kF32, args.output.raw_data(), t, static_cast<size_t>(P));
}

}  // namespace tessera::cpu
