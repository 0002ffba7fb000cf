// Decomposition: composite nodes (softmax, cross-entropy, fused elementwise…) are rebuilt
// from primitives through a GraphBuilder, so every emitted node is type-checked. A rule may
// emit other composites; the pass repeats until no matching node is left.
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

// A decomposition that keeps re-emitting what it expands is a bug in a rule; this bounds it.
constexpr int kMaxRounds = 32;

bool expands(const Node& n, const std::function<bool(const Node&)>& pred) {
  return op_info(n.op).decompose != nullptr && pred(n);
}

Graph decompose_once(const Graph& g, const std::function<bool(const Node&)>& pred) {
  GraphBuilder b;
  std::vector<ValueId> remap(g.size(), kNoValue);
  for (ValueId i = 0; i < g.size(); ++i) {
    Node n = g.node(i);
    for (ValueId& in : n.inputs) in = remap[in];
    if (!expands(n, pred)) {
      // Copied as is: types cannot change since the inputs' types did not, and fused
      // programs, values and names come along.
      remap[i] = b.graph().add_node(std::move(n));
      continue;
    }
    // The rule sees the node with its inputs renamed into the builder's graph.
    std::vector<ValueId> inputs = n.inputs;
    ValueId r = op_info(n.op).decompose(b, n, inputs);
    TS_CHECK(r >= 0 && r < b.graph().size(), ErrorKind::kInternal,
             "decompose: the rule for {} returned no value", g.describe(i));
    TS_CHECK(b.type(r) == n.type, ErrorKind::kInternal,
             "decompose: {} has type {} but its decomposition gives {}", g.describe(i),
             n.type.str(), b.type(r).str());
    remap[i] = r;
  }
  Graph out = b.finish();
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  return out;
}

}  // namespace

Graph decompose(const Graph& g, const std::function<bool(const Node&)>& pred) {
  Graph cur = g;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool any = false;
    for (const Node& n : cur.nodes()) any = any || expands(n, pred);
    if (!any) return cur;
    cur = decompose_once(cur, pred);
  }
  for (ValueId i = 0; i < cur.size(); ++i)
    TS_CHECK(!expands(cur.node(i), pred), ErrorKind::kInternal,
             "decompose: {} is still expandable after {} rounds (a rule re-emits itself?)",
             cur.describe(i), kMaxRounds);
  return cur;
}

}  // namespace tessera
