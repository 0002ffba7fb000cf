// The built-in layers, created by factory functions named as in Keras.
//
//   auto model_layers = {
//       Dense(64, {.activation = "relu", .input_shape = Shape{32}}),
//       Dropout(0.2),
//       Dense(10, {.activation = "softmax"}),
//   };
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/nn/layer.h"

namespace tessera {

// Activation names: relu, sigmoid, tanh, softmax, gelu, linear (or empty). Throws Error
// naming the activation when it is unknown.
ValueId apply_activation(GraphBuilder& b, const std::string& activation, ValueId x);

struct DenseOptions {
  std::string activation;  // empty = linear
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::optional<Shape> input_shape;  // per sample, for the first layer of a Sequential
  std::string name;                  // empty: "dense", made unique by the model
};

LayerPtr Dense(int64_t units, DenseOptions options = {});
LayerPtr Activation(std::string activation, std::string name = {});
// Inverted dropout: at training time zeroes each element with probability `rate` and scales
// the rest by 1/(1-rate); identity at inference. Masks depend on (seed, step, position).
LayerPtr Dropout(double rate, std::string name = {});
LayerPtr Flatten(std::string name = {});
// Target per-sample shape (no batch dim).
LayerPtr Reshape(Shape target_shape, std::string name = {});
// Merge layers for the functional API (residual graphs).
LayerPtr Add(std::string name = {});
LayerPtr Concatenate(int64_t axis = -1, std::string name = {});

// Creates a layer from its class name and config() (for loading saved models).
LayerPtr layer_from_config(const std::string& class_name, const nlohmann::json& config);

}  // namespace tessera
