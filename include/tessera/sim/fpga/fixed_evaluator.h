// A fast evaluator of a FixedNetwork, bit-identical to FixedNetwork::run (the reference).
// The reference calls requantize_fixed for every product and every partial sum; this one
// compiles each layer once into integer kernels:
//   * a product converts to the accumulator with a shift (and the rounding mode's integer
//     formula), not a general conversion;
//   * with AP_WRAP accumulators the chain of wraps is one wrap at the end (wrapping is
//     modular), and saturating accumulators that provably never overflow (a bound from the
//     input format's range and the weights) also sum freely;
//   * sums run on int32 lanes (vectorized, AVX2 when the CPU has it) when every product and
//     partial sum fits, on int64 otherwise; zero inputs (ReLU outputs, blank pixels) are
//     skipped, which is exact in every mode;
//   * only saturating accumulators that can overflow keep the step-by-step chain.
// Layers it has no kernel for (conv2d, max_pool2d, products beyond 62 bits) run through the
// reference, so every network is accepted.
//
//   FixedEvaluator ev(net);               // keeps its own copy of the network
//   std::vector<int64_t> y = ev.run(net.quantize_input(pixels));   // == net.run(...)
//   std::vector<int64_t> top1 = ev.classify(x_test);               // argmax per row
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/tensor.h"
#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim {

// One exact conversion between two fixed formats on raw integers (requantize_fixed's
// semantics, precomputed): shift, rounding, overflow.
class Requantizer {
 public:
  Requantizer() = default;
  Requantizer(const FixedFormat& from, const FixedFormat& to);
  int64_t operator()(int64_t raw) const;
  const FixedFormat& to() const { return to_; }

 private:
  FixedFormat to_;
  int shift_ = 0;  // to.frac_bits - from.frac_bits: > 0 shifts left
  bool from_signed_ = true;
  int64_t min_ = 0, max_ = 0;
};

// f32 -> raw fixed, exact and equal to quantize_fixed for every float.
int64_t quantize_f32(float v, const FixedFormat& f);

class FixedEvaluator {
 public:
  explicit FixedEvaluator(const FixedNetwork& net);
  ~FixedEvaluator();
  FixedEvaluator(FixedEvaluator&&) noexcept;
  FixedEvaluator& operator=(FixedEvaluator&&) noexcept;

  // One sample, bit-identical to FixedNetwork::run. Not thread-safe (scratch buffers).
  std::vector<int64_t> run(std::span<const int64_t> in);
  // Every row of x ([N, …] f32): quantized with the input format, run, dequantized: [N, outputs].
  Tensor predict(const Tensor& x);
  // The index of the largest raw output per row of x (ties: the first), as predict's argmax.
  std::vector<int64_t> classify(const Tensor& x);
  // How each layer runs: "hidden1: dense int32 wrap-sum", "conv: reference", …
  const std::vector<std::string>& plan() const { return plan_; }

  struct Stage;  // a compiled layer (fixed_evaluator.cpp)

 private:
  void run_into(std::span<const int64_t> in);

  FixedNetwork net_;
  std::vector<Stage> stages_;
  std::vector<std::string> plan_;
  std::vector<int64_t> a_, b_;  // ping-pong activations
};

}  // namespace tessera::sim
