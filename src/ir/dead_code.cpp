// Dead-code elimination: keeps what the outputs and updates depend on, plus every input
// (their order is the executable's calling convention), and renumbers the survivors.
#include "tessera/core/error.h"
#include "tessera/ir/passes.h"

namespace tessera {

Graph eliminate_dead_code(const Graph& g) {
  std::vector<char> live(g.size(), 0);
  std::vector<ValueId> stack;
  auto mark = [&](ValueId v) {
    TS_CHECK(v >= 0 && v < g.size(), ErrorKind::kInvalidArgument,
             "eliminate_dead_code: value id {} is out of range", v);
    if (!live[v]) {
      live[v] = 1;
      stack.push_back(v);
    }
  };
  for (ValueId o : g.outputs()) mark(o);
  for (const Graph::Update& u : g.updates()) {
    mark(u.parameter);
    mark(u.value);
  }
  for (ValueId i = 0; i < g.size(); ++i)
    if (g.node(i).op == OpKind::kInput) mark(i);
  while (!stack.empty()) {
    ValueId v = stack.back();
    stack.pop_back();
    for (ValueId in : g.node(v).inputs) mark(in);
  }

  Graph out;
  std::vector<ValueId> remap(g.size(), kNoValue);
  for (ValueId i = 0; i < g.size(); ++i) {
    if (!live[i]) continue;
    Node n = g.node(i);
    for (ValueId& in : n.inputs) in = remap[in];
    remap[i] = out.add_node(std::move(n));
  }
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  return out;
}

}  // namespace tessera
