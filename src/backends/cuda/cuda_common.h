// Host-side helpers of the CUDA backend: turning CUDA, cuBLAS and cuDNN status codes into
// tessera::Error (naming the call and the node), owned device allocations that report
// running out of memory with the tensor and the size, and the DType <-> DevType map.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cuda_kernels.h"
#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/core/dtype.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cuda {

// Throws Error(kInternal) "cuda: <call> failed for <context>: <reason>" unless ok.
void check_cuda(cudaError_t e, std::string_view call, std::string_view context);
void check_cublas(cublasStatus_t s, std::string_view call, std::string_view context);
void check_cudnn(cudnnStatus_t s, std::string_view call, std::string_view context);
// After a kernel launch: cudaGetLastError, naming the kernel and the node.
void check_launch(std::string_view kernel, std::string_view context);

// One cudaMalloc'd block, freed on destruction. Running out of device memory throws
// Error(kOutOfMemory) naming `what` (a tensor, "arena for graph …") and the size.
class DeviceBlock {
 public:
  DeviceBlock() = default;
  DeviceBlock(size_t bytes, std::string_view what);
  ~DeviceBlock();
  DeviceBlock(DeviceBlock&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  DeviceBlock& operator=(DeviceBlock&& o) noexcept;
  DeviceBlock(const DeviceBlock&) = delete;
  DeviceBlock& operator=(const DeviceBlock&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

std::optional<DevType> dev_type(DType t);

// What a node's launch may use besides its operands' device pointers.
struct LaunchEnv {
  cudaStream_t stream = nullptr;
  void* scratch = nullptr;  // the executable's scratch block (Lowered::scratch_bytes)
};

// A node lowered for the device: one closure that enqueues its kernels (all pointers bound
// at compile time) and how much scratch memory it needs.
struct Lowered {
  std::string kernel;  // for error messages and profiles: "cublas gemm", "softmax", …
  std::function<void(const LaunchEnv&)> launch;
  size_t scratch_bytes = 0;
};

// Libraries and per-executable state the lowering binds into its closures.
struct LowerContext {
  const Graph& graph;
  const std::vector<void*>& ptr;  // device pointer of every value
  DeviceStatus* status = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  const CudaOptions& options;
  int compute_major = 0;
  // Small device allocations owned by the executable (fused programs).
  std::vector<DeviceBlock>* keep = nullptr;
};

// Whether the cuda backend runs node `id` (its op, dtypes, ranks and sizes); answers
// without a GPU. `compute_major` 0: no device known (capabilities of sm_80 assumed).
bool cuda_supports(const Graph& g, ValueId id, int compute_major);

// Lowers a supported node (lower_matmul/lower_conv for the library-backed ops).
Lowered lower_node(LowerContext& c, ValueId id);
Lowered lower_matmul(LowerContext& c, ValueId id);
Lowered lower_conv(LowerContext& c, ValueId id);
bool matmul_supported(const Graph& g, ValueId id, int compute_major);
bool conv_supported(const Graph& g, ValueId id, int compute_major);

// The options with the environment applied (TESSERA_CUDA_MATMUL, TESSERA_CUDA_SYNC,
// TESSERA_CUDA_DEVICE) and checked.
CudaOptions resolve_options(CudaOptions o);

}  // namespace tessera::cuda
