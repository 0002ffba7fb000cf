// Timeloop-style analysis of one mapping: for every storage level and dataspace the reads,
// fills and updates with temporal reuse (a tile stays while the loops just inside it that
// do not touch the dataspace iterate) and spatial reuse (one read multicast to every
// instance that needs the same data, partial sums reduced across instances on the way up);
// cycles as the larger of the compute cycles and each level's bandwidth bound; utilization;
// energy = actions x per-action energy, area per component; per-level and per-dataspace
// breakdowns. The formulas are in docs/simulators/asic.md.
//
//   AsicEvaluator ev(arch);                       // costs from the tables, once
//   Mapping m = dataflow_mapping(AsicDataflow::kRowStationary, nest, arch);
//   AsicEvaluation e = ev.evaluate(nest, m);      // no allocation: the mapper's hot path
//   fmt::print("{} cycles, {:.2f} pJ/MAC\n", e.cycles, e.pj_per_mac());
#pragma once

#include <array>
#include <string>

#include "tessera/sim/asic/architecture.h"
#include "tessera/sim/asic/energy_table.h"
#include "tessera/sim/asic/mapping.h"

namespace tessera::sim {

struct AsicLevelStats {
  // Word counts over all instances, per dataspace (weights, inputs, outputs):
  //   reads:   words read out of the level (to the level inside it or the MACs; for outputs
  //            also partial sums drained outwards)
  //   fills:   words written into it from the level outside
  //   updates: partial sums written into it from inside (outputs only)
  std::array<double, kNumDataSpaces> reads{};
  std::array<double, kNumDataSpaces> fills{};
  std::array<double, kNumDataSpaces> updates{};
  std::array<double, kNumDataSpaces> energy_pj{};  // per dataspace
  int64_t instances_used = 0;
  int64_t utilized_words = 0;  // per instance: the tiles it keeps
  double bound_cycles = 0;     // the busiest instance's accesses over its bandwidth
  double energy() const { return energy_pj[0] + energy_pj[1] + energy_pj[2]; }
  double accesses(int ds) const { return reads[ds] + fills[ds] + updates[ds]; }
};

struct AsicEvaluation {
  int num_levels = 0;
  std::array<AsicLevelStats, kMaxAsicLevels> levels{};
  double macs = 0;            // of the whole nest, repeat included
  double compute_cycles = 0;  // the temporal loop trip count, x repeat
  double cycles = 0;          // max(compute, every level's bandwidth bound), x repeat
  int bottleneck = -1;        // the level that sets the cycles; -1: compute
  double utilization = 0;     // macs / (cycles x the architecture's MACs)
  double mac_energy_pj = 0;
  double energy_pj = 0;       // MACs and every level
  double area_um2 = 0;        // MACs and every instance of every level

  double pj_per_mac() const { return macs > 0 ? energy_pj / macs : 0; }
  double seconds(double clock_hz) const { return cycles / clock_hz; }
  double edp() const { return energy_pj * cycles; }  // pJ x cycles
  double dataspace_energy(int ds) const;
};

class AsicEvaluator {
 public:
  explicit AsicEvaluator(Architecture arch);  // validates it
  const Architecture& arch() const { return arch_; }
  const ComponentCosts& costs(int level) const { return costs_[level]; }
  double mac_pj() const { return mac_pj_; }
  double area_um2() const { return area_um2_; }

  // The mapping must be valid (validate_mapping); evaluate() does not re-check it.
  AsicEvaluation evaluate(const LoopNest& nest, const Mapping& m) const;

 private:
  Architecture arch_;
  std::array<ComponentCosts, kMaxAsicLevels> costs_{};
  double mac_pj_ = 0;
  double area_um2_ = 0;
};

// A table of the per-level, per-dataspace accesses and energies, and the totals.
std::string format_asic_evaluation(const AsicEvaluation& e, const Architecture& arch);

}  // namespace tessera::sim
