// FixedNetwork::run — the bit-exact reference of the FPGA's arithmetic (every layer on raw
// integers through requantize_fixed). Straightforward loops: the generated Verilog and HLS
// C++ are checked against this, so clarity wins over speed here.
#include "tessera/sim/fpga/fixed_network.h"

#include <fmt/core.h>

#include <algorithm>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

// The exact format of a · b: widths and integer bits add.
FixedFormat product_format(const FixedFormat& a, const FixedFormat& b, const FixedLayer& l) {
  const int width = a.width + b.width;
  TS_CHECK(width <= 64, ErrorKind::kUnsupported,
           "fpga layer '{}': a product of {}-bit and {}-bit values needs {} bits; at most 64 are "
           "computed exactly",
           l.name, a.width, b.width, width);
  return {.width = width,
          .int_bits = a.int_bits + b.int_bits,
          .is_signed = a.is_signed || b.is_signed};
}

// Wide enough that a sum of two `f` values is exact (signed; unsigned formats need the sign
// bit as well as the carry).
FixedFormat sum_format(const FixedFormat& f, const FixedLayer& l) {
  const int extra = f.is_signed ? 1 : 2;
  TS_CHECK(f.width + extra <= 64, ErrorKind::kUnsupported,
           "fpga layer '{}': a {}-bit accumulator is too wide to compute exactly (at most {})",
           l.name, f.width, 64 - extra);
  return {.width = f.width + extra, .int_bits = f.int_bits + extra, .is_signed = true};
}

// Raw value as a signed integer of its format (unsigned formats are zero-extended already).
int64_t as_signed(int64_t raw) { return raw; }

void dense(const FixedLayer& l, std::span<const int64_t> x, std::vector<int64_t>& y) {
  const int64_t n_in = l.inputs(), n_out = l.outputs();
  const FixedFormat prod = product_format(l.input, l.weight, l);
  const FixedFormat sum = sum_format(l.accum, l);
  y.assign(static_cast<size_t>(n_out), 0);
  for (int64_t j = 0; j < n_out; ++j) {
    int64_t acc = l.biases.empty() ? 0 : requantize_fixed(l.biases[j], l.bias, l.accum);
    for (int64_t i = 0; i < n_in; ++i) {
      const int64_t p = as_signed(x[i]) * as_signed(l.weights[i * n_out + j]);
      acc = requantize_fixed(acc + requantize_fixed(p, prod, l.accum), sum, l.accum);
    }
    y[j] = requantize_fixed(acc, l.accum, l.result);
  }
}

// NHWC per sample: x [H, W, C], HWIO weights, y [P, Q, K]; zero padding.
void conv2d(const FixedLayer& l, std::span<const int64_t> x, std::vector<int64_t>& y) {
  const int64_t H = l.input_shape[0], W = l.input_shape[1], C = l.input_shape[2];
  const int64_t P = l.output_shape[0], Q = l.output_shape[1], K = l.output_shape[2];
  const FixedFormat prod = product_format(l.input, l.weight, l);
  const FixedFormat sum = sum_format(l.accum, l);
  y.assign(static_cast<size_t>(P * Q * K), 0);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t k = 0; k < K; ++k) {
        int64_t acc = l.biases.empty() ? 0 : requantize_fixed(l.biases[k], l.bias, l.accum);
        for (int64_t r = 0; r < l.kernel_h; ++r)
          for (int64_t s = 0; s < l.kernel_w; ++s) {
            const int64_t h = p * l.stride_h + r - l.pad_top, w = q * l.stride_w + s - l.pad_left;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;  // zero padding adds nothing
            for (int64_t c = 0; c < C; ++c) {
              const int64_t v = x[(h * W + w) * C + c];
              const int64_t wt = l.weights[((r * l.kernel_w + s) * C + c) * K + k];
              acc = requantize_fixed(acc + requantize_fixed(v * wt, prod, l.accum), sum, l.accum);
            }
          }
        y[(p * Q + q) * K + k] = requantize_fixed(acc, l.accum, l.result);
      }
}

void max_pool(const FixedLayer& l, std::span<const int64_t> x, std::vector<int64_t>& y) {
  const int64_t H = l.input_shape[0], W = l.input_shape[1], C = l.input_shape[2];
  const int64_t P = l.output_shape[0], Q = l.output_shape[1];
  y.assign(static_cast<size_t>(P * Q * C), 0);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t c = 0; c < C; ++c) {
        bool any = false;
        int64_t best = 0;
        for (int64_t r = 0; r < l.kernel_h; ++r)
          for (int64_t s = 0; s < l.kernel_w; ++s) {
            const int64_t h = p * l.stride_h + r - l.pad_top, w = q * l.stride_w + s - l.pad_left;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const int64_t v = x[(h * W + w) * C + c];
            best = any ? std::max(best, v) : v;
            any = true;
          }
        y[(p * Q + q) * C + c] = requantize_fixed(best, l.input, l.result);
      }
}

}  // namespace

const char* fixed_layer_kind_name(FixedLayerKind k) {
  switch (k) {
    case FixedLayerKind::kDense: return "dense";
    case FixedLayerKind::kConv2D: return "conv2d";
    case FixedLayerKind::kMaxPool2D: return "max_pool2d";
    case FixedLayerKind::kRelu: return "relu";
    case FixedLayerKind::kLinear: return "linear";
    case FixedLayerKind::kFlatten: return "flatten";
  }
  return "?";
}

int64_t FixedLayer::multiplications() const {
  switch (kind) {
    case FixedLayerKind::kDense: return inputs() * outputs();
    case FixedLayerKind::kConv2D: return outputs() * kernel_h * kernel_w * input_shape[2];
    default: return 0;
  }
}

int64_t FixedNetwork::inputs() const {
  TS_CHECK(!layers.empty(), ErrorKind::kInvalidArgument, "fpga network '{}' has no layers", name);
  return layers.front().inputs();
}

int64_t FixedNetwork::outputs() const {
  TS_CHECK(!layers.empty(), ErrorKind::kInvalidArgument, "fpga network '{}' has no layers", name);
  return layers.back().outputs();
}

std::vector<int64_t> FixedNetwork::quantize_input(std::span<const float> x) const {
  std::vector<int64_t> raw(x.size());
  for (size_t i = 0; i < x.size(); ++i) raw[i] = quantize_fixed(x[i], input);
  return raw;
}

std::vector<int64_t> FixedNetwork::run(std::span<const int64_t> in) const {
  TS_CHECK(static_cast<int64_t>(in.size()) == inputs(), ErrorKind::kInvalidArgument,
           "fpga network '{}': {} input values, expected {}", name, in.size(), inputs());
  std::vector<int64_t> x(in.begin(), in.end()), y;
  for (const FixedLayer& l : layers) {
    switch (l.kind) {
      case FixedLayerKind::kDense: dense(l, x, y); break;
      case FixedLayerKind::kConv2D: conv2d(l, x, y); break;
      case FixedLayerKind::kMaxPool2D: max_pool(l, x, y); break;
      case FixedLayerKind::kRelu:
        y.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i)
          y[i] = requantize_fixed(x[i] > 0 ? x[i] : 0, l.input, l.result);
        break;
      case FixedLayerKind::kLinear:
        y.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) y[i] = requantize_fixed(x[i], l.input, l.result);
        break;
      case FixedLayerKind::kFlatten:
        y = x;
        break;
    }
    std::swap(x, y);
  }
  return x;
}

Tensor FixedNetwork::predict(const Tensor& x) const {
  const int64_t n = x.shape().rank() == 0 ? 1 : x.shape()[0];
  const int64_t per = inputs(), out = outputs();
  TS_CHECK(x.numel() == n * per, ErrorKind::kInvalidArgument,
           "fpga network '{}': input {} does not hold {} values per sample", name,
           x.shape().str(), per);
  std::vector<float> xv = x.to_f32_vector();
  Tensor y = Tensor::zeros(kF32, {n, out});
  const FixedFormat& res = layers.back().result;
  for (int64_t s = 0; s < n; ++s) {
    std::vector<int64_t> r =
        run(quantize_input(std::span<const float>(xv.data() + s * per, static_cast<size_t>(per))));
    for (int64_t j = 0; j < out; ++j)
      y.set(s * out + j, static_cast<double>(fixed_to_real(r[static_cast<size_t>(j)], res)));
  }
  return y;
}

}  // namespace tessera::sim
