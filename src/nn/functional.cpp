// Functional: the layer-call graph between symbolic inputs and outputs — ordering,
// Keras-style unique names, IR emission with shared weights, and the JSON architecture.
#include "tessera/nn/functional.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/layers.h"

namespace tessera {
namespace {

using CallPtr = std::shared_ptr<const SymbolicCall>;

// "dense", "dense_1", …: the first holder of a name keeps it; later distinct holders take
// the smallest free suffix, avoiding every name already in use.
template <typename GetName, typename SetName>
void uniquify(size_t n, GetName get, SetName set) {
  std::set<std::string> taken;
  for (size_t i = 0; i < n; ++i) taken.insert(get(i));
  std::set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    std::string name = get(i);
    if (seen.insert(name).second) continue;
    for (int k = 1;; ++k) {
      std::string candidate = fmt::format("{}_{}", name, k);
      if (!taken.count(candidate) && !seen.count(candidate)) {
        set(i, candidate);
        seen.insert(candidate);
        taken.insert(candidate);
        break;
      }
    }
  }
}

}  // namespace

Functional::Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
                       std::string name, uint64_t seed)
    : name_(std::move(name)), inputs_(std::move(inputs)), outputs_(std::move(outputs)),
      seed_(seed) {
  TS_CHECK(!outputs_.empty(), ErrorKind::kInvalidArgument, "model '{}': no outputs", name_);
  std::unordered_map<const SymbolicCall*, int> input_index;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const CallPtr& c = inputs_[i].call();
    TS_CHECK(c != nullptr && c->layer == nullptr, ErrorKind::kInvalidArgument,
             "model '{}': input {} is not an Input() (model inputs must be Input tensors)",
             name_, i);
    TS_CHECK(input_index.emplace(c.get(), static_cast<int>(i)).second,
             ErrorKind::kInvalidArgument, "model '{}': input {} ('{}') is given twice", name_,
             i, c->input_name);
  }

  // Depth-first post-order from the outputs: every call after the calls it reads. Calls
  // are immutable and made after their inputs, so the graph has no cycles.
  std::unordered_set<const SymbolicCall*> done;
  for (size_t o = 0; o < outputs_.size(); ++o) {
    const CallPtr& root = outputs_[o].call();
    TS_CHECK(root != nullptr, ErrorKind::kInvalidArgument,
             "model '{}': output {} is an empty SymbolicTensor", name_, o);
    std::string out_name = root->layer ? root->layer->name() : root->input_name;
    auto check_input = [&](const SymbolicCall* c) {
      TS_CHECK(input_index.count(c), ErrorKind::kInvalidArgument,
               "model '{}': output {} ('{}') depends on Input '{}', which is not among the "
               "model's inputs",
               name_, o, out_name, c->input_name);
    };
    if (root->layer == nullptr) {
      check_input(root.get());
      continue;
    }
    std::vector<std::pair<CallPtr, size_t>> stack = {{root, 0}};
    while (!stack.empty()) {
      CallPtr call = stack.back().first;
      size_t next = stack.back().second++;
      if (next < call->inputs.size()) {
        CallPtr in = call->inputs[next].call();
        if (in->layer == nullptr) check_input(in.get());
        else if (!done.count(in.get())) stack.push_back({std::move(in), 0});
        continue;
      }
      stack.pop_back();
      if (done.insert(call.get()).second) calls_.push_back(std::move(call));
    }
  }

  for (const CallPtr& c : calls_)
    if (std::find(layers_.begin(), layers_.end(), c->layer) == layers_.end())
      layers_.push_back(c->layer);
  uniquify(
      layers_.size(), [&](size_t i) { return layers_[i]->name(); },
      [&](size_t i, const std::string& n) { layers_[i]->set_name(n); });

  for (const SymbolicTensor& x : inputs_) {
    input_types_.push_back(x.type());
    input_names_.push_back(x.call()->input_name);
  }
  uniquify(
      input_names_.size(), [&](size_t i) { return input_names_[i]; },
      [&](size_t i, const std::string& n) { input_names_[i] = n; });
  for (const SymbolicTensor& y : outputs_) output_types_.push_back(y.type());
}

std::vector<ValueId> Functional::emit(CallContext& ctx, std::span<const ValueId> inputs) const {
  TS_CHECK(inputs.size() == inputs_.size(), ErrorKind::kInvalidArgument,
           "model '{}': emit got {} inputs, the model has {}", name_, inputs.size(),
           inputs_.size());
  std::unordered_map<const SymbolicCall*, ValueId> value;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& want = input_types_[i];
    const TensorType& got = ctx.b.type(inputs[i]);
    // Under a mixed-precision policy float inputs arrive cast to the compute dtype.
    bool cast_input = ctx.compute_dtype && want.dtype.is_float() && got.dtype == *ctx.compute_dtype;
    bool ok = (got.dtype == want.dtype || cast_input) && got.shape.rank() == want.shape.rank();
    // A prefix of the declared sequence (axis 1) when the caller asks for variable lengths.
    bool prefix = ctx.variable_sequence_length || ctx.decode.has_value();
    for (int d = 1; ok && d < got.shape.rank(); ++d)
      ok = got.shape[d] == want.shape[d] ||
           (prefix && d == 1 && got.shape[d] >= 1 && got.shape[d] <= want.shape[d]);
    TS_CHECK(ok, ErrorKind::kInvalidArgument,
             "model '{}': input '{}' must be {} (batch first{}), got {}", name_, input_names_[i],
             want.str(), prefix ? "; a shorter sequence on axis 1" : "", got.str());
    value[inputs_[i].call().get()] = inputs[i];
  }
  for (const CallPtr& c : calls_) {
    std::vector<ValueId> args;
    for (const SymbolicTensor& x : c->inputs) args.push_back(value.at(x.call().get()));
    try {
      const std::string& outer = ctx.b.scope();
      GraphBuilder::ScopeGuard scope(
          ctx.b, outer.empty() ? c->layer->name() : outer + "/" + c->layer->name());
      value[c.get()] = c->layer->call(ctx, args);
      ctx.call_ends.push_back(ctx.b.graph().size());
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("model '{}': {}: {}", name_, c->layer->describe(),
                                        e.what()));
    }
  }
  std::vector<ValueId> out;
  for (const SymbolicTensor& y : outputs_) out.push_back(value.at(y.call().get()));
  return out;
}

std::vector<VariablePtr> Functional::variables() const {
  std::vector<VariablePtr> vars;
  std::unordered_set<const Variable*> seen;
  for (const LayerPtr& l : layers_)
    for (const VariablePtr& v : l->weights())
      if (seen.insert(v.get()).second) vars.push_back(v);
  return vars;
}

int64_t Functional::count_params() const {
  int64_t n = 0;
  for (const VariablePtr& v : variables()) n += v->value.numel();
  return n;
}

int64_t Functional::count_trainable_params() const {
  int64_t n = 0;
  for (const VariablePtr& v : variables())
    if (v->trainable) n += v->value.numel();
  return n;
}

// ---- JSON ------------------------------------------------------------------------------
// {"class_name": "Functional", "name", "inputs": [{name, shape (per sample), dtype}],
//  "layers": [{class_name, config}], "calls": [{"layer", "inputs": [ref…]}], "outputs": [ref…]}
// A ref numbers a tensor: 0 … inputs-1 are the model inputs, then one per call, in order.

nlohmann::json Functional::to_json() const {
  std::unordered_map<const SymbolicCall*, int> ref;
  nlohmann::json inputs = nlohmann::json::array();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    ref[inputs_[i].call().get()] = static_cast<int>(i);
    inputs.push_back({{"name", input_names_[i]},
                      {"shape", per_sample(input_types_[i].shape).to_vector()},
                      {"dtype", input_types_[i].dtype.name()}});
  }
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerPtr& l : layers_)
    layers.push_back({{"class_name", l->class_name()}, {"config", l->config()}});
  nlohmann::json calls = nlohmann::json::array();
  for (size_t k = 0; k < calls_.size(); ++k) {
    const CallPtr& c = calls_[k];
    ref[c.get()] = static_cast<int>(inputs_.size() + k);
    nlohmann::json args = nlohmann::json::array();
    for (const SymbolicTensor& x : c->inputs) args.push_back(ref.at(x.call().get()));
    calls.push_back({{"layer", c->layer->name()}, {"inputs", args}});
  }
  nlohmann::json outputs = nlohmann::json::array();
  for (const SymbolicTensor& y : outputs_) outputs.push_back(ref.at(y.call().get()));
  return {{"class_name", "Functional"}, {"name", name_}, {"inputs", inputs},
          {"layers", layers},           {"calls", calls}, {"outputs", outputs}};
}

Functional Functional::from_json(const nlohmann::json& j, uint64_t seed) {
  try {
    std::map<std::string, LayerPtr> by_name;
    for (const nlohmann::json& l : j.at("layers")) {
      LayerPtr layer = layer_from_config(l.at("class_name").get<std::string>(), l.at("config"));
      TS_CHECK(by_name.emplace(layer->name(), layer).second, ErrorKind::kInvalidArgument,
               "model JSON: layer name '{}' appears twice", layer->name());
    }
    std::vector<SymbolicTensor> tensors, inputs, outputs;
    for (const nlohmann::json& in : j.at("inputs")) {
      std::vector<int64_t> dims = in.at("shape").get<std::vector<int64_t>>();
      inputs.push_back(Input(Shape(std::span<const int64_t>(dims)),
                             DType::parse(in.at("dtype").get<std::string>()),
                             in.at("name").get<std::string>()));
      tensors.push_back(inputs.back());
    }
    auto tensor = [&](const nlohmann::json& r) {
      int64_t k = r.get<int64_t>();
      TS_CHECK(k >= 0 && k < static_cast<int64_t>(tensors.size()), ErrorKind::kInvalidArgument,
               "model JSON: tensor reference {} is not defined before its use ({} defined)", k,
               tensors.size());
      return tensors[static_cast<size_t>(k)];
    };
    for (const nlohmann::json& c : j.at("calls")) {
      std::string layer = c.at("layer").get<std::string>();
      auto it = by_name.find(layer);
      TS_CHECK(it != by_name.end(), ErrorKind::kInvalidArgument,
               "model JSON: call of unknown layer '{}'", layer);
      std::vector<SymbolicTensor> args;
      for (const nlohmann::json& r : c.at("inputs")) args.push_back(tensor(r));
      tensors.push_back((*it->second)(args));
    }
    for (const nlohmann::json& r : j.at("outputs")) outputs.push_back(tensor(r));
    return Functional(std::move(inputs), std::move(outputs), j.at("name").get<std::string>(),
                      seed);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorKind::kInvalidArgument, fmt::format("model JSON: {}", e.what()));
  }
}

}  // namespace tessera
