// The hls4ml-shaped FPGA config, hls4ml's accum inference, building mnist-mlp into a
// FixedNetwork and its fixed-point accuracy against f32.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>

#include "tessera/core/error.h"
#include "tessera/data/loaders.h"
#include "tessera/nn/conv_layers.h"
#include "tessera/nn/layers.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/train/model.h"

namespace tessera::sim {
namespace {

TEST(FpgaConfig, ParsesTheHls4mlShape) {
  const FpgaConfig c = parse_fpga_config(R"(
Model: {Precision: ap_fixed<16,6>, ReuseFactor: 2, Strategy: Latency}
IOType: io_stream
LayerName:
  dense:
    Precision: {weight: ap_fixed<8,3>, bias: ap_fixed<8,3>, accum: auto,
                result: ap_fixed<16,6,AP_RND,AP_SAT>}
    ReuseFactor: 4
    Strategy: Resource
  dense_1: {Precision: ap_fixed<12,4>}
Device: xczu9eg
ClockPeriod: 4
)",
                                         "t.yaml");
  EXPECT_EQ(c.reuse_factor, 2);
  EXPECT_EQ(c.io, IoType::kStream);
  EXPECT_EQ(c.device, "xczu9eg");
  EXPECT_EQ(c.clock_period_ns, 4.0);
  EXPECT_EQ(c.layers.at("dense").reuse_factor, 4);
  EXPECT_EQ(c.layers.at("dense").strategy, Strategy::kResource);
  EXPECT_EQ(precision_spec_string(c.precision_of("dense", "weight")), "ap_fixed<8,3>");
  EXPECT_EQ(c.precision_of("dense", "accum").kind, PrecisionSpec::Kind::kAuto);
  EXPECT_EQ(precision_spec_string(c.precision_of("dense", "result")), "ap_fixed<16,6,AP_RND,AP_SAT>");
  EXPECT_EQ(precision_spec_string(c.precision_of("dense_1", "accum")), "ap_fixed<12,4>");
  EXPECT_EQ(precision_spec_string(c.precision_of("other", "bias")), "ap_fixed<16,6>");
}

void expect_config_error(const std::string& yaml, const std::string& needle) {
  try {
    parse_fpga_config(yaml, "bad.yaml");
    ADD_FAILURE() << "no error for " << yaml;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(FpgaConfig, ErrorsNameTheFileLineAndField) {
  expect_config_error("Model: {Precision: ap_fixed<4,6>}", "bad.yaml:1: 'Model Precision'");
  expect_config_error("Model: {Precision: ap_fixed<4,6>}", "W = 4 is less than I = 6");
  expect_config_error("Model: {ReuseFactor: 0}", "bad.yaml:1");
  expect_config_error("Model: {Strategy: Fast}", "Latency or Resource");
  expect_config_error("IOType: io_serial", "io_parallel or io_stream");
  expect_config_error("\nLayerName:\n  d: {Precision: {wieght: ap_fixed<8,3>}}", "bad.yaml:3");
  expect_config_error("Backend: Vivado", "Backend");
  expect_config_error("Model: {Precision: auto}", "nothing to infer from");
}

TEST(FpgaConfig, AutoAccumFollowsHls4mlInference) {
  const FixedFormat f16{.width = 16, .int_bits = 6};
  // products 32 bits (12 integer) + ceil(log2 784) = 10; a bias adds one integer bit.
  EXPECT_EQ(infer_dense_accum(f16, f16, f16, 784, true), (FixedFormat{.width = 43, .int_bits = 23}));
  EXPECT_EQ(infer_dense_accum(f16, f16, f16, 784, false), (FixedFormat{.width = 42, .int_bits = 22}));
  const FixedFormat w8{.width = 8, .int_bits = 3}, u8{.width = 8, .int_bits = 1, .is_signed = false};
  // an unsigned input: signed products; bias ap_ufixed<8,1> gets a sign bit: max(4+6+…)
  EXPECT_EQ(infer_dense_accum(u8, w8, u8, 10, true), (FixedFormat{.width = 21, .int_bits = 9}));
  EXPECT_THROW(infer_dense_accum(FixedFormat{.width = 40, .int_bits = 6}, f16, f16, 784, true), Error);
}

Sequential mnist_mlp() {
  Sequential m({Flatten("flatten"), Dense(256, {.activation = "relu", .name = "hidden1"}),
                Dense(128, {.activation = "relu", .name = "hidden2"}),
                Dense(10, {.activation = "softmax", .name = "logits"})},
               "mnist-mlp", 1);
  m.build(Shape{28, 28});
  return m;
}

Tensor random_images(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n * 784));
  uint64_t s = seed;
  for (float& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = (s >> 40) % 3 == 0 ? 0.0f : static_cast<float>((s >> 33) % 256) / 255.0f;
  }
  return Tensor::from_vector(v, {n, 28, 28});
}

TEST(FpgaBuild, MnistMlpConvertsWithFormatsReuseAndAutoAccum) {
  Sequential m = mnist_mlp();
  const FpgaConfig c = parse_fpga_config(
      "Model: {Precision: ap_fixed<16,6>}\nLayerName:\n  hidden1: {ReuseFactor: 4, Precision: "
      "{accum: auto}}\n",
      "t.yaml");
  const FixedNetwork net = build_fixed_network(m.predict_graph(), c, nullptr);
  ASSERT_EQ(net.layers.size(), 6u);  // flatten, dense, relu, dense, relu, dense (softmax dropped)
  EXPECT_EQ(net.layers[0].kind, FixedLayerKind::kFlatten);
  EXPECT_EQ(net.layers[1].name, "hidden1");
  EXPECT_EQ(net.layers[1].reuse_factor, 4);
  EXPECT_EQ(net.layers[1].accum, (FixedFormat{.width = 43, .int_bits = 23}));
  EXPECT_EQ(net.layers[1].result, (FixedFormat{.width = 16, .int_bits = 6}));  // Model's
  EXPECT_EQ(net.layers[2].name, "hidden1_relu");
  EXPECT_EQ(net.layers[2].kind, FixedLayerKind::kRelu);
  EXPECT_EQ(net.layers[5].name, "logits");
  EXPECT_EQ(net.layers[5].weights.size(), 1280u);
  ASSERT_FALSE(net.notes.empty());
  EXPECT_NE(net.notes[0].find("softmax"), std::string::npos);
  // Fast == reference on the built network.
  FixedEvaluator ev(net);
  const Tensor x = random_images(20, 3);
  const std::vector<float> xv = x.to_f32_vector();
  for (int64_t s = 0; s < 20; ++s) {
    const std::vector<int64_t> in =
        net.quantize_input(std::span<const float>(xv.data() + s * 784, 784));
    ASSERT_EQ(ev.run(in), net.run(in)) << "sample " << s;
  }
}

TEST(FpgaBuild, ErrorsNameTheLayerAndNumbers) {
  Sequential m = mnist_mlp();
  try {
    build_fixed_network(m.predict_graph(),
                        parse_fpga_config("LayerName: {hidden2: {ReuseFactor: 3}}", "r.yaml"), nullptr);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'hidden2': ReuseFactor 3 does not divide n_in = 256"),
              std::string::npos)
        << e.what();
  }
  Sequential g({Dense(8, {.activation = "gelu", .input_shape = Shape{4}, .name = "a"})}, "g", 1);
  g.build(Shape{4});
  try {
    build_fixed_network(g.predict_graph(), FpgaConfig{}, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("gelu"), std::string::npos) << e.what();
  }
  // Profiling without calibration data.
  EXPECT_THROW(build_fixed_network(m.predict_graph(),
                                   parse_fpga_config("Model: {Precision: auto<16>}", "p.yaml"), nullptr),
               Error);
}

TEST(FpgaBuild, ProfiledPrecisionChoosesIntegerBitsFromCalibration) {
  Sequential m = mnist_mlp();
  const Tensor calib = random_images(16, 5);
  const FixedNetwork net = build_fixed_network(
      m.predict_graph(), parse_fpga_config("Model: {Precision: auto<16>}", "p.yaml"), &calib);
  EXPECT_EQ(net.input.width, 16);
  EXPECT_EQ(net.input.int_bits, 2);  // inputs in [0, 1]: 1 integer bit and the sign
  for (const FixedLayer& l : net.layers) {
    if (l.kind != FixedLayerKind::kDense) continue;
    long double max_w = 0;
    for (int64_t w : l.weights) max_w = std::max(max_w, std::fabs(fixed_to_real(w, l.weight)));
    EXPECT_LE(max_w, std::ldexp(1.0L, l.weight.int_bits - 1)) << l.name;
    EXPECT_GE(max_w, std::ldexp(1.0L, l.weight.int_bits - 3)) << l.name << ": no wasted bits";
  }
  FixedEvaluator ev(net);
  const std::vector<float> xv = calib.to_f32_vector();
  for (int64_t s = 0; s < 4; ++s) {
    const auto in = net.quantize_input(std::span<const float>(xv.data() + s * 784, 784));
    ASSERT_EQ(ev.run(in), net.run(in));
  }
}

TEST(FpgaBuild, SmallCnnConvertsAndRunsBitExactly) {
  Sequential m({Reshape(Shape{28, 28, 1}), Conv2D(4, {3, 3}, {.padding = "same", .activation = "relu"}),
                MaxPool2D({2, 2}), Flatten(), Dense(10, {.activation = "softmax"})},
               "cnn", 1);
  m.build(Shape{28, 28});
  const FixedNetwork net = build_fixed_network(m.predict_graph(), FpgaConfig{}, nullptr);
  ASSERT_EQ(net.layers.size(), 6u);
  EXPECT_EQ(net.layers[1].kind, FixedLayerKind::kConv2D);
  EXPECT_EQ(net.layers[1].pad_top, 1);
  EXPECT_EQ(net.layers[3].kind, FixedLayerKind::kMaxPool2D);
  FixedEvaluator ev(net);
  const Tensor x = random_images(2, 9);
  const std::vector<float> xv = x.to_f32_vector();
  const auto in = net.quantize_input(std::span<const float>(xv.data(), 784));
  EXPECT_EQ(ev.run(in), net.run(in));
}

std::optional<Dataset> fashion(const std::string& split) {
  try {
    return load_fashion_mnist(split);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound) return std::nullopt;
    throw;
  }
}

TEST(FpgaAccuracy, MnistMlpAtApFixed16_6KeepsF32Accuracy) {
  std::optional<Dataset> train = fashion("train"), test = fashion("test");
  if (!train || !test) GTEST_SKIP() << "Fashion-MNIST is not installed (see data/loaders.h)";
  Sequential m = mnist_mlp();
  m.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  m.fit(train->slice(0, 6000), {.epochs = 1, .batch_size = 128, .seed = 1, .verbose = 0});
  const Dataset t = test->slice(0, 500);
  // Everything ap_fixed<16,6> (hls4ml's default: the accumulator too, so each product is
  // truncated to 10 fractional bits), then with hls4ml's inferred (exact) accumulators.
  for (const char* yaml : {"Model: {Precision: ap_fixed<16,6>}",
                           "Model: {Precision: {default: ap_fixed<16,6>, accum: auto}}"}) {
    const FixedNetwork net = build_fixed_network(m.predict_graph(), parse_fpga_config(yaml, "a.yaml"), nullptr);
    const AccuracyReport r = fixed_point_accuracy(m.predict_graph(), net, t.x, t.y);
    std::printf("mnist-mlp %s: f32 %.4f  fixed %.4f  agreement %.4f (%lld samples)\n", yaml,
                r.reference, r.target, r.agreement, static_cast<long long>(r.samples));
    EXPECT_EQ(r.samples, 500);
    EXPECT_GE(r.reference, 0.7);
    EXPECT_LE(std::abs(r.target - r.reference), 0.02) << yaml;
    EXPECT_GE(r.agreement, 0.93) << yaml;  // a briefly trained model: small top-1 margins
  }
}

}  // namespace
}  // namespace tessera::sim
