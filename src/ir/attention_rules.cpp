// Attention and sequences in the IR: type inference, cost, the decomposition of `attention`
// into primitives and the gradient rules of attention, update_slice and dynamic_slice
// (semantics in docs/ops.md).
//
// One mask convention everywhere (kernels, decomposition, gradient): with L = clamp(kv_len,
// 0, Tk) (L = Tk without kv_len), query i sees key j iff j < L and, when causal,
// j <= i + (L - Tq) — the mask is aligned bottom-right, so the last query sees every key
// before it (a decode step at the end of a KV cache). A query that sees no key gives 0.
#include <cmath>
#include <limits>

#include "gradients_rules.h"
#include "op_rules.h"
#include "tessera/core/error.h"

namespace tessera::detail {
namespace {

std::string where_(const Node& n) { return fmt::format("node '{}' ({})", n.name, op_name(n.op)); }

std::string input_types(const Graph& g, const Node& n) {
  std::string s;
  for (size_t i = 0; i < n.inputs.size(); ++i) s += (i ? ", " : "") + g.type(n.inputs[i]).str();
  return s;
}

bool is_float(DType t) { return t == kF32 || t == kF16 || t == kBF16; }
bool is_index(DType t) { return t == kI32 || t == kI64; }

// The run-time start or kv_len operand: an i32/i64 scalar.
void check_index_scalar(const Graph& g, const Node& n, size_t i, const char* what) {
  const TensorType& t = g.type(n.inputs.at(i));
  TS_CHECK(is_index(t.dtype) && t.shape.rank() == 0, ErrorKind::kInvalidArgument,
           "{}: {} (input {}) must be an i32 or i64 scalar, got {}", where_(n), what, i, t.str());
}

// Resolves the `axis` attribute against `x` and requires that axis to be static: windows
// along the symbolic batch axis have no fixed size.
int window_axis(const Node& n, const Shape& x) {
  int64_t a = n.attrs.get_int("axis");
  int64_t r = a < 0 ? a + x.rank() : a;
  TS_CHECK(r >= 0 && r < x.rank(), ErrorKind::kInvalidArgument,
           "{}: axis {} is out of range for {}", where_(n), a, x.str());
  TS_CHECK(x[static_cast<int>(r)] != kDynamic, ErrorKind::kInvalidArgument,
           "{}: axis {} of {} is the symbolic batch axis; windows need a static axis", where_(n), a,
           x.str());
  return static_cast<int>(r);
}

double elems(const TensorType& t) { return static_cast<double>(t.shape.with_batch(1).numel()); }
double bytes(const TensorType& t) { return elems(t) * static_cast<double>(t.dtype.size()); }

}  // namespace

// ---- type inference --------------------------------------------------------------------

TensorType infer_attention(const Graph& g, const Node& n) {
  const TensorType& q = g.type(n.inputs.at(0));
  const TensorType& k = g.type(n.inputs.at(1));
  const TensorType& v = g.type(n.inputs.at(2));
  TS_CHECK(is_float(q.dtype) && k.dtype == q.dtype && v.dtype == q.dtype,
           ErrorKind::kInvalidArgument,
           "{}: q, k and v must share one float dtype (f32, f16, bf16), got {}", where_(n),
           input_types(g, n));
  int r = q.shape.rank();
  TS_CHECK(r >= 2 && k.shape.rank() == r && v.shape.rank() == r, ErrorKind::kInvalidArgument,
           "{}: q [..., Tq, D], k [..., Tk, D] and v [..., Tk, Dv] need one rank >= 2, got {}",
           where_(n), input_types(g, n));
  for (int i = 0; i < r - 2; ++i)
    TS_CHECK(k.shape[i] == q.shape[i] && v.shape[i] == q.shape[i], ErrorKind::kInvalidArgument,
             "{}: the leading (batch, head) dims of q, k and v must be equal, got {}", where_(n),
             input_types(g, n));
  for (const TensorType* t : {&q, &k, &v})
    TS_CHECK(
        t->shape[r - 1] != kDynamic && t->shape[r - 2] != kDynamic, ErrorKind::kInvalidArgument,
        "{}: the sequence and feature dims must be static, got {}", where_(n), input_types(g, n));
  TS_CHECK(k.shape[r - 1] == q.shape[r - 1], ErrorKind::kInvalidArgument,
           "{}: q and k must have the same feature size D, got {}", where_(n), input_types(g, n));
  TS_CHECK(v.shape[r - 2] == k.shape[r - 2], ErrorKind::kInvalidArgument,
           "{}: k and v must have the same number of keys Tk, got {}", where_(n),
           input_types(g, n));
  int64_t causal = n.attrs.get_int_or("causal", 0);
  TS_CHECK(causal == 0 || causal == 1, ErrorKind::kInvalidArgument,
           "{}: causal must be 0 or 1, got {}", where_(n), causal);
  if (n.attrs.has("scale"))
    TS_CHECK(std::isfinite(n.attrs.get_float("scale")), ErrorKind::kInvalidArgument,
             "{}: scale must be finite, got {}", where_(n), n.attrs.get_float("scale"));
  if (n.inputs.size() == 4) check_index_scalar(g, n, 3, "kv_len");
  Shape out = q.shape;
  out[r - 1] = v.shape[r - 1];
  return {q.dtype, out};
}

TensorType infer_update_slice(const Graph& g, const Node& n) {
  const TensorType& x = g.type(n.inputs.at(0));
  const TensorType& u = g.type(n.inputs.at(1));
  TS_CHECK(u.dtype == x.dtype && u.shape.rank() == x.shape.rank(), ErrorKind::kInvalidArgument,
           "{}: the update must have the dtype and rank of x, got {}", where_(n),
           input_types(g, n));
  int axis = window_axis(n, x.shape);
  for (int d = 0; d < x.shape.rank(); ++d) {
    if (d == axis) continue;
    TS_CHECK(u.shape[d] == x.shape[d], ErrorKind::kInvalidArgument,
             "{}: the update must match x on every axis but {}, got {}", where_(n), axis,
             input_types(g, n));
  }
  TS_CHECK(u.shape[axis] != kDynamic && u.shape[axis] <= x.shape[axis], ErrorKind::kInvalidArgument,
           "{}: the update's {} entries on axis {} do not fit in x's {} ({})", where_(n),
           u.shape[axis], axis, x.shape[axis], input_types(g, n));
  check_index_scalar(g, n, 2, "start");
  return x;
}

TensorType infer_dynamic_slice(const Graph& g, const Node& n) {
  const TensorType& x = g.type(n.inputs.at(0));
  int axis = window_axis(n, x.shape);
  int64_t size = n.attrs.get_int("size");
  TS_CHECK(size >= 0 && size <= x.shape[axis], ErrorKind::kInvalidArgument,
           "{}: size {} must be in [0, {}] (axis {} of {})", where_(n), size, x.shape[axis], axis,
           x.str());
  check_index_scalar(g, n, 1, "start");
  Shape out = x.shape;
  out[axis] = size;
  return {x.dtype, out};
}

// ---- cost -----------------------------------------------------------------------------

// Two matmuls (q·kᵀ and p·v) and about five flops per score for the softmax; the causal
// mask's saving is not counted (the kernel skips masked keys, a decomposition does not).
OpCost cost_attention(const Graph& g, const Node& n) {
  const Shape& q = g.type(n.inputs[0]).shape.with_batch(1);
  const Shape& v = g.type(n.inputs[2]).shape.with_batch(1);
  int r = q.rank();
  double d = static_cast<double>(q[r - 1]), dv = static_cast<double>(v[r - 1]);
  double tk = static_cast<double>(v[r - 2]);
  double rows = elems(g.type(n.inputs[0])) / std::max(d, 1.0);  // batch · heads · Tq
  OpCost c;
  for (ValueId in : n.inputs) c.bytes_read += bytes(g.type(in));
  c.bytes_written = bytes(n.type);
  c.flops = rows * tk * (2.0 * d + 2.0 * dv + 5.0);
  return c;
}

// update_slice copies x and writes the window; dynamic_slice reads and writes the window.
OpCost cost_window(const Graph& g, const Node& n) {
  OpCost c;
  c.bytes_written = bytes(n.type);
  c.bytes_read = n.op == OpKind::kUpdateSlice
                     ? bytes(g.type(n.inputs[0])) + bytes(g.type(n.inputs[1]))
                     : bytes(n.type);
  return c;
}

// ---- decomposition ----------------------------------------------------------------------

namespace {

struct AttentionDims {
  int64_t tq, tk, d;
  double scale;
  bool causal;
};

AttentionDims attention_dims(const GraphBuilder& b, const Attrs& attrs, ValueId q, ValueId k) {
  Shape qs = b.shape(q), ks = b.shape(k);
  int r = qs.rank();
  AttentionDims a;
  a.tq = qs[r - 2];
  a.tk = ks[r - 2];
  a.d = qs[r - 1];
  a.scale =
      attrs.get_float_or("scale", 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(a.d, 1))));
  a.causal = attrs.get_int_or("causal", 0) != 0;
  return a;
}

// The visibility mask, broadcastable to [..., Tq, Tk], or kNoValue when every key is visible.
// A static L gives a constant; a run-time kv_len gives less(j, limit) with
// limit_i = L - (Tq - 1 - i) (causal) or L.
ValueId visibility_mask(GraphBuilder& b, const AttentionDims& a, ValueId kv_len) {
  if (kv_len == kNoValue) {
    if (!a.causal) return kNoValue;
    std::vector<int> m(static_cast<size_t>(a.tq * a.tk));
    for (int64_t i = 0; i < a.tq; ++i)
      for (int64_t j = 0; j < a.tk; ++j) m[i * a.tk + j] = j <= i + (a.tk - a.tq);
    return b.constant(Tensor::from_vector(m, Shape{a.tq, a.tk}, kBool));
  }
  DType it = b.dtype(kv_len);
  ValueId len =
      b.minimum(b.maximum(kv_len, b.scalar(0, it)), b.scalar(static_cast<double>(a.tk), it));
  std::vector<int64_t> j(static_cast<size_t>(a.tk));
  for (int64_t x = 0; x < a.tk; ++x) j[x] = x;
  ValueId keys = b.constant(Tensor::from_vector(j, Shape{a.tk}, it));
  if (!a.causal) return b.compare(OpKind::kLess, keys, len);
  std::vector<int64_t> c(static_cast<size_t>(a.tq));
  for (int64_t i = 0; i < a.tq; ++i) c[i] = a.tq - 1 - i;
  ValueId behind = b.constant(Tensor::from_vector(c, Shape{a.tq, 1}, it));
  return b.compare(OpKind::kLess, keys, b.sub(len, behind));
}

// P = softmax(q kᵀ · scale) over the visible keys, 0 elsewhere and on rows that see nothing.
// The gradient rule uses the softmax composite where it can (the backends' row kernel); the
// decomposition spells it out, so that it emits primitives only.
ValueId attention_probabilities(GraphBuilder& b, const AttentionDims& a, ValueId q, ValueId k,
                                ValueId kv_len, bool primitives_only) {
  DType t = b.dtype(q);
  ValueId s = b.mul(b.matmul(q, k, false, true), b.scalar(a.scale, t));
  ValueId mask = visibility_mask(b, a, kv_len);
  ValueId neg_inf = b.scalar(-std::numeric_limits<double>::infinity(), t);
  ValueId masked = mask == kNoValue ? s : b.where(mask, s, neg_inf);
  // Every row sees at least one key unless kv_len may hide them all or a causal mask has
  // more queries than keys.
  bool every_row_sees_a_key = kv_len == kNoValue && (!a.causal || a.tq <= a.tk);
  if (every_row_sees_a_key && !primitives_only) return b.softmax(masked, -1);
  // exp of -inf is 0, so masked keys drop out; the sum is >= 1 on rows that see a key (the
  // maximum contributes exp(0)) and is floored at 1, so rows that see nothing give 0, not NaN.
  ValueId m = b.reduce_max(masked, {-1}, /*keepdims=*/true);
  ValueId shifted = b.sub(s, m);
  ValueId e = b.exp(mask == kNoValue ? shifted : b.where(mask, shifted, neg_inf));
  ValueId sum = b.reduce_sum(e, {-1}, /*keepdims=*/true);
  return b.div(e, every_row_sees_a_key ? sum : b.maximum(sum, b.scalar(1.0, t)));
}

}  // namespace

ValueId decompose_attention(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  AttentionDims a = attention_dims(b, node.attrs, in[0], in[1]);
  ValueId kv_len = in.size() > 3 ? in[3] : kNoValue;
  return b.matmul(attention_probabilities(b, a, in[0], in[1], kv_len, true), in[2]);
}

// ---- gradients ---------------------------------------------------------------------------

// With S = q kᵀ · scale, P its masked softmax and y = P v (P recomputed here, once per node):
//   dv = Pᵀ dy,  dP = dy vᵀ,  dS = P ∘ (dP − rowsum(dP ∘ P)),  dq = dS k · scale,
//   dk = dSᵀ q · scale. Masked entries have P = 0, hence dS = 0. kv_len gets none.
std::vector<ValueId> grad_attention(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId q = n.inputs.at(0), k = n.inputs.at(1), v = n.inputs.at(2);
  ValueId kv_len = n.inputs.size() > 3 ? n.inputs[3] : kNoValue;
  AttentionDims a = attention_dims(b, n.attrs, q, k);
  ValueId p = attention_probabilities(b, a, q, k, kv_len, false);
  ValueId dv = b.matmul(p, dy, true, false);
  ValueId dp = b.matmul(dy, v, false, true);
  ValueId row = b.reduce_sum(b.mul(dp, p), {-1}, /*keepdims=*/true);
  ValueId ds = b.mul(p, b.sub(dp, row));
  ValueId scale = constant_like(b, a.scale, q);
  ValueId dq = b.mul(b.matmul(ds, k), scale);
  ValueId dk = b.mul(b.matmul(ds, q, true, false), scale);
  std::vector<ValueId> grads = {dq, dk, dv};
  if (kv_len != kNoValue) grads.push_back(kNoValue);
  return grads;
}

namespace {
ValueId zeros_of(GraphBuilder& b, ValueId like) {
  return b.broadcast(b.scalar(0.0, b.dtype(like)), b.shape(like));
}
}  // namespace

// dx = dy with the window zeroed; d(update) = the window of dy (same clamped start).
std::vector<ValueId> grad_update_slice(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId update = n.inputs.at(1), start = n.inputs.at(2);
  int64_t axis = n.attrs.get_int("axis");
  Shape us = b.shape(update);
  int ax = us.normalize_axis(static_cast<int>(axis));
  ValueId dx = b.update_slice(dy, zeros_of(b, update), start, axis);
  ValueId du = b.dynamic_slice(dy, start, axis, us[ax]);
  return {dx, du, kNoValue};
}

// dx = zeros with dy written at the window.
std::vector<ValueId> grad_dynamic_slice(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0), start = n.inputs.at(1);
  return {b.update_slice(zeros_of(b, x), dy, start, n.attrs.get_int("axis")), kNoValue};
}

}  // namespace tessera::detail
