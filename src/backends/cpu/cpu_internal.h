// Internal to the cpu backend: the kernel entry points each file provides, the f32 vector
// kernel tables (AVX2 or scalar, chosen at run time), and the broadcast loop shared by the
// elementwise, where and fused kernels.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/core/thread_pool.h"
#include "tessera/ir/op_kind.h"

namespace tessera::cpu {

// ---- f32 array kernels ---------------------------------------------------------------
// Binary kernels take element strides of 0 (a broadcast scalar) or 1 for each input. Every
// kernel computes y[i] from the inputs' element i only, so y may equal an input (in place).
using UnaryF32 = void (*)(const float* x, float* y, int64_t n);
using BinaryF32 = void (*)(const float* a, int64_t sa, const float* b, int64_t sb, float* y,
                           int64_t n);

struct F32Kernels {
  std::array<UnaryF32, kOpKindCount> unary{};    // indexed by OpKind; nullptr if not unary
  std::array<BinaryF32, kOpKindCount> binary{};  // nullptr if not binary arithmetic
  // Row primitives for reductions and softmax. Each gives the same result for the same
  // input on any thread count (fixed lane and accumulator order).
  float (*sum)(const float* x, int64_t n);
  float (*max)(const float* x, int64_t n);  // NaN-propagating; -inf when n == 0
  void (*add_into)(float* acc, const float* x, int64_t n);
  void (*max_into)(float* acc, const float* x, int64_t n);
  void (*softmax)(const float* x, float* y, int64_t n);
  void (*log_softmax)(const float* x, float* y, int64_t n);
  float (*logsumexp)(const float* x, int64_t n);
};

const F32Kernels& scalar_f32_kernels();  // cpu_elementwise.cpp (+ cpu_softmax.cpp rows)
const F32Kernels& avx2_f32_kernels();    // cpu_elementwise_avx2.cpp
// The table in force: AVX2 when the machine has it and cpu_force_scalar() is off.
const F32Kernels& f32_kernels();

// Row kernels of the scalar table (cpu_softmax.cpp), wired into scalar_f32_kernels().
float scalar_sum(const float* x, int64_t n);
float scalar_max(const float* x, int64_t n);
void scalar_add_into(float* acc, const float* x, int64_t n);
void scalar_max_into(float* acc, const float* x, int64_t n);
void scalar_softmax(const float* x, float* y, int64_t n);
void scalar_log_softmax(const float* x, float* y, int64_t n);
float scalar_logsumexp(const float* x, int64_t n);

// ---- work partition ----------------------------------------------------------------------
// Elements per parallel chunk: below this a kernel runs inline on the calling thread, so
// batch-1 inference pays no thread hand-off. Cheap ops need more work to amortize a wake-up.
inline constexpr int64_t kCheapGrain = 32768;
inline constexpr int64_t kCostlyGrain = 4096;
// Reductions combine partial results over fixed blocks of this many elements, in order, so
// the result does not depend on the thread count.
inline constexpr int64_t kReduceBlock = 8192;
// Tile length for converted (f16/bf16) and fused elementwise work: stack buffers.
inline constexpr int64_t kTile = 512;

inline ThreadPool& pool() { return default_thread_pool(); }

// Per-thread scratch that grows to the largest request and is then reused, so kernels that
// need a temporary (converted f16 operands, reduction partials) allocate only on first use.
// Slots let one kernel hold several buffers at once.
template <int Slot, typename T = float>
T* scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// ---- broadcast loop ------------------------------------------------------------------------
// The output shape, coalesced, with each input's element strides (0 on broadcast dims). The
// innermost dim is a "row"; inputs have an inner stride of 0 or 1.
inline constexpr int kMaxLoopInputs = 16;
using LoopOffsets = std::array<int64_t, kMaxLoopInputs>;
struct ElemLoop {
  int rank = 1;
  int num_inputs = 0;
  std::array<int64_t, kMaxRank> dims{};
  std::array<std::array<int64_t, kMaxRank>, kMaxLoopInputs> strides{};  // per input
  int64_t inner() const { return dims[rank - 1]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
};

ElemLoop make_elem_loop(const Shape& out, std::span<const Shape> inputs);

// Calls body(out_offset, in_offsets, length) for every contiguous run of the output, split
// into chunks of about `grain` elements that run on the pool. Offsets are in elements.
template <typename Body>
void for_each_run(const ElemLoop& l, int64_t grain, Body&& body) {
  const int64_t inner = l.inner();
  const int64_t total = l.numel();
  if (total == 0) return;
  const int64_t outer = total / inner;
  const int64_t pieces = std::max<int64_t>(1, inner / std::max<int64_t>(grain, 1));
  const int64_t piece_len = (inner + pieces - 1) / pieces;
  const int64_t items = outer * pieces;
  const int64_t item_grain = std::max<int64_t>(1, grain / std::min(inner, piece_len));
  pool().parallel_for(items, item_grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t row = item / pieces, piece = item % pieces;
      int64_t start = piece * piece_len;
      int64_t len = std::min(inner, start + piece_len) - start;
      LoopOffsets off{};
      int64_t r = row;
      for (int d = l.rank - 2; d >= 0; --d) {
        int64_t idx = r % l.dims[d];
        r /= l.dims[d];
        for (int k = 0; k < l.num_inputs; ++k) off[k] += idx * l.strides[k][d];
      }
      for (int k = 0; k < l.num_inputs; ++k) off[k] += start * l.strides[k][l.rank - 1];
      body(row * inner + start, off, len);
    }
  });
}

// ---- kernels (one file each) -------------------------------------------------------------
void unary_kernel(const KernelArgs& args);     // cpu_elementwise.cpp
void binary_kernel(const KernelArgs& args);    // cpu_elementwise.cpp
void compare_kernel(const KernelArgs& args);   // cpu_compare.cpp
void where_kernel(const KernelArgs& args);     // cpu_compare.cpp
void cast_kernel(const KernelArgs& args);      // cpu_compare.cpp
void fused_kernel(const KernelArgs& args);     // cpu_fused.cpp
void matmul_kernel(const KernelArgs& args);    // cpu_matmul.cpp
void attention_kernel(const KernelArgs& args);      // cpu_attention.cpp
void update_slice_kernel(const KernelArgs& args);   // cpu_window.cpp
void dynamic_slice_kernel(const KernelArgs& args);  // cpu_window.cpp
void reduce_kernel(const KernelArgs& args);    // cpu_reduce.cpp
void softmax_kernel(const KernelArgs& args);   // cpu_softmax.cpp (softmax, log_softmax)
void cross_entropy_kernel(const KernelArgs& args);  // cpu_softmax.cpp
void norm_kernel(const KernelArgs& args);           // cpu_norm.cpp (layer/rms norm, *_grad_input)
void reshape_kernel(const KernelArgs& args);   // cpu_movement.cpp
void permute_kernel(const KernelArgs& args);
void broadcast_kernel(const KernelArgs& args);
void slice_kernel(const KernelArgs& args);
void concat_kernel(const KernelArgs& args);
void pad_kernel(const KernelArgs& args);
void conv2d_kernel(const KernelArgs& args);    // cpu_conv.cpp: conv2d and its backprops
void pool2d_kernel(const KernelArgs& args);    // cpu_pool.cpp: pooling and its gradients
void gather_kernel(const KernelArgs& args);    // cpu_indexing.cpp
void scatter_add_kernel(const KernelArgs& args);
void one_hot_kernel(const KernelArgs& args);
void random_uniform_kernel(const KernelArgs& args);  // cpu_random.cpp

// Copies a strided view: dst[i] = src[i] over `shape`, strides in elements (0 broadcasts).
void strided_copy(const void* src, std::span<const int64_t> src_strides, void* dst,
                  std::span<const int64_t> dst_strides, const Shape& shape, size_t elem_size);

// One contiguous run of a binary op whose inputs are each either a full run (stride 1)
// or a single broadcast element (stride 0): y[i] = f(a[i·sa], b[i·sb]).
template <typename T, typename Out, typename F>
void binary_run(const T* a, int64_t sa, const T* b, int64_t sb, Out* y, int64_t n, F f) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (sa) {
    T bv = *b;
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (sb) {
    T av = *a;
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    std::fill(y, y + n, static_cast<Out>(f(*a, *b)));
  }
}

}  // namespace tessera::cpu
