// The CUDA backend's device kernels, as plain launch functions over raw device pointers and
// small descriptor structs. This is the only header the .cu files include (with op_kind.h),
// so nvcc never compiles the project's host headers; the host side (cuda_lower.cpp) turns
// graph nodes into these descriptors once, at compile time.
//
//   ElemDesc d = ...;                                // output shape, operand strides
//   launch_binary(OpKind::kAdd, DevType::kF32, d, a, b, y, stream);
//   check_launch("add", node_name);                  // cuda_common.h
//
// Conventions: sizes and indices are int64 (tensors past 2^31 elements are fine); grids
// are capped and every kernel loops grid-stride; strides are in elements, 0 = broadcast.
// Float types compute in f32 and round once to the output type (round to nearest even).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tessera/ir/op_kind.h"

namespace tessera::cuda {

inline constexpr int kMaxDims = 8;
inline constexpr int kMaxFusedOperands = 16;   // = kMaxFusedInputs (ir/fusion.h)
inline constexpr int kMaxFusedSlots = 32;      // registers live at once in a fused program
inline constexpr int kMaxAttentionHead = 128;  // D and Dv of the fused attention kernel

// Element types the arithmetic kernels handle.
enum class DevType : int32_t { kF32, kBF16, kF16, kI32, kI64, kBool, kI8 };

// Errors found on the device (bad indices): the first one wins and is read by the host
// after the step, which turns it into an Error naming the node.
struct DeviceStatus {
  unsigned long long code;  // 0: fine; else one of kStatus*
  long long node;           // the step's node id
  long long position;       // flat position of the offending element
  long long value;          // the offending index or label
};
inline constexpr unsigned long long kStatusIndexOutOfRange = 1;
inline constexpr unsigned long long kStatusLabelOutOfRange = 2;
inline constexpr unsigned long long kStatusOneHotOutOfRange = 3;

// An elementwise iteration space: the output's dims and, per operand, its strides over
// them (0 along broadcast dims). `contiguous`: every operand has the output's shape, so
// element i of each is at i.
struct ElemDesc {
  int32_t rank = 0;
  int32_t num_operands = 0;
  bool contiguous = true;
  int64_t numel = 0;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kMaxFusedOperands][kMaxDims] = {};
};

// One instruction of a fused program after slot allocation: slots [0, num_inputs) are the
// inputs, later results reuse dead slots; the last instruction writes the output.
struct FusedDevInstr {
  int32_t op;  // OpKind
  int32_t a, b, dst;
};

// A strided copy: for every index of `dims`, out[out_offset + Σ idx·out_strides] =
// in[in_offset + Σ idx·in_strides]. With `dyn_start`, a run-time start (a rank-0 i32/i64
// on the device) is clamped to [0, dyn_max] and times dyn_stride added to the input
// (dyn_target 1) or output (dyn_target 2) offset.
struct CopyDesc {
  int32_t rank = 0;
  int64_t numel = 0;
  int64_t dims[kMaxDims] = {};
  int64_t in_strides[kMaxDims] = {};
  int64_t out_strides[kMaxDims] = {};
  int64_t in_offset = 0, out_offset = 0;
  const void* dyn_start = nullptr;
  bool dyn_start_i64 = false;
  int32_t dyn_target = 0;
  int64_t dyn_max = 0, dyn_stride = 0;
};

// A reduction: each output element o (out dims, strides into the input) combines the
// elements of the reduced dims (red dims and strides) at its base offset.
struct ReduceDesc {
  int32_t out_rank = 0, red_rank = 0;
  int64_t out_numel = 1, red_numel = 1;
  int64_t out_dims[kMaxDims] = {}, out_strides[kMaxDims] = {};
  int64_t red_dims[kMaxDims] = {}, red_strides[kMaxDims] = {};
};

struct AttentionDesc {
  int64_t batch = 1;  // product of the leading dims
  int64_t tq = 0, tk = 0, d = 0, dv = 0;
  float scale = 1.f;
  bool causal = false;
  const void* kv_len = nullptr;  // rank-0 i32/i64 on the device, or null (L = Tk)
  bool kv_len_i64 = false;
};

// Elementwise ------------------------------------------------------------------------
// y = op(x), same shape, contiguous; t is x's and y's type.
void launch_unary(OpKind op, DevType t, const void* x, void* y, int64_t n, cudaStream_t s);
// y = op(a, b) with broadcasting (d has two operands); arithmetic keeps t, comparisons
// write bool.
void launch_binary(OpKind op, DevType t, const ElemDesc& d, const void* a, const void* b, void* y,
                   cudaStream_t s);
// y = cond ? a : b (three operands: cond, a, b), elements of elem_size bytes.
void launch_where(int elem_size, const ElemDesc& d, const void* cond, const void* a, const void* b,
                  void* y, cudaStream_t s);
void launch_cast(DevType from, DevType to, const void* x, void* y, int64_t n, cudaStream_t s);
// A fused f32 program: `instrs` lives on the device; inputs[k] per operand of d.
void launch_fused(const FusedDevInstr* instrs, int32_t num_instrs, int32_t num_slots,
                  const ElemDesc& d, const float* const* inputs, float* y, cudaStream_t s);

// Data movement and indexing ------------------------------------------------------------
void launch_copy(int elem_size, const CopyDesc& d, const void* in, void* out, cudaStream_t s);
// Fills n elements of elem_size bytes with the low bytes of `pattern`.
void launch_fill(int elem_size, void* y, int64_t n, uint64_t pattern, cudaStream_t s);
// numpy.take: data viewed as [outer, axis_dim, inner], indices [nidx] -> [outer, nidx, inner].
void launch_gather(int elem_size, bool idx_i64, int64_t outer, int64_t axis_dim, int64_t nidx,
                   int64_t inner, const void* data, const void* idx, void* y, DeviceStatus* status,
                   int32_t node, cudaStream_t s);
// The adjoint of gather: y [outer, dim_size, inner] zeroed, then updates [outer, nidx,
// inner] added at their indices (atomics: f32 sums in any order; i32/i64 exact).
void launch_scatter_add(DevType t, bool idx_i64, int64_t outer, int64_t dim_size, int64_t nidx,
                        int64_t inner, const void* updates, const void* idx, void* y,
                        DeviceStatus* status, int32_t node, cudaStream_t s);
void launch_one_hot(DevType out, bool idx_i64, int64_t n, int64_t depth, const void* idx, void* y,
                    DeviceStatus* status, int32_t node, cudaStream_t s);
// philox4x32(seed, *step, i / 4), word i % 4, top 24 bits · 2^-24: the ref's values.
void launch_random_uniform(uint64_t seed, const int64_t* step, float* y, int64_t n, cudaStream_t s);

// Reductions and row-wise ops ---------------------------------------------------------------
// op: kReduceSum, kReduceMean, kReduceMax.
void launch_reduce(OpKind op, DevType t, const ReduceDesc& d, const void* x, void* y,
                   cudaStream_t s);
// x viewed as [outer, c, inner], normalized along c.
void launch_softmax(bool log, DevType t, int64_t outer, int64_t c, int64_t inner, const void* x,
                    void* y, cudaStream_t s);
void launch_cross_entropy(DevType t, bool label_i64, int64_t rows, int64_t c, const void* logits,
                          const void* labels, void* y, DeviceStatus* status, int32_t node,
                          cudaStream_t s);
// op: kLayerNorm (x, gamma, beta), kRmsNorm (x, gamma), kLayerNormGradInput and
// kRmsNormGradInput (x, gamma, dy); rows of c elements.
void launch_norm(OpKind op, DevType t, int64_t rows, int64_t c, float epsilon, const void* x,
                 const void* gamma, const void* third, void* y, cudaStream_t s);
void launch_attention(DevType t, const AttentionDesc& d, const void* q, const void* k,
                      const void* v, void* y, cudaStream_t s);

}  // namespace tessera::cuda
