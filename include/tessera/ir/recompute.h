// Activation checkpointing (recompute) as a graph-to-graph pass over a differentiated graph.
//
// The forward nodes are grouped into segments (a model marks each layer call). Values that
// stay inside their segment — read only by forward nodes of the same segment, and not an
// output or update — are not kept for the backward pass: each backward node that reads one
// reads instead a copy recomputed just before it (with the copies of whatever else of the
// segment that copy needs). The original then dies inside the forward pass, so the memory
// planner reuses its storage; segment boundaries (the values that leave a segment, the
// checkpoints) are kept. The backward pass pays one more forward computation of what it
// recomputes; the values are bit-identical (the same kernels on the same inputs).
//
//   Gradients d = differentiate(g, loss, wrt);
//   std::vector<int32_t> segment(g.size(), -1);          // per forward node; -1: none
//   for (ValueId v = start; v < end; ++v) segment[v] = 0;  // e.g. one layer call
//   d.graph = recompute_activations(d.graph, g.size(), segment, &d.grads);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

// `g`: a forward graph of `forward_size` nodes followed by its backward nodes (as
// differentiate() returns it). `segment_of`: one entry per forward node, its segment or -1.
// `always` (empty, or one entry per forward node): values recomputed for the backward pass
// wherever they are (unless outputs or updates) — cheap copies such as the bf16 casts of
// f32 weights under mixed precision, which would otherwise stay alive from the forward
// pass to the end of the backward. Leaves are never recomputed. The result keeps the
// forward nodes' ids; backward ids move, so `roots` (e.g. the gradients) are renumbered in
// place. Recomputed copies carry the attribute `recompute` = 1, which keeps
// common-subexpression elimination from merging them back into the forward values.
Graph recompute_activations(const Graph& g, int forward_size, std::span<const int32_t> segment_of,
                            std::vector<ValueId>* roots, std::span<const char> always = {});

}  // namespace tessera
