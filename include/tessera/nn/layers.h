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

// kernel [in, units], bias [units]; on inputs of rank > 2 it applies to the last axis (the
// matmul broadcasts the kernel over the leading dims). A rank-1 input is an error.
LayerPtr Dense(int64_t units, DenseOptions options = {});
LayerPtr Activation(std::string activation, std::string name = {});
// Inverted dropout: at training time zeroes each element with probability `rate` and scales
// the rest by 1/(1-rate); identity at inference. Masks depend on (seed, step, position):
// the random_uniform op with CallContext::step and a seed mixing CallContext::seed with the
// layer's name, so masks change per step, repeat for the same step, and match on every
// backend. Without ctx.step the step is the constant 0.
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
