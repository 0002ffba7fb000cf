// The generated Verilog against the reference arithmetic (Verilator co-simulation), Yosys
// synthesis counts, and the HLS C++ text. The Verilator and Yosys tests skip when the tools
// are absent (scripts/install-deps.sh installs them); the full sweep over every rounding and
// overflow mode and reuse factor is tests/e2e/slow/fpga_rtl_sweep_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fpga_rtl_support.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/cosim.h"
#include "tessera/sim/fpga/verilog.h"
#include "tessera/sim/fpga/yosys.h"

namespace tessera::sim {
namespace {

using testing::dense_layer;
using testing::DenseSpec;
using testing::elementwise_layer;
using testing::fx;
using testing::ufx;

std::string scratch_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera_fpga_rtl_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One network whose requantization points use every rounding and every overflow mode, an
// unsigned stage, R = 2 (Resource: weight ROM), R = n_in and R = 1 (constant weights), and a
// flatten: the one co-simulation the unit tests afford.
FixedNetwork every_mode_network(std::mt19937_64& rng) {
  using R = Rounding;
  using O = Overflow;
  FixedNetwork net;
  net.name = "every-mode";
  net.input = fx(10, 3);
  FixedLayer flat = elementwise_layer("flat", FixedLayerKind::kFlatten, 8, net.input, net.input);
  flat.input_shape = Shape{2, 4};
  net.layers.push_back(flat);
  // Each requantization point drops two or more fractional bits (ties and every rounding
  // case occur) and narrows the integer part (overflows occur).
  DenseSpec d1{.name = "fc1", .n_in = 8, .n_out = 6, .reuse = 2, .strategy = Strategy::kResource,
               .input = net.input, .weight = fx(6, 1), .bias = fx(8, 3),
               .accum = fx(12, 4, R::kHalfUp, O::kSaturate),
               .result = fx(9, 3, R::kHalfEven, O::kSaturateZero)};
  net.layers.push_back(dense_layer(d1, rng));
  const FixedFormat relu_out = ufx(8, 2, R::kTruncate, O::kSaturate);
  net.layers.push_back(elementwise_layer("relu1", FixedLayerKind::kRelu, 6, d1.result, relu_out));
  DenseSpec d2{.name = "fc2", .n_in = 6, .n_out = 5, .reuse = 6, .strategy = Strategy::kLatency,
               .input = relu_out, .weight = fx(6, 1), .bias = fx(6, 2),
               .accum = fx(10, 3, R::kHalfZero, O::kWrap),
               .result = fx(7, 2, R::kHalfAway, O::kSymmetricSaturate)};
  net.layers.push_back(dense_layer(d2, rng));
  const FixedFormat lin1_out = fx(4, 1, R::kHalfDown, O::kSaturate);
  net.layers.push_back(elementwise_layer("lin1", FixedLayerKind::kLinear, 5, d2.result, lin1_out));
  DenseSpec d3{.name = "fc3", .n_in = 5, .n_out = 4, .reuse = 1, .strategy = Strategy::kLatency,
               .input = lin1_out, .weight = ufx(6, 1), .bias = fx(6, 3),
               .accum = fx(9, 3, R::kTruncateZero, O::kSymmetricSaturate),
               .result = fx(6, 2, R::kTruncate, O::kWrap)};
  net.layers.push_back(dense_layer(d3, rng));
  net.layers.push_back(elementwise_layer("lin2", FixedLayerKind::kLinear, 4, d3.result,
                                         fx(3, 1, R::kHalfUp, O::kSaturateZero)));
  return net;
}

// The co-simulation below proves something only if its samples tell the modes apart: every
// rounding and every overflow mode is used at some requantization point of
// every_mode_network where replacing it by any other mode changes some output of the
// reference.
TEST(FpgaVerilog, EveryModeNetworkSamplesTellEveryModeApart) {
  std::mt19937_64 rng(4);
  const FixedNetwork net = every_mode_network(rng);
  const auto inputs = testing::random_inputs(net, 300, rng);
  auto outputs = [&](const FixedNetwork& n) {
    std::vector<std::vector<int64_t>> ys;
    for (const auto& x : inputs) ys.push_back(n.run(x));
    return ys;
  };
  const auto base = outputs(net);
  std::vector<bool> covered(kRoundingCount + kOverflowCount, false);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    if (net.layers[k].kind == FixedLayerKind::kFlatten) continue;
    for (bool accum : {false, true}) {
      if (accum && net.layers[k].kind != FixedLayerKind::kDense) continue;
      const FixedFormat& used = accum ? net.layers[k].accum : net.layers[k].result;
      bool rounding_apart = true, overflow_apart = true;
      for (int m = 0; m < kRoundingCount + kOverflowCount; ++m) {
        const bool rounding = m < kRoundingCount;
        FixedNetwork changed = net;
        FixedFormat& f = accum ? changed.layers[k].accum : changed.layers[k].result;
        if (rounding && static_cast<int>(f.rounding) == m) continue;
        if (!rounding && static_cast<int>(f.overflow) == m - kRoundingCount) continue;
        if (rounding) f.rounding = static_cast<Rounding>(m);
        else f.overflow = static_cast<Overflow>(m - kRoundingCount);
        if (outputs(changed) == base) (rounding ? rounding_apart : overflow_apart) = false;
      }
      if (rounding_apart) covered[static_cast<size_t>(used.rounding)] = true;
      if (overflow_apart) covered[kRoundingCount + static_cast<size_t>(used.overflow)] = true;
    }
  }
  for (size_t m = 0; m < covered.size(); ++m) EXPECT_TRUE(covered[m]) << "mode " << m;
}

TEST(FpgaVerilog, DescribesTheContractTiming) {
  std::mt19937_64 rng(1);
  const FixedNetwork net = every_mode_network(rng);
  const VerilogDesign d = describe_verilog(net);
  EXPECT_EQ(d.top, "every_mode_top");
  // flatten 0, fc1 R=2: 3, relu 1, fc2 R=6: 7, linear 1, fc3 R=1: 2
  EXPECT_EQ(d.stage_latency, (std::vector<int64_t>{0, 3, 1, 7, 1, 2, 1}));
  EXPECT_EQ(d.latency, 15);
  EXPECT_EQ(d.initiation_interval, 7);
  EXPECT_EQ(d.input_bits, 80);
  EXPECT_EQ(d.output_bits, 12);
}

TEST(FpgaVerilog, RejectsAReuseFactorThatDoesNotDivide) {
  std::mt19937_64 rng(2);
  FixedNetwork net;
  net.name = "bad";
  net.input = fx(8, 3);
  net.layers.push_back(dense_layer({.name = "fc", .n_in = 6, .n_out = 2, .reuse = 4,
                                    .input = net.input, .weight = fx(8, 3), .bias = fx(8, 3),
                                    .accum = fx(16, 6), .result = fx(8, 3)},
                                   rng));
  try {
    describe_verilog(net);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fpga layer 'fc': reuse factor 4 does not divide the "
                                         "layer's 6 inputs"),
              std::string::npos)
        << e.what();
  }
}

TEST(FpgaVerilog, WritesOneModulePerLayerAndATestbench) {
  std::mt19937_64 rng(3);
  const FixedNetwork net = every_mode_network(rng);
  const std::string dir = scratch_dir("files");
  const VerilogDesign d = write_verilog(net, dir);
  ASSERT_EQ(d.files.size(), net.layers.size() + 1);
  for (const std::string& f : d.files) EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  const std::string top = read_text(dir + "/every_mode_top.v");
  EXPECT_NE(top.find("module every_mode_top ("), std::string::npos);
  EXPECT_NE(top.find("input wire [79:0] in_data"), std::string::npos);
  const std::string fc1 = read_text(dir + "/" + d.files[1]);
  EXPECT_NE(fc1.find("reg [143:0] rom [0:1];"), std::string::npos) << fc1;  // 4 x 6 x 6 bits
  const std::string fc3 = read_text(dir + "/" + d.files[5]);
  EXPECT_NE(fc3.find("localparam [119:0] W_ALL"), std::string::npos);  // 5 x 4 x 6 bits
  EXPECT_NE(read_text(dir + "/tb.v").find("module tb;"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(FpgaVerilog, TestbenchInputsAreTheFlatBusInHex) {
  FixedNetwork net;
  net.name = "t";
  net.input = fx(4, 2);
  net.layers.push_back(elementwise_layer("lin", FixedLayerKind::kLinear, 3, net.input, net.input));
  // values 1, -1 (0xf), 5: bus 0x5f1, zero-padded to one 4096-bit word
  EXPECT_EQ(testbench_inputs(net, {{1, -1, 5}}), std::string(1021, '0') + "5f1\n");
  // A bus wider than one word: 1100 values of 4 bits = 4400 bits, two words, most
  // significant first, separated by a space.
  FixedNetwork wide = net;
  wide.layers[0] = elementwise_layer("lin", FixedLayerKind::kLinear, 1100, net.input, net.input);
  std::vector<int64_t> v(1100, 0);
  v[0] = 1;     // bit 0
  v[1099] = 7;  // bits 4396..4398: word 1, hex digit 75 from its right
  const std::string text = testbench_inputs(wide, {v});
  ASSERT_EQ(text.size(), 2 * 1024 + 2u);
  EXPECT_EQ(text[1024], ' ');
  EXPECT_EQ(text.substr(0, 1024), std::string(1024 - 76, '0') + "7" + std::string(75, '0'));
  EXPECT_EQ(text.substr(1025, 1024), std::string(1023, '0') + "1");
  EXPECT_THROW(testbench_inputs(net, {{1, -9, 5}}), Error);  // outside ap_fixed<4,2>'s raw range
  EXPECT_THROW(testbench_inputs(net, {{1, 2}}), Error);
}

TEST(FpgaCosim, EveryModeAndReuseFactorBitExactWithTheContractLatency) {
  if (!verilator_available()) GTEST_SKIP() << "verilator is not installed (scripts/install-deps.sh)";
  std::mt19937_64 rng(4);
  const FixedNetwork net = every_mode_network(rng);
  const auto inputs = testing::random_inputs(net, 300, rng);
  const std::string dir = scratch_dir("cosim");
  const CosimResult r = run_verilator(net, inputs, dir);
  ASSERT_EQ(r.outputs.size(), inputs.size());
  for (size_t s = 0; s < inputs.size(); ++s) {
    EXPECT_EQ(r.outputs[s], net.run(inputs[s])) << "sample " << s;
    EXPECT_EQ(r.latencies[s], 15) << "sample " << s;
  }
  std::filesystem::remove_all(dir);
}

// A dense 8 -> 4 layer, ap_fixed<16,6>, reuse 2 (16 multipliers) and a relu: a few seconds
// of Yosys per family.
FixedNetwork small_synth_network(Strategy strategy) {
  std::mt19937_64 rng(5);
  FixedNetwork net;
  net.name = "small";
  net.input = fx(16, 6);
  net.layers.push_back(dense_layer({.name = "fc", .n_in = 8, .n_out = 4, .reuse = 2,
                                    .strategy = strategy, .input = net.input,
                                    .weight = fx(16, 6), .bias = fx(16, 6), .accum = fx(16, 6),
                                    .result = fx(16, 6)},
                                   rng));
  net.layers.push_back(
      elementwise_layer("relu", FixedLayerKind::kRelu, 4, net.input, fx(16, 6)));
  return net;
}

TEST(FpgaYosys, ParsesTheStatCellList) {
  const std::string text = R"(
=== small_top ===

   Number of wires:                 10
   Number of cells:                 12
     CARRY4                          2
     DSP48E1                         3
     FDRE                            4
     LUT2                            1
     LUT6                            1
     RAMB18E1                        1

)";
  const SynthResult s = parse_yosys_stat(text, "xilinx");
  EXPECT_EQ(s.lut, 2);
  EXPECT_EQ(s.ff, 4);
  EXPECT_EQ(s.dsp, 3);
  EXPECT_EQ(s.bram, 1);
  EXPECT_EQ(s.bram18, 1);
  EXPECT_EQ(s.carry, 2);
  EXPECT_EQ(s.cells.size(), 6u);
  EXPECT_THROW(parse_yosys_stat("nothing", "xilinx"), Error);
}

TEST(FpgaYosys, SynthesizesASmallDesignForBothFamilies) {
  if (!yosys_available()) GTEST_SKIP() << "yosys is not installed (scripts/install-deps.sh)";
  const FixedNetwork net = small_synth_network(Strategy::kResource);
  const std::string dir = scratch_dir("yosys");
  const SynthResult x = synthesize(net, "xilinx", dir);
  EXPECT_GT(x.lut, 0);
  EXPECT_GT(x.ff, 4 * 16);  // at least the output registers
  EXPECT_GT(x.dsp, 0);
  const SynthResult e = synthesize(net, "ecp5", dir);
  EXPECT_GT(e.lut, 0);
  EXPECT_GT(e.ff, 4 * 16);
  EXPECT_GT(e.dsp, 0);
  std::printf("yosys small (8->4, R=2): xilinx %lld LUT %lld FF %lld DSP %lld BRAM18 (%.1f s); "
              "ecp5 %lld LUT %lld FF %lld DSP (%.1f s)\n",
              static_cast<long long>(x.lut), static_cast<long long>(x.ff),
              static_cast<long long>(x.dsp), static_cast<long long>(x.bram18), x.seconds,
              static_cast<long long>(e.lut), static_cast<long long>(e.ff),
              static_cast<long long>(e.dsp), e.seconds);
  EXPECT_THROW(synthesize(net, "altera", dir), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::sim
