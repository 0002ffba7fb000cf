// ModelCheckpoint through save_model/load_model (checkpoint.cpp): files per epoch, best
// only, and resuming from a checkpoint reproduces an uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>

#include "tessera/train/checkpoint.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;
using train_test::seed_config;
using train_test::seed_model;
using train_test::weights_of;

std::filesystem::path temp_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("tessera_ckpt_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(ModelCheckpoint, SavesEveryEpochWithTheEpochInTheName) {
  Dataset d = synthetic_classification(7, 200);
  Sequential model = seed_model(1);
  model.compile(seed_config());
  std::string pattern = (temp_dir() / "every-{epoch:02d}.tsm").string();
  model.fit(d, {.epochs = 2, .callbacks = {model_checkpoint({.filepath = pattern})}, .verbose = 0});
  EXPECT_TRUE(std::filesystem::exists(temp_dir() / "every-01.tsm"));
  ASSERT_TRUE(std::filesystem::exists(temp_dir() / "every-02.tsm"));
  Model loaded = load_model((temp_dir() / "every-02.tsm").string());
  EXPECT_EQ(loaded.epoch(), 2);
  EXPECT_EQ(weights_of(loaded), weights_of(model));
}

TEST(ModelCheckpoint, BestOnlyKeepsTheBestEpoch) {
  Dataset d = synthetic_classification(7, 300);
  Sequential model = seed_model(1);
  model.compile(seed_config());
  std::string path = (temp_dir() / "best.tsm").string();
  History h =
      model.fit(d, {.epochs = 4,
                    .validation_split = 0.2,
                    .callbacks = {model_checkpoint(
                        {.filepath = path, .monitor = "val_accuracy", .save_best_only = true})},
                    .verbose = 0});
  const auto& acc = h.history["val_accuracy"];
  size_t best = 0;
  for (size_t i = 1; i < acc.size(); ++i)
    if (acc[i] > acc[best]) best = i;
  Model loaded = load_model(path);
  EXPECT_EQ(loaded.epoch(), static_cast<int>(best) + 1);
}

TEST(ModelCheckpoint, ResumingReproducesAnUninterruptedRun) {
  Dataset d = synthetic_classification(7, 200);
  Sequential straight = seed_model(1);
  straight.compile(seed_config());
  straight.fit(d, {.epochs = 4, .seed = 5, .verbose = 0});

  Sequential first = seed_model(1);
  first.compile(seed_config());
  std::string path = (temp_dir() / "resume.tsm").string();
  first.fit(
      d,
      {.epochs = 2, .seed = 5, .callbacks = {model_checkpoint({.filepath = path})}, .verbose = 0});
  Model resumed = load_model(path);
  ASSERT_EQ(resumed.epoch(), 2);
  resumed.fit(d, {.epochs = 4, .seed = 5, .verbose = 0, .initial_epoch = resumed.epoch()});
  EXPECT_EQ(resumed.step(), straight.step());
  EXPECT_EQ(weights_of(resumed), weights_of(straight));
}

TEST(ModelCheckpoint, BadPatternIsAnError) {
  Dataset d = synthetic_classification(7, 40);
  Sequential model = seed_model(1);
  model.compile(seed_config());
  std::string e = error_of([&] {
    model.fit(d, {.callbacks = {model_checkpoint({.filepath = "x-{nope}.tsm"})}, .verbose = 0});
  });
  EXPECT_TRUE(contains(e, "x-{nope}.tsm")) << e;
}

}  // namespace
}  // namespace tessera
