// Hand-computed access counts and energies for small loop nests, and the mapper against a
// brute-force search of the same space.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "tessera/core/error.h"
#include "tessera/sim/asic/evaluate.h"
#include "tessera/sim/asic/mapper.h"

namespace tessera::sim {
namespace {

constexpr int R = 0, C = 4, K = 5, N = 6;
constexpr int W = 0, I = 1, O = 2;

StorageLevel level(std::string name, ComponentClass cls, int64_t words, double read_pj,
                   double write_pj) {
  StorageLevel l;
  l.name = std::move(name);
  l.cls = cls;
  l.size_words = words;
  l.read_pj = read_pj;
  l.write_pj = write_pj;
  return l;
}

// One level (DRAM: read 2 pJ, write 3 pJ per word) and one MAC of 1 pJ.
// GEMM N2 C3 K4: 24 MACs. With everything in one level every MAC reads its weight, its input
// and its running sum and writes the sum back, except that the first of the C = 3 visits of
// each of the 8 outputs reads nothing:
//   reads W 24, I 24, O 24 - 8 = 16; updates O 24
//   energy = 24 x 1 + (24 + 24 + 16) x 2 + 24 x 3 = 24 + 128 + 72 = 224 pJ
TEST(AsicEvaluate, OneLevelCostsExactlyTheFormula) {
  Architecture a;
  a.levels = {level("DRAM", ComponentClass::kDram, 0, 2, 3)};
  a.mac_pj = 1;
  LoopNest n = loop_nest_from_gemm({.m = 2, .n = 4, .k = 3}, "fc");
  AsicEvaluator ev(a);
  Mapping m = trivial_mapping(n, a);
  AsicEvaluation e = ev.evaluate(n, m);
  const AsicLevelStats& d = e.levels[0];
  EXPECT_DOUBLE_EQ(d.reads[W], 24);
  EXPECT_DOUBLE_EQ(d.reads[I], 24);
  EXPECT_DOUBLE_EQ(d.reads[O], 16);
  EXPECT_DOUBLE_EQ(d.updates[O], 24);
  EXPECT_DOUBLE_EQ(d.fills[W] + d.fills[I] + d.fills[O], 0);
  EXPECT_DOUBLE_EQ(e.energy_pj, 224);
  EXPECT_DOUBLE_EQ(e.pj_per_mac(), 224.0 / 24);
  EXPECT_DOUBLE_EQ(e.cycles, 24);
  EXPECT_DOUBLE_EQ(e.utilization, 1);
  EXPECT_EQ(e.bottleneck, -1);

  // The same loop order does not matter with one level. A read bandwidth of 2 words/cycle
  // makes the 64 reads take 32 cycles; a write bandwidth of 0.5 makes 24 updates take 48.
  a.levels[0].read_bandwidth = 2;
  EXPECT_DOUBLE_EQ(AsicEvaluator(a).evaluate(n, m).cycles, 32);
  a.levels[0].write_bandwidth = 0.5;
  AsicEvaluation b = AsicEvaluator(a).evaluate(n, m);
  EXPECT_DOUBLE_EQ(b.cycles, 48);
  EXPECT_EQ(b.bottleneck, 0);
  EXPECT_DOUBLE_EQ(b.utilization, 0.5);

  // repeat (conv groups, batched GEMMs) multiplies every count.
  n.repeat = 3;
  AsicEvaluation r = ev.evaluate(n, m);
  EXPECT_DOUBLE_EQ(r.energy_pj, 3 * 224);
  EXPECT_DOUBLE_EQ(r.cycles, 72);
}

// DRAM (10 pJ/word) -> buffer (1 pJ/word) -> 1 MAC (1 pJ); GEMM N2 C2 K2 (8 MACs).
// Mapping: DRAM: for K in [0:2); buffer: for N in [0:2) for C in [0:2).
// Buffer tile N2 C2 K1: weights C x K = 2, inputs N x C = 4, outputs N x K = 2.
//  DRAM -> buffer, across the K loop (relevant to weights and outputs, not to inputs):
//   weights: 2 tiles of 2 -> DRAM reads 4, buffer fills 4
//   inputs: the K loop is the innermost loop above the buffer and does not touch them, so
//           the tile stays: DRAM reads 4 once, buffer fills 4
//   outputs: 2 tiles of 2 drained: buffer reads 4, DRAM updates 4; each is visited once, so
//           no running sum comes back (DRAM reads 0, buffer fills 0)
//  buffer -> MAC (8 MACs): weight reads 8, input reads 8; outputs: 8 updates, and 8 - 4
//   distinct outputs = 4 running-sum reads (buffer output reads 4 + 4 = 8)
//  energy: DRAM (4 + 4 + 4) x 10 = 120; buffer reads (8 + 8 + 8) + fills (4 + 4) +
//   updates 8 = 40; MACs 8 -> 168 pJ
TEST(AsicEvaluate, TwoLevelsWithTemporalReuse) {
  Architecture a;
  a.levels = {level("DRAM", ComponentClass::kDram, 0, 10, 10),
              level("buf", ComponentClass::kSram, 64, 1, 1)};
  a.mac_pj = 1;
  LoopNest n = loop_nest_from_gemm({.m = 2, .n = 2, .k = 2}, "fc");
  Mapping m = trivial_mapping(n, a);
  m.levels[0].temporal = kUnitDims;
  m.levels[0].temporal[K] = 2;
  m.levels[1].temporal[N] = 2;
  m.levels[1].temporal[C] = 2;
  m.levels[1].order = {Dim::kR, Dim::kS, Dim::kP, Dim::kQ, Dim::kK, Dim::kN, Dim::kC};
  validate_mapping(n, a, m);
  AsicEvaluation e = AsicEvaluator(a).evaluate(n, m);
  const AsicLevelStats& d = e.levels[0];
  const AsicLevelStats& b = e.levels[1];
  EXPECT_DOUBLE_EQ(d.reads[W], 4);
  EXPECT_DOUBLE_EQ(d.reads[I], 4);
  EXPECT_DOUBLE_EQ(d.reads[O], 0);
  EXPECT_DOUBLE_EQ(d.updates[O], 4);
  EXPECT_DOUBLE_EQ(b.fills[W], 4);
  EXPECT_DOUBLE_EQ(b.fills[I], 4);
  EXPECT_DOUBLE_EQ(b.fills[O], 0);
  EXPECT_DOUBLE_EQ(b.reads[W], 8);
  EXPECT_DOUBLE_EQ(b.reads[I], 8);
  EXPECT_DOUBLE_EQ(b.reads[O], 8);
  EXPECT_DOUBLE_EQ(b.updates[O], 8);
  EXPECT_DOUBLE_EQ(e.energy_pj, 168);
  EXPECT_DOUBLE_EQ(e.dataspace_energy(I), 4 * 10 + 8 + 4);

  // With every loop inside the buffer, each dataspace crosses the DRAM boundary once.
  Mapping inner = trivial_mapping(n, a);
  inner.levels[1].temporal = inner.levels[0].temporal;
  inner.levels[0].temporal = kUnitDims;
  AsicEvaluation f = AsicEvaluator(a).evaluate(n, inner);
  EXPECT_DOUBLE_EQ(f.levels[0].reads[W], 4);
  EXPECT_DOUBLE_EQ(f.levels[0].reads[I], 4);
  EXPECT_DOUBLE_EQ(f.levels[0].updates[O], 4);
  EXPECT_DOUBLE_EQ(f.levels[0].reads[O], 0);
}

// DRAM with a fan-out of 2 in X to a one-word weight register per PE, one MAC per PE.
// GEMM N2 C1 K2 with K spatial (one output channel per PE) and N temporal in the register.
//  weights: each PE's weight is read from DRAM once (2 reads, 2 fills) and then read by its
//   MAC for each of the N = 2 rows (register reads 2 x 2 = 4)
//  inputs bypass the register: one DRAM read per row feeds both PEs (multicast): 2 reads
//  outputs: 4 distinct, each written once: 4 updates, 0 reads
TEST(AsicEvaluate, SpatialMulticast) {
  Architecture a;
  StorageLevel d = level("DRAM", ComponentClass::kDram, 0, 10, 10);
  d.fanout_x = 2;
  StorageLevel r = level("reg", ComponentClass::kRegfile, 1, 1, 1);
  r.keeps = {true, false, false};
  a.levels = {d, r};
  a.mac_pj = 1;
  LoopNest n = loop_nest_from_gemm({.m = 2, .n = 2, .k = 1}, "fc");
  Mapping m = trivial_mapping(n, a);
  m.levels[0].temporal = kUnitDims;
  m.levels[0].spatial_x[K] = 2;
  m.levels[1].temporal[N] = 2;
  validate_mapping(n, a, m);
  AsicEvaluation e = AsicEvaluator(a).evaluate(n, m);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[W], 2);
  EXPECT_DOUBLE_EQ(e.levels[1].fills[W], 2);
  EXPECT_DOUBLE_EQ(e.levels[1].reads[W], 4);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[I], 2);
  EXPECT_DOUBLE_EQ(e.levels[0].updates[O], 4);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[O], 0);
  EXPECT_EQ(e.levels[1].instances_used, 2);
  EXPECT_DOUBLE_EQ(e.cycles, 2);
  EXPECT_DOUBLE_EQ(e.utilization, 1);
  // energy: DRAM (2 + 2 + 4) x 10 = 80; register 2 fills + 4 reads = 6; MACs 4 -> 90 pJ
  EXPECT_DOUBLE_EQ(e.energy_pj, 90);
}

// Spatial reduction: DRAM fans out 4 ways in Y over C (GEMM N1 C4 K1): the four products
// meet in the reduction tree, so DRAM sees one update and no running-sum read, while the
// weights and inputs (C is relevant to both) are 4 reads each.
TEST(AsicEvaluate, SpatialReduction) {
  Architecture a;
  StorageLevel d = level("DRAM", ComponentClass::kDram, 0, 1, 1);
  d.fanout_y = 4;
  a.levels = {d};
  a.mac_pj = 0;
  LoopNest n = loop_nest_from_gemm({.m = 1, .n = 1, .k = 4}, "dot");
  Mapping m = trivial_mapping(n, a);
  m.levels[0].temporal = kUnitDims;
  m.levels[0].spatial_y[C] = 4;
  AsicEvaluation e = AsicEvaluator(a).evaluate(n, m);
  EXPECT_DOUBLE_EQ(e.levels[0].updates[O], 1);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[O], 0);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[W], 4);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[I], 4);
  EXPECT_DOUBLE_EQ(e.cycles, 1);
  EXPECT_DOUBLE_EQ(e.energy_pj, 9);
}

// The sliding window across PEs: a 1-D convolution P4 R3 (one level, no registers).
//  P spread over 4 PEs, R temporal: at each of the 3 steps the PEs need inputs r + p for
//   p = 0..3, 4 distinct words read once and multicast: 3 x 4 = 12 input reads, and one
//   weight per step shared by all PEs: 3 weight reads.
//  R spread over 3 PEs, P temporal: each of the 4 steps needs inputs p + r for r = 0..2,
//   3 words: 12 reads; the 3 products of one output are reduced in space: 4 updates.
TEST(AsicEvaluate, InputHaloAcrossPes) {
  Architecture a;
  StorageLevel d = level("DRAM", ComponentClass::kDram, 0, 1, 1);
  d.fanout_x = 4;
  a.levels = {d};
  a.mac_pj = 0;
  LoopNest n;
  n.name = "conv1d";
  n.bounds = {3, 1, 4, 1, 1, 1, 1};
  Mapping m = trivial_mapping(n, a);
  m.levels[0].temporal = kUnitDims;
  m.levels[0].temporal[R] = 3;
  m.levels[0].spatial_x[2] = 4;  // P
  AsicEvaluation e = AsicEvaluator(a).evaluate(n, m);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[I], 12);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[W], 3);  // one tap per step, multicast to 4 PEs
  m.levels[0].temporal[R] = 1;
  m.levels[0].spatial_x[2] = 1;
  m.levels[0].spatial_x[R] = 3;
  m.levels[0].temporal[2] = 4;
  AsicEvaluation f = AsicEvaluator(a).evaluate(n, m);
  EXPECT_DOUBLE_EQ(f.levels[0].reads[I], 12);
  EXPECT_DOUBLE_EQ(f.levels[0].updates[O], 4);  // reduced over R in space
}

// A small space: GEMM N4 C2 K2 on DRAM -> 8-word buffer (fan-out 2 in X) -> MACs.
Architecture small_arch() {
  Architecture a;
  a.name = "small";
  StorageLevel d = level("DRAM", ComponentClass::kDram, 0, 20, 20);
  StorageLevel b = level("buf", ComponentClass::kSram, 8, 1, 1.5);
  b.fanout_x = 2;
  a.levels = {d, b};
  a.mac_pj = 0.5;
  return a;
}

// Every mapping of the mapper's space, built independently: each dimension's factor split
// over DRAM temporal x buffer temporal x buffer spatial X (<= 2), each level's order from
// the canonical three; invalid ones rejected by the full validator.
double brute_force(const LoopNest& n, const AsicEvaluator& ev, MapperObjective obj,
                   int64_t* valid) {
  double best = INFINITY;
  Mapping m = trivial_mapping(n, ev.arch());
  std::function<void(int)> dim = [&](int d) {
    if (d == kNumDims) {
      for (int o0 = 0; o0 < 3; ++o0)
        for (int o1 = 0; o1 < 3; ++o1) {
          m.levels[0].order = mapper_orders()[o0];
          m.levels[1].order = mapper_orders()[o1];
          if (mapping_error(n, ev.arch(), m)) continue;
          ++*valid;
          best = std::min(best, mapper_cost(obj, ev.evaluate(n, m)));
        }
      return;
    }
    int64_t b = n.bounds[d];
    for (int64_t t0 = 1; t0 <= b; ++t0)
      for (int64_t x = 1; x <= 2; ++x) {
        if (b % (t0 * x)) continue;
        m.levels[0].temporal[d] = t0;
        m.levels[1].spatial_x[d] = x;
        m.levels[1].temporal[d] = b / (t0 * x);
        dim(d + 1);
      }
  };
  dim(0);
  return best;
}

TEST(AsicMapper, FindsTheBruteForceOptimum) {
  LoopNest n = loop_nest_from_gemm({.m = 4, .n = 2, .k = 2}, "fc");
  AsicEvaluator ev(small_arch());
  for (MapperObjective obj :
       {MapperObjective::kEnergy, MapperObjective::kDelay, MapperObjective::kEdp}) {
    int64_t valid = 0;
    double expect = brute_force(n, ev, obj, &valid);
    ASSERT_GT(valid, 0);
    MapperOptions o{.objective = obj, .include_templates = false};
    MapperResult r = map_layer(n, ev, o);
    ASSERT_TRUE(r.found);
    EXPECT_TRUE(r.exhaustive);
    EXPECT_DOUBLE_EQ(mapper_cost(obj, r.evaluation), expect) << mapper_objective_name(obj);
    EXPECT_FALSE(mapping_error(n, ev.arch(), r.mapping));
    // Duplicate orders are pruned, so fewer are evaluated than the brute force visits.
    EXPECT_LE(r.evaluated, valid);
    EXPECT_GT(r.evaluated, 0);
    // Random sampling with plenty of trials lands on the same optimum.
    MapperOptions ro{.objective = obj, .exhaustive_limit = 0, .max_trials = 20000,
                     .seed = 3, .include_templates = false};
    EXPECT_DOUBLE_EQ(mapper_cost(obj, map_layer(n, ev, ro).evaluation), expect);
  }
}

TEST(AsicMapper, DeterministicOnAnyThreadCount) {
  ConvShape c{.n = 1, .h = 14, .w = 14, .c = 32, .r = 3, .s = 3, .filters = 64, .p = 14,
              .q = 14};
  LoopNest n = loop_nest_from_conv(c, "conv2");
  AsicEvaluator ev(asic_preset("eyeriss"));
  MapperOptions o{.objective = MapperObjective::kEdp, .max_trials = 6000, .seed = 11,
                  .threads = 1};
  MapperResult one = map_layer(n, ev, o);
  o.threads = 2;
  MapperResult two = map_layer(n, ev, o);
  ASSERT_TRUE(one.found);
  EXPECT_FALSE(one.exhaustive);
  EXPECT_EQ(one.considered, 6000);
  EXPECT_EQ(one.evaluated, two.evaluated);
  EXPECT_DOUBLE_EQ(one.evaluation.energy_pj, two.evaluation.energy_pj);
  EXPECT_EQ(one.mapping.str(ev.arch()), two.mapping.str(ev.arch()));
  // Never worse than the dataflow templates it is seeded with.
  Mapping rs = dataflow_mapping(AsicDataflow::kRowStationary, n, ev.arch());
  EXPECT_LE(one.evaluation.edp(), ev.evaluate(n, rs).edp());
  EXPECT_THROW(map_layer(n, ev, {.max_trials = -1}), Error);
}

}  // namespace
}  // namespace tessera::sim
