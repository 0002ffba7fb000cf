// The closed set of operations the graph IR knows. Adding one means adding a row to the op
// table (op_table.cpp), whose switch has no default: a forgotten row is a build error.
//
// Semantics and attribute names of each op are documented in docs/ops.md.
#pragma once

#include <cstdint>

namespace tessera {

enum class OpKind : uint8_t {
  // Leaves
  kInput,      // a value fed at run time
  kParameter,  // a variable (weights, optimizer state); Node::value holds it
  kConstant,   // Node::value holds it
  // Unary elementwise
  kNeg,
  kAbs,
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kTanh,
  kSigmoid,
  kRelu,
  kGelu,
  kErf,
  // Binary elementwise (numpy broadcasting)
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMaximum,
  kMinimum,
  // Comparisons (numpy broadcasting, bool result)
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  // where(cond, a, b) and cast
  kWhere,
  kCast,
  // Linear algebra
  kMatMul,
  // Attention and sequences
  kAttention,    // composite: softmax(q kᵀ · scale + mask) v, streamed by the cpu backend
  kUpdateSlice,  // x with a window along one axis replaced, at a run-time start
  kDynamicSlice, // a window along one axis, at a run-time start
  // Reductions
  kReduceSum,
  kReduceMean,
  kReduceMax,
  // Data movement
  kReshape,
  kPermute,
  kBroadcast,
  kSlice,
  kConcat,
  kPad,
  // Convolution and pooling (NHWC activations, HWIO filters; composites)
  kConv2D,
  kConv2DBackpropInput,
  kConv2DBackpropFilter,
  kMaxPool2D,
  kMaxPool2DGrad,
  kAvgPool2D,
  kAvgPool2DGrad,
  // Indexing
  kGather,
  kScatterAdd,
  kOneHot,
  // Composites (carry a decomposition into the primitives above)
  kSoftmax,
  kLogSoftmax,
  kCrossEntropy,
  // Normalization over the last axis (composites); the *_grad_input ops are their fused
  // backward, emitted by the gradient rules
  kLayerNorm,
  kRmsNorm,
  kLayerNormGradInput,
  kRmsNormGradInput,
  // Random numbers: a pure function of (seed, step, position), so runs are reproducible
  kRandomUniform,
  // A chain of elementwise ops made one by the fusion pass (Node::fused holds it)
  kFusedElementwise,
};

inline constexpr int kOpKindCount = static_cast<int>(OpKind::kFusedElementwise) + 1;

}  // namespace tessera
