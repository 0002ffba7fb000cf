// The FPGA simulator: a fixed-point dataflow network (FixedNetwork) on a device at a clock,
// costed by the architecture model (fpga_estimate.h) and reported as a SimReport — one op
// per pipeline stage with its latency, the whole stream's time for a batch, resources
// against the device, power and energy. The FPGA target builds its network from the graph
// (not from a Workload), so simulate(Workload) is unsupported.
//
//   FpgaSimulator sim(fpga_device("xc7z020"), 100e6);
//   SimReport r = sim.simulate_network(net, /*batch=*/1000);
//   double fits = r.figures.at("fits");          // 1 or 0; r.notes say what does not fit
//   check_fits(sim.estimate(net));               // when a caller requires a fit
#pragma once

#include <memory>
#include <string_view>

#include "tessera/sim/fpga/fixed_network.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/fpga/fpga_device.h"
#include "tessera/sim/fpga/fpga_estimate.h"
#include "tessera/sim/simulator.h"

namespace tessera::sim {

class FpgaSimulator : public Simulator {
 public:
  // clock_hz 0: the device's typical clock. `io` is the interface style a network built
  // from a graph gets (a FixedNetwork carries its own io, which the estimate follows).
  explicit FpgaSimulator(FpgaDevice device, double clock_hz = 0, IoType io = IoType::kParallel,
                         FpgaCostModel model = {});

  std::string target() const override { return "fpga"; }
  std::string config_name() const override { return device_.name; }
  // No WorkOp runs directly: the FPGA costs a FixedNetwork built from the graph.
  bool supports(const WorkOp& op, std::string* reason) const override;
  // Throws Error(kUnsupported): the FPGA target builds its fixed-point network from the graph.
  SimReport simulate(const Workload& workload) const override;

  // `batch` samples streamed back to back. The report's ops are the stages: cycles = stage
  // latency, and the bottleneck stage (the largest II) also carries the (batch - 1) x II
  // cycles of the stream, so the total is latency + (batch - 1) x II.
  SimReport simulate_network(const FixedNetwork& net, int64_t batch) const;
  // The graph-level entry: converts the predict graph with the config (build_fixed_network;
  // `calibration` rows for profiled precisions) and costs the network.
  SimReport simulate_graph(const Graph& g, int64_t batch, const std::string& name) const override;
  void set_config(FpgaConfig config, Tensor calibration = {});
  const FpgaConfig& config() const { return config_; }
  NetworkEstimate estimate(const FixedNetwork& net) const;

  const FpgaDevice& device() const { return device_; }
  double clock_hz() const { return clock_hz_; }
  IoType io() const { return io_; }
  const FpgaCostModel& cost_model() const { return model_; }

 private:
  FpgaDevice device_;
  double clock_hz_;
  IoType io_;
  FpgaCostModel model_;
  FpgaConfig config_;
  Tensor calibration_;
};

// "" (xc7z020, hls4ml's defaults), a device preset name, or an hls4ml-style .yaml config
// (its Device, else xc7z020; its ClockPeriod sets the clock).
std::unique_ptr<FpgaSimulator> make_fpga_simulator(std::string_view spec);

}  // namespace tessera::sim
