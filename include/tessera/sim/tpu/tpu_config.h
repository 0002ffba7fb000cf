// A TPU-like accelerator: matrix units (systolic arrays), their SRAMs, a vector unit, a clock
// and the DRAM/HBM link, plus the energy of each action and the numerics the matrix units
// compute in. Built-in presets come from published figures (docs/simulators/tpu.md cites
// them); YAML files describe other designs, starting from a preset or from scratch.
//
//   TpuConfig c = tpu_preset("tpu-v4");
//   TpuConfig mine = load_tpu_config("configs/tpu/my_array.yaml");  // errors name file:line
//   double peak = c.peak_flops();  // 4 MXUs x 128 x 128 x 2 x 1.05 GHz
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tessera/sim/tpu/systolic.h"

namespace tessera::sim {

enum class Fidelity : uint8_t { kCycle, kAnalytic };
const char* fidelity_name(Fidelity f);  // "cycle", "analytic"
Fidelity parse_fidelity(std::string_view text, std::string_view where);

struct TpuConfig {
  std::string name = "custom";
  std::string source;          // where the figures come from (a paper, a file)
  int64_t matrix_units = 1;    // MXUs working in parallel, each `array`
  SystolicArray array;         // one MXU: shape, dataflow, SRAMs (per MXU), word sizes
  std::string numerics = "bf16";  // what the MXUs multiply: "bf16" or "int8"
  double clock_hz = 1e9;
  double dram_bandwidth = 100e9;  // bytes/s, shared by the MXUs and the vector unit
  std::string dram_name = "dram"; // "ddr3", "hbm2", "host (PCIe)", for the table
  // The vector unit: f32 lanes (operations per cycle) for elementwise work, and how many
  // cycles a transcendental (exp, tanh, …) takes per lane.
  int64_t vector_lanes = 1024;
  double transcendental_cycles = 4;
  // On-chip memory the vector unit and the data movement work in (bytes); work whose data
  // does not fit streams it from DRAM.
  int64_t vector_memory_bytes = 16 << 20;
  bool training = true;  // false: an inference part (tpu-v1, edge TPU) refuses training steps
  // Energy of each action, picojoules, and the static power (W) drawn while running.
  double mac_pj = 1.0;
  double sram_byte_pj = 1.0;
  double dram_byte_pj = 30.0;
  double vector_op_pj = 1.0;
  double static_power_w = 0.0;
  Fidelity fidelity = Fidelity::kCycle;

  double peak_macs_per_cycle() const {
    return static_cast<double>(matrix_units * array.rows * array.cols);
  }
  double peak_flops() const { return 2.0 * peak_macs_per_cycle() * clock_hz; }
  // Throws Error naming `where` and the field when a size is zero or negative.
  void validate(std::string_view where) const;
};

// "tpu-v1", "tpu-v4", "edge-tpu". Throws Error(kNotFound) listing the presets.
TpuConfig tpu_preset(std::string_view name);
std::vector<std::string> tpu_preset_names();

// A YAML file (schema in docs/simulators/tpu.md). Unknown keys, wrong types and
// non-positive sizes are errors naming the file, line and field.
TpuConfig parse_tpu_config(const std::string& text, const std::string& source);
TpuConfig load_tpu_config(const std::string& path);

}  // namespace tessera::sim
