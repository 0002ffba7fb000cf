// BatchNormalization: Keras' weights, the inference formula on the moving statistics, batch
// statistics and moving-average updates in the training step, checkpoints, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tessera/core/error.h"
#include "tessera/nn/layers.h"
#include "tessera/nn/normalization.h"
#include "tessera/train/checkpoint.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

Tensor sample_input(int64_t n, int64_t h, int64_t c) {
  Tensor x = Tensor::zeros(kF32, {n, h, c});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.set(i, 1.5 * std::sin(0.37 * static_cast<double>(i)) + 0.1 * static_cast<double>(i % c));
  return x;
}

TEST(BatchNormalization, WeightsAsKeras) {
  LayerPtr bn = BatchNormalization();
  bn(Input({5, 3}));
  ASSERT_EQ(bn->weights().size(), 4u);
  const char* names[] = {"batch_normalization/gamma", "batch_normalization/beta",
                         "batch_normalization/moving_mean", "batch_normalization/moving_variance"};
  const bool trainable[] = {true, true, false, false};
  const double init[] = {1, 0, 0, 1};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(bn->weights()[i]->name, names[i]);
    EXPECT_EQ(bn->weights()[i]->trainable, trainable[i]);
    EXPECT_EQ(bn->weights()[i]->value.shape(), (Shape{3}));
    EXPECT_EQ(bn->weights()[i]->value.get(2), init[i]);
  }
  LayerPtr plain = BatchNormalization({.center = false, .scale = false});
  plain(Input({4}));
  EXPECT_EQ(plain->weights().size(), 2u);
  auto x = Input({5, 3});
  Model m({x}, {BatchNormalization()(x)});
  EXPECT_NE(m.summary().find("Non-trainable params: 6"), std::string::npos) << m.summary();
}

TEST(BatchNormalization, InferenceUsesTheMovingStatistics) {
  auto x = Input({4, 3});
  LayerPtr bn = BatchNormalization({.epsilon = 0.01});
  Model m({x}, {bn(x)});
  const double gamma[] = {2, 0.5, 1}, beta[] = {0.1, -1, 0}, mean[] = {0.3, -0.2, 1},
               var[] = {4, 0.25, 1};
  for (int64_t c = 0; c < 3; ++c) {
    bn->weights()[0]->value.set(c, gamma[c]);
    bn->weights()[1]->value.set(c, beta[c]);
    bn->weights()[2]->value.set(c, mean[c]);
    bn->weights()[3]->value.set(c, var[c]);
  }
  Tensor in = sample_input(2, 4, 3);
  Tensor out = m.predict(in, 2);
  for (int64_t i = 0; i < in.numel(); ++i) {
    int64_t c = i % 3;
    double want = gamma[c] * (in.get(i) - mean[c]) / std::sqrt(var[c] + 0.01) + beta[c];
    EXPECT_NEAR(out.get(i), want, 1e-5) << i;
  }
}

// One training step on one batch: the moving statistics move 1 - momentum of the way to
// the batch's mean and biased variance; the training graph carries them as updates.
TEST(BatchNormalization, TrainingStepUpdatesTheMovingStatistics) {
  auto x = Input({4, 3});
  LayerPtr bn = BatchNormalization({.momentum = 0.9});
  Model m({x}, {Dense(2, {.activation = "softmax"})(Flatten()(bn(x)))});
  m.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy"});
  int updates = 0;
  for (const Graph::Update& u : m.train_graph().updates())
    updates += m.train_graph().node(u.parameter).name.find("moving_") != std::string::npos;
  EXPECT_EQ(updates, 2);
  Tensor in = sample_input(6, 4, 3);
  Tensor y = Tensor::zeros(kI32, {6});
  m.fit(in, y, {.epochs = 1, .batch_size = 6, .shuffle = false, .verbose = 0});
  for (int64_t c = 0; c < 3; ++c) {
    double mean = 0, sq = 0;
    for (int64_t i = c; i < in.numel(); i += 3) mean += in.get(i);
    mean /= 24.0;
    for (int64_t i = c; i < in.numel(); i += 3) sq += (in.get(i) - mean) * (in.get(i) - mean);
    double var = sq / 24.0;
    EXPECT_NEAR(bn->weights()[2]->value.get(c), 0.1 * mean, 1e-6) << c;
    EXPECT_NEAR(bn->weights()[3]->value.get(c), 0.9 + 0.1 * var, 1e-6) << c;
  }
  // Training mode normalizes by the batch: the normalized batch has mean 0 and variance
  // var / (var + eps) per channel, whatever the moving statistics.
}

TEST(BatchNormalization, MovingStatisticsAreSavedInCheckpoints) {
  auto x = Input({4, 3});
  Model m({x}, {Dense(2, {.activation = "softmax"})(Flatten()(BatchNormalization()(x)))});
  m.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  m.fit(sample_input(8, 4, 3), Tensor::zeros(kI32, {8}),
        {.epochs = 2, .batch_size = 4, .verbose = 0});
  std::string path = (std::filesystem::temp_directory_path() / "tessera_bn_test.tsm").string();
  save_model(m, path);
  Model loaded = load_model(path);
  std::filesystem::remove(path);
  std::vector<Tensor> a = m.get_weights(), b = loaded.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].to_f32_vector(), b[i].to_f32_vector()) << i;
  EXPECT_NE(a[2].get(0), 0.0);  // moving_mean moved
}

TEST(BatchNormalization, BadArgumentsAreClearErrors) {
  auto error_of = [](auto f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of([] { BatchNormalization({.momentum = 1.5}); })
                .find("layer 'batch_normalization' (BatchNormalization): momentum must be in [0, "
                      "1], got 1.5"),
            std::string::npos);
  EXPECT_NE(error_of([] { BatchNormalization({.epsilon = 0}); }).find("epsilon must be > 0"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              BatchNormalization({.axis = 1})(Input({4, 3}));
            }).find("axis 1 is not supported"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              BatchNormalization({.gamma_initializer = "bad"});
            }).find("unknown initializer"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera
