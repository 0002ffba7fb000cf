// Reductions and row-wise kernels: reduce_sum/mean/max over any axes, softmax and
// log_softmax along an axis, cross-entropy, and layer/RMS norm with their input gradients.
// Floats accumulate in f32 and round once; integer sums wrap; max propagates NaN. Each
// launch has a fixed reduction order, so results are identical run to run.
#include <cmath>

#include "cuda_device.cuh"

namespace tessera::cuda {
namespace {

// ---- reduce ---------------------------------------------------------------------------
// Accumulators: float (f32 for float types), uint64 for integer sums (wrapping), int64 max.
template <typename T>
struct Acc {
  using Type = float;
  static __device__ float load(T v) { return to_f32(v); }
  static __device__ T store(float v) { return from_f32<T>(v); }
  static __device__ float zero(bool max) { return max ? -INFINITY : 0.f; }
  static __device__ float combine(bool max, float a, float b) {
    if (!max) return a + b;
    return (a != a || b != b) ? a + b : fmaxf(a, b);  // NaN wins
  }
  static __device__ float mean(float s, int64_t n) { return s / static_cast<float>(n); }
  static __device__ float shfl(float v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
};

template <typename I>
struct IntAcc {
  using Type = int64_t;
  static __device__ int64_t load(I v) { return static_cast<int64_t>(v); }
  static __device__ I store(int64_t v) { return static_cast<I>(v); }
  static __device__ int64_t zero(bool max) { return max ? INT64_MIN : 0; }
  static __device__ int64_t combine(bool max, int64_t a, int64_t b) {
    if (max) return a > b ? a : b;
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  }
  static __device__ int64_t mean(int64_t s, int64_t) { return s; }  // not used for ints
  static __device__ int64_t shfl(int64_t v, int o) {
    return __shfl_xor_sync(0xffffffffu, static_cast<long long>(v), o);
  }
};
template <>
struct Acc<int32_t> : IntAcc<int32_t> {};
template <>
struct Acc<int64_t> : IntAcc<int64_t> {};

// One thread per output element (few reduced elements, or kept innermost axis: coalesced).
template <typename T>
__global__ void reduce_thread_kernel(OpKind op, ReduceDesc d, const T* x, T* y) {
  using A = Acc<T>;
  const bool max = op == OpKind::kReduceMax;
  for (int64_t o = global_thread(); o < d.out_numel; o += grid_threads()) {
    const int64_t base = offset_of(o, d.out_rank, d.out_dims, d.out_strides);
    typename A::Type acc = A::zero(max);
    for (int64_t r = 0; r < d.red_numel; ++r)
      acc = A::combine(max, acc,
                       A::load(x[base + offset_of(r, d.red_rank, d.red_dims, d.red_strides)]));
    if (op == OpKind::kReduceMean) acc = A::mean(acc, d.red_numel);
    y[o] = A::store(acc);
  }
}

// One block per output element: threads stride over the reduced elements, then a tree.
template <typename T>
__global__ void reduce_block_kernel(OpKind op, ReduceDesc d, const T* x, T* y) {
  using A = Acc<T>;
  using V = typename A::Type;
  const bool max = op == OpKind::kReduceMax;
  __shared__ V part[kThreads / 32];
  for (int64_t o = blockIdx.x; o < d.out_numel; o += gridDim.x) {
    const int64_t base = offset_of(o, d.out_rank, d.out_dims, d.out_strides);
    V acc = A::zero(max);
    for (int64_t r = threadIdx.x; r < d.red_numel; r += blockDim.x)
      acc = A::combine(max, acc,
                       A::load(x[base + offset_of(r, d.red_rank, d.red_dims, d.red_strides)]));
    for (int s = 16; s > 0; s >>= 1) acc = A::combine(max, acc, A::shfl(acc, s));
    if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = acc;
    __syncthreads();
    if (threadIdx.x < 32) {
      V v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : A::zero(max);
      for (int s = 16; s > 0; s >>= 1) v = A::combine(max, v, A::shfl(v, s));
      if (threadIdx.x == 0) {
        if (op == OpKind::kReduceMean) v = A::mean(v, d.red_numel);
        y[o] = A::store(v);
      }
    }
    __syncthreads();
  }
}

template <typename T>
void reduce_typed(OpKind op, const ReduceDesc& d, const T* x, T* y, cudaStream_t s) {
  const bool inner_kept = d.out_rank > 0 && d.out_strides[d.out_rank - 1] == 1;
  if (d.red_numel <= 32 || (inner_kept && d.out_numel >= 2048)) {
    reduce_thread_kernel<<<grid_for(d.out_numel), kThreads, 0, s>>>(op, d, x, y);
  } else {
    const int64_t blocks = d.out_numel < (1 << 20) ? d.out_numel : (1 << 20);
    reduce_block_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(op, d, x, y);
  }
}

// ---- softmax ----------------------------------------------------------------------------
// One warp per row when the axis is innermost (coalesced), else one thread per row with the
// threads of a block on adjacent inner positions.
template <typename T>
__global__ void softmax_warp_kernel(bool log, int64_t rows, int64_t c, const T* x, T* y) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = grid_threads() / 32;
  for (int64_t row = global_thread() / 32; row < rows; row += warps) {
    const T* xr = x + row * c;
    T* yr = y + row * c;
    float m = -INFINITY;
    for (int64_t j = lane; j < c; j += 32) m = fmaxf(m, to_f32(xr[j]));
    m = warp_max_f(m);
    float sum = 0.f;
    for (int64_t j = lane; j < c; j += 32) sum += expf(to_f32(xr[j]) - m);
    sum = warp_sum_f(sum);
    const float lse = logf(sum);
    for (int64_t j = lane; j < c; j += 32) {
      const float v = to_f32(xr[j]) - m;
      yr[j] = from_f32<T>(log ? v - lse : expf(v) / sum);
    }
  }
}

template <typename T>
__global__ void softmax_strided_kernel(bool log, int64_t outer, int64_t c, int64_t inner,
                                       const T* x, T* y) {
  const int64_t rows = outer * inner;
  for (int64_t row = global_thread(); row < rows; row += grid_threads()) {
    const int64_t o = row / inner, r = row - o * inner;
    const T* xr = x + o * c * inner + r;
    T* yr = y + o * c * inner + r;
    float m = -INFINITY;
    for (int64_t j = 0; j < c; ++j) m = fmaxf(m, to_f32(xr[j * inner]));
    float sum = 0.f;
    for (int64_t j = 0; j < c; ++j) sum += expf(to_f32(xr[j * inner]) - m);
    const float lse = logf(sum);
    for (int64_t j = 0; j < c; ++j) {
      const float v = to_f32(xr[j * inner]) - m;
      yr[j * inner] = from_f32<T>(log ? v - lse : expf(v) / sum);
    }
  }
}

template <typename T>
__global__ void cross_entropy_kernel(int64_t rows, int64_t c, const T* logits, const void* labels,
                                     bool label_i64, T* y, DeviceStatus* st, int32_t node) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = grid_threads() / 32;
  for (int64_t row = global_thread() / 32; row < rows; row += warps) {
    const T* xr = logits + row * c;
    float m = -INFINITY;
    for (int64_t j = lane; j < c; j += 32) m = fmaxf(m, to_f32(xr[j]));
    m = warp_max_f(m);
    float sum = 0.f;
    for (int64_t j = lane; j < c; j += 32) sum += expf(to_f32(xr[j]) - m);
    sum = warp_sum_f(sum);
    if (lane == 0) {
      const int64_t label = load_index(labels, label_i64, row);
      if (label < 0 || label >= c) {
        report(st, kStatusLabelOutOfRange, node, row, label);
        y[row] = from_f32<T>(0.f);
      } else {
        y[row] = from_f32<T>(logf(sum) + m - to_f32(xr[label]));
      }
    }
  }
}

// ---- norms ----------------------------------------------------------------------------
template <typename T>
__global__ void norm_kernel(OpKind op, int64_t rows, int64_t c, float eps, const T* x,
                            const T* gamma, const T* third, T* y) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = grid_threads() / 32;
  const bool layer = op == OpKind::kLayerNorm || op == OpKind::kLayerNormGradInput;
  const bool grad = op == OpKind::kLayerNormGradInput || op == OpKind::kRmsNormGradInput;
  const float inv_c = 1.f / static_cast<float>(c);
  for (int64_t row = global_thread() / 32; row < rows; row += warps) {
    const T* xr = x + row * c;
    float mean = 0.f;
    if (layer) {
      float s = 0.f;
      for (int64_t j = lane; j < c; j += 32) s += to_f32(xr[j]);
      mean = warp_sum_f(s) * inv_c;
    }
    float sq = 0.f;
    for (int64_t j = lane; j < c; j += 32) {
      const float v = to_f32(xr[j]) - mean;
      sq += v * v;
    }
    const float rstd = 1.f / sqrtf(warp_sum_f(sq) * inv_c + eps);
    T* yr = y + row * c;
    if (!grad) {
      for (int64_t j = lane; j < c; j += 32) {
        float v = (to_f32(xr[j]) - mean) * rstd * to_f32(gamma[j]);
        if (layer) v += to_f32(third[j]);
        yr[j] = from_f32<T>(v);
      }
      continue;
    }
    const T* dy = third + row * c;
    float sg = 0.f, sgx = 0.f;
    for (int64_t j = lane; j < c; j += 32) {
      const float g = to_f32(dy[j]) * to_f32(gamma[j]);
      const float xh = (to_f32(xr[j]) - mean) * rstd;
      sg += g;
      sgx += g * xh;
    }
    const float mean_g = layer ? warp_sum_f(sg) * inv_c : 0.f;
    const float mean_gx = warp_sum_f(sgx) * inv_c;
    for (int64_t j = lane; j < c; j += 32) {
      const float g = to_f32(dy[j]) * to_f32(gamma[j]);
      const float xh = (to_f32(xr[j]) - mean) * rstd;
      yr[j] = from_f32<T>(rstd * (g - mean_g - xh * mean_gx));
    }
  }
}

unsigned warp_grid(int64_t rows) { return grid_for(rows * 32); }

}  // namespace

void launch_reduce(OpKind op, DevType t, const ReduceDesc& d, const void* x, void* y,
                   cudaStream_t s) {
  if (d.out_numel == 0) return;
  switch (t) {
    case DevType::kI32:
      reduce_typed(op, d, static_cast<const int32_t*>(x), static_cast<int32_t*>(y), s);
      return;
    case DevType::kI64:
      reduce_typed(op, d, static_cast<const int64_t*>(x), static_cast<int64_t*>(y), s);
      return;
    default:
      dispatch_float(t, [&](auto tag) {
        using T = decltype(tag);
        reduce_typed(op, d, static_cast<const T*>(x), static_cast<T*>(y), s);
      });
  }
}

void launch_softmax(bool log, DevType t, int64_t outer, int64_t c, int64_t inner, const void* x,
                    void* y, cudaStream_t s) {
  if (outer * c * inner == 0) return;
  dispatch_float(t, [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_warp_kernel<<<warp_grid(outer), kThreads, 0, s>>>(
          log, outer, c, static_cast<const T*>(x), static_cast<T*>(y));
    else
      softmax_strided_kernel<<<grid_for(outer * inner), kThreads, 0, s>>>(
          log, outer, c, inner, static_cast<const T*>(x), static_cast<T*>(y));
  });
}

void launch_cross_entropy(DevType t, bool label_i64, int64_t rows, int64_t c, const void* logits,
                          const void* labels, void* y, DeviceStatus* status, int32_t node,
                          cudaStream_t s) {
  if (rows == 0) return;
  dispatch_float(t, [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_kernel<<<warp_grid(rows), kThreads, 0, s>>>(
        rows, c, static_cast<const T*>(logits), labels, label_i64, static_cast<T*>(y), status,
        node);
  });
}

void launch_norm(OpKind op, DevType t, int64_t rows, int64_t c, float epsilon, const void* x,
                 const void* gamma, const void* third, void* y, cudaStream_t s) {
  if (rows * c == 0) return;
  dispatch_float(t, [&](auto tag) {
    using T = decltype(tag);
    norm_kernel<<<warp_grid(rows), kThreads, 0, s>>>(
        op, rows, c, epsilon, static_cast<const T*>(x), static_cast<const T*>(gamma),
        static_cast<const T*>(third), static_cast<T*>(y));
  });
}

}  // namespace tessera::cuda
