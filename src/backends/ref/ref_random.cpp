// Reference random_uniform: element i of the output is word i % 4 of
// philox4x32(seed, step, i / 4), its top 24 bits scaled to [0, 1). 24 bits are exactly what an
// f32 mantissa holds, so every backend produces the same float for the same element.
#include "ref_kernels.h"
#include "tessera/core/rng.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {

void random_uniform_kernel(const KernelArgs& args) {
  const uint64_t seed = static_cast<uint64_t>(args.node.attrs.get_int("seed"));
  const uint64_t step = static_cast<uint64_t>(get_i64(args.inputs[0].contiguous(), 0));
  Tensor& out = args.output;
  for (int64_t i = 0; i < out.numel(); ++i) {
    uint64_t u = static_cast<uint64_t>(i);
    uint32_t word = philox4x32(seed, step, u / 4)[u % 4];
    set_f64(out, i, static_cast<double>(word >> 8) * 0x1.0p-24);
  }
}

}  // namespace tessera::ref
