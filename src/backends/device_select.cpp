#include "tessera/backends/device_select.h"

#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/core/error.h"

namespace tessera {

const std::vector<std::string>& device_names() {
  static const std::vector<std::string> names = {"cpu", "cuda", "auto"};
  return names;
}

std::vector<std::string> backends_for_device(std::string_view device) {
  if (device == "cpu") return {"cpu"};
  if (device == "auto")
    return gpu_devices().empty() ? std::vector<std::string>{"cpu"}
                                 : std::vector<std::string>{"cuda", "cpu"};
  if (device == "cuda") {
    if (!kHaveCudaBackend)
      throw_error(ErrorKind::kUnsupported,
                  "device 'cuda': this build of tessera has no CUDA backend (configure with "
                  "-DTESSERA_CUDA=ON on a machine with the CUDA toolkit and cuDNN)");
    if (gpu_devices().empty())
      throw_error(ErrorKind::kUnsupported,
                  "device 'cuda': no CUDA device: the CUDA runtime finds no GPU on this machine "
                  "(use device 'cpu' or 'auto')");
    return {"cuda", "cpu"};
  }
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("unknown device '{}' (expected cpu, cuda or auto)", device));
}

}  // namespace tessera
