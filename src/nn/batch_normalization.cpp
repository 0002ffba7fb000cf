// BatchNormalization: batch statistics and moving-average state updates while training, the
// moving statistics at inference (include/tessera/nn/normalization.h). Emitted as primitives
// (reductions over every axis but the channels, and per-channel elementwise work the fusion
// pass joins), so autodiff differentiates through the batch statistics.
#include <algorithm>

#include "tessera/core/error.h"
#include "tessera/nn/initializers.h"
#include "tessera/nn/normalization.h"

#include "nn_internal.h"

namespace tessera {
namespace {

class BatchNormalizationLayer final : public Layer {
 public:
  explicit BatchNormalizationLayer(BatchNormalizationOptions o)
      : Layer(default_name(o.name, "batch_normalization")), o_(std::move(o)) {
    TS_CHECK(o_.momentum >= 0.0 && o_.momentum <= 1.0, ErrorKind::kInvalidArgument,
             "{}: momentum must be in [0, 1], got {}", describe(), o_.momentum);
    TS_CHECK(o_.epsilon > 0.0, ErrorKind::kInvalidArgument, "{}: epsilon must be > 0, got {}",
             describe(), o_.epsilon);
    for (const std::string* init : {&o_.beta_initializer, &o_.gamma_initializer,
                                    &o_.moving_mean_initializer, &o_.moving_variance_initializer})
      check_initializer(*init, describe());
    if (o_.input_shape) set_input_shape(*o_.input_shape);
  }
  std::string class_name() const override { return "BatchNormalization"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    ValueId x = in[0];
    const DType t = b.dtype(x);
    const int rank = b.shape(x).rank();
    std::vector<int64_t> axes;  // every axis but the channels
    for (int i = 0; i < rank - 1; ++i) axes.push_back(i);
    ValueId gamma = o_.scale ? ctx.param(weights()[0]) : kNoValue;
    ValueId beta = o_.center ? ctx.param(weights()[o_.scale ? 1 : 0]) : kNoValue;
    const VariablePtr& mean_var = weights()[weights().size() - 2];
    const VariablePtr& var_var = weights()[weights().size() - 1];
    ValueId eps = b.scalar(o_.epsilon, t);
    if (!ctx.training) {
      // y = x·a + c with a = gamma / sqrt(moving_variance + eps), c = beta - moving_mean·a:
      // two per-channel vectors, then one fused multiply-add over x.
      ValueId a = b.rsqrt(b.add(ctx.param(var_var), eps));
      if (gamma != kNoValue) a = b.mul(a, gamma);
      ValueId c = b.neg(b.mul(ctx.param(mean_var), a));
      if (beta != kNoValue) c = b.add(c, beta);
      return b.add(b.mul(x, a), c);
    }
    ValueId mean = b.reduce_mean(x, axes);
    ValueId centered = b.sub(x, mean);
    ValueId var = b.reduce_mean(b.mul(centered, centered), axes);
    ValueId y = b.mul(centered, b.rsqrt(b.add(var, eps)));
    if (gamma != kNoValue) y = b.mul(y, gamma);
    if (beta != kNoValue) y = b.add(y, beta);
    // The moving statistics follow the batch's; they take no part in the gradient.
    ValueId m = b.scalar(o_.momentum, t), one_minus = b.scalar(1.0 - o_.momentum, t);
    ctx.state_updates.push_back(
        {mean_var, b.add(b.mul(ctx.param(mean_var), m), b.mul(mean, one_minus))});
    ctx.state_updates.push_back(
        {var_var, b.add(b.mul(ctx.param(var_var), m), b.mul(var, one_minus))});
    return y;
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["axis"] = o_.axis;
    j["momentum"] = o_.momentum;
    j["epsilon"] = o_.epsilon;
    j["center"] = o_.center;
    j["scale"] = o_.scale;
    j["beta_initializer"] = o_.beta_initializer;
    j["gamma_initializer"] = o_.gamma_initializer;
    j["moving_mean_initializer"] = o_.moving_mean_initializer;
    j["moving_variance_initializer"] = o_.moving_variance_initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}", describe(),
             in.size());
    const Shape& s = in[0].shape;
    TS_CHECK(s.rank() >= 2, ErrorKind::kInvalidArgument,
             "{}: expects an input of rank >= 2 (batch, ..., channels), got {}", describe(),
             in[0].str());
    TS_CHECK(in[0].dtype.is_float(), ErrorKind::kInvalidArgument,
             "{}: expects a float input, got {}", describe(), in[0].str());
    TS_CHECK(o_.axis == -1 || o_.axis == s.rank() - 1, ErrorKind::kInvalidArgument,
             "{}: axis {} is not supported for input {}; only the last axis (-1, channels "
             "last) is",
             describe(), o_.axis, in[0].str());
    const int64_t c = s[s.rank() - 1];
    TS_CHECK(c > 0, ErrorKind::kInvalidArgument, "{}: the channel axis of {} must be static",
             describe(), in[0].str());
    const DType t = in[0].dtype;
    if (o_.scale) add_weight("gamma", initialize(o_.gamma_initializer, {c}, rng, t));
    if (o_.center) add_weight("beta", initialize(o_.beta_initializer, {c}, rng, t));
    add_weight("moving_mean", initialize(o_.moving_mean_initializer, {c}, rng, t),
               /*trainable=*/false);
    add_weight("moving_variance", initialize(o_.moving_variance_initializer, {c}, rng, t),
               /*trainable=*/false);
  }

 private:
  BatchNormalizationOptions o_;
};

}  // namespace

LayerPtr BatchNormalization(BatchNormalizationOptions options) {
  return std::make_shared<BatchNormalizationLayer>(std::move(options));
}

LayerPtr normalization_layer_from_config(const std::string& class_name, const nlohmann::json& j) {
  if (class_name != "BatchNormalization") return nullptr;
  BatchNormalizationOptions o;
  o.axis = j.value("axis", o.axis);
  o.momentum = j.value("momentum", o.momentum);
  o.epsilon = j.value("epsilon", o.epsilon);
  o.center = j.value("center", o.center);
  o.scale = j.value("scale", o.scale);
  o.beta_initializer = j.value("beta_initializer", o.beta_initializer);
  o.gamma_initializer = j.value("gamma_initializer", o.gamma_initializer);
  o.moving_mean_initializer = j.value("moving_mean_initializer", o.moving_mean_initializer);
  o.moving_variance_initializer =
      j.value("moving_variance_initializer", o.moving_variance_initializer);
  o.name = j.value("name", std::string());
  return BatchNormalization(std::move(o));
}

}  // namespace tessera
