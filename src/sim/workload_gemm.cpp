// The matrix-unit lowerings: matmul, the three convolution ops (im2col GEMM views) and
// attention (two GEMMs around a softmax). Shapes follow docs/ops.md; the views are described
// in docs/simulators/report.md ("Lowering").
#include <string>

#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/op_table.h"
#include "workload_internal.h"

namespace tessera::sim::detail {
namespace {

int64_t product(const Shape& s, int first, int last) {
  int64_t p = 1;
  for (int i = first; i < last; ++i) p *= s[i];
  return p;
}

}  // namespace

// a [..., M, K] (transpose_a: [..., K, M]) times b [..., K, N] (transpose_b: [..., N, K]);
// the output's leading dims are the independent products. When b has no batch of its own
// (rank 2, or leading dims all 1) every product shares it: that is one GEMM with the batch
// folded into the rows (a Dense layer applied to a sequence), which a weight-stationary array
// runs with the weights loaded once, so it is lowered that way.
WorkOp lower_matmul(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  const Shape& a = g.type(n.inputs[0]).shape;
  const Shape& b = g.type(n.inputs[1]).shape;
  const Shape& out = n.type.shape;
  const bool ta = n.attrs.get_int_or("transpose_a", 0) != 0;
  const bool tb = n.attrs.get_int_or("transpose_b", 0) != 0;
  WorkOp op = base_op(g, id);
  op.kind = WorkKind::kGemm;
  op.gemm.m = a[a.rank() - (ta ? 1 : 2)];
  op.gemm.k = a[a.rank() - (ta ? 2 : 1)];
  op.gemm.n = b[b.rank() - (tb ? 2 : 1)];
  op.gemm.batch = product(out, 0, out.rank() - 2);
  if (product(b, 0, b.rank() - 2) == 1 && op.gemm.batch > 1) {
    op.gemm.m *= op.gemm.batch;
    op.gemm.batch = 1;
  }
  return op;
}

ConvShape conv_shape(const Graph& g, const Node& node) {
  Conv2DGeometry geo = conv_geometry(g, node);
  ConvShape c;
  c.n = geo.batch;
  c.h = geo.in_h;
  c.w = geo.in_w;
  c.c = geo.in_c;
  c.r = geo.kernel_h;
  c.s = geo.kernel_w;
  c.filters = geo.out_c;
  c.p = geo.out_h;
  c.q = geo.out_w;
  c.stride_h = geo.stride_h;
  c.stride_w = geo.stride_w;
  c.groups = geo.groups;
  c.dilation_h = geo.dilation_h;
  c.dilation_w = geo.dilation_w;
  c.pad_top = geo.pad_top;
  c.pad_bottom = geo.pad_bottom;
  c.pad_left = geo.pad_left;
  c.pad_right = geo.pad_right;
  return c;
}

// The im2col views, per group (batch = groups), with col the [N·P·Q, R·S·C/g] patch matrix:
//   conv2d                  y   = col · W         m = N·P·Q,     n = OC/g,      k = R·S·C/g
//   conv2d_backprop_input   dcol = dy · Wᵀ        m = N·P·Q,     n = R·S·C/g,   k = OC/g
//                           (then col2im scatters dcol into dx: data movement, not counted)
//   conv2d_backprop_filter  dW  = colᵀ · dy       m = R·S·C/g,   n = OC/g,      k = N·P·Q
// All three have the op table's N·P·Q·OC·R·S·C/g multiply-adds.
WorkOp lower_conv(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  WorkOp op = base_op(g, id);
  op.kind = WorkKind::kGemm;
  op.is_conv = true;
  op.conv = conv_shape(g, n);
  const ConvShape& c = op.conv;
  const int64_t pixels = c.n * c.p * c.q;
  const int64_t patch = c.r * c.s * (c.c / c.groups);
  const int64_t filters = c.filters / c.groups;
  op.gemm.batch = c.groups;
  switch (n.op) {
    case OpKind::kConv2DBackpropInput:
      op.gemm.m = pixels;
      op.gemm.n = patch;
      op.gemm.k = filters;
      break;
    case OpKind::kConv2DBackpropFilter:
      op.gemm.m = patch;
      op.gemm.n = filters;
      op.gemm.k = pixels;
      break;
    default:  // kConv2D
      op.gemm.m = pixels;
      op.gemm.n = filters;
      op.gemm.k = patch;
      break;
  }
  return op;
}

// q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv] (the leading dims: batch · heads). The
// scores and probabilities are materialized at the op's dtype between the three ops (an
// unfused schedule, as a systolic array with a separate vector unit runs it), so the bytes
// here exceed the op table's, which counts only q, k, v and the output. A causal mask skips
// nothing: the masked half of the scores is computed and thrown away, as the cpu kernel and
// a plain systolic schedule do, and the op table does not count the saving either.
std::vector<WorkOp> lower_attention(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  const TensorType& q = g.type(n.inputs[0]);
  const TensorType& k = g.type(n.inputs[1]);
  const TensorType& v = g.type(n.inputs[2]);
  const int r = q.shape.rank();
  const int64_t heads = product(q.shape, 0, r - 2);
  const int64_t tq = q.shape[r - 2], d = q.shape[r - 1];
  const int64_t tk = k.shape[r - 2], dv = v.shape[r - 1];
  const double scores = static_cast<double>(heads * tq * tk);
  const double score_bytes = scores * static_cast<double>(q.dtype.size());
  const double kv_len_bytes = n.inputs.size() > 3 ? bytes_of(g.type(n.inputs[3])) : 0.0;

  WorkOp base = base_op(g, id);
  WorkOp qk = base;
  qk.name = base.name + ".qk";
  qk.kind = WorkKind::kGemm;
  qk.gemm = {.batch = heads, .m = tq, .n = tk, .k = d};
  qk.bytes_read = bytes_of(q) + bytes_of(k);
  qk.bytes_written = score_bytes;
  qk.weight_bytes = (is_weight(g, n.inputs[0]) ? bytes_of(q) : 0.0) +
                    (is_weight(g, n.inputs[1]) ? bytes_of(k) : 0.0);

  WorkOp softmax = base;
  softmax.name = base.name + ".softmax";
  softmax.kind = WorkKind::kVector;
  softmax.vector = VectorKind::kSoftmax;
  softmax.elements = heads * tq * tk;
  softmax.vector_ops = 5.0 * scores;  // scale, mask, max, exp, sum and divide: the op table's 5
  softmax.bytes_read = score_bytes + kv_len_bytes;
  softmax.bytes_written = score_bytes;
  softmax.weight_bytes = 0;

  WorkOp pv = base;
  pv.name = base.name + ".pv";
  pv.kind = WorkKind::kGemm;
  pv.gemm = {.batch = heads, .m = tq, .n = dv, .k = tk};
  pv.bytes_read = score_bytes + bytes_of(v);
  pv.bytes_written = bytes_of(n.type);
  pv.weight_bytes = is_weight(g, n.inputs[2]) ? bytes_of(v) : 0.0;
  return {qk, softmax, pv};
}

}  // namespace tessera::sim::detail
