// The liveness-based memory planner: one arena per executable, reused across steps, so a
// training step allocates nothing.
//
// Every non-leaf value gets a byte offset in the arena. Values whose lifetimes do not
// overlap share space; a reshape of an arena value is an alias (same offset, no copy);
// an elementwise node may write over an input that dies at that node; an update_slice that
// is its parameter's update writes into the parameter itself. Outputs and update values live
// to the end of the step.
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
  // Per value: for an update_slice of a parameter that is the parameter's step update and
  // after which nothing reads the parameter (a KV-cache write), that parameter — the node
  // writes its window into the parameter's own storage; kNoValue otherwise.
  std::vector<ValueId> in_place_parameter;
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;  // the sum of all planned values' sizes, for comparison
};

struct MemoryPlanOptions {
  int64_t alignment = 64;
  bool in_place = true;  // let elementwise nodes overwrite an input that dies there
};

// The graph must have static shapes (see specialize()).
MemoryPlan plan_memory(const Graph& g, const MemoryPlanOptions& options = {});

}  // namespace tessera
