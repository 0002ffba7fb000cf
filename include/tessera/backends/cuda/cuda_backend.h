// The CUDA backend ("cuda"): runs graphs on an NVIDIA GPU with cuBLAS (matmul), cuDNN
// (convolution) and its own kernels (elementwise and fused chains, reductions, softmax,
// norms, cross-entropy, indexing, flash-style attention, random numbers). Built when the
// CUDA toolkit is found (CMake option TESSERA_CUDA, docs/backends/cuda.md); in such builds
// register_builtin_backends() registers it with the default options. Nodes it does not
// support fall back to the cpu through the scheduler.
//
//   Program p = compile_program(graph, {.batch = 32, .backends = {"cuda"}});
//   // or with options of your own:
//   auto tf32 = std::shared_ptr<Backend>(make_cuda_backend({.matmul = "tf32"}));
//   Program q = compile_program(graph, {.batch = 32, .custom = {tf32}});
#pragma once

#include <memory>
#include <string>

#include "tessera/backends/backend.h"

namespace tessera {

#ifdef TESSERA_HAVE_CUDA
inline constexpr bool kHaveCudaBackend = true;
#else
inline constexpr bool kHaveCudaBackend = false;
#endif

struct CudaOptions {
  // Matmul arithmetic for f32 operands: "f32" (exact f32 FMA), "tf32" (tensor cores, 10-bit
  // mantissa products, f32 accumulation) or "bf16" (bf16 products, f32 accumulation).
  // Empty: the TESSERA_CUDA_MATMUL environment variable, else "f32". bf16/f16 operands
  // always accumulate in f32. Also picks cuDNN's math mode for f32 convolutions.
  std::string matmul;
  // The GPU ordinal; -1: the TESSERA_CUDA_DEVICE environment variable, else 0.
  int device = -1;
  // Synchronize and check for errors after every node, so that an asynchronous fault is
  // reported with the node that caused it (slow). Also on with TESSERA_CUDA_SYNC=1.
  bool sync_each_node = false;
};

#ifdef TESSERA_HAVE_CUDA
// A cuda backend with the given options (only in CUDA builds).
std::unique_ptr<Backend> make_cuda_backend(CudaOptions options = {});
#endif

}  // namespace tessera
