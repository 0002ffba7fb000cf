// Per-action energy and per-component area for the ASIC simulator: built-in 45 nm figures
// from published measurements (Horowitz, ISSCC 2014; Chen et al., Eyeriss, ISCA 2016 /
// JSSC 2017), scaled to other technology nodes by documented first-order factors. Sources,
// formulas and the factors are in docs/simulators/asic.md. An Accelergy ERT/ART translates
// into the per-level overrides of StorageLevel and Architecture instead.
//
//   double f = energy_scale(16);                       // 45 nm -> 16 nm factor
//   ComponentCosts c = storage_costs(level, 28);       // pJ per word read/write, um^2
//   double mac = mac_energy_pj(16, /*is_float=*/false, 45);
#pragma once

#include "tessera/sim/asic/architecture.h"

namespace tessera::sim {

struct ComponentCosts {
  double read_pj = 0;   // per word read
  double write_pj = 0;  // per word written (fills and updates)
  double area_um2 = 0;  // per instance
};

// Dynamic energy relative to 45 nm: (L / 45) x (Vdd(L) / 0.9 V)^2, with Vdd from the table in
// the docs (65 nm 1.0 V, 45/28 nm 0.9 V, 16 nm 0.8 V, 7 nm 0.7 V; linear in between).
double energy_scale(double technology_nm);
// Area relative to 45 nm: (L / 45)^2.
double area_scale(double technology_nm);

// A storage level's costs at a node, overrides applied. DRAM energy is an interface figure
// and does not scale with the logic node; DRAM has no on-chip area.
ComponentCosts storage_costs(const StorageLevel& level, double technology_nm);
// One multiply-accumulate of `bits`-wide operands into a 2 x bits accumulator (float: an
// f16/f32 multiply and add).
double mac_energy_pj(int bits, bool is_float, double technology_nm);
double mac_area_um2(int bits, bool is_float, double technology_nm);

// The architecture's MAC costs with its overrides applied.
double arch_mac_pj(const Architecture& a);
double arch_mac_area_um2(const Architecture& a);

}  // namespace tessera::sim
