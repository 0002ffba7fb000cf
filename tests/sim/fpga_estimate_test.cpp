// The FPGA architecture model: timing per the hardware contract, resources of tiny layers
// worked out by hand, fits on each device preset, the simulator's report, and bad input.
#include "tessera/sim/fpga/fpga_estimate.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <random>

#include "tessera/core/error.h"
#include "tessera/sim/fpga/fpga_simulator.h"

namespace tessera::sim {
namespace {

FixedFormat fx(int w, int i, Rounding r = Rounding::kTruncate, Overflow o = Overflow::kWrap) {
  return {.width = w, .int_bits = i, .is_signed = true, .rounding = r, .overflow = o};
}

FixedLayer dense(const std::string& name, int64_t n_in, int64_t n_out, const FixedFormat& f,
                 int64_t reuse = 1, Strategy s = Strategy::kLatency, uint32_t seed = 1) {
  FixedLayer l;
  l.name = name;
  l.kind = FixedLayerKind::kDense;
  l.input_shape = Shape{n_in};
  l.output_shape = Shape{n_out};
  l.input = l.weight = l.bias = l.accum = l.result = f;
  l.reuse_factor = reuse;
  l.strategy = s;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> w(-100, 100);
  for (int64_t k = 0; k < n_in * n_out; ++k) l.weights.push_back(w(rng));
  for (int64_t j = 0; j < n_out; ++j) l.biases.push_back(w(rng));
  return l;
}

FixedLayer elementwise(const std::string& name, FixedLayerKind kind, const Shape& shape,
                       const FixedFormat& f) {
  FixedLayer l;
  l.name = name;
  l.kind = kind;
  l.input_shape = l.output_shape = shape;
  l.input = l.weight = l.bias = l.accum = l.result = f;
  return l;
}

TEST(FpgaDevice, PresetsCarryPublishedCapacities) {
  const FpgaDevice& z = fpga_device("xc7z020");
  EXPECT_EQ(z.luts, 53200);
  EXPECT_EQ(z.ffs, 106400);
  EXPECT_EQ(z.dsps, 220);
  EXPECT_EQ(z.bram_blocks, 140);
  EXPECT_EQ(fpga_device("ZU9EG").dsps, 2520);
  EXPECT_EQ(fpga_device("u250").urams, 1280);
  const FpgaDevice& e = fpga_device("ecp5-85f");
  EXPECT_EQ(e.lut_inputs, 4);
  EXPECT_EQ(e.dsps, 156);
  EXPECT_EQ(e.bram_blocks, 208);
  EXPECT_EQ(fpga_device_names().size(), 4u);
  try {
    fpga_device("xc7a35t");
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(err.what()).find("xc7z020, xczu9eg, xcu250, lfe5u-85f"),
              std::string::npos);
  }
}

TEST(FpgaDevice, BlockRamAspectRatios) {
  const FpgaDevice& x = fpga_device("xc7z020");  // 36 Kb: 512x72 … 32Kx1
  EXPECT_EQ(x.bram_width_at_depth(1), 72);
  EXPECT_EQ(x.bram_width_at_depth(512), 72);
  EXPECT_EQ(x.bram_width_at_depth(513), 36);
  EXPECT_EQ(x.bram_width_at_depth(4096), 9);
  EXPECT_EQ(x.bram_width_at_depth(8192), 4);
  EXPECT_EQ(x.bram_width_at_depth(32768), 1);
  EXPECT_EQ(x.bram_width_at_depth(32769), 0);
  const FpgaDevice& e = fpga_device("lfe5u-85f");  // 18 Kb EBR: 512x36 … 16Kx1
  EXPECT_EQ(e.bram_width_at_depth(512), 36);
  EXPECT_EQ(e.bram_width_at_depth(2048), 9);
  EXPECT_EQ(e.bram_width_at_depth(16384), 1);
}

TEST(FpgaEstimate, ConstantHelpers) {
  EXPECT_EQ(signed_bits(0), 1);
  EXPECT_EQ(signed_bits(1), 2);
  EXPECT_EQ(signed_bits(-1), 1);
  EXPECT_EQ(signed_bits(-4), 3);
  EXPECT_EQ(signed_bits(3), 3);
  EXPECT_EQ(signed_bits(127), 8);
  EXPECT_EQ(signed_bits(-128), 8);
  EXPECT_EQ(binary_nonzero_bits(91), 5);
  EXPECT_EQ(binary_nonzero_bits(-3), 2);
  EXPECT_EQ(csd_nonzero_digits(0), 0);
  EXPECT_EQ(csd_nonzero_digits(7), 2);   // 8 - 1
  EXPECT_EQ(csd_nonzero_digits(91), 4);  // 128 - 32 - 4 - 1
  EXPECT_EQ(csd_nonzero_digits(-7), 2);
  EXPECT_EQ(csd_nonzero_digits(4095), 2);
}

TEST(FpgaEstimate, LatencyAndIiFollowTheContract) {
  const FixedFormat f = fx(16, 6);
  const FpgaDevice& d = fpga_device("xc7z020");
  for (int64_t r : {1, 2, 4, 8}) {
    LayerEstimate e = estimate_layer(dense("d", 8, 3, f, r), d, IoType::kParallel);
    EXPECT_EQ(e.latency_cycles, r + 1) << "R=" << r;
    EXPECT_EQ(e.ii_cycles, r + 1);
    EXPECT_EQ(e.multipliers, 8 * 3 / r);
  }
  LayerEstimate relu =
      estimate_layer(elementwise("r", FixedLayerKind::kRelu, Shape{3}, f), d, IoType::kParallel);
  EXPECT_EQ(relu.latency_cycles, 1);
  EXPECT_EQ(relu.ii_cycles, 1);
  LayerEstimate flat =
      estimate_layer(elementwise("f", FixedLayerKind::kFlatten, Shape{3}, f), d, IoType::kParallel);
  EXPECT_EQ(flat.latency_cycles, 0);
  EXPECT_EQ(flat.res.lut + flat.res.ff, 0);

  // dense R=4 -> relu -> dense R=1 -> linear: latency 5 + 1 + 2 + 1, II max(5, 1, 2, 1).
  FixedNetwork net{
      .name = "mlp",
      .input = f,
      .layers = {dense("fc1", 8, 4, f, 4), elementwise("r1", FixedLayerKind::kRelu, Shape{4}, f),
                 dense("fc2", 4, 2, f, 1),
                 elementwise("out", FixedLayerKind::kLinear, Shape{2}, f)}};
  NetworkEstimate e = estimate_network(net, d, 100e6);
  EXPECT_EQ(e.latency_cycles, 9);
  EXPECT_EQ(e.ii_cycles, 5);
  EXPECT_DOUBLE_EQ(e.throughput_per_s, 20e6);
  EXPECT_DOUBLE_EQ(e.latency_s, 90e-9);
  EXPECT_EQ(e.cycles_for_batch(1), 9);
  EXPECT_EQ(e.cycles_for_batch(10), 9 + 9 * 5);
  EXPECT_EQ(estimate_network(net, d).clock_hz, d.typical_clock_hz);
}

// dense 4 -> 2, ap_fixed<8,3> everywhere, R = 1, weights chosen to hit every mapping.
FixedLayer hand_dense() {
  FixedLayer l = dense("hand", 4, 2, fx(8, 3));
  l.weights = {0, 1, 4, -4, 3, 5, -3, 7};
  return l;
}

TEST(FpgaEstimate, HardWiredDenseByHand) {
  LayerEstimate e = estimate_layer(hand_dense(), fpga_device("xc7z020"), IoType::kParallel);
  // 0, 1, 4: wires; -4: a negation (8 LUT); 3, 5, -3, 7: 8 x 3-4 bits >= 9 bits -> a DSP each.
  EXPECT_EQ(e.free_multipliers, 3);
  EXPECT_EQ(e.lut_multipliers, 1);
  EXPECT_EQ(e.dsp_multipliers, 4);
  EXPECT_EQ(e.res.dsp, 4);
  // The negation, plus 0.7 LUT per input bit of each DSP constant product kept in logic.
  EXPECT_EQ(e.lut_multiply, 31);  // ceil(8 + 4 x 0.7 x 8)
  // 7 chain adders (the zero weight adds nothing), wrap, truncation: each term has
  // 8 + bits(|w|) product bits less the 5 dropped fractional bits, capped at W_acc, plus one:
  // w = 1: 5; 4, -4, 5, 7: 7 each; 3, -3: 6 each.
  EXPECT_EQ(e.lut_accumulate, 5 + 4 * 7 + 2 * 6);
  EXPECT_EQ(e.lut_mux, 0);
  EXPECT_EQ(e.lut_other, 2);  // control
  EXPECT_EQ(e.res.lut, 78);
  // input 4x8 + accumulators 2x8 + result 2x8 + pass counter 1 + control 2
  EXPECT_EQ(e.res.ff, 32 + 16 + 16 + 1 + 2);
  EXPECT_EQ(e.res.bram, 0);

  // Constants as shift-add logic: 1.7 x (nonzero bits - 1, +1 when negative) x 8 bits.
  FpgaCostModel m;
  m.constant_products_in_dsp = false;
  LayerEstimate s = estimate_layer(hand_dense(), fpga_device("xc7z020"), IoType::kParallel, m);
  EXPECT_EQ(s.res.dsp, 0);
  EXPECT_EQ(s.lut_multiply, 90);  // ceil(8 + 13.6 + 13.6 + 27.2 + 27.2)

  // ECP5: LUT4 logic at twice the LUT6 count; no product-width threshold.
  LayerEstimate p = estimate_layer(hand_dense(), fpga_device("lfe5u-85f"), IoType::kParallel);
  EXPECT_EQ(p.res.dsp, 4);
  EXPECT_EQ(p.lut_multiply, 61);  // ceil(2 x 30.4)
  EXPECT_EQ(p.lut_accumulate, 90);
}

TEST(FpgaEstimate, SharedMultipliersByHand) {
  // dense 4 -> 2, R = 2: 4 multipliers of 8x8 (DSPs), weights in a 2-deep ROM of 32-bit words.
  FixedLayer l = dense("res", 4, 2, fx(8, 3), 2, Strategy::kResource);
  l.accum = fx(16, 6);
  l.result = fx(8, 3);
  LayerEstimate e = estimate_layer(l, fpga_device("xc7z020"), IoType::kParallel);
  EXPECT_EQ(e.multipliers, 4);
  EXPECT_EQ(e.res.dsp, 4);
  EXPECT_EQ(e.rom_word_bits, 32);
  EXPECT_EQ(e.rom_reads, 2);
  EXPECT_EQ(e.rom_bits, 64);
  EXPECT_EQ(e.lut_rom, 4);   // a 2-deep ROM in logic: at most 2^2 distinct bit columns
  EXPECT_EQ(e.lut_mux, 16);  // 2:1 muxes on the 2 input slots x 8 bits, shared by the outputs
  EXPECT_EQ(e.lut_accumulate, 4 * 17);
  EXPECT_EQ(e.res.lut, 4 + 16 + 68 + 2);
  EXPECT_EQ(e.res.ff, 32 + 32 + 16 + 2 + 2);
  EXPECT_EQ(e.latency_cycles, 3);

  // A rounding, saturating accumulator narrower than the product: each chain step rounds
  // (0.1 x 12), saturates the product and the sum (0.2 x 12 each) besides its 13-bit adder,
  // and the rounding ahead of the saturation costs its own adder (1.3 x 13). The product is
  // variable, so its saturation is two range comparisons over its 14 bits left after the
  // dropped fraction plus sign (2 x 15) in place of the 0.2 x 12 clamp.
  l.accum = fx(12, 4, Rounding::kHalfUp, Overflow::kSaturate);
  LayerEstimate r = estimate_layer(l, fpga_device("xc7z020"), IoType::kParallel);
  EXPECT_EQ(r.lut_accumulate, 254);  // ceil(4 x (13 + 1.2 + 2.4 + 2.4 + 16.9 + 30 - 2.4))

  // A wrapping accumulator wider than the product's significant bits: the 16-bit product
  // drops 4 of its 10 fractional bits, so each term of the fused sum is 12 bits (13-bit adder).
  l.accum = fx(16, 10);
  LayerEstimate w = estimate_layer(l, fpga_device("xc7z020"), IoType::kParallel);
  EXPECT_EQ(w.lut_accumulate, 4 * 13);

  // Four products per output and pass (8 -> 2, R = 2): more operands than a carry chain
  // takes, so each of the 8 steps' 17-bit adders pays the compressor (0.35 per bit).
  FixedLayer c = dense("wide", 8, 2, fx(8, 3), 2, Strategy::kResource);
  c.accum = fx(16, 6);
  c.result = fx(8, 3);
  LayerEstimate v = estimate_layer(c, fpga_device("xc7z020"), IoType::kParallel);
  EXPECT_EQ(v.lut_accumulate, 184);  // ceil(8 x 17 x 1.35)
}

TEST(FpgaEstimate, LargeResourceRomGoesToBlockRam) {
  FixedLayer l = dense("big", 512, 64, fx(16, 6), 4, Strategy::kResource);
  LayerEstimate e = estimate_layer(l, fpga_device("xc7z020"), IoType::kParallel);
  EXPECT_EQ(e.multipliers, 8192);
  EXPECT_EQ(e.rom_word_bits, 8192 * 16);
  EXPECT_EQ(e.res.bram, (8192 * 16 + 71) / 72);  // depth 4: 72-bit wide blocks
  EXPECT_EQ(e.res.dsp, 8192);
}

TEST(FpgaEstimate, StreamedConvolutionAndPooling) {
  const FixedFormat f = fx(8, 3);
  FixedLayer c;
  c.name = "conv";
  c.kind = FixedLayerKind::kConv2D;
  c.input_shape = Shape{8, 8, 2};
  c.output_shape = Shape{8, 8, 4};
  c.input = c.weight = c.bias = c.accum = c.result = f;
  c.kernel_h = c.kernel_w = 3;
  c.pad_top = c.pad_bottom = c.pad_left = c.pad_right = 1;
  c.reuse_factor = 2;
  c.weights.assign(3 * 3 * 2 * 4, 3);
  const FpgaDevice& d = fpga_device("xc7z020");
  LayerEstimate e = estimate_layer(c, d, IoType::kStream);
  EXPECT_EQ(e.latency_cycles, 10 * 10 * 2 + 1);  // padded pixels x R + 1
  EXPECT_EQ(e.ii_cycles, 10 * 10 * 2);
  EXPECT_EQ(e.multipliers, 18 * 4 / 2);
  EXPECT_EQ(e.rom_bits, 2 * 10 * 16);  // 2 lines of 10 pixels of 2 x 8 bits
  c.reuse_factor = 4;
  EXPECT_THROW(estimate_layer(c, d, IoType::kStream), Error);

  FixedLayer p = elementwise("pool", FixedLayerKind::kMaxPool2D, Shape{8, 8, 4}, f);
  p.output_shape = Shape{4, 4, 4};
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = 2;
  LayerEstimate q = estimate_layer(p, d, IoType::kStream);
  EXPECT_EQ(q.latency_cycles, 65);
  EXPECT_EQ(q.ii_cycles, 64);
  EXPECT_EQ(q.lut_other, 4 * 3 * 8 + 2);  // 3 comparators per channel + control
}

FixedNetwork big_network() {
  // 8192 shared 16x16 multipliers and a 1821-block ROM: fits only the U250.
  const FixedFormat f = fx(16, 6);
  return {.name = "big",
          .input = f,
          .layers = {dense("big", 512, 64, f, 4, Strategy::kResource),
                     elementwise("relu", FixedLayerKind::kRelu, Shape{64}, f)}};
}

TEST(FpgaEstimate, FitsPerDevice) {
  const FixedFormat f = fx(16, 6);
  FixedNetwork small{.name = "small", .input = f, .layers = {dense("fc", 16, 8, f, 4)}};
  for (const std::string& name : fpga_device_names()) {
    NetworkEstimate e = estimate_network(small, fpga_device(name));
    EXPECT_TRUE(e.fits) << name;
    EXPECT_NO_THROW(check_fits(e));
  }
  const FixedNetwork big = big_network();
  EXPECT_FALSE(estimate_network(big, fpga_device("xc7z020")).fits);
  EXPECT_FALSE(estimate_network(big, fpga_device("xczu9eg")).fits);
  EXPECT_FALSE(estimate_network(big, fpga_device("lfe5u-85f")).fits);
  NetworkEstimate u = estimate_network(big, fpga_device("xcu250"));
  EXPECT_TRUE(u.fits) << fmt::format("{}", fmt::join(u.overflows, "; "));
  NetworkEstimate z = estimate_network(big, fpga_device("xc7z020"));
  try {
    check_fits(z);
    FAIL();
  } catch (const Error& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("dsp: 8192 used of 220"), std::string::npos) << msg;
    EXPECT_NE(msg.find("bram: 1821 used of 140"), std::string::npos) << msg;
  }
}

TEST(FpgaSimulator, ReportTotalsAndFigures) {
  const FixedFormat f = fx(16, 6);
  FixedNetwork net{
      .name = "mlp",
      .input = f,
      .layers = {dense("fc1", 8, 4, f, 4), elementwise("r1", FixedLayerKind::kRelu, Shape{4}, f),
                 dense("fc2", 4, 2, f, 1)}};
  FpgaSimulator sim(fpga_device("xc7z020"), 100e6);
  SimReport r = sim.simulate_network(net, 10);
  ASSERT_EQ(r.ops.size(), 3u);
  EXPECT_EQ(r.target, "fpga");
  EXPECT_EQ(r.config, "xc7z020");
  // latency 5 + 1 + 2 = 8, II 5: 8 + 9 x 5 cycles, the extra ones on fc1 (the bottleneck).
  EXPECT_DOUBLE_EQ(r.cycles, 53);
  EXPECT_DOUBLE_EQ(r.ops[0].cycles, 5 + 45);
  EXPECT_DOUBLE_EQ(r.ops[1].cycles, 1);
  EXPECT_DOUBLE_EQ(r.seconds, 53 / 100e6);
  EXPECT_DOUBLE_EQ(r.macs, 10.0 * (32 + 8));
  // fc1: 8 multipliers busy 10 x 4 of the 53 cycles.
  EXPECT_DOUBLE_EQ(r.ops[0].utilization, 320.0 / (8 * 53));
  EXPECT_DOUBLE_EQ(r.figures.at("latency_cycles"), 8);
  EXPECT_DOUBLE_EQ(r.figures.at("ii_cycles"), 5);
  EXPECT_DOUBLE_EQ(r.figures.at("throughput_per_s"), 20e6);
  EXPECT_DOUBLE_EQ(r.figures.at("fits"), 1);
  NetworkEstimate e = sim.estimate(net);
  EXPECT_DOUBLE_EQ(r.figures.at("lut"), static_cast<double>(e.total.lut));
  EXPECT_DOUBLE_EQ(r.figures.at("dsp"), static_cast<double>(e.total.dsp));
  EXPECT_NEAR(r.figures.at("lut_pct"), 100.0 * e.total.lut / 53200.0, 1e-9);
  EXPECT_DOUBLE_EQ(r.figures.at("power_w"), e.static_power_w + e.dynamic_power_w);
  EXPECT_GT(e.dynamic_power_w, 0);
  EXPECT_NEAR(r.energy_j, r.figures.at("power_w") * r.seconds, 1e-15);
  // Registers: 10 samples of 8 x 16 bits in and 4 x 16 out through fc1.
  ASSERT_FALSE(r.ops[0].traffic.empty());
  EXPECT_EQ(r.ops[0].traffic[0].level, "registers");
  EXPECT_DOUBLE_EQ(r.ops[0].traffic[0].read_bytes, 10 * 8 * 2);
  EXPECT_DOUBLE_EQ(r.ops[0].traffic[0].write_bytes, 10 * 4 * 2);

  // Dynamic power scales with clock and toggle rate.
  FpgaCostModel m;
  m.toggle_rate = 0.25;
  NetworkEstimate fast = estimate_network(net, fpga_device("xc7z020"), 200e6, m);
  EXPECT_NEAR(fast.dynamic_power_w, 4 * e.dynamic_power_w, 1e-12);
}

TEST(FpgaSimulator, DoesNotFitIsReportedWithTheNumbers) {
  FpgaSimulator sim(fpga_device("xc7z020"));
  SimReport r = sim.simulate_network(big_network(), 1);
  EXPECT_DOUBLE_EQ(r.figures.at("fits"), 0);
  EXPECT_DOUBLE_EQ(r.figures.at("dsp"), 8192);
  bool noted = false;
  for (const std::string& n : r.notes)
    noted = noted || (n.starts_with("DOES NOT FIT xc7z020: ") &&
                      n.find("dsp: 8192 used of 220 (3723.6%)") != std::string::npos);
  EXPECT_TRUE(noted);
  EXPECT_THROW(check_fits(sim.estimate(big_network())), Error);
  EXPECT_GT(r.ops[0].traffic.size(), 1u);  // the weight ROM in block RAM
  EXPECT_EQ(r.ops[0].traffic[1].level, "bram");
  EXPECT_DOUBLE_EQ(r.ops[0].traffic[1].read_bytes, 4.0 * 8192 * 16 / 8);
}

TEST(FpgaSimulator, BadInput) {
  const FixedFormat f = fx(16, 6);
  FixedNetwork net{.name = "n", .input = f, .layers = {dense("fc1", 784, 10, f, 3)}};
  FpgaSimulator sim(fpga_device("xcu250"));
  try {
    sim.simulate_network(net, 1);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kInvalidArgument);
    const std::string msg = err.what();
    EXPECT_NE(msg.find("'fc1'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("reuse factor 3 does not divide n_in = 784"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1, 2, 4, 7, 8"), std::string::npos) << msg;
  }
  net.layers[0].reuse_factor = 0;
  EXPECT_THROW(sim.simulate_network(net, 1), Error);
  net.layers[0].reuse_factor = 1;
  net.layers[0].weights.pop_back();
  EXPECT_THROW(sim.simulate_network(net, 1), Error);
  EXPECT_THROW(sim.simulate_network(FixedNetwork{.name = "empty"}, 1), Error);

  Workload w;
  w.name = "mlp";
  try {
    sim.simulate(w);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::kUnsupported);
  }
  EXPECT_EQ(sim.target(), "fpga");
  EXPECT_EQ(make_fpga_simulator("")->config_name(), "xc7z020");
  EXPECT_EQ(make_fpga_simulator("u250")->config_name(), "xcu250");
}

}  // namespace
}  // namespace tessera::sim
