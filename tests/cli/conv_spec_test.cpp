// YAML specs with convolution, pooling and BatchNormalization layers: sizes as one integer
// or a list, the zoo's CNNs, and errors that name the YAML line and the value.
#include <gtest/gtest.h>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    build_model(parse_model_spec(yaml, "m.yaml"), 0);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConvSpec, LayersBuildWithKerasArguments) {
  ModelSpec spec = parse_model_spec(R"(input_shape: [12, 12, 2]
layers:
  - Conv2D: {filters: 4, kernel_size: [3, 2], strides: 2, padding: same, activation: none}
  - BatchNormalization: {momentum: 0.9, epsilon: 0.01}
  - DepthwiseConv2D: {kernel_size: 3, depth_multiplier: 2, padding: same}
  - MaxPooling2D: {pool_size: 2}
  - AveragePool2D: {pool_size: [1, 2], strides: 1, padding: same}
  - Reshape: {target_shape: [9, 8]}
  - Conv1D: {filters: 3, kernel_size: 2, padding: causal, dilation_rate: 2}
  - Reshape: {target_shape: [3, 3, 3]}
  - GlobalAveragePooling2D
  - Dense: {units: 2, activation: softmax}
)",
                                    "m.yaml");
  Model m = build_model(spec, 0);
  EXPECT_EQ(m.net().output_types()[0].shape, (Shape{kDynamic, 2}));
  const nlohmann::json layers = m.net().to_json().at("layers");
  EXPECT_EQ(layers[0].at("config").at("kernel_size"), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(layers[0].at("config").at("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(layers[0].at("config").at("activation"), "linear");
  EXPECT_EQ(layers[1].at("config").at("momentum"), 0.9);
  EXPECT_EQ(layers[3].at("class_name"), "MaxPooling2D");
}

TEST(ConvSpec, ZooCnnsHaveKerasParameterCounts) {
  // Keras' counts for the same layers: 320 + 18496 + (7·7·64 + 1)·128 + 1290.
  EXPECT_EQ(build_model(zoo_spec("mnist-cnn"), 0).net().count_params(), 421642);
  Model r = build_model(zoo_spec("resnet-small"), 0);
  EXPECT_GT(r.net().count_params() - r.net().count_trainable_params(), 0);  // moving stats
}

TEST(ConvSpec, ErrorsNameTheLineAndTheValue) {
  const std::string head = "input_shape: [8, 8, 1]\nlayers:\n";
  EXPECT_EQ(error_of(head + "  - Conv2D: {filters: 4, kernel_size: [3, 0]}\n"),
            "m.yaml:3: Conv2D: 'kernel_size' must be one or two positive integers, got [3,0]");
  EXPECT_EQ(error_of(head + "  - Conv2D: {filters: 4, kernel_size: 3, padding: full}\n"),
            "m.yaml:3: Conv2D: unknown padding 'full' (known: valid, same)");
  EXPECT_EQ(error_of(head + "  - Conv2D: {filters: 0, kernel_size: 3}\n"),
            "m.yaml:3: Conv2D: 'filters' must be positive, got 0");
  EXPECT_EQ(error_of(head + "  - Conv2D: {kernel_size: 3}\n"),
            "m.yaml:3: Conv2D: missing argument 'filters'");
  EXPECT_EQ(error_of(head + "  - MaxPooling2D: {pool_size: 2, stride: 2}\n"),
            "m.yaml:3: MaxPooling2D: unknown argument 'stride' (known: name, inputs, pool_size, "
            "strides, padding)");
  EXPECT_EQ(error_of(head + "  - BatchNormalization: {momentum: 2}\n"),
            "m.yaml:3: BatchNormalization: 'momentum' must be in [0, 1], got 2");
  std::string e = error_of(head + "  - Conv2D: {filters: 4, kernel_size: 9}\n");
  EXPECT_EQ(e.rfind("m.yaml:3: Conv2D: ", 0), 0u) << e;
  EXPECT_NE(e.find("kernel_size [9, 9] (dilation [1, 1]) does not fit the 8x8 input with "
                   "padding 'valid'"),
            std::string::npos)
      << e;
  e = error_of(head + "  - Conv2D: {filters: 4, kernel_size: 3, groups: 2}\n");
  EXPECT_NE(e.find("the input's 1 channels are not divisible by groups 2"), std::string::npos) << e;
}

}  // namespace
}  // namespace tessera::cli
