// Gradient rules of matmul, reductions, data movement, indexing and the composite ops.
//
// Shapes may hold the symbolic batch dimension (kDynamic); the rules only emit reshapes and
// broadcasts whose targets keep it as -1, and slices that take the batch axis whole.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

#include "gradients_rules.h"
#include "tessera/core/error.h"

namespace tessera::detail {
namespace {

// "To the end of the axis" for slices; the batch axis must be sliced with an end this large.
constexpr int64_t kSliceToEnd = std::numeric_limits<int64_t>::max();

// dy (a reduction's result) broadcast back over the reduced axes of `in_shape`.
ValueId expand_reduced(GraphBuilder& b, ValueId dy, const Shape& in_shape,
                       const std::vector<int>& axes) {
  return b.broadcast(b.reshape(dy, keepdims_shape(in_shape, axes)), in_shape);
}

// Zeros of `shape` in `dtype`, valid for a symbolic batch dimension.
ValueId zeros(GraphBuilder& b, DType dtype, const Shape& shape) {
  return b.broadcast(b.scalar(0.0, dtype), shape);
}

}  // namespace

// With op(X) = X or Xᵀ and y = op(A)·op(B):
//   (ta, tb) = (0, 0): dA = dy·Bᵀ,    dB = Aᵀ·dy
//   (0, 1):            dA = dy·B,     dB = dyᵀ·A
//   (1, 0):            dA = B·dyᵀ,    dB = A·dy
//   (1, 1):            dA = Bᵀ·dyᵀ,   dB = dyᵀ·Aᵀ
// Broadcast batch dimensions are summed back to each input's shape.
std::vector<ValueId> grad_matmul(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId a = n.inputs.at(0), w = n.inputs.at(1);
  bool ta = n.attrs.get_int_or("transpose_a", 0) != 0;
  bool tb = n.attrs.get_int_or("transpose_b", 0) != 0;
  ValueId da, dw;
  if (!ta && !tb) {
    da = b.matmul(dy, w, false, true);
    dw = b.matmul(a, dy, true, false);
  } else if (!ta && tb) {
    da = b.matmul(dy, w, false, false);
    dw = b.matmul(dy, a, true, false);
  } else if (ta && !tb) {
    da = b.matmul(w, dy, false, true);
    dw = b.matmul(a, dy, false, false);
  } else {
    da = b.matmul(w, dy, true, true);
    dw = b.matmul(dy, a, true, true);
  }
  return {b.sum_to_shape(da, b.shape(a)), b.sum_to_shape(dw, b.shape(w))};
}

// ---- reductions ------------------------------------------------------------------------

std::vector<ValueId> grad_reduce_sum(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  Shape s = b.shape(n.inputs.at(0));
  return {expand_reduced(b, dy, s, resolved_reduce_axes(n.attrs, s.rank()))};
}

// As reduce_sum, divided by the number of reduced elements. When the batch axis is reduced
// that count is only known at run time, so it is computed in the graph as the sum of ones
// over the reduced axes.
std::vector<ValueId> grad_reduce_mean(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0);
  Shape s = b.shape(x);
  std::vector<int> axes = resolved_reduce_axes(n.attrs, s.rank());
  ValueId g = expand_reduced(b, dy, s, axes);
  double count = 1;
  bool dynamic = false;
  for (int a : axes) {
    if (s[a] == kDynamic)
      dynamic = true;
    else
      count *= static_cast<double>(s[a]);
  }
  if (!dynamic) return {b.div(g, constant_like(b, count, g))};
  Shape reduced_only = s;
  for (int i = 0; i < s.rank(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) reduced_only[i] = 1;
  ValueId ones = b.broadcast(constant_like(b, 1.0, g), reduced_only);
  std::vector<int64_t> all(s.rank());
  std::iota(all.begin(), all.end(), 0);
  return {b.div(g, b.reduce_sum(ones, all, /*keepdims=*/true))};
}

// dy goes to the elements equal to the maximum; when several tie, it is split evenly
// among them (mask / count), so the gradient sums to dy whatever the ties. A NaN maximum
// matches nothing and gives NaN (0/0), which is the honest answer.
std::vector<ValueId> grad_reduce_max(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0);
  Shape s = b.shape(x);
  std::vector<int> axes = resolved_reduce_axes(n.attrs, s.rank());
  Shape keep = keepdims_shape(s, axes);
  ValueId y_keep = b.reshape(self, keep);
  ValueId hit = b.compare(OpKind::kEqual, x, y_keep);
  ValueId mask = b.where(hit, constant_like(b, 1.0, dy), constant_like(b, 0.0, dy));
  std::vector<int64_t> axes64(axes.begin(), axes.end());
  ValueId count = b.reduce_sum(mask, axes64, /*keepdims=*/true);
  ValueId share = b.div(b.reshape(dy, keep), count);
  return {b.mul(mask, share)};
}

// ---- data movement ---------------------------------------------------------------------

std::vector<ValueId> grad_reshape(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  return {b.reshape(dy, b.shape(n.inputs.at(0)))};
}

std::vector<ValueId> grad_permute(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  const auto& perm = n.attrs.get_ints("perm");
  int64_t rank = static_cast<int64_t>(perm.size());
  std::vector<int64_t> inverse(perm.size());
  for (int64_t i = 0; i < rank; ++i) inverse[perm[i] < 0 ? perm[i] + rank : perm[i]] = i;
  return {b.permute(dy, inverse)};
}

std::vector<ValueId> grad_broadcast(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  return {b.sum_to_shape(dy, b.shape(n.inputs.at(0)))};
}

// The adjoint of a slice places dy back at the positions it was read from, zeros elsewhere.
// Unit-step axes are one pad. An axis with step > 1 is a scatter_add along that axis with a
// constant index tensor (start, start + step, …): the indices are distinct, so the result is
// exact — no accumulation happens — and it runs wherever scatter_add does.
std::vector<ValueId> grad_slice(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0);
  Shape s = b.shape(x);
  const Shape& out = n.type.shape;
  const auto& starts = n.attrs.get_ints("starts");
  const auto& steps = n.attrs.get_ints("steps");
  int r = s.rank();
  for (int i = 0; i < r; ++i)
    if (out[i] == 0) return {zeros(b, b.dtype(dy), s)};  // nothing was read
  std::vector<int64_t> before(r, 0), after(r, 0);
  ValueId g = dy;
  for (int i = 0; i < r; ++i) {
    int64_t d = s[i];
    if (d == kDynamic) continue;  // taken whole (the op table enforces it)
    int64_t start = std::clamp<int64_t>(starts[i] < 0 ? starts[i] + d : starts[i], 0, d);
    if (steps[i] == 1) {
      before[i] = start;
      after[i] = d - start - out[i];
      continue;
    }
    std::vector<int64_t> idx(static_cast<size_t>(out[i]));
    for (int64_t k = 0; k < out[i]; ++k) idx[k] = start + k * steps[i];
    ValueId indices = b.constant(Tensor::from_vector(idx, Shape{out[i]}, kI64),
                                 fmt::format("{}/grad_indices_{}", n.name, i));
    g = b.scatter_add(g, indices, i, d);
  }
  bool any_pad = false;
  for (int i = 0; i < r; ++i) any_pad = any_pad || before[i] != 0 || after[i] != 0;
  return {any_pad ? b.pad(g, before, after, 0.0) : g};
}

// Each input gets its slice of dy along the axis.
std::vector<ValueId> grad_concat(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  int r = n.type.shape.rank();
  int64_t axis = n.attrs.get_int("axis");
  if (axis < 0) axis += r;
  std::vector<ValueId> grads;
  int64_t offset = 0;
  for (ValueId in : n.inputs) {
    int64_t len = b.shape(in)[static_cast<int>(axis)];
    std::vector<int64_t> starts(r, 0), ends(r, kSliceToEnd), steps(r, 1);
    starts[axis] = offset;
    ends[axis] = offset + len;
    grads.push_back(b.slice(dy, starts, ends, steps));
    offset += len;
  }
  return grads;
}

std::vector<ValueId> grad_pad(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  Shape s = b.shape(n.inputs.at(0));
  const auto& before = n.attrs.get_ints("pads_before");
  int r = s.rank();
  std::vector<int64_t> starts(r, 0), ends(r, kSliceToEnd), steps(r, 1);
  for (int i = 0; i < r; ++i) {
    if (s[i] == kDynamic) continue;  // never padded
    starts[i] = before[i];
    ends[i] = before[i] + s[i];
  }
  return {b.slice(dy, starts, ends, steps)};
}

// ---- indexing --------------------------------------------------------------------------

std::vector<ValueId> grad_gather(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId data = n.inputs.at(0), indices = n.inputs.at(1);
  Shape s = b.shape(data);
  int axis = s.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
  TS_CHECK(s[axis] != kDynamic, ErrorKind::kUnsupported,
           "node '{}' (gather): cannot differentiate a gather along the batch axis of {}", n.name,
           s.str());
  return {b.scatter_add(dy, indices, axis, s[axis]), kNoValue};
}

std::vector<ValueId> grad_scatter_add(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  return {b.gather(dy, n.inputs.at(1), n.attrs.get_int("axis")), kNoValue};
}

// ---- composites --------------------------------------------------------------------------

// dx = y (dy - Σ dy·y), the sum over the softmax axis.
std::vector<ValueId> grad_softmax(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  int64_t axis = n.attrs.get_int("axis");
  ValueId dot = b.reduce_sum(b.mul(dy, self), {axis}, /*keepdims=*/true);
  return {b.mul(self, b.sub(dy, dot))};
}

// dx = dy - softmax(x) Σ dy, with softmax(x) = exp(y).
std::vector<ValueId> grad_log_softmax(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  int64_t axis = n.attrs.get_int("axis");
  ValueId total = b.reduce_sum(dy, {axis}, /*keepdims=*/true);
  return {b.sub(dy, b.mul(b.exp(self), total))};
}

// d/dlogits = (softmax(logits) - one_hot(labels)) · dy[..., None]; labels get none.
std::vector<ValueId> grad_cross_entropy(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId logits = n.inputs.at(0), labels = n.inputs.at(1);
  Shape s = b.shape(logits);
  int64_t classes = s[s.rank() - 1];
  TS_CHECK(classes != kDynamic, ErrorKind::kUnsupported,
           "node '{}' (cross_entropy): the class axis of logits {} must be static", n.name,
           s.str());
  ValueId p = b.softmax(logits, -1);
  ValueId target = b.one_hot(labels, classes, b.dtype(logits));
  Shape dy_shape = b.shape(dy);
  dy_shape.push_back(1);
  return {b.mul(b.sub(p, target), b.reshape(dy, dy_shape)), kNoValue};
}

}  // namespace tessera::detail
