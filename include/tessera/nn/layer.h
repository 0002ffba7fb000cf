// Layers: the Keras-style building blocks. A layer creates its weights in build() from the
// input types and emits IR in call(); it never runs anything itself. Calling a layer on a
// SymbolicTensor records the call for the functional API.
//
//   auto x = Input({784});
//   auto h = Dense(256, {.activation = "relu"})(x);
//   auto y = Dense(10)(h);
//   Functional f({x}, {y});               // the layer graph; train::Model adds fit()
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/rng.h"
#include "tessera/core/tensor.h"
#include "tessera/ir/builder.h"

namespace tessera {

// A named, persistent tensor: weights and optimizer state. Graph parameter nodes share its
// buffer, so executables read and update it in place.
struct Variable {
  std::string name;  // "dense/kernel"
  Tensor value;
  bool trainable = true;
};
using VariablePtr = std::shared_ptr<Variable>;

// The key/value caches of incremental decoding (nn/generation.h): one pair of variables per
// attention layer, [batch, heads, capacity, head_dim], created by the layer on first use and
// kept across the graphs a Generator emits (the prompt, then one token at a time).
struct KvCache {
  int64_t batch = 1;
  int64_t capacity = 0;  // positions each cache holds: the model's context
  std::map<std::string, VariablePtr> variables;  // by name, e.g. "attention/cache_key"
  // The variable `name` (zeros of `type` on first use). Throws naming it when it exists with
  // another type.
  VariablePtr variable(const std::string& name, const TensorType& type);
};

// Set in CallContext while emitting a decode graph: the new tokens sit at positions
// [position, position + T) of the sequence, and attention layers read and extend `cache`.
struct DecodeState {
  ValueId position = kNoValue;  // an i32 rank-0 value: the index of the first new token
  KvCache* cache = nullptr;
};

// What a layer needs while emitting IR.
struct CallContext {
  GraphBuilder& b;
  bool training = false;  // dropout and friends act only when training
  uint64_t seed = 0;      // base seed for random ops (dropout)
  ValueId step = kNoValue;  // i64 rank-0 value: the training step, so masks differ per step
  std::map<const Variable*, ValueId> params;  // one parameter node per variable per graph
  // Language models fed a prefix: the sequence axis (1) of the model's inputs may be shorter
  // than declared (Functional::emit); layers size their work from the graph's shapes.
  bool variable_sequence_length = false;
  // Incremental decoding with a KV cache (set by Generator); implies variable lengths.
  std::optional<DecodeState> decode;
  // Mixed precision (CompileConfig::dtype_policy "mixed_bfloat16"): layers compute in this
  // dtype. Float variables of another dtype keep it (master weights) and param() returns
  // them cast, once per graph; Functional::emit accepts model inputs already cast to it.
  // Unset: every value keeps its own dtype.
  std::optional<DType> compute_dtype;
  std::map<const Variable*, ValueId> cast_params;
  // Filled by Functional::emit: the graph's size after each layer call, so node ranges
  // [previous end, end) are the calls (activation checkpointing recomputes them).
  std::vector<ValueId> call_ends;
  // State a layer updates in training mode (BatchNormalization's moving statistics): each
  // non-trainable variable with the value it takes after the step. Model::compile writes
  // them as graph updates of the training step; graphs built for inference ignore them.
  std::vector<std::pair<VariablePtr, ValueId>> state_updates;

  // The value of `v` in this graph: its parameter node (created on first use), cast to
  // compute_dtype when that is set and differs.
  ValueId param(const VariablePtr& v);
};

class Layer;
class SymbolicTensor;

// A shared layer that can be called as in Keras: `Dense(64)(x)`, `Add()({a, b})`.
class LayerPtr : public std::shared_ptr<Layer> {
 public:
  LayerPtr() = default;
  template <typename T>
  LayerPtr(std::shared_ptr<T> p) : std::shared_ptr<Layer>(std::move(p)) {}  // NOLINT
  LayerPtr(std::nullptr_t) {}                                               // NOLINT
  SymbolicTensor operator()(const SymbolicTensor& x) const;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs) const;
};
struct SymbolicCall;

// The output of a layer call in the functional API: a type (batch dim kDynamic) and the
// call that produces it. Cheap to copy.
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  SymbolicTensor(std::shared_ptr<const SymbolicCall> call, TensorType type)
      : call_(std::move(call)), type_(std::move(type)) {}
  const TensorType& type() const { return type_; }
  const Shape& shape() const { return type_.shape; }
  const std::shared_ptr<const SymbolicCall>& call() const { return call_; }

 private:
  std::shared_ptr<const SymbolicCall> call_;
  TensorType type_;
};

// One recorded call: `layer` applied to `inputs` (an Input placeholder has no layer).
struct SymbolicCall {
  LayerPtr layer;                      // nullptr for Input()
  std::vector<SymbolicTensor> inputs;  // empty for Input()
  std::string input_name;              // for Input()
  TensorType type;                     // the output's type (batch dim kDynamic)
  // A hash of the call's position in the layer graph (layer name and config, the inputs'
  // signatures): mixed into the layer's weight seed so that two layers that share a name
  // before the model makes names unique still start from different weights.
  uint64_t signature = 0;
  // Calls made on this call's output so far, by their signature: a second identical layer
  // (same name, config and inputs) gets a different signature, hence different weights.
  mutable std::map<uint64_t, int> consumers;
};

// A model input of the given per-sample shape (the batch dimension is added).
SymbolicTensor Input(const Shape& shape, DType dtype = kF32, std::string name = "input");

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;

  virtual std::string class_name() const = 0;  // "Dense", as Keras names it
  const std::string& name() const { return name_; }
  void set_name(std::string name);  // renames the weights too

  // Creates the weights for these input types (batch dimension kDynamic). Called once;
  // throws Error naming the layer when the inputs do not fit.
  void build(std::span<const TensorType> inputs, Rng& rng);
  bool built() const { return built_; }

  // Emits the computation on `inputs` (ids in ctx.b) and returns the output id.
  virtual ValueId call(CallContext& ctx, std::span<const ValueId> inputs) = 0;

  // The output type for these inputs (builds the layer first if needed).
  TensorType output_type(std::span<const TensorType> inputs, Rng& rng);

  const std::vector<VariablePtr>& weights() const { return weights_; }
  int64_t count_params() const;

  // Keras' `input_shape=` on the first layer of a Sequential (per sample, no batch).
  const std::optional<Shape>& input_shape() const { return input_shape_; }
  void set_input_shape(Shape s) { input_shape_ = std::move(s); }

  // The constructor arguments, for saving the architecture ({"units": 64, ...}).
  virtual nlohmann::json config() const;

  // Functional API: records a call of this layer and builds it from the input types. The
  // weights are drawn from Rng(weight_seed(name, call signature)), so the same program
  // always starts from the same weights.
  SymbolicTensor operator()(const SymbolicTensor& x);
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs);

  // "layer 'dense' (Dense)", for error messages.
  std::string describe() const;
  // The input types build() saw (empty before it).
  const std::vector<TensorType>& built_input_types() const { return built_inputs_; }

 protected:
  // Subclasses create their weights here.
  virtual void build_weights(std::span<const TensorType> inputs, Rng& rng) = 0;
  // Whether the weights built for built_input_types() also fit `inputs`, a later call of the
  // layer. Default: the same types up to the batch dimension. (ReversibleEmbedding takes ids
  // on one call and hidden states on another.)
  virtual bool fits_built_weights(std::span<const TensorType> inputs) const;
  VariablePtr add_weight(const std::string& short_name, Tensor value, bool trainable = true);

 private:
  std::string name_;
  bool built_ = false;
  std::vector<TensorType> built_inputs_;
  std::vector<VariablePtr> weights_;
  std::vector<std::string> weight_short_names_;  // "kernel", parallel to weights_
  std::optional<Shape> input_shape_;
};

// The seed of a layer's weights: a hash of its name mixed with `salt` (a call signature)
// and the process-wide seed below.
uint64_t weight_seed(const std::string& layer_name, uint64_t salt = 0);

// Keras' set_random_seed: the initial weights of layers built from now on depend on it
// (default 0). Shuffling and dropout take their seeds from fit().
void set_random_seed(uint64_t seed);
uint64_t random_seed();

inline SymbolicTensor LayerPtr::operator()(const SymbolicTensor& x) const { return (**this)(x); }
inline SymbolicTensor LayerPtr::operator()(const std::vector<SymbolicTensor>& xs) const {
  return (**this)(xs);
}

}  // namespace tessera
