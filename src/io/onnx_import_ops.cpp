// ONNX operators → IR (onnx_import.h): elementwise, linear algebra, normalization,
// reductions and data movement; convolution and pooling are in onnx_import_conv.cpp.
// Three patterns become single IR ops, so that they run the same kernels as Tessera's own
// layers (and export → import is exact): erf-GELU as PyTorch writes it → gelu,
// Reciprocal(Sqrt(x)) → rsqrt, softmax(q·kᵀ·s [masked]) · v → attention.
#include <algorithm>
#include <cmath>
#include <limits>

#include "onnx_import.h"
#include "onnx_tensor.h"
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera::onnx_io {

std::optional<double> scalar_constant(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  if (n.op != OpKind::kConstant || n.value.numel() != 1) return std::nullopt;
  return n.value.get(0);
}

bool is_scalar_constant(const Graph& g, ValueId id, double value, double tolerance) {
  std::optional<double> v = scalar_constant(g, id);
  return v && std::abs(*v - value) <= tolerance;
}

namespace {

// ---- layout-aware elementwise ----------------------------------------------------------

// Operand `i` in NHWC for an elementwise op whose other operand is an NHWC rank-4 value:
// rank-4 operands are permuted, lower ranks (per-channel [C, 1, 1], scalars) are padded to
// rank 4 and moved to [.., H, W, C]. nullopt when that cannot be done statically.
std::optional<ValueId> as_nhwc_operand(Importer& im, int i) {
  TensorType t = im.type(i);
  if (t.shape.rank() == 4) return im.nhwc(i);
  if (t.shape.rank() == 0) return im.plain(i);  // scalars broadcast in any layout
  if (t.shape.rank() > 4 || !t.shape.is_static()) return std::nullopt;
  Shape s;
  for (int k = t.shape.rank(); k < 4; ++k) s.push_back(1);
  for (int64_t d : t.shape.dims()) s.push_back(d);
  ValueId x = im.plain(i);
  if (s[1] == 1 || (s[2] == 1 && s[3] == 1)) return im.b.reshape(x, Shape{s[0], s[2], s[3], s[1]});
  return im.b.permute(im.b.reshape(x, s), {0, 2, 3, 1});
}

void elementwise(Importer& im, OpKind k, int arity) {
  bool any_nhwc = false;
  for (int i = 0; i < arity; ++i) any_nhwc = any_nhwc || im.is_nhwc_only(i);
  if (any_nhwc) {
    std::vector<ValueId> args;
    for (int i = 0; i < arity; ++i) {
      std::optional<ValueId> x = as_nhwc_operand(im, i);
      if (!x) break;
      args.push_back(*x);
    }
    if (static_cast<int>(args.size()) == arity) {
      if (k == OpKind::kPow && im.b.dtype(args[1]) != im.b.dtype(args[0]))
        args[1] = im.b.cast(args[1], im.b.dtype(args[0]));
      ValueId y = im.b.emit(k, args);
      if (im.b.shape(y).rank() == 4) return im.set_nhwc(y);
      im.invalid("internal: an NHWC elementwise result lost its rank");
    }
  }
  std::vector<ValueId> args;
  for (int i = 0; i < arity; ++i) args.push_back(im.plain(i));
  if (k == OpKind::kPow && im.b.dtype(args[1]) != im.b.dtype(args[0]))
    args[1] = im.b.cast(args[1], im.b.dtype(args[0]));
  im.set_plain(im.b.emit(k, args));
}

template <OpKind K>
void unary(Importer& im) {
  elementwise(im, K, 1);
}

template <OpKind K>
void binary(Importer& im) {
  if (im.node->input_size() != 2) im.invalid(fmt::format("expected 2 inputs, got {}", im.node->input_size()));
  elementwise(im, K, 2);
}

void max_min(Importer& im, OpKind k) {
  if (im.node->input_size() == 1) return im.set_output(0, Val{.plain = im.plain(0)});
  if (im.node->input_size() != 2)
    im.unsupported("Max and Min are supported with one or two inputs");
  elementwise(im, k, 2);
}
void max_op(Importer& im) { max_min(im, OpKind::kMaximum); }
void min_op(Importer& im) { max_min(im, OpKind::kMinimum); }

void pass_through(Importer& im) {
  Val v;
  if (const Known* k = im.known(0)) {
    v.known = *k;
  } else if (im.is_nhwc_only(0)) {
    v.nhwc = im.nhwc(0);
  } else {
    v.plain = im.plain(0);
    v.nhwc = im.val(0).nhwc;
  }
  im.set_output(0, std::move(v));
}

void cast(Importer& im) {
  int64_t to = im.attr_int("to", -1);
  std::optional<DType> t = dtype_from_onnx(static_cast<int32_t>(to));
  if (!t) im.unsupported(fmt::format("Cast to {}", onnx_type_name(static_cast<int32_t>(to))));
  if (im.is_nhwc_only(0)) return im.set_nhwc(im.b.cast(im.nhwc(0), *t));
  ValueId x = im.plain(0);
  im.set_plain(im.b.dtype(x) == *t ? x : im.b.cast(x, *t));
}

void gelu(Importer& im) {
  std::string approximate = im.attr_string("approximate", "none");
  if (approximate != "none") im.unsupported("Gelu with approximate='" + approximate + "'");
  unary<OpKind::kGelu>(im);
}

void reciprocal(Importer& im) {
  // Reciprocal(Sqrt(x)) is rsqrt, as batch normalization writes it.
  bool nhwc = im.is_nhwc_only(0);
  ValueId x = nhwc ? im.nhwc(0) : im.plain(0);
  const Node& n = im.b.graph().node(x);
  ValueId y;
  if (n.op == OpKind::kSqrt) {
    y = im.b.rsqrt(n.inputs[0]);
  } else {
    y = im.b.div(im.b.scalar(1.0, im.b.dtype(x)), x);
  }
  nhwc ? im.set_nhwc(y) : im.set_plain(y);
}

// x·0.5·(1 + erf(x/√2)) as PyTorch writes it: Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5).
// The inner Mul(x, Add(Erf(Div(x, √2)), 1)): returns x.
std::optional<ValueId> match_gelu_body(const Graph& g, ValueId m_id) {
  const Node& m = g.node(m_id);
  if (m.op != OpKind::kMul) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    ValueId x = m.inputs[side], add = m.inputs[1 - side];
    const Node& an = g.node(add);
    if (an.op != OpKind::kAdd) continue;
    for (int s2 = 0; s2 < 2; ++s2) {
      if (!is_scalar_constant(g, an.inputs[1 - s2], 1.0, 0)) continue;
      const Node& en = g.node(an.inputs[s2]);
      if (en.op != OpKind::kErf) continue;
      const Node& dn = g.node(en.inputs[0]);
      if (dn.op == OpKind::kDiv && dn.inputs[0] == x &&
          is_scalar_constant(g, dn.inputs[1], std::sqrt(2.0), 1e-6))
        return x;
      if (dn.op == OpKind::kMul && dn.inputs[0] == x &&
          is_scalar_constant(g, dn.inputs[1], 1.0 / std::sqrt(2.0), 1e-6))
        return x;
    }
  }
  return std::nullopt;
}

// Whether input i is the scalar 0.5 (a Constant, an initializer or an IR constant).
bool is_half(Importer& im, int i) {
  const Val& v = im.val(i);
  Tensor t;
  if (v.known && v.known->dtype.is_float()) t = v.known->tensor;
  else if (v.plain != kNoValue) return is_scalar_constant(im.b.graph(), v.plain, 0.5, 1e-7);
  else if (v.init && v.init->dims_size() <= 1 && v.init->data_type() == onnx::TensorProto::FLOAT)
    t = tensor_from_proto(*v.init, "initializer '" + v.init->name() + "'");
  return t.defined() && t.numel() == 1 && t.get(0) == 0.5;
}

void mul(Importer& im) {
  if (im.node->input_size() != 2) im.invalid("expected 2 inputs");
  for (int side = 0; side < 2; ++side) {
    const Val& v = im.val(side);
    for (ValueId id : {v.plain, v.nhwc}) {
      if (id == kNoValue || !is_half(im, 1 - side)) continue;
      if (std::optional<ValueId> x = match_gelu_body(im.b.graph(), id)) {
        ValueId y = im.b.gelu(*x);
        return id == v.plain ? im.set_plain(y) : im.set_nhwc(y);
      }
    }
  }
  elementwise(im, OpKind::kMul, 2);
}

// ---- linear algebra ---------------------------------------------------------------------

bool is_last_two_swap(const Node& n) {
  if (n.op != OpKind::kPermute) return false;
  const std::vector<int64_t>& p = n.attrs.get_ints("perm");
  const int r = static_cast<int>(p.size());
  if (r < 2) return false;
  for (int i = 0; i < r - 2; ++i)
    if (p[static_cast<size_t>(i)] != i) return false;
  return p[static_cast<size_t>(r - 2)] == r - 1 && p[static_cast<size_t>(r - 1)] == r - 2;
}

// softmax(q kᵀ · scale [where(causal mask, ·, -inf)], -1) · v → attention(q, k, v).
std::optional<ValueId> match_attention(GraphBuilder& b, ValueId p, ValueId v) {
  const Graph& g = b.graph();
  const Node& sm = g.node(p);
  if (sm.op != OpKind::kSoftmax) return std::nullopt;
  const int rank = sm.type.shape.rank();
  int64_t axis = sm.attrs.get_int("axis");
  if (rank < 2 || (axis != -1 && axis != rank - 1)) return std::nullopt;
  ValueId s = sm.inputs[0];
  std::optional<ValueId> mask;
  if (g.node(s).op == OpKind::kWhere) {
    const Node& w = g.node(s);
    std::optional<double> fill = scalar_constant(g, w.inputs[2]);
    if (!fill || !std::isinf(*fill) || *fill > 0 || g.node(w.inputs[0]).op != OpKind::kConstant)
      return std::nullopt;
    mask = w.inputs[0];
    s = w.inputs[1];
  }
  double scale = 1.0;
  const Node& sn = g.node(s);
  if (sn.op == OpKind::kMul || sn.op == OpKind::kDiv) {
    int c = -1;
    if (scalar_constant(g, sn.inputs[1])) c = 1;
    else if (sn.op == OpKind::kMul && scalar_constant(g, sn.inputs[0])) c = 0;
    if (c < 0) return std::nullopt;
    double k = *scalar_constant(g, sn.inputs[c]);
    if (sn.op == OpKind::kDiv && k == 0) return std::nullopt;
    scale = sn.op == OpKind::kMul ? k : 1.0 / k;
    s = sn.inputs[1 - c];
  }
  const Node& qk = g.node(s);
  if (qk.op != OpKind::kMatMul || qk.attrs.get_int_or("transpose_a", 0) != 0) return std::nullopt;
  ValueId q = qk.inputs[0], k = qk.inputs[1];
  std::optional<std::vector<int64_t>> k_perm;  // emitted last: emitting moves the nodes
  if (qk.attrs.get_int_or("transpose_b", 0) == 0) {
    // kᵀ as a permute: PyTorch merges the heads' transpose and kᵀ into one.
    const Node& kt = g.node(k);
    if (kt.op != OpKind::kPermute) return std::nullopt;
    std::vector<int64_t> perm = kt.attrs.get_ints("perm");
    if (perm.size() < 2) return std::nullopt;
    std::swap(perm[perm.size() - 2], perm[perm.size() - 1]);
    bool identity = true;
    for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == static_cast<int64_t>(i);
    k = kt.inputs[0];
    if (!identity) k_perm = perm;
  }
  const Shape qs = g.type(q).shape, vs = g.type(v).shape;
  Shape ks = g.type(k).shape;
  if (k_perm) {
    Shape p;
    for (int64_t a : *k_perm) p.push_back(ks[static_cast<int>(a)]);
    ks = p;
  }
  if (qs.rank() != rank || ks.rank() != rank || vs.rank() != rank) return std::nullopt;
  for (int d = 0; d < rank - 2; ++d)
    if (qs[d] != ks[d] || qs[d] != vs[d]) return std::nullopt;
  if (ks[rank - 2] != vs[rank - 2] || qs[rank - 1] != ks[rank - 1]) return std::nullopt;
  if (g.type(q).dtype != g.type(v).dtype || !g.type(q).dtype.is_float()) return std::nullopt;
  bool causal = false;
  if (mask) {
    const Tensor& m = g.node(*mask).value;
    const int64_t tq = qs[rank - 2], tk = ks[rank - 2];
    if (m.dtype() != kBool || m.numel() != tq * tk || tq > tk) return std::nullopt;
    for (int64_t i = 0; i < tq; ++i)
      for (int64_t j = 0; j < tk; ++j)
        if ((m.get(i * tk + j) != 0) != (j <= i + (tk - tq))) return std::nullopt;
    causal = true;
  }
  if (k_perm) k = b.permute(k, *k_perm);
  return b.attention(q, k, v, causal, scale);
}

void matmul(Importer& im) {
  ValueId a = im.plain(0), w = im.plain(1);
  if (std::optional<ValueId> att = match_attention(im.b, a, w)) return im.set_plain(*att);
  const int ra = im.b.shape(a).rank(), rb = im.b.shape(w).rank();
  if (ra == 0 || rb == 0) im.invalid("MatMul of a scalar");
  // 1-D operands as numpy: [K] is [1, K] on the left and [K, 1] on the right, then dropped.
  if (ra == 1) a = im.b.reshape(a, Shape{1, im.b.shape(a)[0]});
  if (rb == 1) w = im.b.reshape(w, Shape{im.b.shape(w)[0], 1});
  bool ta = false, tb = false;
  const Graph& g = im.b.graph();
  if (is_last_two_swap(g.node(a))) a = g.node(a).inputs[0], ta = true;
  if (is_last_two_swap(g.node(w))) w = g.node(w).inputs[0], tb = true;
  ValueId y = im.b.matmul(a, w, ta, tb);
  if (ra == 1 || rb == 1) {
    Shape s = im.b.shape(y), r;
    for (int d = 0; d < s.rank(); ++d) {
      if (ra == 1 && d == s.rank() - 2) continue;
      if (rb == 1 && d == s.rank() - 1) continue;
      r.push_back(s[d]);
    }
    y = im.b.reshape(y, r);
  }
  im.set_plain(y);
}

void gemm(Importer& im) {
  bool tb = im.attr_int("transB", 0) != 0;
  std::optional<ValueId> kernel = tb ? im.dense_kernel(1) : std::nullopt;
  if (kernel) tb = false;
  ValueId a = im.plain(0), w = kernel ? *kernel : im.plain(1);
  if (im.b.shape(a).rank() != 2 || im.b.shape(w).rank() != 2)
    im.invalid(fmt::format("Gemm takes rank-2 A and B, got {} and {}", im.b.type(a).str(),
                           im.b.type(w).str()));
  bool ta = im.attr_int("transA", 0) != 0;
  const Graph& g = im.b.graph();
  if (!tb && is_last_two_swap(g.node(w))) w = g.node(w).inputs[0], tb = true;
  ValueId y = im.b.matmul(a, w, ta, tb);
  float alpha = im.attr_float("alpha", 1.0f), beta = im.attr_float("beta", 1.0f);
  DType t = im.b.dtype(y);
  if (alpha != 1.0f) y = im.b.mul(y, im.b.scalar(alpha, t));
  if (im.has_input(2) && beta != 0.0f) {
    ValueId c = im.plain(2);
    if (beta != 1.0f) c = im.b.mul(c, im.b.scalar(beta, t));
    y = im.b.add(y, c);
  }
  im.set_plain(y);
}

// ---- composites and reductions ------------------------------------------------------------

void softmax_like(Importer& im, bool log) {
  ValueId x = im.plain(0);
  int64_t axis = im.attr_int("axis", -1);
  im.set_plain(log ? im.b.log_softmax(x, axis) : im.b.softmax(x, axis));
}
void softmax(Importer& im) { softmax_like(im, false); }
void log_softmax(Importer& im) { softmax_like(im, true); }

void layer_norm(Importer& im) {
  ValueId x = im.plain(0);
  const Shape s = im.b.shape(x);
  int64_t axis = im.attr_int("axis", -1);
  if (s.rank() == 0 || (axis != -1 && axis != s.rank() - 1))
    im.unsupported(fmt::format("LayerNormalization over axis {} of {} (only the last axis is "
                               "supported)",
                               axis, s.str()));
  const int64_t c = s[s.rank() - 1];
  auto vec = [&](int i) {
    ValueId v = im.plain(i);
    if (im.b.shape(v) != Shape{c}) {
      if (im.b.shape(v).is_static() && im.b.shape(v).numel() == c) return im.b.reshape(v, Shape{c});
      im.invalid(fmt::format("input {} must have {} elements (the normalized axis), got {}", i, c,
                             im.b.type(v).str()));
    }
    return v;
  };
  ValueId gamma = vec(1);
  ValueId beta = im.has_input(2) ? vec(2) : im.b.constant(Tensor::zeros(im.b.dtype(x), Shape{c}));
  im.set_plain(im.b.layer_norm(x, gamma, beta, im.attr_float("epsilon", 1e-5f)));
}

void reduce(Importer& im, OpKind k) {
  // Axes: an attribute up to opset 17 (ReduceSum: an input from 13), an input from 18.
  std::vector<int64_t> axes;
  bool axes_input = k == OpKind::kReduceSum || im.opset >= 18;
  if (axes_input) {
    if (im.has_input(1)) axes = im.const_ints(1, "axes");
  } else {
    axes = im.attr_ints("axes");
  }
  bool keep = im.attr_int("keepdims", 1) != 0;
  if (axes.empty() && im.attr_int("noop_with_empty_axes", 0) != 0) return pass_through(im);
  if (im.is_nhwc_only(0) && keep) {
    static constexpr int64_t kToNhwc[4] = {0, 3, 1, 2};
    std::vector<int64_t> nax;
    for (int64_t a : axes) {
      if (a < -4 || a > 3) im.invalid(fmt::format("axis {} is out of range for rank 4", a));
      nax.push_back(kToNhwc[a < 0 ? a + 4 : a]);
    }
    return im.set_nhwc(im.b.emit(k, {im.nhwc(0)},
                                 Attrs().set("axes", nax).set("keepdims", int64_t{1})));
  }
  im.set_plain(im.b.emit(k, {im.plain(0)},
                         Attrs().set("axes", axes).set("keepdims", int64_t{keep})));
}
void reduce_mean(Importer& im) { reduce(im, OpKind::kReduceMean); }
void reduce_sum(Importer& im) { reduce(im, OpKind::kReduceSum); }
void reduce_max(Importer& im) { reduce(im, OpKind::kReduceMax); }

// ---- comparisons and selection ---------------------------------------------------------------

template <OpKind K>
void compare(Importer& im) {
  im.set_plain(im.b.compare(K, im.plain(0), im.plain(1)));
}

void not_op(Importer& im) {
  ValueId x = im.plain(0);
  const Node& n = im.b.graph().node(x);
  if (n.op == OpKind::kEqual) return im.set_plain(im.b.compare(OpKind::kNotEqual, n.inputs[0], n.inputs[1]));
  if (im.b.dtype(x) != kBool) im.invalid("Not takes a BOOL input");
  im.set_plain(im.b.compare(OpKind::kEqual, x, im.b.scalar(0, kBool)));
}

void where(Importer& im) { im.set_plain(im.b.where(im.plain(0), im.plain(1), im.plain(2))); }

// ---- data movement ----------------------------------------------------------------------------

// An IR shape from an import-time shape value: N stays symbolic, 0 copies, -1 is inferred.
Shape reshape_target(Importer& im, const Shape& in, const Known& t, bool allowzero) {
  if (t.shape.rank() != 1 || t.numel() > kMaxRank)
    im.invalid(fmt::format("the shape input must be a list of at most {} sizes", kMaxRank));
  Shape s;
  int infer = -1;
  for (int i = 0; i < static_cast<int>(t.numel()); ++i) {
    int64_t d = t.v[static_cast<size_t>(i)];
    if (t.batch[static_cast<size_t>(i)]) {
      if (d != 1)
        im.unsupported(fmt::format("the target dimension {} is {}·N: merging the batch with "
                                   "another dimension is not supported",
                                   i, d));
      d = kDynamic;
    } else if (d == 0 && !allowzero) {
      if (i >= in.rank()) im.invalid(fmt::format("dimension {} copies an input dimension the input lacks", i));
      d = in[i];
    } else if (d == -1) {
      if (infer >= 0) im.invalid("two dimensions are -1");
      infer = i;
      d = 1;
    } else if (d < 0) {
      im.invalid(fmt::format("dimension {} is {}", i, d));
    } else if (i == 0 && im.declared_batch > 0 && d == im.declared_batch && in.rank() > 0 &&
               in[0] == kDynamic) {
      d = kDynamic;  // written for the static batch the model was exported with
    }
    s.push_back(d);
  }
  auto static_product = [](const Shape& x) {
    int64_t p = 1;
    for (int64_t d : x.dims())
      if (d != kDynamic) p = d == 0 || p <= (int64_t{1} << 50) / d ? p * d : (int64_t{1} << 50);
    return p;
  };
  auto has_batch = [](const Shape& x) {
    return std::find(x.begin(), x.end(), kDynamic) != x.end();
  };
  const int64_t pin = static_product(in), pt = static_product(s);
  if (infer >= 0) {
    if (has_batch(in) && !has_batch(s)) {
      if (pin != pt)
        im.unsupported(fmt::format("-1 in {} would merge the batch of {} with other dimensions",
                                   s.str(), in.str()));
      s[infer] = kDynamic;
    } else {
      if (pt == 0 || pin % pt != 0)
        im.invalid(fmt::format("cannot reshape {} to {}", in.str(), s.str()));
      s[infer] = pin / pt;
    }
  }
  if (has_batch(in) != has_batch(s) || static_product(in) != static_product(s))
    im.invalid(fmt::format("cannot reshape {} to {}: the element counts differ", in.str(), s.str()));
  return s;
}

void reshape(Importer& im) {
  ValueId x = im.plain(0);
  const Known* t = im.known(1);
  if (t == nullptr || !t->is_int())
    im.unsupported("the target shape must be known at import time (an initializer, a Constant "
                   "or a shape computation)");
  im.set_plain(im.b.reshape(x, reshape_target(im, im.b.shape(x), *t, im.attr_int("allowzero", 0) != 0)));
}

void flatten(Importer& im) {
  ValueId x = im.plain(0);
  const Shape s = im.b.shape(x);
  int64_t axis = im.attr_int("axis", 1);
  if (axis < -s.rank() || axis > s.rank()) im.invalid(fmt::format("axis {} is out of range", axis));
  if (axis < 0) axis += s.rank();
  auto part = [&](int from, int to) -> int64_t {
    int64_t p = 1;
    bool batch = false;
    for (int d = from; d < to; ++d) {
      if (s[d] == kDynamic) batch = true;
      else p *= s[d];
    }
    if (batch && p != 1)
      im.unsupported(fmt::format("Flatten at axis {} of {} merges the batch with other "
                                 "dimensions",
                                 axis, s.str()));
    return batch ? kDynamic : p;
  };
  im.set_plain(im.b.reshape(x, Shape{part(0, static_cast<int>(axis)), part(static_cast<int>(axis), s.rank())}));
}

void transpose(Importer& im) {
  std::vector<int64_t> perm = im.attr_ints("perm");
  const int rank = im.type(0).shape.rank();
  if (perm.empty())
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int>(perm.size()) != rank)
    im.invalid(fmt::format("perm has {} entries for rank {}", perm.size(), rank));
  const std::vector<int64_t> to_nhwc = {0, 2, 3, 1}, to_nchw = {0, 3, 1, 2};
  // NCHW ↔ NHWC around convolutions costs nothing: the value already exists in the other
  // layout, or is recorded as such.
  if (perm == to_nhwc && im.val(0).nhwc != kNoValue) return im.set_plain(im.nhwc(0));
  if (perm == to_nchw && rank == 4) return im.set_nhwc(im.plain(0));
  im.set_plain(im.b.permute(im.plain(0), perm));
}

void concat(Importer& im) {
  const int n = im.node->input_size();
  int64_t axis = im.attr_int("axis", 0);
  bool nhwc = n > 0 && (axis == 1 || axis == -3);
  for (int i = 0; i < n && nhwc; ++i) nhwc = im.is_nhwc_only(i);
  std::vector<ValueId> xs;
  for (int i = 0; i < n; ++i) xs.push_back(nhwc ? im.nhwc(i) : im.plain(i));
  if (xs.empty()) im.invalid("Concat without inputs");
  if (nhwc) return im.set_nhwc(im.b.concat(xs, 3));
  im.set_plain(im.b.concat(xs, axis));
}

void slice(Importer& im) {
  ValueId x = im.plain(0);
  const Shape s = im.b.shape(x);
  std::vector<int64_t> starts = im.const_ints(1, "starts"), ends = im.const_ints(2, "ends");
  std::vector<int64_t> axes, steps;
  if (im.has_input(3)) axes = im.const_ints(3, "axes");
  else for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (im.has_input(4)) steps = im.const_ints(4, "steps");
  else steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    im.invalid("starts, ends, axes and steps differ in length");
  constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> st(static_cast<size_t>(s.rank()), 0), en(static_cast<size_t>(s.rank()), kEnd),
      sp(static_cast<size_t>(s.rank()), 1);
  std::vector<bool> seen(static_cast<size_t>(s.rank()), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i];
    if (a < -s.rank() || a >= s.rank()) im.invalid(fmt::format("axis {} is out of range for {}", a, s.str()));
    if (a < 0) a += s.rank();
    if (seen[static_cast<size_t>(a)]) im.invalid(fmt::format("axis {} repeats", a));
    seen[static_cast<size_t>(a)] = true;
    if (steps[i] <= 0) im.unsupported(fmt::format("step {} (only positive steps are supported)", steps[i]));
    if (s[static_cast<int>(a)] == kDynamic &&
        (starts[i] != 0 || steps[i] != 1 || ends[i] < (int64_t{1} << 31) - 1))
      im.unsupported("slicing the batch dimension");
    st[static_cast<size_t>(a)] = starts[i];
    en[static_cast<size_t>(a)] = ends[i];
    sp[static_cast<size_t>(a)] = steps[i];
  }
  im.set_plain(im.b.slice(x, st, en, sp));
}

void gather(Importer& im) {
  ValueId data = im.plain(0), idx = im.plain(1);
  im.set_plain(im.b.gather(data, idx, im.attr_int("axis", 0)));
}

void squeeze_like(Importer& im, bool unsqueeze) {
  ValueId x = im.plain(0);
  const Shape s = im.b.shape(x);
  std::vector<int64_t> axes;
  if (im.has_input(1)) axes = im.const_ints(1, "axes");
  Shape out;
  if (unsqueeze) {
    const int r = s.rank() + static_cast<int>(axes.size());
    if (r > kMaxRank) im.unsupported(fmt::format("rank {} (at most {})", r, kMaxRank));
    std::vector<bool> add(static_cast<size_t>(r), false);
    for (int64_t a : axes) {
      if (a < -r || a >= r) im.invalid(fmt::format("axis {} is out of range for rank {}", a, r));
      if (add[static_cast<size_t>(a < 0 ? a + r : a)]) im.invalid(fmt::format("axis {} repeats", a));
      add[static_cast<size_t>(a < 0 ? a + r : a)] = true;
    }
    for (int d = 0, j = 0; d < r; ++d) out.push_back(add[static_cast<size_t>(d)] ? 1 : s[j++]);
  } else {
    std::vector<bool> drop(static_cast<size_t>(s.rank()), false);
    for (int64_t a : axes) {
      if (a < -s.rank() || a >= s.rank()) im.invalid(fmt::format("axis {} is out of range for {}", a, s.str()));
      drop[static_cast<size_t>(a < 0 ? a + s.rank() : a)] = true;
    }
    for (int d = 0; d < s.rank(); ++d) {
      bool d_drop = axes.empty() ? s[d] == 1 : drop[static_cast<size_t>(d)];
      if (d_drop && s[d] != 1) im.invalid(fmt::format("axis {} of {} is not 1", d, s.str()));
      if (!d_drop) out.push_back(s[d]);
    }
  }
  im.set_plain(im.b.reshape(x, out));
}
void unsqueeze(Importer& im) { squeeze_like(im, true); }
void squeeze(Importer& im) { squeeze_like(im, false); }

void expand(Importer& im) {
  ValueId x = im.plain(0);
  const Known* t = im.known(1);
  if (t == nullptr || !t->is_int() || t->shape.rank() != 1 || t->numel() > kMaxRank)
    im.unsupported("the target shape must be a list known at import time");
  Shape target;
  for (size_t i = 0; i < t->v.size(); ++i) {
    if (t->batch[i] && t->v[i] != 1) im.unsupported("a target merging the batch dimension");
    if (!t->batch[i] && (t->v[i] < 1 || t->v[i] > (int64_t{1} << 31)))
      im.invalid(fmt::format("target dimension {}", t->v[i]));
    target.push_back(t->batch[i] ? kDynamic : t->v[i]);
  }
  Shape out;
  if (!broadcast_shapes(im.b.shape(x), target, &out))
    im.invalid(fmt::format("{} does not broadcast to {}", im.b.shape(x).str(), target.str()));
  im.set_plain(im.b.broadcast(x, out));
}

void pad(Importer& im) {
  std::string mode = im.attr_string("mode", "constant");
  if (mode != "constant") im.unsupported("Pad mode '" + mode + "' (only constant)");
  if (im.has_input(3)) im.unsupported("Pad with axes");
  ValueId x = im.plain(0);
  const Shape s = im.b.shape(x);
  std::vector<int64_t> pads = im.const_ints(1, "pads");
  if (pads.size() != static_cast<size_t>(2 * s.rank()))
    im.invalid(fmt::format("pads has {} entries for rank {}", pads.size(), s.rank()));
  double value = 0;
  if (im.has_input(2)) {
    const Val& v = im.val(2);
    Tensor t;
    if (v.known) t = known_to_tensor(*v.known);
    else if (const onnx::TensorProto* init = im.initializer(2)) t = tensor_from_proto(*init, "constant_value");
    else im.unsupported("constant_value must be known at import time");
    if (t.numel() != 1) im.invalid("constant_value must be one value");
    value = t.get(0);
  }
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return pass_through(im);  // PyTorch writes these before AveragePool
  std::vector<int64_t> before(pads.begin(), pads.begin() + s.rank()), after(pads.begin() + s.rank(), pads.end());
  for (int d = 0; d < s.rank(); ++d) {
    if (before[static_cast<size_t>(d)] < 0 || after[static_cast<size_t>(d)] < 0)
      im.unsupported("negative pads");
    if (before[static_cast<size_t>(d)] > (int64_t{1} << 31) || after[static_cast<size_t>(d)] > (int64_t{1} << 31))
      im.invalid("pads are too large");
    if (s[d] == kDynamic && (before[static_cast<size_t>(d)] || after[static_cast<size_t>(d)]))
      im.unsupported("padding the batch dimension");
  }
  im.set_plain(im.b.pad(x, before, after, value));
}

const std::map<std::string, Translator>& table() {
  static const std::map<std::string, Translator> t = [] {
    std::map<std::string, Translator> m = {
        {"Relu", unary<OpKind::kRelu>},       {"Sigmoid", unary<OpKind::kSigmoid>},
        {"Tanh", unary<OpKind::kTanh>},       {"Sqrt", unary<OpKind::kSqrt>},
        {"Erf", unary<OpKind::kErf>},         {"Exp", unary<OpKind::kExp>},
        {"Log", unary<OpKind::kLog>},         {"Neg", unary<OpKind::kNeg>},
        {"Abs", unary<OpKind::kAbs>},         {"Gelu", gelu},
        {"Reciprocal", reciprocal},           {"Identity", pass_through},
        {"Dropout", pass_through},            {"Cast", cast},
        {"Add", binary<OpKind::kAdd>},        {"Sub", binary<OpKind::kSub>},
        {"Mul", mul},                         {"Div", binary<OpKind::kDiv>},
        {"Pow", binary<OpKind::kPow>},        {"Max", max_op},
        {"Min", min_op},                      {"Equal", compare<OpKind::kEqual>},
        {"Less", compare<OpKind::kLess>},     {"LessOrEqual", compare<OpKind::kLessEqual>},
        {"Greater", compare<OpKind::kGreater>},
        {"GreaterOrEqual", compare<OpKind::kGreaterEqual>},
        {"Not", not_op},                      {"Where", where},
        {"MatMul", matmul},                   {"Gemm", gemm},
        {"Softmax", softmax},                 {"LogSoftmax", log_softmax},
        {"LayerNormalization", layer_norm},   {"ReduceMean", reduce_mean},
        {"ReduceSum", reduce_sum},            {"ReduceMax", reduce_max},
        {"Reshape", reshape},                 {"Flatten", flatten},
        {"Transpose", transpose},             {"Concat", concat},
        {"Slice", slice},                     {"Gather", gather},
        {"Unsqueeze", unsqueeze},             {"Squeeze", squeeze},
        {"Expand", expand},                   {"Pad", pad},
        // Shape and Constant are always evaluated at import time (onnx_import_fold.cpp).
        {"Shape", nullptr},                   {"Constant", nullptr},
    };
    register_conv_translators(m);
    return m;
  }();
  return t;
}

}  // namespace

const Translator* find_translator(const std::string& domain, const std::string& op_type) {
  if (domain == "com.microsoft") {
    static const Translator ms_gelu = gelu;
    return op_type == "Gelu" ? &ms_gelu : nullptr;
  }
  if (!domain.empty() && domain != "ai.onnx") return nullptr;
  auto it = table().find(op_type);
  return it == table().end() ? nullptr : &it->second;
}

std::string supported_operators() {
  std::string out;
  for (const auto& [name, fn] : table()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace tessera::onnx_io
