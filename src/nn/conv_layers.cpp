// Conv1D, Conv2D, DepthwiseConv2D, MaxPool2D, AveragePool2D and GlobalAveragePooling2D.
// Arguments are checked when a layer is made and again against its input when it is built,
// so a kernel that cannot fit, a stride of 0 or channels that groups do not divide is an
// error naming the layer and the value, not a failure deep in the graph.
#include "tessera/nn/conv_layers.h"

#include <algorithm>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/nn/initializers.h"
#include "tessera/nn/layers.h"

namespace tessera {
namespace {


std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

// A size given for `axes` axes: one value applies to all. Each must be >= 1.
std::vector<int64_t> sizes(const std::string& where, const char* what, std::vector<int64_t> v,
                           size_t axes) {
  if (v.size() == 1 && axes > 1) v.assign(axes, v[0]);
  bool ok = v.size() == axes;
  for (int64_t d : v) ok = ok && d >= 1;
  TS_CHECK(ok, ErrorKind::kInvalidArgument, "{}: {} must be {} integer{} >= 1, got {}", where, what,
           axes, axes > 1 ? "s" : "", list_str(v));
  return v;
}

void check_padding(const std::string& where, const std::string& padding, bool causal_ok) {
  bool ok = padding == "valid" || padding == "same" || (causal_ok && padding == "causal");
  TS_CHECK(ok, ErrorKind::kInvalidArgument, "{}: padding must be 'valid', 'same'{}, got '{}'",
           where, causal_ok ? " or 'causal'" : "", padding);
}

// Explicit pads [top, bottom, left, right] and the output size of one spatial layout, or an
// error naming the layer, the sizes and the padding when the window does not fit.
struct Plan {
  std::vector<int64_t> pads;
  int64_t out_h = 0, out_w = 0;
};

Plan plan(const std::string& where, const char* window_name, int64_t in_h, int64_t in_w,
          const std::vector<int64_t>& k, const std::vector<int64_t>& s,
          const std::vector<int64_t>& d, const std::string& padding) {
  Plan p;
  p.pads = {0, 0, 0, 0};
  if (padding == "same") {
    PadsHW h = same_padding(in_h, k[0], s[0], d[0]), w = same_padding(in_w, k[1], s[1], d[1]);
    p.pads = {h.before, h.after, w.before, w.after};
  } else if (padding == "causal") {  // Conv1D: the output at t sees inputs up to t
    p.pads[2] = d[1] * (k[1] - 1);
  }
  p.out_h = conv_out_size(in_h, k[0], s[0], d[0], p.pads[0], p.pads[1]);
  p.out_w = conv_out_size(in_w, k[1], s[1], d[1], p.pads[2], p.pads[3]);
  TS_CHECK(p.out_h >= 1 && p.out_w >= 1, ErrorKind::kInvalidArgument,
           "{}: {} {} (dilation {}) does not fit the {}x{} input with padding '{}' (the output "
           "would be {}x{}); use padding 'same', a smaller window or a larger input",
           where, window_name, list_str(k), list_str(d), in_h, in_w, padding, p.out_h, p.out_w);
  return p;
}

// The input as [N, H, W, C] dims, checked: one float input of `rank` with static sizes.
Shape checked_input(const std::string& where, std::span<const TensorType> in, int rank,
                    const char* layout) {
  TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}", where,
           in.size());
  const Shape& s = in[0].shape;
  TS_CHECK(s.rank() == rank, ErrorKind::kInvalidArgument,
           "{}: expects an input of rank {} {}, got {}", where, rank, layout, in[0].str());
  TS_CHECK(in[0].dtype.is_float(), ErrorKind::kInvalidArgument, "{}: expects a float input, got {}",
           where, in[0].str());
  for (int i = 1; i < rank; ++i)
    TS_CHECK(s[i] > 0, ErrorKind::kInvalidArgument, "{}: the non-batch dims of {} must be static",
             where, in[0].str());
  if (rank == 3) return Shape{s[0], 1, s[1], s[2]};
  return s;
}

// ---- convolutions ------------------------------------------------------------------------

enum class ConvKind { k1D, k2D, kDepthwise };

struct ConvConfig {
  ConvKind kind;
  int64_t filters = 0;                   // 0 for depthwise (channels x multiplier)
  std::vector<int64_t> kernel, strides;  // as given: 1 entry for Conv1D, 2 otherwise
  std::vector<int64_t> dilation;
  std::string padding;
  int64_t groups = 1;  // depthwise: the depth multiplier
  std::string activation;
  bool use_bias = true;
  std::string kernel_initializer, bias_initializer;
};

class ConvLayer final : public Layer {
 public:
  ConvLayer(ConvConfig c, std::optional<Shape> input_shape, std::string name)
      : Layer(default_name(std::move(name), c.kind == ConvKind::k1D   ? "conv1d"
                                            : c.kind == ConvKind::k2D ? "conv2d"
                                                                      : "depthwise_conv2d")),
        c_(std::move(c)) {
    const size_t axes = c_.kind == ConvKind::k1D ? 1 : 2;
    const std::string where = describe();
    c_.kernel = sizes(where, "kernel_size", c_.kernel, axes);
    c_.strides = sizes(where, "strides", c_.strides, axes);
    c_.dilation = sizes(where, "dilation_rate", c_.dilation, axes);
    if (c_.kind == ConvKind::kDepthwise) {
      TS_CHECK(c_.groups >= 1, ErrorKind::kInvalidArgument,
               "{}: depth_multiplier must be >= 1, got {}", where, c_.groups);
    } else {
      TS_CHECK(c_.filters >= 1, ErrorKind::kInvalidArgument, "{}: filters must be >= 1, got {}",
               where, c_.filters);
      TS_CHECK(c_.groups >= 1, ErrorKind::kInvalidArgument, "{}: groups must be >= 1, got {}",
               where, c_.groups);
      TS_CHECK(c_.filters % c_.groups == 0, ErrorKind::kInvalidArgument,
               "{}: filters {} must be divisible by groups {}", where, c_.filters, c_.groups);
    }
    check_padding(where, c_.padding, c_.kind == ConvKind::k1D);
    if (c_.activation == "linear") c_.activation.clear();
    check_activation(c_.activation, where);
    check_initializer(c_.kernel_initializer, where);
    check_initializer(c_.bias_initializer, where);
    if (input_shape) set_input_shape(*input_shape);
  }

  std::string class_name() const override {
    return c_.kind == ConvKind::k1D   ? "Conv1D"
           : c_.kind == ConvKind::k2D ? "Conv2D"
                                      : "DepthwiseConv2D";
  }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    const TensorType t = b.type(in[0]);
    Shape s = checked_input(describe(), {&t, 1}, rank(), layout());
    Plan p =
        plan(describe(), "kernel_size", s[1], s[2], kernel2(), strides2(), dilation2(), c_.padding);
    ValueId x = in[0];
    if (c_.kind == ConvKind::k1D) x = b.reshape(x, s);
    const int64_t channels = s[3];
    ValueId w = ctx.param(weights()[0]);
    Shape w4 = c_.kind == ConvKind::kDepthwise
                   ? Shape{kernel2()[0], kernel2()[1], 1, channels * c_.groups}
                   : Shape{kernel2()[0], kernel2()[1], channels / c_.groups, c_.filters};
    w = b.reshape(w, w4);
    ValueId y = b.conv2d(x, w, strides2(), p.pads, dilation2(),
                         c_.kind == ConvKind::kDepthwise ? channels : c_.groups);
    if (c_.kind == ConvKind::k1D) y = b.reshape(y, Shape{s[0], p.out_w, c_.filters});
    if (c_.use_bias) y = b.add(y, ctx.param(weights()[1]));
    return apply_activation(b, c_.activation, y);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    if (c_.kind != ConvKind::kDepthwise) j["filters"] = c_.filters;
    j["kernel_size"] = c_.kernel;
    j["strides"] = c_.strides;
    j["padding"] = c_.padding;
    if (c_.kind == ConvKind::kDepthwise) j["depth_multiplier"] = c_.groups;
    j["dilation_rate"] = c_.dilation;
    if (c_.kind != ConvKind::kDepthwise) j["groups"] = c_.groups;
    j["activation"] = c_.activation.empty() ? "linear" : c_.activation;
    j["use_bias"] = c_.use_bias;
    j[c_.kind == ConvKind::kDepthwise ? "depthwise_initializer" : "kernel_initializer"] =
        c_.kernel_initializer;
    j["bias_initializer"] = c_.bias_initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    const std::string where = describe();
    Shape s = checked_input(where, in, rank(), layout());
    const int64_t channels = s[3];
    if (c_.kind != ConvKind::kDepthwise)
      TS_CHECK(channels % c_.groups == 0, ErrorKind::kInvalidArgument,
               "{}: the input's {} channels are not divisible by groups {}", where, channels,
               c_.groups);
    plan(where, "kernel_size", s[1], s[2], kernel2(), strides2(), dilation2(), c_.padding);
    Shape kernel;  // Keras' layout of each kind
    int64_t outputs = c_.filters;
    switch (c_.kind) {
      case ConvKind::k1D:
        kernel = Shape{c_.kernel[0], channels / c_.groups, c_.filters};
        break;
      case ConvKind::k2D:
        kernel = Shape{c_.kernel[0], c_.kernel[1], channels / c_.groups, c_.filters};
        break;
      case ConvKind::kDepthwise:
        kernel = Shape{c_.kernel[0], c_.kernel[1], channels, c_.groups};
        outputs = channels * c_.groups;
        break;
    }
    DType t = in[0].dtype;
    add_weight(c_.kind == ConvKind::kDepthwise ? "depthwise_kernel" : "kernel",
               initialize(c_.kernel_initializer, kernel, rng, t));
    if (c_.use_bias) add_weight("bias", initialize(c_.bias_initializer, {outputs}, rng, t));
  }

 private:
  int rank() const { return c_.kind == ConvKind::k1D ? 3 : 4; }
  const char* layout() const {
    return c_.kind == ConvKind::k1D ? "(batch, steps, channels)"
                                    : "(batch, height, width, channels)";
  }
  // The 2-D geometry: Conv1D is a conv2d of height 1.
  std::vector<int64_t> two(const std::vector<int64_t>& v) const {
    return c_.kind == ConvKind::k1D ? std::vector<int64_t>{1, v[0]} : v;
  }
  std::vector<int64_t> kernel2() const { return two(c_.kernel); }
  std::vector<int64_t> strides2() const { return two(c_.strides); }
  std::vector<int64_t> dilation2() const { return two(c_.dilation); }

  ConvConfig c_;
};

// ---- pooling -------------------------------------------------------------------------------

class PoolLayer final : public Layer {
 public:
  PoolLayer(bool max, std::vector<int64_t> pool_size, Pool2DOptions o)
      : Layer(default_name(o.name, max ? "max_pooling2d" : "average_pooling2d")),
        max_(max),
        padding_(o.padding) {
    const std::string where = describe();
    pool_ = sizes(where, "pool_size", std::move(pool_size), 2);
    strides_ = o.strides.empty() ? pool_ : sizes(where, "strides", o.strides, 2);
    check_padding(where, padding_, false);
    if (o.input_shape) set_input_shape(*o.input_shape);
  }
  std::string class_name() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    const TensorType t = ctx.b.type(in[0]);
    Shape s = checked_input(describe(), {&t, 1}, 4, "(batch, height, width, channels)");
    Plan p = plan(describe(), "pool_size", s[1], s[2], pool_, strides_, {1, 1}, padding_);
    return max_ ? ctx.b.max_pool2d(in[0], pool_, strides_, p.pads)
                : ctx.b.avg_pool2d(in[0], pool_, strides_, p.pads);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["pool_size"] = pool_;
    j["strides"] = strides_;
    j["padding"] = padding_;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    Shape s = checked_input(describe(), in, 4, "(batch, height, width, channels)");
    plan(describe(), "pool_size", s[1], s[2], pool_, strides_, {1, 1}, padding_);
  }

 private:
  bool max_;
  std::string padding_;
  std::vector<int64_t> pool_, strides_;
};

class GlobalAveragePoolingLayer final : public Layer {
 public:
  GlobalAveragePoolingLayer(std::string name, bool keepdims)
      : Layer(default_name(std::move(name), "global_average_pooling2d")), keepdims_(keepdims) {}
  std::string class_name() const override { return "GlobalAveragePooling2D"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    return ctx.b.reduce_mean(in[0], {1, 2}, keepdims_);
  }
  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["keepdims"] = keepdims_;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    checked_input(describe(), in, 4, "(batch, height, width, channels)");
  }

 private:
  bool keepdims_;
};

// ---- JSON ------------------------------------------------------------------------------------

// An int or a list of ints (Keras writes both).
std::vector<int64_t> ints(const nlohmann::json& j, const char* key, std::vector<int64_t> fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_number_integer()) return {j[key].get<int64_t>()};
  return j[key].get<std::vector<int64_t>>();
}

int64_t one_int(const nlohmann::json& j, const char* key, int64_t fallback) {
  std::vector<int64_t> v = ints(j, key, {fallback});
  TS_CHECK(v.size() == 1, ErrorKind::kInvalidArgument, "'{}' must be one integer, got {}", key,
           list_str(v));
  return v[0];
}

}  // namespace

LayerPtr Conv2D(int64_t filters, std::vector<int64_t> kernel_size, Conv2DOptions o) {
  ConvConfig c{ConvKind::k2D,
               filters,
               std::move(kernel_size),
               std::move(o.strides),
               o.dilation_rate,
               o.padding,
               o.groups,
               o.activation,
               o.use_bias,
               o.kernel_initializer,
               o.bias_initializer};
  return std::make_shared<ConvLayer>(std::move(c), o.input_shape, o.name);
}

LayerPtr Conv1D(int64_t filters, int64_t kernel_size, Conv1DOptions o) {
  ConvConfig c{ConvKind::k1D,     filters,  {kernel_size}, {o.strides}, {o.dilation_rate},
               o.padding,         o.groups, o.activation,  o.use_bias,  o.kernel_initializer,
               o.bias_initializer};
  return std::make_shared<ConvLayer>(std::move(c), o.input_shape, o.name);
}

LayerPtr DepthwiseConv2D(std::vector<int64_t> kernel_size, DepthwiseConv2DOptions o) {
  ConvConfig c{ConvKind::kDepthwise,
               0,
               std::move(kernel_size),
               std::move(o.strides),
               o.dilation_rate,
               o.padding,
               o.depth_multiplier,
               o.activation,
               o.use_bias,
               o.depthwise_initializer,
               o.bias_initializer};
  return std::make_shared<ConvLayer>(std::move(c), o.input_shape, o.name);
}

LayerPtr MaxPool2D(std::vector<int64_t> pool_size, Pool2DOptions o) {
  return std::make_shared<PoolLayer>(true, std::move(pool_size), std::move(o));
}

LayerPtr AveragePool2D(std::vector<int64_t> pool_size, Pool2DOptions o) {
  return std::make_shared<PoolLayer>(false, std::move(pool_size), std::move(o));
}

LayerPtr GlobalAveragePooling2D(std::string name, bool keepdims) {
  return std::make_shared<GlobalAveragePoolingLayer>(std::move(name), keepdims);
}

LayerPtr conv_layer_from_config(const std::string& class_name, const nlohmann::json& j) {
  std::string name = j.value("name", std::string());
  std::string activation = j.value("activation", std::string());
  if (class_name == "Conv2D") {
    Conv2DOptions o;
    o.strides = ints(j, "strides", o.strides);
    o.padding = j.value("padding", o.padding);
    o.dilation_rate = ints(j, "dilation_rate", o.dilation_rate);
    o.groups = j.value("groups", o.groups);
    o.activation = activation;
    o.use_bias = j.value("use_bias", true);
    o.kernel_initializer = j.value("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = j.value("bias_initializer", o.bias_initializer);
    o.name = name;
    return Conv2D(j.at("filters").get<int64_t>(), ints(j, "kernel_size", {}), std::move(o));
  }
  if (class_name == "Conv1D") {
    Conv1DOptions o;
    o.strides = one_int(j, "strides", o.strides);
    o.padding = j.value("padding", o.padding);
    o.dilation_rate = one_int(j, "dilation_rate", o.dilation_rate);
    o.groups = j.value("groups", o.groups);
    o.activation = activation;
    o.use_bias = j.value("use_bias", true);
    o.kernel_initializer = j.value("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = j.value("bias_initializer", o.bias_initializer);
    o.name = name;
    return Conv1D(j.at("filters").get<int64_t>(), one_int(j, "kernel_size", 0), std::move(o));
  }
  if (class_name == "DepthwiseConv2D") {
    DepthwiseConv2DOptions o;
    o.strides = ints(j, "strides", o.strides);
    o.padding = j.value("padding", o.padding);
    o.depth_multiplier = j.value("depth_multiplier", o.depth_multiplier);
    o.dilation_rate = ints(j, "dilation_rate", o.dilation_rate);
    o.activation = activation;
    o.use_bias = j.value("use_bias", true);
    o.depthwise_initializer = j.value("depthwise_initializer", o.depthwise_initializer);
    o.bias_initializer = j.value("bias_initializer", o.bias_initializer);
    o.name = name;
    return DepthwiseConv2D(ints(j, "kernel_size", {}), std::move(o));
  }
  // Keras' class names are MaxPooling2D / AveragePooling2D; MaxPool2D / AvgPool2D alias them.
  bool max = class_name == "MaxPooling2D" || class_name == "MaxPool2D";
  if (max || class_name == "AveragePooling2D" || class_name == "AveragePool2D" ||
      class_name == "AvgPool2D") {
    Pool2DOptions o;
    o.strides = ints(j, "strides", {});
    o.padding = j.value("padding", o.padding);
    o.name = name;
    std::vector<int64_t> pool = ints(j, "pool_size", {2, 2});
    return max ? MaxPool2D(std::move(pool), std::move(o))
               : AveragePool2D(std::move(pool), std::move(o));
  }
  if (class_name == "GlobalAveragePooling2D")
    return GlobalAveragePooling2D(name, j.value("keepdims", false));
  return nullptr;
}

}  // namespace tessera
