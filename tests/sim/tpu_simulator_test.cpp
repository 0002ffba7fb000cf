#include <gtest/gtest.h>

#include "tessera/core/error.h"
#include "tessera/sim/tpu/tpu_simulator.h"

namespace tessera::sim {
namespace {

WorkOp gemm(int64_t m, int64_t n, int64_t k, int64_t batch = 1) {
  WorkOp op;
  op.name = "dense/matmul_3";
  op.layer = "dense";
  op.op = OpKind::kMatMul;
  op.kind = WorkKind::kGemm;
  op.gemm = {.batch = batch, .m = m, .n = n, .k = k};
  return op;
}

TpuConfig small_array() {
  TpuConfig c = tpu_preset("tpu-v4");
  c.name = "small";
  c.matrix_units = 1;
  c.array.rows = c.array.cols = 8;
  c.dram_bandwidth = 1e15;  // no stalls
  c.static_power_w = 0;
  return c;
}

TEST(TpuSimulator, OneGemmCostsWhatTheArrayEngineSays) {
  TpuConfig c = small_array();
  TpuSimulator sim(c);
  OpReport r = sim.simulate_op(gemm(32, 8, 8));
  SystolicArray a = c.array;
  a.dram_words_per_cycle = c.dram_bandwidth / c.clock_hz / 2;
  GemmStats s = simulate_gemm({.m = 32, .n = 8, .k = 8}, a);
  EXPECT_DOUBLE_EQ(r.cycles, static_cast<double>(s.total_cycles()));
  EXPECT_DOUBLE_EQ(r.macs, 32.0 * 8 * 8);
  EXPECT_DOUBLE_EQ(r.seconds, r.cycles / c.clock_hz);
  EXPECT_NEAR(r.utilization, r.macs / (r.cycles * 64), 1e-12);
  // Energy: MACs, SRAM and DRAM bytes at their per-action energies.
  double sram = 0, dram = 0;
  for (const MemoryTraffic& t : r.traffic)
    (t.level == "dram" ? dram : sram) += t.read_bytes + t.write_bytes;
  EXPECT_NEAR(r.energy_j,
              (r.macs * c.mac_pj + sram * c.sram_byte_pj + dram * c.dram_byte_pj) * 1e-12,
              1e-18);
}

TEST(TpuSimulator, GemmsSpreadOverTheMatrixUnits) {
  TpuConfig c = small_array();
  TpuSimulator one(c);
  c.matrix_units = 4;
  TpuSimulator four(c);
  WorkOp op = gemm(64, 32, 8);
  MxuMapping m = four.map_gemm(op.gemm, Fidelity::kCycle);
  EXPECT_EQ(m.units_used, 4);
  EXPECT_LT(four.simulate_op(op).cycles, one.simulate_op(op).cycles);
  // Independent products (attention heads) go one per unit.
  MxuMapping heads = four.map_gemm({.batch = 8, .m = 8, .n = 8, .k = 8}, Fidelity::kCycle);
  EXPECT_EQ(heads.split, MxuSplit::kBatch);
  EXPECT_EQ(heads.repeats, 2);
}

TEST(TpuSimulator, VectorWorkRunsOnTheLanes) {
  TpuConfig c = small_array();
  c.vector_lanes = 128;
  c.transcendental_cycles = 4;
  TpuSimulator sim(c);
  WorkOp add;
  add.name = "dense/add_4";
  add.op = OpKind::kAdd;
  add.kind = WorkKind::kVector;
  add.elements = 1280;
  add.vector_ops = 1280;
  add.bytes_read = 2 * 1280 * 4;
  add.bytes_written = 1280 * 4;
  EXPECT_DOUBLE_EQ(sim.simulate_op(add).cycles, 10);
  WorkOp exp = add;
  exp.op = OpKind::kExp;
  exp.vector = VectorKind::kTranscendental;
  EXPECT_DOUBLE_EQ(sim.simulate_op(exp).cycles, 40);
  // Data that does not fit on chip streams at the DRAM bandwidth.
  c.vector_memory_bytes = 1024;
  c.dram_bandwidth = c.clock_hz * 64;  // 64 bytes per cycle
  TpuSimulator narrow(c);
  OpReport r = narrow.simulate_op(add);
  EXPECT_DOUBLE_EQ(r.cycles, 3.0 * 1280 * 4 / 64);
  EXPECT_DOUBLE_EQ(r.stall_cycles, r.cycles - 10);
  EXPECT_EQ(r.bound, Bound::kMemory);
}

TEST(TpuSimulator, InferencePartsRefuseTrainingSteps) {
  TpuSimulator v1(tpu_preset("tpu-v1"));
  Workload w;
  w.ops.push_back(gemm(8, 8, 8));
  w.ops.back().phase = Phase::kBackward;
  w.ops.back().name = "dense/grad/matmul_9";
  try {
    v1.simulate(w);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("dense/grad/matmul_9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("inference only"), std::string::npos) << e.what();
  }
}

TEST(TpuSimulator, ReportTotalsSumTheOps) {
  TpuSimulator sim(small_array());
  Workload w;
  w.name = "two";
  w.ops = {gemm(16, 8, 8), gemm(8, 8, 16)};
  SimReport r = sim.simulate(w);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_DOUBLE_EQ(r.cycles, r.ops[0].cycles + r.ops[1].cycles);
  EXPECT_DOUBLE_EQ(r.macs, 2.0 * 16 * 8 * 8);
  EXPECT_GT(r.utilization, 0);
  EXPECT_LE(r.utilization, 1);
  EXPECT_EQ(r.target, "tpu");
  EXPECT_EQ(r.config, "small");
}

TEST(TpuSimulator, TargetSpecs) {
  EXPECT_EQ(make_tpu_simulator("")->config_name(), "tpu-v4");
  EXPECT_EQ(make_tpu_simulator("edge-tpu")->config().array.rows, 64);
  EXPECT_THROW(make_tpu_simulator("tpu-v9"), Error);
}

}  // namespace
}  // namespace tessera::sim
