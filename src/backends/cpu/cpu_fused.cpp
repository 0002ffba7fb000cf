// The fused elementwise kernel: runs a FusedProgram tile by tile (kTile elements), so its
// intermediate registers live in a small per-thread scratch that stays in L1 and never take
// a full tensor's worth of memory. Inputs are read in place (contiguous runs) or as one
// broadcast scalar; a register computed only from broadcast scalars stays one element wide.
// The instructions run through the same f32 array kernels as unfused nodes (AVX2 or scalar).
#include <algorithm>
#include <vector>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

struct Reg {
  const float* p;
  int64_t stride;  // 0: one broadcast value; 1: kTile (or fewer) elements
};


}  // namespace

void fused_kernel(const KernelArgs& args) {
  const FusedProgram& prog = *args.node.fused;
  const int ni = prog.num_inputs;
  const int nr = prog.num_registers();
  TS_CHECK(ni <= kMaxLoopInputs, ErrorKind::kUnsupported,
           "{}: a fused program of {} inputs exceeds the cpu backend's {}",
           args.graph.describe(args.id), ni, kMaxLoopInputs);
  Shape shapes[kMaxLoopInputs];
  for (int k = 0; k < ni; ++k) shapes[k] = args.inputs[k].shape();
  ElemLoop l = make_elem_loop(args.output.shape(), std::span<const Shape>(shapes, ni));
  const F32Kernels& kern = f32_kernels();
  float* y = args.output.data<float>();
  const size_t num_instrs = prog.instrs.size();

  for_each_run(l, kCostlyGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    float* tmp = scratch<7>(num_instrs * kTile);  // registers of this thread
    Reg regs[256];
    std::vector<Reg> big;  // only for programs past 256 registers (never in practice)
    Reg* r = regs;
    if (nr > 256) {
      big.resize(nr);
      r = big.data();
    }
    for (int64_t i = 0; i < n; i += kTile) {
      const int64_t m = std::min(kTile, n - i);
      for (int k = 0; k < ni; ++k) {
        int64_t s = l.strides[k][l.rank - 1];
        r[k] = {args.inputs[k].data<float>() + off[k] + i * s, s};
      }
      for (size_t j = 0; j < num_instrs; ++j) {
        const FusedInstr& ins = prog.instrs[j];
        const bool last = j + 1 == num_instrs;
        const int op = static_cast<int>(ins.op);
        const Reg a = r[ins.a];
        float* dst = last ? y + o + i : tmp + j * kTile;
        int64_t stride;
        if (UnaryF32 f = kern.unary[op]) {
          stride = a.stride;
          f(a.p, dst, a.stride ? m : 1);
        } else {
          const Reg b = r[ins.b];
          stride = a.stride | b.stride;
          kern.binary[op](a.p, a.stride, b.p, b.stride, dst, stride ? m : 1);
        }
        if (last && stride == 0) std::fill(dst + 1, dst + m, dst[0]);
        r[ni + static_cast<int>(j)] = {dst, stride};
      }
    }
  });
}

}  // namespace tessera::cpu
