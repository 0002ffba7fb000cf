// GPU configs: the presets' published figures, the YAML reader (overrides, errors naming
// file, line and field, truncated and corrupted files), the shipped example, and configs
// built from a CUDA device description.
#include "tessera/sim/gpu/gpu_config.h"

#include <gtest/gtest.h>

#include <functional>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"

namespace tessera::sim {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(GpuPresets, PublishedDenseFigures) {
  GpuConfig h100 = gpu_preset("h100");
  EXPECT_EQ(h100.sm_count, 132);
  EXPECT_DOUBLE_EQ(h100.fp32_flops, 66.9e12);
  EXPECT_DOUBLE_EQ(h100.bf16_flops, 989.4e12);
  EXPECT_DOUBLE_EQ(h100.tf32_flops, 494.7e12);
  EXPECT_DOUBLE_EQ(h100.hbm_bandwidth, 3350e9);
  EXPECT_DOUBLE_EQ(h100.tdp_w, 700);
  GpuConfig h200 = gpu_preset("h200");
  EXPECT_DOUBLE_EQ(h200.bf16_flops, h100.bf16_flops);  // the same GPU, faster memory
  EXPECT_DOUBLE_EQ(h200.hbm_bandwidth, 4800e9);
  EXPECT_GT(h200.hbm_bytes, h100.hbm_bytes);
  GpuConfig a100 = gpu_preset("a100");
  EXPECT_DOUBLE_EQ(a100.bf16_flops, 312e12);
  EXPECT_DOUBLE_EQ(a100.hbm_bandwidth, 2039e9);
  EXPECT_DOUBLE_EQ(a100.l2_bandwidth, 5120 * 1410e6);
  // Per-SM tensor throughput: 108 SMs x 1024 FMA/clk x 2 x 1.41 GHz.
  EXPECT_NEAR(a100.bf16_flops, 108 * 1024 * 2 * 1.41e9, 0.01 * a100.bf16_flops);
  GpuConfig t4 = gpu_preset("t4");
  EXPECT_DOUBLE_EQ(t4.fp16_flops, 65e12);
  EXPECT_DOUBLE_EQ(t4.bf16_flops, 0);
  EXPECT_FALSE(t4.on_tensor_cores(GpuPrecision::kBf16));
  EXPECT_DOUBLE_EQ(t4.peak_flops(GpuPrecision::kBf16), t4.fp32_flops);
  EXPECT_DOUBLE_EQ(t4.peak_flops(GpuPrecision::kTf32), t4.fp32_flops);
  for (const std::string& p : gpu_preset_names()) EXPECT_NO_THROW(gpu_preset(p).validate(p));
  EXPECT_TRUE(contains(error_of([] { gpu_preset("v100"); }), "known: t4, a100, h100, h200"));
}

TEST(GpuConfigYaml, OverridesAPreset) {
  GpuConfig c = parse_gpu_config(
      "name: half\nbase: a100\nsm_count: 54\npeak_tflops: {bf16: 156, tf32: 0}\n"
      "memory: {bandwidth_gbps: 1000, capacity_gib: 40}\nl2: {size_mib: 20}\n"
      "launch_overhead_us: 5\nefficiency: {tensor: 0.5}\nallow_tf32: true\n"
      "power: {tdp_w: 200, idle_w: 20}\n",
      "half.yaml");
  EXPECT_EQ(c.name, "half");
  EXPECT_EQ(c.sm_count, 54);
  EXPECT_DOUBLE_EQ(c.bf16_flops, 156e12);
  EXPECT_DOUBLE_EQ(c.fp32_flops, 19.5e12);  // kept from the base
  EXPECT_DOUBLE_EQ(c.tf32_flops, 0);
  EXPECT_EQ(c.gemm_precision(kF32), GpuPrecision::kTf32);
  EXPECT_DOUBLE_EQ(c.peak_flops(GpuPrecision::kTf32), 19.5e12);  // no TF32: CUDA cores
  EXPECT_DOUBLE_EQ(c.hbm_bandwidth, 1000e9);
  EXPECT_EQ(c.hbm_bytes, int64_t{40} << 30);
  EXPECT_EQ(c.l2_bytes, int64_t{20} << 20);
  EXPECT_DOUBLE_EQ(c.launch_overhead_s, 5e-6);
  EXPECT_DOUBLE_EQ(c.tensor_efficiency, 0.5);
  EXPECT_DOUBLE_EQ(c.tdp_w, 200);
}

TEST(GpuConfigYaml, ErrorsNameTheFileLineAndField) {
  EXPECT_TRUE(contains(error_of([] { parse_gpu_config("base: h100\nsms: 3\n", "g.yaml"); }),
                       "g.yaml:2: unknown key 'sms'"));
  EXPECT_TRUE(contains(error_of([] { parse_gpu_config("base: p100\n", "g.yaml"); }),
                       "g.yaml:1: unknown GPU preset 'p100'"));
  EXPECT_TRUE(contains(
      error_of([] { parse_gpu_config("base: h100\nefficiency: {memory: 1.5}\n", "g.yaml"); }),
      "'efficiency.memory' must be in (0, 1]"));
  EXPECT_TRUE(contains(
      error_of([] { parse_gpu_config("base: h100\nmemory: {bandwidth_gbps: -1}\n", "g.yaml"); }),
      "g.yaml:2: 'memory.bandwidth_gbps' must be positive"));
  EXPECT_TRUE(
      contains(error_of([] { parse_gpu_config("base: t4\npower: {idle_w: 90}\n", "g.yaml"); }),
               "'power.idle_w' (90) must not exceed 'power.tdp_w' (70)"));
  EXPECT_TRUE(contains(error_of([] { parse_gpu_config("[1, 2]\n", "g.yaml"); }),
                       "a GPU config is a mapping"));
  EXPECT_TRUE(contains(error_of([] { load_gpu_config("/nonexistent/g.yaml"); }),
                       "GPU config '/nonexistent/g.yaml'"));
}

TEST(GpuConfigYaml, TruncatedAndCorruptedFilesFailCleanly) {
  const std::string valid =
      "name: t\nbase: h100\nsm_count: 114\nsm_clock_mhz: 1755\n"
      "peak_tflops: {fp32: 51, tf32: 378, bf16: 756, fp16: 756, int8: 1513}\n"
      "memory: {bandwidth_gbps: 2000, capacity_gib: 80, name: hbm2e}\n"
      "l2: {size_mib: 50, bandwidth_gbps: 8000, resident_fraction: 0.5}\n"
      "efficiency: {tensor: 0.7, simt: 0.8, attention: 0.5, memory: 0.9, l2: 0.7}\n"
      "allow_tf32: false\nfuse_elementwise: true\n"
      "power: {tdp_w: 350, idle_w: 50, dram_byte_pj: 31, l2_byte_pj: 1.4}\n";
  auto survives = [](const std::string& text) {
    try {
      parse_gpu_config(text, "fuzz.yaml");
    } catch (const Error&) {
    }  // any other exception fails the test
  };
  EXPECT_NO_THROW(parse_gpu_config(valid, "ok.yaml"));
  for (size_t n = 0; n < valid.size(); ++n) survives(valid.substr(0, n));
  Rng rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    std::string s = valid;
    for (int k = 0; k < 3; ++k)
      s[rng.next_u64() % s.size()] = static_cast<char>(rng.next_u64() % 256);
    survives(s);
  }
}

TEST(GpuConfigYaml, TheShippedExampleParses) {
  GpuConfig c = load_gpu_config(std::string(TESSERA_SOURCE_DIR) + "/configs/gpu/example.yaml");
  EXPECT_EQ(c.name, "h100-pcie");
  EXPECT_EQ(c.sm_count, 114);
  EXPECT_DOUBLE_EQ(c.bf16_flops, 756e12);
  EXPECT_EQ(load_gpu_target("").name, "h100");
  EXPECT_EQ(load_gpu_target("t4").name, "t4");
}

GpuDeviceInfo device(std::string name, int major, int minor, int sms, double clock_ghz,
                     double mem_clock_ghz, int bus_bits, int64_t memory_gib) {
  GpuDeviceInfo d;
  d.name = std::move(name);
  d.compute_major = major;
  d.compute_minor = minor;
  d.sm_count = sms;
  d.sm_clock_ghz = clock_ghz;
  d.memory_clock_ghz = mem_clock_ghz;
  d.memory_bus_bits = bus_bits;
  d.memory_bytes = memory_gib << 30;
  d.l2_bytes = int64_t{50} << 20;
  return d;
}

TEST(GpuFromDevice, APresetMatchedByNameAndRescaled) {
  GpuConfig sxm =
      gpu_config_from_device(device("NVIDIA H100 80GB HBM3", 9, 0, 132, 1.98, 2.619, 5120, 80));
  EXPECT_EQ(sxm.name, "h100");
  EXPECT_DOUBLE_EQ(sxm.bf16_flops, 989.4e12);
  EXPECT_NEAR(sxm.hbm_bandwidth, 3.352e12, 1e9);  // 2 x 2619 MHz x 5120 bits
  GpuConfig pcie =
      gpu_config_from_device(device("NVIDIA H100 PCIe", 9, 0, 114, 1.755, 1.593, 5120, 80));
  EXPECT_NEAR(pcie.bf16_flops, 989.4e12 * 114 * 1.755 / (132 * 1.98), 1e6);
  EXPECT_NEAR(pcie.hbm_bandwidth, 2.039e12, 1e9);
  EXPECT_EQ(gpu_config_from_device(device("Tesla T4", 7, 5, 40, 1.59, 5.001, 256, 15)).name, "t4");
  EXPECT_EQ(
      gpu_config_from_device(device("NVIDIA A100-SXM4-40GB", 8, 0, 108, 1.41, 1.215, 5120, 40))
          .name,
      "a100");
}

TEST(GpuFromDevice, AnUnknownPartIsDerivedFromItsArchitecture) {
  GpuConfig c = gpu_config_from_device(device("NVIDIA L40S", 8, 9, 142, 2.52, 9.0, 384, 45));
  EXPECT_EQ(c.name, "nvidia l40s");
  EXPECT_NEAR(c.fp32_flops, 2 * 128 * 142 * 2.52e9, 1e6);
  EXPECT_NEAR(c.bf16_flops, 1024 * 142 * 2.52e9, 1e6);  // 366 TFLOPS dense
  EXPECT_NEAR(c.hbm_bandwidth, 864e9, 1e9);
  EXPECT_TRUE(contains(c.source, "assumptions"));
  EXPECT_TRUE(
      contains(error_of([] { gpu_config_from_device(device("Mystery", 9, 0, 0, 0, 1, 1, 1)); }),
               "GPU 'Mystery'"));
}

}  // namespace
}  // namespace tessera::sim
