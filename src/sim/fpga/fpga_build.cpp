// build_fixed_network: a Sequential-style predict graph -> FixedNetwork. Three steps: read the
// graph into real-valued layers, profile their ranges on calibration data when a precision
// asks for it (auto<W>), then resolve every format front to back (a layer's input format is
// the previous result, which hls4ml's accum inference needs) and quantize the weights.
// Also fixed_point_accuracy.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/sim/fpga/fixed_evaluator.h"
#include "tessera/sim/fpga/fpga_config.h"
#include "tessera/sim/functional.h"

namespace tessera::sim {
namespace {

struct RealLayer {
  FixedLayer shape;  // kind, name, shapes, geometry, reuse (formats resolved later)
  std::vector<double> weights, biases;
  // Profiled magnitudes (calibration): input, weights, biases, partial sums, result.
  double max_in = 0, max_w = 0, max_b = 0, max_acc = 0, max_out = 0;
};

std::string scope_of(const std::string& node_name) {
  const size_t slash = node_name.find('/');
  return slash == std::string::npos ? node_name : node_name.substr(0, slash);
}

Shape per_sample(const Shape& s) {
  std::vector<int64_t> d(s.dims().begin() + 1, s.dims().end());
  return Shape(std::span<const int64_t>(d));
}

std::vector<double> values(const Tensor& t) {
  std::vector<float> v = t.to_f32_vector();
  return {v.begin(), v.end()};
}

[[noreturn]] void unsupported(const Graph& g, ValueId id, const std::string& why) {
  throw Error(ErrorKind::kUnsupported,
              fmt::format("fpga: node {} ({}): {}", g.describe(id), op_name(g.node(id).op), why));
}

ValueId parameter_input(const Graph& g, ValueId id, int operand) {
  const ValueId p = g.node(id).inputs[static_cast<size_t>(operand)];
  if (g.node(p).op != OpKind::kParameter && g.node(p).op != OpKind::kConstant)
    unsupported(g, id, "expected a weight (parameter) operand");
  return p;
}

std::vector<RealLayer> read_graph(const Graph& g, std::vector<std::string>& notes) {
  TS_CHECK(g.inputs().size() == 1 && !g.outputs().empty(), ErrorKind::kUnsupported,
           "fpga: the predict graph must have one input, got {}", g.inputs().size());
  std::vector<RealLayer> layers;
  ValueId current = g.inputs()[0];
  Shape shape = per_sample(g.type(current).shape);
  auto data_input = [&](ValueId id) {
    const Node& n = g.node(id);
    if (n.inputs.empty() || n.inputs[0] != current)
      unsupported(g, id, "not a chain of layers (only Sequential-style models convert)");
  };
  for (ValueId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    if (n.op == OpKind::kInput || n.op == OpKind::kParameter || n.op == OpKind::kConstant) continue;
    data_input(id);
    const Shape out = per_sample(n.type.shape);
    const std::string scope = scope_of(n.name);
    RealLayer l;
    l.shape.name = scope;
    l.shape.input_shape = shape;
    l.shape.output_shape = out;
    switch (n.op) {
      case OpKind::kReshape: l.shape.kind = FixedLayerKind::kFlatten; break;
      case OpKind::kMatMul: {
        if (n.attrs.get_int_or("transpose_a", 0) != 0 || n.attrs.get_int_or("transpose_b", 0) != 0 ||
            shape.rank() != 1)
          unsupported(g, id, "only x [N, n_in] · W [n_in, n_out] converts to a dense layer");
        l.shape.kind = FixedLayerKind::kDense;
        l.weights = values(g.node(parameter_input(g, id, 1)).value);
        break;
      }
      case OpKind::kConv2D: {
        if (n.attrs.get_int_or("groups", 1) != 1) unsupported(g, id, "grouped convolutions do not convert");
        for (int64_t d : n.attrs.get_ints("dilations"))
          if (d != 1) unsupported(g, id, "dilated convolutions do not convert");
        l.shape.kind = FixedLayerKind::kConv2D;
        const Tensor& w = g.node(parameter_input(g, id, 1)).value;
        l.weights = values(w);
        l.shape.kernel_h = w.shape()[0];
        l.shape.kernel_w = w.shape()[1];
        break;
      }
      case OpKind::kMaxPool2D: {
        l.shape.kind = FixedLayerKind::kMaxPool2D;
        const auto& win = n.attrs.get_ints("window");
        l.shape.kernel_h = win[0];
        l.shape.kernel_w = win[1];
        break;
      }
      case OpKind::kAdd: {
        if (layers.empty() || (layers.back().shape.kind != FixedLayerKind::kDense &&
                               layers.back().shape.kind != FixedLayerKind::kConv2D) ||
            !layers.back().biases.empty())
          unsupported(g, id, "only a bias add after a dense or conv2d layer converts");
        layers.back().biases = values(g.node(parameter_input(g, id, 1)).value);
        current = id;
        continue;
      }
      case OpKind::kRelu:
        l.shape.kind = FixedLayerKind::kRelu;
        l.shape.name = scope + "_relu";
        break;
      case OpKind::kSoftmax: {
        const bool last = std::find(g.outputs().begin(), g.outputs().end(), id) != g.outputs().end();
        if (!last) unsupported(g, id, "a softmax converts only as the model's final layer");
        notes.push_back(fmt::format("the final softmax ({}) is dropped: it is monotonic, so the "
                                    "top-1 class is unchanged; outputs are logits",
                                    n.name));
        current = id;
        continue;
      }
      default: unsupported(g, id, "no FPGA layer for this op");
    }
    if (n.op == OpKind::kConv2D || n.op == OpKind::kMaxPool2D) {
      const auto& st = n.attrs.get_ints("strides");
      const auto& pads = n.attrs.get_ints("pads");  // [top, bottom, left, right]
      l.shape.stride_h = st[0];
      l.shape.stride_w = st[1];
      l.shape.pad_top = pads[0];
      l.shape.pad_bottom = pads[1];
      l.shape.pad_left = pads[2];
      l.shape.pad_right = pads[3];
    }
    layers.push_back(std::move(l));
    current = id;
    shape = out;
  }
  TS_CHECK(!layers.empty(), ErrorKind::kUnsupported, "fpga: the predict graph has no layers");
  return layers;
}

// The real-valued network over one sample, recording magnitudes (the calibration profile).
void profile_sample(std::vector<RealLayer>& layers, std::vector<double> x) {
  std::vector<double> y;
  for (RealLayer& rl : layers) {
    const FixedLayer& l = rl.shape;
    for (double v : x) rl.max_in = std::max(rl.max_in, std::fabs(v));
    switch (l.kind) {
      case FixedLayerKind::kDense: {
        const int64_t n_in = l.inputs(), n_out = l.outputs();
        y.assign(static_cast<size_t>(n_out), 0.0);
        for (int64_t j = 0; j < n_out; ++j) y[j] = rl.biases.empty() ? 0.0 : rl.biases[j];
        for (double v : y) rl.max_acc = std::max(rl.max_acc, std::fabs(v));
        for (int64_t i = 0; i < n_in; ++i) {
          if (x[i] == 0) continue;
          for (int64_t j = 0; j < n_out; ++j) {
            y[j] += x[i] * rl.weights[i * n_out + j];
            rl.max_acc = std::max(rl.max_acc, std::fabs(y[j]));
          }
        }
        break;
      }
      case FixedLayerKind::kConv2D: {
        const int64_t H = l.input_shape[0], W = l.input_shape[1], C = l.input_shape[2];
        const int64_t P = l.output_shape[0], Q = l.output_shape[1], K = l.output_shape[2];
        y.assign(static_cast<size_t>(P * Q * K), 0.0);
        for (int64_t p = 0; p < P; ++p)
          for (int64_t q = 0; q < Q; ++q)
            for (int64_t k = 0; k < K; ++k) {
              double acc = rl.biases.empty() ? 0.0 : rl.biases[k];
              for (int64_t r = 0; r < l.kernel_h; ++r)
                for (int64_t s = 0; s < l.kernel_w; ++s) {
                  const int64_t h = p * l.stride_h + r - l.pad_top, w = q * l.stride_w + s - l.pad_left;
                  if (h < 0 || h >= H || w < 0 || w >= W) continue;
                  for (int64_t c = 0; c < C; ++c) {
                    acc += x[(h * W + w) * C + c] * rl.weights[((r * l.kernel_w + s) * C + c) * K + k];
                    rl.max_acc = std::max(rl.max_acc, std::fabs(acc));
                  }
                }
              y[(p * Q + q) * K + k] = acc;
            }
        break;
      }
      case FixedLayerKind::kMaxPool2D: {
        const int64_t H = l.input_shape[0], W = l.input_shape[1], C = l.input_shape[2];
        const int64_t P = l.output_shape[0], Q = l.output_shape[1];
        y.assign(static_cast<size_t>(P * Q * C), 0.0);
        for (int64_t p = 0; p < P; ++p)
          for (int64_t q = 0; q < Q; ++q)
            for (int64_t c = 0; c < C; ++c) {
              double best = -INFINITY;
              for (int64_t r = 0; r < l.kernel_h; ++r)
                for (int64_t s = 0; s < l.kernel_w; ++s) {
                  const int64_t h = p * l.stride_h + r - l.pad_top, w = q * l.stride_w + s - l.pad_left;
                  if (h >= 0 && h < H && w >= 0 && w < W) best = std::max(best, x[(h * W + w) * C + c]);
                }
              y[(p * Q + q) * C + c] = std::isinf(best) ? 0.0 : best;
            }
        break;
      }
      case FixedLayerKind::kRelu:
        y.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) y[i] = std::max(x[i], 0.0);
        break;
      default: y = x; break;
    }
    for (double v : y) rl.max_out = std::max(rl.max_out, std::fabs(v));
    std::swap(x, y);
  }
}

// auto<W>: W bits, the fewest integer bits (sign included) whose range holds `magnitude`.
FixedFormat profiled(const PrecisionSpec& s, double magnitude) {
  FixedFormat f = s.format;
  f.is_signed = true;
  int bits = 1;
  if (magnitude > 0) bits = static_cast<int>(std::floor(std::log2(magnitude))) + 2;
  f.int_bits = std::min(bits, f.width);
  return f;
}

}  // namespace

FixedNetwork build_fixed_network(const Graph& predict_graph, const FpgaConfig& config,
                                 const Tensor* calibration_inputs) {
  FixedNetwork net;
  net.name = "model";
  net.io = config.io;
  std::vector<RealLayer> layers = read_graph(predict_graph, net.notes);

  // Profile when any precision asks for it.
  const std::string input_key = predict_graph.node(predict_graph.inputs()[0]).name;
  bool needs_profile = config.precision_of(input_key, "result").kind == PrecisionSpec::Kind::kProfile;
  for (const RealLayer& l : layers)
    for (const char* t : {"weight", "bias", "accum", "result"})
      needs_profile |= config.precision_of(l.shape.name, t).kind == PrecisionSpec::Kind::kProfile;
  if (needs_profile) {
    TS_CHECK(calibration_inputs != nullptr && calibration_inputs->defined() &&
                 calibration_inputs->numel() > 0,
             ErrorKind::kInvalidArgument,
             "fpga config '{}': a profiled precision (auto<W>) needs calibration inputs",
             config.source);
    const std::vector<float> xv = calibration_inputs->to_f32_vector();
    const int64_t per = layers.front().shape.inputs();
    TS_CHECK(static_cast<int64_t>(xv.size()) % per == 0, ErrorKind::kInvalidArgument,
             "fpga: calibration inputs {} do not hold {} values per sample",
             calibration_inputs->shape().str(), per);
    for (RealLayer& l : layers) {
      for (double w : l.weights) l.max_w = std::max(l.max_w, std::fabs(w));
      for (double b : l.biases) l.max_b = std::max(l.max_b, std::fabs(b));
    }
    for (size_t s = 0; s < xv.size(); s += static_cast<size_t>(per))
      profile_sample(layers, std::vector<double>(xv.begin() + static_cast<std::ptrdiff_t>(s),
                                                 xv.begin() + static_cast<std::ptrdiff_t>(s) + per));
    net.notes.push_back(fmt::format("profiled precisions from {} calibration samples",
                                    xv.size() / static_cast<size_t>(per)));
  }

  auto fixed = [&](const std::string& layer, const char* type, double magnitude) {
    const PrecisionSpec s = config.precision_of(layer, type);
    if (s.kind == PrecisionSpec::Kind::kProfile) return profiled(s, magnitude);
    if (s.kind == PrecisionSpec::Kind::kFixed) return s.format;
    // auto for weight/bias: the model's default precision (hls4ml's _infer_default_type).
    if (config.precision.kind == PrecisionSpec::Kind::kProfile) return profiled(config.precision, magnitude);
    return config.precision.format;
  };

  {
    const PrecisionSpec s = config.precision_of(input_key, "result");
    net.input = s.kind == PrecisionSpec::Kind::kProfile ? profiled(s, layers.front().max_in)
                : s.kind == PrecisionSpec::Kind::kFixed  ? s.format
                                                         : config.precision.format;
  }
  FixedFormat current = net.input;
  for (RealLayer& rl : layers) {
    FixedLayer l = rl.shape;
    const std::string& name = l.name;
    l.input = current;
    auto it = config.layers.find(name);
    const bool has = it != config.layers.end();
    l.reuse_factor = has && it->second.reuse_factor ? *it->second.reuse_factor : config.reuse_factor;
    l.strategy = has && it->second.strategy ? *it->second.strategy : config.strategy;
    const bool arithmetic = l.kind == FixedLayerKind::kDense || l.kind == FixedLayerKind::kConv2D;
    if (arithmetic) {
      const int64_t n_in = l.kind == FixedLayerKind::kDense
                               ? l.inputs()
                               : l.kernel_h * l.kernel_w * l.input_shape[2];
      TS_CHECK(n_in % l.reuse_factor == 0, ErrorKind::kInvalidArgument,
               "fpga config '{}': layer '{}': ReuseFactor {} does not divide n_in = {} (valid "
               "reuse factors divide {})",
               config.source, name, l.reuse_factor, n_in, n_in);
      l.weight = fixed(name, "weight", rl.max_w);
      l.bias = fixed(name, "bias", rl.max_b);
      const PrecisionSpec acc = config.precision_of(name, "accum");
      l.accum = acc.kind == PrecisionSpec::Kind::kAuto
                    ? infer_dense_accum(l.input, l.weight, l.bias, n_in, !rl.biases.empty())
                    : fixed(name, "accum", rl.max_acc);
      const PrecisionSpec res = config.precision_of(name, "result");
      l.result = res.kind == PrecisionSpec::Kind::kAuto ? l.accum : fixed(name, "result", rl.max_out);
      for (double w : rl.weights) l.weights.push_back(quantize_fixed(w, l.weight));
      for (double b : rl.biases) l.biases.push_back(quantize_fixed(b, l.bias));
    } else {
      l.weight = l.bias = l.accum = current;
      const PrecisionSpec res = config.precision_of(name, "result");
      // Shape-only layers keep their input's format unless told otherwise; an `auto`
      // activation does too (hls4ml matches the output to the input for such layers).
      const bool passthrough = l.kind == FixedLayerKind::kFlatten || l.kind == FixedLayerKind::kMaxPool2D;
      const bool configured = has && it->second.precision.result.has_value();
      if (res.kind == PrecisionSpec::Kind::kAuto || (passthrough && !configured))
        l.result = current;
      else
        l.result = fixed(name, "result", rl.max_out);
    }
    current = l.result;
    net.layers.push_back(std::move(l));
  }
  return net;
}

AccuracyReport fixed_point_accuracy(const Graph& predict_graph, const FixedNetwork& net,
                                    const Tensor& x_test, const Tensor& y_test) {
  TS_CHECK(x_test.defined() && y_test.defined() && y_test.rank() >= 1 &&
               y_test.shape()[0] == x_test.shape()[0],
           ErrorKind::kInvalidArgument,
           "fixed_point_accuracy: y_test must have one row per sample of x_test ({})",
           x_test.defined() ? x_test.shape().str() : "none");
  const int64_t n = x_test.shape()[0];
  std::vector<int64_t> labels(static_cast<size_t>(n));
  if (y_test.rank() == 1) {
    for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<int64_t>(y_test.get(i));
  } else {
    const int64_t k = y_test.numel() / std::max<int64_t>(n, 1);
    const std::vector<float> yv = y_test.to_f32_vector();
    for (int64_t i = 0; i < n; ++i)
      labels[i] = std::max_element(yv.begin() + i * k, yv.begin() + (i + 1) * k) - (yv.begin() + i * k);
  }
  FunctionalModel reference(predict_graph, TargetNumerics{});
  const Tensor scores = reference.predict(x_test, 256);
  const int64_t classes = scores.numel() / std::max<int64_t>(n, 1);
  const std::vector<float> sv = scores.to_f32_vector();
  FixedEvaluator ev(net);
  const std::vector<int64_t> fixed = ev.classify(x_test);
  AccuracyReport r;
  r.numerics = fmt::format("fixed point (input {})", precision_string(net.input));
  r.samples = n;
  int64_t ref_ok = 0, fix_ok = 0, same = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ref = std::max_element(sv.begin() + i * classes, sv.begin() + (i + 1) * classes) -
                        (sv.begin() + i * classes);
    ref_ok += ref == labels[i];
    fix_ok += fixed[i] == labels[i];
    same += ref == fixed[i];
  }
  if (n > 0) {
    r.reference = static_cast<double>(ref_ok) / static_cast<double>(n);
    r.target = static_cast<double>(fix_ok) / static_cast<double>(n);
    r.agreement = static_cast<double>(same) / static_cast<double>(n);
  }
  return r;
}

}  // namespace tessera::sim
