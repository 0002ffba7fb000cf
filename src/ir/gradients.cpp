// Gradient rules: which rule each op uses. The rules themselves live by family in
// gradients_elementwise.cpp and gradients_structural.cpp. The switch has no default, so an
// op added without deciding its gradient does not compile (-Werror=switch).
#include <algorithm>
#include <numeric>

#include "conv_rules.h"
#include "gradients_rules.h"
#include "op_rules.h"
#include "tessera/core/error.h"

namespace tessera::detail {

GradNode grad_node(const GraphBuilder& b, ValueId self) {
  const Node& n = b.graph().node(self);
  return {n.op, n.inputs, n.attrs, n.type, n.name};
}

std::vector<int> resolved_reduce_axes(const Attrs& attrs, int rank) {
  const auto& axes_attr = attrs.get_ints("axes");
  std::vector<int> axes;
  if (axes_attr.empty()) {
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
    return axes;
  }
  for (int64_t a : axes_attr) axes.push_back(static_cast<int>(a < 0 ? a + rank : a));
  std::sort(axes.begin(), axes.end());
  return axes;
}

Shape keepdims_shape(const Shape& shape, const std::vector<int>& axes) {
  Shape out = shape;
  for (int a : axes) out[a] = 1;
  return out;
}

GradFn gradient_rule(OpKind kind) {
  switch (kind) {
    // Leaves have no inputs; comparisons and one_hot produce values that carry no
    // gradient (bool, or a function of integer indices).
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
    case OpKind::kEqual:
    case OpKind::kNotEqual:
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
    case OpKind::kOneHot:
      return nullptr;
    // Random numbers are constants with respect to every float value (the step is an int).
    case OpKind::kRandomUniform:
      return nullptr;
    // Fused programs are made after autodiff; differentiate() rejects them.
    case OpKind::kFusedElementwise:
      return nullptr;
    case OpKind::kNeg:
      return grad_neg;
    case OpKind::kAbs:
      return grad_abs;
    case OpKind::kExp:
      return grad_exp;
    case OpKind::kLog:
      return grad_log;
    case OpKind::kSqrt:
      return grad_sqrt;
    case OpKind::kRsqrt:
      return grad_rsqrt;
    case OpKind::kTanh:
      return grad_tanh;
    case OpKind::kSigmoid:
      return grad_sigmoid;
    case OpKind::kRelu:
      return grad_relu;
    case OpKind::kGelu:
      return grad_gelu;
    case OpKind::kErf:
      return grad_erf;
    case OpKind::kAdd:
      return grad_add;
    case OpKind::kSub:
      return grad_sub;
    case OpKind::kMul:
      return grad_mul;
    case OpKind::kDiv:
      return grad_div;
    case OpKind::kPow:
      return grad_pow;
    case OpKind::kMaximum:
      return grad_maximum;
    case OpKind::kMinimum:
      return grad_minimum;
    case OpKind::kWhere:
      return grad_where;
    case OpKind::kCast:
      return grad_cast;
    case OpKind::kMatMul:
      return grad_matmul;
    case OpKind::kAttention:
      return grad_attention;
    case OpKind::kUpdateSlice:
      return grad_update_slice;
    case OpKind::kDynamicSlice:
      return grad_dynamic_slice;
    case OpKind::kReduceSum:
      return grad_reduce_sum;
    case OpKind::kReduceMean:
      return grad_reduce_mean;
    case OpKind::kReduceMax:
      return grad_reduce_max;
    case OpKind::kReshape:
      return grad_reshape;
    case OpKind::kPermute:
      return grad_permute;
    case OpKind::kBroadcast:
      return grad_broadcast;
    case OpKind::kSlice:
      return grad_slice;
    case OpKind::kConcat:
      return grad_concat;
    case OpKind::kPad:
      return grad_pad;
    // Convolution and pooling (NHWC)
    case OpKind::kConv2D:
      return grad_conv2d;
    case OpKind::kConv2DBackpropInput:
      return grad_conv2d_backprop_input;
    case OpKind::kConv2DBackpropFilter:
      return grad_conv2d_backprop_filter;
    case OpKind::kMaxPool2D:
      return grad_max_pool2d;
    case OpKind::kMaxPool2DGrad:
      return grad_max_pool2d_grad;
    case OpKind::kAvgPool2D:
      return grad_avg_pool2d;
    case OpKind::kAvgPool2DGrad:
      return grad_avg_pool2d_grad;
    case OpKind::kGather:
      return grad_gather;
    case OpKind::kScatterAdd:
      return grad_scatter_add;
    case OpKind::kSoftmax:
      return grad_softmax;
    case OpKind::kLogSoftmax:
      return grad_log_softmax;
    case OpKind::kCrossEntropy:
      return grad_cross_entropy;
    case OpKind::kLayerNorm:
      return grad_layer_norm;
    case OpKind::kRmsNorm:
      return grad_rms_norm;
    // The fused backward ops are differentiated through their decompositions (second-order
    // gradients are rare; they need not be fast).
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput:
      return grad_via_decomposition;
  }
  return nullptr;
}

}  // namespace tessera::detail
