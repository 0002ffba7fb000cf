// The built-in models, written as YAML specs (docs/model-spec.md) so that the zoo and spec
// files share one parser and `tessera summary` shows the same thing for both.
#include <map>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

struct ZooEntry {
  std::string description;
  std::string yaml;
};

const std::map<std::string, ZooEntry>& zoo() {
  static const std::map<std::string, ZooEntry> entries = {
      {"seed-mlp",
       {"the seed's model: Dense 64 relu -> Dense 10 softmax on 32 features",
        R"(name: seed-mlp
input_shape: [32]
layers:
  - Dense: {units: 64, activation: relu}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"mnist-mlp",
       {"Flatten -> Dense 256 relu -> Dense 128 relu -> Dense 10 softmax on 28x28",
        R"(name: mnist-mlp
input_shape: [28, 28]
layers:
  - Flatten
  - Dense: {units: 256, activation: relu}
  - Dense: {units: 128, activation: relu}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"mnist-linear",
       {"multinomial logistic regression: Flatten -> Dense 10 softmax on 28x28",
        R"(name: mnist-linear
input_shape: [28, 28]
layers:
  - Flatten
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"mnist-dropout",
       {"Flatten -> Dense 512 relu -> Dropout 0.2 -> Dense 256 relu -> Dropout 0.2 -> "
        "Dense 10 softmax on 28x28",
        R"(name: mnist-dropout
input_shape: [28, 28]
layers:
  - Flatten
  - Dense: {units: 512, activation: relu}
  - Dropout: {rate: 0.2}
  - Dense: {units: 256, activation: relu}
  - Dropout: {rate: 0.2}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"mnist-resmlp",
       {"a residual MLP (functional): Flatten -> Dense 128 relu -> 2 x (Dense 128 relu, "
        "Add) -> Dense 10 softmax on 28x28",
        R"(name: mnist-resmlp
input_shape: [28, 28]
layers:
  - Flatten
  - Dense: {units: 128, activation: relu, name: stem}
  - Dense: {units: 128, activation: relu, name: block1}
  - Add: {inputs: [stem, block1], name: res1}
  - Dense: {units: 128, activation: relu, name: block2}
  - Add: {inputs: [res1, block2], name: res2}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"gpt-tiny",
       {"a byte-level GPT (make_gpt): d_model 256, 4 heads, 4 layers, context 128, vocabulary "
        "256, learned positions, untied head",
        R"(name: gpt-tiny
gpt: {vocab_size: 256, context: 128, d_model: 256, num_heads: 4, num_layers: 4}
compile: {optimizer: adamw, learning_rate: 0.001, loss: sparse_categorical_crossentropy,
          from_logits: true, metrics: [accuracy]}
)"}},
      {"gpt2-small",
       {"GPT-2 small (make_gpt): 124M parameters, vocabulary 50257, context 1024, d_model 768, "
        "12 heads, 12 layers, tied head — for simulation and benchmarks",
        R"(name: gpt2-small
gpt: {vocab_size: 50257, context: 1024, d_model: 768, num_heads: 12, num_layers: 12,
      tie_embeddings: true}
compile: {optimizer: adamw, learning_rate: 0.0006, loss: sparse_categorical_crossentropy,
          from_logits: true, metrics: [accuracy]}
)"}},
      {"mnist-cnn",
       {"a small CNN: Conv2D 32 3x3 relu -> MaxPool 2 -> Conv2D 64 3x3 relu -> MaxPool 2 -> "
        "Dense 128 relu -> Dense 10 softmax on 28x28 ('same' padding)",
        R"(name: mnist-cnn
input_shape: [28, 28]
layers:
  - Reshape: {target_shape: [28, 28, 1]}
  - Conv2D: {filters: 32, kernel_size: 3, padding: same, activation: relu}
  - MaxPooling2D: {pool_size: 2}
  - Conv2D: {filters: 64, kernel_size: 3, padding: same, activation: relu}
  - MaxPooling2D: {pool_size: 2}
  - Flatten
  - Dense: {units: 128, activation: relu}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
      {"resnet-small",
       {"a small ResNet (functional): 3 residual blocks of 3x3 Conv2D + BatchNormalization "
        "(16, 32, 64 channels; 1x1 projection shortcuts) -> GlobalAveragePooling2D -> Dense 10",
        R"(name: resnet-small
input_shape: [28, 28]
layers:
  - Reshape: {target_shape: [28, 28, 1]}
  - Conv2D: {filters: 16, kernel_size: 3, padding: same, use_bias: false}
  - BatchNormalization
  - Activation: {activation: relu, name: stem}
  # Block 1, 28x28x16: identity shortcut.
  - Conv2D: {filters: 16, kernel_size: 3, padding: same, use_bias: false}
  - BatchNormalization
  - Activation: {activation: relu}
  - Conv2D: {filters: 16, kernel_size: 3, padding: same, use_bias: false}
  - BatchNormalization: {name: block1_bn2}
  - Add: {inputs: [stem, block1_bn2]}
  - Activation: {activation: relu, name: block1}
  # Block 2, 14x14x32: stride 2, projection shortcut.
  - Conv2D: {filters: 32, kernel_size: 3, strides: 2, padding: same, use_bias: false}
  - BatchNormalization
  - Activation: {activation: relu}
  - Conv2D: {filters: 32, kernel_size: 3, padding: same, use_bias: false}
  - BatchNormalization: {name: block2_bn2}
  - Conv2D: {filters: 32, kernel_size: 1, strides: 2, use_bias: false, inputs: block1}
  - BatchNormalization: {name: block2_shortcut}
  - Add: {inputs: [block2_shortcut, block2_bn2]}
  - Activation: {activation: relu, name: block2}
  # Block 3, 7x7x64: stride 2, projection shortcut.
  - Conv2D: {filters: 64, kernel_size: 3, strides: 2, padding: same, use_bias: false}
  - BatchNormalization
  - Activation: {activation: relu}
  - Conv2D: {filters: 64, kernel_size: 3, padding: same, use_bias: false}
  - BatchNormalization: {name: block3_bn2}
  - Conv2D: {filters: 64, kernel_size: 1, strides: 2, use_bias: false, inputs: block2}
  - BatchNormalization: {name: block3_shortcut}
  - Add: {inputs: [block3_shortcut, block3_bn2]}
  - Activation: {activation: relu}
  - GlobalAveragePooling2D
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
)"}},
  };
  return entries;
}

}  // namespace

std::vector<std::string> zoo_names() {
  std::vector<std::string> names;
  for (const auto& [name, entry] : zoo()) names.push_back(name);
  return names;
}

bool is_zoo_model(const std::string& name) { return zoo().count(name) != 0; }

const std::string& zoo_description(const std::string& name) {
  auto it = zoo().find(name);
  TS_CHECK(it != zoo().end(), ErrorKind::kNotFound, "unknown model '{}'", name);
  return it->second.description;
}

ModelSpec zoo_spec(const std::string& name) {
  auto it = zoo().find(name);
  if (it == zoo().end()) {
    std::string known;
    for (const std::string& n : zoo_names()) known += (known.empty() ? "" : ", ") + n;
    throw_error(ErrorKind::kNotFound,
                fmt::format("unknown model '{}': not a zoo model ({}) nor a file", name, known));
  }
  return parse_model_spec(it->second.yaml, "zoo:" + name);
}

}  // namespace tessera::cli
