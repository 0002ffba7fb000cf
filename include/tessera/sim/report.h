// SimReport: what every simulator answers — per op and in total: cycles, seconds, MACs,
// utilization, bytes read and written per memory level, energy, roofline position and
// bound — plus target-specific figures (area, FPGA resources, power) and, from the
// functional mode, the accuracy kept in the target's numerics. Printed as a table and
// written as JSON (schema: docs/simulators/report.md).
//
//   SimReport r = simulator.simulate(workload);   // totals already summed (finalize())
//   fmt::print("{}", format_report(r));
//   write_file_atomic("out.json", to_json(r).dump(2));
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/sim/workload.h"

namespace tessera::sim {

// Bytes moved at one memory level ("dram", "sram", "ifmap_sram", "weight_sram", "ofmap_sram",
// "vmem", …; each target documents its levels). Reads are by the level's consumer (the
// array reading the SRAM, the SRAM filling from DRAM counts as a DRAM read).
struct MemoryTraffic {
  std::string level;
  double read_bytes = 0;
  double write_bytes = 0;
};

enum class Bound : uint8_t { kCompute, kMemory, kNone };
const char* bound_name(Bound b);  // "compute", "memory", "-"

struct OpReport {
  std::string name;    // WorkOp::name
  std::string layer;   // WorkOp::layer
  Phase phase = Phase::kForward;
  std::string op;      // the op's name ("matmul", "conv2d", …)
  std::string unit;    // the unit that ran it: "mxu", "vector", "dma", …
  double cycles = 0;        // total, stalls included
  double stall_cycles = 0;  // cycles waiting on memory
  double seconds = 0;
  double macs = 0;
  double flops = 0;
  double utilization = 0;   // of the unit's peak over `cycles`, 0..1
  double mapping_efficiency = 0;  // matrix units: PEs holding work while mapped, 0..1
  double energy_j = 0;
  std::vector<MemoryTraffic> traffic;
  double operational_intensity = 0;  // flops per byte of the outermost level (DRAM)
  double attainable_flops = 0;       // roofline: min(peak, intensity x bandwidth), flops/s
  Bound bound = Bound::kNone;
};

// The accuracy the model keeps in the target's numerics (functional mode).
struct AccuracyReport {
  std::string numerics;          // "bf16", "int8 per-channel", "ap_fixed<16,6>", …
  std::string metric = "accuracy";
  double reference = 0;          // the f32 model on the same samples
  double target = 0;             // the model in the target's numerics
  double agreement = 0;          // fraction of samples whose top-1 prediction is unchanged
  int64_t samples = 0;
};

struct SimReport {
  std::string target;   // "tpu", "fpga", "asic", "gpu"
  std::string config;   // preset or file name
  std::string model;    // Workload::name
  bool training = false;
  int64_t batch = 1;

  // The machine, for the roofline.
  double clock_hz = 0;
  double peak_flops = 0;        // flops/s of the matrix units (a MAC is 2)
  double dram_bandwidth = 0;    // bytes/s

  std::vector<OpReport> ops;

  // Totals: sums over ops (utilization: MAC-weighted over total cycles); set by finalize().
  double cycles = 0, stall_cycles = 0, seconds = 0, macs = 0, flops = 0, energy_j = 0;
  double utilization = 0;
  double operational_intensity = 0, attainable_flops = 0;
  Bound bound = Bound::kNone;
  std::vector<MemoryTraffic> traffic;

  std::map<std::string, double> figures;  // target-specific: "area_mm2", "power_w", "dsp", …
  std::optional<AccuracyReport> accuracy;
  std::vector<std::string> notes;         // assumptions worth printing under the table

  // Sums the ops into the totals and places the whole step on the roofline.
  void finalize();
};

// Adds `from` into `into`, level by level (levels keep their first-seen order).
void add_traffic(std::vector<MemoryTraffic>& into, const std::vector<MemoryTraffic>& from);

// One row per layer (ops grouped by OpReport::layer and phase), summed.
std::vector<OpReport> layer_summary(const SimReport& r);

// The terminal table: per layer (or per op with `per_op`) and the totals.
std::string format_report(const SimReport& r, bool per_op = false);
nlohmann::json to_json(const SimReport& r);

}  // namespace tessera::sim
