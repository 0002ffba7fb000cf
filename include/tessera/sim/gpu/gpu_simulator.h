// The GPU performance model: a Workload on a GpuConfig, kernel by kernel. A roofline with
// per-op efficiency: a GEMM is tiled (128x128, 128x64 or 64x64 output tiles, split-K for
// few tiles over a long reduction) and its tiles run in waves over the SMs at the
// precision's achievable peak; vector, normalization, softmax and reduction kernels move
// their bytes at the achievable HBM bandwidth, or the L2's when their working set fits
// there; a fused elementwise node is one kernel and attention one fused (flash-style)
// kernel; every kernel pays a launch overhead. docs/simulators/gpu.md describes the model.
//
//   GpuSimulator sim(gpu_preset("h100"));
//   SimReport r = sim.simulate_graph(model.train_graph(), /*batch=*/32, "gpt-tiny");
//   std::vector<NodeEstimate> e = sim.estimate_nodes(*executable.compiled_graph());
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/sim/gpu/gpu_config.h"
#include "tessera/sim/simulator.h"

namespace tessera::sim {

// How a GEMM runs: its output tiles, the waves they take over the SMs, and its time on the
// tensor or CUDA cores (memory not included).
struct GemmPlan {
  GpuPrecision precision = GpuPrecision::kFp32;
  bool tensor_cores = false;
  int64_t tile_m = 128, tile_n = 128;
  int64_t ctas_per_sm = 1;  // tiles one SM holds at once (they share its throughput)
  int64_t split_k = 1;      // slices of the reduction run as separate tiles (then summed)
  int64_t tiles = 0;        // batch x ceil(m / tile_m) x ceil(n / tile_n) x split_k
  int64_t waves = 0;        // ceil(tiles / (sm_count x ctas_per_sm))
  double efficiency = 0;    // the achievable fraction of peak for this tile and reduction
  // Useful MACs over those of ceil(tiles / sm_count) whole tiles on every SM: tile padding
  // and the unevenly filled last wave.
  double quantization = 0;
  // ceil(tiles / sm_count) tiles at the SM's peak x efficiency, plus the split-K reduction.
  double compute_seconds = 0;
  double split_k_bytes = 0;  // partial sums written and read back when split_k > 1
};

// The plan with the least time among the tile shapes and split-K factors.
GemmPlan plan_gemm(const GemmShape& gemm, GpuPrecision precision, const GpuConfig& config);

// The model's time for one node of a graph (the node's ops summed).
struct NodeEstimate {
  ValueId node = kNoValue;
  double seconds = 0;
  double flops = 0;
  double dram_bytes = 0;
  std::string unit;  // "tensor", "cuda-core", "memory"
  Bound bound = Bound::kNone;
};

class GpuSimulator : public Simulator {
 public:
  explicit GpuSimulator(GpuConfig config);
  std::string target() const override { return "gpu"; }
  std::string config_name() const override { return config_.name; }
  bool supports(const WorkOp& op, std::string* reason) const override;
  // Attention's three lowered ops ("<node>.qk", ".softmax", ".pv") are costed as one fused
  // kernel named after the node.
  SimReport simulate(const Workload& workload) const override;
  // Runs the backends' passes first (common subexpressions, elementwise fusion, dead code)
  // when the config fuses, and checks the step's memory (memory planner's arena plus
  // parameters and inputs) against the device's, with a warning note when it does not fit.
  SimReport simulate_graph(const Graph& g, int64_t batch, const std::string& name) const override;

  // Per node of a graph with static shapes as a backend compiled it (no passes run here), so
  // that the estimates match measured nodes one to one. Nodes without work are left out.
  std::vector<NodeEstimate> estimate_nodes(const Graph& compiled) const;

  const GpuConfig& config() const { return config_; }
  OpReport simulate_op(const WorkOp& op) const;

 private:
  OpReport gemm_op(const WorkOp& op) const;
  OpReport attention_op(const std::vector<const WorkOp*>& parts) const;
  OpReport vector_op(const WorkOp& op) const;
  OpReport memory_op(const WorkOp& op) const;
  // Time from compute and memory, the launch overhead, energy, cycles and the roofline.
  void finish_op(OpReport& r, double compute_s, double dram_bytes, double l2_bytes,
                 double peak) const;
  // Every op with work, attention's parts merged, with the node it came from.
  std::vector<std::pair<ValueId, OpReport>> cost_ops(const Workload& w) const;
  GpuConfig config_;
};

// "" (h100), a preset name or a .yaml config.
std::unique_ptr<GpuSimulator> make_gpu_simulator(std::string_view spec);

}  // namespace tessera::sim
