// The tessera command, in process: every subcommand on small synthetic data, its --json
// output, and the exact error lines and exit codes for bad input.
#include "tessera/cli/cli.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tessera/cli/model_spec.h"
#include "tessera/cli/sources.h"
#include "tessera/data/loaders.h"

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

class CliTest : public ScratchDirTest {
 protected:
  CliTest() : ScratchDirTest("tessera_cli_") {}
  // Trains seed-mlp for two quick epochs and saves "seed.tsm".
  void train_checkpoint() const {
    Result r = run({"train", "seed-mlp", "--dataset", "synthetic", "--epochs", "2", "--batch-size",
                    "64", "--verbose", "0", "--save", path("seed.tsm")});
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

TEST_F(CliTest, HelpOnEveryCommand) {
  for (const char* cmd : {"train", "evaluate", "predict", "summary", "demo", "generate"}) {
    Result r = run({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("--json"), std::string::npos) << cmd << ": " << r.out;
  }
  EXPECT_EQ(run({"--help"}).code, 0);
  EXPECT_NE(run({"--help"}).out.find("predict"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  Result r = run({"train", "seed-mlp", "--epochz", "3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--epochz"), std::string::npos) << r.err;
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"train"}).code, 2);  // neither MODEL nor --resume
  EXPECT_EQ(run({"train", "seed-mlp", "--optimizer", "adagrad"}).code, 2);
  EXPECT_EQ(run({"predict", "x.tsm", "--input", "x.npy"}).code, 2);  // --output missing
}

TEST_F(CliTest, TrainWritesJsonAndCheckpoint) {
  Result r = run({"train", "seed-mlp", "--dataset", "synthetic", "--epochs", "2", "--batch-size",
                  "64", "--seed", "3", "--threads", "1", "--verbose", "0", "--save", path("m.tsm"),
                  "--json", path("train.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  nlohmann::json j = read_json("train.json");
  EXPECT_EQ(j["command"], "train");
  EXPECT_EQ(j["model"], "seed-mlp");
  EXPECT_EQ(j["epochs"], 2);
  EXPECT_EQ(j["batch_size"], 64);
  EXPECT_EQ(j["optimizer"], "adam");
  EXPECT_EQ(j["history"]["loss"].size(), 2u);
  EXPECT_EQ(j["history"]["val_accuracy"].size(), 2u);
  EXPECT_GT(j["final"]["test_accuracy"].get<double>(), 0.8);
  EXPECT_GT(j["timings"]["train_seconds"].get<double>(), 0.0);
  EXPECT_GT(j["timings"]["train_samples_per_second"].get<double>(), 0.0);
  EXPECT_EQ(j["checkpoint"], path("m.tsm"));
  EXPECT_TRUE(fs::exists(path("m.tsm")));

  // evaluate on the same test split gives the same numbers.
  r = run({"evaluate", path("m.tsm"), "--dataset", "synthetic", "--json", path("eval.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json e = read_json("eval.json");
  EXPECT_EQ(e["split"], "test");
  EXPECT_EQ(e["samples"], kSyntheticTest);
  EXPECT_NEAR(e["metrics"]["accuracy"].get<double>(), j["final"]["test_accuracy"].get<double>(),
              1e-9);
}

TEST_F(CliTest, ResumeContinuesFromTheSavedEpoch) {
  train_checkpoint();
  Result r = run({"train", "--resume", path("seed.tsm"), "--dataset", "synthetic", "--epochs", "1",
                  "--verbose", "0", "--save", path("seed3.tsm"), "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("r.json");
  EXPECT_EQ(j["initial_epoch"], 2);
  EXPECT_EQ(j["history"]["epoch"], nlohmann::json::array({2}));
  r = run({"summary", path("seed3.tsm")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Checkpoint: epoch 3"), std::string::npos) << r.out;
}

TEST_F(CliTest, PredictWritesNpyFromNpyAndCsv) {
  train_checkpoint();
  Dataset d = synthetic_classification(1, 5);
  write_npy(path("x.npy"), d.x);
  Result r = run({"predict", path("seed.tsm"), "--input", path("x.npy"), "--output", path("p.npy"),
                  "--json", path("p.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor p = read_npy(path("p.npy"));
  EXPECT_EQ(p.shape(), (Shape{5, 10}));
  double sum = 0;
  for (int c = 0; c < 10; ++c) sum += p.get(c);
  EXPECT_NEAR(sum, 1.0, 1e-5);  // softmax outputs
  EXPECT_EQ(read_json("p.json")["samples"], 5);

  std::string csv = "f0";
  for (int i = 1; i < 32; ++i) csv += fmt::format(",f{}", i);
  csv += "\n";
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 32; ++i) csv += fmt::format("{}{:.9g}", i ? "," : "", d.x.get(s * 32 + i));
    csv += "\n";
  }
  write("x.csv", csv);
  r = run({"predict", path("seed.tsm"), "--input", path("x.csv"), "--output", path("q.npy")});
  ASSERT_EQ(r.code, 0) << r.err;
  Tensor q = read_npy(path("q.npy"));
  ASSERT_EQ(q.shape(), (Shape{3, 10}));
  for (int i = 0; i < 30; ++i) EXPECT_NEAR(q.get(i), p.get(i), 1e-4);
}

TEST_F(CliTest, PredictRejectsABadInputShape) {
  train_checkpoint();
  write_npy(path("bad.npy"), Tensor::zeros(kF32, {4, 7}));
  Result r =
      run({"predict", path("seed.tsm"), "--input", path("bad.npy"), "--output", path("out.npy")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: input '" + path("bad.npy") +
                       "': samples have shape [7] (7 values), the model expects [32] (32 "
                       "values)\n");
  EXPECT_FALSE(fs::exists(path("out.npy")));
}

TEST_F(CliTest, SummaryOfZooModelsAndSpecs) {
  Result r = run({"summary", "mnist-mlp", "--json", path("s.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("235,146"), std::string::npos) << r.out;  // 784·256+256 + … + 1290
  EXPECT_EQ(read_json("s.json")["params"], 235146);
  for (const std::string& name : zoo_names()) EXPECT_EQ(run({"summary", name}).code, 0) << name;
  r = run({"summary", "--list"});
  EXPECT_NE(r.out.find("mnist-resmlp"), std::string::npos);
}

TEST_F(CliTest, UnknownModelAndMissingFiles) {
  Result r = run({"train", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: unknown model 'nope': not a zoo model (gpt-tiny, gpt2-small, mnist-cnn, "
            "mnist-dropout, mnist-linear, mnist-mlp, mnist-resmlp, resnet-small, seed-mlp) and no "
            "such file\n");
  r = run({"evaluate", path("missing.tsm")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: model file '" + path("missing.tsm") + "' does not exist\n");
  r = run({"train", "seed-mlp", "--dataset", path("none.csv"), "--verbose", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path("none.csv")), std::string::npos) << r.err;
  r = run({"train", "seed-mlp", "--dataset", "imagenet"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown dataset 'imagenet'"), std::string::npos) << r.err;
}

TEST_F(CliTest, CorruptCheckpointIsOneErrorLine) {
  write("bad.tsm", "this is not a checkpoint at all, but it is long enough");
  Result r = run({"evaluate", path("bad.tsm"), "--dataset", "synthetic"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: checkpoint '" + path("bad.tsm") + "': bad magic: not a Tessera checkpoint\n");
  train_checkpoint();
  std::string bytes = read("seed.tsm");
  write("cut.tsm", bytes.substr(0, bytes.size() / 2));
  r = run({"summary", path("cut.tsm")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, fmt::format("error: checkpoint '{}': truncated: file is {} bytes, the "
                               "prelude says {}\n",
                               path("cut.tsm"), bytes.size() / 2, bytes.size()));
}

std::string csv_rows(int rows, int features, const std::string& last_label,
                     const std::string& odd_value = "") {
  std::string csv;
  for (int i = 0; i < features; ++i) csv += fmt::format("f{},", i);
  csv += "label\n";
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < features; ++i) {
      bool odd = r == rows - 1 && i == 1 && !odd_value.empty();
      csv += fmt::format("{},", odd ? odd_value : std::string("0.5"));
    }
    csv += fmt::format("{}\n", r == rows - 1 ? last_label : std::to_string(r % 10));
  }
  return csv;
}

TEST_F(CliTest, BadDataIsReportedAndThePreviousCheckpointIsKept) {
  train_checkpoint();
  std::string before = read("seed.tsm");

  write("labels.csv", csv_rows(20, 32, "12"));
  Result r = run({"train", "--resume", path("seed.tsm"), "--dataset", path("labels.csv"), "--save",
                  path("seed.tsm"), "--verbose", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: dataset '" + path("labels.csv") +
                       "': label 12 of record 19 is out of range: the model has 10 classes "
                       "(expected an integer in 0..9)\n");

  write("shape.csv", csv_rows(20, 5, "1"));
  r = run({"train", "--resume", path("seed.tsm"), "--dataset", path("shape.csv"), "--save",
           path("seed.tsm"), "--verbose", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: dataset '" + path("shape.csv") +
                       "': samples have shape [5] (5 values), the model expects [32] (32 "
                       "values)\n");

  write("nan.csv", csv_rows(20, 32, "1", "nan"));
  r = run({"train", "--resume", path("seed.tsm"), "--dataset", path("nan.csv"), "--save",
           path("seed.tsm"), "--verbose", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nan.csv"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  EXPECT_EQ(read("seed.tsm"), before);
}

TEST_F(CliTest, TrainFromYamlSpecWithCompileSettings) {
  write("tiny.yaml", R"(name: tiny
input_shape: [32]
layers:
  - Dense: {units: 16, activation: tanh}
  - Dropout: {rate: 0.1}
  - Dense: {units: 10, activation: softmax}
compile:
  optimizer: sgd
  learning_rate: 0.05
  momentum: 0.9
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
)");
  Result r = run(
      {"train", path("tiny.yaml"), "--epochs", "1", "--verbose", "0", "--json", path("t.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("t.json");
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["dataset"], "synthetic");  // chosen from the input shape
  EXPECT_EQ(j["optimizer"], "sgd");
  EXPECT_DOUBLE_EQ(j["learning_rate"].get<double>(), 0.05);

  write("broken.yaml", "input_shape: [32]\nlayers:\n  - Dense: {units: 4}\n  - Dens: {}\n");
  r = run({"summary", path("broken.yaml")});
  EXPECT_EQ(r.code, 1);
  // The known classes grow with the layers; the start of the line and a member suffice.
  EXPECT_EQ(r.err.rfind("error: " + path("broken.yaml") +
                            ":4: unknown layer 'Dens' (known: Activation, Add, ",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find(", Dense, "), std::string::npos) << r.err;
}

TEST_F(CliTest, ReferenceBackendTrains) {
  Result r = run({"train", "seed-mlp", "--dataset", "synthetic", "--epochs", "1", "--backend",
                  "ref", "--batch-size", "256", "--verbose", "0", "--json", path("ref.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_json("ref.json")["backend"], "ref");
}

}  // namespace
}  // namespace tessera::cli
