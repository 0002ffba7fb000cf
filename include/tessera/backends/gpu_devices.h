// The GPUs this process can use, as the CUDA runtime describes them. Empty in a build
// without CUDA or on a machine without a GPU, so callers (device selection, the GPU
// performance model's "which GPU is this" question) need no #ifdef.
//
//   for (const GpuDeviceInfo& d : gpu_devices()) fmt::print("{} ({} SMs)\n", d.name, d.sm_count);
//   bool cuda = !gpu_devices().empty();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

struct GpuDeviceInfo {
  int ordinal = 0;
  std::string name;            // "NVIDIA H100 80GB HBM3"
  int compute_major = 0;       // compute capability, e.g. 9.0
  int compute_minor = 0;
  int sm_count = 0;
  double sm_clock_ghz = 0;     // peak (boost) SM clock
  double memory_clock_ghz = 0;
  int memory_bus_bits = 0;
  int64_t memory_bytes = 0;    // global memory
  int64_t l2_bytes = 0;
};

// Probed once per process; never throws (a CUDA failure reads as "no GPU").
const std::vector<GpuDeviceInfo>& gpu_devices();

}  // namespace tessera
