// Normalization layers over the last axis, named as in Keras: LayerNormalization and
// RMSNormalization (Keras 3's name for RMSNorm). Both are emitted from primitives
// (reduce_mean, rsqrt, ...), each from one small function in norm_layers.cpp.
//
//   auto h = LayerNormalization({.epsilon = 1e-5})(x);     // x [N, T, d]
//   auto r = RMSNormalization()(x);
#pragma once

#include <string>

#include "tessera/nn/layer.h"

namespace tessera {

struct LayerNormalizationOptions {
  double epsilon = 1e-3;  // Keras' default
  bool center = true;     // learn a bias beta (zeros)
  bool scale = true;      // learn a scale gamma (ones)
  std::string name;       // empty: "layer_normalization"
};

// y = (x - mean) / sqrt(var + epsilon) · gamma + beta, mean and (biased) variance over the
// last axis; gamma and beta have the last axis' size.
LayerPtr LayerNormalization(LayerNormalizationOptions options = {});

struct RMSNormalizationOptions {
  double epsilon = 1e-6;
  bool scale = true;  // learn a scale (ones)
  std::string name;   // empty: "rms_normalization"
};

// y = x / sqrt(mean(x²) + epsilon) · scale over the last axis.
LayerPtr RMSNormalization(RMSNormalizationOptions options = {});

}  // namespace tessera
