// FPGA device presets: the published capacities of the parts the FPGA target costs designs
// for (LUTs, flip-flops, DSP slices, block RAM, UltraRAM), the DSP multiplier geometry that
// decides how multiplications map, a typical clock, and rough power coefficients
// (XPE-style, documented in docs/simulators/fpga.md with the data sheets).
//
//   const FpgaDevice& d = fpga_device("xc7z020");
//   fmt::print("{} has {} LUT{}s and {} DSPs\n", d.part, d.luts, d.lut_inputs, d.dsps);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::sim {

enum class FpgaVendor : uint8_t { kXilinx, kLattice };

struct FpgaDevice {
  std::string name;    // preset key: "xc7z020"
  std::string part;    // "Zynq-7020 (XC7Z020)"
  std::string family;  // "7-series", "UltraScale+", "ECP5"
  FpgaVendor vendor = FpgaVendor::kXilinx;
  std::string source;  // the data sheet the capacities come from

  // Capacities.
  int lut_inputs = 6;  // LUT6 (Xilinx) or LUT4 (ECP5)
  int64_t luts = 0;
  int64_t ffs = 0;
  int64_t dsps = 0;         // DSP48E1 / DSP48E2 slices; ECP5: 18x18 multipliers
  int64_t bram_blocks = 0;  // 36 Kb blocks (Xilinx) or 18 Kb EBR (ECP5)
  int64_t bram_block_bits = 36 * 1024;
  int64_t urams = 0;  // 288 Kb UltraRAM blocks
  int64_t uram_block_bits = 288 * 1024;

  // One DSP's signed multiplier: A x B bits (25x18 DSP48E1, 27x18 DSP48E2, 18x18 ECP5).
  int dsp_a_width = 25;
  int dsp_b_width = 18;
  // Yosys' DSP inference (mul2dsp in synth_xilinx / synth_ecp5): a product goes to DSPs when
  // both operands have at least this many bits and the product at least dsp_min_product_width.
  int dsp_min_operand_width = 2;
  int dsp_min_product_width = 9;
  // Logic in this device's LUTs per LUT6 of the same logic (1 for Xilinx; ~2 for LUT4).
  double luts_per_lut6 = 1.0;

  double typical_clock_hz = 100e6;

  // Power: static (device leakage, typical junction temperature) and dynamic microwatts per
  // MHz per used resource at the reference toggle rate (FpgaCostModel::reference_toggle).
  double static_power_w = 0;
  double lut_uw_per_mhz = 0;
  double ff_uw_per_mhz = 0;
  double dsp_uw_per_mhz = 0;
  double bram_uw_per_mhz = 0;  // per block, enabled every cycle
  double uram_uw_per_mhz = 0;

  // The block RAM's widest word at a depth: 36 Kb blocks are 512x72 … 32Kx1, ECP5's 18 Kb
  // EBR 512x36 … 16Kx1. Returns 0 when `depth` is deeper than one block.
  int64_t bram_width_at_depth(int64_t depth) const;
};

// A preset by name ("xc7z020", "xczu9eg", "xcu250", "lfe5u-85f"; aliases "zynq-7020",
// "zu9eg", "u250", "ecp5-85f"); case-insensitive. Throws Error(kNotFound) listing the names.
const FpgaDevice& fpga_device(std::string_view name);
std::vector<std::string> fpga_device_names();  // the preset keys

}  // namespace tessera::sim
