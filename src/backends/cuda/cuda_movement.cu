// Data movement and indexing kernels: the strided copy behind broadcast, permute, slice,
// concat, pad, update_slice and dynamic_slice; fill; gather, scatter_add, one_hot; and
// random_uniform (the ref's Philox stream, element for element).
#include "cuda_device.cuh"

namespace tessera::cuda {
namespace {

template <typename E>
__global__ void copy_kernel(CopyDesc d, const E* in, E* out) {
  int64_t in_base = d.in_offset, out_base = d.out_offset;
  if (d.dyn_target != 0) {
    int64_t start = load_index(d.dyn_start, d.dyn_start_i64, 0);
    start = start < 0 ? 0 : start > d.dyn_max ? d.dyn_max : start;
    (d.dyn_target == 1 ? in_base : out_base) += start * d.dyn_stride;
  }
  for (int64_t i = global_thread(); i < d.numel; i += grid_threads()) {
    int64_t io = 0, oo = 0, r = i;
    for (int k = d.rank - 1; k >= 0; --k) {
      int64_t q = r / d.dims[k];
      int64_t idx = r - q * d.dims[k];
      io += idx * d.in_strides[k];
      oo += idx * d.out_strides[k];
      r = q;
    }
    out[out_base + oo] = in[in_base + io];
  }
}

template <typename E>
__global__ void fill_kernel(E* y, int64_t n, E v) {
  for (int64_t i = global_thread(); i < n; i += grid_threads()) y[i] = v;
}

template <typename E>
__global__ void gather_kernel(int64_t outer, int64_t axis_dim, int64_t nidx, int64_t inner,
                              const E* data, const void* idx, bool idx_i64, E* y, DeviceStatus* st,
                              int32_t node) {
  const int64_t n = outer * nidx * inner;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t r = i % inner;
    const int64_t p = (i / inner) % nidx;
    const int64_t o = i / (inner * nidx);
    int64_t k = load_index(idx, idx_i64, p);
    if (k < 0) k += axis_dim;
    if (k < 0 || k >= axis_dim) {
      report(st, kStatusIndexOutOfRange, node, p, load_index(idx, idx_i64, p));
      y[i] = E{};
      continue;
    }
    y[i] = data[(o * axis_dim + k) * inner + r];
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int32_t* p, int32_t v) {
  atomicAdd(reinterpret_cast<unsigned int*>(p), static_cast<unsigned int>(v));
}
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

template <typename E>
__global__ void scatter_add_kernel(int64_t outer, int64_t dim_size, int64_t nidx, int64_t inner,
                                   const E* upd, const void* idx, bool idx_i64, E* y,
                                   DeviceStatus* st, int32_t node) {
  const int64_t n = outer * nidx * inner;
  for (int64_t i = global_thread(); i < n; i += grid_threads()) {
    const int64_t r = i % inner;
    const int64_t p = (i / inner) % nidx;
    const int64_t o = i / (inner * nidx);
    int64_t k = load_index(idx, idx_i64, p);
    if (k < 0) k += dim_size;
    if (k < 0 || k >= dim_size) {
      report(st, kStatusIndexOutOfRange, node, p, load_index(idx, idx_i64, p));
      continue;
    }
    atomic_add(&y[(o * dim_size + k) * inner + r], upd[i]);
  }
}

template <typename E>
__global__ void one_hot_kernel(int64_t n, int64_t depth, const void* idx, bool idx_i64, E* y, E one,
                               DeviceStatus* st, int32_t node) {
  const int64_t total = n * depth;
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    const int64_t p = i / depth, k = i - p * depth;
    const int64_t v = load_index(idx, idx_i64, p);
    if ((v < 0 || v >= depth) && k == 0) report(st, kStatusOneHotOutOfRange, node, p, v);
    y[i] = v == k ? one : E{};
  }
}

// philox4x32-10, as core/rng.cpp computes it.
__device__ __forceinline__ void philox(uint64_t key, uint64_t hi, uint64_t lo, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(lo), c1 = static_cast<uint32_t>(lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(hi), c3 = static_cast<uint32_t>(hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint32_t lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
    const uint32_t lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

__global__ void random_uniform_kernel(uint64_t seed, const int64_t* step, float* y, int64_t n) {
  const uint64_t s = static_cast<uint64_t>(*step);
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = global_thread(); b < blocks; b += grid_threads()) {
    uint32_t r[4];
    philox(seed, s, static_cast<uint64_t>(b), r);
    for (int k = 0; k < 4 && b * 4 + k < n; ++k)
      y[b * 4 + k] = static_cast<float>(r[k] >> 8) * 0x1.0p-24f;
  }
}

template <typename F>
void by_size(int elem_size, F&& f) {
  switch (elem_size) {
    case 1:
      f(uint8_t{});
      break;
    case 2:
      f(uint16_t{});
      break;
    case 4:
      f(uint32_t{});
      break;
    default:
      f(uint64_t{});
      break;
  }
}

}  // namespace

void launch_copy(int elem_size, const CopyDesc& d, const void* in, void* out, cudaStream_t s) {
  if (d.numel == 0) return;
  by_size(elem_size, [&](auto tag) {
    using E = decltype(tag);
    copy_kernel<<<grid_for(d.numel), kThreads, 0, s>>>(d, static_cast<const E*>(in),
                                                       static_cast<E*>(out));
  });
}

void launch_fill(int elem_size, void* y, int64_t n, uint64_t pattern, cudaStream_t s) {
  if (n == 0) return;
  by_size(elem_size, [&](auto tag) {
    using E = decltype(tag);
    fill_kernel<<<grid_for(n), kThreads, 0, s>>>(static_cast<E*>(y), n, static_cast<E>(pattern));
  });
}

void launch_gather(int elem_size, bool idx_i64, int64_t outer, int64_t axis_dim, int64_t nidx,
                   int64_t inner, const void* data, const void* idx, void* y, DeviceStatus* status,
                   int32_t node, cudaStream_t s) {
  const int64_t n = outer * nidx * inner;
  if (n == 0) return;
  by_size(elem_size, [&](auto tag) {
    using E = decltype(tag);
    gather_kernel<<<grid_for(n), kThreads, 0, s>>>(outer, axis_dim, nidx, inner,
                                                   static_cast<const E*>(data), idx, idx_i64,
                                                   static_cast<E*>(y), status, node);
  });
}

void launch_scatter_add(DevType t, bool idx_i64, int64_t outer, int64_t dim_size, int64_t nidx,
                        int64_t inner, const void* updates, const void* idx, void* y,
                        DeviceStatus* status, int32_t node, cudaStream_t s) {
  const int64_t out_n = outer * dim_size * inner;
  const int elem = t == DevType::kI64 ? 8 : 4;
  launch_fill(elem, y, out_n, 0, s);
  const int64_t n = outer * nidx * inner;
  if (n == 0) return;
  const unsigned g = grid_for(n);
  switch (t) {
    case DevType::kF32:
      scatter_add_kernel<<<g, kThreads, 0, s>>>(outer, dim_size, nidx, inner,
                                                static_cast<const float*>(updates), idx, idx_i64,
                                                static_cast<float*>(y), status, node);
      break;
    case DevType::kI32:
      scatter_add_kernel<<<g, kThreads, 0, s>>>(outer, dim_size, nidx, inner,
                                                static_cast<const int32_t*>(updates), idx, idx_i64,
                                                static_cast<int32_t*>(y), status, node);
      break;
    default:
      scatter_add_kernel<<<g, kThreads, 0, s>>>(outer, dim_size, nidx, inner,
                                                static_cast<const int64_t*>(updates), idx, idx_i64,
                                                static_cast<int64_t*>(y), status, node);
      break;
  }
}

void launch_one_hot(DevType out, bool idx_i64, int64_t n, int64_t depth, const void* idx, void* y,
                    DeviceStatus* status, int32_t node, cudaStream_t s) {
  const int64_t total = n * depth;
  if (total == 0) return;
  const unsigned g = grid_for(total);
  switch (out) {
    case DevType::kF32:
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<float*>(y), 1.f,
                                            status, node);
      break;
    case DevType::kBF16:
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<uint16_t*>(y),
                                            uint16_t{0x3F80}, status, node);
      break;
    case DevType::kF16:
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<uint16_t*>(y),
                                            uint16_t{0x3C00}, status, node);
      break;
    case DevType::kI32:
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<int32_t*>(y), 1,
                                            status, node);
      break;
    case DevType::kI64:
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<int64_t*>(y),
                                            int64_t{1}, status, node);
      break;
    default:  // bool, i8
      one_hot_kernel<<<g, kThreads, 0, s>>>(n, depth, idx, idx_i64, static_cast<uint8_t*>(y),
                                            uint8_t{1}, status, node);
      break;
  }
}

void launch_random_uniform(uint64_t seed, const int64_t* step, float* y, int64_t n,
                           cudaStream_t s) {
  if (n == 0) return;
  random_uniform_kernel<<<grid_for((n + 3) / 4), kThreads, 0, s>>>(seed, step, y, n);
}

}  // namespace tessera::cuda
