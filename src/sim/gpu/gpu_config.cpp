// GPU presets (figures and sources: docs/simulators/gpu.md), validation, and the config of
// the GPU this process runs on.
#include "tessera/sim/gpu/gpu_config.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

// SRAM energy per byte at 45 nm (Horowitz, ISSCC 2014: 100 pJ per 64-bit read of a 1 MB
// SRAM), scaled to the process in proportion to the feature size, as the TPU presets do.
double sram_byte_pj(double nm) { return 100.0 / 8.0 * nm / 45.0; }
// HBM2: 3.9 pJ/bit (O'Connor et al., MICRO 2017), taken for HBM2e and HBM3 too.
constexpr double kHbmBytePj = 3.9 * 8;
// GDDR6: 7.5 pJ/bit, our assumption between HBM2 (3.9) and GDDR5 (14, same paper).
constexpr double kGddr6BytePj = 7.5 * 8;
// L2 read bandwidth per clock: 5120 bytes/clk on A100 (NVIDIA A100 Tensor Core GPU
// Architecture whitepaper); taken for Hopper, which publishes none.
constexpr double kAmpereL2BytesPerClock = 5120;

GpuConfig t4() {
  GpuConfig c;
  c.name = "t4";
  c.source = "NVIDIA T4 Tensor Core GPU datasheet; NVIDIA Turing GPU Architecture whitepaper";
  c.sm_count = 40;
  c.sm_clock_hz = 1590e6;
  c.fp32_flops = 8.1e12;
  c.tf32_flops = 0;  // Turing has no TF32 or BF16 tensor-core path
  c.bf16_flops = 0;
  c.fp16_flops = 65e12;
  c.int8_ops = 130e12;
  c.hbm_bandwidth = 320e9;
  c.hbm_bytes = 16 * kGiB;
  c.hbm_name = "gddr6";
  c.l2_bytes = 4 * kMiB;
  c.l2_bandwidth = 1024 * c.sm_clock_hz;  // assumption: 16 slices x 64 bytes/clk
  c.tensor_efficiency = 0.6;  // the 70 W limit holds tensor-core work well below boost clock
  c.simt_efficiency = 0.8;
  c.memory_efficiency = 0.8;
  c.tdp_w = 70;
  c.idle_w = 10;
  c.dram_byte_pj = kGddr6BytePj;
  c.l2_byte_pj = sram_byte_pj(12);
  return c;
}

GpuConfig a100() {
  GpuConfig c;
  c.name = "a100";
  c.source =
      "NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB); NVIDIA A100 Tensor Core GPU "
      "Architecture whitepaper";
  c.sm_count = 108;
  c.sm_clock_hz = 1410e6;
  c.fp32_flops = 19.5e12;
  c.tf32_flops = 156e12;
  c.bf16_flops = 312e12;
  c.fp16_flops = 312e12;
  c.int8_ops = 624e12;
  c.hbm_bandwidth = 2039e9;
  c.hbm_bytes = 80 * kGiB;
  c.hbm_name = "hbm2e";
  c.l2_bytes = 40 * kMiB;
  c.l2_bandwidth = kAmpereL2BytesPerClock * c.sm_clock_hz;
  c.tensor_efficiency = 0.8;
  c.simt_efficiency = 0.9;
  c.memory_efficiency = 0.9;
  c.tdp_w = 400;
  c.idle_w = 60;
  c.dram_byte_pj = kHbmBytePj;
  c.l2_byte_pj = sram_byte_pj(7);
  return c;
}

// H100 SXM5: the FP32 figure is at the 1980 MHz boost clock, the tensor-core figures at
// 1830 MHz (the whitepaper's two clocks); the report counts cycles at 1980 MHz.
GpuConfig h100() {
  GpuConfig c;
  c.name = "h100";
  c.source =
      "NVIDIA H100 Tensor Core GPU datasheet (SXM5); NVIDIA H100 Tensor Core GPU "
      "Architecture whitepaper";
  c.sm_count = 132;
  c.sm_clock_hz = 1980e6;
  c.fp32_flops = 66.9e12;
  c.tf32_flops = 494.7e12;
  c.bf16_flops = 989.4e12;
  c.fp16_flops = 989.4e12;
  c.int8_ops = 1978.9e12;
  c.hbm_bandwidth = 3350e9;
  c.hbm_bytes = 80 * kGiB;
  c.hbm_name = "hbm3";
  c.l2_bytes = 50 * kMiB;
  c.l2_bandwidth = kAmpereL2BytesPerClock * c.sm_clock_hz;
  c.tensor_efficiency = 0.75;
  c.simt_efficiency = 0.8;
  c.memory_efficiency = 0.9;
  c.tdp_w = 700;
  c.idle_w = 75;
  c.dram_byte_pj = kHbmBytePj;
  c.l2_byte_pj = sram_byte_pj(5);
  return c;
}

// H200 SXM: the H100 SXM5's GPU with 141 GB of HBM3e at 4.8 TB/s.
GpuConfig h200() {
  GpuConfig c = h100();
  c.name = "h200";
  c.source =
      "NVIDIA H200 Tensor Core GPU datasheet (SXM); compute as the H100 SXM5 (NVIDIA "
      "H100 Tensor Core GPU Architecture whitepaper)";
  c.hbm_bandwidth = 4800e9;
  c.hbm_bytes = 141 * kGiB;
  c.hbm_name = "hbm3e";
  return c;
}

// Per SM and clock, by compute capability: FP32 lanes, and dense tensor-core flops for fp16
// (= bf16 where the part has it), tf32 and int8. From the architecture whitepapers; used
// only for GPUs without a preset.
struct SmThroughput {
  double fp32_lanes;
  double fp16;  // tensor flops per clock per SM; 0: none
  double bf16;
  double tf32;
  double int8;
};

SmThroughput sm_throughput(int major, int minor) {
  if (major >= 10) return {128, 8192, 8192, 4096, 16384};             // Blackwell data centre
  if (major == 9) return {128, 4096, 4096, 2048, 8192};               // Hopper
  if (major == 8 && minor == 0) return {64, 2048, 2048, 1024, 4096};  // A100
  if (major == 8) return {128, 1024, 1024, 512, 2048};                // GA10x, Ada
  if (major == 7 && minor >= 5) return {64, 1024, 0, 0, 2048};        // Turing
  if (major == 7) return {64, 1024, 0, 0, 0};                         // Volta
  return {64, 0, 0, 0, 0};
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// The preset a device name matches: "NVIDIA H100 80GB HBM3" -> h100, "Tesla T4" -> t4.
std::string preset_for(const std::string& device_name) {
  std::string n = lower(device_name);
  std::vector<std::string> tokens;
  std::string cur;
  for (char ch : n + " ") {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      cur += ch;
    } else if (!cur.empty()) {
      tokens.push_back(cur);
      cur.clear();
    }
  }
  for (const std::string& t : tokens) {
    if (t == "h200") return "h200";
    if (t == "h100") return "h100";
    if (t == "a100") return "a100";
    if (t == "t4") return "t4";
  }
  // "A100-SXM4-80GB" splits into a100 above; names glued to a suffix ("h100nvl") too:
  for (const char* p : {"h200", "h100", "a100"})
    if (n.find(p) != std::string::npos) return p;
  return "";
}

// HBM/GDDR bytes per second from the memory clock and bus: two transfers per clock.
double bus_bandwidth(const GpuDeviceInfo& d) {
  return 2.0 * d.memory_clock_ghz * 1e9 * static_cast<double>(d.memory_bus_bits) / 8.0;
}

}  // namespace

const char* gpu_precision_name(GpuPrecision p) {
  switch (p) {
    case GpuPrecision::kFp32:
      return "fp32";
    case GpuPrecision::kTf32:
      return "tf32";
    case GpuPrecision::kBf16:
      return "bf16";
    case GpuPrecision::kFp16:
      return "fp16";
    case GpuPrecision::kInt8:
      return "int8";
  }
  return "?";
}

double GpuConfig::peak_flops(GpuPrecision p) const {
  switch (p) {
    case GpuPrecision::kFp32:
      return fp32_flops;
    case GpuPrecision::kTf32:
      return tf32_flops > 0 ? tf32_flops : fp32_flops;
    case GpuPrecision::kBf16:
      return bf16_flops > 0 ? bf16_flops : fp32_flops;
    case GpuPrecision::kFp16:
      return fp16_flops > 0 ? fp16_flops : fp32_flops;
    case GpuPrecision::kInt8:
      return int8_ops > 0 ? int8_ops : fp32_flops;
  }
  return fp32_flops;
}

bool GpuConfig::on_tensor_cores(GpuPrecision p) const {
  switch (p) {
    case GpuPrecision::kFp32:
      return false;
    case GpuPrecision::kTf32:
      return tf32_flops > 0;
    case GpuPrecision::kBf16:
      return bf16_flops > 0;
    case GpuPrecision::kFp16:
      return fp16_flops > 0;
    case GpuPrecision::kInt8:
      return int8_ops > 0;
  }
  return false;
}

GpuPrecision GpuConfig::gemm_precision(DType dtype) const {
  if (dtype == kBF16) return GpuPrecision::kBf16;
  if (dtype == kF16) return GpuPrecision::kFp16;
  if (dtype == kI8) return GpuPrecision::kInt8;
  if (dtype == kF32 && allow_tf32) return GpuPrecision::kTf32;
  return GpuPrecision::kFp32;
}

void GpuConfig::validate(std::string_view where) const {
  auto positive = [&](double v, const char* field) {
    TS_CHECK(v > 0 && std::isfinite(v), ErrorKind::kInvalidArgument,
             "{}: '{}' must be positive, got {}", where, field, v);
  };
  auto non_negative = [&](double v, const char* field) {
    TS_CHECK(v >= 0 && std::isfinite(v), ErrorKind::kInvalidArgument,
             "{}: '{}' must be zero or more, got {}", where, field, v);
  };
  auto fraction = [&](double v, const char* field) {
    TS_CHECK(v > 0 && v <= 1, ErrorKind::kInvalidArgument, "{}: '{}' must be in (0, 1], got {}",
             where, field, v);
  };
  positive(static_cast<double>(sm_count), "sm_count");
  positive(sm_clock_hz, "sm_clock_mhz");
  positive(fp32_flops, "peak_tflops.fp32");
  for (auto [v, field] :
       {std::pair{tf32_flops, "peak_tflops.tf32"}, std::pair{bf16_flops, "peak_tflops.bf16"},
        std::pair{fp16_flops, "peak_tflops.fp16"}, std::pair{int8_ops, "peak_tflops.int8"}})
    non_negative(v, field);
  positive(static_cast<double>(sfu_per_sm), "sfu_per_sm");
  positive(hbm_bandwidth, "memory.bandwidth_gbps");
  positive(static_cast<double>(hbm_bytes), "memory.capacity_gib");
  positive(static_cast<double>(l2_bytes), "l2.size_mib");
  positive(l2_bandwidth, "l2.bandwidth_gbps");
  non_negative(launch_overhead_s, "launch_overhead_us");
  fraction(tensor_efficiency, "efficiency.tensor");
  fraction(simt_efficiency, "efficiency.simt");
  fraction(attention_efficiency, "efficiency.attention");
  fraction(memory_efficiency, "efficiency.memory");
  fraction(l2_efficiency, "efficiency.l2");
  fraction(l2_resident_fraction, "l2.resident_fraction");
  positive(tdp_w, "power.tdp_w");
  non_negative(idle_w, "power.idle_w");
  TS_CHECK(idle_w <= tdp_w, ErrorKind::kInvalidArgument,
           "{}: 'power.idle_w' ({}) must not exceed 'power.tdp_w' ({})", where, idle_w, tdp_w);
  non_negative(dram_byte_pj, "power.dram_byte_pj");
  non_negative(l2_byte_pj, "power.l2_byte_pj");
}

std::vector<std::string> gpu_preset_names() { return {"t4", "a100", "h100", "h200"}; }

GpuConfig gpu_preset(std::string_view name) {
  if (name == "t4") return t4();
  if (name == "a100") return a100();
  if (name == "h100") return h100();
  if (name == "h200") return h200();
  throw Error(ErrorKind::kNotFound,
              fmt::format("unknown GPU preset '{}' (known: t4, a100, h100, h200; or a .yaml "
                          "config)",
                          name));
}

GpuConfig load_gpu_target(std::string_view spec) {
  if (spec.empty()) return gpu_preset("h100");
  if (spec.ends_with(".yaml") || spec.ends_with(".yml")) return load_gpu_config(std::string(spec));
  return gpu_preset(spec);
}

GpuConfig gpu_config_from_device(const GpuDeviceInfo& d) {
  const std::string preset = preset_for(d.name);
  const double clock = d.sm_clock_ghz * 1e9;
  GpuConfig c;
  if (!preset.empty()) {
    c = gpu_preset(preset);
    c.source = fmt::format("the {} preset, rescaled to the device '{}'", preset, d.name);
    // Peaks scale with SMs x clock (an H100 PCIe has 114 SMs at a lower clock).
    if (d.sm_count > 0 && clock > 0) {
      const double scale = (static_cast<double>(d.sm_count) * clock) /
                           (static_cast<double>(c.sm_count) * c.sm_clock_hz);
      for (double* p : {&c.fp32_flops, &c.tf32_flops, &c.bf16_flops, &c.fp16_flops, &c.int8_ops})
        *p *= scale;
      c.l2_bandwidth *= clock / c.sm_clock_hz;
      c.sm_count = d.sm_count;
      c.sm_clock_hz = clock;
    }
  } else {
    TS_CHECK(d.sm_count > 0 && clock > 0, ErrorKind::kInvalidArgument,
             "GPU '{}': no SM count or clock reported, and no preset matches its name (known: "
             "t4, a100, h100, h200)",
             d.name);
    SmThroughput t = sm_throughput(d.compute_major, d.compute_minor);
    const double per_clock = static_cast<double>(d.sm_count) * clock;
    c.name = lower(d.name);
    c.source = fmt::format(
        "derived from the device '{}' (compute capability {}.{}): per-SM throughput of its "
        "architecture x {} SMs x {:.0f} MHz; bandwidth = 2 x memory clock x bus width; L2 "
        "bandwidth 64 bytes/clk per SM, 300 W board, 30 W idle (assumptions)",
        d.name, d.compute_major, d.compute_minor, d.sm_count, clock / 1e6);
    c.sm_count = d.sm_count;
    c.sm_clock_hz = clock;
    c.fp32_flops = 2.0 * t.fp32_lanes * per_clock;
    c.fp16_flops = t.fp16 * per_clock;
    c.bf16_flops = t.bf16 * per_clock;
    c.tf32_flops = t.tf32 * per_clock;
    c.int8_ops = t.int8 * per_clock;
    c.l2_bandwidth = 64.0 * per_clock;
    c.tdp_w = 300;
    c.idle_w = 30;
  }
  if (d.memory_bytes > 0) c.hbm_bytes = d.memory_bytes;
  if (d.l2_bytes > 0) c.l2_bytes = d.l2_bytes;
  if (bus_bandwidth(d) > 0) c.hbm_bandwidth = bus_bandwidth(d);
  c.validate(fmt::format("GPU '{}'", d.name));
  return c;
}

}  // namespace tessera::sim
