// Functional models: ordering and naming, shared layers, errors, summary(), JSON round trips
// and a finite-difference gradient check through a whole model.
#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.h"
#include "tessera/ir/autodiff.h"
#include "tessera/nn/layers.h"

namespace tessera::nn_test {
namespace {

Functional mlp() {
  auto x = Input({32});
  auto h = Dense(64, {.activation = "relu"})(x);
  return Functional({x}, {Dense(10, {.activation = "softmax"})(h)}, "sequential");
}

Functional residual() {
  auto x = Input({32});
  auto h = Dense(64, {.activation = "relu"})(x);
  auto s = Dense(64)(x);
  auto a = Add()({h, s});
  return Functional({x}, {Dense(10, {.activation = "softmax"})(a)}, "residual");
}

TEST(Functional, NamesAreMadeUniqueAsKerasDoes) {
  Functional net = residual();
  std::vector<std::string> names;
  for (const LayerPtr& l : net.layers()) names.push_back(l->name());
  EXPECT_EQ(names, (std::vector<std::string>{"dense", "dense_1", "add", "dense_2"}));
  EXPECT_EQ(net.layers()[1]->weights()[0]->name, "dense_1/kernel");
  std::vector<std::string> vars;
  for (const VariablePtr& v : net.variables()) vars.push_back(v->name);
  EXPECT_EQ(vars, (std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel",
                                            "dense_1/bias", "dense_2/kernel", "dense_2/bias"}));
  EXPECT_EQ(net.count_params(), 2112 + 2112 + 650);
  EXPECT_EQ(net.count_trainable_params(), net.count_params());
  // Two same-named layers still start from different weights.
  EXPECT_NE(net.layers()[0]->weights()[0]->value.to_f32_vector(),
            net.layers()[1]->weights()[0]->value.to_f32_vector());
}

TEST(Functional, SharedLayerSharesWeights) {
  auto x = Input({4});
  LayerPtr d = Dense(4);
  auto y = (*d)((*d)(x));
  Functional net({x}, {y});
  EXPECT_EQ(net.layers().size(), 1u);
  EXPECT_EQ(net.calls().size(), 2u);
  EXPECT_EQ(net.variables().size(), 2u);
  GraphBuilder b;
  CallContext ctx{b};
  ValueId in = b.input("x", kF32, {kDynamic, 4});
  net.emit(ctx, {&in, 1});
  EXPECT_EQ(b.graph().parameters().size(), 2u);  // one node per variable
  // y = (x·W + b)·W + b with W = I, b = 1: x + 2.
  d->weights()[0]->value = f32({1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, {4, 4});
  d->weights()[1]->value = f32({1, 1, 1, 1}, {4});
  EXPECT_EQ(run(net, {f32({1, 2, 3, 4}, {1, 4})})[0].to_f32_vector(),
            (std::vector<float>{3, 4, 5, 6}));
}

TEST(Functional, Errors) {
  auto x = Input({3}, kF32, "x");
  auto other = Input({3}, kF32, "other");
  auto y = Dense(2, {.name = "head"})(other);
  expect_error([&] { Functional({x}, {y}); }, {"output 0", "head", "'other'"});
  expect_error([&] { Functional({x, x}, {x}); }, {"given twice"});
  Functional f({x}, {x});  // an identity model is fine
  GraphBuilder b;
  CallContext ctx{b};
  ValueId wrong = b.input("x", kF32, {kDynamic, 5});
  expect_error([&] { f.emit(ctx, {&wrong, 1}); }, {"input 'x'", "f32[N, 3]", "f32[N, 5]"});
}

TEST(Functional, SummarySequential) {
  const std::string want =
      "Model: \"sequential\"\n"
      "________________________________________________________________________________\n"
      "Layer (type)                        Output Shape                    Param #\n"
      "================================================================================\n"
      "dense (Dense)                       (None, 64)                      2112\n"
      "________________________________________________________________________________\n"
      "dense_1 (Dense)                     (None, 10)                      650\n"
      "================================================================================\n"
      "Total params: 2,762\n"
      "Trainable params: 2,762\n"
      "Non-trainable params: 0\n"
      "________________________________________________________________________________\n";
  EXPECT_EQ(mlp().summary(), want);
}

TEST(Functional, SummaryResidual) {
  const std::string want =
      "Model: \"residual\"\n"
      "________________________________________________________________________________\n"
      "Layer (type)              Output Shape      Param #  Connected to\n"
      "================================================================================\n"
      "input (InputLayer)        (None, 32)        0\n"
      "________________________________________________________________________________\n"
      "dense (Dense)             (None, 64)        2112     input[0][0]\n"
      "________________________________________________________________________________\n"
      "dense_1 (Dense)           (None, 64)        2112     input[0][0]\n"
      "________________________________________________________________________________\n"
      "add (Add)                 (None, 64)        0        dense[0][0]\n"
      "                                                     dense_1[0][0]\n"
      "________________________________________________________________________________\n"
      "dense_2 (Dense)           (None, 10)        650      add[0][0]\n"
      "================================================================================\n"
      "Total params: 4,874\n"
      "Trainable params: 4,874\n"
      "Non-trainable params: 0\n"
      "________________________________________________________________________________\n";
  EXPECT_EQ(residual().summary(), want);
}

TEST(Functional, JsonRoundTrip) {
  auto x = Input({4, 3}, kF32, "pixels");
  auto f = Flatten()(x);
  auto h = Dense(8, {.activation = "gelu", .kernel_initializer = "he_normal"})(f);
  auto d = Dropout(0.25)(h);
  auto s = Dense(8, {.use_bias = false})(f);
  auto a = Add()({d, s});
  auto c = Concatenate()({a, Activation("tanh")(s)});
  auto r = Reshape({2, -1})(c);
  Functional net({x}, {Dense(3, {.activation = "softmax"})(r), s}, "net");
  nlohmann::json j = net.to_json();
  Functional back = Functional::from_json(j);
  EXPECT_EQ(back.to_json(), j) << j.dump(2);
  EXPECT_EQ(back.summary(), net.summary());
  EXPECT_EQ(back.output_types(), net.output_types());
  EXPECT_EQ(back.count_params(), net.count_params());
  EXPECT_EQ(j["layers"][0]["class_name"], "Flatten");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::array({4, 3}));
  // Round trip through text as well.
  EXPECT_EQ(Functional::from_json(nlohmann::json::parse(j.dump())).to_json(), j);
  expect_error([&] {
    nlohmann::json bad = j;
    bad["calls"][0]["inputs"][0] = 99;
    Functional::from_json(bad);
  }, {"tensor reference 99"});
  expect_error([&] {
    nlohmann::json bad = j;
    bad.erase("layers");
    Functional::from_json(bad);
  }, {"model JSON"});
}

// Dense(4, relu) -> Dropout(0.3, training) -> Dense(3, softmax) + sparse CE, mean over a
// batch of 5: autodiff's gradients of every weight against central differences, on ref.
TEST(Functional, GradientCheckThroughAWholeModel) {
  auto x = Input({6});
  auto h = Dense(4, {.activation = "relu"})(x);
  auto dr = Dropout(0.3)(h);
  // dr and h are outputs too, to see that dropout acted.
  Functional net({x}, {Dense(3, {.activation = "softmax"})(dr), dr, h});
  auto loss = make_loss("sparse_categorical_crossentropy");

  GraphBuilder b;
  ValueId in = b.input("x", kF32, {kDynamic, 6});
  ValueId labels = b.input("y", kI32, {kDynamic});
  CallContext ctx{b};
  ctx.training = true;
  ctx.seed = 4;
  ctx.step = b.input("step", kI64, {});
  std::vector<ValueId> outs = net.emit(ctx, {&in, 1});
  ValueId l = b.reduce_mean(loss->per_sample(b, outs[0], labels), {});
  b.output(l);
  b.output(outs[1]);
  b.output(outs[2]);
  std::vector<ValueId> params;
  for (const VariablePtr& v : net.variables()) params.push_back(ctx.param(v));
  Gradients d = differentiate(b.finish(), l, params);
  for (ValueId g : d.grads) {
    ASSERT_NE(g, kNoValue);
    d.graph.outputs().push_back(g);
  }
  Program p = compile_program(d.graph, {.batch = 5, .backends = {"ref"}});

  Rng rng(3);
  Tensor xs = Tensor::zeros(kF32, {5, 6});
  rng.fill_uniform(xs, -1, 1);
  std::vector<Tensor> feeds = {xs, i32({0, 2, 1, 2, 0}, {5}), Tensor::scalar(1, kI64)};
  auto loss_at = [&] { return static_cast<double>(p.run(feeds)[0].get(0)); };
  std::vector<Tensor> out;
  for (const Tensor& t : p.run(feeds)) out.push_back(t.clone());

  const double eps = 1e-3;
  int checked = 0;
  std::vector<VariablePtr> vars = net.variables();
  for (size_t k = 0; k < vars.size(); ++k) {
    Tensor& w = vars[k]->value;  // the parameter nodes share this buffer
    for (int64_t i = 0; i < w.numel(); ++i) {
      double w0 = w.get(i);
      w.set(i, w0 + eps);
      double up = loss_at();
      w.set(i, w0 - eps);
      double down = loss_at();
      w.set(i, w0);
      double numeric = (up - down) / (2 * eps);
      double analytic = out[k + 3].get(i);
      EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-2 * std::fabs(numeric))
          << vars[k]->name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6 * 4 + 4 + 4 * 3 + 3);
  // Dropout acted: some active hidden units were zeroed, the others scaled by 1/0.7.
  int dropped = 0, kept = 0;
  for (int64_t i = 0; i < out[2].numel(); ++i) {
    double hv = out[2].get(i), dv = out[1].get(i);
    if (hv <= 0) continue;
    if (dv == 0) {
      ++dropped;
    } else {
      EXPECT_NEAR(dv, hv / 0.7, 1e-5);
      ++kept;
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_GT(kept, 0);
}

}  // namespace
}  // namespace tessera::nn_test
