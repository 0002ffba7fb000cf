// Graph-to-graph passes. Each returns a new graph and keeps outputs and updates pointing at
// the same computations.
//
//   Graph g2 = eliminate_dead_code(g);
//   Graph g3 = specialize(g2, /*batch=*/32);            // every kDynamic -> 32
//   Graph g4 = fold_constants(g3, evaluator);            // see backends/constant_folding.h
//   Graph g5 = decompose(g4, [](const Node& n) { return n.op == OpKind::kSoftmax; });
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "tessera/ir/graph.h"

namespace tessera {

// Drops nodes that no output or update depends on. Inputs are always kept (their order
// defines the executable's calling convention).
Graph eliminate_dead_code(const Graph& g);

// Merges nodes that repeat an earlier computation (same op, inputs, attributes and type;
// small constants with equal bytes). Inputs and parameters are never merged.
Graph eliminate_common_subexpressions(const Graph& g);

// Moves every node from `first` on up to just after the latest of its inputs (nodes that
// read nothing but leaves go to the front); the nodes before `first` keep their order.
// Training graphs pass the optimizer's first node: each variable's update then runs as soon
// as its gradient is complete rather than after the whole backward pass, so the gradient
// dies there and the update can be computed into the parameter in place (memory_plan.h)
// instead of every gradient and update waiting in the arena. Values are unchanged. Input
// nodes must come before `first` (their order is the executable's calling convention).
Graph hoist_nodes(const Graph& g, ValueId first);

// Replaces the symbolic batch dimension by `batch` in every type and shape attribute and
// re-infers all types. Throws naming the node when the result is inconsistent.
Graph specialize(const Graph& g, int64_t batch);

// Evaluates one node given its inputs' values (the backends supply one).
using NodeEvaluator =
    std::function<Tensor(const Graph& g, ValueId id, std::span<const Tensor> inputs)>;

// Replaces nodes whose inputs are all constants by constants (results up to
// `max_elements` elements; larger ones are left to run time).
Graph fold_constants(const Graph& g, const NodeEvaluator& eval, int64_t max_elements = 1 << 16);

// Expands every node for which `pred` holds and whose op has a decomposition into primitives
// (repeating until none is left).
Graph decompose(const Graph& g, const std::function<bool(const Node&)>& pred);

}  // namespace tessera
