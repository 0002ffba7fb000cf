// The FPGA architecture model: per-layer latency and initiation interval (exactly the
// hardware timing contract the generated Verilog implements), resources (LUT, FF, DSP, block
// RAM, UltraRAM) for what the generated Verilog synthesizes to, fits / does not fit on a
// device, and a power estimate. Every coefficient lives in FpgaCostModel so the model can be
// calibrated against Yosys in one place; the formulas are in docs/simulators/fpga.md.
//
//   NetworkEstimate e = estimate_network(net, fpga_device("xc7z020"), 100e6);
//   fmt::print("latency {} cycles, II {}, {} DSPs, fits: {}\n", e.latency_cycles,
//              e.ii_cycles, e.total.dsp, e.fits);
//   check_fits(e);  // throws Error with the numbers when it does not fit
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/sim/fpga/fixed_network.h"
#include "tessera/sim/fpga/fpga_device.h"

namespace tessera::sim {

// The coefficients of the resource and power formulas (defaults: measured on small Yosys 0.23
// synth_xilinx / synth_ecp5 designs, see the doc). Device-specific numbers (DSP geometry,
// LUT4 vs LUT6, power per resource) are in FpgaDevice.
struct FpgaCostModel {
  // Yosys' mul2dsp maps a multiplication by a constant like any other: to DSPs when the
  // operands are wide enough. false: constant products always become LUT shift-add logic
  // (what Vivado does for narrow constants).
  bool constant_products_in_dsp = true;
  // LUT6 per (nonzero bits of |constant| - 1) x input bit of a constant product in logic;
  // a negative constant adds one more partial product (the negation).
  double const_mult_luts_per_bit = 1.7;
  // LUT6 per operand-bit pair of a variable x variable product in logic (array multiplier).
  double soft_mult_luts_per_bit2 = 2.5;
  // LUT6 per bit of an adder (one LUT per bit on the carry chain).
  double adder_luts_per_bit = 1.0;
  // LUT6 per result bit of a requantization that rounds and one that saturates (range test +
  // clamp mux). Truncation and wrap are wires. Calibrated on the sweep: a rounding increment
  // enters the next adder as its carry-in, and on LUT6 devices the clamp mux shares the
  // adder bit's LUT (a, b, carry, hi, lo fit six inputs), so both cost little there; LUT4
  // devices pay the clamp separately (saturate_luts_per_bit_lut4, at the end).
  double round_luts_per_bit = 0.1;
  double saturate_luts_per_bit = 0.2;
  // LUT6 per bit of a comparator (max pooling, ReLU's sign test is free: a mux per bit).
  double compare_luts_per_bit = 1.0;
  double relu_luts_per_bit = 1.0;
  // ROMs (Resource-strategy weights, line buffers) at most this many bits stay in LUTs;
  // larger ones go to block RAM. Yosys mapped none of the sweep's weight ROMs (up to 16 Kb,
  // one wide word per pass) to block RAM: a pass word of hundreds of bits is wider than a
  // block's port, so logic is the natural mapping.
  int64_t rom_in_luts_max_bits = 65536;
  // Control per stage: the valid pipeline and pass counter (FFs) and its decode (LUTs).
  int64_t control_ffs_per_stage = 2;
  int64_t control_luts_per_stage = 2;
  // Power: toggle rate the device coefficients assume (XPE's default 12.5%) and the one
  // to estimate at; dynamic power scales linearly with their ratio.
  double reference_toggle = 0.125;
  double toggle_rate = 0.125;
  // LUT6 per input bit a hard-wired (R = 1) constant product in a DSP still costs in logic:
  // the part of the product Yosys keeps outside the DSP (sign handling and the low partial
  // products of the carry-save sum the chain becomes). Fitted on the sweep.
  double const_dsp_luts_per_bit = 0.7;
  // saturate_luts_per_bit for devices with LUTs of fewer than six inputs (ECP5's LUT4),
  // where the clamp mux cannot share the adder's LUT.
  double saturate_luts_per_bit_lut4 = 0.75;
  // LUT6 per accumulator bit (W_acc + 1) and chain step when the product's requantization
  // rounds and the accumulator saturates: the saturation needs the exact rounded sum at
  // every step, so the increment is no longer a free carry-in of one fused carry-save sum but
  // a carry-propagate adder of its own ahead of full-width range comparisons. Fitted on the
  // sweep's two such designs (AP_RND_CONV and AP_RND); the _lut4 figure for LUT4 devices.
  double round_saturate_luts_per_bit = 1.3;
  double round_saturate_luts_per_bit_lut4 = 3.8;
  // LUT6 per adder bit and chain step of a wrapping chain of shared (DSP) products when a
  // pass adds more than two products per output: the pass sum has more operands than a
  // carry chain takes (accumulator + two), so synthesis builds a compressor ahead of it.
  // Fitted on the sweep's R > 1 designs (S = n_in / R of 4, 8 and 16 products per pass).
  double variable_sum_luts_per_bit = 0.35;
};

struct FpgaResources {
  int64_t lut = 0, ff = 0, dsp = 0, bram = 0, uram = 0;
  FpgaResources& operator+=(const FpgaResources& o);
};

// One pipeline stage (layer).
struct LayerEstimate {
  std::string name;
  FixedLayerKind kind = FixedLayerKind::kDense;
  Strategy strategy = Strategy::kLatency;
  int64_t reuse_factor = 1;
  int64_t latency_cycles = 0;   // valid_in -> valid_out
  int64_t ii_cycles = 1;        // cycles between accepted inputs
  int64_t multipliers = 0;      // physical: multiplications per sample / reuse factor
  int64_t multiplications = 0;  // per sample
  int64_t busy_cycles = 0;      // cycles per sample the multipliers compute
  // Where the multiplications went (a physical multiplier each): DSP, LUT logic, or nothing
  // (a zero or power-of-two constant: wires and shifts).
  int64_t dsp_multipliers = 0, lut_multipliers = 0, free_multipliers = 0;
  FpgaResources res;
  // The LUT split, for calibration.
  int64_t lut_multiply = 0, lut_accumulate = 0, lut_mux = 0, lut_rom = 0, lut_other = 0;
  int64_t rom_bits = 0;        // weight ROM (Resource strategy) or line buffer
  int64_t rom_word_bits = 0;   // read per pass
  int64_t rom_reads = 0;       // words read per sample
  int64_t input_bits = 0;      // per sample (inputs x input width)
  int64_t output_bits = 0;     // per sample (outputs x result width)
  double dynamic_power_w = 0;  // at the network's clock and toggle rate
};

struct ResourceFit {
  std::string resource;  // "lut", "ff", "dsp", "bram", "uram"
  int64_t used = 0;
  int64_t available = 0;
  double fraction() const;  // used / available (0 when both are 0, inf when none available)
  bool fits() const { return used <= available; }
};

struct NetworkEstimate {
  std::string network;
  std::string device;
  double clock_hz = 0;
  IoType io = IoType::kParallel;
  std::vector<LayerEstimate> layers;
  int64_t latency_cycles = 0;  // sum of stage latencies
  int64_t ii_cycles = 1;       // max stage II
  double latency_s = 0;
  double throughput_per_s = 0;  // clock / II
  FpgaResources total;
  std::vector<ResourceFit> fit;  // lut, ff, dsp, bram, uram
  bool fits = true;
  double static_power_w = 0, dynamic_power_w = 0, power_w = 0;
  // One line per resource that does not fit: "dsp: 300 used of 220 (136.4%)".
  std::vector<std::string> overflows;
  // Cycles for `batch` samples streamed back to back: latency + (batch - 1) x II.
  int64_t cycles_for_batch(int64_t batch) const;
};

// The stage's timing and resources. Throws Error(kInvalidArgument) naming the layer when its
// reuse factor does not divide its inputs per output (dense: n_in; conv: kernel_h x kernel_w
// x channels) or its weights do not match its shapes.
LayerEstimate estimate_layer(const FixedLayer& layer, const FpgaDevice& device, IoType io,
                             const FpgaCostModel& model = {});

// Every stage, the network's latency, II, throughput at `clock_hz` (0: the device's typical
// clock), resources against the device, and power.
NetworkEstimate estimate_network(const FixedNetwork& net, const FpgaDevice& device,
                                 double clock_hz = 0, const FpgaCostModel& model = {});

// Throws Error(kInvalidArgument) with every resource that does not fit and its numbers.
void check_fits(const NetworkEstimate& e);

// Nonzero digits of v in canonical signed-digit form and in plain binary (of |v|).
int csd_nonzero_digits(int64_t v);
int binary_nonzero_bits(int64_t v);
// Bits of the narrowest two's complement holding v (0 -> 1, 1 -> 2, -1 -> 1, -4 -> 3).
int signed_bits(int64_t v);

}  // namespace tessera::sim
