// `tessera summary MODEL|CHECKPOINT`: the Keras-style layer table, and for a checkpoint its
// epoch and compile settings.
#include <fmt/core.h>

#include "commands.h"
#include "tessera/cli/model_spec.h"
#include "tessera/cli/sources.h"

namespace tessera::cli {
namespace {

struct SummaryArgs {
  std::string model, json;
  bool list = false;
};

void run_summary(const SummaryArgs& a) {
  if (a.list || a.model.empty()) {
    fmt::print("Built-in models:\n");
    for (const std::string& n : zoo_names()) fmt::print("  {:<14} {}\n", n, zoo_description(n));
    return;
  }
  ModelSource m = open_model(a.model, 0, {});
  fmt::print("{}", m.model.summary());
  nlohmann::json j = {{"command", "summary"},
                      {"model", m.name},
                      {"kind", m.kind},
                      {"params", m.model.net().count_params()},
                      {"trainable_params", m.model.net().count_trainable_params()},
                      {"architecture", m.model.net().to_json()}};
  if (m.kind == "checkpoint") {
    fmt::print("Checkpoint: epoch {}", m.model.epoch());
    j["epoch"] = m.model.epoch();
    if (m.compile) {
      fmt::print(", {} (learning rate {}), loss {}", m.compile->optimizer,
                 m.compile->optimizer_options.learning_rate, m.compile->loss);
      j["optimizer"] = m.compile->optimizer;
      j["loss"] = m.compile->loss;
    }
    fmt::print("\n");
  }
  write_json(a.json, j);
}

}  // namespace

void add_summary_command(CLI::App& app) {
  auto a = std::make_shared<SummaryArgs>();
  CLI::App* cmd =
      app.add_subcommand("summary", "Print a model's layers, output shapes and parameter counts");
  cmd->add_option("MODEL", a->model, "Zoo model, YAML spec, checkpoint or ONNX file (none: list the zoo)");
  cmd->add_flag("--list", a->list, "List the built-in models");
  add_json_option(cmd, &a->json);
  cmd->callback([a] { run_summary(*a); });
}

}  // namespace tessera::cli
