// GraphBuilder's emitters for the convolution and pooling ops (declared in builder.h).
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/conv_geometry.h"

namespace tessera {

ValueId GraphBuilder::conv2d(ValueId x, ValueId w, std::vector<int64_t> strides,
                             std::vector<int64_t> pads, std::vector<int64_t> dilations,
                             int64_t groups) {
  return emit(OpKind::kConv2D, {x, w},
              conv_attrs(std::move(strides), std::move(pads), std::move(dilations), groups));
}

ValueId GraphBuilder::conv2d_backprop_input(ValueId dy, ValueId w, const Shape& input_shape,
                                            std::vector<int64_t> strides, std::vector<int64_t> pads,
                                            std::vector<int64_t> dilations, int64_t groups) {
  Attrs a = conv_attrs(std::move(strides), std::move(pads), std::move(dilations), groups);
  a.set("input_shape", input_shape.to_vector());
  return emit(OpKind::kConv2DBackpropInput, {dy, w}, std::move(a));
}

ValueId GraphBuilder::conv2d_backprop_filter(ValueId x, ValueId dy, const Shape& filter_shape,
                                             std::vector<int64_t> strides,
                                             std::vector<int64_t> pads,
                                             std::vector<int64_t> dilations, int64_t groups) {
  Attrs a = conv_attrs(std::move(strides), std::move(pads), std::move(dilations), groups);
  a.set("filter_shape", filter_shape.to_vector());
  return emit(OpKind::kConv2DBackpropFilter, {x, dy}, std::move(a));
}

ValueId GraphBuilder::max_pool2d(ValueId x, std::vector<int64_t> window,
                                 std::vector<int64_t> strides, std::vector<int64_t> pads) {
  return emit(OpKind::kMaxPool2D, {x},
              pool_attrs(std::move(window), std::move(strides), std::move(pads)));
}

ValueId GraphBuilder::max_pool2d_grad(ValueId x, ValueId dy, std::vector<int64_t> window,
                                      std::vector<int64_t> strides, std::vector<int64_t> pads) {
  return emit(OpKind::kMaxPool2DGrad, {x, dy},
              pool_attrs(std::move(window), std::move(strides), std::move(pads)));
}

ValueId GraphBuilder::avg_pool2d(ValueId x, std::vector<int64_t> window,
                                 std::vector<int64_t> strides, std::vector<int64_t> pads) {
  return emit(OpKind::kAvgPool2D, {x},
              pool_attrs(std::move(window), std::move(strides), std::move(pads)));
}

ValueId GraphBuilder::avg_pool2d_grad(ValueId dy, const Shape& input_shape,
                                      std::vector<int64_t> window, std::vector<int64_t> strides,
                                      std::vector<int64_t> pads) {
  Attrs a = pool_attrs(std::move(window), std::move(strides), std::move(pads));
  a.set("input_shape", input_shape.to_vector());
  return emit(OpKind::kAvgPool2DGrad, {dy}, std::move(a));
}

}  // namespace tessera
