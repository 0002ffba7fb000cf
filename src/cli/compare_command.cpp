// `tessera compare MODEL --targets cpu,gpu,tpu,fpga,asic`: the model (trained first with
// --train) on every target — measured on this machine's CPU and GPU, modelled on a GPU that
// is not here, simulated on TPU, FPGA and ASIC — in one table, with the report as JSON and
// HTML (docs/report.md). `tessera demo` runs it on mnist-mlp with training.
#include <fmt/core.h>

#include "commands.h"
#include "compare_eval.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/error.h"

namespace tessera::cli {

std::vector<nlohmann::json> evaluate_targets(const std::vector<TargetSpec>& targets,
                                             CompareContext& ctx, int jobs) {
  std::vector<nlohmann::json> rows(targets.size());
  TaskProgress progress("evaluating targets", targets.size());
  std::vector<size_t> rest;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (empty_row(targets[i])["method"] == "measured") {
      rows[i] = evaluate_target(targets[i], ctx);
      progress.finished(targets[i].label());
    } else {
      rest.push_back(i);
    }
  }
  parallel_run(rest.size(), jobs, [&](size_t k) {
    size_t i = rest[k];
    rows[i] = evaluate_target(targets[i], ctx);
    progress.finished(targets[i].label());
  });
  return rows;
}

namespace {

struct CompareArgs {
  ModelOptions model;
  std::string targets = "cpu,gpu,tpu,fpga,asic";
  std::string json, html;
};

void run_compare(const CompareArgs& a) {
  // Bad targets fail before any training.
  std::vector<TargetSpec> targets = parse_target_list(a.targets);
  PreparedModel p = prepare_model(a.model);
  CompareContext& ctx = *p.ctx;
  ctx.all_precisions = true;
  nlohmann::json report = report_skeleton(ctx, p.training);
  std::vector<nlohmann::json> rows = evaluate_targets(targets, ctx, resolve_jobs(a.model.jobs));
  for (nlohmann::json& r : rows) report["targets"].push_back(std::move(r));
  fmt::print("\n{} ({} parameters){}\n\n", ctx.model_name,
             ctx.source->model.net().count_params(),
             ctx.data ? fmt::format(", accuracy on {} ({} test samples)", ctx.data->name,
                                    ctx.data->test.size())
                      : "");
  fmt::print("{}", format_comparison(report["targets"], ctx.batch));
  int failed = 0;
  for (const nlohmann::json& r : report["targets"]) failed += !r["error"].is_null();
  if (failed > 0) fmt::print("\n{} of {} targets failed (their rows show why)\n", failed, rows.size());
  std::fflush(stdout);
  write_report(report, a.json, a.html);
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "The model on every target: accuracy in the target's numerics, latency, throughput, "
      "energy, power, area, utilization, in one table (and JSON / HTML report)");
  add_model_options(cmd, &a->model);
  cmd->add_option("--targets", a->targets,
                  "Comma-separated: cpu, gpu[:t4|a100|h100|h200|FILE.yaml], "
                  "tpu[:tpu-v1|tpu-v4|edge-tpu|FILE.yaml], fpga[:xc7z020|xczu9eg|xcu250|"
                  "lfe5u-85f|FILE.yaml], asic[:eyeriss|ws-16x16|os-16x16|nvdla-like|edge-npu|"
                  "FILE.yaml]")
      ->capture_default_str();
  add_json_option(cmd, &a->json);
  cmd->add_option("--html", a->html, "Write the self-contained HTML report to FILE (atomically)")
      ->type_name("FILE");
  cmd->callback([a] { run_compare(*a); });
}

// `tessera demo` (what `make demo` runs): trains mnist-mlp on Fashion-MNIST on the best
// device present and compares it on cpu, gpu, tpu, fpga and asic.
void add_demo_command(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  a->model.model = "mnist-mlp";
  a->model.dataset = "fashion-mnist";
  a->model.train = true;
  a->model.epochs = 10;
  a->json = "report.json";
  a->html = "report.html";
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Train mnist-mlp on Fashion-MNIST on the best device present, then compare it on cpu, "
      "gpu, tpu, fpga and asic (report.html, report.json)");
  cmd->add_option("--epochs", a->model.epochs, "Epochs to train")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--targets", a->targets, "Targets to compare on (as tessera compare)")
      ->capture_default_str();
  cmd->add_option("--json", a->json, "Where to write the JSON report")->capture_default_str();
  cmd->add_option("--html", a->html, "Where to write the HTML report")->capture_default_str();
  add_threads_option(cmd, &a->model.threads);
  cmd->callback([a] { run_compare(*a); });
}

}  // namespace tessera::cli
