// estimate_gemm: the analytic systolic engine. The folds of a GEMM fall into at most nine
// classes (first / middle / last column fold x first / middle / last row fold); the folds of a
// class use the same part of the array and move the same words, so every count is a sum over
// the classes and the cost does not grow with the GEMM. Compute cycles, utilizations and access
// counts are therefore exactly those of simulate_gemm; only the stalls are modelled:
//
//   each fold after the first waits until the link has moved its operands and an earlier
//   fold's outputs, so it stalls max(0, ceil(reads / bw) + ceil(writes / bw) - cycles)
//
// summed over the classes, without the first fold (its operands arrive before cycle 0). The
// exact engine's timeline differs where neighbouring folds move different amounts (the link
// idles or catches up a fold later); tests/sim/systolic_test.cpp bounds the difference.
#include <algorithm>

#include "systolic_internal.h"

namespace tessera::sim {
namespace detail {

namespace {

// A representative index and the number of folds it stands for: the first fold, the ones in
// the middle (identical), and the last (possibly partial).
struct FoldClass {
  int64_t index = 0;
  int64_t count = 0;
};

int fold_classes(int64_t folds, FoldClass out[3]) {
  int n = 0;
  out[n++] = {0, 1};
  if (folds > 2) out[n++] = {1, folds - 2};
  if (folds > 1) out[n++] = {folds - 1, 1};
  return n;
}

// A fold's stall when the link must carry `reads` and `writes` words while it computes.
int64_t fold_stall(double reads, double writes, double bw, int64_t cycles) {
  return std::max<int64_t>(0, transfer_cycles(reads, bw) + transfer_cycles(writes, bw) - cycles);
}

// Fold classes fine enough that a fold two places earlier is also uniform over each class:
// indices 0, 1, the middle (2 .. n-3), n-2 and n-1.
int pair_classes(int64_t folds, FoldClass out[5]) {
  int n = 0;
  for (int64_t i : {int64_t{0}, int64_t{1}}) {
    if (i < folds) out[n++] = {i, 1};
  }
  if (folds > 4) out[n++] = {2, folds - 4};
  for (int64_t i : {folds - 2, folds - 1}) {
    if (i >= 2) out[n++] = {i, 1};
  }
  return n;
}

// Stalls of all folds. In the exact engine's steady state a fold's operands share the link with
// the outputs of the fold two places earlier (the previous fold's outputs drain only once it
// ends, behind the prefetch issued when it started), so fold f stalls
//   max(0, ceil(reads_f / bw) + ceil(writes_{f-2} / bw) - cycles_per_fold),
// and fold 0 not at all.
int64_t paired_stalls(const FoldPlan& plan, const Reuse& reuse, double bw) {
  const int64_t c = plan.cycles_per_fold;
  const int64_t per_batch = plan.row_folds * plan.col_folds;
  FoldClass cols[5], rows[5];
  const int n_cols = pair_classes(plan.col_folds, cols);
  const int n_rows = pair_classes(plan.row_folds, rows);
  int64_t first_batch = 0, later_batch = 0;
  for (int i = 0; i < n_cols; ++i) {
    for (int j = 0; j < n_rows; ++j) {
      const int64_t fc = cols[i].index, fr = rows[j].index;
      const int64_t count = cols[i].count * rows[j].count;
      const double reads = fold_words(plan, reuse, fc, fr).reads();
      const int64_t index = fc * plan.row_folds + fr;
      // Two folds back, in this batch or (wrapping) in the previous one.
      const int64_t pred = ((index - 2) % per_batch + per_batch) % per_batch;
      const double writes = fold_words(plan, reuse, pred / plan.row_folds,
                                       pred % plan.row_folds).ofmap;
      const int64_t stall = fold_stall(reads, writes, bw, c);
      later_batch += count * stall;
      if (index == 0) continue;  // fold 0: operands loaded before cycle 0
      first_batch += count * (index >= 2 ? stall : fold_stall(reads, 0, bw, c));
    }
  }
  int64_t total = first_batch + (plan.batch - 1) * later_batch;
  if (per_batch == 1 && plan.batch > 1) {  // the second fold overall has no outputs ahead of it
    const FoldWords w = fold_words(plan, reuse, 0, 0);
    total -= fold_stall(w.reads(), w.ofmap, bw, c) - fold_stall(w.reads(), 0, bw, c);
  }
  return total;
}

}  // namespace

GemmStats estimate_gemm_with(const GemmShape& gemm, const SystolicArray& array,
                             double ifmap_unique_words) {
  const FoldPlan plan = plan_folds(gemm, array);
  const Reuse reuse = plan_reuse(gemm, array, ifmap_unique_words);
  const double bw = array.dram_words_per_cycle;
  const int64_t c = plan.cycles_per_fold;
  const int64_t pes = plan.rows * plan.cols;

  GemmStats s;
  s.macs = gemm.macs();
  s.folds = plan.folds();

  FoldClass cols[3], rows[3];
  const int n_cols = fold_classes(plan.col_folds, cols);
  const int n_rows = fold_classes(plan.row_folds, rows);

  int64_t mapped_pes = 0;
  double dram_ifmap = 0, dram_filter = 0, dram_ofmap = 0;
  for (int i = 0; i < n_cols; ++i) {
    const int64_t fc = cols[i].index;
    const int64_t cu = plan.cols_used(fc);
    for (int j = 0; j < n_rows; ++j) {
      const int64_t fr = rows[j].index;
      const int64_t ru = plan.rows_used(fr);
      const int64_t count = cols[i].count * rows[j].count;
      mapped_pes += count * ru * cu;
      switch (plan.dataflow) {
        case Dataflow::kWeightStationary:
          s.ifmap_sram_reads += count * plan.t * ru;
          s.filter_sram_reads += count * ru * cu;
          s.ofmap_sram_writes += count * plan.t * cu;
          break;
        case Dataflow::kOutputStationary:
          s.ifmap_sram_reads += count * plan.t * ru;
          s.filter_sram_reads += count * plan.t * cu;
          s.ofmap_sram_writes += count * ru * cu;
          break;
        case Dataflow::kInputStationary:
          s.ifmap_sram_reads += count * ru * cu;
          s.filter_sram_reads += count * plan.t * ru;
          s.ofmap_sram_writes += count * plan.t * cu;
          break;
      }
      const FoldWords w = fold_words(plan, reuse, fc, fr);
      const double n = static_cast<double>(count);
      dram_ifmap += n * w.ifmap;
      dram_filter += n * w.filter;
      dram_ofmap += n * w.ofmap;
    }
  }
  const int64_t batch = plan.batch;
  const double nb = static_cast<double>(batch);

  s.compute_cycles = std::max<int64_t>(s.folds * c - 1, 1);
  if (bw > 0) s.stall_cycles = paired_stalls(plan, reuse, bw);

  s.ifmap_sram_reads *= batch;
  s.filter_sram_reads *= batch;
  s.ofmap_sram_writes *= batch;
  finish_stats(s, nb * dram_ifmap, nb * dram_filter, nb * dram_ofmap,
               static_cast<double>(mapped_pes * batch), pes);
  return s;
}

}  // namespace detail

GemmStats estimate_gemm(const GemmShape& gemm, const SystolicArray& array) {
  return detail::estimate_gemm_with(gemm, array, -1);
}

}  // namespace tessera::sim
