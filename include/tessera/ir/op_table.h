// The op table: one row per OpKind with everything the rest of Tessera needs to know about
// an op — its name, arity, type inference, gradient rule, decomposition and cost.
//
//   const OpInfo& info = op_info(OpKind::kMatMul);
//   TensorType t = info.infer(graph, node);          // throws naming the node
//   OpCost c = info.cost(graph, node);               // flops and bytes
//   if (info.decompose) info.decompose(builder, node, inputs);  // primitives only
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tessera/ir/graph.h"
#include "tessera/ir/op_kind.h"

namespace tessera {

class GraphBuilder;

enum class OpClass : uint8_t {
  kLeaf,
  kUnary,     // elementwise, one input
  kBinary,    // elementwise, two inputs, broadcasting
  kCompare,   // elementwise, two inputs, bool out
  kWhere,
  kCast,
  kMatMul,
  kReduction,
  kDataMovement,
  kIndexing,
  kComposite,
  kFused,
};

struct OpCost {
  double flops = 0;          // floating-point (or integer) operations; a MAC is 2
  double bytes_read = 0;     // of the inputs, at their dtypes
  double bytes_written = 0;  // of the output
};

// Computes the output type from the input types and attributes (node.type is ignored).
using InferFn = TensorType (*)(const Graph& g, const Node& node);
// Emits the gradient of each input given `dy`, the gradient of the node's output. The
// node and its inputs live in the builder's graph. Returns one entry per input;
// kNoValue where no gradient flows (integer inputs, indices, conditions).
using GradFn = std::vector<ValueId> (*)(GraphBuilder& b, ValueId self, ValueId dy);
// Emits the op as primitives over `inputs` (ids in the builder's graph); returns the result.
using DecomposeFn = ValueId (*)(GraphBuilder& b, const Node& node,
                                std::span<const ValueId> inputs);
using CostFn = OpCost (*)(const Graph& g, const Node& node);

struct OpInfo {
  OpKind kind;
  const char* name;      // snake_case, as in docs/ops.md and the textual graph
  int min_inputs;
  int max_inputs;        // -1: variadic
  OpClass op_class;
  InferFn infer;
  GradFn grad;           // nullptr: not differentiable (comparisons, leaves, indices)
  DecomposeFn decompose; // nullptr for primitives
  CostFn cost;
};

const OpInfo& op_info(OpKind kind);
inline const char* op_name(OpKind kind) { return op_info(kind).name; }
std::optional<OpKind> op_kind_from_name(std::string_view name);

inline bool is_elementwise(OpKind k) {
  OpClass c = op_info(k).op_class;
  return c == OpClass::kUnary || c == OpClass::kBinary || c == OpClass::kCompare ||
         c == OpClass::kWhere || c == OpClass::kCast || c == OpClass::kFused;
}

// The dtypes each op accepts (for its data inputs), as the harness and backends see them.
std::vector<DType> op_dtypes(OpKind kind);

}  // namespace tessera
