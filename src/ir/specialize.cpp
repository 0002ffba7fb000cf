// Specialization: the symbolic batch dimension becomes a number, in input types and in the
// "shape" attributes of ops (reshape, broadcast, random_uniform); every other type is
// re-inferred, so a graph that only made sense symbolically fails here, naming the node,
// instead of at run time.
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {

Graph specialize(const Graph& g, int64_t batch) {
  TS_CHECK(batch > 0, ErrorKind::kInvalidArgument, "specialize: batch must be > 0, got {}", batch);
  Graph out;
  for (ValueId i = 0; i < g.size(); ++i) {
    Node n = g.node(i);
    if (n.op == OpKind::kInput) {
      n.type.shape = n.type.shape.with_batch(batch);
    } else if (op_info(n.op).op_class != OpClass::kLeaf) {
      // Any op's "shape" attribute (reshape, broadcast, random_uniform) names its output
      // shape, where -1 is the batch.
      if (n.attrs.has("shape")) {
        std::vector<int64_t> shape = n.attrs.get_ints("shape");
        for (int64_t& d : shape)
          if (d == kDynamic) d = batch;
        n.attrs.set("shape", std::move(shape));
      }
      // Parameters and constants hold real tensors and keep their types; everything
      // computed is re-derived from its (now concrete) inputs.
      TensorType t;
      try {
        t = op_info(n.op).infer(out, n);
      } catch (const Error& e) {
        throw_error(e.kind(), fmt::format("specialize(batch={}): {}", batch, e.what()));
      }
      TensorType expected{n.type.dtype, n.type.shape.with_batch(batch)};
      TS_CHECK(t == expected, ErrorKind::kInvalidArgument,
               "specialize(batch={}): {} was {} but is now inferred as {}", batch, g.describe(i),
               n.type.str(), t.str());
      n.type = t;
    }
    out.add_node(std::move(n));
  }
  out.outputs() = g.outputs();
  out.updates() = g.updates();
  return out;
}

}  // namespace tessera
