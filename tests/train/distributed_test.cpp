// The mirrored strategy (replicas as threads) and deterministic reduction: N replicas with
// per-replica batch B/N train like one replica with batch B (within rounding), and
// bit-identically with `deterministic`; faults name the replica; mid-epoch resume.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "distributed_test_util.h"
#include "tessera/core/error.h"
#include "tessera/train/checkpoint.h"

namespace tessera {
namespace {

using namespace testing_distributed;

TEST(Mirrored, ReplicasMatchOneReplicaWithTheWholeBatch) {
  std::vector<Tensor> one = train_weights({});
  for (int replicas : {2, 4}) {
    SCOPED_TRACE(replicas);
    History h;
    std::vector<Tensor> many = train_weights({.strategy = "mirrored", .replicas = replicas}, &h);
    expect_close(many, one, 2e-5);
    EXPECT_EQ(h.history["loss"].size(), 2u);
  }
}

TEST(Mirrored, WorksWithSgdAccumulationAndClipping) {
  RunOptions base{.optimizer = "sgd", .accumulation = 2, .global_clipnorm = 0.5};
  std::vector<Tensor> one = train_weights(base);
  RunOptions m = base;
  m.strategy = "mirrored";
  expect_close(train_weights(m), one, 2e-5);
}

TEST(Mirrored, ABatchSmallerThanTheReplicaCountStillTrains) {
  // 10 samples, batch 4: the last batch has 2 samples for 4 replicas (two empty shares).
  RunOptions o{.batch_size = 4, .epochs = 1, .samples = 10};
  std::vector<Tensor> one = train_weights(o);
  o.strategy = "mirrored";
  o.replicas = 4;
  expect_close(train_weights(o), one, 2e-5);
}

TEST(Deterministic, OneTwoAndFourReplicasAreBitIdentical) {
  for (bool dropout : {false, true}) {
    SCOPED_TRACE(dropout);
    std::vector<Tensor> one = train_weights({.deterministic = true, .dropout = dropout});
    for (int replicas : {1, 2, 4})
      expect_bit_identical(train_weights({.strategy = "mirrored",
                                          .replicas = replicas,
                                          .deterministic = true,
                                          .dropout = dropout}),
                           one);
  }
}

TEST(Deterministic, StaysCloseToTheFusedStep) {
  expect_close(train_weights({.deterministic = true}), train_weights({}), 2e-5);
}

TEST(Deterministic, ThreeReplicasAreRefused) {
  try {
    train_weights({.strategy = "mirrored", .replicas = 3, .deterministic = true});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must divide 4"), std::string::npos) << e.what();
  }
}

TEST(Mirrored, AHungReplicaIsNamedWithinTheTimeout) {
  ::setenv("TESSERA_FAULT", "hang:1:3", 1);
  auto t0 = std::chrono::steady_clock::now();
  try {
    train_weights({.strategy = "mirrored", .replicas = 2, .timeout = 0.3});
    ::unsetenv("TESSERA_FAULT");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    ::unsetenv("TESSERA_FAULT");
    EXPECT_NE(std::string(e.what()).find("replica 1 did not answer within 0.3 s during "
                                         "all-reduce of step 3"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10);
}

TEST(Strategies, UnknownStrategyAndBadReplicaCountsAreErrors) {
  Sequential model = distributed_model(false);
  CompileConfig c = distributed_config({});
  c.strategy = "parameter_server";
  EXPECT_THROW(model.compile(c), Error);
  c.strategy = "mirrored";
  c.replicas = -1;
  EXPECT_THROW(model.compile(c), Error);
}

// A checkpoint written inside an epoch records its position; resuming there with another
// replica count gives the weights of the uninterrupted run (bit for bit, deterministic).
TEST(Resume, MidEpochCheckpointResumesWithAnotherReplicaCount) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("tessera_dp_resume_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "mid.tsm").string();
  RunOptions o{.strategy = "mirrored", .replicas = 2, .deterministic = true};
  std::vector<Tensor> straight = train_weights(o);

  Dataset data = synthetic_classification(11, o.samples, 12, 5);
  {
    Sequential model = distributed_model(false);
    model.compile(distributed_config(o));
    // Crashes after 3 batches of the second epoch; the checkpoint is written every 3 batches.
    struct CrashAt : Callback {
      void on_batch_end(Model& m, int64_t batch, const Logs&) override {
        if (m.epoch() == 1 && batch == 2) throw_error(ErrorKind::kInternal, "crash");
      }
    };
    EXPECT_THROW(
        model.fit(data, {.epochs = 2,
                         .batch_size = 16,
                         .seed = 4,
                         .callbacks = {model_checkpoint({.filepath = path, .save_freq = 3}),
                                       std::make_shared<CrashAt>()},
                         .verbose = 0}),
        Error);
  }
  Model resumed = load_model(path);
  EXPECT_EQ(resumed.epoch(), 1);
  EXPECT_EQ(resumed.position().batch, 3);
  resumed.set_distribution("mirrored", 4, true, 30);
  resumed.fit(
      data,
      {.epochs = 2, .batch_size = 16, .seed = 4, .verbose = 0, .initial_epoch = resumed.epoch()});
  std::vector<Tensor> w = resumed.get_weights();
  for (const VariablePtr& v : resumed.optimizer()->variables()) w.push_back(v->value.clone());
  expect_bit_identical(w, straight);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera
