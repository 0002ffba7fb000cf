// The Verilog module of each layer kind, following the hardware timing contract:
//   dense      valid_in in cycle c: the input is registered; cycles c+1 … c+R do passes
//              t = 0 … R-1 (each output adds inputs [t·S, (t+1)·S), S = n_in / R, as a
//              chain in ascending i); cycle c+R+1 holds result(acc) with valid_out.
//              Latency = II = R + 1.
//   relu/linear a register: latency 1, II 1.
//   flatten    wires: latency 0.
// Weights are constants (Latency strategy) or a ROM read one pass-word per cycle (Resource
// strategy with R > 1), the word of pass t being read in the cycle before it.
#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "tessera/core/error.h"
#include "verilog_internal.h"

namespace tessera::sim::rtl {
namespace {

int bits_for(int64_t values) {  // bits of a counter over 0 … values-1 (at least 1)
  int b = 1;
  while ((int64_t{1} << b) < values) ++b;
  return b;
}

// A bus constant of `values` fields of `width` bits.
std::string bus_constant(const std::vector<int64_t>& values, int width) {
  return fmt::format("{}'h{}", static_cast<int64_t>(values.size()) * width, bus_hex(values, width));
}

std::string ports(const FixedLayer& l, const std::string& module_name, bool registered) {
  const int64_t in_bits = l.inputs() * l.input.width, out_bits = l.outputs() * l.result.width;
  const char* out_kind = registered ? "output reg" : "output wire";
  return fmt::format(
      "module {} (\n  input wire clk,\n  input wire rst,\n  input wire valid_in,\n"
      "  input wire [{}:0] in_data,\n  {} valid_out,\n  {} [{}:0] out_data\n);\n",
      module_name, in_bits - 1, out_kind, out_kind, out_bits - 1);
}

std::string format_name(const FixedFormat& f) { return DType::fixed(f).name(); }

// `reg [field-1:0] target` = field `pass` of `bus` (fields of `field` bits, R of them), as a
// case over the pass counter: an R:1 mux per bit whatever the field width. Counter values
// past R-1 never occur; they select the last field (the default) so the mux has exactly
// R inputs; when R is a power of two the case is full and needs no default.
std::string pass_select(const std::string& target, const std::string& bus, int64_t field,
                        int64_t r, int pb) {
  std::string v = fmt::format("  always @* begin\n    case (pass)\n");
  for (int64_t t = 0; t < r; ++t) {
    const bool last = t == r - 1;
    const std::string label =
        last && (int64_t{1} << pb) != r ? std::string("default") : constant(pb, t, false);
    v += fmt::format("      {}: {} = {}[{} +: {}];\n", label, target, bus, t * field, field);
  }
  return v + "    endcase\n  end\n";
}

std::string dense_module(const FixedLayer& l, const std::string& module_name) {
  const int64_t n_in = l.inputs(), n_out = l.outputs(), r = l.reuse_factor, s_per = n_in / r;
  const FixedFormat &x = l.input, &w = l.weight, &acc = l.accum, &res = l.result;
  const bool rom = r > 1 && l.strategy == Strategy::kResource;
  const int xs = signed_width(x), ws = signed_width(w), pw = xs + ws;
  const int wa = acc.width, ss = wa + 2;
  const int64_t word = s_per * n_out * w.width;  // the weights of one pass
  const int pb = bits_for(r);

  std::string v = fmt::format(
      "// dense layer '{}': {} -> {}, reuse factor {} ({} multipliers), {} strategy.\n"
      "// input {}, weight {}, bias {}, accum {}, result {}.\n"
      "// Latency {} cycles, II {}: valid_in in cycle c registers the input; cycles c+1 … c+{}\n"
      "// are the passes; cycle c+{} holds the result with valid_out.\n",
      l.name, n_in, n_out, r, s_per * n_out, rom ? "Resource (weight ROM)" : "Latency (constant weights)",
      format_name(x), format_name(w), format_name(l.bias), format_name(acc), format_name(res),
      r + 1, r + 1, r, r + 1);
  v += ports(l, module_name, true);
  v += requant_function("rq_prod", pw, x.frac_bits() + w.frac_bits(),
                        !x.is_signed && !w.is_signed, acc);
  v += requant_function("rq_sum", ss, acc.frac_bits(), !acc.is_signed, acc);
  v += requant_function("rq_out", signed_width(acc), acc.frac_bits(), !acc.is_signed, res);

  // accum(bias) per output: the accumulator's start value, computed here as the reference does.
  std::vector<int64_t> acc0(static_cast<size_t>(n_out), 0);
  if (!l.biases.empty())
    for (int64_t j = 0; j < n_out; ++j)
      acc0[static_cast<size_t>(j)] = requantize_fixed(l.biases[static_cast<size_t>(j)], l.bias, acc);
  v += fmt::format("  localparam [{}:0] ACC0 = {};\n", n_out * wa - 1, bus_constant(acc0, wa));

  // Pass words: word t holds w[t·S + s][j] at field s·n_out + j.
  std::vector<std::vector<int64_t>> words(static_cast<size_t>(r));
  for (int64_t t = 0; t < r; ++t)
    for (int64_t s = 0; s < s_per; ++s)
      for (int64_t j = 0; j < n_out; ++j)
        words[static_cast<size_t>(t)].push_back(l.weights[static_cast<size_t>((t * s_per + s) * n_out + j)]);

  v += fmt::format("  reg [{}:0] x_reg;\n  reg busy;\n  reg [{}:0] pass;\n", n_in * x.width - 1, pb - 1);
  v += fmt::format("  reg [{}:0] acc;\n  reg [{}:0] acc_next;\n  reg [{}:0] out_next;\n",
                   n_out * wa - 1, n_out * wa - 1, n_out * res.width - 1);
  if (rom) {
    v += fmt::format("  // One word per pass; read in the cycle before the pass uses it.\n");
    v += fmt::format("  reg [{}:0] rom [0:{}];\n  reg [{}:0] w_pass;\n  initial begin\n", word - 1,
                     r - 1, word - 1);
    for (int64_t t = 0; t < r; ++t)
      v += fmt::format("    rom[{}] = {};\n", t, bus_constant(words[static_cast<size_t>(t)], w.width));
    v += "  end\n";
    v += fmt::format(
        "  always @(posedge clk) begin\n    if (valid_in) w_pass <= rom[0];\n"
        "    else if (busy && pass != {}) w_pass <= rom[pass + 1];\n  end\n",
        constant(pb, r - 1, false));
  } else {
    std::vector<int64_t> all;
    for (const auto& wd : words) all.insert(all.end(), wd.begin(), wd.end());
    v += fmt::format("  localparam [{}:0] W_ALL = {};\n", r * word - 1, bus_constant(all, w.width));
    if (r == 1)
      v += fmt::format("  wire [{}:0] w_pass = W_ALL;\n", word - 1);
    else if (std::has_single_bit(static_cast<uint64_t>(word)))
      v += fmt::format("  wire [{}:0] w_pass = W_ALL[pass * {} +: {}];\n", word - 1, word, word);
    else
      v += fmt::format("  reg [{}:0] w_pass;\n", word - 1) + pass_select("w_pass", "W_ALL", word, r, pb);
  }
  // The pass's S inputs. An indexed part-select whose offset is the pass counter times a
  // power of two is a shift of the counter: Yosys makes it the R:1 mux per bit the model
  // prices (and on the sweep's R = 8 … 64 designs it took 3–18% fewer ECP5 LUTs than the
  // case form). With any other stride (W = 12) it becomes a general shifter over the whole
  // input bus, so those widths get an explicit case over the passes instead.
  const bool x_shift = std::has_single_bit(static_cast<uint64_t>(x.width)) &&
                       std::has_single_bit(static_cast<uint64_t>(s_per * x.width));
  if (r > 1 && !x_shift) {
    v += fmt::format("  reg [{}:0] x_pass;\n", s_per * x.width - 1);
    v += pass_select("x_pass", "x_reg", s_per * x.width, r, pb);
  }

  // The passes' arithmetic: a chain per output, exactly the reference's order.
  v += fmt::format(
      "  integer j, s;\n  reg [{}:0] a;\n  reg [{}:0] pq;\n  reg signed [{}:0] xv;\n"
      "  reg signed [{}:0] wv;\n  reg signed [{}:0] p;\n  reg signed [{}:0] sum;\n",
      wa - 1, wa - 1, xs - 1, ws - 1, pw - 1, ss - 1);
  const bool x_case = r > 1 && !x_shift;
  const std::string x_bus = x_case ? "x_pass" : "x_reg";
  const std::string x_index = r == 1 || x_case ? fmt::format("s * {}", x.width)
                                               : fmt::format("(pass * {} + s) * {}", s_per, x.width);
  auto extend2 = [&](const std::string& name) {
    return acc.is_signed ? fmt::format("{{{}[{}], {}[{}], {}}}", name, wa - 1, name, wa - 1, name)
                         : fmt::format("{{2'b00, {}}}", name);
  };
  v += fmt::format("  always @* begin\n    for (j = 0; j < {}; j = j + 1) begin\n", n_out);
  v += fmt::format("      a = acc[j * {} +: {}];\n", wa, wa);
  v += fmt::format("      for (s = 0; s < {}; s = s + 1) begin\n", s_per);
  v += fmt::format("        xv = {};\n", to_signed(fmt::format("{}[{} +: {}]", x_bus, x_index, x.width), x));
  v += fmt::format("        wv = {};\n",
                   to_signed(fmt::format("w_pass[(s * {} + j) * {} +: {}]", n_out, w.width, w.width), w));
  v += "        p = xv * wv;\n        pq = rq_prod(p);\n";
  v += fmt::format("        sum = {} + {};\n", extend2("a"), extend2("pq"));
  v += "        a = rq_sum(sum);\n      end\n";
  v += fmt::format("      acc_next[j * {} +: {}] = a;\n", wa, wa);
  v += fmt::format("      out_next[j * {} +: {}] = rq_out({});\n    end\n  end\n", res.width,
                   res.width, to_signed("a", acc));

  v += fmt::format(
      "  always @(posedge clk) begin\n"
      "    if (rst) begin\n      busy <= 1'b0;\n      valid_out <= 1'b0;\n      pass <= 0;\n"
      "    end else begin\n      valid_out <= 1'b0;\n"
      "      if (valid_in) begin  // the contract never feeds a busy stage\n"
      "        x_reg <= in_data;\n        acc <= ACC0;\n        pass <= 0;\n        busy <= 1'b1;\n"
      "      end else if (busy) begin\n        acc <= acc_next;\n"
      "        if (pass == {}) begin\n          busy <= 1'b0;\n          out_data <= out_next;\n"
      "          valid_out <= 1'b1;\n        end else begin\n          pass <= pass + 1'b1;\n"
      "        end\n      end\n    end\n  end\nendmodule\n",
      constant(pb, r - 1, false));
  return v;
}

// relu and linear: out = result(f(x)) registered.
std::string activation_module(const FixedLayer& l, const std::string& module_name) {
  const bool relu = l.kind == FixedLayerKind::kRelu;
  const FixedFormat &x = l.input, &res = l.result;
  const int xs = signed_width(x);
  std::string v = fmt::format("// {} layer '{}': {} values, {} -> {}. Latency 1 cycle, II 1.\n",
                              relu ? "relu" : "linear", l.name, l.inputs(), format_name(x),
                              format_name(res));
  v += ports(l, module_name, true);
  v += requant_function("rq_out", xs, x.frac_bits(), !x.is_signed, res);
  v += fmt::format("  integer i;\n  reg signed [{}:0] xv;\n  reg [{}:0] out_next;\n", xs - 1,
                   l.outputs() * res.width - 1);
  v += fmt::format("  always @* begin\n    for (i = 0; i < {}; i = i + 1) begin\n", l.inputs());
  v += fmt::format("      xv = {};\n", to_signed(fmt::format("in_data[i * {} +: {}]", x.width, x.width), x));
  if (relu) v += fmt::format("      if (xv[{}]) xv = 0;  // x > 0 ? x : 0\n", xs - 1);
  v += fmt::format("      out_next[i * {} +: {}] = rq_out(xv);\n    end\n  end\n", res.width,
                   res.width);
  v += "  always @(posedge clk) begin\n    valid_out <= rst ? 1'b0 : valid_in;\n"
       "    if (valid_in) out_data <= out_next;\n  end\nendmodule\n";
  return v;
}

std::string flatten_module(const FixedLayer& l, const std::string& module_name) {
  std::string v = fmt::format("// flatten layer '{}': wires, latency 0.\n", l.name);
  v += ports(l, module_name, false);
  v += "  assign valid_out = valid_in;\n  assign out_data = in_data;\n"
       "  wire unused = &{1'b0, clk, rst};\nendmodule\n";
  return v;
}

}  // namespace

std::string bus_hex(const std::vector<int64_t>& values, int width) {
  const int64_t total = static_cast<int64_t>(values.size()) * width;
  std::string hex;
  hex.reserve(static_cast<size_t>((total + 3) / 4));
  // From the most significant nibble down: nibble d holds bits [4d, 4d + 3].
  for (int64_t d = (total + 3) / 4 - 1; d >= 0; --d) {
    unsigned nibble = 0;
    for (int b = 3; b >= 0; --b) {
      const int64_t bit = 4 * d + b;
      unsigned v = 0;
      if (bit < total) {
        const auto w = static_cast<uint64_t>(values[static_cast<size_t>(bit / width)]);
        v = static_cast<unsigned>((w >> (bit % width)) & 1u);
      }
      nibble = (nibble << 1) | v;
    }
    hex += "0123456789abcdef"[nibble];
  }
  return hex;
}

StageTiming stage_timing(const FixedLayer& l) {
  switch (l.kind) {
    case FixedLayerKind::kDense: {
      const int64_t n_in = l.inputs(), n_out = l.outputs(), r = l.reuse_factor;
      TS_CHECK(r >= 1 && n_in % r == 0, ErrorKind::kInvalidArgument,
               "fpga layer '{}': reuse factor {} does not divide the layer's {} inputs (divisors "
               "of {} are allowed)",
               l.name, r, n_in, n_in);
      TS_CHECK(static_cast<int64_t>(l.weights.size()) == n_in * n_out, ErrorKind::kInvalidArgument,
               "fpga layer '{}': {} weights, expected {} x {} = {}", l.name, l.weights.size(), n_in,
               n_out, n_in * n_out);
      TS_CHECK(l.biases.empty() || static_cast<int64_t>(l.biases.size()) == n_out,
               ErrorKind::kInvalidArgument, "fpga layer '{}': {} biases, expected {}", l.name,
               l.biases.size(), n_out);
      return {.latency = r + 1, .ii = r + 1};
    }
    case FixedLayerKind::kRelu:
    case FixedLayerKind::kLinear:
      TS_CHECK(l.inputs() == l.outputs(), ErrorKind::kInvalidArgument,
               "fpga layer '{}': {} inputs but {} outputs", l.name, l.inputs(), l.outputs());
      return {.latency = 1, .ii = 1};
    case FixedLayerKind::kFlatten:
      TS_CHECK(l.inputs() == l.outputs() && l.input.width == l.result.width,
               ErrorKind::kInvalidArgument,
               "fpga layer '{}': a flatten must keep its {} values of {} bits (got {} of {} bits)",
               l.name, l.inputs(), l.input.width, l.outputs(), l.result.width);
      return {.latency = 0, .ii = 1};
    case FixedLayerKind::kConv2D:
    case FixedLayerKind::kMaxPool2D:
      break;
  }
  throw Error(ErrorKind::kUnsupported,
              fmt::format("fpga layer '{}': the Verilog generator has no {} stage yet (dense, relu, "
                          "linear and flatten are generated)",
                          l.name, fixed_layer_kind_name(l.kind)));
}

std::string layer_module(const FixedLayer& l, const std::string& module_name) {
  stage_timing(l);  // validates
  switch (l.kind) {
    case FixedLayerKind::kDense: return dense_module(l, module_name);
    case FixedLayerKind::kRelu:
    case FixedLayerKind::kLinear: return activation_module(l, module_name);
    case FixedLayerKind::kFlatten: return flatten_module(l, module_name);
    case FixedLayerKind::kConv2D:
    case FixedLayerKind::kMaxPool2D: break;
  }
  TS_ASSERT(false);
  return {};
}

}  // namespace tessera::sim::rtl
