// The ASIC simulator's loop nests, architectures (presets, YAML) and mapping validation.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/sim/asic/energy_table.h"
#include "tessera/sim/asic/evaluate.h"
#include "tessera/sim/asic/mapping.h"

namespace tessera::sim {
namespace {

constexpr int R = 0, S = 1, P = 2, Q = 3, C = 4, K = 5, N = 6;

TEST(AsicLoopNest, FootprintsIncludeTheHalo) {
  LoopNest n;
  n.bounds = {3, 3, 4, 4, 2, 2, 1};
  EXPECT_EQ(n.macs(), 3 * 3 * 4 * 4 * 2 * 2);
  EXPECT_EQ(n.size(DataSpace::kWeights), 3 * 3 * 2 * 2);
  EXPECT_EQ(n.size(DataSpace::kInputs), 2 * 6 * 6);  // (4-1)+(3-1)+1 = 6 per side
  EXPECT_EQ(n.size(DataSpace::kOutputs), 2 * 4 * 4);
  n.stride_p = 2;
  n.dilation_s = 2;
  DimArray t = {3, 3, 2, 1, 1, 1, 1};
  // rows (2-1)*2 + (3-1)*1 + 1 = 5; cols (1-1)*1 + (3-1)*2 + 1 = 5.
  EXPECT_EQ(n.footprint(DataSpace::kInputs, t), 25);
}

TEST(AsicLoopNest, GemmAndConvLowering) {
  LoopNest g = loop_nest_from_gemm({.batch = 3, .m = 4, .n = 5, .k = 6}, "fc");
  EXPECT_EQ(g.bound(Dim::kN), 4);
  EXPECT_EQ(g.bound(Dim::kC), 6);
  EXPECT_EQ(g.bound(Dim::kK), 5);
  EXPECT_EQ(g.bound(Dim::kP), 1);
  EXPECT_EQ(g.repeat, 3);
  EXPECT_EQ(g.total_macs(), 3 * 4 * 5 * 6);
  ConvShape c{.n = 2,
              .h = 9,
              .w = 9,
              .c = 8,
              .r = 3,
              .s = 3,
              .filters = 16,
              .p = 4,
              .q = 4,
              .stride_h = 2,
              .stride_w = 2,
              .groups = 2};
  LoopNest cn = loop_nest_from_conv(c, "conv");
  EXPECT_EQ(cn.bounds, (DimArray{3, 3, 4, 4, 4, 8, 2}));
  EXPECT_EQ(cn.stride_p, 2);
  EXPECT_EQ(cn.repeat, 2);
  EXPECT_EQ(cn.size(DataSpace::kInputs), 2 * 4 * 9 * 9);
  EXPECT_THROW(loop_nest_from_gemm({.m = 0, .n = 1, .k = 1}), Error);
}

TEST(AsicArchitecture, PresetsAreValid) {
  for (const std::string& name : asic_preset_names()) {
    Architecture a = asic_preset(name);
    EXPECT_NO_THROW(a.validate(name)) << name;
    EXPECT_FALSE(a.source.empty()) << name;
  }
  Architecture e = asic_preset("eyeriss");
  EXPECT_EQ(e.num_macs(), 168);
  EXPECT_EQ(e.levels[1].size_words * 16 / 8, 108 * 1024);
  EXPECT_EQ(asic_preset("ws-16x16").num_macs(), 256);
  EXPECT_EQ(asic_preset("nvdla-like").num_macs(), 2048);
  EXPECT_THROW(asic_preset("tpu"), Error);
}

TEST(AsicArchitecture, YamlOverridesAPreset) {
  Architecture a = parse_asic_architecture(R"(name: mine
base: eyeriss
technology_nm: 28
clock_mhz: 500
mac: {bits: 8}
)",
                                           "mine.yaml");
  EXPECT_EQ(a.name, "mine");
  EXPECT_EQ(a.num_macs(), 168);
  EXPECT_DOUBLE_EQ(a.clock_hz, 500e6);
  EXPECT_EQ(a.mac_bits, 8);

  Architecture b = parse_asic_architecture(R"(levels:
  - {name: DRAM, class: DRAM, word_bits: 8, read_bandwidth: 8}
  - name: buf
    class: smartbuffer_SRAM
    word_bits: 8
    size_kib: 64
    keeps: [inputs, outputs]
    fanout: {x: 8, y: 4}
  - {name: wreg, class: regfile, size_words: 2, word_bits: 8, keeps: [weights],
     energy_pj: {read: 0.5, write: 0.7}}
)",
                                           "b.yaml");
  ASSERT_EQ(b.num_levels(), 3);
  EXPECT_EQ(b.levels[1].size_words, 65536);
  EXPECT_EQ(b.num_macs(), 32);
  EXPECT_FALSE(b.levels[1].keeps_ds(DataSpace::kWeights));
  EXPECT_DOUBLE_EQ(storage_costs(b.levels[2], 45).write_pj, 0.7);
}

void expect_error(const std::string& text, const std::string& needle) {
  try {
    parse_asic_architecture(text, "bad.yaml");
    FAIL() << "no error for: " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(AsicArchitecture, YamlErrorsNameTheLineAndField) {
  expect_error(
      "levels:\n  - {name: DRAM, class: DRAM}\n  - {name: x, class: flash, size_words: 4}\n",
      "bad.yaml:3: levels[1].class: unknown component class 'flash'");
  expect_error("levels:\n  - {name: DRAM, class: DRAM}\n  - {name: x, class: SRAM}\n",
               "an on-chip level needs size_words or size_kib");
  expect_error("levels:\n  - {name: DRAM, class: DRAM, keeps: [weights]}\n",
               "must keep every dataspace (it bypasses inputs)");
  expect_error("base: eyeriss\nclock: 3\n", "bad.yaml:2: unknown key 'clock'");
  expect_error("levels:\n  - {name: DRAM, class: DRAM, fanout: {x: 0}}\n",
               "'levels[0].fanout.x' must be positive");
}

TEST(AsicEnergyTable, ScalingAndTables) {
  EXPECT_DOUBLE_EQ(energy_scale(45), 1.0);
  EXPECT_NEAR(energy_scale(16), 16.0 / 45 * std::pow(0.8 / 0.9, 2), 1e-12);
  EXPECT_NEAR(energy_scale(7), 7.0 / 45 * std::pow(0.7 / 0.9, 2), 1e-12);
  EXPECT_DOUBLE_EQ(area_scale(28), (28.0 / 45) * (28.0 / 45));
  // Horowitz 2014: an 8 KB SRAM reads 64 bits for 10 pJ.
  StorageLevel sram;
  sram.cls = ComponentClass::kSram;
  sram.size_words = 1024;
  sram.word_bits = 64;
  EXPECT_NEAR(storage_costs(sram, 45).read_pj, 10.0, 1e-9);
  StorageLevel dram;
  dram.cls = ComponentClass::kDram;
  dram.word_bits = 32;
  EXPECT_NEAR(storage_costs(dram, 7).read_pj, 640.0, 1e-9);  // DRAM does not scale
  // 8-bit MAC: 0.2 pJ multiply + 0.05 pJ 16-bit add.
  EXPECT_NEAR(mac_energy_pj(8, false, 45), 0.25, 1e-12);
  EXPECT_NEAR(mac_energy_pj(16, true, 45), 1.5, 1e-12);
}

Architecture two_level() {
  Architecture a;
  a.name = "two";
  StorageLevel d;
  d.name = "DRAM";
  d.cls = ComponentClass::kDram;
  StorageLevel b;
  b.name = "buf";
  b.cls = ComponentClass::kSram;
  b.size_words = 16;
  b.fanout_x = 2;
  a.levels = {d, b};
  return a;
}

void expect_mapping_error(const LoopNest& n, const Architecture& a, const Mapping& m,
                          const std::string& needle) {
  try {
    validate_mapping(n, a, m);
    FAIL() << "valid: " << m.str(a);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(AsicMapping, ValidationErrorsCarryTheNumbers) {
  Architecture a = two_level();
  LoopNest n = loop_nest_from_gemm({.m = 4, .n = 2, .k = 3}, "fc");
  Mapping m = trivial_mapping(n, a);
  EXPECT_NO_THROW(validate_mapping(n, a, m));
  m.levels[0].temporal[C] = 2;
  m.levels[1].temporal[C] = 2;
  expect_mapping_error(n, a, m,
                       "mapping for 'fc': the factors of C multiply to 4 (DRAM=2 x buf=2), "
                       "the problem has C = 3");
  m = trivial_mapping(n, a);
  m.levels[0].temporal[N] = 1;
  m.levels[1].temporal[N] = 4;
  m.levels[0].temporal[C] = 1;
  m.levels[1].temporal[C] = 3;
  // buf tile N4 C3 K1: weights 3 + inputs 12 + outputs 4 = 19 > 16.
  expect_mapping_error(n, a, m,
                       "level 'buf': the tiles it keeps need 19 words (weights 3 + inputs 12 + "
                       "outputs 4) for tile [C3 N4], it holds 16");
  m = trivial_mapping(n, a);
  m.levels[0].temporal[N] = 1;
  m.levels[1].spatial_x[N] = 4;
  expect_mapping_error(n, a, m,
                       "level 'buf': spatial factors X 4 (N4) x Y 1 (-) exceed its "
                       "fan-out 2 x 1");
  m = trivial_mapping(n, a);
  m.levels[1].order[0] = Dim::kK;
  expect_mapping_error(n, a, m, "the loop order must name each of R S P Q C K N once");
  m = trivial_mapping(n, a);
  m.num_levels = 1;
  expect_mapping_error(n, a, m, "it has 1 levels, the architecture 'two' has 2");
  (void)R, (void)S, (void)P, (void)Q, (void)K;
}

TEST(AsicMapping, DataflowTemplatesAreValidOnEveryPreset) {
  ConvShape c{.n = 1,
              .h = 14,
              .w = 14,
              .c = 32,
              .r = 3,
              .s = 3,
              .filters = 64,
              .p = 14,
              .q = 14,
              .pad_top = 1,
              .pad_bottom = 1,
              .pad_left = 1,
              .pad_right = 1};
  LoopNest conv = loop_nest_from_conv(c, "conv2");
  LoopNest fc = loop_nest_from_gemm({.m = 32, .n = 128, .k = 3136}, "fc");
  for (const std::string& name : asic_preset_names()) {
    AsicEvaluator ev(asic_preset(name));
    for (AsicDataflow df : {AsicDataflow::kWeightStationary, AsicDataflow::kOutputStationary,
                            AsicDataflow::kInputStationary, AsicDataflow::kRowStationary})
      for (const LoopNest* n : {&conv, &fc}) {
        Mapping m = dataflow_mapping(df, *n, ev.arch());
        EXPECT_FALSE(mapping_error(*n, ev.arch(), m)) << name << " " << asic_dataflow_name(df);
        AsicEvaluation e = ev.evaluate(*n, m);
        EXPECT_DOUBLE_EQ(e.macs, static_cast<double>(n->total_macs()));
        EXPECT_GT(e.utilization, 0);
        EXPECT_LE(e.utilization, 1 + 1e-12);
        EXPECT_GT(e.energy_pj, e.mac_energy_pj);
      }
  }
  // Row-stationary on Eyeriss spreads 3 filter rows x 14 output rows (x 4 channels).
  AsicEvaluator ev(asic_preset("eyeriss"));
  Mapping m = dataflow_mapping(AsicDataflow::kRowStationary, conv, ev.arch());
  EXPECT_EQ(m.levels[1].spatial_y[R], 3);
  EXPECT_EQ(m.levels[1].spatial_x[P], 14);
  EXPECT_GT(ev.evaluate(conv, m).utilization, 0.9);
}

}  // namespace
}  // namespace tessera::sim
