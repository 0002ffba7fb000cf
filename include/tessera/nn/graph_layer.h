// GraphLayer: a layer whose computation is a fixed fragment of graph IR rather than code —
// how models imported from other formats (ONNX, io/onnx.h) live inside a Model, so that they
// compile, fit, evaluate, predict, simulate, save and load like any other model.
//
// The fragment is a Graph whose kInput nodes are the layer's inputs (in call order, batch
// dimension kDynamic), whose kParameter nodes are the layer's weights (Node::name is the
// weight's short name, Node::value its initial value, Node::trainable its flag) and whose
// first output is the layer's output. call() replays the nodes through GraphBuilder::emit,
// so every node is type-checked again. config() holds the whole fragment as JSON (constants
// inline, weights by name, shape and dtype: the checkpoint holds their values), so a native
// checkpoint of an imported model loads without the importer.
//
//   GraphBuilder b;
//   ValueId x = b.input("x", kF32, {kDynamic, 4});
//   ValueId w = b.parameter("w", Tensor::zeros(kF32, {4, 2}));
//   b.output(b.relu(b.matmul(x, w)));
//   auto y = GraphLayer(b.finish(), "imported")(Input({4}));
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tessera/ir/graph.h"
#include "tessera/nn/layer.h"

namespace tessera {

// Throws Error when the fragment is malformed (no output, an input after another node, a
// parameter without a value, a node the op table rejects).
LayerPtr GraphLayer(Graph fragment, std::string name = {});

// The JSON form of a fragment (GraphLayer's config "graph") and back. Parameter values are
// not written (only their dtype and shape); from_json gives them zeros.
nlohmann::json graph_fragment_to_json(const Graph& g);
Graph graph_fragment_from_json(const nlohmann::json& j);

}  // namespace tessera
