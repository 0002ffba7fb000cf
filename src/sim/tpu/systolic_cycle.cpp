// simulate_gemm: the exact systolic engine. It walks every fold (batch, then column folds, then
// row folds, SCALE-Sim's order) and keeps a timeline of the array and of the DRAM link:
//
//  * A fold computes for plan.cycles_per_fold cycles (fill, stream, drain; see FoldPlan).
//  * Operand SRAMs are double-buffered: fold f+1's tiles are fetched into the idle half while
//    fold f computes, so the prefetch may start when fold f starts (the half that fold f-1 used
//    is free then). Fold 0's tiles are loaded before cycle 0, as SCALE-Sim does (a layer's first
//    tiles arrive while the previous layer computes).
//  * The ofmap SRAM is double-buffered too: fold f's outputs drain to DRAM while fold f+1
//    computes, and fold f+2 may not start before they are gone. The last fold's outputs drain
//    after the last cycle counted (SCALE-Sim counts up to the last write into the SRAM).
//  * One DRAM link of dram_words_per_cycle carries all three streams, in issue order.
//  * A fold starts at the latest of: the previous fold's end, its operands' arrival, and the
//    drain of the output half it will write. Any wait is a stall.
//
// Every step is a few integer operations per fold: no per-cycle or per-PE loop.
#include <algorithm>

#include "systolic_internal.h"

namespace tessera::sim {
namespace detail {

GemmStats simulate_gemm_with(const GemmShape& gemm, const SystolicArray& array,
                             double ifmap_unique_words) {
  const FoldPlan plan = plan_folds(gemm, array);
  const Reuse reuse = plan_reuse(gemm, array, ifmap_unique_words);
  const double bw = array.dram_words_per_cycle;
  const bool limited = bw > 0;
  const int64_t c = plan.cycles_per_fold;
  const int64_t pes = plan.rows * plan.cols;

  GemmStats s;
  s.macs = gemm.macs();
  s.folds = plan.folds();

  int64_t mapped_pes = 0;  // sum over folds of the PEs holding work
  double dram_ifmap = 0, dram_filter = 0, dram_ofmap = 0;

  // Timeline state (only advanced when bandwidth is limited).
  int64_t prev_end = 0;          // end of the previous fold
  int64_t link_free = 0;         // the DRAM link is busy until here
  int64_t next_ready = 0;        // the next fold's operands are in the SRAM from here
  int64_t drain_end[2] = {0, 0}; // when each output half finished draining
  int64_t stalls = 0;
  int64_t f = 0;

  const int64_t total = s.folds;
  const int64_t per_batch = plan.row_folds * plan.col_folds;
  auto fold_at = [&](int64_t index) {
    const int64_t in_batch = index % per_batch;
    return fold_words(plan, reuse, in_batch / plan.row_folds, in_batch % plan.row_folds);
  };

  for (int64_t b = 0; b < plan.batch; ++b) {
    for (int64_t fc = 0; fc < plan.col_folds; ++fc) {
      const int64_t cu = plan.cols_used(fc);
      for (int64_t fr = 0; fr < plan.row_folds; ++fr, ++f) {
        const int64_t ru = plan.rows_used(fr);
        mapped_pes += ru * cu;
        switch (plan.dataflow) {
          case Dataflow::kWeightStationary:
            s.ifmap_sram_reads += plan.t * ru;
            s.filter_sram_reads += ru * cu;
            s.ofmap_sram_writes += plan.t * cu;
            break;
          case Dataflow::kOutputStationary:
            s.ifmap_sram_reads += plan.t * ru;
            s.filter_sram_reads += plan.t * cu;
            s.ofmap_sram_writes += ru * cu;
            break;
          case Dataflow::kInputStationary:
            s.ifmap_sram_reads += ru * cu;
            s.filter_sram_reads += plan.t * ru;
            s.ofmap_sram_writes += plan.t * cu;
            break;
        }
        const FoldWords w = fold_words(plan, reuse, fc, fr);
        dram_ifmap += w.ifmap;
        dram_filter += w.filter;
        dram_ofmap += w.ofmap;
        if (!limited) continue;

        const int64_t start =
            f == 0 ? 0 : std::max({prev_end, next_ready, drain_end[f % 2]});
        stalls += start - prev_end;
        const int64_t end = start + c;
        if (f + 1 < total) {  // prefetch the next fold into the idle half
          const int64_t issue = std::max(start, link_free);
          next_ready = issue + transfer_cycles(fold_at(f + 1).reads(), bw);
          link_free = next_ready;
        }
        const int64_t drain_start = std::max(end, link_free);
        drain_end[f % 2] = drain_start + transfer_cycles(w.ofmap, bw);
        link_free = drain_end[f % 2];
        prev_end = end;
      }
    }
  }

  // SCALE-Sim reports the cycle of the last output write counting from 0: one less than the
  // number of cycles the folds span (at least 1: a 1x1 array's single 1-cycle fold).
  s.compute_cycles = std::max<int64_t>(s.folds * c - 1, 1);
  s.stall_cycles = stalls;
  finish_stats(s, dram_ifmap, dram_filter, dram_ofmap, static_cast<double>(mapped_pes), pes);
  return s;
}

}  // namespace detail

GemmStats simulate_gemm(const GemmShape& gemm, const SystolicArray& array) {
  return detail::simulate_gemm_with(gemm, array, -1);
}

}  // namespace tessera::sim
