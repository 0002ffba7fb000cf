// Reverse-mode autodiff: the forward graph is copied unchanged (same ids, outputs and
// updates) and the backward nodes are appended, produced by each op's gradient rule from
// the op table.
//
// Only nodes on a path from some `wrt` value to the loss are differentiated, and only float
// values carry gradients. A rule emits the gradients of all of its node's inputs, some of
// which nobody asked for (dx of the first layer, say); backward nodes that no requested
// gradient depends on are dropped at the end, so the result holds no dead backward work.
#include "tessera/ir/autodiff.h"

#include <algorithm>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

void check_id(const Graph& g, ValueId id, const char* what) {
  TS_CHECK(id >= 0 && id < g.size(), ErrorKind::kInvalidArgument,
           "differentiate: {} id {} is out of range (graph has {} nodes)", what, id, g.size());
}

// Keeps the forward nodes [0, forward_size) and only those later nodes that `roots` need,
// renumbering the kept ones and the roots.
Graph prune_backward(const Graph& g, int forward_size, std::vector<ValueId>& roots) {
  std::vector<char> keep(g.size(), 0);
  std::vector<ValueId> stack;
  for (ValueId r : roots)
    if (r >= forward_size) stack.push_back(r);
  while (!stack.empty()) {
    ValueId v = stack.back();
    stack.pop_back();
    if (keep[v]) continue;
    keep[v] = 1;
    for (ValueId in : g.node(v).inputs)
      if (in >= forward_size && !keep[in]) stack.push_back(in);
  }
  Graph out;
  std::vector<ValueId> remap(g.size(), kNoValue);
  for (ValueId i = 0; i < g.size(); ++i) {
    if (i >= forward_size && !keep[i]) continue;
    Node n = g.node(i);
    for (ValueId& in : n.inputs) in = remap[in];
    remap[i] = out.add_node(std::move(n));
  }
  out.outputs() = g.outputs();
  out.updates() = g.updates();
  for (ValueId& r : roots)
    if (r != kNoValue) r = remap[r];
  return out;
}

Gradients differentiate_impl(const Graph& g, ValueId loss, ValueId dloss,
                             std::span<const ValueId> wrt) {
  check_id(g, loss, "loss");
  for (ValueId w : wrt) check_id(g, w, "wrt");
  for (ValueId i = 0; i < g.size(); ++i)
    TS_CHECK(g.node(i).op != OpKind::kFusedElementwise, ErrorKind::kInvalidArgument,
             "differentiate: {} is a fused node; differentiate the graph before "
             "fuse_elementwise",
             g.describe(i));
  const TensorType& loss_type = g.type(loss);
  TS_CHECK(loss_type.dtype.is_float(), ErrorKind::kInvalidArgument,
           "differentiate: the loss {} has type {}; it must be a float value", g.describe(loss),
           loss_type.str());
  if (dloss == kNoValue) {
    TS_CHECK(loss_type.shape.rank() == 0, ErrorKind::kInvalidArgument,
             "differentiate: the loss {} has type {}; a loss that is not a scalar needs an "
             "explicit dloss",
             g.describe(loss), loss_type.str());
  } else {
    check_id(g, dloss, "dloss");
    TS_CHECK(g.type(dloss) == loss_type, ErrorKind::kInvalidArgument,
             "differentiate: dloss {} has type {}, the loss {} has type {}", g.describe(dloss),
             g.type(dloss).str(), g.describe(loss), loss_type.str());
  }

  const int forward_size = g.size();
  // Float values that depend on some wrt value and that the loss depends on.
  std::vector<bool> from_wrt(forward_size, false), to_loss(forward_size, false);
  for (ValueId w : wrt) from_wrt[w] = true;
  for (ValueId i = 0; i <= loss; ++i)
    for (ValueId in : g.node(i).inputs)
      if (from_wrt[in]) from_wrt[i] = true;
  to_loss[loss] = true;
  for (ValueId i = loss; i >= 0; --i)
    if (to_loss[i])
      for (ValueId in : g.node(i).inputs) to_loss[in] = true;
  auto on_path = [&](ValueId v) { return from_wrt[v] && to_loss[v] && g.type(v).dtype.is_float(); };

  GraphBuilder b(g);
  std::vector<ValueId> grad(forward_size, kNoValue);
  if (on_path(loss)) grad[loss] = dloss != kNoValue ? dloss : b.scalar(1.0, loss_type.dtype);

  for (ValueId v = loss; v >= 0; --v) {
    if (!on_path(v) || grad[v] == kNoValue) continue;
    const OpKind op = g.node(v).op;
    GradFn rule = op_info(op).grad;
    if (rule == nullptr) continue;  // a leaf: its gradient is final
    std::vector<ValueId> input_grads;
    try {
      // The backward nodes of a layer's node carry the layer's scope, plus "/grad".
      const std::string& name = g.node(v).name;
      size_t slash = name.rfind('/');
      GraphBuilder::ScopeGuard scope(
          b, slash == std::string::npos ? std::string() : name.substr(0, slash) + "/grad");
      input_grads = rule(b, v, grad[v]);
    } catch (const Error& e) {
      throw Error(e.kind(),
                  fmt::format("differentiate: gradient of {}: {}", g.describe(v), e.what()));
    }
    const std::vector<ValueId>& inputs = g.node(v).inputs;
    TS_CHECK(input_grads.size() == inputs.size(), ErrorKind::kInternal,
             "differentiate: the gradient rule of {} returned {} gradients for {} inputs",
             g.describe(v), input_grads.size(), inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k) {
      ValueId in = inputs[k], gi = input_grads[k];
      if (gi == kNoValue || !on_path(in)) continue;
      TS_CHECK(b.type(gi) == g.type(in), ErrorKind::kInternal,
               "differentiate: the gradient rule of {} gave input {} ({}) a gradient of type "
               "{}, expected {}",
               g.describe(v), k, g.describe(in), b.type(gi).str(), g.type(in).str());
      grad[in] = grad[in] == kNoValue ? gi : b.add(grad[in], gi);
    }
  }

  std::vector<ValueId> result;
  result.reserve(wrt.size());
  for (ValueId w : wrt) result.push_back(on_path(w) ? grad[w] : kNoValue);
  Graph pruned = prune_backward(b.graph(), forward_size, result);
  return {std::move(pruned), std::move(result)};
}

}  // namespace

Gradients differentiate(const Graph& g, ValueId loss, std::span<const ValueId> wrt) {
  return differentiate_impl(g, loss, kNoValue, wrt);
}

Gradients differentiate(const Graph& g, ValueId loss, ValueId dloss, std::span<const ValueId> wrt) {
  TS_CHECK(dloss != kNoValue, ErrorKind::kInvalidArgument,
           "differentiate: dloss must name a value of the graph");
  return differentiate_impl(g, loss, dloss, wrt);
}

}  // namespace tessera
