// What the two systolic engines (systolic_cycle.cpp, systolic_analytic.cpp) and the SCALE-Sim
// front end (scalesim_run.cpp) share: the mapping of a GEMM onto the array per dataflow, the
// per-fold cycle count, and the DRAM words a fold moves. Private to src/sim/tpu.
//
//   detail::FoldPlan plan = detail::plan_folds(gemm, array);
//   int64_t cycles = plan.folds() * plan.cycles_per_fold - 1;   // CALC mode, no stalls
#pragma once

#include <algorithm>
#include <cstdint>

#include "tessera/sim/tpu/systolic.h"

namespace tessera::sim::detail {

// SCALE-Sim's view of a GEMM (m = output pixels, n = filters, k = window): the operand dimension
// laid along the array's rows (sr), the one laid along its columns (sc), and the one streamed in
// time (t).
//   ws: sr = k, sc = n, t = m      os: sr = m, sc = n, t = k      is: sr = k, sc = m, t = n
struct FoldPlan {
  Dataflow dataflow = Dataflow::kWeightStationary;
  int64_t rows = 0, cols = 0;  // the array
  int64_t sr = 0, sc = 0, t = 0;
  int64_t row_folds = 0, col_folds = 0;
  int64_t batch = 1;
  // Cycles of one fold: fill, stream and drain. SCALE-Sim pads every fold to the whole array, so
  // this does not depend on how much of the array a fold uses.
  //   ws/is: 2R + C + T - 2 (R cycles to load the stationary tile, R-1 of input skew, T of
  //          streaming, C-1 for the last partial sums to leave the array)
  //   os:    R + C + T - 2  (T of streaming plus the R-1 / C-1 skews of the two operands)
  int64_t cycles_per_fold = 0;
  // The per-fold cycle count SCALE-Sim divides by in its "Compute Util %": the padded demand
  // matrix's rows plus columns minus one (2R + 2C + T - 3 for ws/is, R + C + T - 2 for os).
  int64_t util_cycles_per_fold = 0;

  int64_t folds() const { return batch * row_folds * col_folds; }
  // Rows / columns of the array that fold (fr, fc) uses.
  int64_t rows_used(int64_t fr) const { return std::min(rows, sr - fr * rows); }
  int64_t cols_used(int64_t fc) const { return std::min(cols, sc - fc * cols); }
};

// Validates the GEMM and the array (naming the offending field) and maps one onto the other.
FoldPlan plan_folds(const GemmShape& gemm, const SystolicArray& array);

// How the operands reuse the SRAM, decided once per GEMM.
struct Reuse {
  // The whole operand fits in one half of its double-buffered SRAM: every word comes from DRAM
  // once. Otherwise a fold fetches its tile again when a later fold returns to it.
  bool ifmap_fits = false;
  bool filter_fits = false;
  // DRAM words per im2col word of the ifmap: 1 for a GEMM; for a convolution, the distinct
  // input pixels over the im2col matrix's size (the duplicates of overlapping windows are
  // served from the SRAM).
  double ifmap_unique_ratio = 1;
  // Partial sums of the row folds of one column fold stay in the ofmap SRAM
  // (SystolicArray::accumulate_partial_sums, when they fit): only the last row fold writes.
  bool accumulate = false;
};

// The default for a plain GEMM; `ifmap_unique_words` < 0 means m * k.
Reuse plan_reuse(const GemmShape& gemm, const SystolicArray& array, double ifmap_unique_words);

// Words one fold reads from DRAM (its operand tiles not already in the SRAM) and writes back.
struct FoldWords {
  double ifmap = 0, filter = 0, ofmap = 0;
  double reads() const { return ifmap + filter; }
};
inline FoldWords fold_words(const FoldPlan& p, const Reuse& reuse, int64_t fc, int64_t fr) {
  const double ru = static_cast<double>(p.rows_used(fr));
  const double cu = static_cast<double>(p.cols_used(fc));
  const double t = static_cast<double>(p.t);
  FoldWords w;
  switch (p.dataflow) {
    case Dataflow::kWeightStationary:  // filter tile stationary, ifmap columns streamed
      w.filter = ru * cu;
      w.ifmap = (reuse.ifmap_fits && fc > 0 ? 0 : t * ru) * reuse.ifmap_unique_ratio;
      w.ofmap = reuse.accumulate && fr + 1 < p.row_folds ? 0 : t * cu;
      break;
    case Dataflow::kOutputStationary:  // ifmap rows and filter columns both streamed
      w.ifmap = (reuse.ifmap_fits && fc > 0 ? 0 : t * ru) * reuse.ifmap_unique_ratio;
      w.filter = fr == 0 ? t * cu : 0;  // the column slice stays for the inner row folds
      w.ofmap = ru * cu;
      break;
    case Dataflow::kInputStationary:  // ifmap tile stationary, filter columns streamed
      w.ifmap = ru * cu * reuse.ifmap_unique_ratio;
      w.filter = reuse.filter_fits && fc > 0 ? 0 : t * ru;
      w.ofmap = reuse.accumulate && fr + 1 < p.row_folds ? 0 : t * cu;
      break;
  }
  return w;
}

// Sets the DRAM word counts (rounded) and the three ratios both engines report, once the
// access counts, folds, MACs and cycles are in `s`. `mapped_pes`: PEs holding work, summed
// over all folds.
inline void finish_stats(GemmStats& s, double dram_ifmap, double dram_filter, double dram_ofmap,
                         double mapped_pes, int64_t pes) {
  s.ifmap_dram_reads = static_cast<int64_t>(dram_ifmap + 0.5);
  s.filter_dram_reads = static_cast<int64_t>(dram_filter + 0.5);
  s.ofmap_dram_writes = static_cast<int64_t>(dram_ofmap + 0.5);
  const double p = static_cast<double>(pes);
  s.mapping_efficiency = mapped_pes / (static_cast<double>(s.folds) * p);
  s.compute_utilization = static_cast<double>(s.macs) / (p * static_cast<double>(s.compute_cycles));
  s.overall_utilization = static_cast<double>(s.macs) / (p * static_cast<double>(s.total_cycles()));
}

// The engines with an explicit ifmap footprint (run_scalesim passes a convolution's distinct
// input pixels; simulate_gemm / estimate_gemm pass -1).
GemmStats simulate_gemm_with(const GemmShape& gemm, const SystolicArray& array,
                             double ifmap_unique_words);
GemmStats estimate_gemm_with(const GemmShape& gemm, const SystolicArray& array,
                             double ifmap_unique_words);

// Cycles to move `words` over a link of `words_per_cycle` (0: unlimited).
inline int64_t transfer_cycles(double words, double words_per_cycle) {
  if (words_per_cycle <= 0 || words <= 0) return 0;
  const double c = words / words_per_cycle;
  const auto whole = static_cast<int64_t>(c);
  return static_cast<double>(whole) < c - 1e-9 ? whole + 1 : whole;
}

}  // namespace tessera::sim::detail
