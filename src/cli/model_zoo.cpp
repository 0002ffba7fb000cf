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
