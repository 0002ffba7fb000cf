// Decompositions of the composite ops into primitives, so that every backend and simulator
// can run them. Each is the numerically stable form: the maximum along the axis is
// subtracted before exponentiating, so exp never overflows. The switch has no default, so
// a new op must decide here whether it is a primitive.
#include "conv_rules.h"
#include "op_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"

namespace tessera::detail {
namespace {

// x - max(x) along `axis` (keepdims): every entry <= 0 with at least one 0.
ValueId shifted(GraphBuilder& b, ValueId x, int64_t axis) {
  return b.sub(x, b.reduce_max(x, {axis}, /*keepdims=*/true));
}

ValueId stable_log_softmax(GraphBuilder& b, ValueId x, int64_t axis) {
  ValueId z = shifted(b, x, axis);
  ValueId log_sum = b.log(b.reduce_sum(b.exp(z), {axis}, /*keepdims=*/true));
  return b.sub(z, log_sum);
}

ValueId decompose_softmax(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  int64_t axis = node.attrs.get_int("axis");
  ValueId e = b.exp(shifted(b, in[0], axis));
  return b.div(e, b.reduce_sum(e, {axis}, /*keepdims=*/true));
}

ValueId decompose_log_softmax(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  return stable_log_softmax(b, in[0], node.attrs.get_int("axis"));
}

// -Σ one_hot(labels) · log_softmax(logits) over the class axis. one_hot rejects a label
// outside [0, C) with an error naming the node, as cross_entropy's semantics require.
ValueId decompose_cross_entropy(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  ValueId logits = in[0], labels = in[1];
  const Shape& s = b.shape(logits);
  int64_t classes = s[s.rank() - 1];
  TS_CHECK(classes != kDynamic, ErrorKind::kUnsupported,
           "node '{}' (cross_entropy): the class axis of logits {} must be static to decompose",
           node.name, s.str());
  ValueId target = b.one_hot(labels, classes, b.dtype(logits));
  ValueId picked = b.reduce_sum(b.mul(target, stable_log_softmax(b, logits, -1)), {-1});
  return b.neg(picked);
}

}  // namespace

DecomposeFn decomposition_rule(OpKind kind) {
  switch (kind) {
    case OpKind::kSoftmax:
      return decompose_softmax;
    case OpKind::kLogSoftmax:
      return decompose_log_softmax;
    case OpKind::kCrossEntropy:
      return decompose_cross_entropy;
    case OpKind::kLayerNorm:
      return decompose_layer_norm;
    case OpKind::kRmsNorm:
      return decompose_rms_norm;
    case OpKind::kLayerNormGradInput:
      return decompose_layer_norm_grad_input;
    case OpKind::kRmsNormGradInput:
      return decompose_rms_norm_grad_input;
    case OpKind::kFusedElementwise:
      return decompose_fused;
    // Primitives.
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kRsqrt:
    case OpKind::kTanh:
    case OpKind::kSigmoid:
    case OpKind::kRelu:
    case OpKind::kGelu:
    case OpKind::kErf:
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kPow:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
    case OpKind::kEqual:
    case OpKind::kNotEqual:
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
    case OpKind::kWhere:
    case OpKind::kCast:
    case OpKind::kMatMul:
      return nullptr;
    case OpKind::kAttention:
      return decompose_attention;
    case OpKind::kUpdateSlice:
    case OpKind::kDynamicSlice:
      return nullptr;
    case OpKind::kReduceSum:
    case OpKind::kReduceMean:
    case OpKind::kReduceMax:
    case OpKind::kReshape:
    case OpKind::kPermute:
    case OpKind::kBroadcast:
    case OpKind::kSlice:
    case OpKind::kConcat:
    case OpKind::kPad:
      return nullptr;
    // Convolution and pooling (NHWC)
    case OpKind::kConv2D:
      return decompose_conv2d;
    case OpKind::kConv2DBackpropInput:
      return decompose_conv2d_backprop_input;
    case OpKind::kConv2DBackpropFilter:
      return decompose_conv2d_backprop_filter;
    case OpKind::kMaxPool2D:
      return decompose_max_pool2d;
    case OpKind::kMaxPool2DGrad:
      return decompose_max_pool2d_grad;
    case OpKind::kAvgPool2D:
      return decompose_avg_pool2d;
    case OpKind::kAvgPool2DGrad:
      return decompose_avg_pool2d_grad;
    case OpKind::kGather:
    case OpKind::kScatterAdd:
    case OpKind::kOneHot:
    case OpKind::kRandomUniform:
      return nullptr;
  }
  return nullptr;
}

}  // namespace tessera::detail
