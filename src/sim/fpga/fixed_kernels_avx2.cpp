// Internal: the dense kernels compiled for AVX2 (see fixed_kernels.h; CMake adds -mavx2).
#include "fixed_kernels.h"

namespace tessera::sim::fpga_kernels::avx2 {
#include "fixed_kernels.inc"
}  // namespace tessera::sim::fpga_kernels::avx2
