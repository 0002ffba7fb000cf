// `tessera advise MODEL --scenario datacenter|edge|automotive|medical`: evaluates candidate
// targets — the compare targets and a small built-in exploration of each (presets and
// precisions) — against the scenario's constraints and recommends the one that meets them
// with the best objective, saying why; or names the constraints nothing meets and the
// closest configuration (exit 1).
#include <fmt/core.h>
#include <fmt/format.h>

#include "commands.h"
#include "compare_eval.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

struct AdviseArgs {
  ModelOptions model;
  std::string scenario, targets = "cpu,gpu,tpu,fpga,asic", max_latency;
  double max_power = 0, min_accuracy = 0, min_throughput = 0;
  std::string json, html;
};

// A plain kind expands into its built-in variants; a kind with a preset stays as given.
std::vector<TargetSpec> candidates(const std::vector<TargetSpec>& targets) {
  std::vector<TargetSpec> out;
  for (const TargetSpec& t : targets) {
    if (!t.base.empty() || !t.overrides.empty() || t.kind == "cpu") {
      out.push_back(t);
      continue;
    }
    if (t.kind == "gpu") {
      out.push_back({"gpu", "", {}});  // measured when present, else the H100 model
      out.push_back({"gpu", "t4", {}});
    } else if (t.kind == "tpu") {
      out.push_back({"tpu", "tpu-v4", {}});
      out.push_back({"tpu", "tpu-v4", {{"numerics", "int8"}}});
      out.push_back({"tpu", "edge-tpu", {}});
    } else if (t.kind == "fpga") {
      out.push_back({"fpga", "xc7z020", {}});
      out.push_back({"fpga", "xc7z020", {{"precision", "ap_fixed<8,3>"}}});
      out.push_back({"fpga", "xcu250", {}});
    } else if (t.kind == "asic") {
      out.push_back({"asic", "eyeriss", {}});
      out.push_back({"asic", "edge-npu", {}});
      out.push_back({"asic", "nvdla-like", {}});
    }
  }
  return out;
}

nlohmann::json figures(const nlohmann::json& row) {
  nlohmann::json f = nlohmann::json::object();
  for (const char* k : {"accuracy", "latency_seconds", "throughput_per_second",
                        "energy_per_inference_joules", "power_watts", "area_mm2", "numerics",
                        "method", "device"})
    f[k] = row[k];
  return f;
}

void run_advise(const AdviseArgs& a) {
  // The scenario name and overrides are checked before any work.
  (void)scenario_preset(a.scenario, std::nullopt);
  double max_latency = a.max_latency.empty() ? 0 : parse_duration(a.max_latency, "--max-latency");
  std::vector<TargetSpec> specs = candidates(parse_target_list(a.targets));

  PreparedModel p = prepare_model(a.model);
  CompareContext& ctx = *p.ctx;
  Scenario s = scenario_preset(a.scenario, ctx.f32_accuracy());
  if (a.max_power > 0) set_constraint(s, {"power_watts", "<=", a.max_power, "--max-power"});
  if (max_latency > 0) set_constraint(s, {"latency_seconds", "<=", max_latency, "--max-latency"});
  if (a.min_accuracy > 0) set_constraint(s, {"accuracy", ">=", a.min_accuracy, "--min-accuracy"});
  if (a.min_throughput > 0)
    set_constraint(s, {"throughput_per_second", ">=", a.min_throughput, "--min-throughput"});
  if (!ctx.data)
    fmt::print("note: no accuracy floor ({})\n", ctx.data_note);

  std::vector<nlohmann::json> rows = evaluate_targets(specs, ctx, resolve_jobs(a.model.jobs));
  Advice advice = choose(s, rows);

  nlohmann::json report = report_skeleton(ctx, p.training);
  for (const nlohmann::json& r : rows) report["targets"].push_back(r);
  nlohmann::json constraints = nlohmann::json::array();
  for (const Constraint& c : s.constraints) constraints.push_back(constraint_json(c));
  const TargetSpec& chosen = specs[*advice.chosen];
  nlohmann::json config = chosen.overrides;
  if (!chosen.base.empty()) config["preset"] = chosen.base;
  report["advice"] = {{"scenario", s.name},
                      {"description", s.description},
                      {"constraints", constraints},
                      {"objective", s.objective},
                      {"maximize", s.maximize},
                      {"met", advice.met},
                      {"recommendation",
                       {{"target", chosen.label()},
                        {"config", config},
                        {"figures", figures(rows[*advice.chosen])}}},
                      {"reasons", advice.reasons},
                      {"unmet", advice.unmet}};

  fmt::print("\n{}\n", format_comparison(nlohmann::json(rows), ctx.batch));
  fmt::print("scenario {}: {}\nconstraints:\n", s.name, s.description);
  for (const Constraint& c : s.constraints)
    fmt::print("  {} {} {:g}  ({})\n", c.metric, c.op, c.value, c.why);
  fmt::print("objective: {} {}\n\n", s.maximize ? "highest" : "lowest", s.objective);
  if (advice.met) {
    fmt::print("recommendation: {}\n", chosen.label());
  } else {
    fmt::print("no configuration meets every constraint; closest: {}\n", chosen.label());
  }
  for (const std::string& r : advice.reasons) fmt::print("  - {}\n", r);
  std::fflush(stdout);
  write_report(report, a.json, a.html);
  if (!advice.met) {
    std::vector<std::string> missed;
    for (const nlohmann::json& u : advice.unmet)
      missed.push_back(fmt::format("{} {} {:g}", u["constraint"]["metric"].get<std::string>(),
                                   u["constraint"]["op"].get<std::string>(),
                                   u["constraint"]["value"].get<double>()));
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("advise: no candidate meets the {} constraints ({} cannot be met); "
                            "the closest configuration is {}",
                            s.name, fmt::join(missed, ", "), chosen.label()));
  }
}

}  // namespace

void add_advise_command(CLI::App& app) {
  auto a = std::make_shared<AdviseArgs>();
  CLI::App* cmd = app.add_subcommand(
      "advise",
      "Recommend a target and configuration for a scenario (datacenter, edge, automotive, "
      "medical) and say why, or which constraint cannot be met");
  add_model_options(cmd, &a->model);
  cmd->add_option("--scenario", a->scenario,
                  "datacenter (throughput, energy per inference), edge (power cap), automotive "
                  "(latency budget at batch 1), medical (accuracy floor)")
      ->required();
  cmd->add_option("--targets", a->targets,
                  "Candidate targets; a plain kind adds its built-in variants (presets, "
                  "precisions), kind:preset only that one")
      ->capture_default_str();
  cmd->add_option("--max-power", a->max_power, "Constraint: power at most W watts")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-latency", a->max_latency,
                  "Constraint: batch-1 latency at most this (2ms, 500us, seconds)");
  cmd->add_option("--min-accuracy", a->min_accuracy, "Constraint: accuracy at least (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-throughput", a->min_throughput,
                  "Constraint: samples/s at the batch at least")
      ->check(CLI::PositiveNumber);
  add_json_option(cmd, &a->json);
  cmd->add_option("--html", a->html, "Write the self-contained HTML report to FILE (atomically)")
      ->type_name("FILE");
  cmd->callback([a] { run_advise(*a); });
}

}  // namespace tessera::cli
