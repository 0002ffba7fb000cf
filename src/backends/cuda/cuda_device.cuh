// Device-side helpers shared by the CUDA backend's .cu files: element types and their
// f32 conversions, grid sizing, index decoding and the device error slot.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_kernels.h"

namespace tessera::cuda {

inline constexpr int kThreads = 256;

// Blocks for n work items at kThreads per block, capped: kernels loop grid-stride, so the
// cap only bounds the grid (gridDim.x may not exceed 2^31 - 1) and the launch overhead.
inline unsigned int grid_for(int64_t n, int per_thread = 1) {
  int64_t threads = (n + per_thread - 1) / per_thread;
  int64_t blocks = (threads + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  if (blocks > (1 << 20)) blocks = 1 << 20;
  return static_cast<unsigned int>(blocks);
}

__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_threads() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// f32 views of the float element types.
__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
template <typename T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float v) {
  return __float2half_rn(v);
}

// Flat index -> offset through per-dim strides (row-major over dims).
__device__ __forceinline__ int64_t offset_of(int64_t i, int rank, const int64_t* dims,
                                             const int64_t* strides) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    int64_t q = i / dims[d];
    off += (i - q * dims[d]) * strides[d];
    i = q;
  }
  return off;
}

__device__ __forceinline__ float warp_sum_f(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max_f(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Records the first device error of the step; later ones are dropped.
__device__ __forceinline__ void report(DeviceStatus* st, unsigned long long code, int32_t node,
                                       int64_t position, int64_t value) {
  if (st == nullptr) return;
  if (atomicCAS(&st->code, 0ull, code) == 0ull) {
    st->node = node;
    st->position = position;
    st->value = value;
  }
}

__device__ __forceinline__ int64_t load_index(const void* p, bool i64, int64_t i) {
  return i64 ? static_cast<const int64_t*>(p)[i] : static_cast<const int32_t*>(p)[i];
}

// Dispatches a float element type to a templated body: F(float{}), F(__nv_bfloat16{}), …
template <typename F>
void dispatch_float(DevType t, F&& f) {
  switch (t) {
    case DevType::kF32:
      f(float{});
      break;
    case DevType::kBF16:
      f(__nv_bfloat16{});
      break;
    case DevType::kF16:
      f(__half{});
      break;
    default:
      break;  // the host checked the type
  }
}

}  // namespace tessera::cuda
