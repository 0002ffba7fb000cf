// The YAML model-spec parser (docs/model-spec.md). Arguments are checked here, against a
// table per layer class, so that a typo is reported at its YAML line rather than deep
// inside layer construction.
#include "tessera/cli/model_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tessera/core/error.h"
#include "tessera/nn/initializers.h"
#include "tessera/nn/layers.h"
#include "tessera/nn/losses.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

enum class ArgType { kInt, kNumber, kBool, kString, kIntList, kIntOrList };

struct ArgRule {
  const char* name;
  ArgType type;
  bool required = false;
};

std::vector<ArgRule> conv_rules(bool depthwise) {
  std::vector<ArgRule> r = {{"kernel_size", ArgType::kIntOrList, true},
                            {"strides", ArgType::kIntOrList},
                            {"padding", ArgType::kString},
                            {"dilation_rate", ArgType::kIntOrList},
                            {"activation", ArgType::kString},
                            {"use_bias", ArgType::kBool},
                            {"bias_initializer", ArgType::kString}};
  if (depthwise) {
    r.push_back({"depth_multiplier", ArgType::kInt});
    r.push_back({"depthwise_initializer", ArgType::kString});
  } else {
    r.insert(r.begin(), {"filters", ArgType::kInt, true});
    r.push_back({"groups", ArgType::kInt});
    r.push_back({"kernel_initializer", ArgType::kString});
  }
  return r;
}

std::vector<ArgRule> pool_rules() {
  return {{"pool_size", ArgType::kIntOrList},
          {"strides", ArgType::kIntOrList},
          {"padding", ArgType::kString}};
}

const std::map<std::string, std::vector<ArgRule>>& layer_rules() {
  static const std::map<std::string, std::vector<ArgRule>> rules = {
      {"Dense",
       {{"units", ArgType::kInt, true},
        {"activation", ArgType::kString},
        {"use_bias", ArgType::kBool},
        {"kernel_initializer", ArgType::kString},
        {"bias_initializer", ArgType::kString}}},
      {"Activation", {{"activation", ArgType::kString, true}}},
      {"Dropout", {{"rate", ArgType::kNumber, true}}},
      {"Flatten", {}},
      {"Reshape", {{"target_shape", ArgType::kIntList, true}}},
      {"Add", {}},
      {"Concatenate", {{"axis", ArgType::kInt}}},
      {"Embedding",
       {{"input_dim", ArgType::kInt, true},
        {"output_dim", ArgType::kInt, true},
        {"embeddings_initializer", ArgType::kString}}},
      {"ReversibleEmbedding",
       {{"input_dim", ArgType::kInt, true},
        {"output_dim", ArgType::kInt, true},
        {"embeddings_initializer", ArgType::kString}}},
      {"PositionEmbedding",
       {{"sequence_length", ArgType::kInt, true}, {"initializer", ArgType::kString}}},
      {"MultiHeadAttention",
       {{"num_heads", ArgType::kInt, true},
        {"key_dim", ArgType::kInt, true},
        {"value_dim", ArgType::kInt},
        {"dropout", ArgType::kNumber},
        {"use_bias", ArgType::kBool},
        {"causal", ArgType::kBool},
        {"rotary", ArgType::kBool},
        {"rotary_max_length", ArgType::kInt},
        {"rotary_base", ArgType::kNumber},
        {"kernel_initializer", ArgType::kString},
        {"bias_initializer", ArgType::kString}}},
      {"LayerNormalization",
       {{"epsilon", ArgType::kNumber}, {"center", ArgType::kBool}, {"scale", ArgType::kBool}}},
      {"RMSNormalization", {{"epsilon", ArgType::kNumber}, {"scale", ArgType::kBool}}},
      // Convolution and pooling (conv_layers.h) and BatchNormalization (normalization.h).
      // Sizes are one integer for every axis or a list, as in Keras.
      {"Conv1D", conv_rules(false)},
      {"Conv2D", conv_rules(false)},
      {"DepthwiseConv2D", conv_rules(true)},
      {"MaxPooling2D", pool_rules()},
      {"MaxPool2D", pool_rules()},
      {"AveragePooling2D", pool_rules()},
      {"AveragePool2D", pool_rules()},
      {"GlobalAveragePooling2D", {{"keepdims", ArgType::kBool}}},
      {"BatchNormalization",
       {{"axis", ArgType::kInt},
        {"momentum", ArgType::kNumber},
        {"epsilon", ArgType::kNumber},
        {"center", ArgType::kBool},
        {"scale", ArgType::kBool},
        {"beta_initializer", ArgType::kString},
        {"gamma_initializer", ArgType::kString},
        {"moving_mean_initializer", ArgType::kString},
        {"moving_variance_initializer", ArgType::kString}}},
  };
  return rules;
}

// Classes built through layer_from_config from their checked arguments.
bool from_config_class(const std::string& c) {
  return c == "Conv1D" || c == "Conv2D" || c == "DepthwiseConv2D" || c == "MaxPooling2D" ||
         c == "MaxPool2D" || c == "AveragePooling2D" || c == "AveragePool2D" ||
         c == "GlobalAveragePooling2D" || c == "BatchNormalization";
}

const std::vector<std::string> kActivations = {"relu", "sigmoid", "tanh", "softmax",
                                               "gelu", "linear",  "",     "none"};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Errors carry "source:line: ".
class SpecParser {
 public:
  explicit SpecParser(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
    fail_line(at.Mark().line + 1, what);
  }
  [[noreturn]] void fail_line(int line, const std::string& what) const {
    throw_error(ErrorKind::kInvalidArgument, fmt::format("{}:{}: {}", source_, line, what));
  }

  ModelSpec parse(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail_line(e.mark.line + 1, "YAML syntax error: " + e.msg);
    }
    ModelSpec spec;
    spec.source = source_;
    if (!root.IsMap()) fail(root, "a model spec is a mapping with 'input_shape' and 'layers'");
    for (const auto& kv : root) {
      std::string key = scalar(kv.first, "key");
      if (key != "name" && key != "input_shape" && key != "layers" && key != "compile" &&
          key != "input_dtype" && key != "gpt")
        fail(kv.first, fmt::format("unknown key '{}' (expected name, input_shape, "
                                   "input_dtype, layers, gpt, compile)",
                                   key));
    }
    if (root["name"]) spec.name = scalar(root["name"], "'name'");
    if (root["gpt"]) {
      for (const char* k : {"input_shape", "input_dtype", "layers"})
        if (root[k])
          fail(root[k], fmt::format("'{}' does not go with 'gpt' (the GPT builder makes the "
                                    "layers and the token input)",
                                    k));
      spec.gpt = parse_gpt(root["gpt"]);
      if (root["compile"]) spec.compile = parse_compile(root["compile"]);
      return spec;
    }
    if (root["input_dtype"]) {
      std::string t = scalar(root["input_dtype"], "'input_dtype'");
      if (t == "float32") spec.input_dtype = kF32;
      else if (t == "int32") spec.input_dtype = kI32;
      else fail(root["input_dtype"], fmt::format("'input_dtype' must be float32 or int32, got "
                                                 "'{}'", t));
    }
    if (!root["input_shape"]) fail(root, "missing 'input_shape' (per sample, e.g. [28, 28])");
    for (int64_t d : int_list(root["input_shape"], "'input_shape'")) {
      if (d <= 0) fail(root["input_shape"], "'input_shape' sizes must be positive");
      spec.input_shape.push_back(d);
    }
    YAML::Node layers = root["layers"];
    if (!layers || !layers.IsSequence() || layers.size() == 0)
      fail(layers ? layers : root, "'layers' must be a non-empty list");
    std::set<std::string> names = {"input"};
    for (const YAML::Node& l : layers) spec.layers.push_back(parse_layer(l, &names));
    if (root["compile"]) spec.compile = parse_compile(root["compile"]);
    return spec;
  }

 private:
  std::string scalar(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) fail(n, what + " must be a single value");
    return n.Scalar();
  }
  template <typename T>
  T as(const YAML::Node& n, const std::string& what, const char* expected) const {
    if (!n.IsScalar()) fail(n, fmt::format("{} must be {}", what, expected));
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      fail(n, fmt::format("{} must be {}, got '{}'", what, expected, n.Scalar()));
    }
  }
  std::vector<int64_t> int_list(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) fail(n, what + " must be a list of integers, e.g. [28, 28]");
    std::vector<int64_t> out;
    for (const YAML::Node& e : n) out.push_back(as<int64_t>(e, what, "a list of integers"));
    return out;
  }

  json arg_value(const YAML::Node& n, const ArgRule& rule, const std::string& what) const {
    switch (rule.type) {
      case ArgType::kInt:
        return as<int64_t>(n, what, "an integer");
      case ArgType::kNumber:
        return as<double>(n, what, "a number");
      case ArgType::kBool:
        return as<bool>(n, what, "true or false");
      case ArgType::kString:
        return scalar(n, what);
      case ArgType::kIntList:
        return int_list(n, what);
      case ArgType::kIntOrList:
        if (n.IsSequence()) return int_list(n, what);
        return as<int64_t>(n, what, "an integer or a list of integers");
    }
    fail(n, "internal: unknown argument type");
  }

  LayerSpec parse_layer(const YAML::Node& node, std::set<std::string>* names) const {
    LayerSpec spec;
    spec.line = node.Mark().line + 1;
    YAML::Node args;
    if (node.IsScalar()) {
      spec.class_name = node.Scalar();
    } else if (node.IsMap() && node.size() == 1) {
      spec.class_name = scalar(node.begin()->first, "a layer class");
      args = node.begin()->second;
    } else {
      fail(node, "a layer is 'ClassName' or 'ClassName: {argument: value, ...}'");
    }
    const auto& rules = layer_rules();
    auto it = rules.find(spec.class_name);
    if (it == rules.end()) {
      std::vector<std::string> known;
      for (const auto& [k, v] : rules) known.push_back(k);
      fail(node, fmt::format("unknown layer '{}' (known: {})", spec.class_name, join(known)));
    }
    spec.args = json::object();
    if (args && !args.IsNull()) {
      if (!args.IsMap())
        fail(args, fmt::format("{}: arguments must be a mapping", spec.class_name));
      for (const auto& kv : args) {
        std::string key = scalar(kv.first, "an argument name");
        std::string what = fmt::format("{}: argument '{}'", spec.class_name, key);
        if (key == "name") {
          spec.name = scalar(kv.second, what);
          if (!names->insert(spec.name).second)
            fail(kv.second,
                 fmt::format("{}: layer name '{}' is used twice", spec.class_name, spec.name));
          continue;
        }
        if (key == "inputs") {
          YAML::Node in = kv.second;
          std::vector<YAML::Node> list;
          if (in.IsSequence()) {
            for (const YAML::Node& e : in) list.push_back(e);
          } else {
            list.push_back(in);
          }
          for (const YAML::Node& e : list) {
            std::string ref = scalar(e, what);
            if (!names->count(ref))
              fail(e, fmt::format("{}: input '{}' is not 'input' or the name of an earlier "
                                  "layer",
                                  spec.class_name, ref));
            spec.inputs.push_back(ref);
          }
          continue;
        }
        auto rule = std::find_if(it->second.begin(), it->second.end(),
                                 [&](const ArgRule& r) { return key == r.name; });
        if (rule == it->second.end()) {
          std::vector<std::string> known = {"name", "inputs"};
          for (const ArgRule& r : it->second) known.push_back(r.name);
          fail(kv.first, fmt::format("{}: unknown argument '{}' (known: {})", spec.class_name, key,
                                     join(known)));
        }
        spec.args[key] = arg_value(kv.second, *rule, what);
        check_value(kv.second, spec.class_name, key, spec.args[key]);
      }
    }
    for (const ArgRule& r : it->second) {
      if (r.required && !spec.args.contains(r.name))
        fail(node, fmt::format("{}: missing argument '{}'", spec.class_name, r.name));
    }
    bool merge = spec.class_name == "Add" || spec.class_name == "Concatenate";
    // MultiHeadAttention: query alone (self-attention) or query, value[, key].
    size_t most = merge ? SIZE_MAX : spec.class_name == "MultiHeadAttention" ? 3 : 1;
    if (merge && spec.inputs.size() < 2)
      fail(node, fmt::format("{}: needs 'inputs' naming at least two layers", spec.class_name));
    if (spec.inputs.size() > most)
      fail(node, fmt::format("{}: takes at most {} input{}, got {}", spec.class_name, most,
                             most == 1 ? "" : "s", spec.inputs.size()));
    return spec;
  }

  void check_value(const YAML::Node& at, const std::string& cls, const std::string& key,
                   const json& v) const {
    if (key == "units" && v.get<int64_t>() <= 0)
      fail(at, fmt::format("{}: 'units' must be positive, got {}", cls, v.get<int64_t>()));
    if (key == "rate" && !(v.get<double>() >= 0.0 && v.get<double>() < 1.0))
      fail(at, fmt::format("{}: 'rate' must be in [0, 1), got {}", cls, v.get<double>()));
    if (key == "activation" && std::find(kActivations.begin(), kActivations.end(),
                                         v.get<std::string>()) == kActivations.end())
      fail(at, fmt::format("{}: unknown activation '{}' (known: relu, sigmoid, tanh, softmax, "
                           "gelu, linear)",
                           cls, v.get<std::string>()));
    if (key.ends_with("_initializer") || key == "initializer") {
      if (!is_initializer(v.get<std::string>()))
        fail(at, fmt::format("{}: unknown initializer '{}' (known: {}; random_normal and "
                             "random_uniform take arguments, e.g. random_normal(stddev=0.02))",
                             cls, v.get<std::string>(), join(initializer_names())));
    }
    for (const char* k : {"input_dim", "output_dim", "sequence_length", "num_heads", "key_dim"})
      if (key == k && v.get<int64_t>() <= 0)
        fail(at, fmt::format("{}: '{}' must be positive, got {}", cls, key, v.get<int64_t>()));
    if ((key == "value_dim" || key == "rotary_max_length") && v.get<int64_t>() < 0)
      fail(at, fmt::format("{}: '{}' must be >= 0, got {}", cls, key, v.get<int64_t>()));
    if (key == "dropout" && !(v.get<double>() >= 0.0 && v.get<double>() < 1.0))
      fail(at, fmt::format("{}: 'dropout' must be in [0, 1), got {}", cls, v.get<double>()));
    if ((key == "epsilon" || key == "rotary_base") && !(v.get<double>() > 0.0))
      fail(at, fmt::format("{}: '{}' must be positive, got {}", cls, key, v.get<double>()));
    if (key == "filters" || key == "groups" || key == "depth_multiplier") {
      if (v.get<int64_t>() <= 0)
        fail(at, fmt::format("{}: '{}' must be positive, got {}", cls, key, v.get<int64_t>()));
    }
    if (key == "kernel_size" || key == "strides" || key == "dilation_rate" ||
        key == "pool_size") {
      std::vector<int64_t> sizes =
          v.is_array() ? v.get<std::vector<int64_t>>() : std::vector<int64_t>{v.get<int64_t>()};
      size_t axes = cls == "Conv1D" ? 1 : 2;
      bool ok = sizes.size() == 1 || sizes.size() == axes;
      for (int64_t d : sizes) ok = ok && d >= 1;
      if (!ok)
        fail(at, fmt::format("{}: '{}' must be {} positive integer{}, got {}", cls, key,
                             axes == 1 ? "one" : "one or two", axes == 1 ? "" : "s",
                             v.dump()));
    }
    if (key == "padding") {
      std::string p = v.get<std::string>();
      bool causal = cls == "Conv1D";
      if (p != "valid" && p != "same" && !(causal && p == "causal"))
        fail(at, fmt::format("{}: unknown padding '{}' (known: valid, same{})", cls, p,
                             causal ? ", causal" : ""));
    }
    if (key == "momentum" && !(v.get<double>() >= 0.0 && v.get<double>() <= 1.0))
      fail(at, fmt::format("{}: 'momentum' must be in [0, 1], got {}", cls, v.get<double>()));
    if (key == "target_shape") {
      for (int64_t d : v.get<std::vector<int64_t>>())
        if (d <= 0 && d != -1) fail(at, fmt::format("{}: invalid target_shape size {}", cls, d));
    }
  }

  // gpt: {vocab_size, context, d_model, num_heads, num_layers, d_ff, dropout, positional,
  // norm, norm_epsilon, tie_embeddings}; unset fields keep GptConfig::tiny()'s values.
  GptConfig parse_gpt(const YAML::Node& g) const {
    if (!g.IsMap()) fail(g, "'gpt' must be a mapping (vocab_size, context, d_model, ...)");
    GptConfig c = GptConfig::tiny();
    for (const auto& kv : g) {
      std::string key = scalar(kv.first, "a gpt setting");
      const YAML::Node& v = kv.second;
      std::string what = fmt::format("gpt: '{}'", key);
      if (key == "vocab_size") c.vocab_size = as<int64_t>(v, what, "an integer");
      else if (key == "context") c.context = as<int64_t>(v, what, "an integer");
      else if (key == "d_model") c.d_model = as<int64_t>(v, what, "an integer");
      else if (key == "num_heads") c.num_heads = as<int64_t>(v, what, "an integer");
      else if (key == "num_layers") c.num_layers = as<int64_t>(v, what, "an integer");
      else if (key == "d_ff") c.d_ff = as<int64_t>(v, what, "an integer");
      else if (key == "dropout") c.dropout = as<double>(v, what, "a number");
      else if (key == "positional") c.positional = scalar(v, what);
      else if (key == "norm") c.norm = scalar(v, what);
      else if (key == "norm_epsilon") c.norm_epsilon = as<double>(v, what, "a number");
      else if (key == "tie_embeddings") c.tie_embeddings = as<bool>(v, what, "true or false");
      else
        fail(kv.first, fmt::format("gpt: unknown setting '{}' (known: vocab_size, context, "
                                   "d_model, num_heads, num_layers, d_ff, dropout, positional, "
                                   "norm, norm_epsilon, tie_embeddings)",
                                   key));
    }
    try {
      c.validate();
    } catch (const Error& e) {
      fail(g, e.what());
    }
    return c;
  }

  CompileConfig parse_compile(const YAML::Node& c) const {
    if (!c.IsMap()) fail(c, "'compile' must be a mapping (optimizer, learning_rate, loss, ...)");
    CompileConfig config;
    config.metrics = {"accuracy"};
    bool lr_set = false;
    std::string clip_key;  // the clipping setting given, if any (at most one)
    for (const auto& kv : c) {
      std::string key = scalar(kv.first, "a compile setting");
      const YAML::Node& v = kv.second;
      std::string what = fmt::format("compile: '{}'", key);
      OptimizerOptions& o = config.optimizer_options;
      if (key == "optimizer") {
        config.optimizer = scalar(v, what);
        static const std::set<std::string> known = {"sgd", "adam", "adamw", "rmsprop"};
        if (!known.count(config.optimizer))
          fail(v, fmt::format("unknown optimizer '{}' (known: sgd, adam, adamw, rmsprop)",
                              config.optimizer));
      } else if (key == "learning_rate") {
        o.learning_rate = as<double>(v, what, "a number");
        lr_set = true;
        if (!(o.learning_rate > 0)) fail(v, "compile: 'learning_rate' must be positive");
      } else if (key == "momentum") {
        o.momentum = as<double>(v, what, "a number");
      } else if (key == "nesterov") {
        o.nesterov = as<bool>(v, what, "true or false");
      } else if (key == "beta_1") {
        o.beta_1 = as<double>(v, what, "a number");
      } else if (key == "beta_2") {
        o.beta_2 = as<double>(v, what, "a number");
      } else if (key == "epsilon") {
        o.epsilon = as<double>(v, what, "a number");
      } else if (key == "weight_decay") {
        o.weight_decay = as<double>(v, what, "a number");
      } else if (key == "rho") {
        o.rho = as<double>(v, what, "a number");
      } else if (key == "clipnorm" || key == "clipvalue" || key == "global_clipnorm") {
        double x = as<double>(v, what, "a number");
        if (!(x > 0)) fail(v, fmt::format("compile: '{}' must be positive, got {}", key, x));
        (key == "clipnorm" ? o.clipnorm : key == "clipvalue" ? o.clipvalue : o.global_clipnorm) = x;
        if (clip_key.empty())
          clip_key = key;
        else
          fail(kv.first, fmt::format("compile: only one of clipnorm, clipvalue and "
                                     "global_clipnorm can be set ('{}' is set already)",
                                     clip_key));
      } else if (key == "gradient_accumulation_steps") {
        o.gradient_accumulation_steps = as<int64_t>(v, what, "an integer");
        if (o.gradient_accumulation_steps < 1)
          fail(v, fmt::format("compile: 'gradient_accumulation_steps' must be >= 1, got {}",
                              o.gradient_accumulation_steps));
      } else if (key == "dtype_policy") {
        config.dtype_policy = scalar(v, what);
        const std::vector<std::string>& known = dtype_policy_names();
        if (std::find(known.begin(), known.end(), config.dtype_policy) == known.end())
          fail(v, fmt::format("compile: unknown dtype_policy '{}' (known: {})", config.dtype_policy,
                              join(known)));
      } else if (key == "recompute") {
        config.recompute = as<bool>(v, what, "true or false");
      } else if (key == "loss") {
        config.loss = scalar(v, what);
        std::vector<std::string> known = loss_names();
        if (std::find(known.begin(), known.end(), config.loss) == known.end())
          fail(v, fmt::format("unknown loss '{}' (known: {})", config.loss, join(known)));
      } else if (key == "from_logits") {
        config.loss_options.from_logits = as<bool>(v, what, "true or false");
      } else if (key == "metrics") {
        config.metrics.clear();
        if (!v.IsSequence()) fail(v, "compile: 'metrics' must be a list, e.g. [accuracy]");
        for (const YAML::Node& m : v) config.metrics.push_back(scalar(m, what));
      } else {
        fail(kv.first, fmt::format("compile: unknown setting '{}' (known: optimizer, "
                                   "learning_rate, momentum, nesterov, beta_1, beta_2, epsilon, "
                                   "weight_decay, rho, clipnorm, clipvalue, global_clipnorm, "
                                   "gradient_accumulation_steps, dtype_policy, recompute, loss, "
                                   "from_logits, metrics)",
                                   key));
      }
    }
    if (!lr_set) config.optimizer_options.learning_rate = config.optimizer == "sgd" ? 0.01 : 0.001;
    return config;
  }

  std::string source_;
};

LayerPtr make_layer(const LayerSpec& l) {
  const json& a = l.args;
  if (l.class_name == "Dense") {
    DenseOptions o;
    o.activation = a.value("activation", std::string());
    if (o.activation == "none") o.activation.clear();
    o.use_bias = a.value("use_bias", true);
    o.kernel_initializer = a.value("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = a.value("bias_initializer", o.bias_initializer);
    o.name = l.name;
    return Dense(a.at("units").get<int64_t>(), o);
  }
  if (l.class_name == "Activation") return Activation(a.at("activation"), l.name);
  if (l.class_name == "Dropout") return Dropout(a.at("rate").get<double>(), l.name);
  if (l.class_name == "Flatten") return Flatten(l.name);
  if (l.class_name == "Reshape") {
    Shape s;
    for (int64_t d : a.at("target_shape").get<std::vector<int64_t>>()) s.push_back(d);
    return Reshape(s, l.name);
  }
  if (l.class_name == "Add") return Add(l.name);
  if (l.class_name == "Concatenate") return Concatenate(a.value("axis", int64_t{-1}), l.name);
  // Embedding, attention, normalization, convolution and pooling layers: YAML arguments are
  // their config keys.
  json config = a;
  if (from_config_class(l.class_name) &&
      config.value("activation", std::string()) == "none")
    config["activation"] = "linear";
  if (!l.name.empty()) config["name"] = l.name;
  if (LayerPtr layer = layer_from_config(l.class_name, config)) return layer;
  throw_error(ErrorKind::kInternal, "no factory for layer " + l.class_name);
}

}  // namespace

ModelSpec parse_model_spec(const std::string& text, const std::string& source) {
  return SpecParser(source).parse(text);
}

ModelSpec load_model_spec(const std::string& path) {
  std::ifstream in(path);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "model spec '{}': cannot open: {}", path,
           std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_spec(ss.str(), path);
}

Model build_model(const ModelSpec& spec, uint64_t seed) {
  // The seed picks the initial weights too (as keras.utils.set_random_seed), for this
  // model only.
  struct SeedScope {
    uint64_t saved = random_seed();
    explicit SeedScope(uint64_t s) { set_random_seed(s); }
    ~SeedScope() { set_random_seed(saved); }
  } seed_scope(seed);
  if (spec.gpt) {
    try {
      return Model(make_gpt(*spec.gpt, spec.name));
    } catch (const Error& e) {
      throw_error(e.kind(), fmt::format("{}: gpt: {}", spec.source, e.what()));
    }
  }
  SymbolicTensor x = Input(spec.input_shape, spec.input_dtype);
  std::map<std::string, SymbolicTensor> named = {{"input", x}};
  SymbolicTensor prev = x;
  for (const LayerSpec& l : spec.layers) {
    try {
      LayerPtr layer = make_layer(l);
      std::vector<SymbolicTensor> ins;
      for (const std::string& n : l.inputs) ins.push_back(named.at(n));
      if (ins.empty()) ins.push_back(prev);
      prev = ins.size() == 1 ? (*layer)(ins[0]) : (*layer)(ins);
      if (!l.name.empty()) named[l.name] = prev;
    } catch (const Error& e) {
      throw_error(e.kind(),
                  fmt::format("{}:{}: {}: {}", spec.source, l.line, l.class_name, e.what()));
    }
  }
  try {
    return Model({x}, {prev}, spec.name, seed);
  } catch (const Error& e) {
    throw_error(e.kind(), fmt::format("{}: {}", spec.source, e.what()));
  }
}

}  // namespace tessera::cli
