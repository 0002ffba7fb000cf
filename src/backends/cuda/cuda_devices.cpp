// gpu_devices() from the CUDA runtime (the non-CUDA build's fallback is
// src/backends/gpu_devices.cpp). CUDA 13 removed clock rates and the memory bus width
// from cudaDeviceProp: they are read as device attributes.
#include <cuda_runtime_api.h>

#include "tessera/backends/gpu_devices.h"

namespace tessera {
namespace {

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, a, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return v;
}

std::vector<GpuDeviceInfo> probe() {
  std::vector<GpuDeviceInfo> r;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver, no device: "no GPU"
    return r;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    GpuDeviceInfo info;
    info.ordinal = d;
    info.name = p.name;
    info.compute_major = p.major;
    info.compute_minor = p.minor;
    info.sm_count = p.multiProcessorCount;
    info.sm_clock_ghz = attribute(cudaDevAttrClockRate, d) * 1e-6;  // kHz
    info.memory_clock_ghz = attribute(cudaDevAttrMemoryClockRate, d) * 1e-6;
    info.memory_bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, d);
    info.memory_bytes = static_cast<int64_t>(p.totalGlobalMem);
    info.l2_bytes = static_cast<int64_t>(p.l2CacheSize);
    r.push_back(std::move(info));
  }
  return r;
}

}  // namespace

const std::vector<GpuDeviceInfo>& gpu_devices() {
  static const std::vector<GpuDeviceInfo> devices = probe();
  return devices;
}

}  // namespace tessera
