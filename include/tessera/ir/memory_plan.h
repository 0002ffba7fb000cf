// The liveness-based memory planner: one arena per executable, reused across steps, so a
// training step allocates nothing.
//
// Every non-leaf value gets a byte offset in the arena. Values whose lifetimes do not
// overlap share space; a reshape of an arena value is an alias (same offset, no copy);
// an elementwise node may write over an input that dies at that node. Outputs and update
// values live to the end of the step — except that an update value computed by an
// elementwise node after the last read of its parameter is written straight into the
// parameter's storage (writes_parameter): the optimizer's new weights and slots then take
// no arena at all. An update_slice that is its own parameter's update (a KV-cache write) is
// computed there too and writes only its window.
//
//   MemoryPlan plan = plan_memory(graph);
//   auto arena = std::make_shared<Buffer>(plan.arena_bytes);
//   // value v lives at arena + plan.offsets[v]  (when plan.offsets[v] >= 0)
#pragma once

#include <cstdint>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

struct MemoryPlan {
  // Per value; -1 for leaves (inputs, parameters, constants) and in-place parameter writes.
  std::vector<int64_t> offsets;
  // Per value: for a reshape view, the value whose storage it is (its kernel is skipped);
  // kNoValue otherwise, in-place results included (they share an offset but still run).
  std::vector<ValueId> alias_of;
  // Per value: the kParameter node into whose storage it is computed (an in-place update,
  // offset -1); kNoValue otherwise.
  std::vector<ValueId> writes_parameter;
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;  // the sum of all planned values' sizes, for comparison
};

struct MemoryPlanOptions {
  int64_t alignment = 64;
  bool in_place = true;  // let elementwise nodes overwrite an input that dies there
  bool update_in_place = true;  // compute update values into their parameters when safe
};

// The graph must have static shapes (see specialize()).
MemoryPlan plan_memory(const Graph& g, const MemoryPlanOptions& options = {});

}  // namespace tessera
