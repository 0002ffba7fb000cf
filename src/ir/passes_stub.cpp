// STUB (being written): passes and the memory planner.
#include "tessera/core/error.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/passes.h"
#include "tessera/ir/autodiff.h"
namespace tessera {
Graph eliminate_dead_code(const Graph& g) { return g; }
Graph specialize(const Graph& g, int64_t) { return g; }
Graph fold_constants(const Graph& g, const NodeEvaluator&, int64_t) { return g; }
Graph decompose(const Graph& g, const std::function<bool(const Node&)>&) { return g; }
MemoryPlan plan_memory(const Graph& g, const MemoryPlanOptions&) {
  MemoryPlan p;
  p.offsets.assign(g.size(), -1);
  p.alias_of.assign(g.size(), kNoValue);
  for (ValueId i = 0; i < g.size(); ++i) {
    if (g.node(i).op == OpKind::kInput || g.node(i).op == OpKind::kParameter ||
        g.node(i).op == OpKind::kConstant) continue;
    p.offsets[i] = p.arena_bytes;
    p.arena_bytes += (g.type(i).shape.numel() * g.type(i).dtype.size() + 63) / 64 * 64;
  }
  p.naive_bytes = p.arena_bytes;
  return p;
}
Gradients differentiate(const Graph&, ValueId, std::span<const ValueId>) {
  throw_error(ErrorKind::kUnsupported, "autodiff is being written");
}
Gradients differentiate(const Graph&, ValueId, ValueId, std::span<const ValueId>) {
  throw_error(ErrorKind::kUnsupported, "autodiff is being written");
}
}  // namespace tessera
