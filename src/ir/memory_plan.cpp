// The memory planner. Values are grouped into storage blocks: a value, the reshapes that
// alias it, and the elementwise results written over it in place share one block, whose
// lifetime is the union of theirs. Blocks are then packed into one arena "greedy by size"
// (as TFLite's arena planner does): largest first, each into the tightest gap left by the
// already placed blocks whose lifetimes overlap its own.
#include "tessera/ir/memory_plan.h"

#include <algorithm>
#include <limits>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

struct Block {
  int64_t bytes = 0;  // aligned
  int32_t start = 0;  // first node (index) at which the block holds a live value
  int32_t end = 0;    // last node at which it is read (inclusive)
  int64_t offset = -1;
};

int64_t align_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

bool is_leaf(const Node& n) { return op_info(n.op).op_class == OpClass::kLeaf; }

// Elementwise ops whose kernels read input element k before writing output element k and
// nothing else, so the output may overwrite an input of the same shape.
bool may_run_in_place(OpKind op) {
  OpClass c = op_info(op).op_class;
  return c == OpClass::kUnary || c == OpClass::kBinary || c == OpClass::kFused;
}

}  // namespace

MemoryPlan plan_memory(const Graph& g, const MemoryPlanOptions& options) {
  TS_CHECK(options.alignment > 0, ErrorKind::kInvalidArgument,
           "plan_memory: alignment must be > 0, got {}", options.alignment);
  const int n = g.size();
  MemoryPlan plan;
  plan.offsets.assign(n, -1);
  plan.alias_of.assign(n, kNoValue);

  // Liveness in node order: a value is live from its definition to its last reader;
  // outputs and update values are read after the last node.
  const int32_t kEnd = n;
  std::vector<int32_t> last_use(n);
  std::vector<int64_t> bytes(n, 0);
  for (ValueId i = 0; i < n; ++i) {
    const Node& node = g.node(i);
    last_use[i] = i;
    for (ValueId in : node.inputs) last_use[in] = std::max(last_use[in], i);
    if (is_leaf(node)) continue;
    TS_CHECK(node.type.shape.is_static(), ErrorKind::kInvalidArgument,
             "plan_memory: {} has the symbolic shape {}; specialize the graph first", g.describe(i),
             node.type.str());
    bytes[i] = align_up(node.type.shape.numel() * static_cast<int64_t>(node.type.dtype.size()),
                        options.alignment);
    plan.naive_bytes += bytes[i];
  }
  for (ValueId o : g.outputs()) last_use.at(o) = kEnd;
  for (const Graph::Update& u : g.updates()) last_use.at(u.value) = kEnd;

  // In-place updates: the value reads its parameter (if at all) elementwise at the same
  // index, nothing reads the parameter's old value after it, and the parameter's storage is
  // a plain contiguous tensor of the value's type. Its readers then read the new value from
  // the parameter, which is what the step writes there at its end anyway. An update_slice of
  // its own parameter qualifies too: it then writes only its window (a KV-cache append costs
  // its new rows, not the cache).
  plan.writes_parameter.assign(n, kNoValue);
  if (options.update_in_place) {
    for (const Graph::Update& u : g.updates()) {
      const Node& v = g.node(u.value);
      const Node& p = g.node(u.parameter);
      bool elementwise = may_run_in_place(v.op) || v.op == OpKind::kWhere;
      bool window = v.op == OpKind::kUpdateSlice && v.inputs[0] == u.parameter;
      if (is_leaf(v) || !(elementwise || window) || v.type != p.type || !p.value.defined() ||
          !p.value.is_contiguous() || last_use[u.parameter] > u.value ||
          plan.writes_parameter[u.value] != kNoValue)
        continue;
      plan.writes_parameter[u.value] = u.parameter;
    }
  }

  std::vector<Block> blocks;
  std::vector<int32_t> block_of(n, -1);
  for (ValueId i = 0; i < n; ++i) {
    const Node& node = g.node(i);
    if (is_leaf(node) || plan.writes_parameter[i] != kNoValue) continue;
    // A reshape of an arena value is a view: same block, which now lives as long as the
    // view does. (A reshape of a leaf copies into the arena: leaves' storage is not ours.)
    if (node.op == OpKind::kReshape && block_of[node.inputs[0]] >= 0) {
      ValueId src = node.inputs[0];
      Block& b = blocks[block_of[src]];
      TS_ASSERT(b.bytes >= bytes[i]);
      block_of[i] = block_of[src];
      plan.alias_of[i] = src;
      b.end = std::max(b.end, last_use[i]);
      continue;
    }
    if (options.in_place && may_run_in_place(node.op)) {
      int32_t taken = -1;
      for (ValueId in : node.inputs) {
        int32_t bi = block_of[in];
        // The input's whole block (the value and every view of it) must die here, and the
        // input must not be broadcast, or later output elements would read overwritten data.
        if (bi < 0 || blocks[bi].end != i || blocks[bi].bytes != bytes[i] ||
            g.type(in) != node.type)
          continue;
        taken = bi;
        break;
      }
      if (taken >= 0) {
        block_of[i] = taken;
        blocks[taken].end = std::max(blocks[taken].end, last_use[i]);
        continue;
      }
    }
    block_of[i] = static_cast<int32_t>(blocks.size());
    blocks.push_back({bytes[i], i, last_use[i], -1});
  }

  // Greedy by size: big blocks first, since they are the hardest to fit later.
  std::vector<int32_t> order(blocks.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int32_t>(k);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (blocks[a].bytes != blocks[b].bytes) return blocks[a].bytes > blocks[b].bytes;
    return blocks[a].start < blocks[b].start;
  });
  std::vector<int32_t> placed;  // kept sorted by offset
  for (int32_t k : order) {
    Block& blk = blocks[k];
    if (blk.bytes == 0) {
      blk.offset = 0;
      continue;
    }
    int64_t best_offset = -1, best_gap = std::numeric_limits<int64_t>::max();
    int64_t cursor = 0;  // lowest offset not claimed by an overlapping block so far
    for (int32_t p : placed) {
      const Block& other = blocks[p];
      if (other.end < blk.start || blk.end < other.start) continue;  // disjoint in time
      int64_t gap = other.offset - cursor;
      if (gap >= blk.bytes && gap < best_gap) {
        best_gap = gap;
        best_offset = cursor;
      }
      cursor = std::max(cursor, other.offset + other.bytes);
    }
    blk.offset = best_offset >= 0 ? best_offset : cursor;
    plan.arena_bytes = std::max(plan.arena_bytes, blk.offset + blk.bytes);
    auto pos = std::upper_bound(placed.begin(), placed.end(), blk.offset,
                                [&](int64_t off, int32_t p) { return off < blocks[p].offset; });
    placed.insert(pos, k);
  }
  for (ValueId i = 0; i < n; ++i)
    if (block_of[i] >= 0) plan.offsets[i] = blocks[block_of[i]].offset;
  return plan;
}

}  // namespace tessera
