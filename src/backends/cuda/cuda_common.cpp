// Status checks, device allocations and options of the CUDA backend (cuda_common.h).
#include "cuda_common.h"

#include <cstdlib>

namespace tessera::cuda {

void check_cuda(cudaError_t e, std::string_view call, std::string_view context) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky-free error so the next call starts clean
  throw_error(e == cudaErrorMemoryAllocation ? ErrorKind::kOutOfMemory : ErrorKind::kInternal,
              fmt::format("cuda: {} failed for {}: {} ({})", call, context, cudaGetErrorString(e),
                          cudaGetErrorName(e)));
}

void check_cublas(cublasStatus_t s, std::string_view call, std::string_view context) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw_error(
      s == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::kOutOfMemory : ErrorKind::kInternal,
      fmt::format("cuda: cuBLAS {} failed for {}: {}", call, context, cublasGetStatusString(s)));
}

void check_cudnn(cudnnStatus_t s, std::string_view call, std::string_view context) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  throw_error(
      s == CUDNN_STATUS_NOT_SUPPORTED ? ErrorKind::kUnsupported : ErrorKind::kInternal,
      fmt::format("cuda: cuDNN {} failed for {}: {}", call, context, cudnnGetErrorString(s)));
}

void check_launch(std::string_view kernel, std::string_view context) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return;
  throw_error(ErrorKind::kInternal,
              fmt::format("cuda: kernel '{}' failed for {}: {} ({})", kernel, context,
                          cudaGetErrorString(e), cudaGetErrorName(e)));
}

DeviceBlock::DeviceBlock(size_t bytes, std::string_view what) : bytes_(bytes) {
  if (bytes == 0) return;
  cudaError_t e = cudaMalloc(&ptr_, bytes);
  if (e == cudaSuccess) return;
  ptr_ = nullptr;
  cudaGetLastError();
  size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  if (e == cudaErrorMemoryAllocation)
    throw_error(ErrorKind::kOutOfMemory,
                fmt::format("cuda: out of device memory: {} needs {} bytes ({:.1f} MiB); {:.1f} "
                            "MiB of {:.1f} MiB are free",
                            what, bytes, bytes / 1048576.0, free_bytes / 1048576.0,
                            total_bytes / 1048576.0));
  check_cuda(e, "cudaMalloc", what);
}

DeviceBlock::~DeviceBlock() {
  if (ptr_ != nullptr) cudaFree(ptr_);
}

DeviceBlock& DeviceBlock::operator=(DeviceBlock&& o) noexcept {
  if (this != &o) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

std::optional<DevType> dev_type(DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      return DevType::kF32;
    case DTypeId::kBF16:
      return DevType::kBF16;
    case DTypeId::kF16:
      return DevType::kF16;
    case DTypeId::kI32:
      return DevType::kI32;
    case DTypeId::kI64:
      return DevType::kI64;
    case DTypeId::kBool:
      return DevType::kBool;
    case DTypeId::kI8:
      return DevType::kI8;
    case DTypeId::kFixed:
      return std::nullopt;
  }
  return std::nullopt;
}

CudaOptions resolve_options(CudaOptions o) {
  if (o.matmul.empty()) {
    const char* env = std::getenv("TESSERA_CUDA_MATMUL");
    o.matmul = env != nullptr && *env != '\0' ? env : "f32";
  }
  TS_CHECK(o.matmul == "f32" || o.matmul == "tf32" || o.matmul == "bf16",
           ErrorKind::kInvalidArgument,
           "cuda: matmul mode '{}' is unknown (expected f32, tf32 or bf16; from "
           "CudaOptions::matmul or TESSERA_CUDA_MATMUL)",
           o.matmul);
  if (o.device < 0) {
    const char* env = std::getenv("TESSERA_CUDA_DEVICE");
    o.device = 0;
    if (env != nullptr && *env != '\0') {
      char* end = nullptr;
      long v = std::strtol(env, &end, 10);
      TS_CHECK(end != env && *end == '\0' && v >= 0 && v < 1024, ErrorKind::kInvalidArgument,
               "cuda: TESSERA_CUDA_DEVICE='{}' is not a device ordinal", env);
      o.device = static_cast<int>(v);
    }
  }
  const char* sync = std::getenv("TESSERA_CUDA_SYNC");
  if (sync != nullptr && std::string_view(sync) == "1") o.sync_each_node = true;
  return o;
}

}  // namespace tessera::cuda
