// The resource model against recorded Yosys 0.23 counts (bench/fpga_synth_sweep, see
// docs/simulators/fpga.md): rows of the sweep the model meets within 25% on LUT and DSP
// for synth_xilinx (xc7z020) and synth_ecp5 (lfe5u-85f, LUT4 + 2 per CCU2C). Rebuilds the
// sweep's designs (same generator and seeds) so no Yosys run is needed; a change to the
// model that breaks the calibration fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "tessera/sim/fpga/fpga_estimate.h"

namespace tessera::sim {
namespace {

// The sweep's design generator (bench/fpga_synth_sweep.cpp), kept identical.
struct Point {
  int64_t n_in, n_out;
  int width;
  int64_t reuse;
  Strategy strategy = Strategy::kLatency;
  int64_t n_out2 = 0;
  Overflow acc_overflow = Overflow::kWrap;
  Rounding rounding = Rounding::kTruncate;
  int acc_extra = 0;  // accumulator width - data width (integer bits grow by the same)
};

FixedLayer dense_layer(int64_t n_in, int64_t n_out, const Point& p, std::mt19937_64& rng) {
  const FixedFormat f{.width = p.width, .int_bits = p.width / 2};
  FixedLayer d;
  d.name = "fc";
  d.kind = FixedLayerKind::kDense;
  d.input_shape = Shape{n_in};
  d.output_shape = Shape{n_out};
  d.input = d.weight = d.bias = f;
  d.accum = FixedFormat{.width = p.width + p.acc_extra,
                        .int_bits = p.width / 2 + p.acc_extra,
                        .rounding = p.rounding,
                        .overflow = p.acc_overflow};
  d.result = FixedFormat{.width = p.width, .int_bits = p.width / 2, .rounding = p.rounding};
  d.reuse_factor = p.reuse;
  d.strategy = p.strategy;
  const double lim = std::ldexp(1.0, p.width - 1);
  std::normal_distribution<double> w(0.0, lim / 4);
  auto draw = [&] {
    return static_cast<int64_t>(std::clamp(std::round(w(rng)), -lim, lim - 1));
  };
  for (int64_t k = 0; k < n_in * n_out; ++k) d.weights.push_back(draw());
  for (int64_t j = 0; j < n_out; ++j) d.biases.push_back(draw());
  return d;
}

FixedNetwork design(const Point& p) {
  std::mt19937_64 rng(static_cast<uint64_t>(p.n_in * 1000 + p.n_out * 10 + p.width + p.reuse));
  FixedNetwork net{.name = "cal", .input = FixedFormat{.width = p.width, .int_bits = p.width / 2},
                   .layers = {}};
  net.layers.push_back(dense_layer(p.n_in, p.n_out, p, rng));
  FixedLayer relu;
  relu.name = "relu";
  relu.kind = FixedLayerKind::kRelu;
  relu.input_shape = relu.output_shape = Shape{p.n_out};
  relu.input = relu.weight = relu.bias = relu.accum = relu.result = net.layers.back().result;
  net.layers.push_back(relu);
  if (p.n_out2 > 0) {
    Point q = p;
    q.reuse = std::gcd(p.reuse, p.n_out);
    net.layers.push_back(dense_layer(p.n_out, p.n_out2, q, rng));
  }
  return net;
}

struct Recorded {
  Point p;
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
    const FixedNetwork net = design(r.p);
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
