// The executable shared by backends that run a graph node by node in host memory (ref,
// cpu): a backend supplies one kernel per node; this file plans memory, binds tensors once
// at compile time and runs the kernels in order, allocating nothing per run.
//
//   KernelFn lookup(const Graph& g, ValueId id);   // the backend's, nullptr = unsupported
//   auto exe = compile_with_kernels(graph, options, my_lookup, "cpu");
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "tessera/backends/backend.h"
#include "tessera/ir/passes.h"

namespace tessera {

struct KernelArgs {
  const Graph& graph;
  ValueId id;
  const Node& node;
  std::span<const Tensor> inputs;
  Tensor& output;  // contiguous, preallocated with node.type; may share storage with an
                   // input for elementwise nodes (in-place), and with its input for reshape
};

using KernelFn = void (*)(const KernelArgs& args);
using KernelLookup = KernelFn (*)(const Graph& g, ValueId id);

// Evaluates one node into a fresh tensor with a backend's kernels (for constant folding).
Tensor evaluate_with_kernels(const Graph& g, ValueId id, std::span<const Tensor> inputs,
                             KernelLookup lookup, std::string_view backend_name);

std::unique_ptr<Executable> compile_with_kernels(const Graph& g, const CompileOptions& options,
                                                 KernelLookup lookup,
                                                 std::string_view backend_name);

}  // namespace tessera
