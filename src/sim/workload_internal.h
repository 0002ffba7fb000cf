// Shared pieces of the lowering (workload.cpp): the fields every WorkOp of a node carries, and
// the GEMM lowerings of the matrix-unit ops (workload_gemm.cpp).
#pragma once

#include <vector>

#include "tessera/sim/workload.h"

namespace tessera::sim::detail {

// Bytes of a value at its dtype (the graph is specialized: every shape is static).
double bytes_of(const TensorType& t);
double elements_of(const TensorType& t);

// A WorkOp for node `id` with name, layer, phase, op, dtypes and the op table's bytes filled;
// `kind` and the shapes are the caller's.
WorkOp base_op(const Graph& g, ValueId id);

// Whether `v` is a parameter or a constant (its bytes count as weight bytes).
bool is_weight(const Graph& g, ValueId v);

// matmul: one kGemm (a shared rank-2 right operand folds the batch into m).
WorkOp lower_matmul(const Graph& g, ValueId id);
// conv2d and its two backprops: one kGemm with the im2col view and the geometry.
WorkOp lower_conv(const Graph& g, ValueId id);
// The geometry of a conv or pool node as a ConvShape.
ConvShape conv_shape(const Graph& g, const Node& node);
// attention: "<node>.qk" (kGemm), "<node>.softmax" (kVector), "<node>.pv" (kGemm).
std::vector<WorkOp> lower_attention(const Graph& g, ValueId id);

}  // namespace tessera::sim::detail
