// `tessera simulate --target asic…`: presets and architecture files, the mapper's objective
// and budget, --train, --json with the chosen mappings, and clear errors. Small budgets keep
// these fast.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class SimulateAsicCli : public ScratchDirTest {
 protected:
  SimulateAsicCli() : ScratchDirTest("tessera_simulate_asic_cli_") {}
};

TEST_F(SimulateAsicCli, MnistCnnOnEyeriss) {
  Result r = run({"simulate", "--target", "asic:eyeriss", "mnist-cnn", "--budget", "500",
                  "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "mnist-cnn on asic:eyeriss")) << r.out;
  EXPECT_TRUE(contains(r.out, "shared_glb")) << r.out;  // traffic per storage level
  EXPECT_TRUE(contains(r.out, "pj_per_mac")) << r.out;
  nlohmann::json j = read_json("r.json");
  const nlohmann::json& rep = j["report"];
  EXPECT_EQ(rep["target"], "asic");
  EXPECT_EQ(rep["config"], "eyeriss");
  const nlohmann::json& f = rep["figures"];
  EXPECT_EQ(f["pe_count"].get<double>(), 168);
  EXPECT_GT(f["area_mm2"].get<double>(), 0);
  EXPECT_GT(f["pj_per_mac"].get<double>(), 0);
  EXPECT_GT(f["power_w"].get<double>(), 0);
  // Two convolutions and two dense layers, each mapped.
  const nlohmann::json& layers = j["asic"]["layers"];
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(j["asic"]["objective"], "edp");
  double macs = 0;
  for (const nlohmann::json& l : layers) {
    EXPECT_FALSE(l["mapping"].get<std::string>().empty());
    EXPECT_TRUE(contains(l["loop_nest"].get<std::string>(), "MAC"));
    EXPECT_GT(l["pj_per_mac"].get<double>(), 0);
    macs += l["bounds"]["R"].get<double>() * l["bounds"]["S"].get<double>() *
            l["bounds"]["P"].get<double>() * l["bounds"]["Q"].get<double>() *
            l["bounds"]["C"].get<double>() * l["bounds"]["K"].get<double>() *
            l["bounds"]["N"].get<double>();
  }
  EXPECT_DOUBLE_EQ(rep["totals"]["macs"].get<double>(), macs);
}

TEST_F(SimulateAsicCli, MapperObjectivesAndTraining) {
  Result e = run({"simulate", "--target", "asic", "mnist-cnn", "--mapper", "energy", "--budget",
                  "300", "--json", path("e.json")});
  ASSERT_EQ(e.code, 0) << e.err;
  Result d = run({"simulate", "--target", "asic", "mnist-cnn", "--mapper", "delay", "--budget",
                  "300", "--json", path("d.json")});
  ASSERT_EQ(d.code, 0) << d.err;
  nlohmann::json je = read_json("e.json"), jd = read_json("d.json");
  EXPECT_EQ(je["asic"]["objective"], "energy");
  EXPECT_EQ(jd["asic"]["objective"], "delay");
  // Per layer, each objective's mapping is at least as good as the other's on its own terms.
  for (size_t i = 0; i < je["asic"]["layers"].size(); ++i) {
    EXPECT_LE(je["asic"]["layers"][i]["energy_pj"].get<double>(),
              jd["asic"]["layers"][i]["energy_pj"].get<double>() * (1 + 1e-9));
    EXPECT_LE(jd["asic"]["layers"][i]["cycles"].get<double>(),
              je["asic"]["layers"][i]["cycles"].get<double>());
  }
  // A training step maps the backward products too.
  Result t = run({"simulate", "--target", "asic:ws-16x16", "mnist-cnn", "--train", "--batch",
                  "4", "--budget", "200", "--per-op", "--json", path("t.json")});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(contains(t.out, "conv2d_backprop_filter")) << t.out;
  nlohmann::json jt = read_json("t.json");
  EXPECT_TRUE(jt["report"]["training"].get<bool>());
  EXPECT_GT(jt["asic"]["layers"].size(), 4u);
  // A time budget.
  Result s = run({"simulate", "--target", "asic:edge-npu", "mnist-cnn", "--budget", "100ms"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_TRUE(contains(s.out, "0.1 s budget")) << s.out;
}

TEST_F(SimulateAsicCli, ArchitectureFile) {
  write("npu.yaml",
        "name: tiny-npu\n"
        "base: edge-npu\n"
        "clock_mhz: 250\n");
  Result r = run({"simulate", "--target", "asic:" + path("npu.yaml"), "seed-mlp", "--budget",
                  "200", "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json rep = read_json("r.json")["report"];
  EXPECT_EQ(rep["config"], "tiny-npu");
  EXPECT_DOUBLE_EQ(rep["figures"]["clock_mhz"].get<double>(), 250);
}

TEST_F(SimulateAsicCli, ClearErrors) {
  Result r = run({"simulate", "--target", "asic:tpu-v9", "mnist-cnn"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "tpu-v9")) << r.err;
  EXPECT_TRUE(contains(r.err, "eyeriss")) << r.err;  // lists the presets
  for (const char* bad : {"0", "-5", "2x", "s", "0s", "1.5"}) {
    r = run({"simulate", "--target", "asic", "mnist-cnn", "--budget", bad});
    EXPECT_EQ(r.code, 1) << bad;
    EXPECT_TRUE(contains(r.err, "--budget")) << r.err;
  }
  r = run({"simulate", "--target", "asic", "mnist-cnn", "--mapper", "speed"});
  EXPECT_NE(r.code, 0);
  write("bad.yaml",
        "name: bad\n"
        "levels:\n"
        "  - {name: DRAM, class: DRAM}\n"
        "  - {name: buf, class: flash, size_words: 64}\n");
  r = run({"simulate", "--target", "asic:" + path("bad.yaml"), "mnist-cnn"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "bad.yaml:4")) << r.err;
  EXPECT_TRUE(contains(r.err, "flash")) << r.err;
  // Options of the other targets.
  r = run({"simulate", "--target", "asic", "mnist-cnn", "--pod", "1,8"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "TPU")) << r.err;
  r = run({"simulate", "--target", "asic", "mnist-cnn", "--accuracy"});
  EXPECT_EQ(r.code, 1);
  r = run({"simulate", "--target", "tpu", "mnist-cnn", "--mapper", "energy"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "ASIC")) << r.err;
}

// One layer from Timeloop v0.4 files (the test files of tests/sim/asic_timeloop_test.cpp,
// in short): evaluated with the given mapping, or mapped by the mapper without one.
TEST_F(SimulateAsicCli, TimeloopFilesForOneLayer) {
  write("arch.yaml", R"(architecture:
  version: 0.4
  nodes:
  - !Container
    name: System
    attributes: {technology: "40nm", global_cycle_seconds: 2e-9}
  - !Component
    name: MainMemory
    class: DRAM
    attributes: {width: 64, datawidth: 8}
  - !Component
    name: Buffer
    class: regfile
    attributes: {depth: 64, width: 8, datawidth: 8}
  - !Component
    name: MACC
    class: intmac
    attributes: {width: 8}
)");
  write("prob.yaml", R"(problem:
  version: 0.4
  shape:
    name: Conv1D_OC
    dimensions: [ K, R, P ]
    data_spaces:
    - {name: Weights, projection: [ [[K]], [[R]] ]}
    - {name: Inputs, projection: [ [[R], [P]] ]}
    - {name: Outputs, projection: [ [[K]], [[P]] ], read_write: True}
  instance: {K: 2, R: 3, P: 4}
)");
  write("map.yaml", R"(mapping:
  - {target: MainMemory, type: temporal, factors: K=2 R=1 P=1, permutation: KRP}
  - {target: Buffer, type: temporal, factors: R=3 P=4, permutation: RP}
)");
  Result r = run({"simulate", "--target", "asic", "--arch", path("arch.yaml"), "--problem",
                  path("prob.yaml"), "--mapping", path("map.yaml"), "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = read_json("r.json")["asic"];
  EXPECT_EQ(j["mapped_by"], "file");
  ASSERT_EQ(j["layers"].size(), 1u);
  r = run({"simulate", "--target", "asic", "--arch", path("arch.yaml"), "--problem",
           path("prob.yaml"), "--mapper", "energy", "--json", path("m.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "mapper (energy)")) << r.out;
  EXPECT_EQ(read_json("m.json")["asic"]["mapped_by"], "mapper");
  // The factors must multiply to the problem: an error with the numbers.
  write("bad.yaml", R"(mapping:
  - {target: MainMemory, type: temporal, factors: K=4 R=1 P=1, permutation: KRP}
  - {target: Buffer, type: temporal, factors: R=3 P=4, permutation: RP}
)");
  r = run({"simulate", "--target", "asic", "--arch", path("arch.yaml"), "--problem",
           path("prob.yaml"), "--mapping", path("bad.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "K = 2")) << r.err;
  r = run({"simulate", "--target", "asic", "--arch", path("arch.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "--problem")) << r.err;
  r = run({"simulate", "--target", "tpu", "mnist-mlp", "--arch", path("arch.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "ASIC options")) << r.err;
}

}  // namespace
}  // namespace tessera::cli
