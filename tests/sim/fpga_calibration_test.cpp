// The resource model against recorded Yosys 0.23 counts (bench/fpga_synth_sweep, see
// docs/simulators/fpga.md): rows of the sweep the model meets within 25% on LUT and DSP
// for synth_xilinx (xc7z020) and synth_ecp5 (lfe5u-85f, LUT4 + 2 per CCU2C). Rebuilds the
// sweep's designs (same generator and seeds) so no Yosys run is needed; a change to the
// model that breaks the calibration fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tessera/sim/fpga/fpga_estimate.h"

#include "../../bench/fpga_sweep_designs.h"

namespace tessera::sim {
namespace {


struct Recorded {
  fpga_sweep::Point p;
  int64_t xilinx_lut, xilinx_dsp, ecp5_lut, ecp5_dsp;  // ecp5_lut: LUT4 + 2 x CCU2C
};

void expect_within(int64_t est, int64_t yosys, const char* what, int row) {
  const double err = std::abs(static_cast<double>(est - yosys)) / static_cast<double>(yosys);
  EXPECT_LE(err, 0.25) << what << " of row " << row << ": estimate " << est << ", Yosys " << yosys;
}

TEST(FpgaCalibration, WithinTwentyFivePercentOfRecordedYosysCounts) {
  const Strategy kRes = Strategy::kResource, kLat = Strategy::kLatency;
  // Yosys 0.23, synth_xilinx -flatten / synth_ecp5 (2026-11-24, fpga_synth_sweep; the
  // 12-bit R > 1 rows with the per-pass select written as a case over the pass counter).
  const Recorded rows[] = {
      {{16, 8, 8, 1}, 1737, 101, 3266, 103},
      {{16, 8, 16, 1}, 4087, 128, 7335, 128},
      {{32, 16, 12, 1}, 11406, 506, 20566, 506},
      {{32, 16, 8, 4}, 1500, 128, 3130, 128},
      {{32, 16, 16, 16, kRes}, 1465, 32, 2531, 32},
      {{64, 32, 8, 8, kRes}, 3274, 256, 6459, 256},
      {{16, 8, 12, 16, kRes}, 370, 8, 851, 8},
      {{16, 8, 12, 1, kLat, 0, Overflow::kSaturate, Rounding::kHalfEven}, 5937, 122, 24679, 122},
      {{32, 16, 8, 4, kRes, 0, Overflow::kSaturate, Rounding::kHalfUp, 8}, 5701, 128, 23115,
       128},
      {{16, 8, 8, 1, kLat, 4}, 2108, 131, 3784, 133},
      {{16, 8, 8, 1, kLat, 0, Overflow::kSaturate}, 2313, 103, 6777, 103},
      {{16, 8, 8, 1, kLat, 0, Overflow::kWrap, Rounding::kHalfUp}, 1892, 101,
       3641, 103},
      {{16, 8, 8, 1, kLat, 0, Overflow::kWrap, Rounding::kTruncate, 8}, 1924, 103, 3348, 103},
      // Small shared-multiplier designs (compressor ahead of the carry chain; variable
      // products saturated by range comparisons).
      {{16, 8, 8, 4, kRes}, 542, 32, 977, 32},
      {{16, 8, 16, 4, kRes}, 1150, 32, 2097, 32},
      {{16, 8, 12, 4}, 837, 32, 1541, 32},
      {{32, 16, 12, 2, kRes, 8}, 7294, 320, 12525, 320},
      {{16, 8, 12, 4, kRes, 0, Overflow::kSaturate}, 1593, 32, 5465, 32},
  };
  int i = 0;
  for (const Recorded& r : rows) {
    const FixedNetwork net = fpga_sweep::sweep_design(r.p);
    const NetworkEstimate x = estimate_network(net, fpga_device("xc7z020"));
    const NetworkEstimate e = estimate_network(net, fpga_device("lfe5u-85f"));
    expect_within(x.total.lut, r.xilinx_lut, "xilinx LUT", i);
    expect_within(x.total.dsp, r.xilinx_dsp, "xilinx DSP", i);
    expect_within(e.total.lut, r.ecp5_lut, "ecp5 LUT", i);
    expect_within(e.total.dsp, r.ecp5_dsp, "ecp5 DSP", i);
    ++i;
  }
}

}  // namespace
}  // namespace tessera::sim
