// BatchNormalization, as Keras: normalizes each channel (the last axis) by the batch's mean
// and variance while training, and by moving averages of them at inference.
//
//   auto h = Conv2D(32, {3, 3}, {.padding = "same", .use_bias = false})(x);
//   h = BatchNormalization()(h);            // gamma, beta, moving_mean, moving_variance
//   h = Activation("relu")(h);
//
// Training (CallContext::training): y = gamma·(x - mean)/sqrt(var + epsilon) + beta with the
// batch's mean and (biased) variance over every axis but the last; each step also moves
//   moving_mean     <- momentum·moving_mean     + (1 - momentum)·mean
//   moving_variance <- momentum·moving_variance + (1 - momentum)·var
// through CallContext::state_updates (graph updates of the training step, as Keras 3 does:
// the biased variance). Inference uses the moving statistics. gamma and beta are trainable;
// the moving statistics are not, and are saved with the other weights.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tessera/nn/layer.h"

namespace tessera {

struct BatchNormalizationOptions {
  int64_t axis = -1;  // the channel axis; only the last axis is supported
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
  std::optional<Shape> input_shape;
  std::string name;
};
LayerPtr BatchNormalization(BatchNormalizationOptions options = {});

// layer_from_config's branch for the normalization layers; nullptr for other classes.
LayerPtr normalization_layer_from_config(const std::string& class_name,
                                         const nlohmann::json& config);

}  // namespace tessera
