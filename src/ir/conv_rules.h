// Internal: the op-table rules of the convolution and pooling ops — type inference and cost
// (conv_ops.cpp), gradient rules (gradients_conv.cpp) and decompositions into primitives
// (decompositions_conv.cpp). The geometry they share is tessera/ir/conv_geometry.h.
#pragma once

#include <span>
#include <vector>

#include "tessera/ir/builder.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/op_table.h"

namespace tessera::detail {

// Every conv and pool op: checks dtypes and geometry, returns the output type.
TensorType infer_conv(const Graph& g, const Node& node);
// Flops (a multiply-add is 2; a max or an add per window element is 1) and bytes.
OpCost cost_conv(const Graph& g, const Node& node);

std::vector<ValueId> grad_conv2d(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_conv2d_backprop_input(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_conv2d_backprop_filter(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_max_pool2d(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_max_pool2d_grad(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_avg_pool2d(GraphBuilder& b, ValueId self, ValueId dy);
std::vector<ValueId> grad_avg_pool2d_grad(GraphBuilder& b, ValueId self, ValueId dy);

ValueId decompose_conv2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in);
ValueId decompose_conv2d_backprop_input(GraphBuilder& b, const Node& node,
                                        std::span<const ValueId> in);
ValueId decompose_conv2d_backprop_filter(GraphBuilder& b, const Node& node,
                                         std::span<const ValueId> in);
ValueId decompose_max_pool2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in);
ValueId decompose_max_pool2d_grad(GraphBuilder& b, const Node& node, std::span<const ValueId> in);
ValueId decompose_avg_pool2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in);
ValueId decompose_avg_pool2d_grad(GraphBuilder& b, const Node& node, std::span<const ValueId> in);

// For a max_pool2d geometry: one mask per window position (row-major over the window), of
// `dtype` and shape [N, OH, OW, C], 1 where that position holds the first maximum of x's
// window (padding never wins). Shared by max_pool2d_grad's decomposition and gradient.
std::vector<ValueId> first_max_masks(GraphBuilder& b, ValueId x, const Conv2DGeometry& geo,
                                     DType dtype);
// For each window of x, v [N, H, W, C] at the position of the window's first maximum:
// the adjoint of max_pool2d_grad in dy. Returns [N, OH, OW, C].
ValueId select_at_first_max(GraphBuilder& b, ValueId x, ValueId v, const Conv2DGeometry& geo);

}  // namespace tessera::detail
