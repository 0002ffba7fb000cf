// Small random fixed-point networks for the Verilog, Yosys and HLS tests (and the synthesis
// sweep): dense layers with random raw weights and biases over their formats' whole range.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim::testing {

inline FixedFormat fx(int w, int i, Rounding r = Rounding::kTruncate,
                      Overflow o = Overflow::kWrap, bool is_signed = true) {
  return {.width = w, .int_bits = i, .is_signed = is_signed, .rounding = r, .overflow = o};
}
inline FixedFormat ufx(int w, int i, Rounding r = Rounding::kTruncate,
                       Overflow o = Overflow::kWrap) {
  return fx(w, i, r, o, false);
}

// A raw value drawn uniformly from the format's range.
inline int64_t random_raw(const FixedFormat& f, std::mt19937_64& rng) {
  const int64_t lo = f.is_signed ? -(int64_t{1} << (f.width - 1)) : 0;
  const int64_t hi = f.is_signed ? (int64_t{1} << (f.width - 1)) - 1 : (int64_t{1} << f.width) - 1;
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

struct DenseSpec {
  std::string name = "dense";
  int64_t n_in = 4, n_out = 3, reuse = 1;
  Strategy strategy = Strategy::kLatency;
  FixedFormat input, weight, bias, accum, result;
  bool bias_present = true;
};

inline FixedLayer dense_layer(const DenseSpec& s, std::mt19937_64& rng) {
  FixedLayer l;
  l.name = s.name;
  l.kind = FixedLayerKind::kDense;
  l.input_shape = Shape{s.n_in};
  l.output_shape = Shape{s.n_out};
  l.input = s.input;
  l.weight = s.weight;
  l.bias = s.bias;
  l.accum = s.accum;
  l.result = s.result;
  l.reuse_factor = s.reuse;
  l.strategy = s.strategy;
  for (int64_t k = 0; k < s.n_in * s.n_out; ++k) l.weights.push_back(random_raw(s.weight, rng));
  if (s.bias_present)
    for (int64_t j = 0; j < s.n_out; ++j) l.biases.push_back(random_raw(s.bias, rng));
  return l;
}

inline FixedLayer elementwise_layer(const std::string& name, FixedLayerKind kind, int64_t n,
                                    const FixedFormat& in, const FixedFormat& result) {
  FixedLayer l;
  l.name = name;
  l.kind = kind;
  l.input_shape = Shape{n};
  l.output_shape = Shape{n};
  l.input = in;
  l.weight = l.bias = l.accum = l.result = result;
  return l;
}

inline std::vector<std::vector<int64_t>> random_inputs(const FixedNetwork& net, int samples,
                                                       std::mt19937_64& rng) {
  std::vector<std::vector<int64_t>> xs(static_cast<size_t>(samples));
  for (auto& x : xs)
    for (int64_t i = 0; i < net.inputs(); ++i) x.push_back(random_raw(net.layers[0].input, rng));
  return xs;
}

}  // namespace tessera::sim::testing
