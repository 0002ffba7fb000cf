// Internal: the gradient rules, split by op family across gradients_*.cpp, and the small
// helpers they share. gradient_rule() in gradients.cpp maps each OpKind to one of these.
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera::detail {

// What a rule needs from its node, copied out: the builder appends nodes while a rule
// runs, so references into the graph would dangle.
struct GradNode {
  OpKind op;
  std::vector<ValueId> inputs;
  Attrs attrs;
  TensorType type;
  std::string name;
};
GradNode grad_node(const GraphBuilder& b, ValueId self);

// A rank-0 constant of `dtype`: broadcasts against anything, so rules stay valid when
// shapes hold the symbolic batch dimension.
inline ValueId constant_like(GraphBuilder& b, double v, ValueId like) {
  return b.scalar(v, b.dtype(like));
}

// The reduced axes of a reduction node, resolved against `rank` and sorted (empty attr:
// every axis).
std::vector<int> resolved_reduce_axes(const Attrs& attrs, int rank);
// `shape` with each reduced axis set to 1: the keepdims shape of a reduction.
Shape keepdims_shape(const Shape& shape, const std::vector<int>& axes);

// Elementwise families (gradients_elementwise.cpp).
std::vector<ValueId> grad_neg(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_abs(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_exp(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_log(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_sqrt(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_rsqrt(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_tanh(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_sigmoid(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_relu(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_gelu(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_erf(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_add(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_sub(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_mul(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_div(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_pow(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_maximum(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_minimum(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_where(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_cast(GraphBuilder& b, ValueId self, ValueId dy);

// Linear algebra, reductions, data movement, indexing, composites
// (gradients_structural.cpp).
std::vector<ValueId> grad_matmul(GraphBuilder& b, ValueId self, ValueId dy);
// Attention and sequences (attention_rules.cpp).
std::vector<ValueId> grad_attention(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_update_slice(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_dynamic_slice(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_reduce_sum(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_reduce_mean(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_reduce_max(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_reshape(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_permute(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_broadcast(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_slice(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_concat(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_pad(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_gather(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_scatter_add(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_softmax(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_log_softmax(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_cross_entropy(GraphBuilder& b, ValueId self, ValueId dy);

// Normalization (gradients_norm.cpp).
std::vector<ValueId> grad_layer_norm(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_rms_norm(GraphBuilder& b, ValueId self, ValueId dy);
// Any composite: differentiates its decomposition into primitives and splices the result
// into `b` (gradients_decomposed.cpp).
std::vector<ValueId> grad_via_decomposition(GraphBuilder& b, ValueId self, ValueId dy);

}  // namespace tessera::detail
