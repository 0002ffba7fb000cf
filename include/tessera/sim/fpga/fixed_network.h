// The network as an FPGA computes it, hls4ml-style: a chain of layers, each a pipeline stage
// with fixed-point formats (ap_fixed semantics, core/dtype.h FixedFormat) for its weights,
// biases, accumulator and result, integer weights, and a reuse factor. It is built from a
// model's predict graph and an FPGA config, run bit-exactly by run() — the reference the
// generated Verilog and HLS C++ are checked against — and costed by the FPGA simulator.
//
// Arithmetic of a dense layer (hls4ml's dense_latency), all on raw integers:
//   acc = accum(bias[j]);  for i in 0..n_in-1: acc = accum(acc + accum(x[i] * w[i][j]));
//   y[j] = result(acc)
// where fmt(v) converts exactly with fmt's rounding and overflow modes (requantize_fixed) and
// x[i] * w[i][j] is the exact product. ReLU: y = result(x > 0 ? x : 0); linear: y = result(x).
//
//   FixedNetwork net = …;                       // build_fixed_network() (fpga_config.h)
//   std::vector<int64_t> y = net.run(net.quantize_input(pixels));
//   Tensor scores = net.predict(x_test);        // [N, outputs], dequantized
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/core/shape.h"
#include "tessera/core/tensor.h"

namespace tessera::sim {

enum class FixedLayerKind : uint8_t {
  kDense,      // x [n_in] · W [n_in, n_out] + b
  kConv2D,     // NHWC x HWIO, stride, zero padding (per sample: [H, W, C] -> [P, Q, K])
  kMaxPool2D,  // window max (per sample: [H, W, C] -> [P, Q, C])
  kRelu,
  kLinear,     // a requantization only (hls4ml's linear activation)
  kFlatten,    // no arithmetic: the data order is unchanged
};
const char* fixed_layer_kind_name(FixedLayerKind k);  // "dense", "conv2d", …

// hls4ml's strategies: Latency unrolls into registers; Resource keeps weights in BRAM and
// shares multipliers (reuse factor > 1).
enum class Strategy : uint8_t { kLatency, kResource };
// io_parallel: whole tensors as wide buses; io_stream: one pixel (channel vector) per cycle.
enum class IoType : uint8_t { kParallel, kStream };

struct FixedLayer {
  std::string name;  // the model's layer name (hls4ml's LayerName key)
  FixedLayerKind kind = FixedLayerKind::kDense;
  Shape input_shape;   // per sample
  Shape output_shape;  // per sample
  FixedFormat input;   // the format of the layer's input (the previous layer's result)
  FixedFormat weight, bias, accum, result;  // result: the output's format (every kind)
  // Dense: [n_in, n_out] row-major, as the model's kernel; conv: HWIO. Raw integers.
  std::vector<int64_t> weights;
  std::vector<int64_t> biases;  // [n_out]; empty: no bias
  int64_t reuse_factor = 1;     // multiplications each multiplier performs per input
  Strategy strategy = Strategy::kLatency;
  // Convolution and pooling geometry (kConv2D, kMaxPool2D).
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;

  int64_t inputs() const { return input_shape.numel(); }    // per sample
  int64_t outputs() const { return output_shape.numel(); }  // per sample
  // Multiplications per sample (dense: n_in · n_out; conv: P·Q·K·R·S·C; else 0).
  int64_t multiplications() const;
};

struct FixedNetwork {
  std::string name;
  FixedFormat input;  // the network input's format
  std::vector<FixedLayer> layers;
  IoType io = IoType::kParallel;
  std::vector<std::string> notes;  // what the conversion decided (a dropped final softmax, …)

  int64_t inputs() const;   // per sample
  int64_t outputs() const;  // per sample: the last layer's
  // Raw input values from real ones (the input format's rounding and overflow).
  std::vector<int64_t> quantize_input(std::span<const float> x) const;
  // One sample through every layer, bit-exactly; `in` holds inputs() raw values in `input`
  // format; returns the last layer's raw results. Throws Error naming the layer when a
  // format cannot be computed exactly (a product wider than 64 bits).
  std::vector<int64_t> run(std::span<const int64_t> in) const;
  // Every row of x ([N, …] f32, inputs() values per row) through run(), dequantized: [N, outputs()].
  Tensor predict(const Tensor& x) const;
};

}  // namespace tessera::sim
