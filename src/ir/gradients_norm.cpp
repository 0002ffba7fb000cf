// Gradient rules of layer_norm and rms_norm. d x is one fused op (layer_norm_grad_input,
// rms_norm_grad_input: a row kernel on cpu) rather than the dozen primitives of the
// decomposition's gradient; d gamma and d beta are column sums over the leading axes:
//
//   layer_norm: dgamma = Σ dy · x̂,  dbeta = Σ dy,  x̂ = layer_norm(x, 1, 0)
//   rms_norm:   dgamma = Σ dy · x̂,                  x̂ = rms_norm(x, 1)
//
// x̂ is recomputed by the forward op with unit scale (and zero shift) instead of being
// saved: it is one cheap row pass, and the training graph then keeps only x alive for the
// backward pass, as the decomposed form would.
#include <numeric>

#include "gradients_rules.h"

namespace tessera::detail {
namespace {

// Sums dy-shaped `v` over every axis but the last, giving [C].
ValueId sum_rows(GraphBuilder& b, ValueId v) {
  int rank = b.shape(v).rank();
  if (rank == 1) return v;
  std::vector<int64_t> lead(static_cast<size_t>(rank - 1));
  std::iota(lead.begin(), lead.end(), 0);
  return b.reduce_sum(v, lead);
}

ValueId filled(GraphBuilder& b, double value, DType dtype, int64_t c, const char* what,
               const std::string& node_name) {
  return b.constant(Tensor::full(dtype, Shape{c}, value), node_name + "/" + what);
}

}  // namespace

std::vector<ValueId> grad_layer_norm(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0), gamma = n.inputs.at(1);
  double eps = n.attrs.get_float("epsilon");
  DType dt = b.dtype(x);
  int64_t c = b.shape(gamma)[0];
  ValueId dx = b.layer_norm_grad_input(x, gamma, dy, eps);
  ValueId xhat = b.layer_norm(x, filled(b, 1.0, dt, c, "ones", n.name),
                              filled(b, 0.0, dt, c, "zeros", n.name), eps);
  return {dx, sum_rows(b, b.mul(dy, xhat)), sum_rows(b, dy)};
}

std::vector<ValueId> grad_rms_norm(GraphBuilder& b, ValueId self, ValueId dy) {
  GradNode n = grad_node(b, self);
  ValueId x = n.inputs.at(0), gamma = n.inputs.at(1);
  double eps = n.attrs.get_float("epsilon");
  int64_t c = b.shape(gamma)[0];
  ValueId dx = b.rms_norm_grad_input(x, gamma, dy, eps);
  ValueId xhat = b.rms_norm(x, filled(b, 1.0, b.dtype(x), c, "ones", n.name), eps);
  return {dx, sum_rows(b, b.mul(dy, xhat))};
}

}  // namespace tessera::detail
