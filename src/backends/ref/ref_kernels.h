// Internal to the reference backend: the kernels, grouped by concern in ref_*.cpp, and the
// few helpers they share (element access through the dtype table, index arithmetic,
// in-place safety, run-time errors).
//
// Every kernel reads its inputs as contiguous tensors, computes each element in double (floats)
// or in uint64 (integers, so overflow wraps as two's complement) and stores the result once
// through the dtype table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/backends/kernel_executable.h"
#include "tessera/core/dtype.h"
#include "tessera/core/tensor.h"

namespace tessera::ref {

// ---- element access ----------------------------------------------------------------

inline const char* elem(const Tensor& t, int64_t i) {
  return static_cast<const char*>(t.raw_data()) + i * static_cast<int64_t>(t.dtype().size());
}
inline char* elem(Tensor& t, int64_t i) {
  return static_cast<char*>(t.raw_data()) + i * static_cast<int64_t>(t.dtype().size());
}

// Integers and bools take the exact int64 path; floats (and fixed point) the double path.
inline bool is_integral(DType t) {
  return t.kind() == DTypeKind::kInt || t.kind() == DTypeKind::kBool;
}

inline double get_f64(const Tensor& t, int64_t i) { return load_f64(elem(t, i), t.dtype()); }
inline void set_f64(Tensor& t, int64_t i, double v) { store_f64(v, elem(t, i), t.dtype()); }
inline int64_t get_i64(const Tensor& t, int64_t i) { return load_i64(elem(t, i), t.dtype()); }

// Two's-complement wrap of a uint64 result to the width of integer dtype `t`, so the store
// never sees an out-of-range value (C++20 defines the narrowing conversions as modular).
int64_t wrap_to(DType t, uint64_t v);
inline void set_wrapped(Tensor& t, int64_t i, uint64_t v) {
  store_i64(wrap_to(t.dtype(), v), elem(t, i), t.dtype());
}

// ---- index arithmetic --------------------------------------------------------------

// Row-major multi-index of a flat index.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape);
int64_t ravel(const std::vector<int64_t>& index, const Shape& shape);

// Maps flat indices of `out` to flat indices of an input that numpy-broadcasts to it.
class BroadcastIndexer {
 public:
  BroadcastIndexer(const Shape& in, const Shape& out);
  int64_t operator()(int64_t flat_out) const;

 private:
  Shape out_;
  std::vector<int64_t> in_strides_;  // per output axis; 0 where the input is broadcast
};

// "[1, 2]" for error messages.
std::string index_str(const std::vector<int64_t>& index);

// ---- kernel plumbing ---------------------------------------------------------------

// The inputs as contiguous tensors (views when they already are).
std::vector<Tensor> contiguous_inputs(const KernelArgs& args);

// Runs `body(out)` either on args.output or, when the output shares storage with an input
// (the memory planner runs elementwise nodes in place), on a scratch tensor copied over the
// output afterwards. Kernels then never read an element they have already overwritten.
template <typename Body>
void with_output(const KernelArgs& args, Body&& body);
bool output_overlaps_input(const KernelArgs& args);
void copy_over(const Tensor& scratch, Tensor& output);

template <typename Body>
void with_output(const KernelArgs& args, Body&& body) {
  if (!output_overlaps_input(args)) {
    body(args.output);
    return;
  }
  Tensor scratch = Tensor::zeros(args.output.dtype(), args.output.shape());
  body(scratch);
  copy_over(scratch, args.output);
}

// Throws Error(kInvalidArgument) naming the node, what is at fault (an index, a label, a
// divisor), its position in its tensor, its value and the problem:
//   "ref: node 'gather_2' (gather): index -5 at position [2]: out of range for an axis of
//    size 4 (valid: [-4, 4))"
[[noreturn]] void fail_at(const KernelArgs& args, const std::string& what,
                          const std::vector<int64_t>& position, int64_t value,
                          const std::string& problem);

// ---- kernels (one per op family) ---------------------------------------------------

void unary_kernel(const KernelArgs& args);
void binary_kernel(const KernelArgs& args);
void compare_kernel(const KernelArgs& args);
void where_kernel(const KernelArgs& args);
void cast_kernel(const KernelArgs& args);
void matmul_kernel(const KernelArgs& args);
void attention_kernel(const KernelArgs& args);      // ref_attention.cpp
void update_slice_kernel(const KernelArgs& args);   // ref_attention.cpp
void dynamic_slice_kernel(const KernelArgs& args);  // ref_attention.cpp
void reduce_kernel(const KernelArgs& args);
void reshape_kernel(const KernelArgs& args);
void permute_kernel(const KernelArgs& args);
void broadcast_kernel(const KernelArgs& args);
void slice_kernel(const KernelArgs& args);
void concat_kernel(const KernelArgs& args);
void pad_kernel(const KernelArgs& args);
void conv2d_kernel(const KernelArgs& args);  // ref_conv.cpp: conv2d and its backprops
void pool2d_kernel(const KernelArgs& args);  // ref_conv.cpp: pooling and its gradients
void gather_kernel(const KernelArgs& args);
void scatter_add_kernel(const KernelArgs& args);
void one_hot_kernel(const KernelArgs& args);
void softmax_kernel(const KernelArgs& args);  // softmax and log_softmax
void cross_entropy_kernel(const KernelArgs& args);
void norm_kernel(const KernelArgs& args);  // ref_norm.cpp: layer_norm, rms_norm, *_grad_input
void random_uniform_kernel(const KernelArgs& args);  // ref_random.cpp

}  // namespace tessera::ref
