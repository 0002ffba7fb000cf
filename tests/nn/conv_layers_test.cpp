// Conv1D, Conv2D, DepthwiseConv2D, MaxPool2D, AveragePool2D and GlobalAveragePooling2D:
// output shapes and weights as Keras makes them, values against a direct computation, the
// errors for impossible arguments, JSON round trips and the summary table.
#include "tessera/nn/conv_layers.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/nn/functional.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

constexpr int64_t N = kDynamic;

Shape out_shape(LayerPtr layer, const Shape& per_sample) {
  return layer(Input(per_sample)).shape();
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConvLayers, OutputShapesAsKeras) {
  EXPECT_EQ(out_shape(Conv2D(32, {3, 3}), {28, 28, 1}), (Shape{N, 26, 26, 32}));
  EXPECT_EQ(out_shape(Conv2D(8, {3}, {.padding = "same"}), {28, 28, 3}), (Shape{N, 28, 28, 8}));
  EXPECT_EQ(out_shape(Conv2D(8, {3}, {.strides = {2}, .padding = "same"}), {7, 6, 3}),
            (Shape{N, 4, 3, 8}));
  EXPECT_EQ(out_shape(Conv2D(8, {3, 2}, {.strides = {2, 1}}), {7, 6, 3}), (Shape{N, 3, 5, 8}));
  EXPECT_EQ(out_shape(Conv2D(8, {3}, {.dilation_rate = {2}}), {9, 9, 3}), (Shape{N, 5, 5, 8}));
  EXPECT_EQ(out_shape(Conv2D(8, {1}, {.groups = 2}), {5, 5, 4}), (Shape{N, 5, 5, 8}));
  EXPECT_EQ(out_shape(Conv1D(6, 3), {10, 4}), (Shape{N, 8, 6}));
  EXPECT_EQ(out_shape(Conv1D(6, 3, {.padding = "causal", .dilation_rate = 2}), {10, 4}),
            (Shape{N, 10, 6}));
  EXPECT_EQ(out_shape(Conv1D(6, 3, {.strides = 2, .padding = "same"}), {9, 4}), (Shape{N, 5, 6}));
  EXPECT_EQ(out_shape(DepthwiseConv2D({3}, {.depth_multiplier = 2}), {8, 8, 3}),
            (Shape{N, 6, 6, 6}));
  EXPECT_EQ(out_shape(MaxPool2D(), {26, 26, 32}), (Shape{N, 13, 13, 32}));
  EXPECT_EQ(out_shape(MaxPool2D({2, 2}), {11, 11, 64}), (Shape{N, 5, 5, 64}));
  EXPECT_EQ(out_shape(MaxPool2D({2, 2}, {.padding = "same"}), {11, 11, 64}), (Shape{N, 6, 6, 64}));
  EXPECT_EQ(out_shape(AveragePool2D({3}, {.strides = {1}}), {5, 5, 2}), (Shape{N, 3, 3, 2}));
  EXPECT_EQ(out_shape(GlobalAveragePooling2D(), {7, 7, 64}), (Shape{N, 64}));
  EXPECT_EQ(out_shape(GlobalAveragePooling2D("gap", true), {7, 7, 64}), (Shape{N, 1, 1, 64}));
}

TEST(ConvLayers, WeightsInKerasLayouts) {
  LayerPtr c2 = Conv2D(32, {3, 3});
  c2(Input({28, 28, 3}));
  ASSERT_EQ(c2->weights().size(), 2u);
  EXPECT_EQ(c2->weights()[0]->name, "conv2d/kernel");
  EXPECT_EQ(c2->weights()[0]->value.shape(), (Shape{3, 3, 3, 32}));
  EXPECT_EQ(c2->weights()[1]->value.shape(), (Shape{32}));
  EXPECT_EQ(c2->count_params(), 3 * 3 * 3 * 32 + 32);
  LayerPtr g = Conv2D(8, {3}, {.groups = 2, .use_bias = false});
  g(Input({5, 5, 4}));
  ASSERT_EQ(g->weights().size(), 1u);
  EXPECT_EQ(g->weights()[0]->value.shape(), (Shape{3, 3, 2, 8}));
  LayerPtr c1 = Conv1D(6, 3);
  c1(Input({10, 4}));
  EXPECT_EQ(c1->weights()[0]->value.shape(), (Shape{3, 4, 6}));
  LayerPtr d = DepthwiseConv2D({3}, {.depth_multiplier = 2});
  d(Input({8, 8, 3}));
  EXPECT_EQ(d->weights()[0]->name, "depthwise_conv2d/depthwise_kernel");
  EXPECT_EQ(d->weights()[0]->value.shape(), (Shape{3, 3, 3, 2}));
  EXPECT_EQ(d->weights()[1]->value.shape(), (Shape{6}));
  // glorot_uniform over Keras' fans: limit sqrt(6 / (9·3 + 9·32)).
  double limit = std::sqrt(6.0 / (27 + 288)), max_abs = 0;
  const Tensor& k = c2->weights()[0]->value;
  for (int64_t i = 0; i < k.numel(); ++i) max_abs = std::max(max_abs, std::fabs(k.get(i)));
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.8 * limit);
}

// A model's prediction against a direct computation from its weights.
TEST(ConvLayers, ValuesMatchADirectComputation) {
  auto x = Input({5, 4, 2});
  LayerPtr conv = Conv2D(3, {3, 2}, {.strides = {2, 1}, .padding = "same", .activation = "relu"});
  LayerPtr pool = AveragePool2D({2, 2}, {.strides = {1, 1}, .padding = "same"});
  Model m({x}, {pool(conv(x))});
  Tensor in = Tensor::zeros(kF32, {2, 5, 4, 2});
  for (int64_t i = 0; i < in.numel(); ++i) in.set(i, std::sin(0.7 * static_cast<double>(i)));
  Tensor got = m.predict(in, 2);
  ASSERT_EQ(got.shape(), (Shape{2, 3, 4, 3}));
  const Tensor& w = conv->weights()[0]->value;
  const Tensor& bias = conv->weights()[1]->value;
  // "same" for 5 rows, kernel 3, stride 2: 3 rows, pads 1 and 1; 4 columns, kernel 2: pads 0, 1.
  auto conv_at = [&](int64_t n, int64_t oh, int64_t ow, int64_t f) {
    double s = bias.get(f);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        int64_t h = oh * 2 - 1 + i, c = ow + j;
        if (h < 0 || h >= 5 || c >= 4) continue;
        for (int64_t ch = 0; ch < 2; ++ch)
          s += in.get(((n * 5 + h) * 4 + c) * 2 + ch) * w.get(((i * 2 + j) * 2 + ch) * 3 + f);
      }
    return std::max(s, 0.0);
  };
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t oh = 0; oh < 3; ++oh)
      for (int64_t ow = 0; ow < 4; ++ow)
        for (int64_t f = 0; f < 3; ++f) {
          // 2x2 "same" average: pads 0 before, 1 after; only real elements count.
          double s = 0;
          int cnt = 0;
          for (int64_t a = oh; a < std::min<int64_t>(oh + 2, 3); ++a)
            for (int64_t b = ow; b < std::min<int64_t>(ow + 2, 4); ++b, ++cnt)
              s += conv_at(n, a, b, f);
          EXPECT_NEAR(got.get(((n * 3 + oh) * 4 + ow) * 3 + f), s / cnt, 1e-5);
        }
}

TEST(ConvLayers, Conv1DIsCausalWhenAsked) {
  auto x = Input({6, 1});
  Model m({x}, {Conv1D(1, 3, {.padding = "causal", .use_bias = false})(x)});
  Tensor in = Tensor::zeros(kF32, {1, 6, 1});
  Tensor before = m.predict(in, 1);
  in.set(3, 1.0);  // a change at step 3 cannot reach outputs 0..2
  Tensor after = m.predict(in, 1);
  for (int64_t t = 0; t < 3; ++t) EXPECT_EQ(before.get(t), after.get(t)) << t;
  EXPECT_NE(before.get(3), after.get(3));
}

TEST(ConvLayers, BadArgumentsAreClearErrors) {
  EXPECT_NE(
      error_of([] { Conv2D(0, {3}); }).find("layer 'conv2d' (Conv2D): filters must be >= 1, got 0"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              Conv2D(8, {3, 0});
            }).find("kernel_size must be 2 integers >= 1, got [3, 0]"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Conv2D(8, {3}, {.strides = {1, 0}});
            }).find("strides must be 2 integers"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Conv2D(8, {3}, {.padding = "full"});
            }).find("padding must be 'valid', 'same', got 'full'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Conv2D(8, {3}, {.groups = 3});
            }).find("filters 8 must be divisible by groups 3"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { Conv2D(8, {3}, {.activation = "swish"}); }).find("unknown activation 'swish'"),
      std::string::npos);
  EXPECT_NE(
      error_of([] { Conv2D(8, {3}, {.kernel_initializer = "nope"}); }).find("unknown initializer"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              Conv2D(8, {3}, {.groups = 2})(Input({5, 5, 3}));
            }).find("the input's 3 channels are not divisible by groups 2"),
            std::string::npos);
  std::string e = error_of([] { Conv2D(8, {5, 5}, {.name = "big"})(Input({3, 3, 1})); });
  EXPECT_NE(e.find("layer 'big' (Conv2D): kernel_size [5, 5] (dilation [1, 1]) does not fit the "
                   "3x3 input with padding 'valid'"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of([] {
              Conv2D(8, {3})(Input({28, 28}));
            }).find("expects an input of rank 4 (batch, height, width, channels)"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Conv1D(8, 3, {.padding = "bogus"});
            }).find("padding must be 'valid', 'same' or 'causal', got 'bogus'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              DepthwiseConv2D({3}, {.depth_multiplier = 0});
            }).find("depth_multiplier must be >= 1, got 0"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              MaxPool2D({0, 2});
            }).find("pool_size must be 2 integers >= 1, got [0, 2]"),
            std::string::npos);
  EXPECT_NE(error_of([] { MaxPool2D({2}, {.strides = {0}}); }).find("strides must be 2 integers"),
            std::string::npos);
  e = error_of([] { MaxPool2D({4, 4})(Input({3, 3, 2})); });
  EXPECT_NE(e.find("pool_size [4, 4] (dilation [1, 1]) does not fit the 3x3 input"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of([] {
              GlobalAveragePooling2D()(Input({4, 4}));
            }).find("rank 4"),
            std::string::npos);
}

TEST(ConvLayers, JsonRoundTripAndSummary) {
  auto x = Input({28, 28, 1});
  auto h = Conv2D(8, {3}, {.strides = {2}, .padding = "same", .activation = "relu"})(x);
  h = DepthwiseConv2D({3}, {.padding = "same", .depth_multiplier = 2})(h);
  h = MaxPool2D({2, 2})(h);
  h = AveragePool2D({3}, {.strides = {1}, .padding = "same"})(h);
  auto s = Conv1D(4, 2, {.padding = "causal"})(Reshape({49, 16})(h));
  auto y = GlobalAveragePooling2D()(Reshape({7, 7, 4})(s));
  Functional f({x}, {y}, "cnn");
  nlohmann::json j = f.to_json();
  Functional g = Functional::from_json(j);
  EXPECT_EQ(g.to_json(), j);
  EXPECT_EQ(g.count_params(), f.count_params());
  std::string table = f.summary();
  EXPECT_NE(table.find("conv2d (Conv2D)"), std::string::npos) << table;
  EXPECT_NE(table.find("(None, 14, 14, 8)"), std::string::npos) << table;
  EXPECT_NE(table.find("depthwise_conv2d (DepthwiseConv2D)"), std::string::npos) << table;
  EXPECT_NE(table.find("max_pooling2d (MaxPooling2D)"), std::string::npos) << table;
  EXPECT_NE(table.find("global_average_pooling2d (Global"), std::string::npos) << table;
  const nlohmann::json& conv = j.at("layers").at(0).at("config");
  EXPECT_EQ(conv.at("kernel_size"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(conv.at("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv.at("padding"), "same");
  EXPECT_EQ(conv.at("activation"), "relu");
  // Keras writes sizes as one int too.
  LayerPtr l = layer_from_config("Conv2D", {{"filters", 4}, {"kernel_size", 3}, {"strides", 2}});
  EXPECT_EQ(l->config().at("kernel_size"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(layer_from_config("MaxPooling2D", {{"pool_size", 3}})->config().at("strides"),
            (std::vector<int64_t>{3, 3}));
  EXPECT_NE(error_of([] {
              layer_from_config("Conv3D", nlohmann::json::object());
            }).find("unknown layer class 'Conv3D'"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera
