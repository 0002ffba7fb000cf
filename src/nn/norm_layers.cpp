// LayerNormalization and RMSNormalization. The normalization itself is one function per
// layer (emit_layer_norm, emit_rms_norm) over the fused layer_norm / rms_norm ops.
#include "tessera/nn/norm_layers.h"

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/nn/initializers.h"

#include "nn_internal.h"

namespace tessera {
namespace {


// A [features] constant of `value` standing in for an absent scale or offset.
ValueId filled(GraphBuilder& b, ValueId x, double value) {
  Shape s = b.shape(x);
  return b.constant(Tensor::full(b.dtype(x), {s[s.rank() - 1]}, value));
}

// The fused layer_norm op: (x - mean) · rsqrt(var + eps) · gamma + beta over the last axis
// (gamma, beta: kNoValue when absent).
ValueId emit_layer_norm(GraphBuilder& b, ValueId x, ValueId gamma, ValueId beta, double eps) {
  if (gamma == kNoValue) gamma = filled(b, x, 1.0);
  if (beta == kNoValue) beta = filled(b, x, 0.0);
  return b.layer_norm(x, gamma, beta, eps);
}

// The fused rms_norm op: x · rsqrt(mean(x²) + eps) · scale over the last axis (scale:
// kNoValue when absent).
ValueId emit_rms_norm(GraphBuilder& b, ValueId x, ValueId scale, double eps) {
  if (scale == kNoValue) scale = filled(b, x, 1.0);
  return b.rms_norm(x, scale, eps);
}

// The weights' common checks: one float input with a static last axis; returns its size.
int64_t feature_size(const Layer& l, std::span<const TensorType> in) {
  TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}", l.describe(),
           in.size());
  const Shape& s = in[0].shape;
  TS_CHECK(s.rank() >= 2 && in[0].dtype.is_float() && s[s.rank() - 1] > 0,
           ErrorKind::kInvalidArgument,
           "{}: expects a float input [batch, ..., features] with static features, got {}",
           l.describe(), in[0].str());
  return s[s.rank() - 1];
}

void check_epsilon(const Layer& l, double eps) {
  TS_CHECK(std::isfinite(eps) && eps > 0, ErrorKind::kInvalidArgument,
           "{}: epsilon must be > 0, got {}", l.describe(), eps);
}

class LayerNormalizationLayer final : public Layer {
 public:
  explicit LayerNormalizationLayer(LayerNormalizationOptions o)
      : Layer(default_name(o.name, "layer_normalization")), opt_(std::move(o)) {
    check_epsilon(*this, opt_.epsilon);
  }
  std::string class_name() const override { return "LayerNormalization"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    size_t k = 0;
    ValueId gamma = opt_.scale ? ctx.param(weights()[k++]) : kNoValue;
    ValueId beta = opt_.center ? ctx.param(weights()[k++]) : kNoValue;
    return emit_layer_norm(ctx.b, in[0], gamma, beta, opt_.epsilon);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["axis"] = -1;
    j["epsilon"] = opt_.epsilon;
    j["center"] = opt_.center;
    j["scale"] = opt_.scale;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    int64_t d = feature_size(*this, in);
    DType t = in[0].dtype;
    if (opt_.scale) add_weight("gamma", initialize("ones", {d}, rng, t));
    if (opt_.center) add_weight("beta", initialize("zeros", {d}, rng, t));
  }

 private:
  LayerNormalizationOptions opt_;
};

class RMSNormalizationLayer final : public Layer {
 public:
  explicit RMSNormalizationLayer(RMSNormalizationOptions o)
      : Layer(default_name(o.name, "rms_normalization")), opt_(std::move(o)) {
    check_epsilon(*this, opt_.epsilon);
  }
  std::string class_name() const override { return "RMSNormalization"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    ValueId scale = opt_.scale ? ctx.param(weights()[0]) : kNoValue;
    return emit_rms_norm(ctx.b, in[0], scale, opt_.epsilon);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["axis"] = -1;
    j["epsilon"] = opt_.epsilon;
    j["scale"] = opt_.scale;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    int64_t d = feature_size(*this, in);
    if (opt_.scale) add_weight("scale", initialize("ones", {d}, rng, in[0].dtype));
  }

 private:
  RMSNormalizationOptions opt_;
};

}  // namespace

LayerPtr LayerNormalization(LayerNormalizationOptions options) {
  return std::make_shared<LayerNormalizationLayer>(std::move(options));
}

LayerPtr RMSNormalization(RMSNormalizationOptions options) {
  return std::make_shared<RMSNormalizationLayer>(std::move(options));
}

}  // namespace tessera
