// `tessera simulate --target fpga…`: device presets, hls4ml-style configs, --precision and
// --reuse-factor, the fixed-point accuracy, --json, and clear errors.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"

namespace tessera::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class SimulateFpgaCli : public ScratchDirTest {
 protected:
  SimulateFpgaCli() : ScratchDirTest("tessera_simulate_fpga_cli_") {}
};

TEST_F(SimulateFpgaCli, DevicePresetReportsLatencyResourcesAndFit) {
  Result r = run({"simulate", "--target", "fpga:xczu9eg", "seed-mlp", "--reuse-factor", "8",
                  "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "seed-mlp on fpga:xczu9eg")) << r.out;
  EXPECT_TRUE(contains(r.out, "softmax")) << r.out;  // the dropped final softmax is noted
  nlohmann::json rep = read_json("r.json")["report"];
  EXPECT_EQ(rep["target"], "fpga");
  const nlohmann::json& f = rep["figures"];
  // Dense 32->64 and 64->10 at R = 8: latency (8+1) + relu 1 + (8+1) cycles.
  EXPECT_EQ(f["latency_cycles"].get<double>(), 19.0);
  EXPECT_EQ(f["ii_cycles"].get<double>(), 9.0);
  EXPECT_DOUBLE_EQ(f["multipliers"].get<double>(), (32.0 * 64 + 64 * 10) / 8);
  EXPECT_EQ(f["fits"].get<double>(), 1.0);
}

TEST_F(SimulateFpgaCli, Hls4mlConfigWithPerLayerOverrides) {
  write("fpga.yaml",
        "Model: {Precision: 'ap_fixed<12,4>', ReuseFactor: 4, Strategy: Latency}\n"
        "IOType: io_parallel\n"
        "LayerName:\n"
        "  dense_1: {Precision: {weight: 'ap_fixed<8,3>', accum: auto}, ReuseFactor: 2}\n"
        "Device: xcu250\n"
        "ClockPeriod: 4\n");
  Result r = run({"simulate", "--target", "fpga:" + path("fpga.yaml"), "seed-mlp", "--json",
                  path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "fpga:xcu250")) << r.out;
  nlohmann::json f = read_json("r.json")["report"]["figures"];
  EXPECT_DOUBLE_EQ(f["clock_mhz"].get<double>(), 250.0);
  EXPECT_EQ(f["latency_cycles"].get<double>(), (4 + 1) + 1 + (2 + 1));
}

TEST_F(SimulateFpgaCli, FixedPointAccuracy) {
  Result r = run({"simulate", "--target", "fpga", "seed-mlp", "--accuracy", "--precision",
                  "ap_fixed<16,6,AP_RND,AP_SAT>", "--json", path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json acc = read_json("r.json")["report"]["accuracy"];
  EXPECT_EQ(acc["samples"], 2000);
  EXPECT_GT(acc["agreement"].get<double>(), 0.9);
}

TEST_F(SimulateFpgaCli, ClearErrors) {
  Result r = run({"simulate", "--target", "fpga", "seed-mlp", "--train"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "inference")) << r.err;
  r = run({"simulate", "--target", "fpga", "seed-mlp", "--precision", "ap_fixed<4,6>"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "ap_fixed<4,6>")) << r.err;
  r = run({"simulate", "--target", "fpga", "seed-mlp", "--reuse-factor", "5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "5")) << r.err;
  EXPECT_TRUE(contains(r.err, "32")) << r.err;
  r = run({"simulate", "--target", "fpga:xc9999", "seed-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "xc7z020")) << r.err;  // lists the known devices
  write("bad.yaml", "Model: {ReuseFactor: 0}\n");
  r = run({"simulate", "--target", "fpga:" + path("bad.yaml"), "seed-mlp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "bad.yaml:1")) << r.err;
  r = run({"simulate", "--target", "tpu", "seed-mlp", "--precision", "ap_fixed<8,3>"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "FPGA")) << r.err;
}

}  // namespace
}  // namespace tessera::cli
