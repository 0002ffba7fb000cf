// The TPU simulator: a Workload on a TpuConfig. GEMMs (matmuls, convolutions as im2col,
// attention's two products) run on the matrix units through the systolic-array engines
// (cycle-level or analytic, per the config's fidelity), split across the MXUs the way that
// finishes first; elementwise, reduction, softmax and normalization work runs on the vector
// unit; data movement streams through on-chip memory or DRAM. Energy is actions times
// per-action energy plus static power times time.
//
//   TpuSimulator sim(tpu_preset("tpu-v4"));
//   SimReport r = sim.simulate(lower_to_workload(model.predict_graph(), {.batch = 1}));
#pragma once

#include <memory>
#include <string_view>

#include "tessera/sim/simulator.h"
#include "tessera/sim/tpu/scalesim.h"
#include "tessera/sim/tpu/tpu_config.h"

namespace tessera::sim {

// How a GEMM is spread over the matrix units.
enum class MxuSplit : uint8_t { kBatch, kRows, kColumns };
const char* mxu_split_name(MxuSplit s);  // "batch", "m", "n"

struct MxuMapping {
  MxuSplit split = MxuSplit::kRows;
  int64_t units_used = 1;
  int64_t repeats = 1;       // GEMMs each unit runs one after another (batched products)
  GemmShape per_unit;        // the product one unit computes per repeat (batch 1)
  GemmStats stats;           // of one unit for one repeat
};

class TpuSimulator : public Simulator {
 public:
  explicit TpuSimulator(TpuConfig config);
  std::string target() const override { return "tpu"; }
  std::string config_name() const override { return config_.name; }
  bool supports(const WorkOp& op, std::string* reason) const override;
  SimReport simulate(const Workload& workload) const override;

  const TpuConfig& config() const { return config_; }
  // The split of `gemm` over the MXUs with the fewest cycles, costed at `fidelity`.
  MxuMapping map_gemm(const GemmShape& gemm, Fidelity fidelity) const;
  OpReport simulate_op(const WorkOp& op) const;

 private:
  OpReport gemm_op(const WorkOp& op) const;
  OpReport vector_op(const WorkOp& op) const;
  OpReport memory_op(const WorkOp& op) const;
  void finish_op(OpReport& r, double dram_bytes) const;  // seconds, static energy, roofline
  TpuConfig config_;
};

// A SCALE-Sim config as a TPU: one array with its SRAMs and one-byte words (int8), a 1 GHz
// clock (SCALE-Sim counts cycles only), DRAM at 3 x Bandwidth words per cycle in USER mode
// and unlimited (1 PB/s) in CALC mode; the vector unit and energies of tpu-v4.
TpuConfig tpu_config_from_scalesim(const ScaleSimConfig& cfg, const std::string& source);

// "" (tpu-v4), a preset name, a .yaml config or a SCALE-Sim .cfg.
std::unique_ptr<TpuSimulator> make_tpu_simulator(std::string_view spec);
TpuConfig load_tpu_target(std::string_view spec);

}  // namespace tessera::sim
