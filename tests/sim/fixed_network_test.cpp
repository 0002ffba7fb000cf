// The FPGA's reference arithmetic on small layers worked out by hand.
#include <gtest/gtest.h>

#include "tessera/core/error.h"
#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {
namespace {

FixedFormat fx(int w, int i, Rounding r = Rounding::kTruncate, Overflow o = Overflow::kWrap) {
  return {.width = w, .int_bits = i, .is_signed = true, .rounding = r, .overflow = o};
}

int64_t raw(double v, const FixedFormat& f) { return quantize_fixed(v, f); }

FixedLayer dense(int64_t n_in, int64_t n_out, const FixedFormat& f) {
  FixedLayer l;
  l.name = "dense";
  l.kind = FixedLayerKind::kDense;
  l.input_shape = Shape{n_in};
  l.output_shape = Shape{n_out};
  l.input = l.weight = l.bias = l.accum = l.result = f;
  return l;
}

TEST(FixedNetwork, DenseAndReluExactValues) {
  const FixedFormat f = fx(16, 6);  // ap_fixed<16,6>: 10 fractional bits
  FixedLayer d = dense(2, 2, f);
  // W = [[0.5, -1.25], [2, 0.75]], b = [0.25, -0.5]
  for (double w : {0.5, -1.25, 2.0, 0.75}) d.weights.push_back(raw(w, f));
  for (double b : {0.25, -0.5}) d.biases.push_back(raw(b, f));
  FixedLayer relu = dense(2, 2, f);
  relu.kind = FixedLayerKind::kRelu;
  relu.name = "relu";
  FixedNetwork net{.name = "t", .input = f, .layers = {d, relu}};
  // x = [1.5, -0.5]: y0 = 0.25 + 0.75 - 1 = 0; y1 = -0.5 - 1.875 - 0.375 = -2.75 -> relu 0
  std::vector<int64_t> y = net.run(net.quantize_input(std::vector<float>{1.5f, -0.5f}));
  EXPECT_EQ(y, (std::vector<int64_t>{0, 0}));
  y = net.run(net.quantize_input(std::vector<float>{1.0f, 1.0f}));  // 2.75, -1.0 -> 2.75, 0
  EXPECT_EQ(y, (std::vector<int64_t>{raw(2.75, f), 0}));
}

TEST(FixedNetwork, ProductsTruncateIntoTheAccumulatorAndOverflowWraps) {
  // x and w with 4 fractional bits, accumulator with 2: each product floors to 1/4.
  FixedLayer d = dense(2, 1, fx(8, 4));
  d.accum = fx(6, 4);  // 2 fractional bits, range [-8, 8)
  d.result = fx(6, 4);
  d.weights = {raw(0.4375, d.weight), raw(0.4375, d.weight)};  // 7/16
  FixedNetwork net{.name = "t", .input = fx(8, 4), .layers = {d}};
  // 1 * 7/16 = 0.4375 -> floor to 0.25, twice: 0.5 (the exact sum would be 0.875 -> 0.75)
  EXPECT_EQ(net.run(net.quantize_input(std::vector<float>{1.0f, 1.0f}))[0], raw(0.5, d.accum));
  // 7 * 7/16 = 3.0625 -> 3.0 each; 3 + 3 = 6: fits. 7.5 * 7/16 = 3.28125 -> 3.25; twice 6.5.
  d.weights = {raw(1.0, d.weight), raw(1.0, d.weight)};
  FixedNetwork wrap{.name = "t", .input = fx(8, 4), .layers = {d}};
  // 5 + 5 = 10 wraps in [-8, 8) to -6.
  EXPECT_EQ(wrap.run(wrap.quantize_input(std::vector<float>{5.0f, 5.0f}))[0], raw(-6.0, d.accum));
  d.accum.overflow = Overflow::kSaturate;
  FixedNetwork sat{.name = "t", .input = fx(8, 4), .layers = {d}};
  EXPECT_EQ(sat.run(sat.quantize_input(std::vector<float>{5.0f, 5.0f}))[0], raw(7.75, d.accum));
}

TEST(FixedNetwork, TooWideProductsAreAClearError) {
  FixedLayer d = dense(1, 1, fx(40, 10));
  d.weights = {0};
  FixedNetwork net{.name = "t", .input = fx(40, 10), .layers = {d}};
  try {
    net.run(std::vector<int64_t>{0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("80 bits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera::sim
