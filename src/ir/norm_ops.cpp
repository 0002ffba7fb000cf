// The normalization ops — layer_norm(x, gamma, beta), rms_norm(x, gamma) and their fused
// backward layer_norm_grad_input(x, gamma, dy), rms_norm_grad_input(x, gamma, dy) — as the
// op table sees them: type inference, cost, and decompositions into primitives.
//
// All four normalise over the last axis of x [..., C]: mean and variance (or mean square)
// are per row of C elements. gamma and beta are [C] and share x's dtype. f16/bf16
// decompositions compute in f32 and round once at the end, as the kernels do, so the
// fallback is as accurate as the fused op.
#include <cmath>

#include "op_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"

namespace tessera::detail {
namespace {

std::string where_(const Node& n) { return fmt::format("node '{}' ({})", n.name, op_name(n.op)); }

bool is_float(DType t) {
  return t.id() == DTypeId::kF32 || t.id() == DTypeId::kF16 || t.id() == DTypeId::kBF16;
}

// Which inputs hold what: x is always first; gamma second; then beta (layer_norm) or dy
// (the *_grad_input ops).
bool has_dy(OpKind op) {
  return op == OpKind::kLayerNormGradInput || op == OpKind::kRmsNormGradInput;
}

}  // namespace

TensorType infer_norm(const Graph& g, const Node& n) {
  const TensorType& x = g.type(n.inputs.at(0));
  TS_CHECK(is_float(x.dtype), ErrorKind::kInvalidArgument,
           "{}: x has dtype {}, expected a float type (f32, f16, bf16)", where_(n), x.dtype.name());
  TS_CHECK(x.shape.rank() >= 1, ErrorKind::kInvalidArgument,
           "{}: x must have rank >= 1 (normalised over its last axis), got {}", where_(n), x.str());
  const int64_t c = x.shape[x.shape.rank() - 1];
  TS_CHECK(c > 0, ErrorKind::kInvalidArgument,
           "{}: the last axis of x {} must be static and > 0 (it is the normalised axis)",
           where_(n), x.str());
  const double eps = n.attrs.get_float("epsilon");
  TS_CHECK(std::isfinite(eps) && eps >= 0, ErrorKind::kInvalidArgument,
           "{}: epsilon must be finite and >= 0, got {}", where_(n), eps);
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const TensorType& t = g.type(n.inputs[i]);
    const bool is_dy = i == 2 && has_dy(n.op);
    const char* what = i == 1 ? "gamma" : is_dy ? "dy" : "beta";
    const Shape want = is_dy ? x.shape : Shape{c};
    TS_CHECK(t.dtype == x.dtype && t.shape == want, ErrorKind::kInvalidArgument,
             "{}: {} is {}, expected {} (x is {})", where_(n), what, t.str(),
             TensorType{x.dtype, want}.str(), x.str());
  }
  return x;
}

// Per element: the statistics (about 3 flops) and the normalisation (4); the backward adds
// two row sums and the combination (about 6 more).
OpCost cost_norm(const Graph& g, const Node& n) {
  OpCost c;
  for (ValueId in : n.inputs) {
    const TensorType& t = g.type(in);
    c.bytes_read += static_cast<double>(t.shape.with_batch(1).numel() * t.dtype.size());
  }
  const double elems = static_cast<double>(n.type.shape.with_batch(1).numel());
  c.bytes_written = elems * static_cast<double>(n.type.dtype.size());
  c.flops = (has_dy(n.op) ? 13.0 : 7.0) * elems;
  return c;
}

namespace {

// Inputs in f32 (casts for f16/bf16), the result cast back to the op's dtype.
struct F32Scope {
  GraphBuilder& b;
  DType dtype;
  ValueId in(ValueId v) const { return dtype == kF32 ? v : b.cast(v, kF32); }
  ValueId out(ValueId v) const { return dtype == kF32 ? v : b.cast(v, dtype); }
};

ValueId eps_of(GraphBuilder& b, const Node& node) {
  return b.scalar(node.attrs.get_float("epsilon"), kF32);
}

// Row statistics of x (f32): x - mean and 1/sqrt(var + eps), both keepdims.
std::pair<ValueId, ValueId> centred_and_rstd(GraphBuilder& b, ValueId x, ValueId eps) {
  ValueId xc = b.sub(x, b.reduce_mean(x, {-1}, /*keepdims=*/true));
  ValueId var = b.reduce_mean(b.mul(xc, xc), {-1}, /*keepdims=*/true);
  return {xc, b.rsqrt(b.add(var, eps))};
}

// 1/sqrt(mean(x²) + eps), keepdims.
ValueId inverse_rms(GraphBuilder& b, ValueId x, ValueId eps) {
  return b.rsqrt(b.add(b.reduce_mean(b.mul(x, x), {-1}, /*keepdims=*/true), eps));
}

}  // namespace

ValueId decompose_layer_norm(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  F32Scope s{b, b.dtype(in[0])};
  auto [xc, rstd] = centred_and_rstd(b, s.in(in[0]), eps_of(b, node));
  return s.out(b.add(b.mul(b.mul(xc, rstd), s.in(in[1])), s.in(in[2])));
}

ValueId decompose_rms_norm(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  F32Scope s{b, b.dtype(in[0])};
  ValueId x = s.in(in[0]);
  return s.out(b.mul(b.mul(x, inverse_rms(b, x, eps_of(b, node))), s.in(in[1])));
}

// With x̂ = (x - mean)·rstd and g = dy·gamma:  dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)).
ValueId decompose_layer_norm_grad_input(GraphBuilder& b, const Node& node,
                                        std::span<const ValueId> in) {
  F32Scope s{b, b.dtype(in[0])};
  auto [xc, rstd] = centred_and_rstd(b, s.in(in[0]), eps_of(b, node));
  ValueId xhat = b.mul(xc, rstd);
  ValueId g = b.mul(s.in(in[2]), s.in(in[1]));
  ValueId mean_g = b.reduce_mean(g, {-1}, /*keepdims=*/true);
  ValueId mean_gx = b.reduce_mean(b.mul(g, xhat), {-1}, /*keepdims=*/true);
  return s.out(b.mul(rstd, b.sub(b.sub(g, mean_g), b.mul(xhat, mean_gx))));
}

// With r = 1/rms, x̂ = x·r and g = dy·gamma:  dx = r · (g - x̂ · mean(g·x̂)).
ValueId decompose_rms_norm_grad_input(GraphBuilder& b, const Node& node,
                                      std::span<const ValueId> in) {
  F32Scope s{b, b.dtype(in[0])};
  ValueId x = s.in(in[0]);
  ValueId r = inverse_rms(b, x, eps_of(b, node));
  ValueId xhat = b.mul(x, r);
  ValueId g = b.mul(s.in(in[2]), s.in(in[1]));
  ValueId mean_gx = b.reduce_mean(b.mul(g, xhat), {-1}, /*keepdims=*/true);
  return s.out(b.mul(r, b.sub(g, b.mul(xhat, mean_gx))));
}

}  // namespace tessera::detail
