// The Timeloop v0.4 / Accelergy readers: each file kind, the translation into the model, a
// small two-level design whose accesses and energy are checked by hand, errors that name the
// file and line, and truncated or corrupted inputs that must fail with tessera::Error only.
#include <gtest/gtest.h>

#include <string>

#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/sim/asic/evaluate.h"
#include "tessera/sim/asic/timeloop.h"

namespace tessera::sim {
namespace {

constexpr int W = 0, I = 1, O = 2;

// A DRAM (64-bit accesses of 8-bit words: 8 words per access) over a 64-word register file
// and one MAC, in Timeloop's exercise style.
const char* const kArch = R"(architecture:
  version: 0.4
  nodes:
  - !Container
    name: System
    attributes:
      technology: "40nm"
      global_cycle_seconds: 2e-9
  - !Component
    name: MainMemory
    class: DRAM
    attributes: {width: 64, datawidth: 8}
  - !Component
    name: Buffer
    class: regfile
    attributes: {depth: 64, width: 8, datawidth: 8}
  - !Component
    name: MACC
    class: intmac
    attributes: {width: 8}
)";

// Conv1D with output channels: K2 R3 P4 (24 MACs).
const char* const kProblem = R"(problem:
  version: 0.4
  shape:
    name: Conv1D_OC
    dimensions: [ K, R, P ]
    data_spaces:
    - name: Weights
      projection:
      - [ [K] ]
      - [ [R] ]
    - name: Inputs
      projection:
      - [ [R], [P] ]
    - name: Outputs
      projection:
      - [ [K] ]
      - [ [P] ]
      read_write: True
  instance: {K: 2, R: 3, P: 4}
)";

// K outside in DRAM; R innermost, then P, in the buffer.
const char* const kMapping = R"(mapping:
  - target: MainMemory
    type: temporal
    factors: K=2 R=1 P=1
    permutation: KRP
  - target: Buffer
    type: temporal
    factors: R=3 P=4
    permutation: RP
)";

// Per action: a DRAM access moves 8 words (64 pJ -> 8 pJ/word read, 80 -> 10 pJ/word write).
const char* const kErt = R"(ERT:
  version: '0.4'
  tables:
    - name: System_top_level.MainMemory[1..1]
      actions:
        - {name: read, arguments: {}, energy: 64}
        - {name: write, arguments: {}, energy: 80}
        - {name: update, arguments: {}, energy: 80}
        - {name: leak, arguments: {}, energy: 0}
    - name: System_top_level.Buffer[1..1]
      actions:
        - {name: read, energy: 1}
        - {name: write, energy: 2}
        - {name: update, energy: 2}
    - name: System_top_level.MACC[1..1]
      actions:
        - {name: compute, energy: 0.5}
)";

const char* const kArt = R"(ART:
  version: '0.4'
  tables:
    - {name: "System_top_level.MainMemory[1..1]", area: 0}
    - {name: "System_top_level.Buffer[1..1]", area: 100}
    - {name: "System_top_level.MACC[1..1]", area: 50}
)";

TimeloopDesign small_design() {
  return parse_timeloop_design({{"arch.yaml", kArch},
                                {"prob.yaml", kProblem},
                                {"map.yaml", kMapping},
                                {"ERT.yaml", kErt},
                                {"ART.yaml", kArt}});
}

// Expects `fn` to throw a tessera::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(AsicTimeloop, ParsesTheProblem) {
  TimeloopProblem p = parse_timeloop_problem(kProblem, "prob.yaml");
  EXPECT_EQ(p.shape, "Conv1D_OC");
  EXPECT_EQ(p.nest.bound(Dim::kK), 2);
  EXPECT_EQ(p.nest.bound(Dim::kR), 3);
  EXPECT_EQ(p.nest.bound(Dim::kP), 4);
  EXPECT_EQ(p.nest.bound(Dim::kC), 1);
  EXPECT_EQ(p.dim_names[dim_index(Dim::kK)], "K");
  EXPECT_EQ(p.dataspace_names[O], "Outputs");
  EXPECT_EQ(p.nest.size(DataSpace::kInputs), 6);  // (P - 1) + R
}

TEST(AsicTimeloop, ParsesCnnLayerWithStridesAndM) {
  const char* prob = R"(problem:
  version: 0.4
  shape:
    name: CNN_Layer
    dimensions: [C, M, R, S, N, P, Q]
    coefficients:
    - {name: Wstride, default: 1}
    - {name: Hstride, default: 1}
    - {name: Wdilation, default: 1}
    - {name: Hdilation, default: 1}
    data_spaces:
    - name: Weights
      projection: [[[C]], [[M]], [[R]], [[S]]]
    - name: Inputs
      projection: [[[N]], [[C]], [[R, Wdilation], [P, Wstride]], [[S, Hdilation], [Q, Hstride]]]
    - name: Outputs
      projection: [[[N]], [[M]], [[Q]], [[P]]]
      read_write: true
  instance: {C: 3, M: 8, R: 3, S: 3, N: 1, P: 7, Q: 5, Wstride: 2, Hstride: 1, Hdilation: 2}
)";
  TimeloopProblem p = parse_timeloop_problem(prob, "cnn.yaml");
  EXPECT_EQ(p.nest.bound(Dim::kK), 8);
  EXPECT_EQ(p.dim_names[dim_index(Dim::kK)], "M");
  EXPECT_EQ(p.nest.stride_p, 2);
  EXPECT_EQ(p.nest.stride_q, 1);
  EXPECT_EQ(p.nest.dilation_r, 1);
  EXPECT_EQ(p.nest.dilation_s, 2);
}

TEST(AsicTimeloop, TranslatesTheArchitecture) {
  TimeloopArchitecture t = parse_timeloop_architecture(kArch, "arch.yaml");
  const Architecture& a = t.arch;
  ASSERT_EQ(a.num_levels(), 2);
  EXPECT_EQ(a.name, "System");
  EXPECT_DOUBLE_EQ(a.technology_nm, 40);
  EXPECT_DOUBLE_EQ(a.clock_hz, 0.5e9);
  EXPECT_EQ(a.levels[0].cls, ComponentClass::kDram);
  EXPECT_EQ(a.levels[0].size_words, 0);
  EXPECT_EQ(t.block_words[0], 8);
  EXPECT_EQ(a.levels[1].cls, ComponentClass::kRegfile);
  EXPECT_EQ(a.levels[1].size_words, 64);
  EXPECT_EQ(a.levels[1].word_bits, 8);
  EXPECT_EQ(a.mac_bits, 8);
  EXPECT_EQ(t.compute_name, "MACC");
  EXPECT_EQ(a.num_macs(), 1);
}

// Eyeriss' shape: two spatial containers under the global buffer (X then Y), parallel
// scratchpads that each keep one dataspace, bandwidths and a bypassing buffer.
const char* const kEyerissLike = R"(architecture:
  version: 0.4
  nodes:
  - !Container
    name: system
    attributes: {technology: "32nm", global_cycle_seconds: 1e-9}
  - !Component
    name: DRAM
    class: DRAM
    attributes: {type: "LPDDR4", width: 64, datawidth: 8}
  - !Container
    name: eyeriss
  - !Component
    name: shared_glb
    class: smartbuffer_SRAM
    attributes: {depth: 1024, width: 64, datawidth: 8, read_bandwidth: 16, write_bandwidth: 16}
    constraints:
      dataspace: {keep: [Inputs, Outputs], bypass: [Weights]}
  - !Container
    name: PE_column
    spatial: {meshX: 4}
    constraints: {spatial: {split: 7}}
  - !Container
    name: PE
    spatial: {meshY: 3}
  - !Parallel
    nodes:
    - !Component
      name: ifmap_spad
      class: smartbuffer_RF
      attributes: {depth: 12, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Inputs]}}
    - !Component
      name: weights_spad
      class: smartbuffer_RF
      attributes: {depth: 192, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Weights]}}
    - !Component
      name: psum_spad
      class: smartbuffer_RF
      attributes: {depth: 16, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Outputs]}}
  - !Component
    name: mac
    class: intmac
    attributes: {multiplier_width: 16, adder_width: 32}
)";

TEST(AsicTimeloop, TranslatesContainersAndParallelBuffers) {
  TimeloopArchitecture t = parse_timeloop_architecture(kEyerissLike, "eyeriss.yaml");
  const Architecture& a = t.arch;
  ASSERT_EQ(a.num_levels(), 5);
  EXPECT_EQ(a.levels[1].name, "shared_glb");
  EXPECT_EQ(a.levels[1].fanout_x, 4);
  EXPECT_EQ(a.levels[1].fanout_y, 3);
  EXPECT_EQ(a.levels[1].size_words, 8192);
  EXPECT_DOUBLE_EQ(a.levels[1].read_bandwidth, 16);
  EXPECT_FALSE(a.levels[1].keeps_ds(DataSpace::kWeights));
  EXPECT_TRUE(a.levels[1].keeps_ds(DataSpace::kInputs));
  EXPECT_EQ(a.levels[2].name, "ifmap_spad");
  EXPECT_TRUE(a.levels[2].keeps_ds(DataSpace::kInputs));
  EXPECT_FALSE(a.levels[2].keeps_ds(DataSpace::kOutputs));
  EXPECT_EQ(a.levels[4].name, "psum_spad");
  EXPECT_EQ(a.num_macs(), 12);
  EXPECT_EQ(a.instances(4), 12);
  EXPECT_EQ(a.mac_bits, 16);
  ASSERT_EQ(t.containers.size(), 2u);
  EXPECT_EQ(t.containers[0].name, "PE_column");
  EXPECT_EQ(t.containers[0].level, 1);

  // A mapping with Timeloop's dummy spatial targets and its split convention.
  TimeloopProblem p = parse_timeloop_problem(
      replace(kProblem, "instance: {K: 2, R: 3, P: 4}", "instance: {K: 6, R: 3, P: 8}"),
      "prob.yaml");
  const char* map = R"(mapping:
  - {target: DRAM, type: temporal, factors: K=1 R=1 P=2, permutation: PKR}
  - {target: shared_glb, type: temporal, factors: K=2 R=1 P=1, permutation: KRP}
  - {target: inter_PE_column_spatial, type: spatial, factors: P=4, permutation: PKR, split: 1}
  - {target: PE, type: spatial, factors: R=3, permutation: RKP}
  - {target: inter_PE_spatial, type: temporal, factors: K=1}
  - {target: weights_spad, type: temporal, factors: K=3, permutation: KRP}
  - {target: psum_spad, type: datatype, keep: [Outputs], bypass: [Weights, Inputs]}
)";
  Mapping m = parse_timeloop_mapping(map, "map.yaml", t, p);
  EXPECT_EQ(m.levels[1].spatial_x[dim_index(Dim::kP)], 4);
  EXPECT_EQ(m.levels[1].spatial_y[dim_index(Dim::kR)], 3);
  EXPECT_EQ(m.levels[3].temporal[dim_index(Dim::kK)], 3);
  EXPECT_EQ(m.levels[0].temporal[dim_index(Dim::kP)], 2);
  // Permutation "PKR" is innermost first: R is our outermost loop, P the innermost.
  EXPECT_EQ(m.levels[0].order[kNumDims - 1], Dim::kP);
  EXPECT_EQ(m.levels[0].order[kNumDims - 2], Dim::kK);
  EXPECT_EQ(m.levels[0].order[kNumDims - 3], Dim::kR);
  AsicEvaluation e = AsicEvaluator(t.arch).evaluate(p.nest, m);
  EXPECT_DOUBLE_EQ(e.macs, 144);
  EXPECT_DOUBLE_EQ(e.cycles, 12);  // 144 MACs on 12 PEs, all busy
  EXPECT_DOUBLE_EQ(e.utilization, 1);
}

TEST(AsicTimeloop, ReadsAccelergyTables) {
  AccelergyTables tables;
  parse_accelergy_ert(kErt, "ERT.yaml", tables);
  parse_accelergy_art(kArt, "ART.yaml", tables);
  ASSERT_EQ(tables.components.count("Buffer"), 1u);
  EXPECT_DOUBLE_EQ(tables.components["MainMemory"].action_pj["read"], 64);
  EXPECT_DOUBLE_EQ(tables.components["MACC"].action_pj["compute"], 0.5);
  EXPECT_DOUBLE_EQ(tables.components["Buffer"].area_um2, 100);
  TimeloopArchitecture t = parse_timeloop_architecture(kArch, "arch.yaml");
  apply_accelergy_tables(tables, t);
  EXPECT_DOUBLE_EQ(t.arch.levels[0].read_pj, 8);    // 64 pJ per 8-word access
  EXPECT_DOUBLE_EQ(t.arch.levels[0].write_pj, 10);  // 80 / 8
  EXPECT_DOUBLE_EQ(t.arch.levels[1].read_pj, 1);
  EXPECT_DOUBLE_EQ(t.arch.mac_pj, 0.5);
  EXPECT_DOUBLE_EQ(t.arch.mac_area_um2, 50);
}

// The hand-checked design (K2 R3 P4, 24 MACs; DRAM: K2; Buffer: P4 then R3 innermost):
//   DRAM -> Buffer, refills n = the loops above the buffer, minus a leading irrelevant run:
//     weights: K relevant, n = 2, tile R3 = 3 words: fills 6, DRAM reads 6
//     inputs:  K irrelevant, n = 1, tile (P-1)+R = 6 words: fills 6, DRAM reads 6
//     outputs: n = 2, tile P4: 8 drains (Buffer reads), 8 DRAM updates, every output
//              visited once at this level so no DRAM reads and no refills
//   Buffer -> MAC, every one of the 24 iterations: reads W 24, I 24; updates O 24, and
//     24 - 8 (first visits of the 8 outputs) = 16 running-sum reads, + the 8 drains = 24.
//   energy = MAC 24 x 0.5 = 12
//          + DRAM (6 + 6) x 8 pJ + 8 updates x 10 pJ = 176
//          + Buffer (24 + 24 + 24) x 1 pJ + (6 + 6 fills + 24 updates) x 2 pJ = 144
//          = 332 pJ = 13.833 pJ/MAC; area = 100 + 50 um^2 (DRAM 0 from the ART).
TEST(AsicTimeloop, SmallDesignMatchesHandCounts) {
  TimeloopDesign d = small_design();
  AsicEvaluation e = AsicEvaluator(d.arch).evaluate(d.nest, d.mapping);
  const AsicLevelStats& dram = e.levels[0];
  const AsicLevelStats& buf = e.levels[1];
  EXPECT_DOUBLE_EQ(dram.reads[W], 6);
  EXPECT_DOUBLE_EQ(dram.reads[I], 6);
  EXPECT_DOUBLE_EQ(dram.reads[O], 0);
  EXPECT_DOUBLE_EQ(dram.updates[O], 8);
  EXPECT_DOUBLE_EQ(buf.fills[W], 6);
  EXPECT_DOUBLE_EQ(buf.fills[I], 6);
  EXPECT_DOUBLE_EQ(buf.fills[O], 0);
  EXPECT_DOUBLE_EQ(buf.reads[W], 24);
  EXPECT_DOUBLE_EQ(buf.reads[I], 24);
  EXPECT_DOUBLE_EQ(buf.reads[O], 24);
  EXPECT_DOUBLE_EQ(buf.updates[O], 24);
  EXPECT_DOUBLE_EQ(e.cycles, 24);
  EXPECT_DOUBLE_EQ(e.utilization, 1);
  EXPECT_DOUBLE_EQ(e.mac_energy_pj, 12);
  EXPECT_DOUBLE_EQ(dram.energy(), 176);
  EXPECT_DOUBLE_EQ(buf.energy(), 144);
  EXPECT_DOUBLE_EQ(e.energy_pj, 332);
  EXPECT_NEAR(e.pj_per_mac(), 13.8333, 1e-4);
  EXPECT_DOUBLE_EQ(e.area_um2, 150);
  EXPECT_DOUBLE_EQ(e.seconds(d.arch.clock_hz), 48e-9);
}

TEST(AsicTimeloop, OneFileMayHoldSeveralKeys) {
  std::string all = std::string(kArch) + kProblem + kMapping;
  TimeloopDesign d = parse_timeloop_design({{"all.yaml", all}});
  EXPECT_EQ(d.arch.num_levels(), 2);
  EXPECT_EQ(d.nest.macs(), 24);
  // Without a mapping the design is for the mapper to complete.
  EXPECT_FALSE(parse_timeloop_design({{"a.yaml", kArch}, {"p.yaml", kProblem}}).mapped);
  EXPECT_TRUE(d.mapped);
  expect_error([] { parse_timeloop_design({{"a.yaml", kArch}, {"m.yaml", kMapping}}); },
               {"missing", "'problem'"});
}

TEST(AsicTimeloop, BypassDirectivesSetWhatALevelKeeps) {
  std::string map = std::string(kMapping) +
                    "  - {target: Buffer, type: bypass, keep: [Outputs], bypass: [Weights, "
                    "Inputs]}\n";
  TimeloopDesign d = parse_timeloop_design({{"arch.yaml", kArch},
                                            {"prob.yaml", kProblem},
                                            {"map.yaml", map}});
  EXPECT_FALSE(d.arch.levels[1].keeps_ds(DataSpace::kWeights));
  EXPECT_FALSE(d.arch.levels[1].keeps_ds(DataSpace::kInputs));
  EXPECT_TRUE(d.arch.levels[1].keeps_ds(DataSpace::kOutputs));
  // Weights now come from DRAM on every MAC.
  AsicEvaluation e = AsicEvaluator(d.arch).evaluate(d.nest, d.mapping);
  EXPECT_DOUBLE_EQ(e.levels[0].reads[W], 24);
}

TEST(AsicTimeloop, ErrorsNameFileLineAndField) {
  // Unknown component class, at its line (line 15: the Buffer's class).
  expect_error([] {
    parse_timeloop_architecture(replace(kArch, "class: regfile", "class: flash"), "arch.yaml");
  }, {"arch.yaml:15:", "unknown component class 'flash'", "intmac"});
  // Factors that do not multiply to the problem: the numbers.
  expect_error([] {
    parse_timeloop_design({{"arch.yaml", kArch},
                           {"prob.yaml", kProblem},
                           {"map.yaml", replace(kMapping, "R=3 P=4", "R=3 P=2")}});
  }, {"map.yaml:", "P multiply to 2", "P = 4"});
  // A dimension the problem does not have.
  expect_error([] {
    parse_timeloop_design({{"arch.yaml", kArch},
                           {"prob.yaml", kProblem},
                           {"map.yaml", replace(kMapping, "R=3 P=4", "R=3 P=4 C=2")}});
  }, {"map.yaml:8:", "'C' is not a dimension of problem 'Conv1D_OC'"});
  // A tile that overflows the buffer.
  expect_error([] {
    parse_timeloop_design({{"arch.yaml", replace(kArch, "depth: 64", "depth: 8")},
                           {"prob.yaml", kProblem},
                           {"map.yaml", kMapping}});
  }, {"map.yaml:", "Buffer", "13 words", "holds 8"});
  // Missing datawidth.
  expect_error([] {
    parse_timeloop_architecture(replace(kArch, "{depth: 64, width: 8, datawidth: 8}",
                                        "{depth: 64}"),
                                "arch.yaml");
  }, {"arch.yaml:", "datawidth"});
  // A non-CNN dimension.
  expect_error([] {
    parse_timeloop_problem(replace(kProblem, "[ K, R, P ]", "[ K, R, X ]"), "prob.yaml");
  }, {"prob.yaml:5:", "'X' is not one of CNN_Layer's"});
  // Spatial factors over the mesh.
  expect_error([] {
    TimeloopArchitecture t = parse_timeloop_architecture(kEyerissLike, "e.yaml");
    TimeloopProblem p = parse_timeloop_problem(kProblem, "p.yaml");
    parse_timeloop_mapping(
        "mapping:\n  - {target: PE, type: spatial, factors: P=4}\n", "m.yaml", t, p);
  }, {"m.yaml:2:", "exceed its mesh 1 x 3"});
  // An unknown target.
  expect_error([] {
    TimeloopArchitecture t = parse_timeloop_architecture(kArch, "a.yaml");
    TimeloopProblem p = parse_timeloop_problem(kProblem, "p.yaml");
    parse_timeloop_mapping("mapping:\n  - {target: L2, type: temporal, factors: P=4}\n",
                           "m.yaml", t, p);
  }, {"m.yaml:2:", "'L2'", "MainMemory, Buffer"});
  // The v0.3 layout is refused with a pointer to the v0.4 one.
  expect_error([] {
    parse_timeloop_architecture("architecture:\n  version: 0.3\n  subtree: []\n", "old.yaml");
  }, {"old.yaml:2:", "v0.3"});
}

// Every prefix of each input, and copies with bytes flipped, parse or fail with
// tessera::Error only.
TEST(AsicTimeloop, TruncatedAndCorruptInputsFailCleanly) {
  auto each = [](const std::string& text, int kind) {
    TimeloopArchitecture arch = parse_timeloop_architecture(kArch, "a.yaml");
    TimeloopProblem prob = parse_timeloop_problem(kProblem, "p.yaml");
    AccelergyTables tables;
    try {
      switch (kind) {
        case 0: parse_timeloop_architecture(text, "a.yaml"); break;
        case 1: parse_timeloop_problem(text, "p.yaml"); break;
        case 2: parse_timeloop_mapping(text, "m.yaml", arch, prob); break;
        case 3: parse_accelergy_ert(text, "e.yaml", tables); break;
        case 4: parse_accelergy_art(text, "r.yaml", tables); break;
        default: parse_timeloop_architecture(text, "e.yaml"); break;
      }
    } catch (const Error&) {
    }
  };
  const std::string texts[] = {kArch, kProblem, kMapping, kErt, kArt, kEyerissLike};
  Rng rng(11);
  for (int kind = 0; kind < 6; ++kind) {
    const std::string& t = texts[kind];
    for (size_t n = 0; n <= t.size(); ++n) EXPECT_NO_THROW(each(t.substr(0, n), kind)) << n;
    for (int trial = 0; trial < 200; ++trial) {
      std::string c = t;
      for (int k = 0; k < 3; ++k)
        c[rng.next_u64() % c.size()] = static_cast<char>(rng.next_u64() % 128);
      EXPECT_NO_THROW(each(c, kind));
    }
  }
}

}  // namespace
}  // namespace tessera::sim
