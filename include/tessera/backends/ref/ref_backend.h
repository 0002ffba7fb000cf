// The reference backend: plain scalar loops over the dtype table, written for clarity, not
// speed. It is the oracle every other backend and simulator is tested against, so it
// supports every op on every dtype the op table allows (fused nodes run decomposed).
//
//   Backend& ref = backend_registry().get("ref");
//   Tensor y = ref_evaluate(graph, id, {x});   // one node, fresh output
#pragma once

#include <memory>
#include <span>

#include "tessera/backends/backend.h"
#include "tessera/backends/kernel_executable.h"

namespace tessera {

std::unique_ptr<Backend> make_ref_backend();

// The ref kernel for node `id`, or nullptr when the node is not supported.
KernelFn ref_kernel(const Graph& g, ValueId id);

// Evaluates node `id` of `g` on the given input values.
Tensor ref_evaluate(const Graph& g, ValueId id, std::span<const Tensor> inputs);

}  // namespace tessera
