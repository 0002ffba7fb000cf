// Gradient accumulation: k steps of batch B update the weights as one step of batch k·B
// (the loss is a mean over the batch, and the optimizer applies the mean of the k
// gradients), the iteration counter counts applied steps, and the state survives a
// checkpoint.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "tessera/train/checkpoint.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::seed_model;
using train_test::weights_of;

void expect_same_weights(const Model& a, const Model& b, double tol) {
  auto wa = weights_of(a), wb = weights_of(b);
  ASSERT_EQ(wa.size(), wb.size());
  double worst = 0;
  for (size_t i = 0; i < wa.size(); ++i)
    for (size_t j = 0; j < wa[i].size(); ++j)
      worst = std::max(worst, static_cast<double>(std::fabs(wa[i][j] - wb[i][j])));
  EXPECT_LE(worst, tol) << "largest weight difference " << worst;
}

CompileConfig config(const std::string& optimizer, int64_t k) {
  CompileConfig c = train_test::seed_config(optimizer);
  c.optimizer_options.learning_rate = 0.05;
  if (optimizer == "sgd") c.optimizer_options.momentum = 0.9;
  c.optimizer_options.gradient_accumulation_steps = k;
  return c;
}

TEST(GradientAccumulation, EqualsOneStepWithAKTimesLargerBatch) {
  Dataset d = synthetic_classification(3, 256);
  for (const char* optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    Sequential accumulated = seed_model(5), large = seed_model(5);
    accumulated.compile(config(optimizer, 4));
    large.compile(config(optimizer, 0));
    // 3 epochs: 12 steps of 64 (3 applied) against 3 steps of 256.
    accumulated.fit(d, {.epochs = 3, .batch_size = 64, .shuffle = false, .verbose = 0});
    large.fit(d, {.epochs = 3, .batch_size = 256, .shuffle = false, .verbose = 0});
    expect_same_weights(accumulated, large, 1e-5);
    EXPECT_EQ(accumulated.optimizer()->iterations(), 3);
    EXPECT_EQ(accumulated.optimizer()->steps_seen(), 12);
    EXPECT_EQ(accumulated.step(), 12);
    EXPECT_EQ(large.optimizer()->iterations(), 3);
  }
}

TEST(GradientAccumulation, WeightsMoveOnlyEveryKthStep) {
  Dataset d = synthetic_classification(3, 96);
  Sequential m = seed_model(2);
  m.compile(config("sgd", 3));
  auto before = weights_of(m);
  m.fit(d.slice(0, 64), {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  EXPECT_EQ(weights_of(m), before);  // two of three steps: only the accumulators change
  EXPECT_EQ(m.optimizer()->iterations(), 0);
  EXPECT_EQ(m.optimizer()->steps_seen(), 2);
  m.fit(d.slice(64, 96), {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  EXPECT_NE(weights_of(m), before);
  EXPECT_EQ(m.optimizer()->iterations(), 1);
  EXPECT_EQ(m.optimizer()->steps_seen(), 3);
}

TEST(GradientAccumulation, PendingGradientsSurviveACheckpoint) {
  Dataset d = synthetic_classification(3, 128);
  auto path = (std::filesystem::temp_directory_path() / "tessera_accumulation_test.tsm").string();
  Sequential straight = seed_model(4), resumed_src = seed_model(4);
  straight.compile(config("adam", 4));
  resumed_src.compile(config("adam", 4));
  straight.fit(d, {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  // Two steps, save (two gradients pending), load, two more steps.
  resumed_src.fit(d.slice(0, 64), {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  save_model(resumed_src, path);
  Model resumed = load_model(path);
  EXPECT_EQ(resumed.compile_config().optimizer_options.gradient_accumulation_steps, 4);
  EXPECT_EQ(resumed.optimizer()->steps_seen(), 2);
  resumed.fit(d.slice(64, 128), {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  expect_same_weights(straight, resumed, 1e-6);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tessera
