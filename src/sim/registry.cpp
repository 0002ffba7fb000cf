// make_simulator: the one place that knows every target (no static registration).
#include <fmt/core.h>

#include "tessera/core/error.h"
#include "tessera/sim/simulator.h"
#include "tessera/sim/asic/asic_simulator.h"
#include "tessera/sim/fpga/fpga_simulator.h"
#include "tessera/sim/gpu/gpu_simulator.h"
#include "tessera/sim/tpu/tpu_simulator.h"

namespace tessera::sim {

SimReport Simulator::simulate_graph(const Graph& g, int64_t batch, const std::string& name) const {
  return simulate(lower_to_workload(g, {.batch = batch, .name = name}));
}

std::vector<std::string> simulator_targets() { return {"tpu", "fpga", "asic", "gpu"}; }

std::unique_ptr<Simulator> make_simulator(const std::string& spec) {
  size_t colon = spec.find(':');
  std::string target = spec.substr(0, colon);
  std::string rest = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
  if (target == "tpu") return make_tpu_simulator(rest);
  if (target == "fpga") return make_fpga_simulator(rest);
  if (target == "asic") return make_asic_simulator(rest);
  if (target == "gpu") return make_gpu_simulator(rest);
  std::string known;
  for (const std::string& t : simulator_targets()) known += (known.empty() ? "" : ", ") + t;
  throw Error(ErrorKind::kNotFound,
              fmt::format("--target '{}': unknown target '{}' (known: {})", spec, target, known));
}

}  // namespace tessera::sim
