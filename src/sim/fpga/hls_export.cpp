// write_hls: the Vitis HLS project sources of a FixedNetwork (see hls_export.h).
#include "tessera/sim/fpga/hls_export.h"

#include <fmt/format.h>

#include <filesystem>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/verilog.h"
#include "verilog_internal.h"

namespace tessera::sim {
namespace {

const char* q_name(Rounding r) {
  switch (r) {
    case Rounding::kTruncate: return "AP_TRN";
    case Rounding::kTruncateZero: return "AP_TRN_ZERO";
    case Rounding::kHalfUp: return "AP_RND";
    case Rounding::kHalfZero: return "AP_RND_ZERO";
    case Rounding::kHalfAway: return "AP_RND_INF";
    case Rounding::kHalfDown: return "AP_RND_MIN_INF";
    case Rounding::kHalfEven: return "AP_RND_CONV";
  }
  return "AP_TRN";
}

const char* o_name(Overflow o) {
  switch (o) {
    case Overflow::kWrap: return "AP_WRAP";
    case Overflow::kSaturate: return "AP_SAT";
    case Overflow::kSaturateZero: return "AP_SAT_ZERO";
    case Overflow::kSymmetricSaturate: return "AP_SAT_SYM";
  }
  return "AP_WRAP";
}

std::string ap_type(const FixedFormat& f) {
  return fmt::format("{}<{},{},{},{}>", f.is_signed ? "ap_fixed" : "ap_ufixed", f.width, f.int_bits,
                     q_name(f.rounding), o_name(f.overflow));
}

// The exact value of a raw integer as a decimal literal (raw · 2^-frac is a finite decimal;
// a double holds it exactly for up to 53 significant bits, and %.17g round-trips it).
std::string literal(int64_t raw, const FixedFormat& f, const FixedLayer& l) {
  TS_CHECK(f.width <= 53, ErrorKind::kUnsupported,
           "fpga layer '{}': HLS export writes weights as double literals; {} bits are more than "
           "the 53 a double holds exactly",
           l.name, f.width);
  return fmt::format("{:.17g}", static_cast<double>(fixed_to_real(raw, f)));
}

std::string array(const std::string& type, const std::string& name, const std::vector<int64_t>& v,
                  const FixedFormat& f, const FixedLayer& l) {
  std::string s = fmt::format("static const {} {}[{}] = {{", type, name, v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    s += k % 8 == 0 ? "\n    " : " ";
    s += literal(v[k], f, l) + (k + 1 < v.size() ? "," : "");
  }
  return s + "};\n";
}

std::string layer_function(const FixedLayer& l, const std::string& id) {
  const int64_t n_in = l.inputs(), n_out = l.outputs();
  std::string s = fmt::format("// {} '{}': {} -> {} values.\n", fixed_layer_kind_name(l.kind), l.name,
                              n_in, n_out);
  s += fmt::format("static void {}(const {}_input_t x[{}], {}_result_t y[{}]) {{\n", id, id, n_in, id,
                   n_out);
  s += "#pragma HLS INLINE off\n";
  switch (l.kind) {
    case FixedLayerKind::kDense: {
      const int64_t r = l.reuse_factor, block = n_in * n_out / r;
      s += fmt::format("  // Reuse factor {}: {} multipliers, a new input every {} cycles.\n", r, block, r);
      s += fmt::format("#pragma HLS PIPELINE II={}\n", r);
      s += fmt::format("#pragma HLS ARRAY_PARTITION variable={}_w cyclic factor={}\n", id, block);
      s += fmt::format("#pragma HLS ARRAY_PARTITION variable={}_b complete\n", id);
      s += fmt::format("#pragma HLS ALLOCATION operation instances=mul limit={}\n", block);
      s += fmt::format("  {}_accum_t acc[{}];\n#pragma HLS ARRAY_PARTITION variable=acc complete\n", id,
                       n_out);
      s += fmt::format("  for (int j = 0; j < {}; j++) {{\n#pragma HLS UNROLL\n", n_out);
      s += l.biases.empty() ? "    acc[j] = 0;\n"
                            : fmt::format("    acc[j] = ({}_accum_t){}_b[j];\n", id, id);
      s += "  }\n";
      s += fmt::format("  // Each output adds its products in ascending i (a chain, as the RTL).\n");
      s += fmt::format("  for (int i = 0; i < {}; i++) {{\n#pragma HLS UNROLL factor={}\n", n_in, n_in / r);
      s += fmt::format("    for (int j = 0; j < {}; j++) {{\n#pragma HLS UNROLL\n", n_out);
      s += fmt::format("      acc[j] = ({}_accum_t)(acc[j] + ({}_accum_t)(x[i] * {}_w[i * {} + j]));\n",
                       id, id, id, n_out);
      s += "    }\n  }\n";
      s += fmt::format("  for (int j = 0; j < {}; j++) {{\n#pragma HLS UNROLL\n", n_out);
      s += fmt::format("    y[j] = ({}_result_t)acc[j];\n  }}\n", id);
      break;
    }
    case FixedLayerKind::kRelu:
    case FixedLayerKind::kLinear:
    case FixedLayerKind::kFlatten:
      s += "#pragma HLS PIPELINE II=1\n";
      s += fmt::format("  for (int i = 0; i < {}; i++) {{\n#pragma HLS UNROLL\n", n_in);
      if (l.kind == FixedLayerKind::kRelu)
        s += fmt::format("    y[i] = x[i] > 0 ? ({0}_result_t)x[i] : ({0}_result_t)0;\n", id);
      else
        s += fmt::format("    y[i] = ({}_result_t)x[i];\n", id);
      s += "  }\n";
      break;
    case FixedLayerKind::kConv2D:
    case FixedLayerKind::kMaxPool2D: TS_ASSERT(false);
  }
  return s + "}\n\n";
}

}  // namespace

void write_hls(const FixedNetwork& net, const std::string& dir) {
  const VerilogDesign d = describe_verilog(net);  // validates layers, formats and reuse factors
  const std::string base = rtl::identifier(net.name);
  std::vector<std::string> ids;
  for (size_t k = 0; k < net.layers.size(); ++k)
    ids.push_back(fmt::format("l{}_{}", k, rtl::identifier(net.layers[k].name)));
  const std::string out_t = ids.back() + "_result_t";

  std::string h = fmt::format(
      "// Vitis HLS sources of the fixed-point network '{name}', generated by Tessera.\n"
      "//\n"
      "// Files: {b}.h (types and the top function), {b}_weights.h (constants), {b}.cpp (one\n"
      "// function per layer and the top), {b}_tb.cpp (reads inputs.hex: one sample per line,\n"
      "// the flat input bus in hex, value 0 in the least significant digits; prints the\n"
      "// outputs as real numbers, one sample per line).\n"
      "// Vitis HLS: open_project {b}; set_top {b}; add_files {b}.cpp;\n"
      "//   add_files -tb {b}_tb.cpp; open_solution s; set_part <part>; csim_design; csynth_design\n"
      "// The RTL generator's timing for the same network: latency {lat} cycles, II {ii}.\n"
      "#pragma once\n\n#include <ap_fixed.h>\n\n",
      fmt::arg("name", net.name), fmt::arg("b", base), fmt::arg("lat", d.latency),
      fmt::arg("ii", d.initiation_interval));
  h += fmt::format("static const int N_INPUTS = {};\nstatic const int N_OUTPUTS = {};\n\n",
                   net.inputs(), net.outputs());
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const FixedLayer& l = net.layers[k];
    h += fmt::format("// {} '{}'\n", fixed_layer_kind_name(l.kind), l.name);
    h += fmt::format("typedef {} {}_input_t;\n", ap_type(l.input), ids[k]);
    if (l.kind == FixedLayerKind::kDense) {
      h += fmt::format("typedef {} {}_weight_t;\n", ap_type(l.weight), ids[k]);
      h += fmt::format("typedef {} {}_bias_t;\n", ap_type(l.bias), ids[k]);
      h += fmt::format("typedef {} {}_accum_t;\n", ap_type(l.accum), ids[k]);
    }
    h += fmt::format("typedef {} {}_result_t;\n\n", ap_type(l.result), ids[k]);
  }
  h += fmt::format("typedef {}_input_t input_t;\ntypedef {} output_t;\n\n", ids.front(), out_t);
  h += fmt::format("void {}(const input_t x[N_INPUTS], output_t y[N_OUTPUTS]);\n", base);

  std::string w = fmt::format("// Weights and biases of '{}' (exact values of the raw integers).\n"
                              "#pragma once\n\n#include \"{}.h\"\n\n",
                              net.name, base);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const FixedLayer& l = net.layers[k];
    if (l.kind != FixedLayerKind::kDense) continue;
    w += fmt::format("// '{}': [{}][{}] row-major (input i, output j at i * {} + j)\n", l.name,
                     l.inputs(), l.outputs(), l.outputs());
    w += array(ids[k] + "_weight_t", ids[k] + "_w", l.weights, l.weight, l);
    if (!l.biases.empty()) w += array(ids[k] + "_bias_t", ids[k] + "_b", l.biases, l.bias, l);
    w += "\n";
  }

  std::string c = fmt::format("// Layer functions and the top function of '{}'.\n#include \"{}.h\"\n"
                              "#include \"{}_weights.h\"\n\n",
                              net.name, base, base);
  for (size_t k = 0; k < net.layers.size(); ++k) c += layer_function(net.layers[k], ids[k]);
  c += fmt::format("void {}(const input_t x[N_INPUTS], output_t y[N_OUTPUTS]) {{\n", base);
  c += "#pragma HLS ARRAY_PARTITION variable=x complete\n"
       "#pragma HLS ARRAY_PARTITION variable=y complete\n";
  c += fmt::format("#pragma HLS PIPELINE II={}\n", d.initiation_interval);
  for (size_t k = 0; k + 1 < net.layers.size(); ++k) {
    c += fmt::format("  {}_result_t t{}[{}];\n#pragma HLS ARRAY_PARTITION variable=t{} complete\n",
                     ids[k], k, net.layers[k].outputs(), k);
  }
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const std::string in = k == 0 ? "x" : fmt::format("t{}", k - 1);
    const std::string out = k + 1 == net.layers.size() ? "y" : fmt::format("t{}", k);
    c += fmt::format("  {}({}, {});\n", ids[k], in, out);
  }
  c += "}\n";

  const int wi = d.input_width;
  std::string tb = fmt::format(
      R"(// Testbench of '{name}': reads the input file (argv[1], default inputs.hex; the format of the
// Verilog testbench), runs {base}() on each sample and prints its outputs, one line each.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "{base}.h"

int main(int argc, char** argv) {{
  std::ifstream in(argc > 1 ? argv[1] : "inputs.hex");
  std::string line;
  while (std::getline(in, line)) {{
    if (line.empty()) continue;
    input_t x[N_INPUTS];
    output_t y[N_OUTPUTS];
    for (int i = 0; i < N_INPUTS; i++) {{
      long long raw = 0;
      for (int b = {wi} - 1; b >= 0; b--) {{
        const long long bit = (long long)i * {wi} + b;
        const long long digit = (long long)line.size() - 1 - bit / 4;
        int nibble = 0;
        if (digit >= 0) {{
          const char ch = line[digit];
          nibble = ch >= 'a' ? ch - 'a' + 10 : ch >= 'A' ? ch - 'A' + 10 : ch - '0';
        }}
        raw = (raw << 1) | ((nibble >> (bit % 4)) & 1);
      }}
      x[i].range({wi} - 1, 0) = raw;
    }}
    {base}(x, y);
    for (int j = 0; j < N_OUTPUTS; j++) std::cout << (j ? " " : "") << y[j].to_double();
    std::cout << "\n";
  }}
  return 0;
}}
)",
      fmt::arg("name", net.name), fmt::arg("base", base), fmt::arg("wi", wi));

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TS_CHECK(!ec, ErrorKind::kIo, "cannot create the HLS directory '{}': {}", dir, ec.message());
  write_file_atomic(dir + "/" + base + ".h", h);
  write_file_atomic(dir + "/" + base + "_weights.h", w);
  write_file_atomic(dir + "/" + base + ".cpp", c);
  write_file_atomic(dir + "/" + base + "_tb.cpp", tb);
}

}  // namespace tessera::sim
