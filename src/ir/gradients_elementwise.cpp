// Gradient rules of the elementwise ops (unary, binary, where, cast).
//
// Every rule is written with IR primitives in the value's own dtype (constants are rank-0
// scalars of that dtype), so the backward graph runs on every backend and simulator and
// stays valid for symbolic batch shapes. Binary rules compute at the broadcast output shape
// and sum back to each input's shape.
#include <cmath>
#include <numbers>

#include "gradients_rules.h"

namespace tessera::detail {
namespace {

ValueId x_of(GraphBuilder& b, ValueId self) { return b.graph().node(self).inputs.at(0); }

ValueId gt_zero(GraphBuilder& b, ValueId x) {
  return b.compare(OpKind::kGreater, x, constant_like(b, 0.0, x));
}

}  // namespace

std::vector<ValueId> grad_neg(GraphBuilder& b, ValueId, ValueId dy) { return {b.neg(dy)}; }

// d|x| = sign(x); at 0 the subgradient 0 is taken (as PyTorch and JAX do).
std::vector<ValueId> grad_abs(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId x = x_of(b, self);
  ValueId zero = constant_like(b, 0.0, dy);
  ValueId lt = b.compare(OpKind::kLess, x, constant_like(b, 0.0, x));
  return {b.where(gt_zero(b, x), dy, b.where(lt, b.neg(dy), zero))};
}

std::vector<ValueId> grad_exp(GraphBuilder& b, ValueId self, ValueId dy) {
  return {b.mul(dy, self)};
}

std::vector<ValueId> grad_log(GraphBuilder& b, ValueId self, ValueId dy) {
  return {b.div(dy, x_of(b, self))};
}

std::vector<ValueId> grad_sqrt(GraphBuilder& b, ValueId self, ValueId dy) {
  return {b.div(dy, b.mul(constant_like(b, 2.0, dy), self))};
}

// d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3.
std::vector<ValueId> grad_rsqrt(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId y3 = b.mul(self, b.mul(self, self));
  return {b.mul(b.mul(constant_like(b, -0.5, dy), dy), y3)};
}

std::vector<ValueId> grad_tanh(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId one_minus_y2 = b.sub(constant_like(b, 1.0, dy), b.mul(self, self));
  return {b.mul(dy, one_minus_y2)};
}

std::vector<ValueId> grad_sigmoid(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId one_minus_y = b.sub(constant_like(b, 1.0, dy), self);
  return {b.mul(dy, b.mul(self, one_minus_y))};
}

// At 0 the subgradient 0 is taken (as PyTorch and JAX do).
// relu(x) > 0 exactly where x > 0, so the mask reads the output: the input then has no
// other reader and the fusion pass can join relu with the bias add before it.
std::vector<ValueId> grad_relu(GraphBuilder& b, ValueId self, ValueId dy) {
  return {b.where(gt_zero(b, self), dy, constant_like(b, 0.0, dy))};
}

// gelu(x) = x Φ(x): d/dx = Φ(x) + x φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{-x²/2}/√(2π).
std::vector<ValueId> grad_gelu(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId x = x_of(b, self);
  ValueId cdf = b.mul(constant_like(b, 0.5, x),
                      b.add(constant_like(b, 1.0, x),
                            b.erf(b.mul(x, constant_like(b, 1.0 / std::numbers::sqrt2, x)))));
  ValueId pdf = b.mul(b.exp(b.mul(constant_like(b, -0.5, x), b.mul(x, x))),
                      constant_like(b, 1.0 / std::sqrt(2.0 * std::numbers::pi), x));
  return {b.mul(dy, b.add(cdf, b.mul(x, pdf)))};
}

std::vector<ValueId> grad_erf(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId x = x_of(b, self);
  ValueId e = b.exp(b.neg(b.mul(x, x)));
  return {b.mul(dy, b.mul(constant_like(b, 2.0 * std::numbers::inv_sqrtpi, x), e))};
}

// ---- binary --------------------------------------------------------------------------

namespace {

struct BinaryArgs {
  ValueId a, b;
  Shape sa, sb;
};

BinaryArgs binary_args(GraphBuilder& b, ValueId self) {
  const Node& n = b.graph().node(self);
  BinaryArgs r{n.inputs.at(0), n.inputs.at(1), {}, {}};
  r.sa = b.shape(r.a);
  r.sb = b.shape(r.b);
  return r;
}

// Each gradient computed at the broadcast shape, summed back to its input's shape.
std::vector<ValueId> reduce_pair(GraphBuilder& b, const BinaryArgs& in, ValueId ga, ValueId gb) {
  return {ga == kNoValue ? kNoValue : b.sum_to_shape(ga, in.sa),
          gb == kNoValue ? kNoValue : b.sum_to_shape(gb, in.sb)};
}

// Gradients of maximum/minimum. `wins` is where `a` is strictly selected; on ties
// (a == b) each side gets half of dy, so the two gradients always add up to dy and the
// rule is symmetric in a and b (what TensorFlow and JAX's "balanced" choice do).
std::vector<ValueId> grad_select_pair(GraphBuilder& b, ValueId self, ValueId dy, OpKind strict) {
  BinaryArgs in = binary_args(b, self);
  ValueId wins = b.compare(strict, in.a, in.b);
  ValueId tie = b.compare(OpKind::kEqual, in.a, in.b);
  ValueId weight_a = b.where(wins, constant_like(b, 1.0, dy),
                             b.where(tie, constant_like(b, 0.5, dy), constant_like(b, 0.0, dy)));
  ValueId ga = b.mul(dy, weight_a);
  ValueId gb = b.sub(dy, ga);
  return reduce_pair(b, in, ga, gb);
}

}  // namespace

std::vector<ValueId> grad_add(GraphBuilder& b, ValueId self, ValueId dy) {
  return reduce_pair(b, binary_args(b, self), dy, dy);
}

std::vector<ValueId> grad_sub(GraphBuilder& b, ValueId self, ValueId dy) {
  return reduce_pair(b, binary_args(b, self), dy, b.neg(dy));
}

std::vector<ValueId> grad_mul(GraphBuilder& b, ValueId self, ValueId dy) {
  BinaryArgs in = binary_args(b, self);
  return reduce_pair(b, in, b.mul(dy, in.b), b.mul(dy, in.a));
}

// d(a/b)/db = -a/b² = -y/b: reuses the forward result.
std::vector<ValueId> grad_div(GraphBuilder& b, ValueId self, ValueId dy) {
  BinaryArgs in = binary_args(b, self);
  ValueId ga = b.div(dy, in.b);
  ValueId gb = b.neg(b.div(b.mul(dy, self), in.b));
  return reduce_pair(b, in, ga, gb);
}

// d a^b/da = b a^(b-1); d a^b/db = log(a) a^b. Where a == 0 the exponent's gradient is
// taken as 0 (log 0 = -inf would turn 0·-inf into NaN), as PyTorch does.
std::vector<ValueId> grad_pow(GraphBuilder& b, ValueId self, ValueId dy) {
  BinaryArgs in = binary_args(b, self);
  ValueId bm1 = b.sub(in.b, constant_like(b, 1.0, in.b));
  ValueId ga = b.mul(dy, b.mul(in.b, b.pow(in.a, bm1)));
  ValueId zero = constant_like(b, 0.0, dy);
  ValueId a_is_zero = b.compare(OpKind::kEqual, in.a, constant_like(b, 0.0, in.a));
  ValueId gb = b.where(a_is_zero, zero, b.mul(dy, b.mul(b.log(in.a), self)));
  return reduce_pair(b, in, ga, gb);
}

std::vector<ValueId> grad_maximum(GraphBuilder& b, ValueId self, ValueId dy) {
  return grad_select_pair(b, self, dy, OpKind::kGreater);
}

std::vector<ValueId> grad_minimum(GraphBuilder& b, ValueId self, ValueId dy) {
  return grad_select_pair(b, self, dy, OpKind::kLess);
}

// dy flows to the side `cond` selected; the condition itself gets none.
std::vector<ValueId> grad_where(GraphBuilder& b, ValueId self, ValueId dy) {
  const Node& n = b.graph().node(self);
  ValueId cond = n.inputs.at(0), a = n.inputs.at(1), c = n.inputs.at(2);
  Shape sa = b.shape(a), sc = b.shape(c);
  ValueId zero = constant_like(b, 0.0, dy);
  ValueId ga = b.where(cond, dy, zero);
  ValueId gc = b.where(cond, zero, dy);
  // where(cond, dy, 0) has the broadcast of cond and dy, which is dy's (the output) shape.
  return {kNoValue, b.sum_to_shape(ga, sa), b.sum_to_shape(gc, sc)};
}

// A float-to-float cast passes dy back in the input's dtype; casts from or to integers,
// bool or fixed point are not differentiable.
std::vector<ValueId> grad_cast(GraphBuilder& b, ValueId self, ValueId dy) {
  ValueId x = x_of(b, self);
  DType from = b.dtype(x), to = b.dtype(self);
  if (!from.is_float() || !to.is_float()) return {kNoValue};
  return {from == b.dtype(dy) ? dy : b.cast(dy, from)};
}

}  // namespace tessera::detail
