// `tessera profile` (per-node times on cpu, the GPU model's estimates beside them, --json,
// --top, bad targets) and `tessera simulate --target gpu…`.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class ProfileCli : public ScratchDirTest {
 protected:
  ProfileCli() : ScratchDirTest("tessera_profile_cli_") {}
};

TEST_F(ProfileCli, InferenceOnCpuMeasuresEveryNode) {
  Result r = run({"profile", "mnist-mlp", "--batch", "16", "--repeat", "2", "--top", "3", "--json",
                  path("p.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "mnist-mlp — inference, batch 16, backend cpu")) << r.out;
  EXPECT_TRUE(contains(r.out, "matmul")) << r.out;
  EXPECT_TRUE(contains(r.out, "more node(s)")) << r.out;
  EXPECT_FALSE(contains(r.out, "estimate")) << r.out;  // no GPU model on cpu by default
  nlohmann::json j = read_json("p.json");
  EXPECT_EQ(j["command"], "profile");
  EXPECT_EQ(j["batch"], 16);
  EXPECT_FALSE(j["training"].get<bool>());
  EXPECT_TRUE(j["target"].is_null());
  ASSERT_GT(j["nodes"].size(), 3u);  // --top trims the table, not the JSON
  double share = 0, measured = 0;
  for (const nlohmann::json& n : j["nodes"]) {
    for (const char* key :
         {"name", "op", "shape", "backend", "segment", "node", "measured_seconds", "share"})
      EXPECT_TRUE(n.contains(key)) << key;
    EXPECT_FALSE(n.contains("estimate_seconds"));
    EXPECT_EQ(n["backend"], "cpu");
    EXPECT_GE(n["measured_seconds"].get<double>(), 0.0);
    share += n["share"].get<double>();
    measured += n["measured_seconds"].get<double>();
  }
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_NEAR(j["totals"]["measured_seconds"].get<double>(), measured, 1e-12);
  EXPECT_GT(j["totals"]["wall_seconds"].get<double>(), 0);
  // Slowest first.
  EXPECT_GE(j["nodes"][0]["measured_seconds"].get<double>(),
            j["nodes"][1]["measured_seconds"].get<double>());
}

TEST_F(ProfileCli, TrainingStepWithTheGpuModelsEstimates) {
  Result r = run({"profile", "mnist-mlp", "--train", "--batch", "8", "--repeat", "1", "--target",
                  "gpu:t4", "--top", "0", "--json", path("p.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "estimates: gpu:t4")) << r.out;
  EXPECT_TRUE(contains(r.out, "meas/est")) << r.out;
  nlohmann::json j = read_json("p.json");
  EXPECT_TRUE(j["training"].get<bool>());
  EXPECT_EQ(j["target"], "gpu:t4");
  int estimated = 0, updates = 0;
  for (const nlohmann::json& n : j["nodes"]) {
    updates += n["name"].get<std::string>().starts_with("optimizer/");
    if (!n.contains("estimate_seconds")) continue;
    ++estimated;
    EXPECT_GE(n["estimate_seconds"].get<double>(), 3e-6);  // at least a kernel launch
    EXPECT_NEAR(n["ratio"].get<double>(),
                n["measured_seconds"].get<double>() / n["estimate_seconds"].get<double>(), 1e-9);
  }
  EXPECT_GT(updates, 0);
  EXPECT_GE(estimated, static_cast<int>(j["nodes"].size()) - 2);
  EXPECT_GT(j["totals"]["estimate_seconds"].get<double>(), 0);
  EXPECT_GT(j["totals"]["ratio"].get<double>(), 0);
}

TEST_F(ProfileCli, BadTargetsAreClearErrors) {
  Result r = run({"profile", "mnist-mlp", "--repeat", "1", "--target", "gpu:v100"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "unknown GPU preset 'v100' (known: t4, a100, h100, h200")) << r.err;
  r = run({"profile", "mnist-mlp", "--repeat", "1", "--target", "tpu:tpu-v4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err,
                       "--target 'tpu:tpu-v4': profile estimates per node with the GPU "
                       "model only"))
      << r.err;
  r = run({"profile", "mnist-mlp", "--repeat", "0"});
  EXPECT_EQ(r.code, 2);
  r = run({"profile", "no-such-model"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "no-such-model")) << r.err;
}

TEST_F(ProfileCli, SimulateOnTheGpuModel) {
  Result r = run({"simulate", "--target", "gpu:a100", "gpt-tiny", "--train", "--batch", "2",
                  "--per-op", "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "gpt-tiny on gpu:a100")) << r.out;
  EXPECT_TRUE(contains(r.out, "fused_elementwise")) << r.out;
  EXPECT_TRUE(contains(r.out, "108 SMs")) << r.out;
  nlohmann::json j = read_json("r.json");
  EXPECT_EQ(j["report"]["target"], "gpu");
  EXPECT_EQ(j["report"]["config"], "a100");
  EXPECT_GT(j["report"]["totals"]["seconds"].get<double>(), 0);
  r = run({"simulate", "--target", "gpu", "mnist-mlp", "--pod", "1,8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "TPU options")) << r.err;
  r = run({"simulate", "--target", "gpu:" + path("missing.yaml"), "mnist-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "missing.yaml")) << r.err;
}

}  // namespace
}  // namespace tessera::cli
