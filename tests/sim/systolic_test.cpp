// The systolic engines: closed-form cycle counts per dataflow, fold counts, mapping efficiency,
// access counts, stalls under limited bandwidth, and the analytic engine against the exact one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/systolic.h"

namespace tessera::sim {
namespace {

SystolicArray array_of(int64_t rows, int64_t cols, Dataflow df) {
  SystolicArray a;
  a.rows = rows;
  a.cols = cols;
  a.dataflow = df;
  return a;
}

// Weight stationary, everything inside one fold (k <= R, n <= C): R cycles load the weights,
// the m input rows stream in with R-1 cycles of skew, and the last partial sums need C-1 more
// cycles to leave the array:  cycles = R + (R - 1) + m + (C - 1) = 2R + C + m - 2, reported as
// the index of the last cycle (minus one), SCALE-Sim's convention.
TEST(SystolicTest, WeightStationarySingleFoldClosedForm) {
  const SystolicArray a = array_of(8, 4, Dataflow::kWeightStationary);
  const GemmStats s = simulate_gemm({.m = 5, .n = 3, .k = 7}, a);
  EXPECT_EQ(s.folds, 1);
  EXPECT_EQ(s.compute_cycles, 2 * 8 + 4 + 5 - 2 - 1);  // 22, as SCALE-Sim v2 reports
  EXPECT_EQ(s.stall_cycles, 0);
  EXPECT_EQ(s.macs, 5 * 3 * 7);
  EXPECT_DOUBLE_EQ(s.mapping_efficiency, 7.0 * 3 / (8 * 4));
  EXPECT_EQ(s.ifmap_sram_reads, 5 * 7);
  EXPECT_EQ(s.filter_sram_reads, 7 * 3);
  EXPECT_EQ(s.ofmap_sram_writes, 5 * 3);
}

// Output stationary: both operands stream for k cycles, skewed by R-1 and C-1:
// cycles per fold = R + C + k - 2.
TEST(SystolicTest, OutputStationarySingleFoldClosedForm) {
  const SystolicArray a = array_of(8, 4, Dataflow::kOutputStationary);
  const GemmStats s = simulate_gemm({.m = 5, .n = 3, .k = 7}, a);
  EXPECT_EQ(s.folds, 1);
  EXPECT_EQ(s.compute_cycles, 8 + 4 + 7 - 2 - 1);  // 16
  EXPECT_DOUBLE_EQ(s.mapping_efficiency, 5.0 * 3 / 32);
}

// Input stationary maps k on the rows and m on the columns, streaming n: with m = 5 on 4
// columns it takes two folds of 2R + C + n - 2 cycles each.
TEST(SystolicTest, InputStationaryTwoFoldsClosedForm) {
  const SystolicArray a = array_of(8, 4, Dataflow::kInputStationary);
  const GemmStats s = simulate_gemm({.m = 5, .n = 3, .k = 7}, a);
  EXPECT_EQ(s.folds, 2);
  EXPECT_EQ(s.compute_cycles, 2 * (2 * 8 + 4 + 3 - 2) - 1);  // 41
  EXPECT_DOUBLE_EQ(s.mapping_efficiency, (7.0 * 4 + 7.0 * 1) / 2 / 32);
  EXPECT_EQ(s.ifmap_sram_reads, 5 * 7);
  EXPECT_EQ(s.filter_sram_reads, 2 * 3 * 7);  // the filter streams once per column fold
  EXPECT_EQ(s.ofmap_sram_writes, 5 * 3);
}

// Folds: ceil(sr / R) * ceil(sc / C), each of the same length.
TEST(SystolicTest, FoldCountsAndMultiFoldCycles) {
  const GemmShape g{.m = 100, .n = 50, .k = 70};
  {
    const GemmStats s = simulate_gemm(g, array_of(8, 4, Dataflow::kWeightStationary));
    EXPECT_EQ(s.folds, 9 * 13);                      // k on rows, n on columns
    EXPECT_EQ(s.compute_cycles, 117 * (16 + 4 + 100 - 2) - 1);  // 13805
    EXPECT_EQ(s.ifmap_sram_reads, 13 * 100 * 70);    // the ifmap once per column fold
    EXPECT_EQ(s.filter_sram_reads, 70 * 50);         // every weight once
    EXPECT_EQ(s.ofmap_sram_writes, 9 * 100 * 50);    // partial sums once per row fold
  }
  {
    const GemmStats s = simulate_gemm(g, array_of(8, 4, Dataflow::kOutputStationary));
    EXPECT_EQ(s.folds, 13 * 13);                     // m on rows, n on columns
    EXPECT_EQ(s.compute_cycles, 169 * (8 + 4 + 70 - 2) - 1);  // 13519
  }
  {
    const GemmStats s = simulate_gemm(g, array_of(8, 4, Dataflow::kInputStationary));
    EXPECT_EQ(s.folds, 9 * 25);                      // k on rows, m on columns
    EXPECT_EQ(s.compute_cycles, 225 * (16 + 4 + 50 - 2) - 1);  // 15299
  }
}

TEST(SystolicTest, BatchRepeatsTheFolds) {
  const SystolicArray a = array_of(16, 16, Dataflow::kWeightStationary);
  const GemmStats one = simulate_gemm({.m = 40, .n = 20, .k = 30}, a);
  const GemmStats four = simulate_gemm({.batch = 4, .m = 40, .n = 20, .k = 30}, a);
  EXPECT_EQ(four.folds, 4 * one.folds);
  EXPECT_EQ(four.compute_cycles + 1, 4 * (one.compute_cycles + 1));
  EXPECT_EQ(four.macs, 4 * one.macs);
  EXPECT_EQ(four.filter_sram_reads, 4 * one.filter_sram_reads);
}

// A layer whose k and n fill half the rows and all columns maps onto half the PEs.
TEST(SystolicTest, HalfFilledArrayHasHalfMappingEfficiency) {
  const SystolicArray a = array_of(32, 32, Dataflow::kWeightStationary);
  const GemmStats s = simulate_gemm({.m = 1000, .n = 32, .k = 16}, a);
  EXPECT_DOUBLE_EQ(s.mapping_efficiency, 0.5);
  EXPECT_LT(s.overall_utilization, 0.5);
  EXPECT_NEAR(s.compute_utilization, 1000.0 * 32 * 16 / (1024.0 * s.compute_cycles), 1e-12);
}

TEST(SystolicTest, DramReadsOnceWhenOperandsFitAndAgainWhenTheyDoNot) {
  SystolicArray a = array_of(16, 16, Dataflow::kWeightStationary);
  const GemmShape g{.m = 64, .n = 64, .k = 64};
  GemmStats s = simulate_gemm(g, a);  // 1 MiB SRAMs: everything fits
  EXPECT_EQ(s.ifmap_dram_reads, 64 * 64);
  EXPECT_EQ(s.filter_dram_reads, 64 * 64);
  EXPECT_EQ(s.ofmap_dram_writes, s.ofmap_sram_writes);
  a.ifmap_sram_bytes = 1024;  // half of it (512 words) holds no more than an eighth of the ifmap
  s = simulate_gemm(g, a);
  EXPECT_EQ(s.ifmap_dram_reads, 4 * 64 * 64);  // refetched for each of the 4 column folds
}

// Stalls appear when the DRAM link is short and vanish in CALC mode (unlimited bandwidth).
TEST(SystolicTest, AccumulatorsKeepPartialSumsOnChip) {
  // ws, k = 40 over 8 rows: 5 row folds per column fold. SCALE-Sim's convention writes every
  // fold's m x cols partial sums; accumulators write each output once.
  SystolicArray a = array_of(8, 4, Dataflow::kWeightStationary);
  const GemmShape g{.m = 10, .n = 8, .k = 40};
  const GemmStats scalesim = simulate_gemm(g, a);
  EXPECT_EQ(scalesim.ofmap_dram_writes, 5 * 10 * 8);
  a.accumulate_partial_sums = true;
  GemmStats tpu = simulate_gemm(g, a);
  EXPECT_EQ(tpu.ofmap_dram_writes, 10 * 8);
  EXPECT_EQ(tpu.ofmap_sram_writes, scalesim.ofmap_sram_writes);  // still accumulated there
  EXPECT_EQ(tpu.compute_cycles, scalesim.compute_cycles);
  EXPECT_EQ(estimate_gemm(g, a).ofmap_dram_writes, 10 * 8);
  // Output-stationary folds finish their outputs in the array: nothing changes.
  a.dataflow = Dataflow::kOutputStationary;
  EXPECT_EQ(simulate_gemm(g, a).ofmap_dram_writes, 10 * 8);
  // Partial sums too big for half the ofmap SRAM spill as before.
  a.dataflow = Dataflow::kWeightStationary;
  a.ofmap_sram_bytes = 64;  // 10 x 4 x 4 bytes = 160 > 32
  EXPECT_EQ(simulate_gemm(g, a).ofmap_dram_writes, 5 * 10 * 8);
  // With a short link, fewer writes mean fewer stalls.
  a.ofmap_sram_bytes = 1 << 20;
  a.dram_words_per_cycle = 0.5;
  SystolicArray b = a;
  b.accumulate_partial_sums = false;
  EXPECT_LT(simulate_gemm(g, a).stall_cycles, simulate_gemm(g, b).stall_cycles);
}

TEST(SystolicTest, StallsAppearWithShortBandwidthAndVanishWhenUnlimited) {
  SystolicArray a = array_of(32, 32, Dataflow::kWeightStationary);
  a.ifmap_sram_bytes = a.filter_sram_bytes = a.ofmap_sram_bytes = 8 * 1024;
  const GemmShape g{.m = 256, .n = 256, .k = 256};
  const GemmStats calc = simulate_gemm(g, a);
  EXPECT_EQ(calc.stall_cycles, 0);
  a.dram_words_per_cycle = 2;
  const GemmStats slow = simulate_gemm(g, a);
  EXPECT_GT(slow.stall_cycles, 0);
  EXPECT_EQ(slow.compute_cycles, calc.compute_cycles);
  EXPECT_LT(slow.overall_utilization, calc.overall_utilization);
  a.dram_words_per_cycle = 1000;
  EXPECT_EQ(simulate_gemm(g, a).stall_cycles, 0);
  // A narrower link never stalls less.
  a.dram_words_per_cycle = 1;
  EXPECT_GE(simulate_gemm(g, a).stall_cycles, slow.stall_cycles);
}

TEST(SystolicTest, RejectsBadShapesAndArrays) {
  const SystolicArray a = array_of(8, 8, Dataflow::kWeightStationary);
  EXPECT_THROW(simulate_gemm({.m = 0, .n = 1, .k = 1}, a), Error);
  EXPECT_THROW(estimate_gemm({.m = 1, .n = -2, .k = 1}, a), Error);
  SystolicArray bad = a;
  bad.rows = 0;
  EXPECT_THROW(simulate_gemm({.m = 1, .n = 1, .k = 1}, bad), Error);
  bad = a;
  bad.dram_words_per_cycle = -1;
  EXPECT_THROW(estimate_gemm({.m = 1, .n = 1, .k = 1}, bad), Error);
}

TEST(SystolicTest, DataflowNames) {
  EXPECT_STREQ(dataflow_name(Dataflow::kOutputStationary), "os");
  EXPECT_EQ(parse_dataflow("WS", "f"), Dataflow::kWeightStationary);
  EXPECT_EQ(parse_dataflow(" is ", "f"), Dataflow::kInputStationary);
  EXPECT_EQ(parse_dataflow("Output_Stationary", "f"), Dataflow::kOutputStationary);
  try {
    parse_dataflow("rs", "net.cfg:9 Dataflow");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("net.cfg:9 Dataflow"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'rs'"), std::string::npos);
  }
}

// The analytic engine against the exact one over many shapes, arrays, dataflows and
// bandwidths: compute cycles, folds and access counts agree exactly, total cycles (with
// stalls) within 1%.
TEST(SystolicTest, AnalyticAgreesWithExactOverASweep) {
  const std::vector<GemmShape> shapes = {
      {.m = 1, .n = 1, .k = 1},        {.m = 3, .n = 5, .k = 7},
      {.m = 17, .n = 33, .k = 9},      {.m = 128, .n = 128, .k = 128},
      {.m = 129, .n = 127, .k = 130},  {.m = 1000, .n = 64, .k = 27},
      {.m = 3136, .n = 64, .k = 576},  {.m = 784, .n = 128, .k = 1152},
      {.m = 49, .n = 512, .k = 4608},  {.m = 4096, .n = 1000, .k = 4096},
      {.m = 12100, .n = 96, .k = 363}, {.batch = 8, .m = 64, .n = 64, .k = 100},
      {.m = 2, .n = 3000, .k = 5},     {.m = 5000, .n = 2, .k = 3},
  };
  const std::vector<std::pair<int64_t, int64_t>> arrays = {
      {8, 8}, {32, 32}, {128, 128}, {12, 14}, {256, 64}};
  const std::vector<double> bandwidths = {0, 1, 4, 16, 64};
  double worst_total = 0;
  int cases = 0;
  for (const GemmShape& g : shapes) {
    for (auto [rows, cols] : arrays) {
      for (Dataflow df : {Dataflow::kWeightStationary, Dataflow::kOutputStationary,
                          Dataflow::kInputStationary}) {
        for (int variant = 0; variant < 2 * static_cast<int>(bandwidths.size()); ++variant) {
          const double bw = bandwidths[static_cast<size_t>(variant) / 2];
          SystolicArray a = array_of(rows, cols, df);
          a.ifmap_sram_bytes = a.filter_sram_bytes = a.ofmap_sram_bytes = 64 * 1024;
          a.dram_words_per_cycle = bw;
          a.accumulate_partial_sums = variant % 2 == 1;
          const GemmStats x = simulate_gemm(g, a);
          const GemmStats e = estimate_gemm(g, a);
          SCOPED_TRACE(::testing::Message() << g.batch << "x" << g.m << "x" << g.n << "x" << g.k
                                            << " on " << rows << "x" << cols << " "
                                            << dataflow_name(df) << " bw " << bw
                                            << (a.accumulate_partial_sums ? " accumulate" : ""));
          ASSERT_EQ(e.compute_cycles, x.compute_cycles);
          ASSERT_EQ(e.folds, x.folds);
          ASSERT_EQ(e.ifmap_sram_reads, x.ifmap_sram_reads);
          ASSERT_EQ(e.filter_sram_reads, x.filter_sram_reads);
          ASSERT_EQ(e.ofmap_sram_writes, x.ofmap_sram_writes);
          ASSERT_EQ(e.ifmap_dram_reads, x.ifmap_dram_reads);
          ASSERT_EQ(e.filter_dram_reads, x.filter_dram_reads);
          ASSERT_EQ(e.ofmap_dram_writes, x.ofmap_dram_writes);
          ASSERT_NEAR(e.mapping_efficiency, x.mapping_efficiency, 1e-12);
          const double rel = std::abs(static_cast<double>(e.total_cycles() - x.total_cycles())) /
                             static_cast<double>(x.total_cycles());
          worst_total = std::max(worst_total, rel);
          EXPECT_LE(rel, 0.01);
          ++cases;
        }
      }
    }
  }
  RecordProperty("worst_total_cycle_error", std::to_string(worst_total));
  std::printf("analytic vs exact: %d cases, worst total-cycle error %.4f%%\n", cases,
              100 * worst_total);
}

}  // namespace
}  // namespace tessera::sim
