#include "tessera/core/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tessera {

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2") != 0;
    f.fma = __builtin_cpu_supports("fma") != 0;
    // F16C straight from CPUID (leaf 1, ECX bit 29): clang 14's __builtin_cpu_supports does
    // not know "f16c". AVX2's check already covers the OS saving YMM state.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    f.f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
#endif
    f.avx2_fma_f16c = f.avx2 && f.fma && f.f16c;
    return f;
  }();
  return features;
}

}  // namespace tessera
