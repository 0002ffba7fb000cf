// tessera compare / explore / advise: the report follows tessera.compare_report/1, explore's
// cache resumes, the Pareto front and the scenario choice, and every bad input's message.
// Small models on the synthetic task keep each test to seconds.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_test_util.h"
#include "tessera/cli/compare.h"
#include "tessera/core/error.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

class CompareCliTest : public ScratchDirTest {
 protected:
  CompareCliTest() : ScratchDirTest("tessera_compare_") {}
};

const char* kRowFields[] = {"target", "kind", "method", "device", "numerics", "accuracy",
                            "latency_seconds", "throughput_per_second",
                            "energy_per_inference_joules", "power_watts", "area_mm2",
                            "fpga_resources", "utilization", "bound", "peak_ops_per_second",
                            "memory_bandwidth_bytes_per_second", "layers", "notes", "error"};

TEST_F(CompareCliTest, ReportFollowsTheSchemaWithARowPerTarget) {
  Result r = run({"compare", "seed-mlp", "--dataset", "synthetic", "--samples", "300", "--batch",
                  "16", "--targets", "cpu,gpu,tpu,fpga,asic,tpu:no-such-preset", "--json",
                  path("r.json"), "--html", path("r.html")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("r.json");
  EXPECT_EQ(j["schema"], "tessera.compare_report/1");
  EXPECT_TRUE(j["created"].is_string());
  EXPECT_EQ(j["model"]["name"], "seed-mlp");
  EXPECT_EQ(j["model"]["input_shape"], nlohmann::json({32}));
  EXPECT_EQ(j["model"]["dataset"], "synthetic");
  EXPECT_TRUE(j["model"]["training"].is_null());
  EXPECT_EQ(j["batch"], 16);
  EXPECT_TRUE(j["exploration"].is_null());
  EXPECT_TRUE(j["advice"].is_null());
  ASSERT_EQ(j["targets"].size(), 6u);
  const char* kinds[] = {"cpu", "gpu", "tpu", "fpga", "asic", "tpu"};
  for (size_t i = 0; i < 6; ++i) {
    const nlohmann::json& row = j["targets"][i];
    for (const char* f : kRowFields) EXPECT_TRUE(row.contains(f)) << i << " lacks " << f;
    EXPECT_EQ(row["kind"], kinds[i]);
  }
  for (size_t i = 0; i < 5; ++i) {
    const nlohmann::json& row = j["targets"][i];
    EXPECT_TRUE(row["error"].is_null()) << row["error"];
    EXPECT_GT(row["latency_seconds"].get<double>(), 0) << row["target"];
    EXPECT_GT(row["throughput_per_second"].get<double>(), 0) << row["target"];
    EXPECT_GT(row["energy_per_inference_joules"].get<double>(), 0) << row["target"];
    EXPECT_GT(row["power_watts"].get<double>(), 0) << row["target"];
    EXPECT_TRUE(row["accuracy"].is_number()) << row["target"];
    EXPECT_FALSE(row["layers"].empty()) << row["target"];
    for (const nlohmann::json& l : row["layers"])
      for (const char* f : {"name", "seconds", "macs", "bytes", "energy_joules", "bound"})
        EXPECT_TRUE(l.contains(f)) << row["target"] << " layer lacks " << f;
  }
  EXPECT_EQ(j["targets"][0]["method"], "measured");
  EXPECT_EQ(j["targets"][2]["method"], "simulated");
  EXPECT_TRUE(j["targets"][0]["area_mm2"].is_null());         // null, never 0
  EXPECT_TRUE(j["targets"][4]["area_mm2"].is_number());       // the ASIC knows its area
  EXPECT_TRUE(j["targets"][3]["fpga_resources"].is_object());  // the FPGA its resources
  EXPECT_TRUE(j["targets"][3]["area_mm2"].is_null());
  // bf16 and int8 from the TPU's functional mode.
  EXPECT_EQ(j["targets"][2]["numerics"], "bf16 fold 128");
  EXPECT_FALSE(j["targets"][2]["accuracy_by_precision"].empty());
  // A failing target does not kill the run: its row says why, its figures are null.
  const nlohmann::json& bad = j["targets"][5];
  ASSERT_TRUE(bad["error"].is_string());
  EXPECT_NE(bad["error"].get<std::string>().find("no-such-preset"), std::string::npos);
  EXPECT_TRUE(bad["latency_seconds"].is_null());
  EXPECT_NE(r.out.find("error:"), std::string::npos);  // in the table
  EXPECT_NE(read("r.html").find("<html"), std::string::npos);
}

TEST_F(CompareCliTest, UnknownTargetListsTheKnownOnes) {
  Result r = run({"compare", "seed-mlp", "--targets", "cpu,npu"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown target 'npu'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("asic[:eyeriss"), std::string::npos) << r.err;
  r = run({"compare", "seed-mlp", "--targets", "cpu,,tpu"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("empty entry"), std::string::npos) << r.err;
}

int count_files(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".json";
  return n;
}

TEST_F(CompareCliTest, ExploreCachesEachPointAndResumes) {
  std::vector<std::string> args = {"explore", "seed-mlp", "--dataset", "synthetic", "--samples",
                                   "200", "--batch", "8", "--target", "tpu:tpu-v4", "--sweep",
                                   "array=8x8,16x16", "--sweep", "numerics=bf16,int8",
                                   "--cache", path("cache"), "--json", path("e.json")};
  Result r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_files(path("cache")), 4);
  nlohmann::json e = read_json("e.json")["exploration"];
  ASSERT_EQ(e["points"].size(), 4u);
  EXPECT_EQ(e["target"], "tpu");
  EXPECT_EQ(e["base"], "tpu-v4");
  EXPECT_EQ(e["sweep"]["array"], nlohmann::json({"8x8", "16x16"}));
  int front = 0;
  for (const nlohmann::json& p : e["points"]) {
    EXPECT_FALSE(p["cached"].get<bool>());
    EXPECT_TRUE(p["error"].is_null()) << p["error"];
    front += p["pareto"].get<bool>();
  }
  EXPECT_GE(front, 1);
  // Interrupted: two points lost. Only those are recomputed.
  std::string lost0 = e["points"][0]["hash"], lost3 = e["points"][3]["hash"];
  fs::remove(path("cache/" + lost0 + ".json"));
  fs::remove(path("cache/" + lost3 + ".json"));
  r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 cached, 2 to simulate"), std::string::npos) << r.out;
  nlohmann::json again = read_json("e.json")["exploration"];
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again["points"][i]["hash"], e["points"][i]["hash"]);
    EXPECT_EQ(again["points"][i]["cached"].get<bool>(), i == 1 || i == 2) << i;
    EXPECT_EQ(again["points"][i]["latency_seconds"], e["points"][i]["latency_seconds"]);
  }
  EXPECT_EQ(count_files(path("cache")), 4);
}

TEST_F(CompareCliTest, ExploreBadSweeps) {
  auto explore = [&](std::vector<std::string> sweep) {
    std::vector<std::string> args = {"explore", "seed-mlp", "--dataset", "synthetic", "--target",
                                     "tpu", "--cache", path("c")};
    for (const std::string& s : sweep) {
      args.push_back("--sweep");
      args.push_back(s);
    }
    return run(args);
  };
  Result r = explore({"rows=8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown tpu key 'rows'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dataflow"), std::string::npos) << r.err;  // the keys are listed
  r = explore({"array="});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("empty sweep"), std::string::npos) << r.err;
  r = explore({});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("at least one --sweep"), std::string::npos) << r.err;
  r = explore({"array=8x8,big"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid value 'big'"), std::string::npos) << r.err;
  r = explore({"numerics=fp4"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bf16 or int8"), std::string::npos) << r.err;
  r = run({"explore", "seed-mlp", "--target", "gpu", "--sweep", "array=8x8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("tpu, fpga or asic"), std::string::npos) << r.err;
}

TEST_F(CompareCliTest, AdviseRecommendsOrNamesTheClosest) {
  Result r = run({"advise", "seed-mlp", "--dataset", "synthetic", "--samples", "200", "--batch",
                  "8", "--scenario", "edge", "--targets", "tpu,asic", "--json", path("a.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json a = read_json("a.json")["advice"];
  EXPECT_EQ(a["scenario"], "edge");
  EXPECT_TRUE(a["met"].get<bool>());
  EXPECT_LE(a["recommendation"]["figures"]["power_watts"].get<double>(), 5.0);
  EXPECT_FALSE(a["reasons"].empty());
  EXPECT_NE(r.out.find("recommendation:"), std::string::npos);

  r = run({"advise", "seed-mlp", "--dataset", "synthetic", "--samples", "200", "--batch", "8",
           "--scenario", "automotive", "--targets", "tpu:edge-tpu,asic:eyeriss", "--max-latency",
           "1ns", "--json", path("b.json")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("latency_seconds <= 1e-09 cannot be met"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("closest configuration is"), std::string::npos) << r.err;
  nlohmann::json b = read_json("b.json")["advice"];
  EXPECT_FALSE(b["met"].get<bool>());
  ASSERT_FALSE(b["unmet"].empty());
  EXPECT_EQ(b["unmet"][0]["constraint"]["metric"], "latency_seconds");

  r = run({"advise", "seed-mlp", "--scenario", "space"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("known: datacenter, edge, automotive, medical"), std::string::npos)
      << r.err;
}

// --- the model-free parts ----------------------------------------------------------------

TEST(CompareCore, ParetoFront) {
  using V = std::vector<std::optional<double>>;
  // (latency, energy, accuracy, area); accuracy maximized.
  std::vector<V> p = {{1, 10, 0.9, 5},  {2, 5, 0.9, 5},    {2, 10, 0.9, 5},  // 2 dominated by 0, 1
                      {1, 10, 0.9, 5},                                     // equal to 0: kept
                      {3, 20, 0.95, 9},                                    // best accuracy
                      {std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                      {0.5, 30, std::nullopt, 1}};  // unknown accuracy: compared on the rest
  std::vector<bool> f = pareto_front(p, {false, false, true, false});
  EXPECT_EQ(f, (std::vector<bool>{true, true, false, true, true, false, true}));
  EXPECT_EQ(pareto_front({}, {false}), std::vector<bool>{});
}

TEST(CompareCore, SweepsAndTargets) {
  std::vector<SweepAxis> axes =
      parse_sweeps({"precision=ap_fixed<16,6>,ap_fixed<8,3>", "reuse=1,2,4"}, "fpga");
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_EQ(axes[0].values, (std::vector<std::string>{"ap_fixed<16,6>", "ap_fixed<8,3>"}));
  std::vector<std::map<std::string, std::string>> pts = sweep_points(axes);
  ASSERT_EQ(pts.size(), 6u);
  EXPECT_EQ(pts[1].at("reuse"), "2");
  EXPECT_EQ(pts[3].at("precision"), "ap_fixed<8,3>");
  EXPECT_THROW(parse_sweeps({"reuse=1", "reuse=2"}, "fpga"), Error);
  EXPECT_THROW(parse_sweeps({"reuse"}, "fpga"), Error);
  EXPECT_THROW(parse_sweeps({"reuse=1,,2"}, "fpga"), Error);
  TargetSpec t = parse_target_spec("asic:edge-npu");
  EXPECT_EQ(t.kind, "asic");
  EXPECT_EQ(t.base, "edge-npu");
  t.overrides = {{"clock", "1GHz"}, {"array", "8x8"}};
  EXPECT_EQ(t.label(), "asic:edge-npu[array=8x8,clock=1GHz]");
  EXPECT_THROW(parse_target_spec("cpu:epyc"), Error);
  EXPECT_THROW(parse_target_spec("tpu:"), Error);
  EXPECT_EQ(hash_json({{"a", 1}, {"b", 2}}), hash_json({{"b", 2}, {"a", 1}}));
  EXPECT_NE(hash_json({{"a", 1}}), hash_json({{"a", 2}}));
  EXPECT_DOUBLE_EQ(parse_duration("2ms", "x"), 2e-3);
  EXPECT_DOUBLE_EQ(parse_duration("500us", "x"), 5e-4);
  EXPECT_THROW(parse_duration("fast", "x"), Error);
}

nlohmann::json row(const std::string& target, double latency, double power, double energy,
                   double accuracy, double throughput) {
  return {{"target", target},        {"latency_seconds", latency},
          {"power_watts", power},    {"energy_per_inference_joules", energy},
          {"accuracy", accuracy},    {"throughput_per_second", throughput},
          {"error", nullptr}};
}

TEST(CompareCore, ScenarioChoices) {
  std::vector<nlohmann::json> rows = {
      row("cpu", 1e-5, 20, 5e-5, 0.880, 4e5),        row("gpu", 4e-5, 100, 1.6e-5, 0.880, 6e6),
      row("tpu:edge-tpu", 4e-4, 0.3, 1.2e-6, 0.876, 2e5),
      row("asic:edge-npu", 6e-5, 0.6, 1.5e-6, 0.870, 3e5),
      row("fpga", 2e-6, 2, 1.8e-6, 0.879, 1e6)};
  rows.push_back(row("broken", 0, 0, 0, 0, 0));
  rows.back()["error"] = "failed";
  // edge: power <= 5 W, accuracy within 1 point, least energy -> the edge TPU.
  Advice a = choose(scenario_preset("edge", 0.880), rows);
  ASSERT_TRUE(a.met);
  EXPECT_EQ(rows[*a.chosen]["target"], "tpu:edge-tpu");
  // automotive: <= 1 ms, <= 30 W, fastest -> the FPGA.
  a = choose(scenario_preset("automotive", 0.880), rows);
  ASSERT_TRUE(a.met);
  EXPECT_EQ(rows[*a.chosen]["target"], "fpga");
  // datacenter: >= 100k samples/s, least energy -> the edge TPU (2e5/s).
  a = choose(scenario_preset("datacenter", 0.880), rows);
  ASSERT_TRUE(a.met);
  EXPECT_EQ(rows[*a.chosen]["target"], "tpu:edge-tpu");
  // medical: within 0.5 point (>= 0.875), most accurate -> cpu (first of the ties).
  a = choose(scenario_preset("medical", 0.880), rows);
  ASSERT_TRUE(a.met);
  EXPECT_EQ(rows[*a.chosen]["accuracy"], 0.880);
  // Nothing meets a 0.1 W cap: the closest is named with the best power any row reaches.
  Scenario s = scenario_preset("edge", 0.880);
  set_constraint(s, {"power_watts", "<=", 0.1, "--max-power"});
  a = choose(s, rows);
  EXPECT_FALSE(a.met);
  EXPECT_EQ(rows[*a.chosen]["target"], "tpu:edge-tpu");
  ASSERT_EQ(a.unmet.size(), 1u);
  EXPECT_EQ(a.unmet[0]["closest"]["target"], "tpu:edge-tpu");
  EXPECT_THROW(scenario_preset("space", 0.9), Error);
}

}  // namespace
}  // namespace tessera::cli
