// Model / Sequential: the seed program end to end, validation, class weights, evaluate and
// predict, determinism, resuming, and clear errors for bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "tessera/core/thread_pool.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;
using train_test::seed_config;
using train_test::seed_model;
using train_test::weights_of;

TEST(Model, SeedProgramReaches95PercentValidationAccuracy) {
  Dataset all = synthetic_classification(7, 4000);
  auto [train, test] = std::pair{all.slice(0, 3000), all.slice(3000, 4000)};
  Sequential model = seed_model(1);
  model.compile(seed_config());
  ASSERT_TRUE(model.compiled());
  auto start = std::chrono::steady_clock::now();
  History h = model.fit(train.x, train.y,
                        {.epochs = 10, .batch_size = 32, .validation_data = test, .verbose = 0});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[ info ] seed model: %.0f samples/s (10 epochs of 3000, batch 32, with validation)\n",
      10 * 3000 / seconds);
  ASSERT_EQ(h.history["val_accuracy"].size(), 10u);
  EXPECT_GE(h.history["val_accuracy"].back(), 0.95);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  EXPECT_EQ(h.epochs, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(model.epoch(), 10);
  EXPECT_EQ(model.step(), 10 * 94);  // ceil(3000 / 32) steps per epoch
  EXPECT_EQ(model.optimizer()->iterations(), 10 * 94);

  // evaluate() sees the weights of the end of training, as the last validation did.
  auto e = model.evaluate(test.x, test.y);
  EXPECT_NEAR(e["loss"], h.history["val_loss"].back(), 1e-5);
  EXPECT_NEAR(e["accuracy"], h.history["val_accuracy"].back(), 1e-9);

  Tensor probs = model.predict(test.x, 100);
  ASSERT_EQ(probs.shape(), (Shape{1000, 10}));
  int64_t correct = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    double sum = 0;
    int64_t best = 0;
    for (int64_t c = 0; c < 10; ++c) {
      sum += probs.get(i * 10 + c);
      if (probs.get(i * 10 + c) > probs.get(i * 10 + best)) best = c;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    correct += best == static_cast<int64_t>(test.y.get(i));
  }
  EXPECT_NEAR(static_cast<double>(correct) / 1000, e["accuracy"], 1e-9);
}

TEST(Model, OptimizerStateExistsRightAfterCompile) {
  Sequential model = seed_model();
  model.compile(seed_config());
  // learning rate, iterations, then m and v for 4 weights.
  ASSERT_EQ(model.optimizer()->variables().size(), 2u + 8u);
  EXPECT_EQ(model.optimizer()->variables()[2]->name,
            "adam/" + model.net().variables()[0]->name + "/m");
  EXPECT_EQ(model.train_graph().updates().size(), 4u + 8u + 1u);
}

TEST(Model, ClassWeightsWeighTheLoss) {
  Dataset d = synthetic_classification(3, 64);
  Sequential model = seed_model(2);
  // A learning rate so small that the one step does not change the loss it reports.
  CompileConfig config = seed_config("sgd");
  config.optimizer_options.learning_rate = 1e-12;
  config.metrics.clear();
  model.compile(config);
  Tensor p = model.predict(d.x);
  std::map<int64_t, double> cw = {{0, 3.0}, {1, 0.0}, {2, 0.5}};
  double weighted = 0, plain = 0;
  for (int64_t i = 0; i < 64; ++i) {
    auto label = static_cast<int64_t>(d.y.get(i));
    double l = -std::log(p.get(i * 10 + label));
    plain += l;
    weighted += (cw.count(label) ? cw[label] : 1.0) * l;
  }
  History h1 = model.fit(d.x, d.y, {.batch_size = 64, .verbose = 0});
  EXPECT_NEAR(h1.history["loss"][0], plain / 64, 1e-4);
  History h2 = model.fit(d.x, d.y, {.batch_size = 64, .class_weight = cw, .verbose = 0});
  EXPECT_NEAR(h2.history["loss"][0], weighted / 64, 1e-4);  // Σ w·loss / N, as Keras

  EXPECT_TRUE(contains(error_of([&] {
                         model.fit(d.x, d.y, {.class_weight = {{12, 1.0}}, .verbose = 0});
                       }),
                       "class 12"));
}

TEST(Model, ValidationSplitTakesTheLastSamples) {
  Dataset d = synthetic_classification(5, 200);
  Sequential model = seed_model(3);
  model.compile(seed_config());
  History h = model.fit(d.x, d.y, {.epochs = 1, .validation_split = 0.25, .verbose = 0});
  auto last = model.evaluate(d.slice(150, 200).x, d.slice(150, 200).y);
  auto first = model.evaluate(d.slice(0, 50).x, d.slice(0, 50).y);
  EXPECT_NEAR(h.history["val_loss"][0], last["loss"], 1e-6);
  EXPECT_NE(h.history["val_loss"][0], first["loss"]);
  // 150 training samples in batches of 32: 5 steps.
  EXPECT_EQ(model.step(), 5);
}

TEST(Model, SameSeedSameWeightsOnAnyThreadCount) {
  Dataset d = synthetic_classification(9, 300);
  auto train = [&](int threads) {
    set_num_threads(threads);
    Sequential model = seed_model(4);
    model.compile(seed_config());
    model.fit(d.x, d.y, {.epochs = 2, .batch_size = 32, .seed = 11, .verbose = 0});
    return weights_of(model);
  };
  int before = num_threads();
  auto a = train(1), b = train(1), c = train(2);
  set_num_threads(before);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  // A different shuffling seed gives different weights.
  Sequential other = seed_model(4);
  other.compile(seed_config());
  other.fit(d.x, d.y, {.epochs = 2, .batch_size = 32, .seed = 12, .verbose = 0});
  EXPECT_NE(weights_of(other), a);
}

TEST(Model, DropoutIsSeededAndOffAtInference) {
  Dataset d = synthetic_classification(9, 256);
  auto train = [&](uint64_t seed) {
    Sequential model({Dense(32, {.activation = "relu", .input_shape = Shape{32}}), Dropout(0.5),
                      Dense(10, {.activation = "softmax"})},
                     "dropout", 3);
    model.compile(seed_config());
    model.fit(d.x, d.y, {.epochs = 2, .shuffle = false, .seed = seed, .verbose = 0});
    Tensor p1 = model.predict(d.x), p2 = model.predict(d.x);
    EXPECT_EQ(p1.to_f32_vector(), p2.to_f32_vector());  // no dropout at inference
    return weights_of(model);
  };
  auto a = train(1);
  EXPECT_EQ(a, train(1));
  EXPECT_NE(a, train(2));  // only the dropout masks differ (no shuffling)
}

TEST(Model, InitialEpochResumesNumbering) {
  Dataset d = synthetic_classification(9, 64);
  auto run = [&](bool split) {
    Sequential model = seed_model(5);
    model.compile(seed_config());
    if (split) {
      model.fit(d.x, d.y, {.epochs = 2, .seed = 3, .verbose = 0});
      History h = model.fit(d.x, d.y, {.epochs = 4, .seed = 3, .verbose = 0, .initial_epoch = 2});
      EXPECT_EQ(h.epochs, (std::vector<int>{2, 3}));
    } else {
      model.fit(d.x, d.y, {.epochs = 4, .seed = 3, .verbose = 0});
    }
    EXPECT_EQ(model.epoch(), 4);
    return weights_of(model);
  };
  EXPECT_EQ(run(true), run(false));  // same shuffles and steps: identical weights
}

TEST(Model, SequentialAddKeepsExistingWeights) {
  Sequential model;
  model.add(Dense(8, {.activation = "relu", .input_shape = Shape{4}}));
  std::vector<float> kernel = model.net().variables()[0]->value.to_f32_vector();
  model.add(Dense(3, {.activation = "softmax"}));
  EXPECT_EQ(model.net().layers().size(), 2u);
  EXPECT_EQ(model.net().variables()[0]->value.to_f32_vector(), kernel);
  Tensor p = model.predict(Tensor::full(kF32, {5, 4}, 0.5));
  EXPECT_EQ(p.shape(), (Shape{5, 3}));

  Sequential late({Dense(4), Dense(2)});
  EXPECT_TRUE(contains(error_of([&] { late.net(); }), "input_shape"));
  late.build(Shape{6});
  EXPECT_EQ(late.predict(Tensor::zeros(kF32, {2, 6})).shape(), (Shape{2, 2}));
}

TEST(Model, FunctionalResidualModelTrains) {
  SymbolicTensor x = Input({32});
  SymbolicTensor h = Dense(32, {.activation = "relu"})(x);
  SymbolicTensor r = Add()({h, x});
  SymbolicTensor y = Dense(10, {.activation = "softmax"})(r);
  Model model({x}, {y}, "residual", 6);
  model.compile(seed_config("rmsprop"));
  Dataset d = synthetic_classification(7, 512);
  History hist = model.fit(d.x, d.y, {.epochs = 3, .verbose = 0});
  EXPECT_LT(hist.history["loss"].back(), hist.history["loss"].front());
}

TEST(Model, OptimizersAllTrainTheSeedModel) {
  Dataset d = synthetic_classification(7, 512);
  for (const char* name : {"sgd", "adam", "adamw", "rmsprop"}) {
    SCOPED_TRACE(name);
    Sequential model = seed_model(8);
    CompileConfig c = seed_config(name);
    c.optimizer_options.momentum = std::string(name) == "sgd" ? 0.9 : 0.0;
    model.compile(c);
    History h = model.fit(d.x, d.y, {.epochs = 3, .verbose = 0});
    EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  }
}

TEST(Model, BadInputIsOneClearError) {
  Sequential model = seed_model();
  Dataset d = synthetic_classification(1, 40);
  EXPECT_TRUE(contains(error_of([&] { model.fit(d.x, d.y, {.verbose = 0}); }), "compile"));
  model.compile(seed_config());

  std::string e = error_of([&] { model.fit(Tensor::zeros(kF32, {40, 31}), d.y, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "[40, 31]") && contains(e, "[N, 32]")) << e;

  e = error_of([&] { model.fit(d.x, Tensor::zeros(kI32, {39}), {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "40") && contains(e, "39")) << e;

  e = error_of([&] { model.fit(d.x, Tensor::zeros(kF32, {40}), {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "f32") && contains(e, "i32")) << e;

  Tensor bad_y = d.y.clone();
  bad_y.set(17, 10);
  e = error_of([&] { model.fit(d.x, bad_y, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "label 10") && contains(e, "sample 17") && contains(e, "[0, 10)")) << e;
  bad_y.set(17, -1);
  EXPECT_TRUE(contains(error_of([&] { model.evaluate(d.x, bad_y); }), "label -1"));

  Tensor nan_x = d.x.clone();
  nan_x.set(3 * 32 + 5, std::nan(""));
  e = error_of([&] { model.fit(nan_x, d.y, {.verbose = 0}); });
  EXPECT_TRUE(contains(e, "sample 3") && contains(e, "non-finite")) << e;

  EXPECT_TRUE(contains(error_of([&] { model.predict(Tensor::zeros(kF32, {2, 7})); }), "[2, 7]"));

  Sequential fresh = seed_model();
  // (Configs are named locals: g++ 12 warns falsely about temporaries holding a
  // std::function on exception paths.)
  CompileConfig bad = seed_config("adagrad");
  EXPECT_TRUE(contains(error_of([&] { fresh.compile(bad); }), "adagrad"));
  bad = seed_config();
  bad.loss = "hinge";
  EXPECT_TRUE(contains(error_of([&] { fresh.compile(bad); }), "hinge"));
  bad = seed_config();
  bad.metrics = {"f1_score"};
  EXPECT_TRUE(contains(error_of([&] { fresh.compile(bad); }), "f1_score"));
  bad = seed_config();
  bad.backends = {"tpu9"};
  EXPECT_TRUE(contains(error_of([&] { fresh.compile(bad); }), "tpu9"));
  EXPECT_FALSE(fresh.compiled());  // a failed compile leaves the model as it was
}

TEST(Model, NonFiniteLossStopsWithAnError) {
  Sequential model({Dense(1, {.input_shape = Shape{2}})});
  CompileConfig config = seed_config("sgd");
  config.loss = "mse";
  config.metrics.clear();
  model.compile(config);
  Tensor x = Tensor::full(kF32, {8, 2}, 1.0);
  Tensor y = Tensor::full(kF32, {8, 1}, 1e30);  // finite data, but the squared error is inf
  std::string e = error_of([&] { model.fit(x, y, {.epochs = 3, .batch_size = 4, .verbose = 0}); });
  EXPECT_TRUE(contains(e, "epoch 1 batch 1") && contains(e, "inf")) << e;
  EXPECT_EQ(model.epoch(), 0);
}

}  // namespace
}  // namespace tessera
