// Synthesis of the generated Verilog with Yosys for real resource counts: `synth_xilinx`
// (7-series cells: LUT1…LUT6, FD*, CARRY4, DSP48E1, RAMB18E1/RAMB36E1) or `synth_ecp5`
// (LUT4, TRELLIS_FF, CCU2C, MULT18X18D, DP16KD), then `stat`. No placement or routing:
// the counts are what the synthesizer maps to, before any packing into slices.
//
//   SynthResult s = synthesize(net, "xilinx", "out/synth");
//   fmt::print("{} LUT, {} FF, {} DSP\n", s.lut, s.ff, s.dsp);
//
// Throws Error(kNotFound) when yosys is not installed (scripts/install-deps.sh installs it),
// Error(kInvalidArgument) for an unknown family, Error(kIo) with the log's tail when Yosys
// fails.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {

struct SynthResult {
  std::string family;  // "xilinx" | "ecp5"
  std::string top;
  int64_t lut = 0;     // xilinx: LUT1…LUT6 summed; ecp5: LUT4
  int64_t ff = 0;      // xilinx: FDRE/FDSE/FDCE/FDPE; ecp5: TRELLIS_FF
  int64_t dsp = 0;     // xilinx: DSP48E1; ecp5: MULT18X18D (+ ALU54B)
  int64_t bram = 0;    // xilinx: RAMB36E1 + RAMB18E1 cells; ecp5: DP16KD
  int64_t bram18 = 0;  // xilinx: in 18 Kb units (RAMB36E1 = 2); ecp5: DP16KD
  int64_t carry = 0;   // xilinx: CARRY4; ecp5: CCU2C
  int64_t lutram = 0;  // xilinx: RAM*M / RAM*S cells; ecp5: TRELLIS_DPR16X4
  std::map<std::string, int64_t> cells;  // every cell type and its count
  double seconds = 0;                    // Yosys wall time
  std::string log_path;                  // the full Yosys log
};

// True when `yosys` is on PATH.
bool yosys_available();

// Writes the design into work_dir/rtl and synthesizes its top module for `family`.
SynthResult synthesize(const FixedNetwork& net, const std::string& family,
                       const std::string& work_dir);

// The cell counts of a Yosys `stat` report (the last one in `text`), summed into the
// fields for `family`. Exposed for tests.
SynthResult parse_yosys_stat(const std::string& text, const std::string& family);

}  // namespace tessera::sim
