// What the host CPU can run, detected once, for kernels that pick a vector path at run time.
//
//   if (cpu_features().avx2_fma_f16c) run_avx2_kernel(); else run_scalar_kernel();
#pragma once

namespace tessera {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx2_fma_f16c = false;  // all three: what the *_avx2.cpp kernels are built for
};

// False everywhere on non-x86 machines.
const CpuFeatures& cpu_features();

}  // namespace tessera
