// Synthesizable Verilog-2005 for a FixedNetwork: one module per layer, a top module
// `<name>_top` chaining them, and a testbench. The RTL computes exactly what
// FixedNetwork::run computes (every rounding and overflow mode, chain accumulation) under the
// hardware timing contract of docs/simulators/fpga.md: a dense stage with reuse factor R
// has latency and II R + 1, relu/linear 1, flatten 0; the network's latency is their sum and
// its II their maximum. Dense, relu, linear and flatten layers are generated.
//
//   write_verilog(net, "out/rtl");          // out/rtl/<name>_top.v, one file per layer, tb.v
//   VerilogDesign d = describe_verilog(net); // d.top, d.latency, d.input_bits, …
//
// Top ports: clk, rst (synchronous, active high), valid_in, in_data[inputs·W_in-1:0],
// valid_out, out_data[outputs·W_out-1:0]; value i of a bus lies in bits [i·W, (i+1)·W) as
// its raw two's-complement (ap_ufixed: plain binary) integer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {

// What write_verilog generates for a network (names, widths, timing); computed without
// writing anything. Throws Error naming the layer for a layer that cannot be generated.
struct VerilogDesign {
  std::string top;                     // top module name, "<name>_top"
  std::vector<std::string> modules;    // one per layer, in order
  std::vector<std::string> files;      // design files relative to the directory, top last
  std::string testbench = "tb.v";      // module `tb`
  int64_t input_bits = 0, output_bits = 0;
  int input_width = 0, output_width = 0;  // bits per value
  std::vector<int64_t> stage_latency;     // per layer
  int64_t latency = 0;                    // cycles from valid_in to valid_out
  int64_t initiation_interval = 1;        // cycles between accepted inputs
};
VerilogDesign describe_verilog(const FixedNetwork& net);

// Writes the design files and tb.v (and files.f, the design file list) into `dir`, creating
// it; every file atomically. Returns what describe_verilog returns.
VerilogDesign write_verilog(const FixedNetwork& net, const std::string& dir);

// The testbench's input file: one line per sample, the flat input bus in hex (value 0 in the
// least significant digits). Each sample holds net.inputs() raw values of the input format.
std::string testbench_inputs(const FixedNetwork& net,
                             const std::vector<std::vector<int64_t>>& inputs);

}  // namespace tessera::sim
