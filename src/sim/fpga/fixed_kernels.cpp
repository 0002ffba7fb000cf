// Internal: the dense kernels for baseline x86-64 and the run-time choice of the AVX2 build.
#include "fixed_kernels.h"

namespace tessera::sim::fpga_kernels {
namespace baseline {
#include "fixed_kernels.inc"
}  // namespace baseline

namespace {
bool has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
#else
  return false;
#endif
}
}  // namespace

void dense_i32(int32_t* acc, const int32_t* w, const int32_t* x, int64_t n_in, int64_t n_out,
               int k, Rounding r) {
  if (has_avx2()) return avx2::dense_i32(acc, w, x, n_in, n_out, k, r);
  baseline::dense_i32(acc, w, x, n_in, n_out, k, r);
}

void dense_i64(int64_t* acc, const int64_t* w, const int64_t* x, int64_t n_in, int64_t n_out,
               int k, Rounding r) {
  if (has_avx2()) return avx2::dense_i64(acc, w, x, n_in, n_out, k, r);
  baseline::dense_i64(acc, w, x, n_in, n_out, k, r);
}

}  // namespace tessera::sim::fpga_kernels
