// The graph IR: the single contract between layers, autodiff, passes, backends,
// simulators and file formats.
//
// A Graph is a list of nodes in topological order; a node's id is its index and is also
// the id of the one value it produces. Passes return new graphs. Parameter updates (the
// optimizer's new weights) are listed in updates(): executing the graph writes each value
// into its parameter after the step, so a training step is just a graph.
//
//   GraphBuilder b;
//   ValueId x = b.input("x", kF32, {kDynamic, 784});
//   ValueId w = b.parameter("w", Tensor::zeros(kF32, {784, 10}));
//   b.output(b.softmax(b.matmul(x, w), -1));
//   Graph g = b.finish();
//   fmt::print("{}", g.str());
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/core/shape.h"
#include "tessera/core/tensor.h"
#include "tessera/ir/attrs.h"
#include "tessera/ir/op_kind.h"

namespace tessera {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

struct TensorType {
  DType dtype = kF32;
  Shape shape;
  std::string str() const;  // "f32[N, 784]"
  bool operator==(const TensorType&) const = default;
};

struct FusedProgram;  // fusion.h

struct Node {
  OpKind op = OpKind::kInput;
  std::vector<ValueId> inputs;
  Attrs attrs;
  TensorType type;
  std::string name;
  Tensor value;  // kConstant: the data; kParameter: the live variable (shared buffer)
  bool trainable = false;                      // kParameter
  std::shared_ptr<const FusedProgram> fused;   // kFusedElementwise
};

class Graph {
 public:
  struct Update {
    ValueId parameter;  // a kParameter node
    ValueId value;      // its new value after the step
  };

  ValueId add_node(Node node);  // appended; its inputs must already exist
  const Node& node(ValueId id) const;
  Node& mutable_node(ValueId id);
  int size() const { return static_cast<int>(nodes_.size()); }
  const std::vector<Node>& nodes() const { return nodes_; }
  const TensorType& type(ValueId id) const { return node(id).type; }

  std::vector<ValueId> inputs() const;      // kInput nodes, in order
  std::vector<ValueId> parameters() const;  // kParameter nodes, in order
  ValueId find(const std::string& name) const;  // kNoValue when absent

  std::vector<ValueId>& outputs() { return outputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  std::vector<Update>& updates() { return updates_; }
  const std::vector<Update>& updates() const { return updates_; }

  // Checks ids, topological order (a forward reference is a cycle), arity and that every
  // node's type is what the op table infers. Throws an Error naming the node.
  void validate() const;
  // "Node name (op)" for error messages.
  std::string describe(ValueId id) const;
  std::string str() const;  // one line per node

 private:
  std::vector<Node> nodes_;
  std::vector<ValueId> outputs_;
  std::vector<Update> updates_;
};

// Uses of each value (consumers, with repeats), outputs and updates not included.
std::vector<std::vector<ValueId>> compute_users(const Graph& g);

}  // namespace tessera
