// Common-subexpression elimination: a node that repeats an earlier one — same op, same
// (already merged) inputs, equal attributes and type — is replaced by it. Every op is a
// pure function of its inputs and attributes (random_uniform too: of its step, seed and
// shape), so this never changes a value. Training graphs gain most: the gradient of a
// cross-entropy recomputes the softmax the forward pass already computed.
#include <cstring>
#include <unordered_map>

#include "tessera/ir/passes.h"

namespace tessera {
namespace {

// Small constants with equal bytes are merged too (the scalars of gradient rules);
// parameters and inputs never are: each is its own variable.
constexpr int64_t kMaxMergedConstantBytes = 256;

bool same_constant(const Node& a, const Node& b) {
  if (!(a.type == b.type)) return false;
  size_t bytes = a.value.nbytes();
  return static_cast<int64_t>(bytes) <= kMaxMergedConstantBytes &&
         std::memcmp(a.value.raw_data(), b.value.raw_data(), bytes) == 0;
}

bool same_computation(const Node& a, const Node& b) {
  if (a.op != b.op || a.inputs != b.inputs || !(a.type == b.type) || !(a.attrs == b.attrs))
    return false;
  return a.op != OpKind::kFusedElementwise || a.fused == b.fused;
}

// Candidates are found by op and inputs; attributes and types are then compared exactly.
uint64_t key_of(const Node& n) {
  uint64_t h = static_cast<uint64_t>(n.op) * 0x9e3779b97f4a7c15ull;
  for (ValueId in : n.inputs) h = (h ^ static_cast<uint64_t>(in)) * 0x100000001b3ull;
  if (n.op == OpKind::kConstant) h ^= n.value.nbytes();
  return h;
}

}  // namespace

Graph eliminate_common_subexpressions(const Graph& g) {
  Graph out;
  std::vector<ValueId> remap(g.size(), kNoValue);
  std::unordered_multimap<uint64_t, ValueId> seen;  // key -> node of `out`
  for (ValueId i = 0; i < g.size(); ++i) {
    Node n = g.node(i);
    for (ValueId& in : n.inputs) in = remap[in];
    bool mergeable = n.op != OpKind::kInput && n.op != OpKind::kParameter;
    if (mergeable) {
      uint64_t key = key_of(n);
      auto [begin, end] = seen.equal_range(key);
      for (auto it = begin; it != end; ++it) {
        const Node& earlier = out.node(it->second);
        bool same = n.op == OpKind::kConstant
                        ? earlier.op == OpKind::kConstant && same_constant(earlier, n)
                        : same_computation(earlier, n);
        if (same) {
          remap[i] = it->second;
          break;
        }
      }
      if (remap[i] != kNoValue) continue;
      remap[i] = out.add_node(std::move(n));
      seen.emplace(key, remap[i]);
      continue;
    }
    remap[i] = out.add_node(std::move(n));
  }
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  return out;
}

}  // namespace tessera
