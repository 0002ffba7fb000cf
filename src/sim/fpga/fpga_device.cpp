// The FPGA device presets. Capacities are the data sheets' (sources in each entry and in
// docs/simulators/fpga.md); clocks and power coefficients are documented assumptions.
#include "tessera/sim/fpga/fpga_device.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

std::vector<FpgaDevice> make_presets() {
  std::vector<FpgaDevice> v;
  {
    FpgaDevice d;
    d.name = "xc7z020";
    d.part = "Zynq-7020 (XC7Z020)";
    d.family = "7-series";
    d.source = "Xilinx DS190, Zynq-7000 SoC Data Sheet: Overview (programmable logic of the 7Z020)";
    d.lut_inputs = 6;
    d.luts = 53200;
    d.ffs = 106400;
    d.dsps = 220;  // DSP48E1
    d.bram_blocks = 140;
    d.dsp_a_width = 25;
    d.dsp_b_width = 18;
    d.typical_clock_hz = 100e6;
    d.static_power_w = 0.12;
    d.lut_uw_per_mhz = 0.030;
    d.ff_uw_per_mhz = 0.010;
    d.dsp_uw_per_mhz = 2.0;
    d.bram_uw_per_mhz = 20.0;
    v.push_back(d);
  }
  {
    FpgaDevice d;
    d.name = "xczu9eg";
    d.part = "Zynq UltraScale+ ZU9EG (XCZU9EG)";
    d.family = "UltraScale+";
    d.source = "Xilinx DS891, Zynq UltraScale+ MPSoC Data Sheet: Overview (ZU9EG)";
    d.lut_inputs = 6;
    d.luts = 274080;
    d.ffs = 548160;
    d.dsps = 2520;  // DSP48E2
    d.bram_blocks = 912;
    d.dsp_a_width = 27;
    d.dsp_b_width = 18;
    d.typical_clock_hz = 200e6;
    d.static_power_w = 0.6;
    d.lut_uw_per_mhz = 0.018;
    d.ff_uw_per_mhz = 0.006;
    d.dsp_uw_per_mhz = 1.2;
    d.bram_uw_per_mhz = 12.0;
    v.push_back(d);
  }
  {
    FpgaDevice d;
    d.name = "xcu250";
    d.part = "Alveo U250 (XCU250)";
    d.family = "UltraScale+";
    d.source = "Xilinx DS962, Alveo U200 and U250 Data Center Accelerator Cards Data Sheet";
    d.lut_inputs = 6;
    d.luts = 1728000;
    d.ffs = 3456000;
    d.dsps = 12288;  // DSP48E2
    d.bram_blocks = 2688;
    d.urams = 1280;
    d.dsp_a_width = 27;
    d.dsp_b_width = 18;
    d.typical_clock_hz = 300e6;
    d.static_power_w = 3.5;
    d.lut_uw_per_mhz = 0.018;
    d.ff_uw_per_mhz = 0.006;
    d.dsp_uw_per_mhz = 1.2;
    d.bram_uw_per_mhz = 12.0;
    d.uram_uw_per_mhz = 30.0;
    v.push_back(d);
  }
  {
    FpgaDevice d;
    d.name = "lfe5u-85f";
    d.part = "Lattice ECP5-85F (LFE5U-85F)";
    d.family = "ECP5";
    d.vendor = FpgaVendor::kLattice;
    d.source = "Lattice FPGA-DS-02012, ECP5 and ECP5-5G Family Data Sheet (Table 1.1, LFE5U-85)";
    d.lut_inputs = 4;
    d.luts = 83640;  // 84K LUT4; one flip-flop per LUT4 in a slice
    d.ffs = 83640;
    d.dsps = 156;         // 18x18 multipliers
    d.bram_blocks = 208;  // sysMEM EBR, 18 Kb each
    d.bram_block_bits = 18 * 1024;
    d.dsp_a_width = 18;
    d.dsp_b_width = 18;
    d.dsp_min_product_width = 0;  // synth_ecp5 sets no product threshold
    d.luts_per_lut6 = 2.0;
    d.typical_clock_hz = 100e6;
    d.static_power_w = 0.13;
    d.lut_uw_per_mhz = 0.020;
    d.ff_uw_per_mhz = 0.008;
    d.dsp_uw_per_mhz = 1.5;
    d.bram_uw_per_mhz = 10.0;
    v.push_back(d);
  }
  return v;
}

const std::vector<FpgaDevice>& presets() {
  static const std::vector<FpgaDevice> v = make_presets();
  return v;
}

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return r;
}

}  // namespace

int64_t FpgaDevice::bram_width_at_depth(int64_t depth) const {
  // Aspect ratios of one block: width x depth = bram_block_bits (parity bits counted in the
  // x9 and wider configurations, as the data sheets' capacities count them).
  const int64_t max_width = bram_block_bits == 18 * 1024 ? 36 : 72;
  int64_t width = max_width, rows = bram_block_bits / max_width;  // 512
  // 72 -> 36 -> 18 -> 9 -> 4 -> 2 -> 1 bits (the parity bits are lost below nine).
  while (rows < depth && width > 1) {
    width /= 2;
    rows *= 2;
  }
  return rows >= depth ? width : 0;
}

const FpgaDevice& fpga_device(std::string_view name) {
  std::string key = lower(name);
  if (key == "zynq-7020" || key == "7z020") key = "xc7z020";
  if (key == "zu9eg" || key == "zcu102") key = "xczu9eg";
  if (key == "u250" || key == "alveo-u250") key = "xcu250";
  if (key == "ecp5-85f" || key == "ecp5" || key == "lfe5u-85") key = "lfe5u-85f";
  for (const FpgaDevice& d : presets())
    if (d.name == key) return d;
  throw Error(ErrorKind::kNotFound,
              fmt::format("unknown FPGA device '{}'; known devices: {} (aliases zynq-7020, zu9eg, "
                          "u250, ecp5-85f)",
                          name, fmt::join(fpga_device_names(), ", ")));
}

std::vector<std::string> fpga_device_names() {
  std::vector<std::string> names;
  for (const FpgaDevice& d : presets()) names.push_back(d.name);
  return names;
}

}  // namespace tessera::sim
