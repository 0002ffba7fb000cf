// reduce_sum / reduce_mean / reduce_max. The input is viewed as [P, R, K] (kept, reduced,
// kept); other axis patterns are first permuted into [P, R] through a scratch copy. Results
// do not depend on the thread count: a row of R is combined from fixed kReduceBlock blocks
// in order, and a column reduction adds rows in order r = 0, 1, ... whatever the partition.
// f16/bf16 accumulate in f32 and round once; integer sums wrap.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

enum class Red { kSum, kMax };

struct Layout {
  int64_t p = 1, r = 1, k = 1;
};

// Resolves the axes attribute and, when the reduced axes are not one contiguous group,
// permutes `x` into [kept..., reduced...] in scratch. Returns the data pointer to use.
const void* prepare(const KernelArgs& args, Layout* lay) {
  const Tensor& x = args.inputs[0];
  const Shape& s = x.shape();
  const int rank = s.rank();
  const std::vector<int64_t>& axes = args.node.attrs.get_ints("axes");
  bool reduced[kMaxRank] = {};
  if (axes.empty()) {
    for (int i = 0; i < rank; ++i) reduced[i] = true;
  } else {
    for (int64_t a : axes) reduced[a < 0 ? a + rank : a] = true;
  }
  // Groups of non-trivial dims with the same flag.
  int64_t size[kMaxRank];
  bool flag[kMaxRank];
  int g = 0;
  for (int i = 0; i < rank; ++i) {
    if (s[i] == 1) continue;
    if (g > 0 && flag[g - 1] == reduced[i]) {
      size[g - 1] *= s[i];
    } else {
      size[g] = s[i];
      flag[g] = reduced[i];
      ++g;
    }
  }
  if (g == 0) return x.raw_data();
  int first_red = -1, red_groups = 0;
  for (int i = 0; i < g; ++i)
    if (flag[i]) {
      if (first_red < 0) first_red = i;
      ++red_groups;
    }
  if (red_groups == 0) {
    lay->p = x.numel();
    return x.raw_data();
  }
  if (red_groups == 1) {
    for (int i = 0; i < first_red; ++i) lay->p *= size[i];
    lay->r = size[first_red];
    for (int i = first_red + 1; i < g; ++i) lay->k *= size[i];
    return x.raw_data();
  }
  // Several reduced groups: copy into [kept..., reduced...].
  Shape perm_shape;
  Shape src_strides;
  Shape cs = contiguous_strides(s);
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < rank; ++i)
      if (reduced[i] == (pass == 1)) {
        perm_shape.push_back(s[i]);
        src_strides.push_back(cs[i]);
        (pass == 0 ? lay->p : lay->r) *= s[i];
      }
  void* dst = scratch<3, uint64_t>((x.nbytes() + 7) / 8);
  Shape ds = contiguous_strides(perm_shape);
  strided_copy(x.raw_data(), src_strides.dims(), dst, ds.dims(), perm_shape, x.dtype().size());
  return dst;
}

// ---- f32 --------------------------------------------------------------------------------

float combine(Red red, float acc, float v) {
  if (red == Red::kSum) return acc + v;
  return (std::isnan(acc) || acc >= v) ? acc : v;
}

float block_reduce(const F32Kernels& k, Red red, const float* x, int64_t n) {
  return red == Red::kSum ? k.sum(x, n) : k.max(x, n);
}

void reduce_f32(Red red, const float* x, float* y, const Layout& lay) {
  const F32Kernels& kern = f32_kernels();
  const float init = red == Red::kSum ? 0.0f : -std::numeric_limits<float>::infinity();
  const int64_t P = lay.p, R = lay.r, K = lay.k;
  if (R == 0) {
    std::fill(y, y + P * K, init);
    return;
  }
  if (K == 1) {
    const int64_t blocks = (R + kReduceBlock - 1) / kReduceBlock;
    if (P >= 2 * pool().num_threads() || blocks == 1) {
      pool().parallel_for(P, std::max<int64_t>(1, kCheapGrain / R), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          float acc = init;
          for (int64_t j = 0; j < blocks; ++j) {
            int64_t s = j * kReduceBlock;
            acc = combine(red, acc, block_reduce(kern, red, x + p * R + s,
                                                 std::min(kReduceBlock, R - s)));
          }
          y[p] = acc;
        }
      });
      return;
    }
    // Few long rows: blocks in parallel, combined in order afterwards (same result).
    float* part = scratch<4>(static_cast<size_t>(blocks));
    for (int64_t p = 0; p < P; ++p) {
      const float* row = x + p * R;
      pool().parallel_for(blocks, 4, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) {
          int64_t s = j * kReduceBlock;
          part[j] = block_reduce(kern, red, row + s, std::min(kReduceBlock, R - s));
        }
      });
      float acc = init;
      for (int64_t j = 0; j < blocks; ++j) acc = combine(red, acc, part[j]);
      y[p] = acc;
    }
    return;
  }
  // Column reduction: accumulate rows into y in order.
  const int64_t chunk = std::min<int64_t>(K, 2048);
  const int64_t chunks = (K + chunk - 1) / chunk;
  // Few column chunks over many rows (a bias gradient: [batch, units] summed over the
  // batch) would leave all but one thread idle: the rows are cut into at most 64 blocks of
  // at least kReduceBlock elements, summed in parallel, and the block sums added in order.
  // The cut depends on the shape only, so the result does not depend on the thread count.
  const int64_t block_rows = std::max<int64_t>(kReduceBlock / chunk, (R + 63) / 64);
  const int64_t row_blocks = (R + block_rows - 1) / block_rows;
  if (P * chunks < 16 && row_blocks > 1) {
    float* part = scratch<35>(static_cast<size_t>(P * chunks * row_blocks * chunk));
    pool().parallel_for(P * chunks * row_blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t it = b; it < e; ++it) {
        int64_t item = it / row_blocks, blk = it % row_blocks;
        int64_t p = item / chunks, c0 = (item % chunks) * chunk, n = std::min(chunk, K - c0);
        int64_t r0 = blk * block_rows, r1 = std::min(R, r0 + block_rows);
        float* acc = part + it * chunk;
        const float* base = x + p * R * K + c0;
        std::copy(base + r0 * K, base + r0 * K + n, acc);
        for (int64_t r = r0 + 1; r < r1; ++r)
          (red == Red::kSum ? kern.add_into : kern.max_into)(acc, base + r * K, n);
      }
    });
    for (int64_t item = 0; item < P * chunks; ++item) {
      int64_t p = item / chunks, c0 = (item % chunks) * chunk, n = std::min(chunk, K - c0);
      float* out = y + p * K + c0;
      const float* first = part + item * row_blocks * chunk;
      std::copy(first, first + n, out);
      for (int64_t blk = 1; blk < row_blocks; ++blk)
        (red == Red::kSum ? kern.add_into : kern.max_into)(out, first + blk * chunk, n);
    }
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kCheapGrain / (R * chunk));
  pool().parallel_for(P * chunks, grain, [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      int64_t p = it / chunks, c0 = (it % chunks) * chunk, n = std::min(chunk, K - c0);
      float* acc = y + p * K + c0;
      const float* base = x + p * R * K + c0;
      std::copy(base, base + n, acc);
      for (int64_t r = 1; r < R; ++r)
        (red == Red::kSum ? kern.add_into : kern.max_into)(acc, base + r * K, n);
    }
  });
}

// ---- integers ---------------------------------------------------------------------------

template <typename T>
void reduce_int(Red red, const T* x, T* y, const Layout& lay) {
  using U = std::make_unsigned_t<T>;
  const int64_t P = lay.p, R = lay.r, K = lay.k;
  const int64_t grain = std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(R, 1));
  pool().parallel_for(P * K, grain, [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      int64_t p = it / K, k = it % K;
      const T* base = x + p * R * K + k;
      if (red == Red::kSum) {
        U acc = 0;  // modular: equal to wrapping at every step
        for (int64_t r = 0; r < R; ++r) acc += static_cast<U>(base[r * K]);
        y[it] = static_cast<T>(acc);
      } else {
        T acc = std::numeric_limits<T>::min();
        for (int64_t r = 0; r < R; ++r) acc = std::max(acc, base[r * K]);
        y[it] = acc;
      }
    }
  });
}

}  // namespace

void reduce_kernel(const KernelArgs& args) {
  Layout lay;
  const void* x = prepare(args, &lay);
  const Red red = args.node.op == OpKind::kReduceMax ? Red::kMax : Red::kSum;
  DType t = args.output.dtype();
  const int64_t out_n = lay.p * lay.k;
  TS_ASSERT(out_n == args.output.numel());
  switch (t.id()) {
    case DTypeId::kI8:
      return reduce_int(red, static_cast<const int8_t*>(x), args.output.data<int8_t>(), lay);
    case DTypeId::kI32:
      return reduce_int(red, static_cast<const int32_t*>(x), args.output.data<int32_t>(), lay);
    case DTypeId::kI64:
      return reduce_int(red, static_cast<const int64_t*>(x), args.output.data<int64_t>(), lay);
    default:
      break;
  }
  const float* xf = static_cast<const float*>(x);
  float* yf = args.output.data<float>();
  if (t != kF32) {
    const int64_t in_n = lay.p * lay.r * lay.k;
    float* cx = scratch<5>(static_cast<size_t>(in_n));
    pool().parallel_for(in_n, kCheapGrain, [&](int64_t b, int64_t e) {
      convert(static_cast<const char*>(x) + b * t.size(), t, cx + b, kF32,
              static_cast<size_t>(e - b));
    });
    xf = cx;
    yf = scratch<6>(static_cast<size_t>(out_n));
  }
  reduce_f32(red, xf, yf, lay);
  if (args.node.op == OpKind::kReduceMean) {
    const float r = static_cast<float>(lay.r);
    for (int64_t i = 0; i < out_n; ++i) yf[i] /= r;
  }
  if (t != kF32) convert(yf, kF32, args.output.raw_data(), t, static_cast<size_t>(out_n));
}

}  // namespace tessera::cpu
