#include <gtest/gtest.h>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/tpu_config.h"

namespace tessera::sim {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_tpu_config(yaml, "my.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TpuConfig, PresetsHaveThePublishedPeaks) {
  TpuConfig v1 = tpu_preset("tpu-v1");
  EXPECT_NEAR(v1.peak_flops(), 2.0 * 256 * 256 * 700e6, 1.0);  // 92 TOPS
  EXPECT_EQ(v1.array.ifmap_sram_bytes, 24 << 20);
  EXPECT_EQ(v1.numerics, "int8");
  EXPECT_FALSE(v1.training);
  TpuConfig v4 = tpu_preset("tpu-v4");
  EXPECT_NEAR(v4.peak_flops() / 1e12, 137.6, 0.1);  // one of the chip's two cores (275 TFLOPS)
  EXPECT_EQ(v4.matrix_units, 4);
  EXPECT_EQ(v4.array.operand_bytes, 2);
  TpuConfig edge = tpu_preset("edge-tpu");
  EXPECT_NEAR(edge.peak_flops() / 1e12, 3.9, 0.1);  // "4 TOPS"
  EXPECT_THROW(tpu_preset("tpu-v9"), Error);
}

TEST(TpuConfig, YamlStartsFromABaseAndOverrides) {
  TpuConfig c = parse_tpu_config(R"(
name: wide
base: tpu-v4
matrix_units: 2
array: {rows: 64, cols: 256, dataflow: os}
sram_kib: {ifmap: 512}
numerics: int8
clock_mhz: 800
dram: {bandwidth_gbps: 400, name: hbm3}
fidelity: analytic
)",
                                 "wide.yaml");
  EXPECT_EQ(c.name, "wide");
  EXPECT_EQ(c.matrix_units, 2);
  EXPECT_EQ(c.array.rows, 64);
  EXPECT_EQ(c.array.cols, 256);
  EXPECT_EQ(c.array.dataflow, Dataflow::kOutputStationary);
  EXPECT_EQ(c.array.ifmap_sram_bytes, 512 * 1024);
  EXPECT_EQ(c.array.filter_sram_bytes, tpu_preset("tpu-v4").array.filter_sram_bytes);
  EXPECT_EQ(c.array.operand_bytes, 1);
  EXPECT_DOUBLE_EQ(c.clock_hz, 800e6);
  EXPECT_DOUBLE_EQ(c.dram_bandwidth, 400e9);
  EXPECT_EQ(c.dram_name, "hbm3");
  EXPECT_EQ(c.fidelity, Fidelity::kAnalytic);
}

TEST(TpuConfig, TheShippedExampleLoads) {
  TpuConfig c = load_tpu_config(TESSERA_SOURCE_DIR "/configs/tpu/example.yaml");
  EXPECT_EQ(c.name, "example-2x256");
  EXPECT_EQ(c.matrix_units, 2);
  EXPECT_EQ(c.array.rows, 256);
}

TEST(TpuConfig, BadFieldsNameTheFileLineAndField) {
  std::string e = error_of("array:\n  rows: 0\n");
  EXPECT_NE(e.find("my.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("array.rows"), std::string::npos) << e;
  e = error_of("array: {rows: -4}\n");
  EXPECT_NE(e.find("positive"), std::string::npos) << e;
  e = error_of("array: {dataflow: diagonal}\n");
  EXPECT_NE(e.find("diagonal"), std::string::npos) << e;
  e = error_of("clock_mhz: fast\n");
  EXPECT_NE(e.find("clock_mhz"), std::string::npos) << e;
  e = error_of("colock_mhz: 5\n");
  EXPECT_NE(e.find("unknown key 'colock_mhz'"), std::string::npos) << e;
  e = error_of("numerics: fp8\n");
  EXPECT_NE(e.find("bf16 or int8"), std::string::npos) << e;
  e = error_of("base: tpu-v9\n");
  EXPECT_NE(e.find("tpu-v9"), std::string::npos) << e;
  e = error_of("array: [1, 2\n");
  EXPECT_NE(e.find("YAML syntax"), std::string::npos) << e;
  EXPECT_THROW(load_tpu_config("/nonexistent/tpu.yaml"), Error);
}

}  // namespace
}  // namespace tessera::sim
