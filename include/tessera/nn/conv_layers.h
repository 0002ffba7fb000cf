// Convolution and pooling layers, channels-last as Keras' defaults: images are
// [batch, height, width, channels] and sequences [batch, steps, channels]. Kernels are stored
// in Keras' layouts (Conv2D [KH, KW, C/groups, filters], Conv1D [K, C/groups, filters],
// DepthwiseConv2D [KH, KW, C, depth_multiplier]) and emitted as the conv2d op, so weights
// load and save as Keras names them. Padding "same" and "valid" (and "causal" for Conv1D)
// become explicit pads the way Keras/TF compute them.
//
//   auto x = Input({28, 28, 1});
//   auto h = Conv2D(32, {3, 3}, {.activation = "relu"})(x);
//   h = MaxPool2D({2, 2})(h);
//   h = Conv2D(64, {3, 3}, {.padding = "same", .activation = "relu"})(h);
//   h = GlobalAveragePooling2D()(h);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/nn/layer.h"

namespace tessera {

// Sizes given as one value apply to both axes: {3} is {3, 3}.
struct Conv2DOptions {
  std::vector<int64_t> strides = {1, 1};
  std::string padding = "valid";  // "valid" or "same"
  std::vector<int64_t> dilation_rate = {1, 1};
  int64_t groups = 1;      // input channels and filters must both be divisible by it
  std::string activation;  // empty = linear
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::optional<Shape> input_shape;  // per sample, for the first layer of a Sequential
  std::string name;
};
LayerPtr Conv2D(int64_t filters, std::vector<int64_t> kernel_size, Conv2DOptions options = {});

struct Conv1DOptions {
  int64_t strides = 1;
  std::string padding = "valid";  // "valid", "same" or "causal" (all padding on the left)
  int64_t dilation_rate = 1;
  int64_t groups = 1;
  std::string activation;
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::optional<Shape> input_shape;
  std::string name;
};
// On [batch, steps, channels]; runs as a conv2d of height 1.
LayerPtr Conv1D(int64_t filters, int64_t kernel_size, Conv1DOptions options = {});

struct DepthwiseConv2DOptions {
  std::vector<int64_t> strides = {1, 1};
  std::string padding = "valid";
  int64_t depth_multiplier = 1;  // output channels per input channel
  std::vector<int64_t> dilation_rate = {1, 1};
  std::string activation;
  bool use_bias = true;
  std::string depthwise_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  std::optional<Shape> input_shape;
  std::string name;
};
// One filter per input channel (conv2d with groups = channels).
LayerPtr DepthwiseConv2D(std::vector<int64_t> kernel_size, DepthwiseConv2DOptions options = {});

struct Pool2DOptions {
  std::vector<int64_t> strides;   // empty: pool_size, as Keras' strides=None
  std::string padding = "valid";  // "same" averages over the non-padding elements only
  std::optional<Shape> input_shape;
  std::string name;
};
LayerPtr MaxPool2D(std::vector<int64_t> pool_size = {2, 2}, Pool2DOptions options = {});
LayerPtr AveragePool2D(std::vector<int64_t> pool_size = {2, 2}, Pool2DOptions options = {});
// The mean over height and width: [batch, channels] ([batch, 1, 1, channels] with keepdims).
LayerPtr GlobalAveragePooling2D(std::string name = {}, bool keepdims = false);

// The layers above from their class name and config() (layer_from_config's conv branch);
// nullptr when `class_name` is none of them.
LayerPtr conv_layer_from_config(const std::string& class_name, const nlohmann::json& config);

}  // namespace tessera
