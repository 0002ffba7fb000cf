// Data movement: reshape, permute, broadcast, slice, concat, pad. All are strided copies of
// 1/2/4/8-byte elements (any dtype, fixed point included), coalesced so the inner loop is a
// memcpy whenever both sides are contiguous along it.
#include <algorithm>
#include <cstring>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

template <typename T>
void copy_run(const char* src, int64_t ss, char* dst, int64_t ds, int64_t n) {
  const T* s = reinterpret_cast<const T*>(src);
  T* d = reinterpret_cast<T*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i * ds] = s[i * ss];
}

}  // namespace

void strided_copy(const void* src, std::span<const int64_t> src_strides, void* dst,
                  std::span<const int64_t> dst_strides, const Shape& shape, size_t es) {
  // Coalesce: drop size-1 dims, merge neighbours contiguous on both sides.
  int64_t dims[kMaxRank], ss[kMaxRank], ds[kMaxRank];
  int r = 0;
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] == 0) return;
    if (shape[i] == 1) continue;
    if (r > 0 && ss[r - 1] == src_strides[i] * shape[i] &&
        ds[r - 1] == dst_strides[i] * shape[i]) {
      dims[r - 1] *= shape[i];
      ss[r - 1] = src_strides[i];
      ds[r - 1] = dst_strides[i];
      continue;
    }
    dims[r] = shape[i];
    ss[r] = src_strides[i];
    ds[r] = dst_strides[i];
    ++r;
  }
  if (r == 0) {
    std::memcpy(dst, src, es);
    return;
  }
  const int64_t inner = dims[r - 1];
  int64_t outer = 1;
  for (int i = 0; i < r - 1; ++i) outer *= dims[i];
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const int64_t grain = std::max<int64_t>(1, kCheapGrain / inner);
  pool().parallel_for(outer, grain, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t so = 0, dof = 0, x = row;
      for (int i = r - 2; i >= 0; --i) {
        int64_t idx = x % dims[i];
        x /= dims[i];
        so += idx * ss[i];
        dof += idx * ds[i];
      }
      const char* ps = s + so * static_cast<int64_t>(es);
      char* pd = d + dof * static_cast<int64_t>(es);
      const int64_t is = ss[r - 1], id = ds[r - 1];
      if (is == 1 && id == 1) {
        std::memcpy(pd, ps, static_cast<size_t>(inner) * es);
        continue;
      }
      switch (es) {
        case 1: copy_run<uint8_t>(ps, is, pd, id, inner); break;
        case 2: copy_run<uint16_t>(ps, is, pd, id, inner); break;
        case 4: copy_run<uint32_t>(ps, is, pd, id, inner); break;
        case 8: copy_run<uint64_t>(ps, is, pd, id, inner); break;
        default: TS_ASSERT(false);
      }
    }
  });
}

void reshape_kernel(const KernelArgs& args) {
  const void* src = args.inputs[0].raw_data();
  void* dst = args.output.raw_data();
  if (src != dst) std::memcpy(dst, src, args.output.nbytes());
}

void permute_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const auto& perm = args.node.attrs.get_ints("perm");
  Shape in_strides = contiguous_strides(x.shape());
  Shape src_strides;
  for (int64_t p : perm)
    src_strides.push_back(in_strides[static_cast<int>(p < 0 ? p + x.rank() : p)]);
  Shape dst_strides = contiguous_strides(args.output.shape());
  strided_copy(x.raw_data(), src_strides.dims(), args.output.raw_data(), dst_strides.dims(),
               args.output.shape(), x.dtype().size());
}

void broadcast_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const Shape& out = args.output.shape();
  Shape xs = contiguous_strides(x.shape());
  Shape src_strides;
  for (int i = 0; i < out.rank(); ++i) {
    int j = x.rank() - out.rank() + i;
    src_strides.push_back(j >= 0 && x.shape()[j] != 1 ? xs[j] : 0);
  }
  Shape dst_strides = contiguous_strides(out);
  strided_copy(x.raw_data(), src_strides.dims(), args.output.raw_data(), dst_strides.dims(), out,
               x.dtype().size());
}

void slice_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const auto& starts = args.node.attrs.get_ints("starts");
  const auto& steps = args.node.attrs.get_ints("steps");
  Shape xs = contiguous_strides(x.shape());
  Shape src_strides;
  int64_t offset = 0;
  for (int i = 0; i < x.rank(); ++i) {
    int64_t d = x.shape()[i];
    int64_t s = starts[i] < 0 ? starts[i] + d : starts[i];
    s = std::clamp<int64_t>(s, 0, d);
    if (args.output.shape()[i] > 0) offset += s * xs[i];
    src_strides.push_back(xs[i] * steps[i]);
  }
  Shape dst_strides = contiguous_strides(args.output.shape());
  const char* src = static_cast<const char*>(x.raw_data()) + offset * x.dtype().size();
  strided_copy(src, src_strides.dims(), args.output.raw_data(), dst_strides.dims(),
               args.output.shape(), x.dtype().size());
}

void concat_kernel(const KernelArgs& args) {
  const Shape& out = args.output.shape();
  const int axis = out.normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  Shape dst_strides = contiguous_strides(out);
  const size_t es = args.output.dtype().size();
  char* dst = static_cast<char*>(args.output.raw_data());
  int64_t at = 0;
  for (const Tensor& x : args.inputs) {
    Shape xs = contiguous_strides(x.shape());
    strided_copy(x.raw_data(), xs.dims(), dst + at * dst_strides[axis] * es, dst_strides.dims(),
                 x.shape(), es);
    at += x.shape()[axis];
  }
}

void pad_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const auto& before = args.node.attrs.get_ints("pads_before");
  const DType t = x.dtype();
  const size_t es = t.size();
  // The fill value, cast to the dtype through the table.
  alignas(8) unsigned char value[8] = {};
  store_f64(args.node.attrs.get_float_or("value", 0.0), value, t);
  char* dst = static_cast<char*>(args.output.raw_data());
  const int64_t n = args.output.numel();
  bool zero = true;
  for (size_t i = 0; i < es; ++i) zero = zero && value[i] == 0;
  if (zero) {
    std::memset(dst, 0, static_cast<size_t>(n) * es);
  } else {
    pool().parallel_for(n, kCheapGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::memcpy(dst + i * es, value, es);
    });
  }
  Shape dst_strides = contiguous_strides(args.output.shape());
  int64_t offset = 0;
  for (int i = 0; i < x.rank(); ++i) offset += before[i] * dst_strides[i];
  Shape xs = contiguous_strides(x.shape());
  strided_copy(x.raw_data(), xs.dims(), dst + offset * es, dst_strides.dims(), x.shape(), es);
}

}  // namespace tessera::cpu
