// YAML model specs: what parses, what the zoo holds, and errors that name the YAML line.
#include "tessera/cli/model_spec.h"

#include <gtest/gtest.h>

#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

std::string parse_error(const std::string& yaml) {
  try {
    parse_model_spec(yaml, "m.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelSpec, ParsesLayersArgumentsAndCompileSettings) {
  ModelSpec spec = parse_model_spec(R"(# a comment
name: my-mlp
input_shape: [28, 28]
layers:
  - Flatten
  - Dense: {units: 64, activation: relu, kernel_initializer: he_normal, name: hidden}
  - Dropout:
      rate: 0.5
  - Dense: {units: 10, activation: softmax, use_bias: false}
compile:
  optimizer: rmsprop
  learning_rate: 0.002
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
)",
                                    "m.yaml");
  EXPECT_EQ(spec.name, "my-mlp");
  EXPECT_EQ(spec.input_shape, (Shape{28, 28}));
  ASSERT_EQ(spec.layers.size(), 4u);
  EXPECT_EQ(spec.layers[0].class_name, "Flatten");
  EXPECT_EQ(spec.layers[1].args["units"], 64);
  EXPECT_EQ(spec.layers[1].name, "hidden");
  EXPECT_EQ(spec.layers[1].line, 6);
  EXPECT_DOUBLE_EQ(spec.layers[2].args["rate"].get<double>(), 0.5);
  EXPECT_EQ(spec.layers[3].args["use_bias"], false);
  ASSERT_TRUE(spec.compile);
  EXPECT_EQ(spec.compile->optimizer, "rmsprop");
  EXPECT_DOUBLE_EQ(spec.compile->optimizer_options.learning_rate, 0.002);

  Model m = build_model(spec, 1);
  EXPECT_EQ(m.net().count_params(), 784 * 64 + 64 + 64 * 10);
  EXPECT_EQ(m.net().output_types()[0].shape, (Shape{kDynamic, 10}));
}

TEST(ModelSpec, EveryZooModelBuilds) {
  for (const std::string& name : zoo_names()) {
    ModelSpec spec = zoo_spec(name);
    Model m = build_model(spec, 0);
    EXPECT_GT(m.net().count_params(), 0) << name;
    EXPECT_TRUE(spec.compile) << name;
  }
  EXPECT_EQ(build_model(zoo_spec("seed-mlp"), 0).net().count_params(), 32 * 64 + 64 + 650);
  EXPECT_EQ(build_model(zoo_spec("mnist-mlp"), 0).net().count_params(), 235146);
  EXPECT_THROW(zoo_spec("resnet-152"), Error);
}

TEST(ModelSpec, ResidualConnectionsByName) {
  ModelSpec spec = parse_model_spec(R"(input_shape: [8]
layers:
  - Dense: {units: 8, name: a}
  - Dense: {units: 8}
  - Add: {inputs: [a, input]}
  - Concatenate: {inputs: [a, input], axis: -1}
)",
                                    "res.yaml");
  Model m = build_model(spec, 0);
  EXPECT_EQ(m.net().output_types()[0].shape, (Shape{kDynamic, 16}));
}

TEST(ModelSpec, ErrorsNameTheLine) {
  // The list of known classes grows with the layers; its start and a member are enough.
  std::string unknown =
      parse_error("input_shape: [4]\nlayers:\n  - Dense: {units: 4}\n  - Conv9D: {}\n");
  EXPECT_EQ(unknown.rfind("m.yaml:4: unknown layer 'Conv9D' (known: Activation, Add, ", 0), 0u)
      << unknown;
  EXPECT_NE(unknown.find(", Dense, "), std::string::npos) << unknown;
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Dense:\n      unitz: 4\n"),
            "m.yaml:4: Dense: unknown argument 'unitz' (known: name, inputs, units, activation, "
            "use_bias, kernel_initializer, bias_initializer)");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Dense: {units: many}\n"),
            "m.yaml:3: Dense: argument 'units' must be an integer, got 'many'");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Dense: {activation: relu}\n"),
            "m.yaml:3: Dense: missing argument 'units'");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Dense: {units: 3, activation: swish}\n"),
            "m.yaml:3: Dense: unknown activation 'swish' (known: relu, sigmoid, tanh, softmax, "
            "gelu, linear)");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Dropout: {rate: 1.5}\n"),
            "m.yaml:3: Dropout: 'rate' must be in [0, 1), got 1.5");
  EXPECT_EQ(parse_error("layers:\n  - Flatten\n"),
            "m.yaml:1: missing 'input_shape' (per sample, e.g. [28, 28])");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers: []\n"),
            "m.yaml:2: 'layers' must be a non-empty list");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Add: {inputs: [x, input]}\n"),
            "m.yaml:3: Add: input 'x' is not 'input' or the name of an earlier layer");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayerz: []\n"),
            "m.yaml:2: unknown key 'layerz' (expected name, input_shape, input_dtype, layers, "
            "gpt, compile)");
  EXPECT_EQ(parse_error("input_shape: [4]\nlayers:\n  - Flatten\ncompile: {optimizer: adagrad}\n"),
            "m.yaml:4: unknown optimizer 'adagrad' (known: sgd, adam, adamw, rmsprop)");
  std::string syntax = parse_error("input_shape: [4\nlayers:\n  - Flatten\n");
  EXPECT_EQ(syntax.rfind("m.yaml:", 0), 0u) << syntax;
  EXPECT_NE(syntax.find("YAML syntax error"), std::string::npos) << syntax;
}

TEST(ModelSpec, ShapeErrorsAtBuildTimeNameTheLine) {
  ModelSpec spec = parse_model_spec(
      "input_shape: [4]\nlayers:\n  - Dense: {units: 3, name: a}\n  - Add: {inputs: [a, input]}\n",
      "add.yaml");
  try {
    build_model(spec, 0);
    ADD_FAILURE() << "Add of [3] and [4] built";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("add.yaml:4: Add: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace tessera::cli
