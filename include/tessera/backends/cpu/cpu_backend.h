// The CPU backend: OpenBLAS sgemm for matmul; AVX2/FMA-vectorized, multi-threaded
// elementwise ops, fused elementwise programs, reductions and softmax, with scalar fallbacks
// chosen at run time on machines without AVX2. It supports every op the op table has,
// which is why the scheduler falls back to it.
//
//   Backend& cpu = backend_registry().get("cpu");
//   auto exe = cpu.compile(specialize(graph, 128), {});
#pragma once

#include <memory>

#include "tessera/backends/backend.h"
#include "tessera/backends/kernel_executable.h"

namespace tessera {

std::unique_ptr<Backend> make_cpu_backend();

// The cpu kernel for node `id`, or nullptr when the node is not supported.
KernelFn cpu_kernel(const Graph& g, ValueId id);

// Whether this machine runs the AVX2/FMA kernels (else the scalar fallbacks).
bool cpu_has_avx2();
// Forces the scalar fallbacks (for tests and benchmarks); returns the previous setting.
bool cpu_force_scalar(bool force);

}  // namespace tessera
