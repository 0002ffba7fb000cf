// A gradient rule for any composite op: differentiate its decomposition. The op is
// decomposed into primitives in a scratch graph whose inputs stand for the node's inputs,
// that graph is differentiated with dy as the seed, and the backward nodes the input
// gradients need are copied into the caller's graph.
//
// Used where a composite's gradient is rarely needed and not worth its own rule: the fused
// backward ops (layer_norm_grad_input, …), whose gradients are second-order derivatives.
#include "gradients_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/autodiff.h"

namespace tessera::detail {

std::vector<ValueId> grad_via_decomposition(GraphBuilder& b, ValueId self, ValueId dy) {
  const Node node = b.graph().node(self);  // a copy: `b` grows below
  DecomposeFn decompose = op_info(node.op).decompose;
  TS_CHECK(decompose != nullptr, ErrorKind::kInternal,
           "{}: differentiated through its decomposition, but it has none",
           b.graph().describe(self));

  GraphBuilder scratch;
  std::vector<ValueId> ins, wrt;
  std::vector<size_t> wrt_input;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    TensorType t = b.type(node.inputs[i]);
    ins.push_back(scratch.input(fmt::format("in{}", i), t.dtype, t.shape));
    if (t.dtype.is_float()) {
      wrt.push_back(ins.back());
      wrt_input.push_back(i);
    }
  }
  ValueId y = decompose(scratch, node, ins);
  TensorType dy_type = b.type(dy);
  ValueId seed = scratch.input("dy", dy_type.dtype, dy_type.shape);
  Gradients d = differentiate(scratch.finish(), y, seed, wrt);
  const Graph& sg = d.graph;

  // Copy what the gradients depend on, inputs and seed mapped to the caller's values.
  std::vector<char> needed(sg.size(), 0);
  std::vector<ValueId> stack;
  for (ValueId g : d.grads)
    if (g != kNoValue) stack.push_back(g);
  while (!stack.empty()) {
    ValueId v = stack.back();
    stack.pop_back();
    if (needed[v]) continue;
    needed[v] = 1;
    for (ValueId in : sg.node(v).inputs) stack.push_back(in);
  }
  std::vector<ValueId> map(sg.size(), kNoValue);
  for (size_t i = 0; i < ins.size(); ++i) map[ins[i]] = node.inputs[i];
  map[seed] = dy;
  for (ValueId v = 0; v < sg.size(); ++v) {
    if (!needed[v] || map[v] != kNoValue) continue;
    Node copy = sg.node(v);
    TS_CHECK(copy.op != OpKind::kInput, ErrorKind::kInternal,
             "{}: its decomposition's gradient reads an unknown input {}", b.graph().describe(self),
             sg.describe(v));
    for (ValueId& in : copy.inputs) in = map[in];
    copy.name = fmt::format("{}/grad/{}", node.name, copy.name);
    map[v] = b.graph().add_node(std::move(copy));
  }
  std::vector<ValueId> grads(node.inputs.size(), kNoValue);
  for (size_t k = 0; k < wrt.size(); ++k)
    if (d.grads[k] != kNoValue) grads[wrt_input[k]] = map[d.grads[k]];
  return grads;
}

}  // namespace tessera::detail
