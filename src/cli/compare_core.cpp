// Target specs, sweeps, hashes, the Pareto front and the scenario presets of advise
// (include/tessera/cli/compare.h): pure functions over strings and report rows.
#include "tessera/cli/compare.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start)));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return out;
}

std::string key_list(const std::string& kind) {
  std::string out;
  for (const auto& [k, meaning] : sweep_keys(kind))
    out += fmt::format("\n  {:<12} {}", k, meaning);
  return out;
}

std::optional<double> number(const nlohmann::json& row, const std::string& field) {
  auto it = row.find(field);
  if (it == row.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// How far `v` misses the constraint, relative to its limit (0: met).
double violation(const Constraint& c, std::optional<double> v) {
  if (!v) return 1.0;  // unknown: as bad as missing by 100 %
  double scale = std::max(std::abs(c.value), 1e-30);
  if (c.op == "<=") return std::max(0.0, (*v - c.value) / scale);
  return std::max(0.0, (c.value - *v) / scale);
}

std::string format_value(const std::string& metric, double v) {
  if (metric == "latency_seconds") {
    if (v >= 1) return fmt::format("{:.3g} s", v);
    if (v >= 1e-3) return fmt::format("{:.3g} ms", v * 1e3);
    return fmt::format("{:.3g} us", v * 1e6);
  }
  if (metric == "power_watts") return fmt::format("{:.3g} W", v);
  if (metric == "energy_per_inference_joules") {
    if (v >= 1e-3) return fmt::format("{:.3g} mJ", v * 1e3);
    if (v >= 1e-6) return fmt::format("{:.3g} uJ", v * 1e6);
    return fmt::format("{:.3g} nJ", v * 1e9);
  }
  if (metric == "accuracy") return fmt::format("{:.2f} %", v * 100);
  if (metric == "throughput_per_second") return fmt::format("{:.3g} samples/s", v);
  if (metric == "area_mm2") return fmt::format("{:.3g} mm2", v);
  return fmt::format("{:.4g}", v);
}

std::string describe(const Constraint& c) {
  return fmt::format("{} {} {}", c.metric, c.op, format_value(c.metric, c.value));
}

}  // namespace

const std::vector<std::string>& target_kinds() {
  static const std::vector<std::string> kinds = {"cpu", "gpu", "tpu", "fpga", "asic"};
  return kinds;
}

std::string TargetSpec::label() const {
  std::string s = base.empty() ? kind : kind + ":" + base;
  if (overrides.empty()) return s;
  std::string o;
  for (const auto& [k, v] : overrides) o += (o.empty() ? "" : ",") + k + "=" + v;
  return s + "[" + o + "]";
}

TargetSpec parse_target_spec(const std::string& text) {
  std::string t = trim(text);
  size_t colon = t.find(':');
  TargetSpec s;
  s.kind = t.substr(0, colon);
  if (colon != std::string::npos) s.base = t.substr(colon + 1);
  const auto& kinds = target_kinds();
  TS_CHECK(std::find(kinds.begin(), kinds.end(), s.kind) != kinds.end(),
           ErrorKind::kInvalidArgument,
           "--targets: unknown target '{}' (known: cpu, gpu[:t4|a100|h100|h200|FILE.yaml], "
           "tpu[:tpu-v1|tpu-v4|edge-tpu|FILE.yaml], fpga[:xc7z020|xczu9eg|xcu250|lfe5u-85f|"
           "FILE.yaml], asic[:eyeriss|ws-16x16|os-16x16|nvdla-like|edge-npu|FILE.yaml])",
           t);
  TS_CHECK(colon == std::string::npos || !s.base.empty(), ErrorKind::kInvalidArgument,
           "--targets: '{}' has an empty preset after ':' (give {} or {}:PRESET)", t, s.kind,
           s.kind);
  TS_CHECK(s.kind != "cpu" || s.base.empty(), ErrorKind::kInvalidArgument,
           "--targets: '{}': the cpu target is this machine's CPU and takes no preset", t);
  return s;
}

std::vector<TargetSpec> parse_target_list(const std::string& text) {
  std::vector<TargetSpec> out;
  for (const std::string& item : split(text, ',')) {
    TS_CHECK(!item.empty(), ErrorKind::kInvalidArgument,
             "--targets '{}': an empty entry (expected a comma-separated list such as "
             "cpu,gpu,tpu,fpga,asic)",
             text);
    out.push_back(parse_target_spec(item));
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>>& sweep_keys(const std::string& kind) {
  static const std::vector<std::pair<std::string, std::string>> tpu = {
      {"array", "rows x columns of each matrix unit (128x128)"},
      {"units", "matrix units working in parallel (4)"},
      {"sram", "each of the ifmap, filter and ofmap SRAMs, bytes (1MiB, 512KiB)"},
      {"ifmap_sram", "the input SRAM, bytes"},
      {"filter_sram", "the weight SRAM, bytes"},
      {"ofmap_sram", "the output SRAM, bytes"},
      {"clock", "clock (940MHz, 1.05GHz)"},
      {"dataflow", "ws, os or is"},
      {"numerics", "what the matrix units multiply: bf16 or int8"},
      {"bandwidth", "DRAM/HBM bandwidth, bytes/s (1.2e12, 600GB/s)"}};
  static const std::vector<std::pair<std::string, std::string>> fpga = {
      {"reuse", "reuse factor: multiplications per multiplier (1, 4, 16)"},
      {"precision", "the Model precision (ap_fixed<16,6>, ap_fixed<8,3>, auto<12>)"},
      {"clock", "clock (100MHz, 200MHz)"},
      {"device", "xc7z020, xczu9eg, xcu250 or lfe5u-85f"},
      {"strategy", "latency or resource"},
      {"io", "parallel or stream"}};
  static const std::vector<std::pair<std::string, std::string>> asic = {
      {"array", "the PE array, X x Y (16x16, 14x12): the largest spatial fan-out"},
      {"buffer", "the global buffer (the first on-chip level), bytes (128KiB)"},
      {"clock", "clock (200MHz, 1GHz)"},
      {"precision", "MAC precision: int8 or int16"},
      {"technology", "technology node, nm (65, 16)"}};
  static const std::vector<std::pair<std::string, std::string>> none;
  if (kind == "tpu") return tpu;
  if (kind == "fpga") return fpga;
  if (kind == "asic") return asic;
  return none;
}

std::vector<SweepAxis> parse_sweeps(const std::vector<std::string>& args,
                                    const std::string& kind) {
  const auto& keys = sweep_keys(kind);
  TS_CHECK(!keys.empty(), ErrorKind::kInvalidArgument,
           "--target '{}': explore sweeps tpu, fpga or asic designs", kind);
  TS_CHECK(!args.empty(), ErrorKind::kInvalidArgument,
           "explore: give at least one --sweep KEY=V1,V2,… ; the {} keys are:{}", kind,
           key_list(kind));
  std::vector<SweepAxis> axes;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    TS_CHECK(eq != std::string::npos, ErrorKind::kInvalidArgument,
             "--sweep '{}': expected KEY=V1,V2,… ; the {} keys are:{}", arg, kind,
             key_list(kind));
    SweepAxis axis{trim(arg.substr(0, eq)), {}};
    bool known = std::any_of(keys.begin(), keys.end(),
                             [&](const auto& k) { return k.first == axis.key; });
    TS_CHECK(known, ErrorKind::kInvalidArgument,
             "--sweep '{}': unknown {} key '{}'; the {} keys are:{}", arg, kind, axis.key, kind,
             key_list(kind));
    TS_CHECK(seen.insert(axis.key).second, ErrorKind::kInvalidArgument,
             "--sweep: key '{}' is given twice (list all its values in one --sweep)", axis.key);
    std::string values = trim(arg.substr(eq + 1));
    TS_CHECK(!values.empty(), ErrorKind::kInvalidArgument,
             "--sweep '{}': an empty sweep (expected {}=V1,V2,…)", arg, axis.key);
    // A precision such as ap_fixed<16,6> holds commas: split only outside <…>.
    std::string cur;
    int depth = 0;
    for (char c : values) {
      if (c == '<') ++depth;
      if (c == '>') --depth;
      if (c == ',' && depth == 0) {
        axis.values.push_back(trim(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    axis.values.push_back(trim(cur));
    for (const std::string& v : axis.values)
      TS_CHECK(!v.empty(), ErrorKind::kInvalidArgument,
               "--sweep '{}': an empty value in the list", arg);
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::vector<std::map<std::string, std::string>> sweep_points(const std::vector<SweepAxis>& axes) {
  std::vector<std::map<std::string, std::string>> points = {{}};
  for (const SweepAxis& axis : axes) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& p : points)
      for (const std::string& v : axis.values) {
        auto q = p;
        q[axis.key] = v;
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

uint64_t fnv1a(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::string hash_json(const nlohmann::json& j) {
  std::string s = j.dump();
  return fmt::format("{:016x}", fnv1a(s.data(), s.size()));
}

std::vector<bool> pareto_front(const std::vector<std::vector<std::optional<double>>>& points,
                               const std::vector<bool>& maximize) {
  const size_t n = points.size();
  std::vector<bool> front(n, false);
  for (size_t i = 0; i < n; ++i) {
    bool any = std::any_of(points[i].begin(), points[i].end(), [](auto& v) { return v.has_value(); });
    if (!any) continue;
    bool dominated = false;
    for (size_t j = 0; j < n && !dominated; ++j) {
      if (j == i) continue;
      bool all_as_good = true, better = false, compared = false;
      for (size_t k = 0; k < maximize.size(); ++k) {
        const auto& a = points[i][k];
        const auto& b = points[j][k];
        if (!a || !b) continue;
        compared = true;
        double d = maximize[k] ? *b - *a : *a - *b;  // > 0: j is better
        if (d < 0) all_as_good = false;
        if (d > 0) better = true;
      }
      dominated = compared && all_as_good && better;
    }
    front[i] = !dominated;
  }
  return front;
}

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = {"datacenter", "edge", "automotive", "medical"};
  return names;
}

Scenario scenario_preset(const std::string& name, std::optional<double> f32_accuracy) {
  Scenario s;
  s.name = name;
  auto accuracy_floor = [&](double points, const std::string& why) {
    if (!f32_accuracy) return;
    s.constraints.push_back({"accuracy", ">=", *f32_accuracy - points / 100,
                             fmt::format("{} (within {} point of the f32 model's {:.2f} %)", why,
                                         points, *f32_accuracy * 100)});
  };
  if (name == "datacenter") {
    s.description =
        "serving at scale: throughput per device and the cost of each inference, which at "
        "scale is mostly energy";
    s.constraints.push_back({"throughput_per_second", ">=", 1e5,
                             "serve at least 100k samples/s per device at the batch"});
    accuracy_floor(1.0, "do not trade away quality for cost");
    s.objective = "energy_per_inference_joules";
  } else if (name == "edge") {
    s.description = "a battery or passively cooled device: a power cap, then energy per inference";
    s.constraints.push_back({"power_watts", "<=", 5.0, "edge power cap (passive cooling, USB power)"});
    accuracy_floor(1.0, "keep the model's quality");
    s.objective = "energy_per_inference_joules";
  } else if (name == "automotive") {
    s.description =
        "a perception stage of autonomous driving: a hard latency budget at batch 1 inside "
        "the frame time, and an ECU power budget";
    s.constraints.push_back({"latency_seconds", "<=", 1e-3,
                             "hard real-time budget per sample at batch 1"});
    s.constraints.push_back({"power_watts", "<=", 30.0, "in-vehicle ECU power budget"});
    accuracy_floor(1.0, "safety: keep the model's quality");
    s.objective = "latency_seconds";
  } else if (name == "medical") {
    s.description =
        "diagnosis support: the answer must be as good as the f32 model's; speed matters only "
        "to stay interactive";
    accuracy_floor(0.5, "diagnostic accuracy floor");
    s.constraints.push_back({"latency_seconds", "<=", 0.1, "interactive: under 100 ms per case"});
    s.objective = "accuracy";
    s.maximize = true;
  } else {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("--scenario '{}': unknown scenario (known: {})", name,
                            fmt::join(scenario_names(), ", ")));
  }
  return s;
}

void set_constraint(Scenario& s, Constraint c) {
  for (Constraint& old : s.constraints)
    if (old.metric == c.metric) {
      old = std::move(c);
      return;
    }
  s.constraints.push_back(std::move(c));
}

nlohmann::json constraint_json(const Constraint& c) {
  return {{"metric", c.metric}, {"op", c.op}, {"value", c.value}, {"why", c.why}};
}

Advice choose(const Scenario& s, const std::vector<nlohmann::json>& rows) {
  Advice a;
  auto target = [&](size_t i) { return rows[i].value("target", std::string("?")); };
  std::vector<size_t> ok, valid;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].value("error", nlohmann::json()).is_null()) continue;
    valid.push_back(i);
    bool meets = std::all_of(s.constraints.begin(), s.constraints.end(), [&](const Constraint& c) {
      return violation(c, number(rows[i], c.metric)) == 0;
    });
    // A design that does not fit its FPGA is no candidate.
    const nlohmann::json& fpga = rows[i].value("fpga_resources", nlohmann::json());
    if (fpga.is_object() && !fpga.value("fits", true)) meets = false;
    if (meets && number(rows[i], s.objective)) ok.push_back(i);
  }
  TS_CHECK(!valid.empty(), ErrorKind::kInvalidArgument,
           "advise: every candidate failed; nothing to recommend (see the table's errors)");
  auto better = [&](size_t x, size_t y) {
    double vx = *number(rows[x], s.objective), vy = *number(rows[y], s.objective);
    return s.maximize ? vx > vy : vx < vy;
  };
  if (!ok.empty()) {
    size_t best = ok[0];
    for (size_t i : ok)
      if (better(i, best)) best = i;
    a.met = true;
    a.chosen = best;
    a.reasons.push_back(fmt::format(
        "{} of {} candidates meet every constraint; {} has the {} {} ({})", ok.size(),
        valid.size(), target(best), s.maximize ? "highest" : "lowest", s.objective,
        format_value(s.objective, *number(rows[best], s.objective))));
    // The constraint with the least slack binds the choice.
    const Constraint* binding = nullptr;
    double least = 1e300;
    for (const Constraint& c : s.constraints) {
      double v = *number(rows[best], c.metric);
      double slack = std::abs(v - c.value) / std::max(std::abs(c.value), 1e-30);
      a.reasons.push_back(fmt::format("meets {}: {} ({})", describe(c), format_value(c.metric, v),
                                      c.why));
      if (slack < least) {
        least = slack;
        binding = &c;
      }
    }
    if (binding)
      a.reasons.push_back(fmt::format("the tightest constraint is {} ({:.0f} % slack)",
                                      describe(*binding), least * 100));
    // What the choice trades: the best row on the objective regardless of constraints.
    size_t unconstrained = valid[0];
    for (size_t i : valid)
      if (number(rows[i], s.objective) &&
          (!number(rows[unconstrained], s.objective) || better(i, unconstrained)))
        unconstrained = i;
    if (unconstrained != best && number(rows[unconstrained], s.objective)) {
      std::string missed;
      for (const Constraint& c : s.constraints)
        if (violation(c, number(rows[unconstrained], c.metric)) > 0)
          missed += (missed.empty() ? "" : ", ") + describe(c);
      a.reasons.push_back(fmt::format(
          "trade-off: {} would reach {} {} but misses {}", target(unconstrained), s.objective,
          format_value(s.objective, *number(rows[unconstrained], s.objective)), missed));
    }
    for (size_t i : ok)
      if (i != best && a.reasons.size() < 9)
        a.reasons.push_back(fmt::format("also meets the constraints: {} ({} {})", target(i),
                                        s.objective,
                                        format_value(s.objective, *number(rows[i], s.objective))));
    return a;
  }
  // Nothing meets them all: the closest row, and per constraint the best any row reaches.
  size_t closest = valid[0];
  double least = 1e300;
  for (size_t i : valid) {
    double v = 0;
    for (const Constraint& c : s.constraints) v += violation(c, number(rows[i], c.metric));
    if (v < least) {
      least = v;
      closest = i;
    }
  }
  a.chosen = closest;
  for (const Constraint& c : s.constraints) {
    std::optional<double> here = number(rows[closest], c.metric);
    if (violation(c, here) == 0) continue;
    std::optional<size_t> best_row;
    for (size_t i : valid) {
      std::optional<double> v = number(rows[i], c.metric);
      if (!v) continue;
      if (!best_row || violation(c, v) < violation(c, number(rows[*best_row], c.metric)))
        best_row = i;
    }
    nlohmann::json closest_json = nullptr;
    if (best_row)
      closest_json = {{"target", target(*best_row)},
                      {"value", *number(rows[*best_row], c.metric)}};
    a.unmet.push_back({{"constraint", constraint_json(c)}, {"closest", closest_json}});
    a.reasons.push_back(fmt::format(
        "cannot meet {} ({}): the closest configuration {} has {}{}", describe(c), c.why,
        target(closest), here ? format_value(c.metric, *here) : "no figure",
        best_row && *best_row != closest
            ? fmt::format("; the best any candidate reaches is {} ({})",
                          format_value(c.metric, *number(rows[*best_row], c.metric)),
                          target(*best_row))
            : ""));
  }
  return a;
}

double parse_duration(const std::string& text, const std::string& what) {
  std::string t = trim(text);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  std::string unit(p, static_cast<size_t>(t.data() + t.size() - p));
  double scale = unit.empty() || unit == "s" ? 1 : unit == "ms" ? 1e-3 : unit == "us" ? 1e-6
                                             : unit == "ns" ? 1e-9 : -1;
  TS_CHECK(ec == std::errc() && scale > 0 && v > 0 && std::isfinite(v),
           ErrorKind::kInvalidArgument,
           "{} '{}': expected a positive time (2ms, 500us, 0.002 for seconds)", what, text);
  return v * scale;
}

}  // namespace tessera::cli
