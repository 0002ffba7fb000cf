// Reverse-mode automatic differentiation as a graph-to-graph pass.
//
// The result holds the forward graph unchanged (same ids, outputs and updates) followed by
// the backward nodes, built from each op's gradient rule in the op table. Gradients of
// broadcast inputs are summed back to the input's shape.
//
//   Gradients d = differentiate(g, loss, {w, b});   // loss: a rank-0 float value
//   ValueId dw = d.grads[0];                        // kNoValue if w does not reach loss
//   d.graph.outputs().push_back(dw);
#pragma once

#include <span>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

struct Gradients {
  Graph graph;
  std::vector<ValueId> grads;  // one per `wrt`, in order
};

Gradients differentiate(const Graph& g, ValueId loss, std::span<const ValueId> wrt);

// As above with an explicit seed gradient `dloss` (a value of the loss's type in `g`).
Gradients differentiate(const Graph& g, ValueId loss, ValueId dloss,
                        std::span<const ValueId> wrt);

}  // namespace tessera
