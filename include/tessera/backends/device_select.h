// Choosing the hardware by name: the device names that CompileConfig::device and the CLI's
// --device take, and the scheduler backend list each one stands for.
//
//   std::vector<std::string> b = backends_for_device("auto");  // {"cuda", "cpu"} with a GPU
//   Program p = compile_program(graph, {.batch = 32, .backends = b});
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// "cpu", "cuda", "auto".
const std::vector<std::string>& device_names();

// "cpu" -> {"cpu"}; "cuda" -> {"cuda", "cpu"} (the cpu runs what the GPU does not), or
// Error(kUnsupported) when this build has no CUDA backend or the machine has no GPU;
// "auto" -> cuda's list when gpu_devices() is not empty, else cpu's. Anything else is
// Error(kInvalidArgument) listing the names.
std::vector<std::string> backends_for_device(std::string_view device);

}  // namespace tessera
