// Callbacks: the progress bar's output, EarlyStopping, CSVLogger, LearningRateScheduler,
// TerminateOnNaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;
using train_test::seed_config;
using train_test::seed_model;
using train_test::weights_of;

std::string temp_path(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tessera_train_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// Records what a callback sees, for checking the others.
class Recorder : public Callback {
 public:
  void on_epoch_end(Model& m, int epoch, const Logs& logs) override {
    epochs.push_back(epoch);
    weights.push_back(weights_of(m));
    learning_rates.push_back(m.optimizer()->current_learning_rate());
    last_logs = logs;
  }
  std::vector<int> epochs;
  std::vector<std::vector<std::vector<float>>> weights;
  std::vector<double> learning_rates;
  Logs last_logs;
};

struct Fixture {
  Dataset data = synthetic_classification(7, 400);
  Dataset train = data.slice(0, 320), val = data.slice(320, 400);
  Sequential model = seed_model(1);
  Fixture() { model.compile(seed_config()); }
};

TEST(ProgressBar, OneLinePerEpochWhenNotATerminal) {
  for (int verbose : {1, 2}) {
    Fixture f;
    testing::internal::CaptureStdout();
    f.model.fit(f.train, {.epochs = 2, .validation_data = f.val, .verbose = verbose});
    std::string out = testing::internal::GetCapturedStdout();
    auto lines = lines_of(out);
    ASSERT_EQ(lines.size(), 2u) << out;
    EXPECT_EQ(out.find('\r'), std::string::npos);
    for (int e = 0; e < 2; ++e) {
      const std::string& l = lines[static_cast<size_t>(e)];
      EXPECT_EQ(l.rfind(fmt::format("Epoch {}/2 - 10/10 - ", e + 1), 0), 0u) << l;
      EXPECT_TRUE(contains(l, "/step - loss: ")) << l;
      // Keras' order: loss, metrics, val_loss, val metrics.
      size_t loss = l.find(" loss: "), acc = l.find(" accuracy: "), vl = l.find(" val_loss: "),
             va = l.find(" val_accuracy: ");
      EXPECT_TRUE(loss < acc && acc < vl && vl < va) << l;
    }
  }
}

TEST(ProgressBar, LiveBarOnATerminal) {
  Fixture f;
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  f.model.fit(f.train, {.epochs = 1,
                        .validation_data = f.val,
                        .callbacks = {progress_bar(1, out, /*terminal=*/true)},
                        .verbose = 0});
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  EXPECT_EQ(text.rfind("Epoch 1/1\n\r", 0), 0u) << text;
  EXPECT_TRUE(contains(text, "10/10 [==============================] - ")) << text;
  EXPECT_TRUE(contains(text, " - val_accuracy: ")) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(ProgressBar, SilentAtVerboseZero) {
  Fixture f;
  testing::internal::CaptureStdout();
  f.model.fit(f.train, {.epochs = 1, .verbose = 0});
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
}

TEST(EarlyStopping, StopsAndRestoresTheBestWeights) {
  Fixture f;
  auto rec = std::make_shared<Recorder>();
  // No later epoch can beat the first by 100: patience 1 stops after epoch 1.
  History h =
      f.model.fit(f.train, {.epochs = 10,
                            .validation_data = f.val,
                            .callbacks = {rec, early_stopping({.monitor = "val_loss",
                                                               .min_delta = 100,
                                                               .patience = 1,
                                                               .restore_best_weights = true})},
                            .verbose = 0});
  EXPECT_EQ(h.epochs, (std::vector<int>{0, 1}));
  EXPECT_EQ(f.model.epoch(), 2);
  ASSERT_EQ(rec->weights.size(), 2u);
  EXPECT_NE(rec->weights[0], rec->weights[1]);
  EXPECT_EQ(weights_of(f.model), rec->weights[0]);  // the best epoch's weights
}

TEST(EarlyStopping, AccuracyIsMaximised) {
  Fixture f;
  History h = f.model.fit(
      f.train, {.epochs = 6,
                .validation_data = f.val,
                .callbacks = {early_stopping({.monitor = "val_accuracy", .patience = 10})},
                .verbose = 0});
  EXPECT_EQ(h.epochs.size(), 6u);  // patience not exhausted
  EXPECT_THROW(early_stopping({.mode = "sideways"}), Error);
}

TEST(CsvLogger, WritesOneRowPerEpoch) {
  Fixture f;
  std::string path = temp_path("history.csv");
  History h = f.model.fit(
      f.train,
      {.epochs = 3, .validation_data = f.val, .callbacks = {csv_logger(path)}, .verbose = 0});
  auto lines = lines_of(read_all(path));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,accuracy,loss,val_accuracy,val_loss");
  for (int e = 0; e < 3; ++e) {
    std::stringstream row(lines[static_cast<size_t>(e) + 1]);
    std::string cell;
    std::vector<double> v;
    while (std::getline(row, cell, ',')) v.push_back(std::stod(cell));
    ASSERT_EQ(v.size(), 5u);
    EXPECT_EQ(v[0], e);
    EXPECT_DOUBLE_EQ(v[1], h.history["accuracy"][static_cast<size_t>(e)]);
    EXPECT_DOUBLE_EQ(v[2], h.history["loss"][static_cast<size_t>(e)]);
    EXPECT_DOUBLE_EQ(v[4], h.history["val_loss"][static_cast<size_t>(e)]);
  }
  // append = true continues the file under the same header.
  f.model.fit(f.train, {.epochs = 4,
                        .validation_data = f.val,
                        .callbacks = {csv_logger(path, true)},
                        .verbose = 0,
                        .initial_epoch = 3});
  lines = lines_of(read_all(path));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4].rfind("3,", 0), 0u);
}

TEST(LearningRateScheduler, SetsTheRatePerEpoch) {
  Fixture f;
  auto rec = std::make_shared<Recorder>();
  f.model.fit(
      f.train,
      {.epochs = 3,
       .callbacks = {learning_rate_scheduler([](int64_t e) { return 0.01 / (e + 1); }), rec},
       .verbose = 0});
  ASSERT_EQ(rec->learning_rates.size(), 3u);
  EXPECT_NEAR(rec->learning_rates[0], 0.01, 1e-9);
  EXPECT_NEAR(rec->learning_rates[1], 0.005, 1e-9);
  EXPECT_NEAR(rec->learning_rates[2], 0.01 / 3, 1e-9);
}

TEST(TerminateOnNaN, RaisesNamingEpochAndBatch) {
  Fixture f;
  CallbackPtr cb = terminate_on_nan();
  cb->on_epoch_begin(f.model, 4, {});
  cb->on_batch_end(f.model, 0, {{"loss", 0.5}});
  std::string e = error_of([&] { cb->on_batch_end(f.model, 6, {{"loss", std::nan("")}}); });
  EXPECT_TRUE(contains(e, "epoch 5 batch 7")) << e;
  EXPECT_TRUE(f.model.stop_training);
}

}  // namespace
}  // namespace tessera
