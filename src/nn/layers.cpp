// The built-in layers. Each checks its inputs in build_weights (errors name the layer) and
// emits only GraphBuilder primitives in call(), so autodiff and every backend handle them.
#include "tessera/nn/layers.h"

#include <algorithm>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/conv_layers.h"
#include "tessera/nn/graph_layer.h"
#include "tessera/nn/initializers.h"
#include "tessera/nn/normalization.h"

namespace tessera {
namespace {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {"relu", "sigmoid", "tanh",
                                                 "softmax", "gelu", "linear"};
  return names;
}

bool is_activation(const std::string& a) {
  return a.empty() || std::find(activation_names().begin(), activation_names().end(), a) !=
                          activation_names().end();
}

[[noreturn]] void unknown_activation(const std::string& a, const std::string& where) {
  std::string known;
  for (const std::string& n : activation_names()) known += (known.empty() ? "" : ", ") + n;
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("{}unknown activation '{}' (known: {})", where, a, known));
}

}  // namespace

void check_activation(const std::string& a, const std::string& where) {
  if (!is_activation(a)) unknown_activation(a, where + ": ");
}

std::string default_name(std::string name, const char* fallback) {
  return name.empty() ? std::string(fallback) : std::move(name);
}

namespace {

// ---- Dense ---------------------------------------------------------------------------

class DenseLayer final : public Layer {
 public:
  DenseLayer(int64_t units, DenseOptions o)
      : Layer(default_name(o.name, "dense")), units_(units), opt_(std::move(o)) {
    TS_CHECK(units_ > 0, ErrorKind::kInvalidArgument, "{}: units must be > 0, got {}",
             describe(), units_);
    check_activation(opt_.activation, describe());
    for (const std::string* init : {&opt_.kernel_initializer, &opt_.bias_initializer})
      check_initializer(*init, describe());
    if (opt_.input_shape) set_input_shape(*opt_.input_shape);
  }
  std::string class_name() const override { return "Dense"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    // Rank > 2: matmul broadcasts the kernel over the leading dims, which applies it to the
    // last axis without a reshape (the IR cannot name N·T with one symbolic dim).
    ValueId y = b.matmul(in[0], ctx.param(weights()[0]));
    if (opt_.use_bias) y = b.add(y, ctx.param(weights()[1]));
    return apply_activation(b, opt_.activation, y);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["units"] = units_;
    j["activation"] = opt_.activation.empty() ? "linear" : opt_.activation;
    j["use_bias"] = opt_.use_bias;
    j["kernel_initializer"] = opt_.kernel_initializer;
    j["bias_initializer"] = opt_.bias_initializer;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng& rng) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}",
             describe(), in.size());
    const Shape& s = in[0].shape;
    TS_CHECK(s.rank() >= 2, ErrorKind::kInvalidArgument,
             "{}: expects an input of rank >= 2 (batch, ..., features), got {}", describe(),
             in[0].str());
    TS_CHECK(in[0].dtype.is_float(), ErrorKind::kInvalidArgument,
             "{}: expects a float input, got {}", describe(), in[0].str());
    int64_t features = s[s.rank() - 1];
    TS_CHECK(features > 0, ErrorKind::kInvalidArgument,
             "{}: the last axis of {} must be static", describe(), in[0].str());
    add_weight("kernel", initialize(opt_.kernel_initializer, {features, units_}, rng,
                                    in[0].dtype));
    if (opt_.use_bias)
      add_weight("bias", initialize(opt_.bias_initializer, {units_}, rng, in[0].dtype));
  }

 private:
  int64_t units_;
  DenseOptions opt_;
};

// ---- Activation ----------------------------------------------------------------------

class ActivationLayer final : public Layer {
 public:
  ActivationLayer(std::string activation, std::string name)
      : Layer(default_name(std::move(name), "activation")), activation_(std::move(activation)) {
    check_activation(activation_, describe());
  }
  std::string class_name() const override { return "Activation"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    return apply_activation(ctx.b, activation_, in[0]);
  }
  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["activation"] = activation_.empty() ? "linear" : activation_;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}",
             describe(), in.size());
  }

 private:
  std::string activation_;
};

// ---- Dropout -------------------------------------------------------------------------

class DropoutLayer final : public Layer {
 public:
  DropoutLayer(double rate, std::string name)
      : Layer(default_name(std::move(name), "dropout")), rate_(rate) {
    TS_CHECK(rate_ >= 0.0 && rate_ < 1.0, ErrorKind::kInvalidArgument,
             "{}: rate must be in [0, 1), got {}", describe(), rate_);
  }
  std::string class_name() const override { return "Dropout"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    ValueId x = in[0];
    if (!ctx.training || rate_ == 0.0) return x;
    GraphBuilder& b = ctx.b;
    // Without a step value every step draws the same mask; fine for a one-off graph.
    ValueId step = ctx.step != kNoValue ? ctx.step : b.scalar(0, kI64);
    // Each dropout layer draws its own mask: the model's seed mixed with the layer's name.
    uint64_t seed = mix64(ctx.seed ^ hash_string(name()));
    ValueId u = b.random_uniform(step, b.shape(x), seed);
    ValueId keep = b.compare(OpKind::kGreaterEqual, u, b.scalar(rate_, kF32));
    DType t = b.dtype(x);
    ValueId scaled = b.div(x, b.scalar(1.0 - rate_, t));
    return b.where(keep, scaled, b.scalar(0.0, t));
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["rate"] = rate_;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}",
             describe(), in.size());
    TS_CHECK(in[0].dtype.is_float(), ErrorKind::kInvalidArgument,
             "{}: expects a float input, got {}", describe(), in[0].str());
  }

 private:
  double rate_;
};

// ---- Flatten and Reshape ---------------------------------------------------------------

class FlattenLayer final : public Layer {
 public:
  explicit FlattenLayer(std::string name) : Layer(default_name(std::move(name), "flatten")) {}
  std::string class_name() const override { return "Flatten"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    const Shape& s = ctx.b.shape(in[0]);
    int64_t features = 1;
    for (int i = 1; i < s.rank(); ++i) features *= s[i];
    // The batch dim stays as the graph has it (symbolic or a number).
    return ctx.b.reshape(in[0], Shape{s[0], features});
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}",
             describe(), in.size());
    const Shape& s = in[0].shape;
    TS_CHECK(s.rank() >= 1, ErrorKind::kInvalidArgument,
             "{}: expects a batched input, got {}", describe(), in[0].str());
    for (int i = 1; i < s.rank(); ++i)
      TS_CHECK(s[i] >= 0, ErrorKind::kInvalidArgument,
               "{}: the non-batch dims of {} must be static", describe(), in[0].str());
  }
};

class ReshapeLayer final : public Layer {
 public:
  ReshapeLayer(Shape target, std::string name)
      : Layer(default_name(std::move(name), "reshape")), target_(std::move(target)) {
    int inferred = 0;
    for (int64_t d : target_.dims()) {
      TS_CHECK(d > 0 || d == -1, ErrorKind::kInvalidArgument,
               "{}: target shape {} may hold dims > 0 and one -1", describe(), target_.str());
      inferred += d == -1;
    }
    TS_CHECK(inferred <= 1, ErrorKind::kInvalidArgument,
             "{}: target shape {} has more than one -1", describe(), target_.str());
    TS_CHECK(target_.rank() < kMaxRank, ErrorKind::kInvalidArgument,
             "{}: target shape {} has too many dims", describe(), target_.str());
  }
  std::string class_name() const override { return "Reshape"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    const Shape& s = ctx.b.shape(in[0]);
    return ctx.b.reshape(in[0], with_batch_dim(s[0], resolve(s)));
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["target_shape"] = target_.to_vector();
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() == 1, ErrorKind::kInvalidArgument, "{}: takes one input, got {}",
             describe(), in.size());
    resolve(in[0].shape);
  }

 private:
  // The per-sample target with its -1 filled in; the IR's -1 is the batch, so it must not
  // reach the graph.
  Shape resolve(const Shape& input) const {
    TS_CHECK(input.rank() >= 1, ErrorKind::kInvalidArgument,
             "{}: expects a batched input, got {}", describe(), input.str());
    int64_t have = 1;
    for (int i = 1; i < input.rank(); ++i) {
      TS_CHECK(input[i] >= 0, ErrorKind::kInvalidArgument,
               "{}: the non-batch dims of {} must be static", describe(), input.str());
      have *= input[i];
    }
    int64_t known = 1;
    int at = -1;
    for (int i = 0; i < target_.rank(); ++i) {
      if (target_[i] == -1) at = i;
      else known *= target_[i];
    }
    Shape out = target_;
    if (at >= 0) {
      TS_CHECK(known > 0 && have % known == 0, ErrorKind::kInvalidArgument,
               "{}: cannot reshape {} per sample ({} elements) to {}", describe(),
               per_sample(input).str(), have, target_.str());
      out[at] = have / known;
    } else {
      TS_CHECK(known == have, ErrorKind::kInvalidArgument,
               "{}: cannot reshape {} per sample ({} elements) to {} ({} elements)", describe(),
               per_sample(input).str(), have, target_.str(), known);
    }
    return out;
  }

  Shape target_;
};

// ---- merges --------------------------------------------------------------------------

class AddLayer final : public Layer {
 public:
  explicit AddLayer(std::string name) : Layer(default_name(std::move(name), "add")) {}
  std::string class_name() const override { return "Add"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    ValueId y = in[0];
    for (size_t i = 1; i < in.size(); ++i) y = ctx.b.add(y, in[i]);
    return y;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() >= 2, ErrorKind::kInvalidArgument,
             "{}: takes at least two inputs, got {}", describe(), in.size());
    Shape out = in[0].shape;
    for (size_t i = 1; i < in.size(); ++i) {
      TS_CHECK(in[i].dtype == in[0].dtype, ErrorKind::kInvalidArgument,
               "{}: inputs differ in dtype ({} and {})", describe(), in[0].str(), in[i].str());
      Shape next;
      TS_CHECK(broadcast_shapes(out, in[i].shape, &next), ErrorKind::kInvalidArgument,
               "{}: input shapes {} and {} are not the same and do not broadcast", describe(),
               in[0].shape.str(), in[i].shape.str());
      out = next;
    }
  }
};

class ConcatenateLayer final : public Layer {
 public:
  ConcatenateLayer(int64_t axis, std::string name)
      : Layer(default_name(std::move(name), "concatenate")), axis_(axis) {}
  std::string class_name() const override { return "Concatenate"; }
  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    return ctx.b.concat(in, axis_);
  }
  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["axis"] = axis_;
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> in, Rng&) override {
    TS_CHECK(in.size() >= 2, ErrorKind::kInvalidArgument,
             "{}: takes at least two inputs, got {}", describe(), in.size());
    int rank = in[0].shape.rank();
    int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    TS_CHECK(axis >= 1 && axis < rank, ErrorKind::kInvalidArgument,
             "{}: axis {} is the batch axis or out of range for {}", describe(), axis_,
             in[0].str());
    for (size_t i = 1; i < in.size(); ++i) {
      bool ok = in[i].dtype == in[0].dtype && in[i].shape.rank() == rank;
      for (int d = 1; ok && d < rank; ++d) ok = d == axis || in[i].shape[d] == in[0].shape[d];
      TS_CHECK(ok, ErrorKind::kInvalidArgument,
               "{}: inputs {} and {} must match except on axis {}", describe(), in[0].str(),
               in[i].str(), axis_);
    }
  }

 private:
  int64_t axis_;
};

}  // namespace

ValueId apply_activation(GraphBuilder& b, const std::string& activation, ValueId x) {
  if (activation.empty() || activation == "linear") return x;
  if (activation == "relu") return b.relu(x);
  if (activation == "sigmoid") return b.sigmoid(x);
  if (activation == "tanh") return b.tanh(x);
  if (activation == "softmax") return b.softmax(x, -1);
  if (activation == "gelu") return b.gelu(x);
  unknown_activation(activation, "");
}

LayerPtr Dense(int64_t units, DenseOptions options) {
  return std::make_shared<DenseLayer>(units, std::move(options));
}
LayerPtr Activation(std::string activation, std::string name) {
  return std::make_shared<ActivationLayer>(std::move(activation), std::move(name));
}
LayerPtr Dropout(double rate, std::string name) {
  return std::make_shared<DropoutLayer>(rate, std::move(name));
}
LayerPtr Flatten(std::string name) { return std::make_shared<FlattenLayer>(std::move(name)); }
LayerPtr Reshape(Shape target_shape, std::string name) {
  return std::make_shared<ReshapeLayer>(std::move(target_shape), std::move(name));
}
LayerPtr Add(std::string name) { return std::make_shared<AddLayer>(std::move(name)); }
LayerPtr Concatenate(int64_t axis, std::string name) {
  return std::make_shared<ConcatenateLayer>(axis, std::move(name));
}

namespace {

Shape json_shape(const nlohmann::json& j) {
  std::vector<int64_t> dims = j.get<std::vector<int64_t>>();
  return Shape(std::span<const int64_t>(dims));
}

}  // namespace

LayerPtr layer_from_config(const std::string& class_name, const nlohmann::json& config) {
  try {
    std::string name = config.value("name", std::string());
    LayerPtr layer;
    if (class_name == "Dense") {
      DenseOptions o;
      o.activation = config.value("activation", std::string());
      if (o.activation == "linear") o.activation.clear();
      o.use_bias = config.value("use_bias", true);
      o.kernel_initializer = config.value("kernel_initializer", o.kernel_initializer);
      o.bias_initializer = config.value("bias_initializer", o.bias_initializer);
      o.name = name;
      layer = Dense(config.at("units").get<int64_t>(), std::move(o));
    } else if (class_name == "Activation") {
      layer = Activation(config.at("activation").get<std::string>(), name);
    } else if (class_name == "Dropout") {
      layer = Dropout(config.at("rate").get<double>(), name);
    } else if (class_name == "Flatten") {
      layer = Flatten(name);
    } else if (class_name == "Reshape") {
      layer = Reshape(json_shape(config.at("target_shape")), name);
    } else if (class_name == "Add") {
      layer = Add(name);
    } else if (class_name == "Concatenate") {
      layer = Concatenate(config.value("axis", int64_t{-1}), name);
    } else if (class_name == "GraphLayer") {
      layer = GraphLayer(graph_fragment_from_json(config.at("graph")), name);  // imported graphs
    } else if ((layer = sequence_layer_from_config(class_name, config)) != nullptr) {
      // Embedding, attention and normalization layers (sequence_layers_json.cpp).
    } else if (LayerPtr conv = conv_layer_from_config(class_name, config)) {
      layer = conv;  // Conv1D, Conv2D, DepthwiseConv2D, pooling (conv_layers.cpp)
    } else if (LayerPtr norm = normalization_layer_from_config(class_name, config)) {
      layer = norm;  // BatchNormalization (batch_normalization.cpp)
    } else {
      throw_error(ErrorKind::kInvalidArgument,
                  fmt::format("unknown layer class '{}' (known: Dense, Activation, Dropout, "
                              "Flatten, Reshape, Add, Concatenate, Conv1D, Conv2D, "
                              "DepthwiseConv2D, MaxPooling2D, AveragePooling2D, "
                              "GlobalAveragePooling2D, BatchNormalization, GraphLayer, {})",
                              class_name, sequence_layer_names()));
    }
    if (config.contains("input_shape")) layer->set_input_shape(json_shape(config["input_shape"]));
    return layer;
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("layer config of class '{}': {}", class_name, e.what()));
  }
}

}  // namespace tessera
