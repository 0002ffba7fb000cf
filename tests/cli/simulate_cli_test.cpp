// `tessera simulate`: a model on the TPU presets and a config file, the training step, pod
// scaling, --json, and clear errors for bad targets, configs and options.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class SimulateCli : public ScratchDirTest {
 protected:
  SimulateCli() : ScratchDirTest("tessera_simulate_cli_") {}
};

TEST_F(SimulateCli, InferenceOnAPresetPrintsTheLayersAndWritesJson) {
  Result r = run({"simulate", "--target", "tpu:tpu-v4", "mnist-mlp", "--batch", "64", "--json",
                  path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "mnist-mlp on tpu:tpu-v4")) << r.out;
  EXPECT_TRUE(contains(r.out, "dense_1")) << r.out;
  EXPECT_TRUE(contains(r.out, "roofline")) << r.out;
  nlohmann::json j = read_json("r.json");
  const nlohmann::json& rep = j["report"];
  EXPECT_EQ(rep["target"], "tpu");
  EXPECT_EQ(rep["config"], "tpu-v4");
  EXPECT_EQ(rep["batch"], 64);
  EXPECT_DOUBLE_EQ(rep["totals"]["macs"].get<double>(), 64.0 * (784 * 256 + 256 * 128 + 128 * 10));
}

TEST_F(SimulateCli, TrainingStepWithPodScaling) {
  Result r = run({"simulate", "--target", "tpu", "mnist-mlp", "--train", "--batch", "32",
                  "--fidelity", "analytic", "--pod", "1,4,16", "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "backward")) << r.out;
  EXPECT_TRUE(contains(r.out, "torus 4x4")) << r.out;
  nlohmann::json j = read_json("r.json");
  EXPECT_TRUE(j["report"]["training"].get<bool>());
  ASSERT_EQ(j["pod"]["steps"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["pod"]["steps"][0]["scaling_efficiency"].get<double>(), 1.0);
}

TEST_F(SimulateCli, ConfigFileTarget) {
  write("mine.yaml", "name: mine\nbase: tpu-v4\nmatrix_units: 1\narray: {rows: 32, cols: 32}\n");
  Result r = run({"simulate", "--target", "tpu:" + path("mine.yaml"), "mnist-mlp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "on tpu:mine")) << r.out;
  EXPECT_TRUE(contains(r.out, "32x32")) << r.out;
}

TEST_F(SimulateCli, ScaleSimConfigAndTopology) {
  write("a.cfg",
        "[general]\nrun_name = mine\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\n"
        "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nIfmapOffset: 0\n"
        "FilterOffset: 10000000\nOfmapOffset: 20000000\nDataflow: os\nBandwidth: 10\n"
        "MemoryBanks: 1\n[run_presets]\nInterfaceBandwidth: CALC\n");
  write("t.csv",
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
        "Filter, Strides,\nconv1, 12, 12, 3, 3, 4, 8, 1,\nfc, 1, 1, 1, 1, 64, 10, 1,\n");
  Result r = run({"simulate", "--target", "tpu:" + path("a.cfg"), "--topology", path("t.csv"),
                  "--scalesim-out", path("out"), "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "8x8 os")) << r.out;
  EXPECT_TRUE(contains(r.out, "conv1")) << r.out;
  EXPECT_TRUE(contains(read("out/COMPUTE_REPORT.csv"), "Total Cycles"));  // SCALE-Sim: LayerID
  nlohmann::json j = read_json("r.json");
  ASSERT_EQ(j["scalesim"]["layers"].size(), 2u);
  EXPECT_GT(j["scalesim"]["total_cycles"].get<int64_t>(), 0);
  // The same config costs a model too.
  r = run({"simulate", "--target", "tpu:" + path("a.cfg"), "mnist-mlp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "on tpu:mine")) << r.out;
  // A topology row with a missing field names the file, line and column.
  write("bad.csv", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                   "Channels, Num Filter, Strides,\nconv1, 12, 12, 3, 3,\n");
  r = run({"simulate", "--target", "tpu:" + path("a.cfg"), "--topology", path("bad.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "bad.csv:2")) << r.err;
}

TEST_F(SimulateCli, AccuracyInTheTargetsNumerics) {
  // The synthetic dataset (seed-mlp's) needs no installed data.
  Result r = run({"simulate", "--target", "tpu:tpu-v1", "seed-mlp", "--accuracy", "--json",
                  path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "accuracy in int8 per-channel")) << r.out;
  EXPECT_TRUE(contains(r.out, "initial weights")) << r.out;  // not a checkpoint
  nlohmann::json acc = read_json("r.json")["report"]["accuracy"];
  EXPECT_EQ(acc["samples"], 2000);
  EXPECT_GT(acc["agreement"].get<double>(), 0.9);
  r = run({"simulate", "--target", "tpu:tpu-v4", "seed-mlp", "--accuracy", "--numerics",
           "int8-per-tensor"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "int8 per-tensor")) << r.out;
}

TEST_F(SimulateCli, ClearErrors) {
  Result r = run({"simulate", "--target", "npu", "mnist-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "unknown target 'npu'")) << r.err;
  r = run({"simulate", "--target", "tpu:tpu-v9", "mnist-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "tpu-v9")) << r.err;
  write("bad.yaml", "array: {rows: 0}\n");
  r = run({"simulate", "--target", "tpu:" + path("bad.yaml"), "mnist-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "bad.yaml:1")) << r.err;
  EXPECT_TRUE(contains(r.err, "array.rows")) << r.err;
  // tpu-v1 is an inference part.
  r = run({"simulate", "--target", "tpu:tpu-v1", "mnist-mlp", "--train"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "inference only")) << r.err;
  r = run({"simulate", "--target", "tpu", "mnist-mlp", "--pod", "1,8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "--train")) << r.err;
  r = run({"simulate", "--target", "tpu", "mnist-mlp", "--train", "--pod", "1,x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "'x'")) << r.err;
  r = run({"simulate", "--target", "tpu", "mnist-mlp", "--batch", "0"});
  EXPECT_EQ(r.code, 2);
  r = run({"simulate", "--target", "tpu"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "MODEL")) << r.err;
}

}  // namespace
}  // namespace tessera::cli
