// The FPGA architecture model: timing per the hardware contract, resources for what the
// generated Verilog synthesizes to, fit against the device, power. The formulas are written
// out in docs/simulators/fpga.md; every coefficient comes from FpgaCostModel or
// FpgaDevice so calibration against Yosys touches no formula.
#include "tessera/sim/fpga/fpga_estimate.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int64_t bits_for(int64_t n) {  // bits of a counter holding 0 … n
  int64_t b = 1;
  while ((int64_t{1} << b) <= n) ++b;
  return b;
}

// LUT counts are computed in LUT6-equivalents and scaled to the device's LUT size.
int64_t luts(double lut6, const FpgaDevice& d) {
  return static_cast<int64_t>(std::ceil(lut6 * d.luts_per_lut6 - 1e-9));
}

// Data inputs one LUT muxes: s select + 2^s data inputs fit a k-input LUT (LUT6: 4, LUT4: 2).
int64_t mux_data_per_lut(const FpgaDevice& d) {
  int64_t s = 1;
  while (s + 1 + (int64_t{1} << (s + 1)) <= d.lut_inputs) ++s;
  return int64_t{1} << s;
}

// LUTs per bit of an n:1 mux (a tree of LUT muxes).
int64_t mux_luts_per_bit(int64_t n, const FpgaDevice& d) {
  return n <= 1 ? 0 : ceil_div(n - 1, mux_data_per_lut(d) - 1);
}

// Entries one LUT holds as a distributed ROM (2^k).
int64_t rom_entries_per_lut(const FpgaDevice& d) { return int64_t{1} << d.lut_inputs; }

bool dsp_eligible(int a, int b, const FpgaDevice& d) {
  return a >= d.dsp_min_operand_width && b >= d.dsp_min_operand_width &&
         a + b >= d.dsp_min_product_width;
}

// DSPs of an a x b product split into the device's A x B multipliers (the cheaper operand
// assignment; mul2dsp splits wide operands into tiles).
int64_t dsp_tiles(int a, int b, const FpgaDevice& d) {
  const int64_t one = ceil_div(a, d.dsp_a_width) * ceil_div(b, d.dsp_b_width);
  const int64_t other = ceil_div(b, d.dsp_a_width) * ceil_div(a, d.dsp_b_width);
  return std::min(one, other);
}

struct MultCost {
  int64_t dsp = 0;
  double lut6 = 0;
  enum Kind { kFree, kDsp, kLut } kind = kFree;
};

// x (a bits) times the constant c: zero and powers of two are wires; otherwise DSPs when
// the model sends constant products there and the widths qualify, else shift-add logic with
// one adder per extra nonzero bit.
MultCost constant_product(int a, int64_t c, const FpgaDevice& d, const FpgaCostModel& m) {
  MultCost r;
  if (c == 0) return r;
  const uint64_t mag = c < 0 ? static_cast<uint64_t>(-(c + 1)) + 1 : static_cast<uint64_t>(c);
  if (std::has_single_bit(mag)) {
    if (c > 0) return r;
    r.kind = MultCost::kLut;  // a negated shift
    r.lut6 = m.adder_luts_per_bit * a;
    return r;
  }
  const int b = signed_bits(c);
  if (m.constant_products_in_dsp && dsp_eligible(a, b, d)) {
    r.kind = MultCost::kDsp;
    r.dsp = dsp_tiles(a, b, d);
    return r;
  }
  r.kind = MultCost::kLut;
  r.lut6 = m.const_mult_luts_per_bit * (binary_nonzero_bits(c) - 1 + (c < 0 ? 1 : 0)) * a;
  return r;
}

MultCost variable_product(int a, int b, const FpgaDevice& d, const FpgaCostModel& m) {
  MultCost r;
  if (dsp_eligible(a, b, d)) {
    r.kind = MultCost::kDsp;
    r.dsp = dsp_tiles(a, b, d);
  } else {
    r.kind = MultCost::kLut;
    r.lut6 = m.soft_mult_luts_per_bit2 * a * b;
  }
  return r;
}

void add_mult(LayerEstimate& e, const MultCost& c, double& lut6) {
  e.res.dsp += c.dsp;
  lut6 += c.lut6;
  switch (c.kind) {
    case MultCost::kFree:
      ++e.free_multipliers;
      break;
    case MultCost::kDsp:
      ++e.dsp_multipliers;
      break;
    case MultCost::kLut:
      ++e.lut_multipliers;
      break;
  }
}

// LUT6 of requantizing a value of format `from` to `to`, per result bit: an incrementer when
// rounding drops bits, a range test and clamp when saturation can trigger.
double requant_lut6_per_value(const FixedFormat& from, const FixedFormat& to,
                              const FpgaDevice& d, const FpgaCostModel& m) {
  double l = 0;
  if (to.rounding != Rounding::kTruncate && from.frac_bits() > to.frac_bits())
    l += m.round_luts_per_bit * to.width;
  if (to.overflow != Overflow::kWrap &&
      from.int_bits + (from.is_signed ? 0 : 1) > to.int_bits + (to.is_signed ? 0 : 1))
    l += (d.lut_inputs >= 6 ? m.saturate_luts_per_bit : m.saturate_luts_per_bit_lut4) * to.width;
  return l;
}

// LUTs of a ROM of `depth` words of `bits` bits built as logic (a function of the address per
// bit). Bits whose column of `depth` values repeats another's share one LUT, so at most
// 2^depth distinct columns exist: a shallow ROM (R = 2, 4) is almost free however wide.
int64_t rom_logic_luts(int64_t bits, int64_t depth, const FpgaDevice& d) {
  const int64_t distinct = depth >= 40 ? bits : std::min(bits, int64_t{1} << depth);
  return distinct * ceil_div(depth, rom_entries_per_lut(d));
}

// A memory of `depth` words of `width` bits: distributed (LUT) when small, else block RAM.
void place_memory(LayerEstimate& e, int64_t width, int64_t depth, int64_t copies,
                  const FpgaDevice& d, const FpgaCostModel& m) {
  const int64_t bits = width * depth * copies;
  e.rom_bits += bits;
  if (bits == 0) return;
  if (bits <= m.rom_in_luts_max_bits) {
    // Logic: 2^k entries per LUT per distinct bit column (the LUT count is native).
    e.lut_rom += copies * rom_logic_luts(width, depth, d);
    return;
  }
  int64_t w = d.bram_width_at_depth(depth);
  int64_t blocks;
  if (w > 0) {
    blocks = ceil_div(width, w);
  } else {  // deeper than one block: cascade at 1 bit wide
    const int64_t max_depth = d.bram_block_bits;
    blocks = width * ceil_div(depth, max_depth);
  }
  e.res.bram += blocks * copies;
}

void check_reuse(const FixedLayer& l, int64_t n_in, const char* what) {
  TS_CHECK(l.reuse_factor >= 1, ErrorKind::kInvalidArgument,
           "fpga layer '{}': reuse factor {} must be at least 1", l.name, l.reuse_factor);
  if (n_in % l.reuse_factor != 0) {
    std::vector<int64_t> valid;
    for (int64_t r = 1; r <= n_in; ++r)
      if (n_in % r == 0) valid.push_back(r);
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("fpga layer '{}' ({}): reuse factor {} does not divide {} = {}; "
                            "valid reuse factors: {}",
                            l.name, fixed_layer_kind_name(l.kind), l.reuse_factor, what, n_in,
                            fmt::join(valid, ", ")));
  }
}

// The multiply-accumulate core shared by dense and conv2d: `n_in` products per output,
// `n_out` outputs, weight (i, j) at weights[i * n_out + j] (dense [n_in, n_out]; conv HWIO
// flattens to the same with i = (r, s, c)).
void mac_core(LayerEstimate& e, const FixedLayer& l, int64_t n_in, int64_t n_out,
              const FpgaDevice& d, const FpgaCostModel& m) {
  const int64_t R = l.reuse_factor;
  const int64_t M = n_in * n_out / R;  // physical multipliers
  e.multipliers = M;
  e.busy_cycles = R;
  const int wx = l.input.width, ww = l.weight.width, wa = l.accum.width;
  const bool rom = R > 1 && l.strategy == Strategy::kResource;
  double mult6 = 0;
  int64_t steps = M;  // chain steps in logic
  if (R == 1) {
    // Hard-wired: one constant product per weight; a zero weight adds nothing to its chain
    // (synthesis removes the step).
    for (int64_t k = 0; k < n_in * n_out; ++k) {
      const int64_t w = l.weights[static_cast<size_t>(k)];
      const MultCost c = constant_product(wx, w, d, m);
      add_mult(e, c, mult6);
      if (c.kind == MultCost::kDsp) mult6 += m.const_dsp_luts_per_bit * wx;
      if (w == 0) --steps;
    }
  } else {
    // Shared multipliers: the weight changes every pass, so each product is variable.
    const MultCost c = variable_product(wx, ww, d, m);
    for (int64_t k = 0; k < M; ++k) add_mult(e, c, mult6);
    if (rom) {
      // One ROM word of M weights per pass.
      e.rom_word_bits = M * ww;
      e.rom_reads = R;
      place_memory(e, M * ww, R, 1, d, m);
    } else {
      // Latency strategy: the R constant pass words selected by the pass counter, a ROM
      // in logic like the Resource one.
      e.lut_rom += rom_logic_luts(M * ww, R, d);
    }
    // Pass t reads inputs [t·S, (t+1)·S), S = n_in / R: an R:1 mux per bit of each of the S
    // input slots, shared by every output (the slot's multipliers all take the same input).
    // The accumulator's bias-or-feedback select shares the adder bit's LUT (no cost).
    e.lut_mux = (n_in / R) * wx * mux_luts_per_bit(R, d);
  }
  e.lut_multiply = luts(mult6, d);
  // The chain: per nonzero product, requantize it into the accumulator and add (W_acc + 1 bits),
  // then requantize the sum (saturation only: same fractional bits).
  const FixedFormat prod{.width = wx + ww, .int_bits = l.input.int_bits + l.weight.int_bits};
  const FixedFormat sum{.width = wa + 1, .int_bits = l.accum.int_bits + 1};
  // A wrapping chain is one fused carry-save sum in which each term adds only its significant
  // bits (the product's bits left after the dropped fraction; its sign extension up to the
  // accumulator's width is shared); a saturating chain is a sequence of full-width adders.
  const bool saturating = l.accum.overflow != Overflow::kWrap;
  const int significant = prod.width - (prod.frac_bits() - l.accum.frac_bits());
  const int adder_bits = saturating ? wa + 1 : std::min(wa, std::max(significant, 1)) + 1;
  double step = m.adder_luts_per_bit * adder_bits + requant_lut6_per_value(prod, l.accum, d, m) +
                requant_lut6_per_value(sum, l.accum, d, m);
  if (saturating && l.accum.rounding != Rounding::kTruncate &&
      prod.frac_bits() > l.accum.frac_bits())
    step += (d.lut_inputs >= 6 ? m.round_saturate_luts_per_bit
                               : m.round_saturate_luts_per_bit_lut4) * (wa + 1);
  if (R > 1) {
    // More than two shared products per output and pass: the pass sum has more operands
    // than one carry chain takes, so a compressor sits ahead of it.
    if (!saturating && n_in / R > 2) step += m.variable_sum_luts_per_bit * adder_bits;
    // Saturating a variable product into the accumulator takes the RTL's two range
    // comparisons (above max, below min) over the truncated product's width plus sign; a
    // constant product's range is known, so synthesis folds them (the R = 1 coefficient).
    // They replace the LUT6 figure's range test; LUT4 devices keep their separate clamp.
    if (l.accum.overflow != Overflow::kWrap &&
        prod.int_bits + (prod.is_signed ? 0 : 1) > l.accum.int_bits + (l.accum.is_signed ? 0 : 1))
      step += 2.0 * m.compare_luts_per_bit * (std::max(significant, 1) + 1) -
              m.saturate_luts_per_bit * wa;
  }
  double chain = static_cast<double>(steps) * step;
  if (R == 1 && !saturating) {
    // A constant product's term has only Wx + bits(|w|) significant bits, fewer than the
    // full product's for a small weight; its fused-sum adder is that wide.
    const int dropped = prod.frac_bits() - l.accum.frac_bits();
    for (const int64_t w : l.weights) {
      if (w == 0) continue;
      const int mag = static_cast<int>(std::bit_width(static_cast<uint64_t>(w < 0 ? -w : w)));
      const int term = wx + mag - dropped;
      const int bits = std::min(wa, std::max(term, 1)) + 1;
      chain -= m.adder_luts_per_bit * (adder_bits - std::min(adder_bits, bits));
    }
  }
  e.lut_accumulate = luts(chain, d);
  e.lut_other += luts(static_cast<double>(n_out) * requant_lut6_per_value(l.accum, l.result, d, m), d);
  // Registers: accumulators and the result register (the input register is the caller's).
  e.res.ff += n_out * wa + n_out * l.result.width + bits_for(R);
}

void dense(LayerEstimate& e, const FixedLayer& l, const FpgaDevice& d, const FpgaCostModel& m) {
  const int64_t n_in = l.inputs(), n_out = l.outputs();
  check_reuse(l, n_in, "n_in");
  TS_CHECK(static_cast<int64_t>(l.weights.size()) == n_in * n_out, ErrorKind::kInvalidArgument,
           "fpga layer '{}': {} weights, expected n_in x n_out = {} x {} = {}", l.name,
           l.weights.size(), n_in, n_out, n_in * n_out);
  mac_core(e, l, n_in, n_out, d, m);
  e.res.ff += n_in * l.input.width;  // input register
  // Contract: valid_in in cycle c -> passes in c+1 … c+R -> valid_out in c+R+1.
  e.latency_cycles = l.reuse_factor + 1;
  e.ii_cycles = l.reuse_factor + 1;
}

// Spatial sizes of a conv/pool input with its zero padding.
int64_t padded_pixels(const FixedLayer& l) {
  return (l.input_shape[0] + l.pad_top + l.pad_bottom) *
         (l.input_shape[1] + l.pad_left + l.pad_right);
}

void check_spatial(const FixedLayer& l) {
  TS_CHECK(l.input_shape.rank() == 3 && l.output_shape.rank() == 3, ErrorKind::kInvalidArgument,
           "fpga layer '{}' ({}): expected [H, W, C] input and output shapes, got {} and {}",
           l.name, fixed_layer_kind_name(l.kind), l.input_shape.str(), l.output_shape.str());
}

// A line buffer of kernel_h - 1 rows of the padded width, C values of `width` bits per pixel.
void line_buffer(LayerEstimate& e, const FixedLayer& l, const FpgaDevice& d,
                 const FpgaCostModel& m) {
  const int64_t wp = l.input_shape[1] + l.pad_left + l.pad_right, C = l.input_shape[2];
  if (l.kernel_h > 1) place_memory(e, C * l.input.width, wp, l.kernel_h - 1, d, m);
  e.res.ff += l.kernel_h * l.kernel_w * C * l.input.width;  // the window registers
}

void conv2d(LayerEstimate& e, const FixedLayer& l, IoType io, const FpgaDevice& d,
            const FpgaCostModel& m) {
  check_spatial(l);
  const int64_t C = l.input_shape[2], K = l.output_shape[2];
  const int64_t n_in = l.kernel_h * l.kernel_w * C;
  check_reuse(l, n_in, "kernel_h x kernel_w x channels");
  TS_CHECK(static_cast<int64_t>(l.weights.size()) == n_in * K, ErrorKind::kInvalidArgument,
           "fpga layer '{}': {} weights, expected kernel_h x kernel_w x C x K = {}", l.name,
           l.weights.size(), n_in * K);
  mac_core(e, l, n_in, K, d, m);
  const int64_t R = l.reuse_factor;
  if (io == IoType::kStream) {
    // One padded input pixel per R cycles through the line buffer; the window's outputs
    // leave one cycle after their pass (hls4ml's io_stream conv2d with a line buffer).
    line_buffer(e, l, d, m);
    e.latency_cycles = padded_pixels(l) * R + 1;
    e.ii_cycles = padded_pixels(l) * R;
  } else {
    // The whole image registered; one output pixel per R cycles through the shared MACs.
    const int64_t pq = l.output_shape[0] * l.output_shape[1];
    e.res.ff += l.inputs() * l.input.width;
    e.lut_mux += (n_in / R) * (K)*l.input.width * mux_luts_per_bit(pq, d);
    e.latency_cycles = pq * R + 1;
    e.ii_cycles = pq * R;
  }
  e.busy_cycles = l.output_shape[0] * l.output_shape[1] * R;  // R cycles per output pixel
}

void max_pool(LayerEstimate& e, const FixedLayer& l, IoType io, const FpgaDevice& d,
              const FpgaCostModel& m) {
  check_spatial(l);
  const int64_t C = l.input_shape[2], window = l.kernel_h * l.kernel_w;
  const int64_t outs = io == IoType::kStream ? C : l.outputs();
  const double cmp =
      m.compare_luts_per_bit * static_cast<double>(outs * (window - 1)) * l.input.width;
  e.lut_other +=
      luts(cmp + static_cast<double>(outs) * requant_lut6_per_value(l.input, l.result, d, m), d);
  e.res.ff += outs * l.result.width;
  if (io == IoType::kStream) {
    line_buffer(e, l, d, m);
    e.latency_cycles = padded_pixels(l) + 1;
    e.ii_cycles = padded_pixels(l);
  } else {
    e.latency_cycles = 1;
    e.ii_cycles = 1;
  }
}

// ReLU and linear: a requantizing register per element (per pixel's channels when streamed).
void elementwise(LayerEstimate& e, const FixedLayer& l, IoType io, const FpgaDevice& d,
                 const FpgaCostModel& m) {
  const bool stream = io == IoType::kStream && l.input_shape.rank() == 3;
  const int64_t n = stream ? l.input_shape[2] : l.outputs();
  double per = requant_lut6_per_value(l.input, l.result, d, m);
  if (l.kind == FixedLayerKind::kRelu) per += m.relu_luts_per_bit * l.result.width;
  e.lut_other += luts(per * static_cast<double>(n), d);
  e.res.ff += n * l.result.width;
  const int64_t pixels = stream ? l.input_shape[0] * l.input_shape[1] : 1;
  e.latency_cycles = pixels;  // first value in -> last value out, one pixel per cycle
  e.ii_cycles = pixels;
}

const char* resource_names[] = {"lut", "ff", "dsp", "bram", "uram"};

}  // namespace

FpgaResources& FpgaResources::operator+=(const FpgaResources& o) {
  lut += o.lut;
  ff += o.ff;
  dsp += o.dsp;
  bram += o.bram;
  uram += o.uram;
  return *this;
}

double ResourceFit::fraction() const {
  if (available > 0) return static_cast<double>(used) / static_cast<double>(available);
  return used > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

int64_t NetworkEstimate::cycles_for_batch(int64_t batch) const {
  return batch <= 0 ? 0 : latency_cycles + (batch - 1) * ii_cycles;
}

int binary_nonzero_bits(int64_t v) {
  const uint64_t mag = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  return std::popcount(mag);
}

int csd_nonzero_digits(int64_t v) {
  // Non-adjacent form: the fewest nonzero signed digits.
  uint64_t n = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  int count = 0;
  while (n != 0) {
    if (n & 1) {
      ++count;
      n = (n & 2) ? n + 1 : n - 1;  // a run of ones: -1 here, +1 carried up
    }
    n >>= 1;
  }
  return count;
}

int signed_bits(int64_t v) {
  int b = 1;
  while (b < 64) {
    const int64_t lo = -(int64_t{1} << (b - 1)), hi = (int64_t{1} << (b - 1)) - 1;
    if (v >= lo && v <= hi) break;
    ++b;
  }
  return b;
}

LayerEstimate estimate_layer(const FixedLayer& l, const FpgaDevice& d, IoType io,
                             const FpgaCostModel& m) {
  LayerEstimate e;
  e.name = l.name;
  e.kind = l.kind;
  e.strategy = l.strategy;
  e.reuse_factor = l.reuse_factor;
  e.multiplications = l.multiplications();
  e.input_bits = l.inputs() * l.input.width;
  e.output_bits = l.outputs() * l.result.width;
  switch (l.kind) {
    case FixedLayerKind::kDense:
      dense(e, l, d, m);
      break;
    case FixedLayerKind::kConv2D:
      conv2d(e, l, io, d, m);
      break;
    case FixedLayerKind::kMaxPool2D:
      max_pool(e, l, io, d, m);
      break;
    case FixedLayerKind::kRelu:
    case FixedLayerKind::kLinear:
      elementwise(e, l, io, d, m);
      break;
    case FixedLayerKind::kFlatten:
      e.latency_cycles = 0;  // wires
      e.ii_cycles = 1;
      break;
  }
  if (l.kind != FixedLayerKind::kFlatten) {
    e.res.ff += m.control_ffs_per_stage;
    e.lut_other += m.control_luts_per_stage;
  }
  e.res.lut = e.lut_multiply + e.lut_accumulate + e.lut_mux + e.lut_rom + e.lut_other;
  return e;
}

NetworkEstimate estimate_network(const FixedNetwork& net, const FpgaDevice& d, double clock_hz,
                                 const FpgaCostModel& m) {
  TS_CHECK(!net.layers.empty(), ErrorKind::kInvalidArgument, "fpga network '{}' has no layers",
           net.name);
  if (clock_hz <= 0) clock_hz = d.typical_clock_hz;
  NetworkEstimate n;
  n.network = net.name;
  n.device = d.name;
  n.clock_hz = clock_hz;
  n.io = net.io;
  const double mhz = clock_hz / 1e6, toggle = m.toggle_rate / m.reference_toggle;
  for (const FixedLayer& l : net.layers) {
    LayerEstimate e = estimate_layer(l, d, net.io, m);
    e.dynamic_power_w = 1e-6 * mhz *
                        (toggle * (static_cast<double>(e.res.lut) * d.lut_uw_per_mhz +
                                   static_cast<double>(e.res.ff) * d.ff_uw_per_mhz +
                                   static_cast<double>(e.res.dsp) * d.dsp_uw_per_mhz) +
                         static_cast<double>(e.res.bram) * d.bram_uw_per_mhz +
                         static_cast<double>(e.res.uram) * d.uram_uw_per_mhz);
    n.latency_cycles += e.latency_cycles;
    n.ii_cycles = std::max(n.ii_cycles, e.ii_cycles);
    n.total += e.res;
    n.dynamic_power_w += e.dynamic_power_w;
    n.layers.push_back(std::move(e));
  }
  n.latency_s = static_cast<double>(n.latency_cycles) / clock_hz;
  n.throughput_per_s = clock_hz / static_cast<double>(n.ii_cycles);
  n.static_power_w = d.static_power_w;
  n.power_w = n.static_power_w + n.dynamic_power_w;
  const int64_t used[] = {n.total.lut, n.total.ff, n.total.dsp, n.total.bram, n.total.uram};
  const int64_t avail[] = {d.luts, d.ffs, d.dsps, d.bram_blocks, d.urams};
  for (int i = 0; i < 5; ++i) {
    ResourceFit f{resource_names[i], used[i], avail[i]};
    if (!f.fits()) {
      n.fits = false;
      n.overflows.push_back(fmt::format("{}: {} used of {} ({:.1f}%)", f.resource, f.used,
                                        f.available, 100.0 * f.fraction()));
    }
    n.fit.push_back(f);
  }
  return n;
}

void check_fits(const NetworkEstimate& e) {
  if (e.fits) return;
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("fpga network '{}' does not fit device {}: {}", e.network, e.device,
                          fmt::join(e.overflows, "; ")));
}

}  // namespace tessera::sim
