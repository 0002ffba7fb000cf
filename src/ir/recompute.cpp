// Activation checkpointing (include/tessera/ir/recompute.h): backward readers of values
// internal to a segment read copies recomputed just before them.
#include "tessera/ir/recompute.h"

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {

Graph recompute_activations(const Graph& g, int forward_size, std::span<const int32_t> segment_of,
                            std::vector<ValueId>* roots, std::span<const char> always) {
  TS_CHECK(forward_size >= 0 && forward_size <= g.size(), ErrorKind::kInvalidArgument,
           "recompute_activations: forward_size {} is outside the graph's {} nodes", forward_size,
           g.size());
  TS_CHECK(static_cast<int>(segment_of.size()) == forward_size, ErrorKind::kInvalidArgument,
           "recompute_activations: {} segment entries for {} forward nodes", segment_of.size(),
           forward_size);
  TS_CHECK(always.empty() || static_cast<int>(always.size()) == forward_size,
           ErrorKind::kInvalidArgument,
           "recompute_activations: {} 'always' entries for {} forward nodes", always.size(),
           forward_size);

  // A forward value leaves its segment when a node of another segment (or of none), an
  // output or an update reads it: it is a checkpoint and is kept.
  std::vector<char> leaves(forward_size, 0), escapes(forward_size, 0);
  for (ValueId v = 0; v < forward_size; ++v)
    for (ValueId in : g.node(v).inputs)
      if (segment_of[in] != segment_of[v]) leaves[in] = 1;
  for (ValueId o : g.outputs())
    if (o < forward_size) escapes[o] = 1;
  for (const Graph::Update& u : g.updates())
    if (u.value < forward_size) escapes[u.value] = 1;
  auto dropped = [&](ValueId v) {
    if (v >= forward_size || escapes[v] || op_info(g.node(v).op).op_class == OpClass::kLeaf)
      return false;
    return (segment_of[v] >= 0 && !leaves[v]) || (!always.empty() && always[v]);
  };

  Graph out;
  for (ValueId v = 0; v < forward_size; ++v) out.add_node(g.node(v));
  std::vector<ValueId> copy_of(forward_size, kNoValue);  // the recomputed copy, once made
  // Emits the copy of dropped value v (after the copies of its dropped inputs).
  auto recompute = [&](auto&& self, ValueId v) -> ValueId {
    if (copy_of[v] != kNoValue) return copy_of[v];
    Node n = g.node(v);
    for (ValueId& in : n.inputs)
      if (dropped(in)) in = self(self, in);
    n.attrs.set("recompute", int64_t{1});
    n.name += "/recompute";
    return copy_of[v] = out.add_node(std::move(n));
  };
  std::vector<ValueId> remap(g.size(), kNoValue);
  for (ValueId v = 0; v < forward_size; ++v) remap[v] = v;
  for (ValueId v = forward_size; v < g.size(); ++v) {
    Node n = g.node(v);
    for (ValueId& in : n.inputs) in = dropped(in) ? recompute(recompute, in) : remap[in];
    remap[v] = out.add_node(std::move(n));
  }
  // Outputs and updates read kept values (they are checkpoints) or backward nodes.
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  if (roots)
    for (ValueId& r : *roots)
      if (r != kNoValue) r = remap[r];
  return out;
}

}  // namespace tessera
