// An NVIDIA-style GPU as the performance model sees it: streaming multiprocessors (SMs) and
// their clock, the peak dense throughput of each precision (FP32 on the CUDA cores; TF32,
// BF16, FP16 and INT8 on the tensor cores), HBM/GDDR bandwidth and capacity, the L2 cache,
// the kernel launch overhead, the achievable fractions of peak, and a power model. Presets
// come from NVIDIA's datasheets and architecture whitepapers (docs/simulators/gpu.md cites
// each figure); YAML files describe other parts; gpu_config_from_device() builds one for the
// GPU this process runs on.
//
//   GpuConfig h100 = gpu_preset("h100");
//   GpuConfig mine = load_gpu_config("configs/gpu/example.yaml");  // errors name file:line
//   double tf = h100.peak_flops(GpuPrecision::kBf16) / 1e12;      // 989.4
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/backends/gpu_devices.h"
#include "tessera/core/dtype.h"

namespace tessera::sim {

// The arithmetic a GEMM runs in, which decides the unit and its peak.
enum class GpuPrecision : uint8_t { kFp32, kTf32, kBf16, kFp16, kInt8 };
const char* gpu_precision_name(GpuPrecision p);  // "fp32", "tf32", "bf16", "fp16", "int8"

struct GpuConfig {
  std::string name = "custom";
  std::string source;  // where the figures come from

  int64_t sm_count = 1;
  double sm_clock_hz = 1e9;  // boost clock: the report's cycles are counted at it
  // Peak dense throughput, flop/s (int8: op/s; a multiply-add is 2). 0: the part has no
  // tensor-core path for that precision, and such GEMMs run on the CUDA cores (fp32 rate).
  double fp32_flops = 0;  // CUDA cores
  double tf32_flops = 0;  // tensor cores
  double bf16_flops = 0;
  double fp16_flops = 0;
  double int8_ops = 0;
  // Special-function units (exp, log, tanh, rsqrt, …) per SM, one result per clock each.
  int64_t sfu_per_sm = 16;

  double hbm_bandwidth = 1e12;  // bytes/s, peak
  int64_t hbm_bytes = int64_t{16} << 30;
  std::string hbm_name = "hbm";
  int64_t l2_bytes = int64_t{4} << 20;
  double l2_bandwidth = 4e12;  // bytes/s, peak

  double launch_overhead_s = 3e-6;  // the least a kernel costs: launch, ramp-up, tail

  // Achievable fractions of peak (the model's calibration knobs).
  double tensor_efficiency = 0.8;     // large tensor-core GEMMs (cuBLAS-class kernels)
  double simt_efficiency = 0.85;      // large FP32 GEMMs on the CUDA cores
  double attention_efficiency = 0.5;  // a fused (flash-style) attention kernel, of the GEMM rate
  double memory_efficiency = 0.85;    // streaming kernels, of the HBM peak
  double l2_efficiency = 0.7;         // of the L2 peak, for L2-resident work
  // Work whose bytes fit in this fraction of the L2 is served from it (the rest of the step
  // competes for the cache).
  double l2_resident_fraction = 0.5;

  bool allow_tf32 = false;       // f32 GEMMs on the TF32 tensor cores (cuBLAS' TF32 mode)
  bool fuse_elementwise = true;  // cost the graph after the backends' fusion pass

  // Power: idle draw, the board limit, and the energy of data movement. Arithmetic energy per
  // flop is (tdp - idle) / peak of its unit: a unit at its peak draws the board limit.
  double tdp_w = 300;
  double idle_w = 30;
  double dram_byte_pj = 31.2;  // HBM2: 3.9 pJ/bit
  double l2_byte_pj = 1.5;

  // The peak of `p`, falling back to the CUDA cores where the part has no tensor-core path.
  double peak_flops(GpuPrecision p) const;
  // Whether `p` runs on the tensor cores of this part.
  bool on_tensor_cores(GpuPrecision p) const;
  // The precision a GEMM with operands of `dtype` runs in: f32 -> fp32 (tf32 when
  // allow_tf32), bf16, f16, int8; anything else on the CUDA cores at fp32.
  GpuPrecision gemm_precision(DType dtype) const;
  // Throws Error naming `where` and the field for a non-positive size or a fraction outside
  // (0, 1].
  void validate(std::string_view where) const;
};

// "t4", "a100" (SXM4 80 GB), "h100" (SXM5), "h200" (SXM). Throws Error(kNotFound) listing them.
GpuConfig gpu_preset(std::string_view name);
std::vector<std::string> gpu_preset_names();

// A YAML file (schema in docs/simulators/gpu.md), from a preset (`base:`) or from scratch.
// Unknown keys, wrong types and out-of-range values are errors naming the file, line and field.
GpuConfig parse_gpu_config(const std::string& text, const std::string& source);
GpuConfig load_gpu_config(const std::string& path);

// "" (h100), a preset name, or a .yaml config.
GpuConfig load_gpu_target(std::string_view spec);

// The GPU the CUDA runtime describes: the preset whose name the device's matches ("H100",
// "A100", …), rescaled to the device's SM count, clock, memory and L2 where they differ (an
// H100 PCIe, an A100 40 GB); else a config derived from the compute capability's per-SM
// throughput, the SMs, clock and memory bus, with the assumptions docs/simulators/gpu.md
// lists (recorded in `source`).
GpuConfig gpu_config_from_device(const GpuDeviceInfo& device);

}  // namespace tessera::sim
