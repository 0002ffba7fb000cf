// `tessera explore MODEL --target tpu|fpga|asic[:preset|file] --sweep key=v1,v2,…`: the
// cartesian product of the sweeps, each point simulated (cost and accuracy in its numerics)
// on a thread pool with a progress bar, cached as JSON under --cache keyed by a hash of
// (model fingerprint, target, resolved config, batch, data) so an interrupted sweep resumes,
// and the Pareto front over latency, energy, accuracy and area marked.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "commands.h"
#include "compare_eval.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

struct ExploreArgs {
  ModelOptions model;
  std::string target;
  std::vector<std::string> sweeps;
  std::string cache = ".tessera-cache/explore";
  bool no_cache = false;
  int asic_trials = 2000;
  std::string json, html;
};

// The model's architecture and every weight: a retrained or different model never reuses
// a cached point.
std::string model_fingerprint(CompareContext& ctx) {
  Model& m = ctx.source->model;
  std::string summary = m.net().summary();
  uint64_t h = fnv1a(summary.data(), summary.size());
  for (const Tensor& w : m.get_weights()) h = fnv1a(w.raw_data(), w.nbytes(), h);
  return fmt::format("{:016x}", h);
}

std::optional<nlohmann::json> read_cache(const std::string& path, const std::string& hash) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  // A damaged or foreign file is recomputed (and overwritten), not trusted.
  if (!j.is_object() || j.value("hash", "") != hash || !j.contains("row") || !j["row"].is_object())
    return std::nullopt;
  return j["row"];
}

std::optional<double> num(const nlohmann::json& row, const char* field) {
  if (!row.contains(field) || !row[field].is_number()) return std::nullopt;
  return row[field].get<double>();
}

nlohmann::json point_json(const std::map<std::string, std::string>& config, const std::string& hash,
                          bool cached, const nlohmann::json& row) {
  nlohmann::json p = {{"config", config}, {"hash", hash}, {"cached", cached}};
  for (const char* f : {"latency_seconds", "energy_per_inference_joules", "accuracy", "area_mm2",
                        "throughput_per_second", "power_watts", "utilization", "numerics",
                        "fpga_resources", "bound"})
    p[f] = row.contains(f) ? row[f] : nlohmann::json(nullptr);
  p["pareto"] = false;
  p["error"] = row["error"];
  return p;
}

void run_explore(const ExploreArgs& a) {
  TargetSpec base = parse_target_spec(a.target);
  TS_CHECK(base.kind == "tpu" || base.kind == "fpga" || base.kind == "asic",
           ErrorKind::kInvalidArgument,
           "--target '{}': explore sweeps the designs of tpu, fpga or asic targets", a.target);
  std::vector<SweepAxis> axes = parse_sweeps(a.sweeps, base.kind);
  std::vector<std::map<std::string, std::string>> configs = sweep_points(axes);
  TS_CHECK(configs.size() <= 100000, ErrorKind::kInvalidArgument,
           "--sweep: {} points is too many (at most 100000)", configs.size());
  // Every value is checked before the model is built or trained.
  std::vector<TargetSpec> specs;
  std::vector<nlohmann::json> resolved;
  for (const auto& c : configs) {
    TargetSpec t = base;
    t.overrides = c;
    resolved.push_back(resolved_config(t));
    specs.push_back(std::move(t));
  }

  PreparedModel p = prepare_model(a.model);
  CompareContext& ctx = *p.ctx;
  ctx.asic_trials = a.asic_trials;
  const std::string fingerprint = model_fingerprint(ctx);
  nlohmann::json data_key = ctx.data ? nlohmann::json{{"name", ctx.data->name},
                                                      {"test", ctx.data->test.size()},
                                                      {"calibration", ctx.data->calibration.shape()[0]}}
                                     : nlohmann::json(nullptr);
  if (!a.no_cache) std::filesystem::create_directories(a.cache);

  const size_t n = specs.size();
  std::vector<nlohmann::json> rows(n), points(n);
  std::vector<std::string> hashes(n);
  std::vector<bool> cached(n, false);
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json key = {{"version", "tessera.explore/1"},
                          {"model", fingerprint},
                          {"target", base.kind},
                          {"config", resolved[i]},
                          {"batch", ctx.batch},
                          {"data", data_key},
                          {"asic_trials", base.kind == "asic" ? a.asic_trials : 0}};
    hashes[i] = hash_json(key);
    if (a.no_cache) continue;
    if (std::optional<nlohmann::json> row = read_cache(a.cache + "/" + hashes[i] + ".json", hashes[i])) {
      rows[i] = *row;
      cached[i] = true;
    }
  }
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i)
    if (!cached[i]) todo.push_back(i);
  fmt::print("exploring {} configurations of {} ({} cached, {} to simulate)\n", n, base.label(),
             n - todo.size(), todo.size());
  std::fflush(stdout);
  {
    TaskProgress progress("exploring", todo.size());
    parallel_run(todo.size(), resolve_jobs(a.model.jobs), [&](size_t k) {
      size_t i = todo[k];
      rows[i] = evaluate_target(specs[i], ctx);
      // Failures are not cached: they are cheap to redo and may be fixed by then.
      if (!a.no_cache && rows[i]["error"].is_null())
        write_file_atomic(a.cache + "/" + hashes[i] + ".json",
                          nlohmann::json{{"hash", hashes[i]}, {"row", rows[i]}}.dump() + "\n");
      progress.finished(specs[i].label());
    });
  }

  const std::vector<std::string> objectives = {"latency_seconds", "energy_per_inference_joules",
                                               "accuracy", "area_mm2"};
  std::vector<std::vector<std::optional<double>>> values;
  for (size_t i = 0; i < n; ++i) {
    points[i] = point_json(configs[i], hashes[i], cached[i], rows[i]);
    std::vector<std::optional<double>> v;
    for (const std::string& o : objectives)
      v.push_back(rows[i]["error"].is_null() ? num(rows[i], o.c_str()) : std::nullopt);
    values.push_back(std::move(v));
  }
  std::vector<bool> front = pareto_front(values, {false, false, true, false});

  nlohmann::json report = report_skeleton(ctx, p.training);
  nlohmann::json sweep = nlohmann::json::object();
  for (const SweepAxis& ax : axes) sweep[ax.key] = ax.values;
  nlohmann::json exploration = {{"target", base.kind},
                                {"base", base.base.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(base.base)},
                                {"sweep", sweep},
                                {"objectives", objectives},
                                {"points", nlohmann::json::array()}};
  std::vector<nlohmann::json> front_rows;
  for (size_t i = 0; i < n; ++i) {
    points[i]["pareto"] = static_cast<bool>(front[i]);
    exploration["points"].push_back(points[i]);
    if (front[i]) front_rows.push_back(rows[i]);
  }
  report["exploration"] = exploration;
  // The Pareto-optimal configurations as full rows (rooflines, layers) for the report.
  for (nlohmann::json& r : front_rows) report["targets"].push_back(std::move(r));

  fmt::print("\n{}", format_comparison(nlohmann::json(rows), ctx.batch));
  int on_front = 0, failed = 0;
  for (size_t i = 0; i < n; ++i) {
    on_front += front[i];
    failed += !rows[i]["error"].is_null();
  }
  fmt::print("\nPareto front (latency, energy, accuracy, area): {} of {} configurations\n",
             on_front, n);
  for (size_t i = 0; i < n; ++i)
    if (front[i]) fmt::print("  * {}\n", specs[i].label());
  if (failed) fmt::print("{} configurations failed (their rows show why)\n", failed);
  std::fflush(stdout);
  write_report(report, a.json, a.html);
}

}  // namespace

void add_explore_command(CLI::App& app) {
  auto a = std::make_shared<ExploreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "explore",
      "Sweep a tpu, fpga or asic design (cartesian product, in parallel, cached) and mark "
      "the Pareto front over latency, energy, accuracy and area");
  add_model_options(cmd, &a->model);
  cmd->add_option("--target", a->target,
                  "tpu[:preset|FILE.yaml], fpga[:device|FILE.yaml] or asic[:preset|FILE.yaml]: "
                  "the base design the sweeps change")
      ->required();
  cmd->add_option("--sweep", a->sweeps,
                  "KEY=V1,V2,… (repeatable). tpu: array, units, sram, ifmap_sram, filter_sram, "
                  "ofmap_sram, clock, dataflow, numerics, bandwidth; fpga: reuse, precision, "
                  "clock, device, strategy, io; asic: array, buffer, clock, precision, "
                  "technology")
      ->allow_extra_args(false);
  cmd->add_option("--cache", a->cache,
                  "Directory of cached points (one JSON per configuration hash)")
      ->capture_default_str()
      ->type_name("DIR");
  cmd->add_flag("--no-cache", a->no_cache, "Neither read nor write the cache");
  cmd->add_option("--asic-trials", a->asic_trials,
                  "ASIC: mappings the mapper samples per distinct layer")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  add_json_option(cmd, &a->json);
  cmd->add_option("--html", a->html, "Write the self-contained HTML report to FILE (atomically)")
      ->type_name("FILE");
  cmd->callback([a] { run_explore(*a); });
}

}  // namespace tessera::cli
