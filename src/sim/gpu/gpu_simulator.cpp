// The GPU performance model: kernels costed by a roofline with per-op efficiency.
#include "tessera/sim/gpu/gpu_simulator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "tessera/core/error.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Rows of queries one block of a flash-style attention kernel handles.
constexpr int64_t kAttentionBlockRows = 128;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool uses_sfu(const WorkOp& op) {
  return op.kind == WorkKind::kVector &&
         (op.vector == VectorKind::kTranscendental || op.vector == VectorKind::kSoftmax);
}

std::string gib_or_mib(double bytes) {
  return bytes >= kGiB ? fmt::format("{:.2f} GiB", bytes / kGiB)
                       : fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

std::string node_name(const std::string& lowered) {
  size_t dot = lowered.rfind('.');
  return dot == std::string::npos ? lowered : lowered.substr(0, dot);
}

}  // namespace

GpuSimulator::GpuSimulator(GpuConfig config) : config_(std::move(config)) {
  config_.validate(config_.name);
}

bool GpuSimulator::supports(const WorkOp&, std::string*) const { return true; }

void GpuSimulator::finish_op(OpReport& r, double compute_s, double dram_bytes, double l2_bytes,
                             double peak) const {
  const GpuConfig& c = config_;
  const double memory_s = std::max(dram_bytes / (c.hbm_bandwidth * c.memory_efficiency),
                                   l2_bytes / (c.l2_bandwidth * c.l2_efficiency));
  const double busy = std::max(compute_s, memory_s);
  r.seconds = c.launch_overhead_s + busy;
  r.cycles = r.seconds * c.sm_clock_hz;
  r.stall_cycles = (busy - compute_s) * c.sm_clock_hz;
  // Arithmetic at a unit's peak draws the board's dynamic power; data movement per byte.
  const double dynamic = r.flops * (c.tdp_w - c.idle_w) / peak +
                         (dram_bytes * c.dram_byte_pj + l2_bytes * c.l2_byte_pj) * 1e-12;
  r.energy_j = std::min(c.idle_w * r.seconds + dynamic, c.tdp_w * r.seconds);
  place_on_roofline(r, dram_bytes, peak, c.hbm_bandwidth);
  if (busy > 0) r.bound = memory_s > compute_s ? Bound::kMemory : Bound::kCompute;
}

OpReport GpuSimulator::gemm_op(const WorkOp& op) const {
  const GpuConfig& c = config_;
  OpReport r;
  GemmPlan p = plan_gemm(op.gemm, c.gemm_precision(op.input_dtype), c);
  const double peak = c.peak_flops(p.precision);
  r.unit = p.tensor_cores ? "tensor" : "cuda-core";
  r.macs = static_cast<double>(op.macs());
  r.flops = 2.0 * r.macs;
  r.mapping_efficiency = p.quantization;
  // Operands come from HBM unless the whole working set stays in L2 between kernels;
  // parameters always come from HBM (the rest of the step evicts them).
  const double bytes = op.bytes_read + op.bytes_written;
  const bool resident = bytes <= static_cast<double>(c.l2_bytes) * c.l2_resident_fraction;
  MemoryTraffic dram{"dram", op.weight_bytes + (resident ? 0.0 : op.bytes_read - op.weight_bytes),
                     resident ? 0.0 : op.bytes_written};
  // L2 sees every tile's operand panels: A once per column of tiles, B once per row.
  const double size = static_cast<double>(op.input_dtype.size());
  const GemmShape& g = op.gemm;
  const double a = static_cast<double>(g.batch * g.m * g.k) * size;
  const double b = static_cast<double>(g.batch * g.k * g.n) * size;
  MemoryTraffic l2{"l2",
                   a * static_cast<double>(ceil_div(g.n, p.tile_n)) +
                       b * static_cast<double>(ceil_div(g.m, p.tile_m)) + p.split_k_bytes / 2,
                   op.bytes_written + p.split_k_bytes / 2};
  r.traffic = {dram, l2};
  // The tile re-reads are the kernel's own business (its efficiency); the memory roof is the
  // compulsory traffic.
  finish_op(r, p.compute_seconds, dram.read_bytes + dram.write_bytes, bytes, peak);
  r.utilization = r.cycles > 0 ? r.flops / (r.seconds * peak) : 0.0;
  return r;
}

// q·kᵀ, softmax and p·v in one kernel: blocks of query rows per head run in waves over the
// SMs; the scores never leave the SM, so only q, k, v and the output move.
OpReport GpuSimulator::attention_op(const std::vector<const WorkOp*>& parts) const {
  const GpuConfig& c = config_;
  const WorkOp& qk = *parts.front();
  OpReport r;
  const GpuPrecision precision = c.gemm_precision(qk.input_dtype);
  const bool tensor = c.on_tensor_cores(precision);
  const double peak = c.peak_flops(precision);
  const double efficiency =
      (tensor ? c.tensor_efficiency : c.simt_efficiency) * c.attention_efficiency;
  double read = 0, written = 0, weights = 0, exps = 0;
  for (const WorkOp* op : parts) {
    r.macs += static_cast<double>(op->macs());
    weights += op->weight_bytes;
    if (op->kind == WorkKind::kVector) exps += static_cast<double>(op->elements);
  }
  const double scores = qk.bytes_written;  // materialized only in the unfused lowering
  for (const WorkOp* op : parts) {
    read += op->bytes_read;
    if (op == parts.back()) written = op->bytes_written;
  }
  read -= scores * static_cast<double>(parts.size() - 1);  // softmax and p·v read the scores
  r.flops = 2.0 * r.macs;
  const int64_t blocks = qk.gemm.batch * ceil_div(qk.gemm.m, kAttentionBlockRows);
  const int64_t waves = ceil_div(blocks, c.sm_count);
  r.mapping_efficiency = static_cast<double>(blocks) / static_cast<double>(waves * c.sm_count);
  const double per_sm = peak / static_cast<double>(c.sm_count) * efficiency;
  const double sfu_per_sm = static_cast<double>(c.sfu_per_sm) * c.sm_clock_hz;
  const double per_block = r.flops / static_cast<double>(blocks) / per_sm +
                           exps / static_cast<double>(blocks) / sfu_per_sm;
  const double compute_s = static_cast<double>(waves) * per_block;
  const double bytes = read + written;
  const bool resident = bytes <= static_cast<double>(c.l2_bytes) * c.l2_resident_fraction;
  MemoryTraffic dram{"dram", weights + (resident ? 0.0 : read - weights), resident ? 0.0 : written};
  r.traffic = {dram, {"l2", read, written}};
  r.unit = tensor ? "tensor" : "cuda-core";
  finish_op(r, compute_s, dram.read_bytes + dram.write_bytes, bytes, peak);
  r.utilization = r.seconds > 0 ? r.flops / (r.seconds * peak) : 0.0;
  return r;
}

OpReport GpuSimulator::vector_op(const WorkOp& op) const {
  const GpuConfig& c = config_;
  OpReport r;
  r.unit = "cuda-core";
  r.flops = op.vector_ops;
  // One operation per lane per clock (an FMA's two flops are the FP32 peak); exp, log,
  // tanh, rsqrt… one per SFU per clock.
  const double lane_ops = c.fp32_flops / 2.0 * c.simt_efficiency;
  const double sfu = static_cast<double>(c.sm_count * c.sfu_per_sm) * c.sm_clock_hz;
  const double compute_s =
      op.vector_ops / lane_ops + (uses_sfu(op) ? static_cast<double>(op.elements) / sfu : 0.0);
  const double bytes = op.bytes_read + op.bytes_written;
  const bool resident = bytes <= static_cast<double>(c.l2_bytes) * c.l2_resident_fraction;
  MemoryTraffic dram{"dram", op.weight_bytes + (resident ? 0.0 : op.bytes_read - op.weight_bytes),
                     resident ? 0.0 : op.bytes_written};
  r.traffic = {dram, {"l2", op.bytes_read, op.bytes_written}};
  finish_op(r, compute_s, dram.read_bytes + dram.write_bytes, bytes, c.fp32_flops);
  r.utilization = r.seconds > 0 ? op.vector_ops / (r.seconds * c.fp32_flops / 2.0) : 0.0;
  return r;
}

OpReport GpuSimulator::memory_op(const WorkOp& op) const {
  const GpuConfig& c = config_;
  OpReport r;
  r.unit = "memory";
  r.flops = op.vector_ops;  // scatter_add's adds
  const double bytes = op.bytes_read + op.bytes_written;
  const bool resident = bytes <= static_cast<double>(c.l2_bytes) * c.l2_resident_fraction;
  MemoryTraffic dram{"dram", op.weight_bytes + (resident ? 0.0 : op.bytes_read - op.weight_bytes),
                     resident ? 0.0 : op.bytes_written};
  r.traffic = {dram, {"l2", op.bytes_read, op.bytes_written}};
  finish_op(r, 0.0, dram.read_bytes + dram.write_bytes, bytes, c.fp32_flops);
  if (r.bound == Bound::kNone && r.seconds > 0) r.bound = Bound::kMemory;
  return r;
}

OpReport GpuSimulator::simulate_op(const WorkOp& op) const {
  OpReport r;
  switch (op.kind) {
    case WorkKind::kGemm:
      r = gemm_op(op);
      break;
    case WorkKind::kVector:
      r = vector_op(op);
      break;
    case WorkKind::kMemory:
      r = memory_op(op);
      break;
    case WorkKind::kNone:
      break;
  }
  r.name = op.name;
  r.layer = op.layer;
  r.phase = op.phase;
  r.op = op_name(op.op);
  return r;
}

std::vector<std::pair<ValueId, OpReport>> GpuSimulator::cost_ops(const Workload& w) const {
  std::vector<std::pair<ValueId, OpReport>> out;
  for (size_t i = 0; i < w.ops.size(); ++i) {
    const WorkOp& op = w.ops[i];
    if (op.kind == WorkKind::kNone) continue;
    if (op.op != OpKind::kAttention) {
      out.emplace_back(op.node, simulate_op(op));
      continue;
    }
    // The ops lowered from one attention node are consecutive.
    std::vector<const WorkOp*> parts;
    while (i < w.ops.size() && w.ops[i].node == op.node) parts.push_back(&w.ops[i++]);
    --i;
    OpReport r = attention_op(parts);
    r.name = node_name(op.name);
    r.layer = op.layer;
    r.phase = op.phase;
    r.op = op_name(op.op);
    out.emplace_back(op.node, std::move(r));
  }
  return out;
}

SimReport GpuSimulator::simulate(const Workload& w) const {
  const GpuConfig& c = config_;
  SimReport rep;
  rep.target = "gpu";
  rep.config = c.name;
  rep.model = w.name;
  rep.training = w.training;
  rep.batch = w.batch;
  rep.clock_hz = c.sm_clock_hz;
  rep.dram_bandwidth = c.hbm_bandwidth;
  // The matrix peak of the precision most multiply-adds run in (utilization is against it).
  std::map<GpuPrecision, double> macs;
  for (const WorkOp& op : w.ops) macs[c.gemm_precision(op.input_dtype)] += op.macs();
  GpuPrecision main = GpuPrecision::kFp32;
  double most = 0;
  for (auto [p, m] : macs)
    if (m > most) main = p, most = m;
  rep.peak_flops = c.peak_flops(main);
  double overhead = 0;
  for (auto& [node, r] : cost_ops(w)) {
    rep.ops.push_back(std::move(r));
    overhead += c.launch_overhead_s;
  }
  rep.finalize();
  rep.figures["sm_count"] = static_cast<double>(c.sm_count);
  rep.figures["kernels"] = static_cast<double>(rep.ops.size());
  rep.figures["launch_overhead_s"] = overhead;
  if (rep.seconds > 0) rep.figures["power_w"] = rep.energy_j / rep.seconds;
  rep.figures["device_memory_bytes"] = static_cast<double>(c.hbm_bytes);
  rep.notes.push_back(fmt::format(
      "{} SMs at {:.0f} MHz; peak {} {:.1f} TFLOPS ({}){}; {} {:.0f} GB/s, {:.0f} GiB; L2 "
      "{:.0f} MiB; {:.1f} us per kernel launch",
      c.sm_count, c.sm_clock_hz / 1e6, gpu_precision_name(main), rep.peak_flops / 1e12,
      c.on_tensor_cores(main) ? "tensor cores" : "CUDA cores",
      main == GpuPrecision::kFp32 ? "" : fmt::format(", fp32 {:.1f}", c.fp32_flops / 1e12),
      c.hbm_name, c.hbm_bandwidth / 1e9, static_cast<double>(c.hbm_bytes) / kGiB,
      static_cast<double>(c.l2_bytes) / (1024.0 * 1024.0), c.launch_overhead_s * 1e6));
  rep.notes.push_back(fmt::format(
      "GEMMs in 128x128/128x64/64x64 tiles in waves over the SMs at {:.0f}% (tensor) / {:.0f}% "
      "(CUDA cores) of peak; other kernels at {:.0f}% of HBM bandwidth, or the L2's when their "
      "data fits in {:.0f}% of it; f32 matmuls {}",
      100 * c.tensor_efficiency, 100 * c.simt_efficiency, 100 * c.memory_efficiency,
      100 * c.l2_resident_fraction,
      c.allow_tf32 ? "on TF32 tensor cores" : "on the CUDA cores (no TF32)"));
  return rep;
}

SimReport GpuSimulator::simulate_graph(const Graph& graph, int64_t batch,
                                       const std::string& name) const {
  TS_CHECK(batch >= 1, ErrorKind::kInvalidArgument, "gpu simulate: batch must be >= 1, got {}",
           batch);
  Graph g = specialize(graph, batch);
  if (config_.fuse_elementwise)
    g = eliminate_dead_code(fuse_elementwise(eliminate_common_subexpressions(g)));
  SimReport rep = simulate(lower_to_workload(g, {.batch = batch, .name = name}));
  if (config_.fuse_elementwise)
    rep.notes.push_back(
        "costed after the backends' passes (common subexpressions, elementwise fusion): a "
        "fused elementwise chain is one kernel");
  // The step's memory: the planner's arena for intermediate values, plus every parameter,
  // constant (optimizer slots included) and input.
  double held = static_cast<double>(plan_memory(g).arena_bytes);
  for (const Node& n : g.nodes())
    if (op_info(n.op).op_class == OpClass::kLeaf)
      held += static_cast<double>(n.type.shape.numel() * n.type.dtype.size());
  rep.figures["memory_bytes"] = held;
  const double device = static_cast<double>(config_.hbm_bytes);
  if (held > device)
    rep.notes.push_back(
        fmt::format("warning: the step holds {} (parameters, optimizer state, inputs and the "
                    "activations' arena) but the {} has {}: it does not fit; lower the batch, use "
                    "mixed_bfloat16 or recompute",
                    gib_or_mib(held), config_.name, gib_or_mib(device)));
  else
    rep.notes.push_back(fmt::format("memory: the step holds {} of the device's {}",
                                    gib_or_mib(held), gib_or_mib(device)));
  return rep;
}

std::vector<NodeEstimate> GpuSimulator::estimate_nodes(const Graph& compiled) const {
  Workload w = lower_to_workload(compiled, {.batch = 1, .name = ""});
  std::vector<NodeEstimate> out;
  std::map<ValueId, size_t> index;
  for (auto& [node, r] : cost_ops(w)) {
    auto [it, fresh] = index.emplace(node, out.size());
    if (fresh) {
      NodeEstimate e;
      e.node = node;
      e.unit = r.unit;
      e.bound = r.bound;
      out.push_back(e);
    }
    NodeEstimate& e = out[it->second];
    e.seconds += r.seconds;
    e.flops += r.flops;
    for (const MemoryTraffic& t : r.traffic)
      if (t.level == "dram") e.dram_bytes += t.read_bytes + t.write_bytes;
  }
  return out;
}

std::unique_ptr<GpuSimulator> make_gpu_simulator(std::string_view spec) {
  return std::make_unique<GpuSimulator>(load_gpu_target(spec));
}

}  // namespace tessera::sim
