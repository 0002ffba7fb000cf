// The ASIC simulator on hand-built workloads: identical layers mapped once, each op's
// figures equal to the evaluation of its mapping, the documented vector and memory costs,
// the report totals, the target registry, and clear errors for ops it cannot run.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/sim/asic/asic_simulator.h"
#include "tessera/sim/asic/energy_table.h"

namespace tessera::sim {
namespace {

WorkOp gemm(std::string name, std::string layer, GemmShape g) {
  WorkOp op;
  op.name = std::move(name);
  op.layer = std::move(layer);
  op.op = OpKind::kMatMul;
  op.kind = WorkKind::kGemm;
  op.gemm = g;
  op.bytes_read = 4.0 * static_cast<double>(g.batch * (g.m * g.k + g.k * g.n));
  op.bytes_written = 4.0 * static_cast<double>(g.batch * g.m * g.n);
  return op;
}

WorkOp conv(std::string name) {
  WorkOp op;
  op.name = std::move(name);
  op.layer = "conv";
  op.op = OpKind::kConv2D;
  op.kind = WorkKind::kGemm;
  op.is_conv = true;
  op.conv = {.n = 1, .h = 10, .w = 10, .c = 4, .r = 3, .s = 3, .filters = 8, .p = 8, .q = 8};
  op.gemm = {.batch = 1, .m = 64, .n = 8, .k = 36};
  return op;
}

// fc1 and fc2 share a shape; fc_heads is the same product four times (a batched GEMM).
Workload hand_workload() {
  Workload w;
  w.name = "hand";
  w.ops.push_back(gemm("fc1/matmul_1", "fc1", {.batch = 1, .m = 16, .n = 32, .k = 64}));
  w.ops.push_back(gemm("fc2/matmul_2", "fc2", {.batch = 1, .m = 16, .n = 32, .k = 64}));
  w.ops.push_back(gemm("heads/matmul_3", "heads", {.batch = 4, .m = 16, .n = 32, .k = 64}));
  w.ops.push_back(conv("conv/conv2d_4"));
  WorkOp relu;
  relu.name = "conv/relu_5";
  relu.layer = "conv";
  relu.op = OpKind::kRelu;
  relu.kind = WorkKind::kVector;
  relu.elements = 1000;
  relu.vector_ops = 1000;
  relu.bytes_read = 4000;
  relu.bytes_written = 4000;
  w.ops.push_back(relu);
  WorkOp copy = relu;
  copy.name = "conv/transpose_6";
  copy.op = OpKind::kPermute;
  copy.kind = WorkKind::kMemory;
  copy.vector_ops = 0;
  w.ops.push_back(copy);
  WorkOp leaf;
  leaf.name = "x";
  leaf.kind = WorkKind::kNone;
  w.ops.push_back(leaf);
  return w;
}

AsicSimulatorOptions small_budget() {
  AsicSimulatorOptions o;
  o.mapper.max_trials = 4000;
  o.mapper.seed = 3;
  return o;
}

TEST(AsicSimulator, IdenticalLayersAreMappedOnce) {
  AsicSimulator sim(asic_preset("eyeriss"), small_budget());
  AsicRun run = sim.run(hand_workload());
  ASSERT_EQ(run.layers.size(), 2u);  // the 16x64x32 GEMM (three ops) and the conv
  EXPECT_EQ(run.layers[0].ops,
            (std::vector<std::string>{"fc1/matmul_1", "fc2/matmul_2", "heads/matmul_3"}));
  EXPECT_EQ(run.layers[0].nest.repeat, 1);
  EXPECT_EQ(run.layers[1].ops, std::vector<std::string>{"conv/conv2d_4"});
  EXPECT_EQ(run.layers[1].nest.bound(Dim::kR), 3);
  EXPECT_EQ(run.layers[1].nest.bound(Dim::kP), 8);

  const SimReport& r = run.report;
  ASSERT_EQ(r.ops.size(), 6u);  // the leaf is no work
  const OpReport& fc1 = r.ops[0];
  const OpReport& fc2 = r.ops[1];
  const OpReport& heads = r.ops[2];
  EXPECT_EQ(fc1.cycles, fc2.cycles);
  EXPECT_EQ(fc1.energy_j, fc2.energy_j);
  // The batched product runs its four copies one after another with the same mapping.
  EXPECT_DOUBLE_EQ(heads.macs, 4 * fc1.macs);
  EXPECT_DOUBLE_EQ(heads.cycles, 4 * fc1.cycles);
  EXPECT_NEAR(heads.energy_j, 4 * fc1.energy_j, 1e-12 * heads.energy_j);

  // Every matrix op's figures are the evaluation of its layer's mapping.
  AsicEvaluator ev(asic_preset("eyeriss"));
  AsicEvaluation e = ev.evaluate(run.layers[1].nest, run.layers[1].mapper.mapping);
  const OpReport& c = r.ops[3];
  EXPECT_EQ(c.unit, "pe_array");
  EXPECT_EQ(c.op, "conv2d");
  EXPECT_DOUBLE_EQ(c.cycles, e.cycles);
  EXPECT_DOUBLE_EQ(c.macs, 3 * 3 * 8 * 8 * 4 * 8);
  EXPECT_DOUBLE_EQ(c.energy_j, e.energy_pj * 1e-12);
  EXPECT_DOUBLE_EQ(c.utilization, e.utilization);
  ASSERT_EQ(c.traffic.size(), 5u);  // one entry per storage level
  EXPECT_EQ(c.traffic[0].level, "dram");
  EXPECT_EQ(c.traffic[1].level, "shared_glb");
  double dram_reads = 0;
  for (int ds = 0; ds < kNumDataSpaces; ++ds) dram_reads += e.levels[0].reads[ds];
  EXPECT_DOUBLE_EQ(c.traffic[0].read_bytes, 2 * dram_reads);  // 16-bit words
  EXPECT_DOUBLE_EQ(c.traffic[0].write_bytes, 2 * e.levels[0].updates[2]);
}

TEST(AsicSimulator, VectorAndMemoryOpsAreDramPasses) {
  AsicSimulator sim(asic_preset("eyeriss"), small_budget());
  SimReport r = sim.simulate(hand_workload());
  const ComponentCosts dram = storage_costs(asic_preset("eyeriss").levels[0], 65);
  const double mac = arch_mac_pj(asic_preset("eyeriss"));
  // 4000 B in and out over a 4-word (8 B) per cycle bus each way: 500 cycles; the 1000
  // operations take ceil(1000 / 168) = 6 cycles on the 168 lanes.
  const OpReport& v = r.ops[4];
  EXPECT_EQ(v.unit, "vector");
  EXPECT_DOUBLE_EQ(v.cycles, 500);
  EXPECT_DOUBLE_EQ(v.stall_cycles, 494);
  EXPECT_DOUBLE_EQ(v.seconds, 500 / 200e6);
  EXPECT_NEAR(v.energy_j, (2000 * dram.read_pj + 2000 * dram.write_pj + 1000 * mac) * 1e-12,
              1e-9 * v.energy_j);
  ASSERT_EQ(v.traffic.size(), 1u);
  EXPECT_EQ(v.traffic[0].level, "dram");
  EXPECT_EQ(v.bound, Bound::kMemory);
  const OpReport& m = r.ops[5];
  EXPECT_EQ(m.unit, "dma");
  EXPECT_DOUBLE_EQ(m.cycles, 500);
  EXPECT_NEAR(m.energy_j, (2000 * dram.read_pj + 2000 * dram.write_pj) * 1e-12,
              1e-9 * m.energy_j);
}

TEST(AsicSimulator, ReportTotalsAndFigures) {
  AsicSimulator sim(asic_preset("eyeriss"), small_budget());
  SimReport r = sim.simulate(hand_workload());
  EXPECT_EQ(r.target, "asic");
  EXPECT_EQ(r.config, "eyeriss");
  EXPECT_EQ(r.model, "hand");
  double cycles = 0, energy = 0, macs = 0, gemm_energy = 0;
  for (const OpReport& op : r.ops) {
    cycles += op.cycles;
    energy += op.energy_j;
    macs += op.macs;
    if (op.unit == "pe_array") gemm_energy += op.energy_j;
  }
  EXPECT_DOUBLE_EQ(r.cycles, cycles);
  EXPECT_DOUBLE_EQ(r.energy_j, energy);
  EXPECT_DOUBLE_EQ(r.macs, 6 * 16 * 32 * 64 + 3 * 3 * 8 * 8 * 4 * 8);
  EXPECT_DOUBLE_EQ(r.macs, macs);
  EXPECT_DOUBLE_EQ(r.seconds, cycles / 200e6);
  EXPECT_DOUBLE_EQ(r.peak_flops, 2 * 168 * 200e6);
  EXPECT_DOUBLE_EQ(r.dram_bandwidth, 8 * 200e6);
  EXPECT_DOUBLE_EQ(r.figures.at("pe_count"), 168);
  AsicEvaluator ev(asic_preset("eyeriss"));
  EXPECT_DOUBLE_EQ(r.figures.at("area_mm2"), ev.area_um2() * 1e-6);
  EXPECT_NEAR(r.figures.at("pj_per_mac"), gemm_energy * 1e12 / macs, 1e-9);
  EXPECT_DOUBLE_EQ(r.figures.at("power_w"), r.energy_j / r.seconds);
  EXPECT_EQ(r.figures.at("mapped_layers"), 2);
  // The mapping of each distinct layer is in the notes.
  int mapping_notes = 0;
  for (const std::string& n : r.notes) mapping_notes += n.find("pJ/MAC") != std::string::npos;
  EXPECT_EQ(mapping_notes, 2);
}

TEST(AsicSimulator, SameSeedSameReport) {
  AsicSimulator sim(asic_preset("ws-16x16"), small_budget());
  SimReport a = sim.simulate(hand_workload());
  SimReport b = sim.simulate(hand_workload());
  EXPECT_EQ(a.cycles, b.cycles);
  EXPECT_EQ(a.energy_j, b.energy_j);
}

TEST(AsicSimulator, ObjectivesTradeEnergyForDelay) {
  Workload w;
  w.name = "one";
  w.ops.push_back(conv("conv/conv2d_1"));
  AsicSimulatorOptions o = small_budget();
  o.mapper.objective = MapperObjective::kEnergy;
  SimReport energy = AsicSimulator(asic_preset("eyeriss"), o).simulate(w);
  o.mapper.objective = MapperObjective::kDelay;
  SimReport delay = AsicSimulator(asic_preset("eyeriss"), o).simulate(w);
  EXPECT_LE(energy.energy_j, delay.energy_j);
  EXPECT_LE(delay.cycles, energy.cycles);
}

TEST(AsicSimulator, TimeBudgetIsSharedByTheLayers) {
  AsicSimulatorOptions o;
  o.time_budget_s = 0.2;
  AsicSimulator sim(asic_preset("eyeriss"), o);
  SimReport r = sim.simulate(hand_workload());
  EXPECT_GT(r.figures.at("mapper_evaluations"), 0);
  EXPECT_LT(r.figures.at("mapper_seconds"), 1.0);
  EXPECT_THROW(AsicSimulator(asic_preset("eyeriss"), {.time_budget_s = -1}), Error);
}

TEST(AsicSimulator, UnsupportedOpsAreClearErrors) {
  AsicSimulator sim(asic_preset("eyeriss"), small_budget());
  WorkOp wide = gemm("idx/matmul_7", "idx", {.batch = 1, .m = 4, .n = 4, .k = 4});
  wide.input_dtype = kI32;
  std::string reason;
  EXPECT_FALSE(sim.supports(wide, &reason));
  EXPECT_NE(reason.find("i32"), std::string::npos) << reason;
  EXPECT_NE(reason.find("16-bit"), std::string::npos) << reason;
  Workload w = hand_workload();
  w.ops.push_back(wide);
  try {
    sim.simulate(w);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    std::string msg = e.what();
    EXPECT_NE(msg.find("idx/matmul_7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("eyeriss"), std::string::npos) << msg;
  }
  // int8 operands fit 16-bit MACs; float ones are taken as quantized.
  wide.input_dtype = kI8;
  EXPECT_TRUE(sim.supports(wide, nullptr));
  wide.input_dtype = kF32;
  EXPECT_TRUE(sim.supports(wide, nullptr));
  WorkOp empty = gemm("e/matmul_8", "e", {.batch = 1, .m = 0, .n = 4, .k = 4});
  EXPECT_FALSE(sim.supports(empty, &reason));
  EXPECT_NE(reason.find("loop nest"), std::string::npos) << reason;
}

TEST(AsicSimulator, ConvGradientsMapAsTheirGemms) {
  WorkOp g = conv("conv/grad/conv2d_backprop_filter_9");
  g.op = OpKind::kConv2DBackpropFilter;
  g.gemm = {.batch = 1, .m = 36, .n = 8, .k = 64};
  LoopNest n = AsicSimulator::nest_of(g);
  EXPECT_EQ(n.bound(Dim::kN), 36);
  EXPECT_EQ(n.bound(Dim::kC), 64);
  EXPECT_EQ(n.bound(Dim::kK), 8);
  EXPECT_EQ(n.bound(Dim::kR), 1);
  EXPECT_EQ(AsicSimulator::nest_of(conv("c")).bound(Dim::kR), 3);
}

TEST(AsicSimulator, Registry) {
  std::unique_ptr<Simulator> s = make_simulator("asic");
  EXPECT_EQ(s->target(), "asic");
  EXPECT_EQ(s->config_name(), "eyeriss");
  EXPECT_EQ(make_simulator("asic:nvdla-like")->config_name(), "nvdla-like");
  try {
    make_simulator("asic:tpu-v4");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("edge-npu"), std::string::npos) << e.what();
  }
  bool listed = false;
  for (const std::string& t : simulator_targets()) listed |= t == "asic";
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace tessera::sim
