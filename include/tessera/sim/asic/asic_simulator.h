// The ASIC simulator: a whole Workload on an accelerator Architecture. Every conv and GEMM
// (attention's two products included) becomes a 7-D loop nest, the mapper searches its
// mappings for the objective (energy, delay or EDP) within a trial or time budget, and the
// best mapping is evaluated Timeloop-style (accesses per level, cycles, energy). Identical
// layers are mapped once. Vector work runs on a vector unit with one lane per PE and
// streams its operands from DRAM and back (a DRAM-bound pass); data movement is a DRAM
// copy. The formulas are in docs/simulators/asic.md ("Simulating a model").
//
//   std::unique_ptr<AsicSimulator> sim = make_asic_simulator("eyeriss");
//   AsicRun run = sim->run(lower_to_workload(model.predict_graph(), {.batch = 1}));
//   fmt::print("{}", format_report(run.report));
//   for (const AsicLayer& l : run.layers) fmt::print("{}\n", l.nest.str());
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/sim/asic/mapper.h"
#include "tessera/sim/simulator.h"

namespace tessera::sim {

struct AsicSimulatorOptions {
  // Objective, trials per distinct layer, seed, threads. Its time_limit_s is per layer.
  MapperOptions mapper;
  // When positive: the whole workload's mapping time, split evenly over its distinct
  // layers (each then samples until its share runs out); replaces mapper.max_trials.
  double time_budget_s = 0;
};

// One distinct layer shape and the mapping the mapper chose for one copy of it.
struct AsicLayer {
  LoopNest nest;                 // named after the first op that has this shape
  std::vector<std::string> ops;  // every op mapped with it
  MapperResult mapper;           // mapping, evaluation of one copy (repeat 1), search stats
};

struct AsicRun {
  SimReport report;
  std::vector<AsicLayer> layers;  // in order of first appearance
};

class AsicSimulator : public Simulator {
 public:
  explicit AsicSimulator(Architecture arch, AsicSimulatorOptions options = {});
  std::string target() const override { return "asic"; }
  std::string config_name() const override { return evaluator_.arch().name; }
  // Matrix, vector and memory work of any phase. Not: a GEMM whose integer operands are
  // wider than the MACs (it cannot be computed exactly; float operands are taken as
  // quantized to the MAC precision), or one whose shape is not a valid loop nest.
  bool supports(const WorkOp& op, std::string* reason) const override;
  SimReport simulate(const Workload& workload) const override { return run(workload).report; }
  // simulate() with the chosen mapping of every distinct layer.
  AsicRun run(const Workload& workload) const;

  const Architecture& arch() const { return evaluator_.arch(); }
  const AsicSimulatorOptions& options() const { return options_; }
  void set_options(AsicSimulatorOptions options) { options_ = std::move(options); }

  // The nest an op maps as: a forward conv's 7-D nest; the conv gradients' im2col GEMMs
  // (their dataspaces are not the forward conv's); a matmul's GEMM.
  static LoopNest nest_of(const WorkOp& op);

 private:
  AsicEvaluator evaluator_;
  AsicSimulatorOptions options_;
};

// "" (eyeriss), a preset name or an architecture .yaml / .yml.
std::unique_ptr<AsicSimulator> make_asic_simulator(std::string_view spec,
                                                   AsicSimulatorOptions options = {});
Architecture load_asic_target(std::string_view spec);

// One line per level with its non-unit factors: "DRAM: K4 C2 | shared_glb: P2 X[P13] Y[R3]".
std::string mapping_summary(const Mapping& m, const Architecture& arch);
// The layers as JSON: nest, ops, mapping (summary and Timeloop-like listing), cycles,
// energy, pJ/MAC, utilization and the search statistics.
nlohmann::json asic_layers_to_json(const std::vector<AsicLayer>& layers,
                                   const Architecture& arch);

}  // namespace tessera::sim
