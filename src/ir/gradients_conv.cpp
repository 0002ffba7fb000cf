// Gradient rules of the convolution and pooling ops.
//
// conv2d is bilinear in (x, w); its backprops are the adjoints of conv2d in each argument
// (conv2d_backprop_input: dy ↦ dx for fixed w; conv2d_backprop_filter: dy ↦ dw for fixed x),
// so the gradients of all three close over the same three ops:
//   y  = conv2d(x, w)                 dx = backprop_input(dy, w),   dw = backprop_filter(x, dy)
//   dx = backprop_input(dy, w)        d(dy) = conv2d(g, w),         dw = backprop_filter(g, dy)
//   dw = backprop_filter(x, dy)       dx = backprop_input(dy, g),   d(dy) = conv2d(x, g)
// where g is the incoming gradient. Pooling works the same way: avg_pool2d and
// avg_pool2d_grad are each other's adjoints, and max_pool2d_grad (linear in dy, piecewise
// constant in x) has as adjoint the gather of g at each window's first maximum.
#include "conv_rules.h"
#include "gradients_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"

namespace tessera::detail {
namespace {

Conv2DGeometry geometry_of(const GraphBuilder& b, ValueId self) {
  return conv_geometry(b.graph(), b.graph().node(self));
}

// The forward convolution's attributes, without the backprops' shapes.
Attrs forward_attrs(const Attrs& a) {
  Attrs r;
  for (const char* name : {"strides", "dilations", "pads", "groups"})
    for (const auto& [k, v] : a.items())
      if (k == name) r.set(k, v);
  return r;
}

Attrs with(Attrs a, const char* name, const Shape& s) {
  a.set(name, s.to_vector());
  return a;
}

Shape hwc(const Conv2DGeometry& g) { return Shape{g.in_h, g.in_w, g.in_c}; }

ValueId zeros_like(GraphBuilder& b, ValueId x) {
  return b.broadcast(b.scalar(0.0, b.dtype(x)), b.shape(x));
}

}  // namespace

std::vector<ValueId> grad_conv2d(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  Conv2DGeometry geo = geometry_of(b, self);
  Attrs a = forward_attrs(n.attrs);
  ValueId x = n.inputs.at(0), w = n.inputs.at(1);
  ValueId dx = b.emit(OpKind::kConv2DBackpropInput, {dy, w}, with(a, "input_shape", hwc(geo)));
  ValueId dw =
      b.emit(OpKind::kConv2DBackpropFilter, {x, dy}, with(a, "filter_shape", geo.filter_shape()));
  return {dx, dw};
}

std::vector<ValueId> grad_conv2d_backprop_input(GraphBuilder& b, ValueId self, ValueId g) {
  GradNode n = grad_node(b, self);
  Conv2DGeometry geo = geometry_of(b, self);
  Attrs a = forward_attrs(n.attrs);
  ValueId dy = n.inputs.at(0), w = n.inputs.at(1);
  ValueId d_dy = b.emit(OpKind::kConv2D, {g, w}, a);
  ValueId d_w =
      b.emit(OpKind::kConv2DBackpropFilter, {g, dy}, with(a, "filter_shape", geo.filter_shape()));
  return {d_dy, d_w};
}

std::vector<ValueId> grad_conv2d_backprop_filter(GraphBuilder& b, ValueId self, ValueId g) {
  GradNode n = grad_node(b, self);
  Conv2DGeometry geo = geometry_of(b, self);
  Attrs a = forward_attrs(n.attrs);
  ValueId x = n.inputs.at(0), dy = n.inputs.at(1);
  ValueId d_x = b.emit(OpKind::kConv2DBackpropInput, {dy, g}, with(a, "input_shape", hwc(geo)));
  ValueId d_dy = b.emit(OpKind::kConv2D, {x, g}, a);
  return {d_x, d_dy};
}

std::vector<ValueId> grad_max_pool2d(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  return {b.emit(OpKind::kMaxPool2DGrad, {n.inputs.at(0), dy}, n.attrs)};
}

// d(dy): g gathered at each window's first maximum of x. d(x): zero — moving x changes
// which element is routed only at ties, where the op is not differentiable.
std::vector<ValueId> grad_max_pool2d_grad(GraphBuilder& b, ValueId self, ValueId g) {
  GradNode n = grad_node(b, self);
  Conv2DGeometry geo = geometry_of(b, self);
  ValueId x = n.inputs.at(0);
  return {zeros_like(b, x), select_at_first_max(b, x, g, geo)};
}

std::vector<ValueId> grad_avg_pool2d(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  Conv2DGeometry geo = geometry_of(b, self);
  return {b.emit(OpKind::kAvgPool2DGrad, {dy}, with(n.attrs, "input_shape", hwc(geo)))};
}

std::vector<ValueId> grad_avg_pool2d_grad(GraphBuilder& b, ValueId self, ValueId g) {
  GradNode n = grad_node(b, self);
  Attrs a;
  for (const auto& [k, v] : n.attrs.items())
    if (k != "input_shape") a.set(k, v);
  return {b.emit(OpKind::kAvgPool2D, {g}, a)};
}

}  // namespace tessera::detail
