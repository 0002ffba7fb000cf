// Dataflow names and the GEMM-to-array mapping both systolic engines use.
#include <algorithm>
#include <cctype>
#include <string>

#include "systolic_internal.h"
#include "tessera/core/error.h"

namespace tessera::sim {

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kWeightStationary: return "ws";
    case Dataflow::kOutputStationary: return "os";
    case Dataflow::kInputStationary: return "is";
  }
  return "?";
}

Dataflow parse_dataflow(std::string_view text, std::string_view where) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (s == "ws" || s == "weight_stationary") return Dataflow::kWeightStationary;
  if (s == "os" || s == "output_stationary") return Dataflow::kOutputStationary;
  if (s == "is" || s == "input_stationary") return Dataflow::kInputStationary;
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown dataflow '{}' (expected ws, os or is, or "
                          "weight_stationary, output_stationary, input_stationary)",
                          where, text));
}

namespace detail {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

FoldPlan plan_folds(const GemmShape& gemm, const SystolicArray& array) {
  TS_CHECK(gemm.m > 0 && gemm.n > 0 && gemm.k > 0 && gemm.batch > 0,
           ErrorKind::kInvalidArgument,
           "systolic gemm: m, n, k and batch must be positive, got m={} n={} k={} batch={}",
           gemm.m, gemm.n, gemm.k, gemm.batch);
  TS_CHECK(array.rows > 0 && array.cols > 0, ErrorKind::kInvalidArgument,
           "systolic array: rows and cols must be positive, got {}x{}", array.rows, array.cols);
  TS_CHECK(array.ifmap_sram_bytes > 0 && array.filter_sram_bytes > 0 &&
               array.ofmap_sram_bytes > 0,
           ErrorKind::kInvalidArgument,
           "systolic array: SRAM sizes must be positive, got ifmap={} filter={} ofmap={} bytes",
           array.ifmap_sram_bytes, array.filter_sram_bytes, array.ofmap_sram_bytes);
  TS_CHECK(array.operand_bytes > 0 && array.accumulator_bytes > 0, ErrorKind::kInvalidArgument,
           "systolic array: operand_bytes and accumulator_bytes must be positive, got {} and {}",
           array.operand_bytes, array.accumulator_bytes);
  TS_CHECK(array.dram_words_per_cycle >= 0, ErrorKind::kInvalidArgument,
           "systolic array: dram_words_per_cycle must be >= 0 (0: unlimited), got {}",
           array.dram_words_per_cycle);

  FoldPlan p;
  p.dataflow = array.dataflow;
  p.rows = array.rows;
  p.cols = array.cols;
  p.batch = gemm.batch;
  switch (array.dataflow) {
    case Dataflow::kWeightStationary: p.sr = gemm.k, p.sc = gemm.n, p.t = gemm.m; break;
    case Dataflow::kOutputStationary: p.sr = gemm.m, p.sc = gemm.n, p.t = gemm.k; break;
    case Dataflow::kInputStationary: p.sr = gemm.k, p.sc = gemm.m, p.t = gemm.n; break;
  }
  p.row_folds = ceil_div(p.sr, p.rows);
  p.col_folds = ceil_div(p.sc, p.cols);
  if (array.dataflow == Dataflow::kOutputStationary) {
    p.cycles_per_fold = p.rows + p.cols + p.t - 2;
    p.util_cycles_per_fold = p.cycles_per_fold;
  } else {
    p.cycles_per_fold = 2 * p.rows + p.cols + p.t - 2;
    p.util_cycles_per_fold = 2 * p.rows + 2 * p.cols + p.t - 3;
  }
  return p;
}

Reuse plan_reuse(const GemmShape& gemm, const SystolicArray& array, double ifmap_unique_words) {
  const double im2col_words = static_cast<double>(gemm.m) * static_cast<double>(gemm.k);
  const double unique = ifmap_unique_words < 0 ? im2col_words
                                               : std::min(ifmap_unique_words, im2col_words);
  const double filter_words = static_cast<double>(gemm.k) * static_cast<double>(gemm.n);
  const double bytes = static_cast<double>(array.operand_bytes);
  Reuse r;
  r.ifmap_fits = unique * bytes <= static_cast<double>(array.ifmap_sram_bytes / 2);
  r.filter_fits = filter_words * bytes <= static_cast<double>(array.filter_sram_bytes / 2);
  r.ifmap_unique_ratio = unique / im2col_words;
  // One fold's partial sums: the streamed dimension times the array's width.
  const int64_t streamed = array.dataflow == Dataflow::kInputStationary ? gemm.n : gemm.m;
  r.accumulate = array.accumulate_partial_sums &&
                 static_cast<double>(streamed) * static_cast<double>(array.cols) *
                         static_cast<double>(array.accumulator_bytes) <=
                     static_cast<double>(array.ofmap_sram_bytes / 2);
  return r;
}

}  // namespace detail
}  // namespace tessera::sim
