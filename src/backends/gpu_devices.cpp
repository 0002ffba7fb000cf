#include "tessera/backends/gpu_devices.h"

// In CUDA builds src/backends/cuda/ provides gpu_devices() from the CUDA runtime.
#ifndef TESSERA_HAVE_CUDA
namespace tessera {

const std::vector<GpuDeviceInfo>& gpu_devices() {
  static const std::vector<GpuDeviceInfo> none;
  return none;
}

}  // namespace tessera
#endif
