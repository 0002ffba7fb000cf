#include "tessera/ir/builder.h"

#include <algorithm>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {

std::string GraphBuilder::default_name(std::string_view kind) const {
  if (scope_.empty()) return fmt::format("{}_{}", kind, g_.size());
  return fmt::format("{}/{}_{}", scope_, kind, g_.size());
}

ValueId GraphBuilder::emit(OpKind op, std::span<const ValueId> inputs, Attrs attrs,
                           std::string name) {
  Node n;
  n.op = op;
  n.inputs.assign(inputs.begin(), inputs.end());
  n.attrs = std::move(attrs);
  n.name = name.empty() ? default_name(op_name(op)) : std::move(name);
  const OpInfo& info = op_info(op);
  int arity = static_cast<int>(n.inputs.size());
  TS_CHECK(arity >= info.min_inputs && (info.max_inputs < 0 || arity <= info.max_inputs),
           ErrorKind::kInvalidArgument, "node '{}' ({}): got {} inputs, expected {}", n.name,
           info.name, arity, info.min_inputs);
  for (ValueId in : n.inputs)
    TS_CHECK(in >= 0 && in < g_.size(), ErrorKind::kInvalidArgument,
             "node '{}' ({}): input id {} does not name an existing value", n.name, info.name,
             in);
  n.type = info.infer(g_, n);
  return g_.add_node(std::move(n));
}

ValueId GraphBuilder::emit(OpKind op, std::initializer_list<ValueId> inputs, Attrs attrs,
                           std::string name) {
  return emit(op, std::span<const ValueId>(inputs.begin(), inputs.size()), std::move(attrs),
              std::move(name));
}

ValueId GraphBuilder::input(std::string name, DType dtype, const Shape& shape) {
  Node n;
  n.op = OpKind::kInput;
  n.name = std::move(name);
  n.type = {dtype, shape};
  return g_.add_node(std::move(n));
}

ValueId GraphBuilder::parameter(std::string name, Tensor value, bool trainable) {
  TS_CHECK(value.defined(), ErrorKind::kInvalidArgument, "parameter '{}' has no value", name);
  Node n;
  n.op = OpKind::kParameter;
  n.name = std::move(name);
  n.type = {value.dtype(), value.shape()};
  n.value = std::move(value);
  n.trainable = trainable;
  return g_.add_node(std::move(n));
}

ValueId GraphBuilder::constant(Tensor value, std::string name) {
  TS_CHECK(value.defined(), ErrorKind::kInvalidArgument, "constant '{}' has no value", name);
  Node n;
  n.op = OpKind::kConstant;
  n.name = name.empty() ? default_name("constant") : std::move(name);
  n.type = {value.dtype(), value.shape()};
  n.value = value.contiguous();
  return g_.add_node(std::move(n));
}

ValueId GraphBuilder::scalar(double value, DType dtype) {
  return constant(Tensor::scalar(value, dtype));
}

ValueId GraphBuilder::unary(OpKind op, ValueId x) { return emit(op, {x}); }
ValueId GraphBuilder::binary(OpKind op, ValueId a, ValueId b) { return emit(op, {a, b}); }

ValueId GraphBuilder::neg(ValueId x) { return unary(OpKind::kNeg, x); }
ValueId GraphBuilder::abs(ValueId x) { return unary(OpKind::kAbs, x); }
ValueId GraphBuilder::exp(ValueId x) { return unary(OpKind::kExp, x); }
ValueId GraphBuilder::log(ValueId x) { return unary(OpKind::kLog, x); }
ValueId GraphBuilder::sqrt(ValueId x) { return unary(OpKind::kSqrt, x); }
ValueId GraphBuilder::rsqrt(ValueId x) { return unary(OpKind::kRsqrt, x); }
ValueId GraphBuilder::tanh(ValueId x) { return unary(OpKind::kTanh, x); }
ValueId GraphBuilder::sigmoid(ValueId x) { return unary(OpKind::kSigmoid, x); }
ValueId GraphBuilder::relu(ValueId x) { return unary(OpKind::kRelu, x); }
ValueId GraphBuilder::gelu(ValueId x) { return unary(OpKind::kGelu, x); }
ValueId GraphBuilder::erf(ValueId x) { return unary(OpKind::kErf, x); }
ValueId GraphBuilder::add(ValueId a, ValueId b) { return binary(OpKind::kAdd, a, b); }
ValueId GraphBuilder::sub(ValueId a, ValueId b) { return binary(OpKind::kSub, a, b); }
ValueId GraphBuilder::mul(ValueId a, ValueId b) { return binary(OpKind::kMul, a, b); }
ValueId GraphBuilder::div(ValueId a, ValueId b) { return binary(OpKind::kDiv, a, b); }
ValueId GraphBuilder::pow(ValueId a, ValueId b) { return binary(OpKind::kPow, a, b); }
ValueId GraphBuilder::maximum(ValueId a, ValueId b) { return binary(OpKind::kMaximum, a, b); }
ValueId GraphBuilder::minimum(ValueId a, ValueId b) { return binary(OpKind::kMinimum, a, b); }

ValueId GraphBuilder::compare(OpKind op, ValueId a, ValueId b) {
  TS_CHECK(op_info(op).op_class == OpClass::kCompare, ErrorKind::kInvalidArgument,
           "compare() needs a comparison op, got {}", op_name(op));
  return binary(op, a, b);
}

ValueId GraphBuilder::where(ValueId cond, ValueId a, ValueId b) {
  return emit(OpKind::kWhere, {cond, a, b});
}

ValueId GraphBuilder::cast(ValueId x, DType dtype) {
  return emit(OpKind::kCast, {x}, Attrs().set("dtype", dtype));
}

ValueId GraphBuilder::matmul(ValueId a, ValueId b, bool transpose_a, bool transpose_b) {
  return emit(OpKind::kMatMul, {a, b},
              Attrs()
                  .set("transpose_a", int64_t{transpose_a})
                  .set("transpose_b", int64_t{transpose_b}));
}

ValueId GraphBuilder::attention(ValueId q, ValueId k, ValueId v, bool causal,
                               std::optional<double> scale, ValueId kv_len) {
  Attrs attrs;
  attrs.set("causal", int64_t{causal});
  if (scale) attrs.set("scale", *scale);
  if (kv_len == kNoValue) return emit(OpKind::kAttention, {q, k, v}, std::move(attrs));
  return emit(OpKind::kAttention, {q, k, v, kv_len}, std::move(attrs));
}

ValueId GraphBuilder::update_slice(ValueId x, ValueId update, ValueId start, int64_t axis) {
  return emit(OpKind::kUpdateSlice, {x, update, start}, Attrs().set("axis", axis));
}

ValueId GraphBuilder::dynamic_slice(ValueId x, ValueId start, int64_t axis, int64_t size) {
  return emit(OpKind::kDynamicSlice, {x, start}, Attrs().set("axis", axis).set("size", size));
}

namespace {
Attrs reduce_attrs(std::vector<int64_t> axes, bool keepdims) {
  return Attrs().set("axes", std::move(axes)).set("keepdims", int64_t{keepdims});
}
}  // namespace

ValueId GraphBuilder::reduce_sum(ValueId x, std::vector<int64_t> axes, bool keepdims) {
  return emit(OpKind::kReduceSum, {x}, reduce_attrs(std::move(axes), keepdims));
}
ValueId GraphBuilder::reduce_mean(ValueId x, std::vector<int64_t> axes, bool keepdims) {
  return emit(OpKind::kReduceMean, {x}, reduce_attrs(std::move(axes), keepdims));
}
ValueId GraphBuilder::reduce_max(ValueId x, std::vector<int64_t> axes, bool keepdims) {
  return emit(OpKind::kReduceMax, {x}, reduce_attrs(std::move(axes), keepdims));
}

ValueId GraphBuilder::reshape(ValueId x, const Shape& shape) {
  if (this->shape(x) == shape) return x;
  return emit(OpKind::kReshape, {x}, Attrs().set("shape", shape.to_vector()));
}

ValueId GraphBuilder::permute(ValueId x, std::vector<int64_t> perm) {
  return emit(OpKind::kPermute, {x}, Attrs().set("perm", std::move(perm)));
}

ValueId GraphBuilder::broadcast(ValueId x, const Shape& shape) {
  if (this->shape(x) == shape) return x;
  return emit(OpKind::kBroadcast, {x}, Attrs().set("shape", shape.to_vector()));
}

ValueId GraphBuilder::slice(ValueId x, std::vector<int64_t> starts, std::vector<int64_t> ends,
                            std::vector<int64_t> steps) {
  if (steps.empty()) steps.assign(starts.size(), 1);
  return emit(OpKind::kSlice, {x},
              Attrs().set("starts", std::move(starts)).set("ends", std::move(ends))
                  .set("steps", std::move(steps)));
}

ValueId GraphBuilder::concat(std::span<const ValueId> xs, int64_t axis) {
  return emit(OpKind::kConcat, xs, Attrs().set("axis", axis));
}

ValueId GraphBuilder::pad(ValueId x, std::vector<int64_t> before, std::vector<int64_t> after,
                          double value) {
  return emit(OpKind::kPad, {x},
              Attrs().set("pads_before", std::move(before)).set("pads_after", std::move(after))
                  .set("value", value));
}

ValueId GraphBuilder::gather(ValueId data, ValueId indices, int64_t axis) {
  return emit(OpKind::kGather, {data, indices}, Attrs().set("axis", axis));
}

ValueId GraphBuilder::scatter_add(ValueId updates, ValueId indices, int64_t axis,
                                  int64_t dim_size) {
  return emit(OpKind::kScatterAdd, {updates, indices},
              Attrs().set("axis", axis).set("dim_size", dim_size));
}

ValueId GraphBuilder::one_hot(ValueId indices, int64_t depth, DType dtype) {
  return emit(OpKind::kOneHot, {indices}, Attrs().set("depth", depth).set("dtype", dtype));
}

ValueId GraphBuilder::softmax(ValueId x, int64_t axis) {
  return emit(OpKind::kSoftmax, {x}, Attrs().set("axis", axis));
}
ValueId GraphBuilder::log_softmax(ValueId x, int64_t axis) {
  return emit(OpKind::kLogSoftmax, {x}, Attrs().set("axis", axis));
}
ValueId GraphBuilder::random_uniform(ValueId step, const Shape& shape, uint64_t seed) {
  // The seed is stored bit for bit in the int attribute (attributes hold int64).
  return emit(OpKind::kRandomUniform, {step},
              Attrs().set("shape", shape.to_vector()).set("seed", static_cast<int64_t>(seed)));
}

ValueId GraphBuilder::cross_entropy(ValueId logits, ValueId labels) {
  return emit(OpKind::kCrossEntropy, {logits, labels});
}

ValueId GraphBuilder::layer_norm(ValueId x, ValueId gamma, ValueId beta, double epsilon) {
  return emit(OpKind::kLayerNorm, {x, gamma, beta}, Attrs().set("epsilon", epsilon));
}
ValueId GraphBuilder::rms_norm(ValueId x, ValueId gamma, double epsilon) {
  return emit(OpKind::kRmsNorm, {x, gamma}, Attrs().set("epsilon", epsilon));
}
ValueId GraphBuilder::layer_norm_grad_input(ValueId x, ValueId gamma, ValueId dy, double epsilon) {
  return emit(OpKind::kLayerNormGradInput, {x, gamma, dy}, Attrs().set("epsilon", epsilon));
}
ValueId GraphBuilder::rms_norm_grad_input(ValueId x, ValueId gamma, ValueId dy, double epsilon) {
  return emit(OpKind::kRmsNormGradInput, {x, gamma, dy}, Attrs().set("epsilon", epsilon));
}

ValueId GraphBuilder::sum_to_shape(ValueId x, const Shape& target) {
  const Shape s = shape(x);
  if (s == target) return x;
  // Sum over leading axes that the target lacks and over axes where the target has 1.
  std::vector<int64_t> axes;
  int lead = s.rank() - target.rank();
  TS_CHECK(lead >= 0, ErrorKind::kInternal, "sum_to_shape: {} is smaller than {}", s.str(),
           target.str());
  for (int i = 0; i < s.rank(); ++i) {
    if (i < lead) axes.push_back(i);
    else if (target[i - lead] == 1 && s[i] != 1) axes.push_back(i);
  }
  ValueId r = axes.empty() ? x : reduce_sum(x, axes, /*keepdims=*/true);
  return reshape(r, target);
}

void GraphBuilder::update(ValueId parameter, ValueId value) {
  const Node& p = g_.node(parameter);
  TS_CHECK(p.op == OpKind::kParameter, ErrorKind::kInvalidArgument,
           "update target {} is not a parameter", g_.describe(parameter));
  TS_CHECK(p.type == type(value), ErrorKind::kInvalidArgument,
           "update of {} ({}) with {} ({}): types differ", g_.describe(parameter),
           p.type.str(), g_.describe(value), type(value).str());
  g_.updates().push_back({parameter, value});
}

}  // namespace tessera
