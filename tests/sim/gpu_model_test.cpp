// The GPU performance model: closed-form GEMM plans (tiles, waves, split-K), kernels bound by
// compute or by HBM / L2 bandwidth, the launch overhead, precision per dtype, fused attention,
// energy bounds, the memory check, per-node estimates, and sanity across the presets.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/passes.h"
#include "tessera/nn/gpt.h"
#include "tessera/sim/gpu/gpu_simulator.h"
#include "tessera/train/model.h"

namespace tessera::sim {
namespace {

WorkOp gemm(int64_t m, int64_t n, int64_t k, DType dtype, int64_t batch = 1) {
  WorkOp op;
  op.name = "g";
  op.op = OpKind::kMatMul;
  op.kind = WorkKind::kGemm;
  op.gemm = {.batch = batch, .m = m, .n = n, .k = k};
  op.input_dtype = op.output_dtype = dtype;
  const double s = static_cast<double>(dtype.size());
  op.bytes_read = static_cast<double>(batch * (m * k + k * n)) * s;
  op.bytes_written = static_cast<double>(batch * m * n) * s;
  return op;
}

// An elementwise add of two f32 tensors of `n` elements.
WorkOp add(int64_t n) {
  WorkOp op;
  op.name = "add";
  op.op = OpKind::kAdd;
  op.kind = WorkKind::kVector;
  op.vector = VectorKind::kElementwise;
  op.elements = n;
  op.vector_ops = static_cast<double>(n);
  op.bytes_read = 8.0 * static_cast<double>(n);
  op.bytes_written = 4.0 * static_cast<double>(n);
  return op;
}

double dram(const OpReport& r) {
  for (const MemoryTraffic& t : r.traffic)
    if (t.level == "dram") return t.read_bytes + t.write_bytes;
  return 0;
}

TEST(GpuGemmPlan, LargeGemmIsWholeTilesInWaves) {
  GpuConfig c = gpu_preset("h100");
  GemmPlan p = plan_gemm({.m = 8192, .n = 8192, .k = 8192}, GpuPrecision::kBf16, c);
  EXPECT_TRUE(p.tensor_cores);
  EXPECT_EQ(p.tile_m, 128);
  EXPECT_EQ(p.tile_n, 128);
  EXPECT_EQ(p.split_k, 1);
  EXPECT_EQ(p.tiles, 64 * 64);
  EXPECT_EQ(p.waves, 32);  // 4096 tiles over 132 SMs: 31.03 -> 32
  const double efficiency = 0.75 * 8192.0 / (8192.0 + 64.0);
  EXPECT_DOUBLE_EQ(p.efficiency, efficiency);
  EXPECT_DOUBLE_EQ(p.quantization, 4096.0 / (32.0 * 132.0));
  const double per_sm = 989.4e12 / 132;
  EXPECT_NEAR(p.compute_seconds, 32 * 2.0 * 128 * 128 * 8192 / (per_sm * efficiency), 1e-12);
}

TEST(GpuGemmPlan, FewTilesOverALongReductionSplitK) {
  GpuConfig c = gpu_preset("a100");
  GemmPlan p = plan_gemm({.m = 128, .n = 128, .k = 65536}, GpuPrecision::kFp32, c);
  EXPECT_FALSE(p.tensor_cores);
  EXPECT_GT(p.split_k, 1);
  EXPECT_GT(p.split_k_bytes, 0);
  GemmPlan whole = plan_gemm({.m = 128, .n = 128, .k = 200}, GpuPrecision::kFp32, c);
  EXPECT_EQ(whole.split_k, 1);  // too short to split
}

TEST(GpuGemmPlan, SmallAndSkinnyShapesReachLessOfPeak) {
  GpuConfig c = gpu_preset("h100");
  auto achieved = [&](int64_t m, int64_t n, int64_t k) {
    GemmPlan p = plan_gemm({.m = m, .n = n, .k = k}, GpuPrecision::kBf16, c);
    return 2.0 * static_cast<double>(m * n * k) / p.compute_seconds / c.bf16_flops;
  };
  const double big = achieved(8192, 8192, 8192);
  EXPECT_GT(big, 0.7);
  EXPECT_LE(big, c.tensor_efficiency);
  EXPECT_LT(achieved(8, 4096, 4096), 0.5 * big);  // a batch-8 inference layer
  EXPECT_LT(achieved(1024, 1024, 64), big);       // a short reduction
}

TEST(GpuSimulator, BigGemmIsComputeBoundNearPeakTimesEfficiency) {
  GpuSimulator sim(gpu_preset("h100"));
  WorkOp op = gemm(8192, 8192, 8192, kBF16);
  OpReport r = sim.simulate_op(op);
  GemmPlan p = plan_gemm(op.gemm, GpuPrecision::kBf16, sim.config());
  EXPECT_EQ(r.unit, "tensor");
  EXPECT_EQ(r.bound, Bound::kCompute);
  EXPECT_DOUBLE_EQ(r.seconds, 3e-6 + p.compute_seconds);
  EXPECT_DOUBLE_EQ(r.cycles, r.seconds * 1980e6);
  EXPECT_DOUBLE_EQ(r.stall_cycles, 0);
  EXPECT_DOUBLE_EQ(r.macs, 8192.0 * 8192 * 8192);
  EXPECT_GT(r.utilization, 0.7);
  EXPECT_LT(r.utilization, 0.75);
  EXPECT_DOUBLE_EQ(r.mapping_efficiency, p.quantization);
  // 402 MB moved once from HBM: far under the compute time.
  EXPECT_DOUBLE_EQ(dram(r), op.bytes_read + op.bytes_written);
}

TEST(GpuSimulator, BigElementwiseOpIsBandwidthBound) {
  GpuSimulator sim(gpu_preset("a100"));
  WorkOp op = add(100'000'000);  // 1.2 GB
  OpReport r = sim.simulate_op(op);
  EXPECT_EQ(r.bound, Bound::kMemory);
  EXPECT_DOUBLE_EQ(dram(r), 1.2e9);
  EXPECT_NEAR(r.seconds, 3e-6 + 1.2e9 / (2039e9 * 0.9), 1e-12);
  EXPECT_GT(r.stall_cycles, 0.9 * r.cycles);
}

TEST(GpuSimulator, SmallWorkingSetsStayInL2) {
  GpuSimulator sim(gpu_preset("a100"));
  const GpuConfig& c = sim.config();
  OpReport r = sim.simulate_op(add(1'000'000));  // 12 MB of a 40 MiB L2
  EXPECT_DOUBLE_EQ(dram(r), 0);
  EXPECT_NEAR(r.seconds, 3e-6 + 12e6 / (c.l2_bandwidth * c.l2_efficiency), 1e-15);
  // Past half the L2 it streams from HBM.
  OpReport big = sim.simulate_op(add(2'000'000));
  EXPECT_DOUBLE_EQ(dram(big), 24e6);
}

TEST(GpuSimulator, ATinyKernelCostsTheLaunchOverhead) {
  GpuSimulator sim(gpu_preset("t4"));
  OpReport r = sim.simulate_op(add(16));
  EXPECT_NEAR(r.seconds, 3e-6, 1e-9);
}

TEST(GpuSimulator, PrecisionFollowsTheDtype) {
  GpuConfig c = gpu_preset("a100");
  EXPECT_EQ(GpuSimulator(c).simulate_op(gemm(4096, 4096, 4096, kF32)).unit, "cuda-core");
  EXPECT_EQ(GpuSimulator(c).simulate_op(gemm(4096, 4096, 4096, kBF16)).unit, "tensor");
  EXPECT_EQ(GpuSimulator(c).simulate_op(gemm(4096, 4096, 4096, kI8)).unit, "tensor");
  c.allow_tf32 = true;
  OpReport tf32 = GpuSimulator(c).simulate_op(gemm(4096, 4096, 4096, kF32));
  EXPECT_EQ(tf32.unit, "tensor");
  c.allow_tf32 = false;
  OpReport fp32 = GpuSimulator(c).simulate_op(gemm(4096, 4096, 4096, kF32));
  EXPECT_GT(fp32.seconds, 5 * tf32.seconds);  // 19.5 vs 156 TFLOPS
  // Turing has no bf16 tensor cores: bf16 GEMMs run on the CUDA cores.
  EXPECT_EQ(GpuSimulator(gpu_preset("t4")).simulate_op(gemm(1024, 1024, 1024, kBF16)).unit,
            "cuda-core");
}

TEST(GpuSimulator, EnergyIsBetweenIdleAndBoardPower) {
  GpuSimulator sim(gpu_preset("h100"));
  for (const WorkOp& op : {gemm(8192, 8192, 8192, kBF16), add(100'000'000), add(1000)}) {
    OpReport r = sim.simulate_op(op);
    EXPECT_GE(r.energy_j, 75 * r.seconds * (1 - 1e-12)) << op.name;
    EXPECT_LE(r.energy_j, 700 * r.seconds * (1 + 1e-12)) << op.name;
  }
}

Graph attention_graph(int64_t heads, int64_t t, int64_t d) {
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {kDynamic, heads, t, d});
  ValueId k = b.input("k", kF32, {kDynamic, heads, t, d});
  ValueId v = b.input("v", kF32, {kDynamic, heads, t, d});
  b.output(b.attention(q, k, v, /*causal=*/true));
  return b.finish();
}

TEST(GpuSimulator, AttentionIsOneFusedKernelMovingOnlyItsOperands) {
  GpuSimulator sim(gpu_preset("h100"));
  Graph g = attention_graph(4, 256, 64);
  Workload w = lower_to_workload(g, {.batch = 2, .name = "attn"});
  SimReport r = sim.simulate(w);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].op, "attention");
  EXPECT_EQ(r.ops[0].name.find('.'), std::string::npos) << r.ops[0].name;
  const double operand = 2.0 * 4 * 256 * 64 * 4;  // one of q, k, v, out in bytes
  EXPECT_DOUBLE_EQ(r.ops[0].macs, 2.0 * 2 * 4 * 256 * 256 * 64);
  double moved = 0;
  for (const MemoryTraffic& t : r.ops[0].traffic)
    if (t.level == "l2") moved = t.read_bytes + t.write_bytes;
  EXPECT_DOUBLE_EQ(moved, 4 * operand);
  // 8 heads x 2 blocks of 128 query rows: 16 of 132 SMs busy.
  EXPECT_NEAR(r.ops[0].mapping_efficiency, 16.0 / 132.0, 1e-12);
}

TEST(GpuSimulator, EstimatesMatchACompiledGraphNodeByNode) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 64});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {64, 32}));
  ValueId y = b.matmul(x, w);
  b.output(b.tanh(b.add(b.mul(y, b.scalar(2.0)), b.scalar(1.0))));
  Graph compiled = eliminate_dead_code(fuse_elementwise(specialize(b.finish(), 16)));
  GpuSimulator sim(gpu_preset("a100"));
  std::vector<NodeEstimate> e = sim.estimate_nodes(compiled);
  ASSERT_EQ(e.size(), 2u);  // the matmul and one fused elementwise kernel
  EXPECT_EQ(compiled.node(e[0].node).op, OpKind::kMatMul);
  EXPECT_EQ(compiled.node(e[1].node).op, OpKind::kFusedElementwise);
  for (const NodeEstimate& n : e) EXPECT_GE(n.seconds, 3e-6);
}

TEST(GpuSimulator, AStepThatDoesNotFitIsAWarning) {
  GpuConfig c = gpu_preset("t4");
  c.hbm_bytes = 1 << 20;  // 1 MiB
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 1024});
  b.output(b.matmul(x, b.parameter("w", Tensor::zeros(kF32, {1024, 1024}))));  // 4 MiB
  Graph g = b.finish();
  SimReport r = GpuSimulator(c).simulate_graph(g, 8, "big");
  EXPECT_GT(r.figures.at("memory_bytes"), 4.0 * 1024 * 1024);
  bool warned = false;
  for (const std::string& n : r.notes)
    warned |= n.starts_with("warning:") && n.find("t4") != std::string::npos;
  EXPECT_TRUE(warned);
  SimReport fits = GpuSimulator(gpu_preset("t4")).simulate_graph(g, 8, "big");
  for (const std::string& n : fits.notes) EXPECT_FALSE(n.starts_with("warning:")) << n;
}

TEST(GpuSimulator, RegisteredAsTheGpuTarget) {
  std::unique_ptr<Simulator> s = make_simulator("gpu:a100");
  EXPECT_EQ(s->target(), "gpu");
  EXPECT_EQ(s->config_name(), "a100");
  EXPECT_EQ(make_simulator("gpu")->config_name(), "h100");
  EXPECT_THROW(make_simulator("gpu:v100"), Error);
}

// gpt-tiny's training step on each preset: a newer part is faster, and every figure the
// report carries is filled.
TEST(GpuSimulator, NewerPartsRunGptTinyFaster) {
  GptConfig cfg = GptConfig::tiny();
  Model m(make_gpt(cfg));
  m.compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
  std::map<std::string, SimReport> r;
  for (const std::string& p : gpu_preset_names())
    r[p] = GpuSimulator(gpu_preset(p)).simulate_graph(m.train_graph(), 8, "gpt-tiny");
  EXPECT_LT(r["h100"].seconds, r["a100"].seconds);
  EXPECT_LT(r["a100"].seconds, r["t4"].seconds);
  EXPECT_LE(r["h200"].seconds, r["h100"].seconds);
  const SimReport& h = r["h100"];
  EXPECT_TRUE(h.training);
  EXPECT_EQ(h.target, "gpu");
  EXPECT_GT(h.macs, 0);
  EXPECT_GT(h.cycles, 0);
  EXPECT_GT(h.energy_j, 0);
  EXPECT_GT(h.utilization, 0);
  EXPECT_LT(h.utilization, 1);
  EXPECT_NE(h.bound, Bound::kNone);
  EXPECT_GT(h.figures.at("power_w"), 75);
  EXPECT_LT(h.figures.at("power_w"), 700);
  bool fused = false;
  for (const OpReport& op : h.ops) fused |= op.op == "fused_elementwise";
  EXPECT_TRUE(fused);
}

}  // namespace
}  // namespace tessera::sim
