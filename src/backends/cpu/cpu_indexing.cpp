// gather, scatter_add and one_hot. Indices are checked before any work (an error names the
// node, the position and the index); gather moves bytes, scatter_add accumulates per output
// slot in index order (deterministic), f16/bf16 in f32 rounded once.
#include <cstring>
#include <type_traits>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

int64_t index_at(const Tensor& idx, int64_t i) {
  return idx.dtype() == kI64 ? idx.data<int64_t>()[i] : idx.data<int32_t>()[i];
}

// Resolves index i against an axis of `dim` (negative adds dim once), or throws.
int64_t checked_index(const KernelArgs& args, const Tensor& idx, int64_t i, int64_t dim) {
  int64_t v = index_at(idx, i);
  int64_t r = v < 0 ? v + dim : v;
  TS_CHECK(r >= 0 && r < dim, ErrorKind::kInvalidArgument,
           "{}: index {} at position {} is out of range for an axis of size {}",
           args.graph.describe(args.id), v, i, dim);
  return r;
}

// Integers add as unsigned (wrapping); floats as themselves.
template <typename T, bool = std::is_integral_v<T>>
struct AddType { using type = T; };
template <typename T>
struct AddType<T, true> { using type = std::make_unsigned_t<T>; };

template <typename T>
void scatter_native(const T* u, const int64_t* where, T* y, int64_t pre, int64_t count,
                    int64_t post, int64_t dim) {
  using U = typename AddType<T>::type;
  std::memset(static_cast<void*>(y), 0, static_cast<size_t>(pre * dim * post) * sizeof(T));
  pool().parallel_for(pre, std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(count * post, 1)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t p = b; p < e; ++p)
                          for (int64_t i = 0; i < count; ++i) {
                            const T* src = u + (p * count + i) * post;
                            T* dst = y + (p * dim + where[i]) * post;
                            for (int64_t j = 0; j < post; ++j)
                              dst[j] = static_cast<T>(static_cast<U>(dst[j]) +
                                                      static_cast<U>(src[j]));
                          }
                      });
}

}  // namespace

void gather_kernel(const KernelArgs& args) {
  const Tensor& data = args.inputs[0];
  const Tensor& idx = args.inputs[1];
  const Shape& ds = data.shape();
  const int axis = ds.normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  int64_t pre = 1, post = 1;
  for (int i = 0; i < axis; ++i) pre *= ds[i];
  for (int i = axis + 1; i < ds.rank(); ++i) post *= ds[i];
  const int64_t dim = ds[axis], count = idx.numel();
  int64_t* where = scratch<14, int64_t>(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) where[i] = checked_index(args, idx, i, dim);
  const size_t es = data.dtype().size();
  const size_t row = static_cast<size_t>(post) * es;
  const char* src = static_cast<const char*>(data.raw_data());
  char* dst = static_cast<char*>(args.output.raw_data());
  pool().parallel_for(pre * count, std::max<int64_t>(1, kCheapGrain / std::max<int64_t>(post, 1)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t it = b; it < e; ++it) {
                          int64_t p = it / count, i = it % count;
                          std::memcpy(dst + it * row, src + (p * dim + where[i]) * row, row);
                        }
                      });
}

void scatter_add_kernel(const KernelArgs& args) {
  const Tensor& upd = args.inputs[0];
  const Tensor& idx = args.inputs[1];
  const int axis = static_cast<int>(args.node.attrs.get_int("axis"));
  const int64_t dim = args.node.attrs.get_int("dim_size");
  const Shape& us = upd.shape();
  int64_t pre = 1, post = 1;
  for (int i = 0; i < axis; ++i) pre *= us[i];
  for (int i = axis + idx.rank(); i < us.rank(); ++i) post *= us[i];
  const int64_t count = idx.numel();
  int64_t* where = scratch<14, int64_t>(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) where[i] = checked_index(args, idx, i, dim);
  const DType t = upd.dtype();
  switch (t.id()) {
    case DTypeId::kF32:
      return scatter_native(upd.data<float>(), where, args.output.data<float>(), pre, count,
                            post, dim);
    case DTypeId::kI8:
      return scatter_native(upd.data<int8_t>(), where, args.output.data<int8_t>(), pre, count,
                            post, dim);
    case DTypeId::kI32:
      return scatter_native(upd.data<int32_t>(), where, args.output.data<int32_t>(), pre, count,
                            post, dim);
    case DTypeId::kI64:
      return scatter_native(upd.data<int64_t>(), where, args.output.data<int64_t>(), pre,
                            count, post, dim);
    default: {
      float* fu = scratch<15>(static_cast<size_t>(upd.numel()));
      float* fy = scratch<16>(static_cast<size_t>(args.output.numel()));
      convert(upd.raw_data(), t, fu, kF32, static_cast<size_t>(upd.numel()));
      scatter_native(fu, where, fy, pre, count, post, dim);
      convert(fy, kF32, args.output.raw_data(), t, static_cast<size_t>(args.output.numel()));
    }
  }
}

void one_hot_kernel(const KernelArgs& args) {
  const Tensor& idx = args.inputs[0];
  const int64_t depth = args.node.attrs.get_int("depth");
  const DType t = args.output.dtype();
  const size_t es = t.size();
  alignas(8) unsigned char one[8] = {}, zero[8] = {};
  store_f64(1.0, one, t);
  store_f64(0.0, zero, t);
  const int64_t count = idx.numel();
  for (int64_t i = 0; i < count; ++i) {
    int64_t v = index_at(idx, i);
    TS_CHECK(v >= 0 && v < depth, ErrorKind::kInvalidArgument,
             "{}: index {} at position {} is outside [0, {})", args.graph.describe(args.id), v,
             i, depth);
  }
  char* y = static_cast<char*>(args.output.raw_data());
  pool().parallel_for(count, std::max<int64_t>(1, kCheapGrain / depth), [&](int64_t b,
                                                                            int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      char* row = y + i * depth * static_cast<int64_t>(es);
      for (int64_t k = 0; k < depth; ++k) std::memcpy(row + k * es, zero, es);
      std::memcpy(row + index_at(idx, i) * es, one, es);
    }
  });
}

}  // namespace tessera::cpu
