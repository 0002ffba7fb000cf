// Nest analysis of one mapping (formulas in docs/simulators/asic.md, "Access counts").
#include "tessera/sim/asic/evaluate.h"

#include <fmt/core.h>

#include <algorithm>

namespace tessera::sim {

double AsicEvaluation::dataspace_energy(int ds) const {
  double e = 0;
  for (int i = 0; i < num_levels; ++i) e += levels[i].energy_pj[ds];
  return e;
}

AsicEvaluator::AsicEvaluator(Architecture arch) : arch_(std::move(arch)) {
  arch_.validate(arch_.name);
  for (int i = 0; i < arch_.num_levels(); ++i) {
    costs_[i] = storage_costs(arch_.levels[i], arch_.technology_nm);
    area_um2_ += costs_[i].area_um2 * static_cast<double>(arch_.instances(i));
  }
  mac_pj_ = arch_mac_pj(arch_);
  area_um2_ += arch_mac_area_um2(arch_) * static_cast<double>(arch_.num_macs());
}

AsicEvaluation AsicEvaluator::evaluate(const LoopNest& nest, const Mapping& m) const {
  const int L = m.num_levels;
  AsicEvaluation e;
  e.num_levels = L;

  // tiles[i]: per-instance tile of level i (tiles[L]: one MAC); sp[i]: spatial factors of
  // level i; used[i]: instances of level i that get work (used[L]: active MACs).
  std::array<DimArray, kMaxAsicLevels + 1> tiles;
  std::array<DimArray, kMaxAsicLevels> sp;
  std::array<double, kMaxAsicLevels + 1> used;
  tiles[L] = kUnitDims;
  for (int i = L - 1; i >= 0; --i)
    for (int d = 0; d < kNumDims; ++d) {
      sp[i][d] = m.levels[i].spatial_x[d] * m.levels[i].spatial_y[d];
      tiles[i][d] = tiles[i + 1][d] * m.levels[i].temporal[d] * sp[i][d];
    }
  used[0] = 1;
  double temporal_total = 1;
  for (int i = 0; i < L; ++i) {
    double s = 1;
    for (int d = 0; d < kNumDims; ++d) {
      s *= static_cast<double>(sp[i][d]);
      temporal_total *= static_cast<double>(m.levels[i].temporal[d]);
    }
    used[i + 1] = used[i] * s;
  }

  for (int dsi = 0; dsi < kNumDataSpaces; ++dsi) {
    const DataSpace ds = static_cast<DataSpace>(dsi);
    // Product of the temporal factors at levels above `c` that are relevant to the dataspace:
    // how many distinct tiles an instance of `c` sees.
    auto relevant_above = [&](int c) {
      double r = 1;
      for (int j = 0; j < c; ++j)
        for (int d = 0; d < kNumDims; ++d)
          if (is_relevant(ds, Dim(d))) r *= static_cast<double>(m.levels[j].temporal[d]);
      return r;
    };
    // How often an instance of `c` receives a new tile: every iteration of the temporal loops
    // above it, except the innermost run of loops that do not touch the dataspace (the tile
    // stays while they iterate). The MACs keep nothing: one access per MAC.
    auto refills = [&](int c) {
      if (c == L) return temporal_total;
      double n = 1;
      bool started = false;
      for (int j = c - 1; j >= 0; --j)
        for (int o = kNumDims - 1; o >= 0; --o) {
          int d = dim_index(m.levels[j].order[o]);
          int64_t f = m.levels[j].temporal[d];
          if (f == 1) continue;
          if (!started && !is_relevant(ds, Dim(d))) continue;
          started = true;
          n *= static_cast<double>(f);
        }
      return n;
    };

    int p = 0;  // level 0 keeps everything (Architecture::validate)
    while (p < L) {
      int c = p + 1;
      while (c < L && !arch_.levels[c].keeps[dsi]) ++c;
      // The union of the tiles of the instances of `c` under one instance of `p`: one read
      // of the parent serves them all (multicast); partial sums of outputs meet on the way
      // up (spatial reduction). For inputs the union includes the halo overlap.
      DimArray span = tiles[c];
      for (int j = p; j < c; ++j)
        for (int d = 0; d < kNumDims; ++d) span[d] *= sp[j][d];
      const double span_words = static_cast<double>(nest.footprint(ds, span));
      const double n = refills(c);
      const double deliveries = used[p] * span_words * n;
      const double child_words =
          c < L ? static_cast<double>(nest.footprint(ds, tiles[c])) * n * used[c] : 0;
      AsicLevelStats& parent = e.levels[p];
      if (ds != DataSpace::kOutputs) {
        parent.reads[dsi] += deliveries;
        if (c < L) e.levels[c].fills[dsi] += child_words;
      } else {
        // Every tile of partial sums returns to the parent; all but the first visit of each
        // output also fetch the running sum back down (the first starts from zero).
        const double distinct = used[p] * span_words * relevant_above(c);
        parent.updates[dsi] += deliveries;
        parent.reads[dsi] += deliveries - distinct;
        if (c < L) {
          e.levels[c].reads[dsi] += child_words;
          e.levels[c].fills[dsi] += deliveries - distinct;
        }
      }
      p = c;
    }
  }

  const double repeat = static_cast<double>(nest.repeat);
  e.macs = static_cast<double>(nest.macs()) * repeat;
  e.compute_cycles = temporal_total;
  double cycles = temporal_total;
  for (int i = 0; i < L; ++i) {
    AsicLevelStats& s = e.levels[i];
    const StorageLevel& lvl = arch_.levels[i];
    const ComponentCosts& c = costs_[i];
    s.instances_used = static_cast<int64_t>(used[i]);
    double r = 0, w = 0;
    for (int ds = 0; ds < kNumDataSpaces; ++ds) {
      if (lvl.keeps[ds]) s.utilized_words += nest.footprint(DataSpace(ds), tiles[i]);
      r += s.reads[ds];
      w += s.fills[ds] + s.updates[ds];
      s.energy_pj[ds] = (s.reads[ds] * c.read_pj + (s.fills[ds] + s.updates[ds]) * c.write_pj);
    }
    double bound = 0;
    if (lvl.read_bandwidth > 0) bound = std::max(bound, r / used[i] / lvl.read_bandwidth);
    if (lvl.write_bandwidth > 0) bound = std::max(bound, w / used[i] / lvl.write_bandwidth);
    s.bound_cycles = bound * repeat;
    if (bound > cycles) {
      cycles = bound;
      e.bottleneck = i;
    }
    for (int ds = 0; ds < kNumDataSpaces; ++ds) {
      s.reads[ds] *= repeat;
      s.fills[ds] *= repeat;
      s.updates[ds] *= repeat;
      s.energy_pj[ds] *= repeat;
      e.energy_pj += s.energy_pj[ds];
    }
  }
  e.compute_cycles *= repeat;
  e.cycles = cycles * repeat;
  e.mac_energy_pj = e.macs * mac_pj_;
  e.energy_pj += e.mac_energy_pj;
  e.area_um2 = area_um2_;
  e.utilization = e.macs / (e.cycles * static_cast<double>(arch_.num_macs()));
  return e;
}

std::string format_asic_evaluation(const AsicEvaluation& e, const Architecture& arch) {
  std::string s = fmt::format("{:<14} {:>9} {:>14} {:>14} {:>14} {:>14} {:>12}\n", "level",
                              "dataspace", "reads", "fills", "updates", "energy pJ", "pJ/MAC");
  for (int i = 0; i < e.num_levels; ++i) {
    const AsicLevelStats& l = e.levels[i];
    for (int ds = 0; ds < kNumDataSpaces; ++ds) {
      if (!arch.levels[i].keeps[ds]) continue;
      s += fmt::format("{:<14} {:>9} {:>14.0f} {:>14.0f} {:>14.0f} {:>14.1f} {:>12.4f}\n",
                       arch.levels[i].name, dataspace_name(DataSpace(ds)), l.reads[ds],
                       l.fills[ds], l.updates[ds], l.energy_pj[ds],
                       e.macs > 0 ? l.energy_pj[ds] / e.macs : 0.0);
    }
  }
  s += fmt::format("{:<14} {:>9} {:>14} {:>14} {:>14} {:>14.1f} {:>12.4f}\n", "MAC", "", "",
                   "", "", e.mac_energy_pj, e.macs > 0 ? e.mac_energy_pj / e.macs : 0.0);
  s += fmt::format(
      "MACs {:.0f}  cycles {:.0f} (compute {:.0f}, bound by {})  utilization {:.1f} %\n"
      "energy {:.1f} pJ ({:.3f} pJ/MAC)  area {:.3f} mm^2\n",
      e.macs, e.cycles, e.compute_cycles,
      e.bottleneck < 0 ? std::string("compute") : arch.levels[e.bottleneck].name,
      100 * e.utilization, e.energy_pj, e.pj_per_mac(), e.area_um2 / 1e6);
  return s;
}

}  // namespace tessera::sim
