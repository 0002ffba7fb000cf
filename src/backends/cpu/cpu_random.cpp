// random_uniform on the cpu: the same function of (seed, step, position) as the reference
// (ref_random.cpp), computed in fixed chunks of four-word Philox blocks on the pool. Each
// element depends only on its own index, so the result is bit-identical to ref on any thread
// count.
#include "cpu_internal.h"
#include "tessera/core/rng.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {

void random_uniform_kernel(const KernelArgs& args) {
  const uint64_t seed = static_cast<uint64_t>(args.node.attrs.get_int("seed"));
  const uint64_t step = static_cast<uint64_t>(args.inputs[0].data<int64_t>()[0]);
  float* y = args.output.data<float>();
  const int64_t n = args.output.numel();
  const int64_t blocks = (n + 3) / 4;  // one Philox call fills four elements
  pool().parallel_for(blocks, kCostlyGrain / 4, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; ++blk) {
      std::array<uint32_t, 4> r = philox4x32(seed, step, static_cast<uint64_t>(blk));
      const int64_t base = blk * 4;
      const int64_t count = std::min<int64_t>(4, n - base);
      for (int64_t k = 0; k < count; ++k)
        y[base + k] = static_cast<float>(r[k] >> 8) * 0x1.0p-24f;
    }
  });
}

}  // namespace tessera::cpu
