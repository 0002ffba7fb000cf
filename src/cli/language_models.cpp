// The built-in language models (model_spec.h): GPT configurations that the YAML spec
// language does not describe, so they live beside the YAML zoo rather than in it.
#include <map>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"
#include "tessera/nn/gpt.h"

namespace tessera::cli {
namespace {

struct LanguageModel {
  std::string description;
  GptConfig config;
};

const std::map<std::string, LanguageModel>& language_models() {
  static const std::map<std::string, LanguageModel> models = {
      {"gpt-tiny",
       {"GPT over bytes: 4 layers x 4 heads, d_model 256, context 128 (train on text)",
        GptConfig::tiny()}},
  };
  return models;
}

const LanguageModel& find(const std::string& name) {
  auto it = language_models().find(name);
  if (it == language_models().end()) {
    std::string known;
    for (const std::string& n : language_model_names()) known += (known.empty() ? "" : ", ") + n;
    throw_error(ErrorKind::kNotFound,
                fmt::format("unknown language model '{}' (known: {})", name, known));
  }
  return it->second;
}

}  // namespace

std::vector<std::string> language_model_names() {
  std::vector<std::string> names;
  for (const auto& [name, model] : language_models()) names.push_back(name);
  return names;
}

bool is_language_model(const std::string& name) { return language_models().count(name) != 0; }

const std::string& language_model_description(const std::string& name) {
  return find(name).description;
}

Model build_language_model(const std::string& name, uint64_t seed) {
  const LanguageModel& m = find(name);
  // As build_model: the seed picks the initial weights, for this model only.
  struct SeedScope {
    uint64_t saved = random_seed();
    explicit SeedScope(uint64_t s) { set_random_seed(s); }
    ~SeedScope() { set_random_seed(saved); }
  } seed_scope(seed);
  return Model(make_gpt(m.config, name));
}

CompileConfig language_model_compile_config() {
  CompileConfig c;
  c.optimizer = "adamw";
  c.optimizer_options.learning_rate = 1e-3;
  c.loss = "sparse_categorical_crossentropy";
  c.loss_options.from_logits = true;
  c.metrics = {"accuracy"};
  return c;
}

}  // namespace tessera::cli
