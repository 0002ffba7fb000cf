// The fused attention kernel (flash-style): softmax(q kᵀ · scale + mask) v without ever
// materialising the Tq × Tk scores. A block takes 16 queries of one batch·head (4 per
// warp); key and value tiles of 32 rows pass through shared memory, and each query keeps a
// running maximum m, a running sum l and an accumulator of Dv values (a lane holds Dv/32 of
// them), rescaled by exp(m_old − m_new) when the maximum grows: the online softmax.
//
// Masks as docs/ops.md defines them: with L = clamp(kv_len, 0, Tk) (Tk without kv_len),
// query i sees key j iff j < L and, when causal, j ≤ i + (L − Tq). Keys at j ≥ L are never
// read; a query that sees no key gives 0. D and Dv are at most kMaxAttentionHead.
#include <cmath>

#include "cuda_device.cuh"

namespace tessera::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;
constexpr int kBlockQ = kWarps * kRowsPerWarp;   // 16 queries per block
constexpr int kBlockK = 32;                      // keys per tile (one per lane)
constexpr int kMaxAcc = kMaxAttentionHead / 32;  // accumulator values per lane and row

template <typename T>
__global__ void __launch_bounds__(kWarps * 32)
    attention_kernel(AttentionDesc d, const T* __restrict__ q, const T* __restrict__ k,
                     const T* __restrict__ v, T* __restrict__ y) {
  __shared__ float qs[kBlockQ][kMaxAttentionHead];
  __shared__ float ks[kBlockK][kMaxAttentionHead + 1];  // +1: lanes read rows, no conflicts
  __shared__ float vs[kBlockK][kMaxAttentionHead];

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int64_t len = d.tk;
  if (d.kv_len != nullptr) {
    len = load_index(d.kv_len, d.kv_len_i64, 0);
    len = len < 0 ? 0 : len > d.tk ? d.tk : len;
  }
  const int64_t q_tiles = (d.tq + kBlockQ - 1) / kBlockQ;
  const int64_t tiles = d.batch * q_tiles;

  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t bh = tile / q_tiles;
    const int64_t q0 = (tile - bh * q_tiles) * kBlockQ;
    const T* qb = q + bh * d.tq * d.d;
    const T* kb = k + bh * d.tk * d.d;
    const T* vb = v + bh * d.tk * d.dv;
    T* yb = y + bh * d.tq * d.dv;

    // The keys this block's queries may see: [0, key_end).
    const int64_t q_last = (q0 + kBlockQ < d.tq ? q0 + kBlockQ : d.tq) - 1;
    int64_t key_end = len;
    if (d.causal) {
      const int64_t lim = q_last + 1 + len - d.tq;
      key_end = lim < 0 ? 0 : lim < len ? lim : len;
    }

    for (int64_t e = threadIdx.x; e < kBlockQ * d.d; e += blockDim.x) {
      const int64_t r = e / d.d, c = e - r * d.d;
      qs[r][c] = q0 + r < d.tq ? to_f32(qb[(q0 + r) * d.d + c]) : 0.f;
    }

    float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kMaxAcc];
    for (int r = 0; r < kRowsPerWarp; ++r) {
      m[r] = -INFINITY;
      l[r] = 0.f;
      for (int c = 0; c < kMaxAcc; ++c) acc[r][c] = 0.f;
    }

    for (int64_t j0 = 0; j0 < key_end; j0 += kBlockK) {
      __syncthreads();  // the previous tile (and the q tile's first use) is done with
      for (int64_t e = threadIdx.x; e < kBlockK * d.d; e += blockDim.x) {
        const int64_t r = e / d.d, c = e - r * d.d;
        ks[r][c] = j0 + r < key_end ? to_f32(kb[(j0 + r) * d.d + c]) : 0.f;
      }
      for (int64_t e = threadIdx.x; e < kBlockK * d.dv; e += blockDim.x) {
        const int64_t r = e / d.dv, c = e - r * d.dv;
        vs[r][c] = j0 + r < key_end ? to_f32(vb[(j0 + r) * d.dv + c]) : 0.f;
      }
      __syncthreads();

      const int64_t j = j0 + lane;
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const int row = warp * kRowsPerWarp + r;
        const int64_t i = q0 + row;
        if (i >= d.tq) continue;  // uniform across the warp
        bool visible = j < key_end;
        if (d.causal) visible = visible && j <= i + len - d.tq;
        float s = -INFINITY;
        if (visible) {
          float dot = 0.f;
          for (int64_t c = 0; c < d.d; ++c) dot += qs[row][c] * ks[lane][c];
          s = dot * d.scale;
        }
        const float m_new = fmaxf(m[r], warp_max_f(s));
        float p = 0.f, alpha = 1.f;
        if (m_new != -INFINITY) {
          p = visible ? expf(s - m_new) : 0.f;
          alpha = expf(m[r] - m_new);  // 0 when m[r] is still -inf
        }
        l[r] = l[r] * alpha + warp_sum_f(p);
        for (int c = 0; c < kMaxAcc; ++c) acc[r][c] *= alpha;
        for (int jj = 0; jj < kBlockK; ++jj) {
          const float pj = __shfl_sync(0xffffffffu, p, jj);
          if (pj == 0.f) continue;  // uniform: every lane read the same pj
          for (int c = 0; c < kMaxAcc; ++c) {
            const int64_t col = lane + 32 * c;
            if (col < d.dv) acc[r][c] += pj * vs[jj][col];
          }
        }
        m[r] = m_new;
      }
    }

    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t i = q0 + warp * kRowsPerWarp + r;
      if (i >= d.tq) continue;
      const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
      for (int c = 0; c < kMaxAcc; ++c) {
        const int64_t col = lane + 32 * c;
        if (col < d.dv) yb[i * d.dv + col] = from_f32<T>(acc[r][c] * inv);
      }
    }
    __syncthreads();  // qs is rewritten by the next tile
  }
}

}  // namespace

void launch_attention(DevType t, const AttentionDesc& d, const void* q, const void* k,
                      const void* v, void* y, cudaStream_t s) {
  const int64_t tiles = d.batch * ((d.tq + kBlockQ - 1) / kBlockQ);
  if (tiles == 0 || d.dv == 0) return;
  const unsigned grid = static_cast<unsigned>(tiles < (1 << 20) ? tiles : (1 << 20));
  dispatch_float(t, [&](auto tag) {
    using T = decltype(tag);
    attention_kernel<<<grid, kWarps * 32, 0, s>>>(d, static_cast<const T*>(q),
                                                  static_cast<const T*>(k),
                                                  static_cast<const T*>(v), static_cast<T*>(y));
  });
}

}  // namespace tessera::cuda
