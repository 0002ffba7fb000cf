// The op table: names, arity, type inference and cost of every op. Gradient rules live in
// gradients.cpp and decompositions in decompositions.cpp; the switches there and here have
// no default, so an op without a row does not compile.
#include "tessera/ir/op_table.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "conv_rules.h"
#include "op_rules.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

// ---- helpers -----------------------------------------------------------------------

const TensorType& in_type(const Graph& g, const Node& n, size_t i) {
  return g.type(n.inputs.at(i));
}

std::string where_(const Node& n) { return fmt::format("node '{}' ({})", n.name, op_name(n.op)); }

std::string input_types(const Graph& g, const Node& n) {
  std::string s;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (i) s += ", ";
    s += g.type(n.inputs[i]).str();
  }
  return s;
}

bool is_one_of(DType t, std::initializer_list<DTypeId> ids) {
  return std::find(ids.begin(), ids.end(), t.id()) != ids.end();
}

constexpr std::initializer_list<DTypeId> kFloats = {DTypeId::kF32, DTypeId::kF16,
                                                    DTypeId::kBF16};
constexpr std::initializer_list<DTypeId> kNumeric = {DTypeId::kF32, DTypeId::kF16,
                                                     DTypeId::kBF16, DTypeId::kI8,
                                                     DTypeId::kI32, DTypeId::kI64};
constexpr std::initializer_list<DTypeId> kIndices = {DTypeId::kI32, DTypeId::kI64};

void check_dtype(const Graph& g, const Node& n, size_t i, std::initializer_list<DTypeId> ids,
                 const char* expected) {
  DType t = in_type(g, n, i).dtype;
  TS_CHECK(is_one_of(t, ids), ErrorKind::kInvalidArgument,
           "{}: input {} has dtype {}, expected {} (inputs: {})", where_(n), i, t.name(),
           expected, input_types(g, n));
}

Shape broadcast_or_throw(const Graph& g, const Node& n) {
  Shape out = in_type(g, n, 0).shape;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    Shape next;
    TS_CHECK(broadcast_shapes(out, in_type(g, n, i).shape, &next), ErrorKind::kInvalidArgument,
             "{}: input shapes do not broadcast ({})", where_(n), input_types(g, n));
    out = next;
  }
  return out;
}

void check_same_dtype(const Graph& g, const Node& n, size_t first, size_t last) {
  for (size_t i = first + 1; i <= last; ++i)
    TS_CHECK(in_type(g, n, i).dtype == in_type(g, n, first).dtype, ErrorKind::kInvalidArgument,
             "{}: inputs must have the same dtype, got {}", where_(n), input_types(g, n));
}

// Resolves a list of axes against a rank: negatives wrap, duplicates and range checked.
std::vector<int> resolve_axes(const Node& n, const std::vector<int64_t>& axes, int rank) {
  std::vector<int> r;
  for (int64_t a : axes) {
    int64_t x = a < 0 ? a + rank : a;
    TS_CHECK(x >= 0 && x < rank, ErrorKind::kInvalidArgument,
             "{}: axis {} is out of range for rank {}", where_(n), a, rank);
    TS_CHECK(std::find(r.begin(), r.end(), x) == r.end(), ErrorKind::kInvalidArgument,
             "{}: axis {} is repeated", where_(n), a);
    r.push_back(static_cast<int>(x));
  }
  std::sort(r.begin(), r.end());
  return r;
}

int resolve_axis(const Node& n, int64_t axis, int rank) {
  return resolve_axes(n, {axis}, rank)[0];
}

// ---- type inference ----------------------------------------------------------------

TensorType infer_leaf(const Graph&, const Node& n) { return n.type; }

TensorType infer_unary(const Graph& g, const Node& n) {
  switch (n.op) {
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kRelu:
      check_dtype(g, n, 0, kNumeric, "a numeric type");
      break;
    default:
      check_dtype(g, n, 0, kFloats, "a float type (f32, f16, bf16)");
  }
  return in_type(g, n, 0);
}

TensorType infer_binary(const Graph& g, const Node& n) {
  check_same_dtype(g, n, 0, 1);
  if (n.op == OpKind::kPow) check_dtype(g, n, 0, kFloats, "a float type (f32, f16, bf16)");
  else check_dtype(g, n, 0, kNumeric, "a numeric type");
  return {in_type(g, n, 0).dtype, broadcast_or_throw(g, n)};
}

TensorType infer_compare(const Graph& g, const Node& n) {
  check_same_dtype(g, n, 0, 1);
  if (n.op == OpKind::kEqual || n.op == OpKind::kNotEqual)
    check_dtype(g, n, 0,
                {DTypeId::kF32, DTypeId::kF16, DTypeId::kBF16, DTypeId::kI8, DTypeId::kI32,
                 DTypeId::kI64, DTypeId::kBool},
                "a numeric or bool type");
  else
    check_dtype(g, n, 0, kNumeric, "a numeric type");
  return {kBool, broadcast_or_throw(g, n)};
}

TensorType infer_where(const Graph& g, const Node& n) {
  check_dtype(g, n, 0, {DTypeId::kBool}, "bool");
  check_same_dtype(g, n, 1, 2);
  return {in_type(g, n, 1).dtype, broadcast_or_throw(g, n)};
}

TensorType infer_cast(const Graph& g, const Node& n) {
  return {n.attrs.get_dtype("dtype"), in_type(g, n, 0).shape};
}

TensorType infer_matmul(const Graph& g, const Node& n) {
  check_same_dtype(g, n, 0, 1);
  check_dtype(g, n, 0, kFloats, "a float type (f32, f16, bf16)");
  const Shape& a = in_type(g, n, 0).shape;
  const Shape& b = in_type(g, n, 1).shape;
  TS_CHECK(a.rank() >= 2 && b.rank() >= 2, ErrorKind::kInvalidArgument,
           "{}: inputs must have rank >= 2, got {}", where_(n), input_types(g, n));
  bool ta = n.attrs.get_int_or("transpose_a", 0), tb = n.attrs.get_int_or("transpose_b", 0);
  int64_t m = a[a.rank() - (ta ? 1 : 2)], ka = a[a.rank() - (ta ? 2 : 1)];
  int64_t kb = b[b.rank() - (tb ? 1 : 2)], nn = b[b.rank() - (tb ? 2 : 1)];
  // A symbolic K (both sides the batch dim) is fine: it is how weight gradients contract
  // over the batch, e.g. dW = xᵀ·dy with x [N, K] and dy [N, M].
  TS_CHECK(ka == kb, ErrorKind::kInvalidArgument,
           "{}: inner dimensions differ ({} vs {}; inputs {}, transpose_a={}, transpose_b={})",
           where_(n), ka, kb, input_types(g, n), ta, tb);
  Shape batch_a(std::span<const int64_t>(a.begin(), a.rank() - 2));
  Shape batch_b(std::span<const int64_t>(b.begin(), b.rank() - 2));
  Shape out;
  TS_CHECK(broadcast_shapes(batch_a, batch_b, &out), ErrorKind::kInvalidArgument,
           "{}: batch dimensions do not broadcast ({})", where_(n), input_types(g, n));
  out.push_back(m);
  out.push_back(nn);
  return {in_type(g, n, 0).dtype, out};
}

TensorType infer_reduce(const Graph& g, const Node& n) {
  if (n.op == OpKind::kReduceMean) check_dtype(g, n, 0, kFloats, "a float type");
  else check_dtype(g, n, 0, kNumeric, "a numeric type");
  const Shape& s = in_type(g, n, 0).shape;
  const auto& axes_attr = n.attrs.get_ints("axes");
  std::vector<int> axes;
  if (axes_attr.empty()) {
    axes.resize(s.rank());
    std::iota(axes.begin(), axes.end(), 0);
  } else {
    axes = resolve_axes(n, axes_attr, s.rank());
  }
  bool keep = n.attrs.get_int_or("keepdims", 0) != 0;
  Shape out;
  for (int i = 0; i < s.rank(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(s[i]);
    else if (keep) out.push_back(1);
  }
  return {in_type(g, n, 0).dtype, out};
}

// Product of static dims and the count of kDynamic ones.
std::pair<int64_t, int> static_numel(const Shape& s) {
  int64_t p = 1;
  int dyn = 0;
  for (int64_t d : s.dims()) {
    if (d == kDynamic) ++dyn;
    else p *= d;
  }
  return {p, dyn};
}

TensorType infer_reshape(const Graph& g, const Node& n) {
  const TensorType& x = in_type(g, n, 0);
  Shape target(std::span<const int64_t>(n.attrs.get_ints("shape")));
  auto [pi, di] = static_numel(x.shape);
  auto [po, dout] = static_numel(target);
  TS_CHECK(pi == po && di == dout && di <= 1, ErrorKind::kInvalidArgument,
           "{}: cannot reshape {} to {} (element counts differ)", where_(n), x.shape.str(),
           target.str());
  return {x.dtype, target};
}

TensorType infer_permute(const Graph& g, const Node& n) {
  const TensorType& x = in_type(g, n, 0);
  const auto& perm = n.attrs.get_ints("perm");
  TS_CHECK(static_cast<int>(perm.size()) == x.shape.rank(), ErrorKind::kInvalidArgument,
           "{}: perm has {} entries for an input of rank {}", where_(n), perm.size(),
           x.shape.rank());
  std::vector<int> axes = resolve_axes(n, perm, x.shape.rank());  // checks a permutation
  (void)axes;
  Shape out;
  for (int64_t p : perm) out.push_back(x.shape[static_cast<int>(p < 0 ? p + x.shape.rank() : p)]);
  return {x.dtype, out};
}

TensorType infer_broadcast(const Graph& g, const Node& n) {
  const TensorType& x = in_type(g, n, 0);
  Shape target(std::span<const int64_t>(n.attrs.get_ints("shape")));
  Shape out;
  TS_CHECK(broadcast_shapes(x.shape, target, &out) && out == target,
           ErrorKind::kInvalidArgument, "{}: cannot broadcast {} to {}", where_(n),
           x.shape.str(), target.str());
  return {x.dtype, target};
}

TensorType infer_slice(const Graph& g, const Node& n) {
  const TensorType& x = in_type(g, n, 0);
  const auto& starts = n.attrs.get_ints("starts");
  const auto& ends = n.attrs.get_ints("ends");
  const auto& steps = n.attrs.get_ints("steps");
  int r = x.shape.rank();
  TS_CHECK(static_cast<int>(starts.size()) == r && static_cast<int>(ends.size()) == r &&
               static_cast<int>(steps.size()) == r,
           ErrorKind::kInvalidArgument,
           "{}: starts, ends and steps need one entry per axis of {}", where_(n),
           x.shape.str());
  Shape out;
  for (int i = 0; i < r; ++i) {
    TS_CHECK(steps[i] > 0, ErrorKind::kInvalidArgument, "{}: step {} on axis {} must be > 0",
             where_(n), steps[i], i);
    int64_t d = x.shape[i];
    if (d == kDynamic) {
      TS_CHECK(starts[i] == 0 && ends[i] >= INT32_MAX && steps[i] == 1,
               ErrorKind::kInvalidArgument,
               "{}: the batch axis {} can only be taken whole (start 0, end max, step 1)",
               where_(n), i);
      out.push_back(kDynamic);
      continue;
    }
    auto clamp = [&](int64_t v) {
      if (v < 0) v += d;
      return std::clamp<int64_t>(v, 0, d);
    };
    int64_t s = clamp(starts[i]), e = clamp(ends[i]);
    out.push_back(e > s ? (e - s + steps[i] - 1) / steps[i] : 0);
  }
  return {x.dtype, out};
}

TensorType infer_concat(const Graph& g, const Node& n) {
  const TensorType& x0 = in_type(g, n, 0);
  int axis = resolve_axis(n, n.attrs.get_int("axis"), x0.shape.rank());
  Shape out = x0.shape;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const TensorType& xi = in_type(g, n, i);
    TS_CHECK(xi.dtype == x0.dtype && xi.shape.rank() == x0.shape.rank(),
             ErrorKind::kInvalidArgument, "{}: inputs differ in dtype or rank ({})", where_(n),
             input_types(g, n));
    for (int d = 0; d < out.rank(); ++d) {
      if (d == axis) continue;
      TS_CHECK(xi.shape[d] == out[d], ErrorKind::kInvalidArgument,
               "{}: inputs differ on axis {} ({})", where_(n), d, input_types(g, n));
    }
    TS_CHECK(xi.shape[axis] != kDynamic && out[axis] != kDynamic, ErrorKind::kInvalidArgument,
             "{}: cannot concatenate along the batch axis", where_(n));
    out[axis] += xi.shape[axis];
  }
  return {x0.dtype, out};
}

TensorType infer_pad(const Graph& g, const Node& n) {
  const TensorType& x = in_type(g, n, 0);
  const auto& before = n.attrs.get_ints("pads_before");
  const auto& after = n.attrs.get_ints("pads_after");
  int r = x.shape.rank();
  TS_CHECK(static_cast<int>(before.size()) == r && static_cast<int>(after.size()) == r,
           ErrorKind::kInvalidArgument, "{}: pads need one entry per axis of {}", where_(n),
           x.shape.str());
  Shape out = x.shape;
  for (int i = 0; i < r; ++i) {
    TS_CHECK(before[i] >= 0 && after[i] >= 0, ErrorKind::kInvalidArgument,
             "{}: pads must be >= 0, got {} and {} on axis {}", where_(n), before[i], after[i],
             i);
    if (out[i] == kDynamic) {
      TS_CHECK(before[i] == 0 && after[i] == 0, ErrorKind::kInvalidArgument,
               "{}: cannot pad the batch axis", where_(n));
      continue;
    }
    out[i] += before[i] + after[i];
  }
  return {x.dtype, out};
}

TensorType infer_gather(const Graph& g, const Node& n) {
  check_dtype(g, n, 1, kIndices, "i32 or i64 indices");
  const TensorType& data = in_type(g, n, 0);
  const Shape& idx = in_type(g, n, 1).shape;
  int axis = resolve_axis(n, n.attrs.get_int("axis"), data.shape.rank());
  Shape out;
  for (int i = 0; i < axis; ++i) out.push_back(data.shape[i]);
  for (int64_t d : idx.dims()) out.push_back(d);
  for (int i = axis + 1; i < data.shape.rank(); ++i) out.push_back(data.shape[i]);
  return {data.dtype, out};
}

TensorType infer_scatter_add(const Graph& g, const Node& n) {
  check_dtype(g, n, 0, kNumeric, "a numeric type");
  check_dtype(g, n, 1, kIndices, "i32 or i64 indices");
  const TensorType& upd = in_type(g, n, 0);
  const Shape& idx = in_type(g, n, 1).shape;
  int64_t axis = n.attrs.get_int("axis");
  int64_t dim = n.attrs.get_int("dim_size");
  int out_rank = upd.shape.rank() - idx.rank() + 1;
  TS_CHECK(axis >= 0 && axis < out_rank && dim > 0, ErrorKind::kInvalidArgument,
           "{}: axis {} or dim_size {} invalid for updates {} and indices {}", where_(n), axis,
           dim, upd.shape.str(), idx.str());
  for (int i = 0; i < idx.rank(); ++i)
    TS_CHECK(upd.shape[static_cast<int>(axis) + i] == idx[i], ErrorKind::kInvalidArgument,
             "{}: updates {} do not hold indices {} at axis {}", where_(n), upd.shape.str(),
             idx.str(), axis);
  Shape out;
  for (int i = 0; i < axis; ++i) out.push_back(upd.shape[i]);
  out.push_back(dim);
  for (int i = static_cast<int>(axis) + idx.rank(); i < upd.shape.rank(); ++i)
    out.push_back(upd.shape[i]);
  return {upd.dtype, out};
}

TensorType infer_one_hot(const Graph& g, const Node& n) {
  check_dtype(g, n, 0, kIndices, "i32 or i64 indices");
  int64_t depth = n.attrs.get_int("depth");
  TS_CHECK(depth > 0, ErrorKind::kInvalidArgument, "{}: depth must be > 0, got {}", where_(n),
           depth);
  Shape out = in_type(g, n, 0).shape;
  out.push_back(depth);
  return {n.attrs.get_dtype("dtype"), out};
}

TensorType infer_softmax(const Graph& g, const Node& n) {
  check_dtype(g, n, 0, kFloats, "a float type (f32, f16, bf16)");
  resolve_axis(n, n.attrs.get_int("axis"), in_type(g, n, 0).shape.rank());
  return in_type(g, n, 0);
}

TensorType infer_cross_entropy(const Graph& g, const Node& n) {
  check_dtype(g, n, 0, kFloats, "float logits");
  check_dtype(g, n, 1, kIndices, "i32 or i64 labels");
  const Shape& logits = in_type(g, n, 0).shape;
  const Shape& labels = in_type(g, n, 1).shape;
  TS_CHECK(logits.rank() >= 1 && labels.rank() == logits.rank() - 1,
           ErrorKind::kInvalidArgument,
           "{}: logits [..., C] need labels [...] of one rank less, got {}", where_(n),
           input_types(g, n));
  for (int i = 0; i < labels.rank(); ++i)
    TS_CHECK(labels[i] == logits[i], ErrorKind::kInvalidArgument,
             "{}: labels {} do not match logits {}", where_(n), labels.str(), logits.str());
  return {in_type(g, n, 0).dtype, labels};
}

// step: an i64 scalar (the training step) so that masks differ per step; `shape` may hold
// kDynamic (the batch), resolved by specialize like reshape's.
TensorType infer_random_uniform(const Graph& g, const Node& n) {
  const TensorType& step = in_type(g, n, 0);
  TS_CHECK(step.dtype == kI64 && step.shape.rank() == 0, ErrorKind::kInvalidArgument,
           "{}: the step input must be an i64 scalar, got {}", where_(n), step.str());
  n.attrs.get_int("seed");  // required: throws naming the attribute when missing
  const auto& dims = n.attrs.get_ints("shape");
  TS_CHECK(dims.size() <= static_cast<size_t>(kMaxRank), ErrorKind::kInvalidArgument,
           "{}: shape has {} dims, at most {} allowed", where_(n), dims.size(), kMaxRank);
  for (int64_t d : dims)
    TS_CHECK(d >= 0 || d == kDynamic, ErrorKind::kInvalidArgument,
             "{}: shape dims must be >= 0 or -1 (the batch), got {}", where_(n), d);
  return {kF32, Shape(std::span<const int64_t>(dims))};
}

// ---- cost --------------------------------------------------------------------------

// Element counts use N = 1 for a symbolic batch; specialize() a graph for real figures.
double elems(const TensorType& t) { return static_cast<double>(t.shape.with_batch(1).numel()); }
double bytes(const TensorType& t) { return elems(t) * static_cast<double>(t.dtype.size()); }

OpCost io_cost(const Graph& g, const Node& n, double flops_per_output) {
  OpCost c;
  for (ValueId in : n.inputs) c.bytes_read += bytes(g.type(in));
  c.bytes_written = bytes(n.type);
  c.flops = flops_per_output * elems(n.type);
  return c;
}

OpCost cost_none(const Graph&, const Node&) { return {}; }
OpCost cost_move(const Graph& g, const Node& n) { return io_cost(g, n, 0); }
OpCost cost_elementwise(const Graph& g, const Node& n) { return io_cost(g, n, 1); }

OpCost cost_matmul(const Graph& g, const Node& n) {
  OpCost c = io_cost(g, n, 0);
  const Shape& a = in_type(g, n, 0).shape;
  bool ta = n.attrs.get_int_or("transpose_a", 0);
  int64_t ka = a[a.rank() - (ta ? 2 : 1)];
  double k = static_cast<double>(ka == kDynamic ? 1 : ka);  // N = 1, as elems() counts
  c.flops = 2.0 * k * elems(n.type);
  return c;
}

OpCost cost_reduce(const Graph& g, const Node& n) {
  OpCost c = io_cost(g, n, 0);
  c.flops = elems(in_type(g, n, 0));
  return c;
}

OpCost cost_softmax(const Graph& g, const Node& n) { return io_cost(g, n, 5); }

OpCost cost_cross_entropy(const Graph& g, const Node& n) {
  OpCost c = io_cost(g, n, 0);
  c.flops = 5.0 * elems(in_type(g, n, 0));
  return c;
}

// One draw per output element; the step scalar is the only input.
OpCost cost_random(const Graph& g, const Node& n) { return io_cost(g, n, 1); }

OpCost cost_scatter(const Graph& g, const Node& n) {
  OpCost c = io_cost(g, n, 0);
  c.flops = elems(in_type(g, n, 0));
  return c;
}

// ---- the table ---------------------------------------------------------------------

OpInfo make_row(OpKind k) {
  using C = OpClass;
  auto row = [k](const char* name, int min_in, int max_in, OpClass cls, InferFn infer,
                 CostFn cost) {
    return OpInfo{k,     name, min_in, max_in, cls, infer, detail::gradient_rule(k),
                  detail::decomposition_rule(k), cost};
  };
  switch (k) {
    case OpKind::kInput: return row("input", 0, 0, C::kLeaf, infer_leaf, cost_none);
    case OpKind::kParameter: return row("parameter", 0, 0, C::kLeaf, infer_leaf, cost_none);
    case OpKind::kConstant: return row("constant", 0, 0, C::kLeaf, infer_leaf, cost_none);
    case OpKind::kNeg: return row("neg", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kAbs: return row("abs", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kExp: return row("exp", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kLog: return row("log", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kSqrt: return row("sqrt", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kRsqrt: return row("rsqrt", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kTanh: return row("tanh", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kSigmoid: return row("sigmoid", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kRelu: return row("relu", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kGelu: return row("gelu", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kErf: return row("erf", 1, 1, C::kUnary, infer_unary, cost_elementwise);
    case OpKind::kAdd: return row("add", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kSub: return row("sub", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kMul: return row("mul", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kDiv: return row("div", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kPow: return row("pow", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kMaximum: return row("maximum", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kMinimum: return row("minimum", 2, 2, C::kBinary, infer_binary, cost_elementwise);
    case OpKind::kEqual: return row("equal", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kNotEqual:
      return row("not_equal", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kLess: return row("less", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kLessEqual:
      return row("less_equal", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kGreater:
      return row("greater", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kGreaterEqual:
      return row("greater_equal", 2, 2, C::kCompare, infer_compare, cost_elementwise);
    case OpKind::kWhere: return row("where", 3, 3, C::kWhere, infer_where, cost_elementwise);
    case OpKind::kCast: return row("cast", 1, 1, C::kCast, infer_cast, cost_elementwise);
    case OpKind::kMatMul: return row("matmul", 2, 2, C::kMatMul, infer_matmul, cost_matmul);
    case OpKind::kAttention:
      return row("attention", 3, 4, C::kComposite, detail::infer_attention,
                 detail::cost_attention);
    case OpKind::kUpdateSlice:
      return row("update_slice", 3, 3, C::kDataMovement, detail::infer_update_slice,
                 detail::cost_window);
    case OpKind::kDynamicSlice:
      return row("dynamic_slice", 2, 2, C::kDataMovement, detail::infer_dynamic_slice,
                 detail::cost_window);
    case OpKind::kReduceSum:
      return row("reduce_sum", 1, 1, C::kReduction, infer_reduce, cost_reduce);
    case OpKind::kReduceMean:
      return row("reduce_mean", 1, 1, C::kReduction, infer_reduce, cost_reduce);
    case OpKind::kReduceMax:
      return row("reduce_max", 1, 1, C::kReduction, infer_reduce, cost_reduce);
    case OpKind::kReshape:
      return row("reshape", 1, 1, C::kDataMovement, infer_reshape, cost_move);
    case OpKind::kPermute:
      return row("permute", 1, 1, C::kDataMovement, infer_permute, cost_move);
    case OpKind::kBroadcast:
      return row("broadcast", 1, 1, C::kDataMovement, infer_broadcast, cost_move);
    case OpKind::kSlice: return row("slice", 1, 1, C::kDataMovement, infer_slice, cost_move);
    case OpKind::kConcat:
      return row("concat", 1, -1, C::kDataMovement, infer_concat, cost_move);
    case OpKind::kPad: return row("pad", 1, 1, C::kDataMovement, infer_pad, cost_move);
    // Convolution and pooling (NHWC)
    case OpKind::kConv2D:
      return row("conv2d", 2, 2, C::kComposite, detail::infer_conv, detail::cost_conv);
    case OpKind::kConv2DBackpropInput:
      return row("conv2d_backprop_input", 2, 2, C::kComposite, detail::infer_conv,
                 detail::cost_conv);
    case OpKind::kConv2DBackpropFilter:
      return row("conv2d_backprop_filter", 2, 2, C::kComposite, detail::infer_conv,
                 detail::cost_conv);
    case OpKind::kMaxPool2D:
      return row("max_pool2d", 1, 1, C::kComposite, detail::infer_conv, detail::cost_conv);
    case OpKind::kMaxPool2DGrad:
      return row("max_pool2d_grad", 2, 2, C::kComposite, detail::infer_conv, detail::cost_conv);
    case OpKind::kAvgPool2D:
      return row("avg_pool2d", 1, 1, C::kComposite, detail::infer_conv, detail::cost_conv);
    case OpKind::kAvgPool2DGrad:
      return row("avg_pool2d_grad", 1, 1, C::kComposite, detail::infer_conv, detail::cost_conv);
    case OpKind::kGather: return row("gather", 2, 2, C::kIndexing, infer_gather, cost_move);
    case OpKind::kScatterAdd:
      return row("scatter_add", 2, 2, C::kIndexing, infer_scatter_add, cost_scatter);
    case OpKind::kOneHot: return row("one_hot", 1, 1, C::kIndexing, infer_one_hot, cost_move);
    case OpKind::kSoftmax:
      return row("softmax", 1, 1, C::kComposite, infer_softmax, cost_softmax);
    case OpKind::kLogSoftmax:
      return row("log_softmax", 1, 1, C::kComposite, infer_softmax, cost_softmax);
    case OpKind::kCrossEntropy:
      return row("cross_entropy", 2, 2, C::kComposite, infer_cross_entropy,
                 cost_cross_entropy);
    case OpKind::kLayerNorm:
      return row("layer_norm", 3, 3, C::kComposite, detail::infer_norm, detail::cost_norm);
    case OpKind::kRmsNorm:
      return row("rms_norm", 2, 2, C::kComposite, detail::infer_norm, detail::cost_norm);
    case OpKind::kLayerNormGradInput:
      return row("layer_norm_grad_input", 3, 3, C::kComposite, detail::infer_norm,
                 detail::cost_norm);
    case OpKind::kRmsNormGradInput:
      return row("rms_norm_grad_input", 3, 3, C::kComposite, detail::infer_norm, detail::cost_norm);
    case OpKind::kRandomUniform:
      return row("random_uniform", 1, 1, C::kIndexing, infer_random_uniform, cost_random);
    case OpKind::kFusedElementwise:
      return row("fused_elementwise", 1, -1, C::kFused, detail::infer_fused,
                 detail::cost_fused);
  }
  TS_ASSERT(false);
  return {};
}

const std::array<OpInfo, kOpKindCount>& table() {
  static const std::array<OpInfo, kOpKindCount> t = [] {
    std::array<OpInfo, kOpKindCount> rows{};
    for (int i = 0; i < kOpKindCount; ++i) rows[i] = make_row(static_cast<OpKind>(i));
    return rows;
  }();
  return t;
}

}  // namespace

const OpInfo& op_info(OpKind kind) { return table()[static_cast<int>(kind)]; }

std::optional<OpKind> op_kind_from_name(std::string_view name) {
  for (const OpInfo& info : table())
    if (name == info.name) return info.kind;
  return std::nullopt;
}

std::vector<DType> op_dtypes(OpKind kind) {
  const std::vector<DType> floats = {kF32, kF16, kBF16};
  const std::vector<DType> numeric = {kF32, kF16, kBF16, kI8, kI32, kI64};
  if (kind == OpKind::kRandomUniform) return {kF32};  // no data input; always f32 out
  switch (op_info(kind).op_class) {
    case OpClass::kLeaf:
    case OpClass::kCast:
    case OpClass::kDataMovement:
      return {kF32, kF16, kBF16, kI8, kI32, kI64, kBool};
    case OpClass::kIndexing:
      return kind == OpKind::kScatterAdd ? numeric : std::vector<DType>{kF32, kF16, kBF16, kI8, kI32, kI64, kBool};
    case OpClass::kUnary:
      return (kind == OpKind::kNeg || kind == OpKind::kAbs || kind == OpKind::kRelu) ? numeric
                                                                                    : floats;
    case OpClass::kBinary:
      return kind == OpKind::kPow ? floats : numeric;
    case OpClass::kCompare:
      if (kind == OpKind::kEqual || kind == OpKind::kNotEqual)
        return {kF32, kF16, kBF16, kI8, kI32, kI64, kBool};
      return numeric;
    case OpClass::kWhere:
      return numeric;
    case OpClass::kReduction:
      return kind == OpKind::kReduceMean ? floats : numeric;
    case OpClass::kMatMul:
    case OpClass::kComposite:
      return floats;
    case OpClass::kFused:
      return {kF32};
  }
  return {};
}

}  // namespace tessera
