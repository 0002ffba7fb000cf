// Built-in energy and area tables (45 nm) and their scaling; sources in
// docs/simulators/asic.md.
#include "tessera/sim/asic/energy_table.h"

#include <algorithm>
#include <cmath>

namespace tessera::sim {
namespace {

// Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm,
// 0.9 V: an 8 KB SRAM reads 64 bits for 10 pJ, 32 KB for 20 pJ, 1 MB for 100 pJ. Energy per
// bit grows about as the square root of the capacity (wire length across the array); the
// fit below is exact at 8 KB and 32 KB and 13 % high at 1 MB.
constexpr double kSramPjPerBit8K = 10.0 / 64;
constexpr double kSramRefBytes = 8192;
// A register file / scratchpad follows the same law; at Eyeriss' 0.5 KB filter spad it gives
// 0.6 pJ per 16-bit access, about the "RF = 1x MAC" of Chen et al. (ISCA 2016, Fig. 1).
constexpr double kMinStorageBytes = 1;
// Off-chip: DRAM (DDR3/4) 640 pJ per 32-bit read (Horowitz 2014); HBM2 3.9 pJ/bit
// (O'Connor et al., "Fine-grained DRAM", MICRO 2017).
constexpr double kDdrPjPerBit = 640.0 / 32;
constexpr double kHbm2PjPerBit = 3.9;
// Area at 45 nm: an SRAM bit cell of 0.346 um^2 (Intel 45 nm, Mistry et al., IEDM 2007) at
// 50 % array efficiency; a register-file bit as a D flip-flop (NanGate 45 nm DFF_X1,
// 4.52 um^2).
constexpr double kSramUm2PerBit = 0.346 / 0.5;
constexpr double kRegfileUm2PerBit = 4.52;

struct VddPoint {
  double nm, vdd;
};
// Nominal supply per node (our assumption from typical foundry core voltages; the factor is
// documented, not measured).
constexpr VddPoint kVdd[] = {{7, 0.7}, {16, 0.8}, {28, 0.9}, {45, 0.9}, {65, 1.0}, {90, 1.0}};

double vdd_at(double nm) {
  if (nm <= kVdd[0].nm) return kVdd[0].vdd;
  constexpr int n = sizeof(kVdd) / sizeof(kVdd[0]);
  for (int i = 1; i < n; ++i)
    if (nm <= kVdd[i].nm) {
      double t = (nm - kVdd[i - 1].nm) / (kVdd[i].nm - kVdd[i - 1].nm);
      return kVdd[i - 1].vdd + t * (kVdd[i].vdd - kVdd[i - 1].vdd);
    }
  return kVdd[n - 1].vdd;
}

}  // namespace

double energy_scale(double nm) {
  double v = vdd_at(nm) / 0.9;
  return nm / 45.0 * v * v;
}

double area_scale(double nm) { return (nm / 45.0) * (nm / 45.0); }

ComponentCosts storage_costs(const StorageLevel& level, double nm) {
  ComponentCosts c;
  const double bits = level.word_bits;
  switch (level.cls) {
    case ComponentClass::kDram: {
      double per_bit = level.dram_type == "hbm2" ? kHbm2PjPerBit : kDdrPjPerBit;
      c.read_pj = c.write_pj = per_bit * bits;
      c.area_um2 = 0;
      break;
    }
    case ComponentClass::kSram:
    case ComponentClass::kRegfile: {
      double bytes = std::max(kMinStorageBytes, level.size_words * bits / 8);
      double per_bit = kSramPjPerBit8K * std::sqrt(bytes / kSramRefBytes);
      c.read_pj = c.write_pj = per_bit * bits * energy_scale(nm);
      double um2_per_bit =
          level.cls == ComponentClass::kSram ? kSramUm2PerBit : kRegfileUm2PerBit;
      c.area_um2 = um2_per_bit * level.size_words * bits * area_scale(nm);
      break;
    }
  }
  if (level.read_pj >= 0) c.read_pj = level.read_pj;
  if (level.write_pj >= 0) c.write_pj = level.write_pj;
  if (level.area_um2 >= 0) c.area_um2 = level.area_um2;
  return c;
}

// Horowitz 2014 (45 nm): integer add 8 b 0.03 pJ / 36 um^2, 32 b 0.1 pJ / 137 um^2; integer
// multiply 8 b 0.2 pJ / 282 um^2, 32 b 3.1 pJ / 3495 um^2 (about quadratic in the width);
// f16 add 0.4 pJ / 1360 um^2, f16 multiply 1.1 pJ / 1640 um^2; f32 add 0.9 pJ / 4184 um^2,
// f32 multiply 3.7 pJ / 7700 um^2.
double mac_energy_pj(int bits, bool is_float, double nm) {
  double pj;
  if (is_float) {
    pj = bits <= 16 ? 1.1 + 0.4 : 3.7 + 0.9;
  } else {
    double w = bits / 8.0;
    pj = 0.2 * w * w + 0.1 * (2.0 * bits / 32.0);
  }
  return pj * energy_scale(nm);
}

double mac_area_um2(int bits, bool is_float, double nm) {
  double um2;
  if (is_float) {
    um2 = bits <= 16 ? 1640.0 + 1360.0 : 7700.0 + 4184.0;
  } else {
    double w = bits / 8.0;
    um2 = 282.0 * w * w + 137.0 * (2.0 * bits / 32.0);
  }
  return um2 * area_scale(nm);
}

double arch_mac_pj(const Architecture& a) {
  return a.mac_pj >= 0 ? a.mac_pj : mac_energy_pj(a.mac_bits, a.mac_float, a.technology_nm);
}

double arch_mac_area_um2(const Architecture& a) {
  return a.mac_area_um2 >= 0 ? a.mac_area_um2
                             : mac_area_um2(a.mac_bits, a.mac_float, a.technology_nm);
}

}  // namespace tessera::sim
