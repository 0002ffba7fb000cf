// Internal: where the op table gets the rules that live in their own files.
#pragma once

#include "tessera/ir/op_table.h"

namespace tessera::detail {

GradFn gradient_rule(OpKind kind);        // gradients.cpp
DecomposeFn decomposition_rule(OpKind kind);  // decompositions.cpp
TensorType infer_fused(const Graph& g, const Node& node);  // fusion.cpp
OpCost cost_fused(const Graph& g, const Node& node);       // fusion.cpp
// The decomposition of kFusedElementwise: re-emits the program's primitives (fusion.cpp).
ValueId decompose_fused(GraphBuilder& b, const Node& node, std::span<const ValueId> inputs);

// Attention and sequences (attention_rules.cpp): type inference, cost and the decomposition
// of attention, update_slice and dynamic_slice.
TensorType infer_attention(const Graph& g, const Node& node);
TensorType infer_update_slice(const Graph& g, const Node& node);
TensorType infer_dynamic_slice(const Graph& g, const Node& node);
OpCost cost_attention(const Graph& g, const Node& node);
OpCost cost_window(const Graph& g, const Node& node);  // update_slice, dynamic_slice
ValueId decompose_attention(GraphBuilder& b, const Node& node, std::span<const ValueId> inputs);
// The normalization ops (norm_ops.cpp): layer_norm, rms_norm and their *_grad_input.
TensorType infer_norm(const Graph& g, const Node& node);
OpCost cost_norm(const Graph& g, const Node& node);
ValueId decompose_layer_norm(GraphBuilder& b, const Node& node, std::span<const ValueId> inputs);
ValueId decompose_rms_norm(GraphBuilder& b, const Node& node, std::span<const ValueId> inputs);
ValueId decompose_layer_norm_grad_input(GraphBuilder& b, const Node& node,
                                        std::span<const ValueId> inputs);
ValueId decompose_rms_norm_grad_input(GraphBuilder& b, const Node& node,
                                      std::span<const ValueId> inputs);

}  // namespace tessera::detail
