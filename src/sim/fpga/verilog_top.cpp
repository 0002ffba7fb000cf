// write_verilog: the top module chaining the layer stages, the testbench and the file list.
#include <fmt/format.h>

#include <filesystem>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/verilog.h"
#include "verilog_internal.h"

namespace tessera::sim {
namespace {

bool same_bits(const FixedFormat& a, const FixedFormat& b) {
  return a.width == b.width && a.int_bits == b.int_bits && a.is_signed == b.is_signed;
}

std::string top_module(const FixedNetwork& net, const VerilogDesign& d) {
  std::string v = fmt::format(
      "// Network '{}': {} layers, {} -> {} values.\n"
      "// Latency {} cycles (valid_in in cycle c -> valid_out in cycle c + {}), II {} cycles.\n"
      "// Buses: value i in bits [i*W, (i+1)*W), raw two's complement.\n",
      net.name, net.layers.size(), net.inputs(), net.outputs(), d.latency, d.latency,
      d.initiation_interval);
  v += fmt::format(
      "module {} (\n  input wire clk,\n  input wire rst,\n  input wire valid_in,\n"
      "  input wire [{}:0] in_data,\n  output wire valid_out,\n  output wire [{}:0] out_data\n);\n",
      d.top, d.input_bits - 1, d.output_bits - 1);
  v += fmt::format("  wire v0 = valid_in;\n  wire [{}:0] d0 = in_data;\n", d.input_bits - 1);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const FixedLayer& l = net.layers[k];
    v += fmt::format("  wire v{};\n  wire [{}:0] d{};\n", k + 1, l.outputs() * l.result.width - 1,
                     k + 1);
    v += fmt::format(
        "  {} u{} (.clk(clk), .rst(rst), .valid_in(v{}), .in_data(d{}), .valid_out(v{}), "
        ".out_data(d{}));  // {} '{}', latency {}\n",
        d.modules[k], k, k, k, k + 1, k + 1, fixed_layer_kind_name(l.kind), l.name,
        d.stage_latency[k]);
  }
  const size_t n = net.layers.size();
  v += fmt::format("  assign valid_out = v{};\n  assign out_data = d{};\nendmodule\n", n, n);
  return v;
}

std::string testbench(const VerilogDesign& d) {
  return fmt::format(
      R"(`timescale 1ns / 1ps
// Testbench of {top}. Plusargs (all optional):
//   +in=<file>       samples, one per line: the flat input bus in hex (default inputs.hex),
//                    as words of CHUNK bits separated by spaces, most significant first
//   +out=<file>      results, one per line: "<latency> <flat output bus in hex>" (outputs.txt;
//                    the hex is written CHUNK bits at a time, with no spaces)
// (Simulators limit one $fscanf / $fwrite argument to 8192 bits, so wide buses go in words.)
//   +interval=<n>    cycles between samples (default {ii}, the network's II)
// Latency: cycles from the cycle valid_in is high to the cycle valid_out is high.
module tb;
  localparam IN_BITS = {in_bits};
  localparam OUT_BITS = {out_bits};
  localparam II = {ii};
  localparam LATENCY = {latency};
  localparam CHUNK = {chunk};
  localparam IN_CHUNKS = (IN_BITS + CHUNK - 1) / CHUNK;
  localparam OUT_CHUNKS = (OUT_BITS + CHUNK - 1) / CHUNK;
  reg clk = 1'b0;
  reg rst = 1'b1;
  reg valid_in = 1'b0;
  reg [IN_BITS-1:0] in_data = 0;
  wire valid_out;
  wire [OUT_BITS-1:0] out_data;
  {top} dut (.clk(clk), .rst(rst), .valid_in(valid_in), .in_data(in_data),
      .valid_out(valid_out), .out_data(out_data));

  always #5 clk = ~clk;

  integer fin, fout, status, interval, k, k2;
  reg [CHUNK-1:0] chunk;
  reg [IN_CHUNKS*CHUNK-1:0] in_buf;
  reg [OUT_CHUNKS*CHUNK-1:0] out_buf;
  integer sent = 0, received = 0, cycle = 0;
  integer issued [0:1023];  // cycles of the samples in flight
  reg [8*1024-1:0] in_path, out_path;

  // Both signals are sampled at the clock edge that ends their cycle.
  always @(posedge clk) begin
    if (valid_in) begin
      issued[sent % 1024] = cycle;
      sent = sent + 1;
    end
    if (valid_out) begin
      out_buf = 0;
      out_buf[OUT_BITS-1:0] = out_data;
      $fwrite(fout, "%0d ", cycle - issued[received % 1024]);
      for (k2 = OUT_CHUNKS - 1; k2 >= 0; k2 = k2 - 1) $fwrite(fout, "%h", out_buf[k2*CHUNK +: CHUNK]);
      $fwrite(fout, "\n");
      received = received + 1;
    end
    cycle = cycle + 1;
  end

  initial begin
    if (!$value$plusargs("in=%s", in_path)) in_path = "inputs.hex";
    if (!$value$plusargs("out=%s", out_path)) out_path = "outputs.txt";
    if (!$value$plusargs("interval=%d", interval)) interval = II;
    fin = $fopen(in_path, "r");
    if (fin == 0) begin
      $display("tb: cannot open %0s", in_path);
      $finish;
    end
    fout = $fopen(out_path, "w");
    repeat (2) @(negedge clk);
    rst = 1'b0;
    while (!$feof(fin)) begin
      status = 0;
      for (k = IN_CHUNKS - 1; k >= 0; k = k - 1) begin
        if ($fscanf(fin, "%h", chunk) == 1) status = status + 1;
        in_buf[k*CHUNK +: CHUNK] = chunk;
      end
      if (status == IN_CHUNKS) begin
        in_data = in_buf[IN_BITS-1:0];
        valid_in = 1'b1;
        @(negedge clk);
        valid_in = 1'b0;
        for (k = 1; k < interval; k = k + 1) @(negedge clk);
      end
    end
    k = 0;
    while (received < sent && k < LATENCY + 16) begin
      @(negedge clk);
      k = k + 1;
    end
    $fclose(fout);
    $display("tb: %0d samples in, %0d results out, %0d cycles", sent, received, cycle);
    $finish;
  end
endmodule
)",
      fmt::arg("top", d.top), fmt::arg("in_bits", d.input_bits), fmt::arg("out_bits", d.output_bits),
      fmt::arg("ii", d.initiation_interval), fmt::arg("latency", d.latency),
      fmt::arg("chunk", rtl::kTestbenchChunkBits));
}

}  // namespace

VerilogDesign describe_verilog(const FixedNetwork& net) {
  TS_CHECK(!net.layers.empty(), ErrorKind::kInvalidArgument, "fpga network '{}' has no layers",
           net.name);
  VerilogDesign d;
  const std::string base = rtl::identifier(net.name);
  d.top = base + "_top";
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const FixedLayer& l = net.layers[k];
    if (k > 0) {
      const FixedFormat& prev = net.layers[k - 1].result;
      TS_CHECK(same_bits(l.input, prev), ErrorKind::kInvalidArgument,
               "fpga layer '{}': its input format {} is not the previous layer's result {}",
               l.name, DType::fixed(l.input).name(), DType::fixed(prev).name());
      TS_CHECK(l.inputs() == net.layers[k - 1].outputs(), ErrorKind::kInvalidArgument,
               "fpga layer '{}': {} inputs but the previous layer gives {}", l.name, l.inputs(),
               net.layers[k - 1].outputs());
    }
    const rtl::StageTiming t = rtl::stage_timing(l);
    d.stage_latency.push_back(t.latency);
    d.latency += t.latency;
    d.initiation_interval = std::max(d.initiation_interval, t.ii);
    d.modules.push_back(fmt::format("{}_l{}_{}", base, k, rtl::identifier(l.name)));
    d.files.push_back(d.modules.back() + ".v");
  }
  d.files.push_back(d.top + ".v");
  d.input_width = net.layers.front().input.width;
  d.output_width = net.layers.back().result.width;
  d.input_bits = net.inputs() * d.input_width;
  d.output_bits = net.outputs() * d.output_width;
  return d;
}

VerilogDesign write_verilog(const FixedNetwork& net, const std::string& dir) {
  const VerilogDesign d = describe_verilog(net);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TS_CHECK(!ec, ErrorKind::kIo, "cannot create the Verilog directory '{}': {}", dir, ec.message());
  const std::string header = "// Generated by Tessera from the fixed-point network '" + net.name +
                             "'. Verilog-2005, synthesizable.\n";
  std::string file_list;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    write_file_atomic(dir + "/" + d.files[k],
                      header + rtl::layer_module(net.layers[k], d.modules[k]));
    file_list += d.files[k] + "\n";
  }
  write_file_atomic(dir + "/" + d.files.back(), header + top_module(net, d));
  file_list += d.files.back() + "\n";
  write_file_atomic(dir + "/files.f", file_list);
  write_file_atomic(dir + "/" + d.testbench, header + testbench(d));
  return d;
}

std::string testbench_inputs(const FixedNetwork& net,
                             const std::vector<std::vector<int64_t>>& inputs) {
  TS_CHECK(!net.layers.empty(), ErrorKind::kInvalidArgument, "fpga network '{}' has no layers",
           net.name);
  const FixedFormat& f = net.layers.front().input;
  const int64_t n = net.inputs();
  const __int128 one = 1;
  const __int128 lo = f.is_signed ? -(one << (f.width - 1)) : 0;
  const __int128 hi = f.is_signed ? (one << (f.width - 1)) - 1 : (one << f.width) - 1;
  std::string text;
  for (size_t s = 0; s < inputs.size(); ++s) {
    TS_CHECK(static_cast<int64_t>(inputs[s].size()) == n, ErrorKind::kInvalidArgument,
             "fpga network '{}': sample {} has {} values, expected {}", net.name, s,
             inputs[s].size(), n);
    for (size_t i = 0; i < inputs[s].size(); ++i) {
      const __int128 v = inputs[s][i];
      TS_CHECK(v >= lo && v <= hi, ErrorKind::kInvalidArgument,
               "fpga network '{}': sample {} value {} is {}, outside the raw range of {}",
               net.name, s, i, inputs[s][i], DType::fixed(f).name());
    }
    // Words of kTestbenchChunkBits, most significant first, as the testbench reads them.
    const int64_t digits_per_chunk = rtl::kTestbenchChunkBits / 4;
    const int64_t chunks = (n * f.width + rtl::kTestbenchChunkBits - 1) / rtl::kTestbenchChunkBits;
    std::string hex = rtl::bus_hex(inputs[s], f.width);
    hex.insert(0, static_cast<size_t>(chunks * digits_per_chunk) - hex.size(), '0');
    for (int64_t c = 0; c < chunks; ++c) {
      if (c > 0) text += ' ';
      text += hex.substr(static_cast<size_t>(c * digits_per_chunk),
                         static_cast<size_t>(digits_per_chunk));
    }
    text += '\n';
  }
  return text;
}

}  // namespace tessera::sim
