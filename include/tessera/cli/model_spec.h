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

#include "tessera/nn/gpt.h"
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
  DType input_dtype = kF32;  // `input_dtype: int32` for token ids (Embedding)
  std::vector<LayerSpec> layers;
  // `gpt: {...}` instead of input_shape and layers: the model is make_gpt(*gpt).
  std::optional<GptConfig> gpt;
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

}  // namespace tessera::cli
