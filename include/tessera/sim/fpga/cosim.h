// Co-simulation of the generated Verilog with Verilator: writes the design and testbench
// (write_verilog), builds them (`verilator --binary`), feeds the samples one network II
// apart, and reads back every result and the latency the testbench measured, so tests can
// compare them with FixedNetwork::run and the timing contract.
//
//   CosimResult r = run_verilator(net, {net.quantize_input(x0), net.quantize_input(x1)}, "out/cosim");
//   EXPECT_EQ(r.outputs[0], net.run(…));  EXPECT_EQ(r.latencies[0], r.expected_latency);
//
// Throws Error(kNotFound) when verilator is not installed (scripts/install-deps.sh installs
// it) and Error(kIo) with the tail of its output when building or running fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {

struct CosimResult {
  // Per sample: the last layer's raw results (its result format, sign-extended when signed).
  std::vector<std::vector<int64_t>> outputs;
  std::vector<int64_t> latencies;   // per sample: measured cycles from valid_in to valid_out
  int64_t expected_latency = 0;     // the contract's (describe_verilog)
  int64_t initiation_interval = 1;  // the samples were fed this many cycles apart
  double build_seconds = 0, run_seconds = 0;
  std::string work_dir;             // rtl/ (the design), obj_dir/, inputs.hex, outputs.txt, logs
};

// True when `verilator` is on PATH.
bool verilator_available();

CosimResult run_verilator(const FixedNetwork& net, const std::vector<std::vector<int64_t>>& inputs,
                          const std::string& work_dir);

}  // namespace tessera::sim
