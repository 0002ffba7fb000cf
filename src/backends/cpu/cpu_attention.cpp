// attention as a streaming (online-softmax, flash-attention style) kernel: the Tq x Tk score
// matrix is never materialised. Work items are (batch·head, block of 32 queries) on the pool;
// each walks the keys in blocks of 64, keeping per query a running maximum m, a running sum
// l and an accumulator of Dv values, rescaled by exp(m_old - m_new) when the maximum grows.
// Only the keys a query may see are visited (j < L, and j <= i + L - Tq when causal), so a
// decode step (Tq = 1) against a cache of L keys costs O(L), whatever the cache's size.
//
// Determinism: each query row is computed by one item in a fixed key order, so the result
// does not depend on the thread count. f16/bf16 inputs are converted to f32 once, computed
// in f32 and rounded once.
#include "cpu_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu_internal.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

constexpr int64_t kQueryBlock = 32;
constexpr int64_t kKeyBlock = 64;
// Floating-point work per parallel chunk: below it the chunk runs on the calling thread.
constexpr double kChunkFlops = 1 << 20;

// ---- scalar row primitives -------------------------------------------------------------

float scalar_scores(const float* q, const float* k, int64_t d, int64_t n, float scale, float* s) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    const float* kj = k + j * d;
    float acc[8] = {};
    int64_t c = 0;
    for (; c + 8 <= d; c += 8)
      for (int l = 0; l < 8; ++l) acc[l] += q[c + l] * kj[c + l];
    for (int l = 0; c < d; ++c, ++l) acc[l] += q[c] * kj[c];
    s[j] =
        (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))) * scale;
    m = std::max(m, s[j]);
  }
  return m;
}

float scalar_exp_shifted(float* s, float m, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] - m));
  return sum;
}

void scalar_accumulate(const float* p, const float* v, int64_t n, int64_t dv, float corr,
                       float* acc) {
  for (int64_t c = 0; c < dv; ++c) acc[c] *= corr;
  for (int64_t j = 0; j < n; ++j) {
    const float* vj = v + j * dv;
    const float pj = p[j];
    for (int64_t c = 0; c < dv; ++c) acc[c] += pj * vj[c];
  }
}

const AttentionRowKernels& row_kernels() {
  // The same switch as the elementwise table (cpu_force_scalar included).
  return &f32_kernels() == &scalar_f32_kernels() ? scalar_attention_kernels()
                                                 : avx2_attention_kernels();
}

// A non-f32 tensor converted into f32 scratch slot `Slot`.
template <int Slot>
const float* as_f32(const Tensor& t) {
  if (t.dtype() == kF32) return t.data<float>();
  int64_t n = t.numel();
  float* buf = scratch<Slot>(static_cast<size_t>(n));
  const char* src = static_cast<const char*>(t.raw_data());
  const size_t es = t.dtype().size();
  const DType dt = t.dtype();
  pool().parallel_for(n, kCheapGrain, [&](int64_t b, int64_t e) {
    convert(src + b * es, dt, buf + b, kF32, static_cast<size_t>(e - b));
  });
  return buf;
}

int64_t scalar_index(const Tensor& t) {
  return t.dtype() == kI64 ? t.data<int64_t>()[0] : t.data<int32_t>()[0];
}

struct Dims {
  int64_t heads, tq, tk, d, dv, len;
  float scale;
  bool causal;
  // Keys query i sees: [0, visible(i)).
  int64_t visible(int64_t i) const {
    return causal ? std::clamp<int64_t>(i + 1 + len - tq, 0, len) : len;
  }
};

// Queries [i0, i1) of head h: y rows = softmax(scores) · v over the visible keys.
void attend_block(const Dims& a, const AttentionRowKernels& rk, const float* q, const float* k,
                  const float* v, float* y, int64_t h, int64_t i0, int64_t i1) {
  const int64_t rows = i1 - i0;
  float* state = scratch<21>(static_cast<size_t>(rows * (a.dv + 2) + kKeyBlock));
  float* m = state;
  float* l = m + rows;
  float* acc = l + rows;
  float* s = acc + rows * a.dv;
  std::fill(m, m + rows, -std::numeric_limits<float>::infinity());
  std::fill(l, l + rows, 0.0f);
  std::fill(acc, acc + rows * a.dv, 0.0f);
  const float* qh = q + h * a.tq * a.d;
  const float* kh = k + h * a.tk * a.d;
  const float* vh = v + h * a.tk * a.dv;
  const int64_t last = a.visible(i1 - 1);  // the most any row of the block sees
  for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = std::min(a.visible(i0 + r), j0 + kKeyBlock) - j0;
      if (n <= 0) continue;
      const float m_new =
          std::max(m[r], rk.scores(qh + (i0 + r) * a.d, kh + j0 * a.d, a.d, n, a.scale, s));
      const float corr = m_new == m[r] ? 1.0f : std::exp(m[r] - m_new);
      l[r] = l[r] * corr + rk.exp_shifted(s, m_new, n);
      rk.accumulate(s, vh + j0 * a.dv, n, a.dv, corr, acc + r * a.dv);
      m[r] = m_new;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* out = y + (h * a.tq + i0 + r) * a.dv;
    // A row that sees no key gives 0 (docs/ops.md).
    const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    for (int64_t c = 0; c < a.dv; ++c) out[c] = acc[r * a.dv + c] * inv;
  }
}

}  // namespace

const AttentionRowKernels& scalar_attention_kernels() {
  static const AttentionRowKernels k = {scalar_scores, scalar_exp_shifted, scalar_accumulate};
  return k;
}

void attention_kernel(const KernelArgs& args) {
  const Tensor& qt = args.inputs[0];
  const Shape& qs = qt.shape();
  const int r = qs.rank();
  Dims a;
  a.tq = qs[r - 2];
  a.d = qs[r - 1];
  a.tk = args.inputs[1].shape()[r - 2];
  a.dv = args.inputs[2].shape()[r - 1];
  a.heads = 1;
  for (int i = 0; i < r - 2; ++i) a.heads *= qs[i];
  a.scale = static_cast<float>(args.node.attrs.get_float_or(
      "scale", 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(a.d, 1)))));
  a.causal = args.node.attrs.get_int_or("causal", 0) != 0;
  a.len =
      args.inputs.size() > 3 ? std::clamp<int64_t>(scalar_index(args.inputs[3]), 0, a.tk) : a.tk;
  const DType t = qt.dtype();
  const float* q = as_f32<22>(qt);
  const float* k = as_f32<23>(args.inputs[1]);
  const float* v = as_f32<24>(args.inputs[2]);
  float* y =
      t == kF32 ? args.output.data<float>() : scratch<25>(static_cast<size_t>(args.output.numel()));
  if (a.tq > 0 && a.dv > 0) {
    const AttentionRowKernels& rk = row_kernels();
    const int64_t blocks = (a.tq + kQueryBlock - 1) / kQueryBlock;
    const double item_flops = static_cast<double>(std::min(a.tq, kQueryBlock)) *
                              static_cast<double>(std::max<int64_t>(a.len, 1)) *
                              static_cast<double>(2 * (a.d + a.dv) + 1);
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kChunkFlops / item_flops));
    pool().parallel_for(a.heads * blocks, grain, [&](int64_t b, int64_t e) {
      for (int64_t it = b; it < e; ++it) {
        const int64_t h = it / blocks, i0 = it % blocks * kQueryBlock;
        attend_block(a, rk, q, k, v, y, h, i0, std::min(a.tq, i0 + kQueryBlock));
      }
    });
  }
  if (t != kF32)
    convert(y, kF32, args.output.raw_data(), t, static_cast<size_t>(args.output.numel()));
}

}  // namespace tessera::cpu
