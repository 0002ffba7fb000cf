// The FPGA calibration sweep's designs: one dense layer (or two, with a relu between) per
// point, with seeded weights drawn like trained ones. Shared by bench/fpga_synth_sweep.cpp,
// which synthesizes them with Yosys, and tests/sim/fpga_calibration_test.cpp, which checks
// the resource model against the counts recorded from that run — so both see the same
// networks.
#pragma once

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>

#include "tessera/sim/fpga/fixed_network.h"

namespace tessera::sim::fpga_sweep {

struct Point {
  int64_t n_in, n_out;
  int width;
  int64_t reuse;
  Strategy strategy = Strategy::kLatency;
  int64_t n_out2 = 0;  // > 0: a second dense layer (n_out -> n_out2) after the relu
  Overflow acc_overflow = Overflow::kWrap;
  Rounding rounding = Rounding::kTruncate;  // of the accumulator and the result
  int acc_extra = 0;  // accumulator width - data width (integer bits grow by the same)
};

inline std::string point_name(const Point& p) {
  std::string n = fmt::format("d{}x{}", p.n_in, p.n_out);
  if (p.n_out2 > 0) n += fmt::format("x{}", p.n_out2);
  n += fmt::format("_w{}_r{}{}", p.width, p.reuse, p.strategy == Strategy::kResource ? "res" : "");
  if (p.acc_extra > 0) n += fmt::format("_a{}", p.width + p.acc_extra);
  if (p.acc_overflow != Overflow::kWrap) n += "_sat";
  if (p.rounding == Rounding::kHalfUp) n += "_rnd";
  if (p.rounding == Rounding::kHalfEven) n += "_conv";
  return n;
}

inline FixedLayer dense_layer(const std::string& name, int64_t n_in, int64_t n_out, const Point& p,
                       std::mt19937_64& rng) {
  const FixedFormat f{.width = p.width, .int_bits = p.width / 2};
  FixedLayer d;
  d.name = name;
  d.kind = FixedLayerKind::kDense;
  d.input_shape = Shape{n_in};
  d.output_shape = Shape{n_out};
  d.input = d.weight = d.bias = f;
  d.accum = FixedFormat{.width = p.width + p.acc_extra,
                        .int_bits = p.width / 2 + p.acc_extra,
                        .rounding = p.rounding,
                        .overflow = p.acc_overflow};
  d.result = FixedFormat{.width = p.width, .int_bits = p.width / 2, .rounding = p.rounding};
  d.reuse_factor = p.reuse;
  d.strategy = p.strategy;
  // Trained weights cluster near zero: a normal distribution with a quarter of the range as
  // its deviation, clipped to the format.
  const double lim = std::ldexp(1.0, p.width - 1);
  std::normal_distribution<double> w(0.0, lim / 4);
  auto draw = [&] {
    return static_cast<int64_t>(std::clamp(std::round(w(rng)), -lim, lim - 1));
  };
  for (int64_t k = 0; k < n_in * n_out; ++k) d.weights.push_back(draw());
  for (int64_t j = 0; j < n_out; ++j) d.biases.push_back(draw());
  return d;
}

inline FixedLayer relu_layer(const std::string& name, int64_t n, const FixedFormat& f) {
  FixedLayer r;
  r.name = name;
  r.kind = FixedLayerKind::kRelu;
  r.input_shape = r.output_shape = Shape{n};
  r.input = r.weight = r.bias = r.accum = r.result = f;
  return r;
}

inline FixedNetwork sweep_design(const Point& p) {
  std::mt19937_64 rng(static_cast<uint64_t>(p.n_in * 1000 + p.n_out * 10 + p.width + p.reuse));
  FixedNetwork net{.name = point_name(p),
                   .input = FixedFormat{.width = p.width, .int_bits = p.width / 2},
                   .layers = {}};
  net.layers.push_back(dense_layer("fc1", p.n_in, p.n_out, p, rng));
  net.layers.push_back(relu_layer("relu1", p.n_out, net.layers.back().result));
  if (p.n_out2 > 0) {
    Point q = p;
    // The second layer's reuse factor must divide its n_in.
    q.reuse = std::gcd(p.reuse, p.n_out);
    net.layers.push_back(dense_layer("fc2", p.n_out, p.n_out2, q, rng));
  }
  return net;
}

}  // namespace tessera::sim::fpga_sweep
