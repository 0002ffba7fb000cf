// YAML model specs (docs/model-spec.md): an input shape, a list of Keras-named layers with
// their arguments, and optionally compile settings. The built-in zoo is written in the same
// language, so a zoo model and a spec file go through one parser. Every error names the file
// and the YAML line.
//
//   ModelSpec spec = load_model_spec("mlp.yaml");
//   Model model = build_model(spec, /*seed=*/42);
//   if (spec.compile) model.compile(*spec.compile);
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/train/model.h"

namespace tessera::cli {

struct LayerSpec {
  std::string class_name;           // "Dense"
  nlohmann::json args;              // checked arguments, e.g. {"units": 64}
  std::string name;                 // empty: the model names it
  std::vector<std::string> inputs;  // layer names or "input"; empty: the previous layer
  int line = 0;                     // 1-based line in the spec
};

struct ModelSpec {
  std::string name = "model";
  Shape input_shape;  // per sample
  std::vector<LayerSpec> layers;
  std::optional<CompileConfig> compile;
  std::string source;  // file name, or "zoo:NAME"
};

// Parses spec text; `source` names it in errors ("mlp.yaml:7: ...").
ModelSpec parse_model_spec(const std::string& text, const std::string& source);
ModelSpec load_model_spec(const std::string& path);

// Builds the layer graph (weights initialized from `seed`). The result is not compiled.
Model build_model(const ModelSpec& spec, uint64_t seed);

// The built-in models (docs/cli.md): seed-mlp, mnist-mlp, ...
std::vector<std::string> zoo_names();
bool is_zoo_model(const std::string& name);
const std::string& zoo_description(const std::string& name);
ModelSpec zoo_spec(const std::string& name);  // throws Error listing the zoo when unknown

// The built-in language models, built by make_gpt (tessera/nn/gpt.h) rather than from YAML:
// gpt-tiny (GptConfig::tiny(), bytes). Their input is token ids [N, T] and their output
// logits [N, T, vocab].
std::vector<std::string> language_model_names();
bool is_language_model(const std::string& name);
const std::string& language_model_description(const std::string& name);
// Weights drawn from `seed`; not compiled (see language_model_compile_config).
Model build_language_model(const std::string& name, uint64_t seed);
// AdamW (learning rate 1e-3), sparse categorical cross-entropy on the logits
// (from_logits), accuracy: the loss is in nats per token.
CompileConfig language_model_compile_config();

}  // namespace tessera::cli
