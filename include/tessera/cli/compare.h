// The model-free parts of `tessera compare`, `explore` and `advise`: target specs, sweeps
// and their cartesian product, configuration hashes for the explore cache, the Pareto
// front, and the scenarios of `advise` with the choice among evaluated candidates. They work
// on the rows of the comparison report (tessera.compare_report/1, docs/report.md), so they
// are tested without running a model.
//
//   TargetSpec t = parse_target_spec("tpu:tpu-v4");                 // kind "tpu", base "tpu-v4"
//   std::vector<SweepAxis> s = parse_sweeps({"array=64x64,128x128"}, "tpu");
//   std::vector<std::map<std::string, std::string>> points = sweep_points(s);
//   std::vector<bool> front = pareto_front(values, {false, false, true, false});
//   Advice a = choose(scenario_preset("edge", 0.87), rows);
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tessera::cli {

// The kinds of target compare knows, in the order of the default --targets.
const std::vector<std::string>& target_kinds();  // cpu, gpu, tpu, fpga, asic

// One target: its kind, the preset or config file after the colon (empty: the kind's
// default) and configuration overrides (explore's sweep keys, advise's variants).
struct TargetSpec {
  std::string kind;
  std::string base;
  std::map<std::string, std::string> overrides;
  // "tpu:tpu-v4" or "tpu:tpu-v4[array=64x64,numerics=int8]".
  std::string label() const;
};

// "cpu", "gpu[:preset|file]", "tpu[:…]", "fpga[:…]", "asic[:…]". Throws
// Error(kInvalidArgument) naming the entry and listing the kinds; cpu takes no preset.
TargetSpec parse_target_spec(const std::string& text);
// A comma-separated list; an empty list or entry is an error.
std::vector<TargetSpec> parse_target_list(const std::string& text);

// --- explore ----------------------------------------------------------------------------

// The keys a sweep may set per target kind (tpu, fpga, asic), with a one-line meaning each.
const std::vector<std::pair<std::string, std::string>>& sweep_keys(const std::string& kind);

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};
// "key=v1,v2,…" per argument. Throws Error(kInvalidArgument) for an unknown key (listing
// the kind's keys), a key given twice, a missing '=' or an empty value list or value. The
// values themselves are checked when a point is configured.
std::vector<SweepAxis> parse_sweeps(const std::vector<std::string>& args,
                                    const std::string& kind);
// The cartesian product, the last axis varying fastest.
std::vector<std::map<std::string, std::string>> sweep_points(const std::vector<SweepAxis>& axes);

// 16 hex digits of FNV-1a 64 over the JSON's compact dump (object keys are sorted).
std::string hash_json(const nlohmann::json& j);
// FNV-1a 64 over bytes, continuing from `h`.
uint64_t fnv1a(const void* data, size_t n, uint64_t h = 14695981039346656037ull);

// Objectives per point (nullopt: unknown); `maximize[i]` for objective i. A point is on
// the front when no other point is at least as good in every objective both know and
// strictly better in one; a point with every objective unknown is not. Equal points are
// both on the front.
std::vector<bool> pareto_front(const std::vector<std::vector<std::optional<double>>>& points,
                               const std::vector<bool>& maximize);

// --- advise -----------------------------------------------------------------------------

struct Constraint {
  std::string metric;  // a field of a report row: "power_watts", "latency_seconds", …
  std::string op;      // "<=" or ">="
  double value = 0;
  std::string why;
};

struct Scenario {
  std::string name;  // datacenter, edge, automotive, medical
  std::string description;
  std::vector<Constraint> constraints;
  std::string objective;  // the row field the recommendation optimizes
  bool maximize = false;
};

const std::vector<std::string>& scenario_names();
// The preset; `f32_accuracy` (the model's accuracy in f32, nullopt without data) anchors the
// accuracy floors. Throws Error(kInvalidArgument) listing the scenarios.
Scenario scenario_preset(const std::string& name, std::optional<double> f32_accuracy);
// Replaces the constraint on `metric` (or adds it).
void set_constraint(Scenario& s, Constraint c);

struct Advice {
  bool met = false;
  std::optional<size_t> chosen;  // the recommendation, or the closest row when !met
  std::vector<std::string> reasons;
  nlohmann::json unmet = nlohmann::json::array();  // [{"constraint", "closest"}]
};
// Picks among `rows` (report target rows; rows with an error are skipped): the row meeting
// every constraint with the best objective, or the closest (least summed relative
// violation) when none meets them all.
Advice choose(const Scenario& s, const std::vector<nlohmann::json>& rows);
nlohmann::json constraint_json(const Constraint& c);

// "2ms", "500us", "1.5s", "0.002" (seconds). Throws Error naming `what`.
double parse_duration(const std::string& text, const std::string& what);

}  // namespace tessera::cli
