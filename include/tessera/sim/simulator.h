// The simulator contract: a target (a hardware config) that costs a lowered graph.
//
// A simulator says honestly which work it can run and returns a SimReport for a Workload.
// Simulators are created from a target spec — "tpu", "tpu:tpu-v4", "tpu:my_array.yaml",
// "tpu:scale.cfg" — by make_simulator(); there are no static constructors.
//
//   std::unique_ptr<Simulator> sim = make_simulator("tpu:tpu-v4");
//   SimReport r = sim->simulate(lower_to_workload(graph, {.batch = 1}));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessera/sim/report.h"
#include "tessera/sim/workload.h"

namespace tessera::sim {

class Simulator {
 public:
  virtual ~Simulator() = default;
  virtual std::string target() const = 0;       // "tpu"
  virtual std::string config_name() const = 0;  // "tpu-v4", "my_array.yaml"
  // Whether the target can run `op`; when not, `reason` says why.
  virtual bool supports(const WorkOp& op, std::string* reason) const = 0;
  // Throws Error(kUnsupported) naming the first op the target cannot run.
  virtual SimReport simulate(const Workload& workload) const = 0;
  // The graph-level entry (what the CLI calls): lowers `g` at `batch` with lower_to_workload
  // and calls simulate(). A target whose own lowering needs the graph itself (the FPGA's
  // fixed-point dataflow network) overrides it.
  virtual SimReport simulate_graph(const Graph& g, int64_t batch, const std::string& name) const;
};

// "<target>[:<preset | config file>]". Throws Error naming the spec and the known targets
// and presets when it names none.
std::unique_ptr<Simulator> make_simulator(const std::string& spec);
std::vector<std::string> simulator_targets();  // "tpu", …

}  // namespace tessera::sim
