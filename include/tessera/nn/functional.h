// The graph of layer calls between symbolic inputs and outputs: the architecture of a
// functional or sequential model. It emits IR for training or inference; train::Model adds
// compile / fit / evaluate / predict on top.
//
//   auto x = Input({32});
//   auto h = Dense(64, {.activation = "relu"})(x);
//   Functional net({x}, {Dense(10)(Add()({h, Dense(64)(x)}))});
//   GraphBuilder b;
//   CallContext ctx{b};
//   ValueId in = b.input("input", kF32, {kDynamic, 32});
//   ValueId out = net.emit(ctx, {&in, 1})[0];
//   std::cout << net.summary();
#pragma once

#include <span>
#include <string>
#include <vector>

#include "tessera/nn/layer.h"

namespace tessera {

class Functional {
 public:
  Functional() = default;
  // The layers were built when called (weights seeded from their names); duplicate layer
  // names are made unique ("dense", "dense_1", …) as Keras does, renaming their weights.
  // Throws Error when an output does not depend only on the given inputs, or an input is
  // given twice.
  Functional(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
             std::string name = "model", uint64_t seed = 0);

  const std::string& name() const { return name_; }
  const std::vector<LayerPtr>& layers() const { return layers_; }  // in call order
  const std::vector<TensorType>& input_types() const { return input_types_; }
  const std::vector<TensorType>& output_types() const { return output_types_; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  // Every layer call in emission order (a shared layer appears once per call).
  const std::vector<std::shared_ptr<const SymbolicCall>>& calls() const { return calls_; }
  // The seed given at construction; the layers' weights come from their names (see
  // Layer::operator()), so this is for the caller's use (e.g. dropout's CallContext::seed).
  uint64_t seed() const { return seed_; }

  // Emits every layer call; `inputs` are ids in ctx.b, one per model input.
  std::vector<ValueId> emit(CallContext& ctx, std::span<const ValueId> inputs) const;

  std::vector<VariablePtr> variables() const;  // every weight once, in layer order
  int64_t count_params() const;
  int64_t count_trainable_params() const;
  // The Keras-style table: layer (type), output shape, params, connected to (functional
  // models), then totals.
  std::string summary(int line_length = 80) const;

  // The architecture as JSON (layers, their configs and connections) and back.
  nlohmann::json to_json() const;
  static Functional from_json(const nlohmann::json& j, uint64_t seed = 0);

 private:
  std::string name_;
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<LayerPtr> layers_;
  std::vector<TensorType> input_types_, output_types_;
  std::vector<std::string> input_names_;
  // Every layer call, each after the calls it reads (a layer called twice appears twice).
  std::vector<std::shared_ptr<const SymbolicCall>> calls_;
  uint64_t seed_ = 0;
};

}  // namespace tessera
