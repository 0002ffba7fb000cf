// Constant folding: a computed node whose inputs are all constants is evaluated once, at
// compile time, by the backend's own kernels (so the result is bit-identical to what the
// node would have computed at run time). Parameters are never folded: they change every
// step.
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {

Graph fold_constants(const Graph& g, const NodeEvaluator& eval, int64_t max_elements) {
  // Ids stay the same while folding, so the evaluator sees a consistent graph in which
  // every input of the node being folded is already a constant.
  Graph work = g;
  bool folded_any = false;
  for (ValueId i = 0; i < work.size(); ++i) {
    const Node& n = work.node(i);
    if (op_info(n.op).op_class == OpClass::kLeaf || n.inputs.empty()) continue;
    bool all_constant = true;
    for (ValueId in : n.inputs) all_constant &= work.node(in).op == OpKind::kConstant;
    if (!all_constant) continue;
    if (!n.type.shape.is_static() || n.type.shape.numel() > max_elements) continue;

    std::vector<Tensor> inputs;
    inputs.reserve(n.inputs.size());
    for (ValueId in : n.inputs) inputs.push_back(work.node(in).value);
    Tensor value;
    try {
      value = eval(work, i, inputs);
    } catch (const Error& e) {
      // A backend without a kernel for this node leaves it to run time (and its compile
      // reports it there); any other failure is a real error in the graph.
      if (e.kind() == ErrorKind::kUnsupported) continue;
      throw;
    }
    TS_CHECK(value.defined() && value.dtype() == n.type.dtype && value.shape() == n.type.shape,
             ErrorKind::kInternal, "fold_constants: evaluating {} gave {}, expected {}",
             work.describe(i),
             value.defined() ? TensorType{value.dtype(), value.shape()}.str() : "no tensor",
             n.type.str());
    Node c;
    c.op = OpKind::kConstant;
    c.name = n.name;
    c.type = n.type;
    c.value = value.contiguous();
    work.mutable_node(i) = std::move(c);
    folded_any = true;
  }
  return folded_any ? eliminate_dead_code(work) : work;
}

}  // namespace tessera
