// Side-by-side comparison with Timeloop's recorded outputs: reads the specifications of
// several exercises of a timeloop-accelergy-exercises checkout (architecture, problem,
// mapping and the Accelergy ERT/ART Timeloop used), evaluates them with the ASIC model, and
// prints our cycles, utilization, per-level accesses and energy per component next to the
// numbers in the exercise's reference timeloop-*.stats.txt. The table and the reasons for
// every difference are in docs/simulators/asic.md.
//
//   build/bench/timeloop_compare /path/to/timeloop-accelergy-exercises
//   (or TIMELOOP_EXERCISES=/path build/bench/timeloop_compare); exits 0 and says so when
//   the checkout is absent.
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/sim/asic/evaluate.h"
#include "tessera/sim/asic/timeloop.h"

namespace fs = std::filesystem;
using namespace tessera::sim;

namespace {

struct Case {
  std::string name;
  std::string dir;  // under the tutorial's timeloop/ directory
  std::string arch, prob, map;
  std::string ref;     // reference output directory, relative to dir
  std::string prefix;  // timeloop-model or timeloop-mapper
};

// Timeloop's stats.txt: per storage level and dataspace the totals, per component the energy.
struct RefLevel {
  std::map<std::string, std::array<double, 3>> rfu;  // dataspace -> reads, fills, updates
  double energy_pj = 0;
  int64_t instances = 1;
};
struct RefStats {
  std::map<std::string, RefLevel> levels;
  std::map<std::string, double> fj_per_compute;
  double cycles = 0, utilization = 0, computes = 0;
};

double number_after(const std::string& line, char sep) {
  size_t p = line.find(sep);
  if (p == std::string::npos) return 0;
  return std::strtod(line.c_str() + p + 1, nullptr);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t b = s.find_first_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b);
}

RefStats parse_stats(const std::string& path) {
  std::ifstream in(path);
  TS_CHECK(in.good(), tessera::ErrorKind::kNotFound, "cannot open {}", path);
  RefStats s;
  std::string line, level, ds;
  bool in_levels = true, in_fj = false;
  double utilized = 1;
  std::array<double, 3> per_instance{};
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.rfind("Networks", 0) == 0 || t.rfind("Operational Intensity", 0) == 0)
      in_levels = false;
    if (in_levels && t.rfind("=== ", 0) == 0) {
      level = t.substr(4, t.size() - 8);
      ds.clear();
      continue;
    }
    if (in_levels && !level.empty()) {
      if (t.rfind("Instances ", 0) == 0 && ds.empty())
        s.levels[level].instances = static_cast<int64_t>(number_after(t, ':'));
      if (!t.empty() && t.back() == ':' && t.find(' ') == std::string::npos) {
        ds = t.substr(0, t.size() - 1);
        per_instance = {};
        utilized = 1;
      }
      if (!ds.empty()) {
        if (t.rfind("Utilized instances (max)", 0) == 0) utilized = number_after(t, ':');
        if (t.rfind("Scalar reads (per-instance)", 0) == 0) per_instance[0] = number_after(t, ':');
        if (t.rfind("Scalar fills (per-instance)", 0) == 0) per_instance[1] = number_after(t, ':');
        if (t.rfind("Scalar updates (per-instance)", 0) == 0) {
          per_instance[2] = number_after(t, ':');
          for (int k = 0; k < 3; ++k) s.levels[level].rfu[ds][k] = per_instance[k] * utilized;
        }
        if (t.rfind("Energy (total)", 0) == 0) s.levels[level].energy_pj += number_after(t, ':');
      }
    }
    if (t.rfind("Cycles:", 0) == 0) s.cycles = number_after(t, ':');
    if (t.rfind("Utilization:", 0) == 0) s.utilization = number_after(t, ':') / 100.0;
    if (t.rfind("Computes =", 0) == 0) s.computes = number_after(t, '=');
    if (t == "fJ/Compute") {
      in_fj = true;
      continue;
    }
    if (in_fj) {
      size_t eq = t.find('=');
      if (eq == std::string::npos) {
        in_fj = false;
        continue;
      }
      s.fj_per_compute[trim(t.substr(0, eq))] = number_after(t, '=');
    }
  }
  return s;
}

std::string count(double v) {
  if (v >= 1e7) return fmt::format("{:.4g}", v);
  return fmt::format("{:.0f}", v);
}

std::string ratio(double ours, double ref) {
  if (ref == 0) return ours == 0 ? "=" : "(ref 0)";
  double r = ours / ref;
  if (r > 0.9995 && r < 1.0005) return "=";
  return fmt::format("{:.3f}", r);
}

void run_case(const fs::path& base, const Case& c) {
  fs::path dir = base / c.dir;
  fs::path ref = dir / c.ref;
  std::vector<std::string> files = {(dir / c.arch).string(), (dir / c.prob).string(),
                                    (dir / c.map).string(),
                                    (ref / (c.prefix + ".ERT.yaml")).string(),
                                    (ref / (c.prefix + ".ART.yaml")).string()};
  fmt::print("\n### {}\n\n", c.name);
  TimeloopDesign d;
  try {
    d = load_timeloop_design(files);
  } catch (const tessera::Error& e) {
    fmt::print("not read: {}\n", e.what());
    return;
  }
  AsicEvaluation e = AsicEvaluator(d.arch).evaluate(d.nest, d.mapping);
  RefStats s = parse_stats((ref / (c.prefix + ".stats.txt")).string());
  fmt::print("`{}`, mapping `{}`\n\n", d.nest.str(), c.map);
  fmt::print("| metric | Timeloop | Tessera | ratio |\n|---|---|---|---|\n");
  fmt::print("| MACs | {} | {} | {} |\n", count(s.computes), count(e.macs),
             ratio(e.macs, s.computes));
  fmt::print("| cycles | {} | {} | {} |\n", count(s.cycles), count(e.cycles),
             ratio(e.cycles, s.cycles));
  fmt::print("| utilization | {:.1f}% | {:.1f}% | {} |\n", s.utilization * 100,
             e.utilization * 100, ratio(e.utilization, s.utilization));
  double macs = e.macs;
  auto fj = [&](double pj) { return pj * 1000.0 / macs; };
  std::string mac_name = d.tl.compute_name;
  fmt::print("| {} fJ/MAC | {:.2f} | {:.2f} | {} |\n", mac_name, s.fj_per_compute[mac_name],
             fj(e.mac_energy_pj), ratio(fj(e.mac_energy_pj), s.fj_per_compute[mac_name]));
  for (int i = 0; i < d.arch.num_levels(); ++i) {
    const std::string& n = d.arch.levels[i].name;
    double ref_fj = s.fj_per_compute.count(n) ? s.fj_per_compute[n] : 0;
    fmt::print("| {} fJ/MAC | {:.2f} | {:.2f} | {} |\n", n, ref_fj, fj(e.levels[i].energy()),
               ratio(fj(e.levels[i].energy()), ref_fj));
  }
  fmt::print("| total pJ/MAC | {:.3f} | {:.3f} | {} |\n", s.fj_per_compute["Total"] / 1000.0,
             e.pj_per_mac(), ratio(e.pj_per_mac(), s.fj_per_compute["Total"] / 1000.0));
  fmt::print("\n| level.dataspace | Timeloop reads / fills / updates | Tessera | |\n"
             "|---|---|---|---|\n");
  for (int i = 0; i < d.arch.num_levels(); ++i) {
    const StorageLevel& l = d.arch.levels[i];
    for (int ds = 0; ds < kNumDataSpaces; ++ds) {
      if (!l.keeps_ds(static_cast<DataSpace>(ds))) continue;
      const std::string& dn = d.problem.dataspace_names[ds];
      std::array<double, 3> r{};
      auto lv = s.levels.find(l.name);
      if (lv != s.levels.end() && lv->second.rfu.count(dn)) r = lv->second.rfu.at(dn);
      std::array<double, 3> o = {e.levels[i].reads[ds], e.levels[i].fills[ds],
                                 e.levels[i].updates[ds]};
      bool same = true;
      for (int k = 0; k < 3; ++k) same = same && ratio(o[k], r[k]) == "=";
      fmt::print("| {}.{} | {} / {} / {} | {} / {} / {} | {} |\n", l.name, dn, count(r[0]),
                 count(r[1]), count(r[2]), count(o[0]), count(o[1]), count(o[2]),
                 same ? "=" : "differs");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = argc > 1 ? argv[1] : "";
  if (root.empty()) {
    const char* env = std::getenv("TIMELOOP_EXERCISES");
    root = env ? env : "";
  }
  if (root.empty() || !fs::exists(root)) {
    fmt::print("timeloop_compare: no timeloop-accelergy-exercises checkout (pass its path or "
               "set TIMELOOP_EXERCISES); skipped\n");
    return 0;
  }
  const char* kTutorial = "tutorial_exercises/01_accelergy_timeloop_2020_ispass";
  fs::path base = fs::path(root) / "workspace" / kTutorial;
  if (!fs::exists(base)) base = fs::path(root) / kTutorial;
  if (!fs::exists(base)) {
    fmt::print("timeloop_compare: {} has no tutorial_exercises/01_accelergy_timeloop_2020_ispass; "
               "skipped\n", root);
    return 0;
  }
  const std::vector<Case> cases = {
      {"00 conv1d, 1 level", "timeloop/00-model-conv1d-1level", "arch/1level.arch.yaml",
       "prob/conv1d.prob.yaml", "map/conv1d-1level.map.yaml", "ref-output", "timeloop-model"},
      {"01 conv1d, 2 levels, output-stationary", "timeloop/01-model-conv1d-2level",
       "arch/2level.arch.yaml", "prob/conv1d.prob.yaml", "map/conv1d-2level-os.map.yaml",
       "ref-output/os", "timeloop-model"},
      {"01 conv1d, 2 levels, weight-stationary", "timeloop/01-model-conv1d-2level",
       "arch/2level.arch.yaml", "prob/conv1d.prob.yaml", "map/conv1d-2level-ws.map.yaml",
       "ref-output/ws", "timeloop-model"},
      {"02 conv1d+oc, 2 levels, untiled", "timeloop/02-model-conv1d+oc-2level",
       "arch/2level.arch.yaml", "prob/conv1d+oc.prob.yaml", "map/conv1d+oc-2level-os.map.yaml",
       "ref-output/no-tiling", "timeloop-model"},
      {"02 conv1d+oc, 2 levels, tiled", "timeloop/02-model-conv1d+oc-2level",
       "arch/2level.arch.yaml", "prob/conv1d+oc.prob.yaml",
       "map/conv1d+oc-2level-os-tiled.map.yaml", "ref-output/tiling", "timeloop-model"},
      {"03 conv1d+oc, 3 levels", "timeloop/03-model-conv1d+oc-3level", "arch/3level.arch.yaml",
       "prob/conv1d+oc.prob.yaml", "map/conv1d+oc-3level.map.yaml", "ref-output/no-bypass",
       "timeloop-model"},
      {"03 conv1d+oc, 3 levels, bypass", "timeloop/03-model-conv1d+oc-3level",
       "arch/3level.arch.yaml", "prob/conv1d+oc.prob.yaml",
       "map/conv1d+oc-3level-bypass.map.yaml", "ref-output/bypass", "timeloop-model"},
      {"04 conv1d+oc+ic, 16 PEs, C spatial", "timeloop/04-model-conv1d+oc-3levelspatial",
       "arch/3levelspatial.arch.yaml", "prob/conv1d+oc+ic.prob.yaml",
       "map/conv1d+oc+ic-3levelspatial-cp-ws.map.yaml", "ref-output/cp", "timeloop-model"},
      {"04 conv1d+oc+ic, 16 PEs, K spatial", "timeloop/04-model-conv1d+oc-3levelspatial",
       "arch/3levelspatial.arch.yaml", "prob/conv1d+oc+ic.prob.yaml",
       "map/conv1d+oc+ic-3levelspatial-kp-ws.map.yaml", "ref-output/kp", "timeloop-model"},
      {"06 Eyeriss-like, VGG02 layer 5, the mapper's best mapping",
       "timeloop/06-mapper-convlayer-eyeriss", "arch/eyeriss_like.yaml",
       "prob/VGG02_layer5.yaml", "ref-output/timeloop-mapper.map.yaml", "ref-output",
       "timeloop-mapper"},
  };
  for (const Case& c : cases) run_case(base, c);
  return 0;
}
