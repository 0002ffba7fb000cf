// hoist_nodes (passes.h): nodes from `first` on move up to just after the latest of their
// inputs. Each node gets a sort key (anchor, rank): a node before `first` is its own anchor
// (rank 0); a hoisted node's anchor is the largest anchor among its inputs (-1 for none),
// its rank 1 + its index. Sorting by key keeps every input before its readers: a hoisted
// node's anchor is at least each input's, and on a tie the input sorts first (rank 0, or a
// smaller index).
#include <algorithm>
#include <numeric>

#include "tessera/core/error.h"
#include "tessera/ir/passes.h"

namespace tessera {

Graph hoist_nodes(const Graph& g, ValueId first) {
  const int n = g.size();
  TS_CHECK(first >= 0 && first <= n, ErrorKind::kInvalidArgument,
           "hoist_nodes: first node {} is outside the graph's {} nodes", first, n);
  std::vector<std::pair<int64_t, int64_t>> key(n);
  for (ValueId v = 0; v < n; ++v) {
    if (v < first) {
      key[v] = {v, 0};
      continue;
    }
    int64_t anchor = -1;
    for (ValueId in : g.node(v).inputs) anchor = std::max(anchor, key[in].first);
    key[v] = {anchor, 1 + static_cast<int64_t>(v)};
  }
  std::vector<ValueId> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](ValueId a, ValueId b) { return key[a] < key[b]; });
  Graph out;
  std::vector<ValueId> remap(n, kNoValue);
  for (ValueId v : order) {
    Node node = g.node(v);
    for (ValueId& in : node.inputs) in = remap[in];
    remap[v] = out.add_node(std::move(node));
  }
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  return out;
}

}  // namespace tessera
