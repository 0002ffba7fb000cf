// C++ for Vitis HLS from a FixedNetwork, hls4ml-style: ap_fixed<W,I,Q,O> typedefs per layer
// (weight, bias, accum, result), weights and biases as const arrays, one function per layer
// with `#pragma HLS PIPELINE II=<R>`, `UNROLL factor=<n_in/R>` and `ARRAY_PARTITION` following
// its reuse factor, a top function, and a testbench main that reads the Verilog testbench's
// input file (one hex bus per line) and prints the outputs. The arithmetic is written so that
// ap_fixed computes exactly what FixedNetwork::run computes:
//   acc = accum_t(bias); acc = accum_t(acc + accum_t(x[i] * w[i][j])); y = result_t(acc).
//
//   write_hls(net, "out/hls");   // <name>.h, <name>.cpp, <name>_weights.h, <name>_tb.cpp
//
// Dense, relu, linear and flatten layers; weights up to 53 bits wide (written as exact
// decimal literals).
#pragma once

#include <string>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {

void write_hls(const FixedNetwork& net, const std::string& dir);

}  // namespace tessera::sim
