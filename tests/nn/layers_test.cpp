// Layers against hand computations, Dropout's statistics and determinism, initializers'
// statistics, and the errors bad inputs raise.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "nn_test_util.h"
#include "tessera/nn/initializers.h"
#include "tessera/nn/layers.h"

namespace tessera::nn_test {
namespace {

void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  std::vector<float> got = t.to_f32_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// kernel [[1, 0, -1], [2, 1, 0]], bias [0.5, -1, 0]:
//   x [1, 2] -> [1 + 4 + 0.5, 0 + 2 - 1, -1 + 0 + 0] = [5.5, 1, -1]; relu -> [5.5, 1, 0]
//   x [3, 4] -> [3 + 8 + 0.5, 0 + 4 - 1, -3 + 0 + 0] = [11.5, 3, -3]
void set_dense_weights(const LayerPtr& d) {
  d->weights()[0]->value = f32({1, 0, -1, 2, 1, 0}, {2, 3});
  d->weights()[1]->value = f32({0.5f, -1, 0}, {3});
}

TEST(Layers, Dense) {
  auto x = Input({2});
  LayerPtr d = Dense(3, {.activation = "relu"});
  Functional net({x}, {(*d)(x)});
  set_dense_weights(d);
  EXPECT_EQ(d->weights()[0]->name, "dense/kernel");
  EXPECT_EQ(d->weights()[1]->name, "dense/bias");
  EXPECT_EQ(d->count_params(), 9);
  expect_values(run(net, {f32({1, 2, 3, 4}, {2, 2})})[0], {5.5, 1, 0, 11.5, 3, 0});
}

TEST(Layers, DenseOnRank3AppliesToTheLastAxis) {
  auto x = Input({2, 2});
  LayerPtr d = Dense(3, {.use_bias = true});
  auto y = (*d)(x);
  EXPECT_EQ(y.type(), (TensorType{kF32, {kDynamic, 2, 3}}));
  Functional net({x}, {y});
  set_dense_weights(d);
  expect_values(run(net, {f32({1, 2, 3, 4}, {1, 2, 2})})[0], {5.5, 1, -1, 11.5, 3, -3});
  expect_values(run(net, {f32({1, 2, 3, 4}, {1, 2, 2})}, {.backend = "cpu"})[0],
                {5.5, 1, -1, 11.5, 3, -3});
}

// softmax [0, ln 3] = [1/4, 3/4]; sigmoid 0 = 0.5; tanh 1 = 0.76159416;
// gelu 1 = ½(1 + erf(1/√2)) = 0.84134475; relu -2 = 0; linear is the identity.
TEST(Layers, Activations) {
  auto act = [](const std::string& a, std::vector<float> v) {
    auto x = Input({static_cast<int64_t>(v.size())});
    Functional net({x}, {Activation(a)(x)});
    return run(net, {f32(v, {1, static_cast<int64_t>(v.size())})})[0];
  };
  expect_values(act("softmax", {0, std::log(3.0f)}), {0.25, 0.75});
  expect_values(act("sigmoid", {0}), {0.5});
  expect_values(act("tanh", {1}), {0.76159416});
  expect_values(act("gelu", {1}), {0.84134475});
  expect_values(act("relu", {-2, 3}), {0, 3});
  expect_values(act("linear", {-2, 3}), {-2, 3});
  expect_values(act("", {-2, 3}), {-2, 3});
}

TEST(Layers, FlattenAndReshape) {
  auto x = Input({2, 3});
  auto f = Flatten()(x);
  EXPECT_EQ(f.type(), (TensorType{kF32, {kDynamic, 6}}));
  auto r = Reshape({3, -1})(f);  // -1 inferred: 6 / 3 = 2
  EXPECT_EQ(r.type(), (TensorType{kF32, {kDynamic, 3, 2}}));
  Functional net({x}, {f, r});
  std::vector<Tensor> out = run(net, {f32({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3})});
  EXPECT_EQ(out[0].shape(), (Shape{2, 6}));
  EXPECT_EQ(out[1].shape(), (Shape{2, 3, 2}));
  expect_values(out[1], {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  expect_error([&] { Reshape({4, -1})(f); }, {"reshape", "6 elements"});
  expect_error([] { Reshape({-1, -1}); }, {"more than one -1"});
}

// [1, 2, 3] + [10] (broadcast [N, 1]) = [11, 12, 13]; concat of [1, 2, 3] and [10] on the
// last axis = [1, 2, 3, 10].
TEST(Layers, AddAndConcatenate) {
  auto a = Input({3}, kF32, "a");
  auto b = Input({1}, kF32, "b");
  auto sum = Add()({a, b});
  auto cat = Concatenate()({a, b});
  EXPECT_EQ(cat.type(), (TensorType{kF32, {kDynamic, 4}}));
  Functional net({a, b}, {sum, cat});
  std::vector<Tensor> out = run(net, {f32({1, 2, 3}, {1, 3}), f32({10}, {1, 1})});
  expect_values(out[0], {11, 12, 13});
  expect_values(out[1], {1, 2, 3, 10});
}

TEST(Layers, BadInputs) {
  expect_error([] { Dense(3)(Input({})); }, {"layer 'dense' (Dense)", "rank >= 2"});
  expect_error([] { Add()({Input({3}), Input({4})}); },
               {"layer 'add' (Add)", "[N, 3]", "[N, 4]"});
  expect_error([] { Dense(3, {.activation = "swish"}); }, {"dense", "swish", "relu"});
  expect_error([] { Activation("swish", "act"); }, {"act", "swish", "gelu"});
  expect_error([] { Dense(3, {.kernel_initializer = "orthogonal"}); },
               {"dense", "orthogonal", "glorot_uniform"});
  expect_error([] { Concatenate(2)({Input({2, 3}), Input({3, 3})}); }, {"concatenate"});
  expect_error([] { Concatenate(0)({Input({2}), Input({3})}); }, {"concatenate", "batch"});
  expect_error([] { Dropout(1.0); }, {"dropout", "rate"});
  // Built once: a second call with another input type is an error naming the layer.
  LayerPtr d = Dense(2, {.name = "head"});
  (*d)(Input({4}));
  (*d)(Input({4}));  // the same type is fine (shared weights)
  expect_error([&] { (*d)(Input({5})); }, {"layer 'head' (Dense)", "f32[N, 4]", "f32[N, 5]"});
  GraphBuilder gb;
  expect_error([&] { apply_activation(gb, "swish", gb.input("x", kF32, {2})); },
               {"swish", "softmax"});
}

TEST(Layers, ConfigsRoundTrip) {
  std::vector<LayerPtr> layers = {
      Dense(7, {.activation = "tanh", .use_bias = false, .kernel_initializer = "he_normal",
                .input_shape = Shape{3}, .name = "d"}),
      Activation("gelu"), Dropout(0.25), Flatten(), Reshape({2, -1}), Add(), Concatenate(1)};
  for (const LayerPtr& l : layers) {
    nlohmann::json c = l->config();
    LayerPtr back = layer_from_config(l->class_name(), c);
    EXPECT_EQ(back->class_name(), l->class_name());
    EXPECT_EQ(back->config(), c) << c.dump();
  }
  EXPECT_EQ(layers[0]->config()["units"], 7);
  EXPECT_EQ(layers[0]->config()["input_shape"], nlohmann::json::array({3}));
  expect_error([] { layer_from_config("Conv3D", {{"name", "c"}}); }, {"Conv3D", "Dense"});
}

// ---- Dropout -----------------------------------------------------------------------------

Functional dropout_net(double rate) {
  auto x = Input({100});
  return Functional({x}, {Dropout(rate)(x)});
}

TEST(Dropout, FractionAndScale) {
  Functional net = dropout_net(0.3);
  Tensor ones = Tensor::full(kF32, {100, 100}, 1.0);
  Tensor y = run(net, {ones}, {.training = true, .step = 3})[0];
  std::vector<float> v = y.to_f32_vector();
  int zeros = 0;
  const float scale = 1.0f / 0.7f;
  for (float e : v) {
    if (e == 0) ++zeros;
    else EXPECT_FLOAT_EQ(e, scale);
  }
  // 10000 Bernoulli(0.3) draws: σ = √(10000·0.3·0.7) ≈ 46, so ±200 is over 4σ.
  EXPECT_NEAR(zeros, 3000, 200);
}

TEST(Dropout, IdentityAtInferenceAndRateZero) {
  Tensor x = f32(std::vector<float>(200, 2.5f), {2, 100});
  expect_values(run(dropout_net(0.5), {x})[0], std::vector<double>(200, 2.5));
  expect_values(run(dropout_net(0.0), {x}, {.training = true})[0],
                std::vector<double>(200, 2.5));
}

TEST(Dropout, MasksDependOnStepAndSeedOnly) {
  Functional net = dropout_net(0.5);
  Tensor ones = Tensor::full(kF32, {4, 100}, 1.0);
  auto mask = [&](int64_t step, uint64_t seed, const std::string& backend) {
    return run(net, {ones}, {.backend = backend, .training = true, .step = step, .seed = seed})[0];
  };
  auto same = [](const Tensor& a, const Tensor& b) {
    return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
  };
  Tensor s1 = mask(1, 0, "ref");
  EXPECT_TRUE(same(s1, mask(1, 0, "ref")));
  EXPECT_FALSE(same(s1, mask(2, 0, "ref")));
  EXPECT_FALSE(same(s1, mask(1, 9, "ref")));
  EXPECT_TRUE(same(s1, mask(1, 0, "cpu")));  // bit-identical across backends
  EXPECT_TRUE(same(mask(7, 5, "ref"), mask(7, 5, "cpu")));
}

// ---- initializers ---------------------------------------------------------------------------

struct Stats {
  double mean, std, max_abs;
};
Stats stats(const Tensor& t) {
  std::vector<float> v = t.to_f32_vector();
  double s = 0, s2 = 0, m = 0;
  for (float e : v) {
    s += e;
    s2 += double(e) * e;
    m = std::max(m, std::fabs(double(e)));
  }
  double n = static_cast<double>(v.size());
  return {s / n, std::sqrt(s2 / n - (s / n) * (s / n)), m};
}

TEST(Initializers, Statistics) {
  struct Case {
    std::string name;
    double std;    // expected standard deviation
    double bound;  // values lie within ±bound
  };
  // Shape [400, 600]: fan_in 400, fan_out 600.
  const double avg = 500, in = 400;
  const Case cases[] = {
      {"glorot_uniform", std::sqrt(6 / (2 * avg)) / std::sqrt(3.0), std::sqrt(6 / (2 * avg))},
      {"glorot_normal", std::sqrt(1 / avg), 2 * std::sqrt(1 / avg) / 0.87962566},
      {"he_uniform", std::sqrt(6 / in) / std::sqrt(3.0), std::sqrt(6 / in)},
      {"he_normal", std::sqrt(2 / in), 2 * std::sqrt(2 / in) / 0.87962566},
      {"lecun_uniform", std::sqrt(3 / in) / std::sqrt(3.0), std::sqrt(3 / in)},
      {"lecun_normal", std::sqrt(1 / in), 2 * std::sqrt(1 / in) / 0.87962566},
      {"random_uniform", 0.05 / std::sqrt(3.0), 0.05},
      {"random_normal", 0.05, 1.0},
  };
  for (const Case& c : cases) {
    Rng rng(11);
    Stats s = stats(initialize(c.name, {400, 600}, rng));
    EXPECT_NEAR(s.mean, 0.0, 0.02 * c.std) << c.name;
    EXPECT_NEAR(s.std, c.std, 0.02 * c.std) << c.name;
    EXPECT_LE(s.max_abs, c.bound * (1 + 1e-6)) << c.name;
  }
  Rng rng(1);
  Stats z = stats(initialize("zeros", {3, 4}, rng));
  EXPECT_EQ(z.max_abs, 0.0);
  Stats o = stats(initialize("ones", {3, 4}, rng));
  EXPECT_EQ(o.mean, 1.0);
  EXPECT_EQ(o.std, 0.0);
}

TEST(Initializers, DeterministicInTheSeed) {
  Rng a(5), b(5), c(6);
  Tensor ta = initialize("he_normal", {30, 20}, a), tb = initialize("he_normal", {30, 20}, b);
  Tensor tc = initialize("he_normal", {30, 20}, c);
  EXPECT_EQ(ta.to_f32_vector(), tb.to_f32_vector());
  EXPECT_NE(ta.to_f32_vector(), tc.to_f32_vector());
  // Successive draws from one Rng differ.
  EXPECT_NE(initialize("he_normal", {30, 20}, a).to_f32_vector(), ta.to_f32_vector());
  // Layers: the same program gives the same weights.
  auto w = [] {
    auto x = Input({8});
    LayerPtr d = Dense(4);
    (*d)(x);
    return d->weights()[0]->value.to_f32_vector();
  };
  EXPECT_EQ(w(), w());
}

TEST(Initializers, UnknownNameListsTheKnownOnes) {
  Rng rng;
  expect_error([&] { initialize("orthogonal", {2, 2}, rng); },
               {"orthogonal", "glorot_uniform", "he_normal", "zeros"});
  EXPECT_EQ(initializer_names().size(), 10u);
}

}  // namespace
}  // namespace tessera::nn_test
