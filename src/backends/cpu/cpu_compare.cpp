// Comparisons (bool out, IEEE: every comparison with NaN is false except not_equal), where
// (byte-moving, any element size) and cast (bulk conversion through the dtype table).
#include <cstring>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

template <typename T>
void compare_typed(OpKind op, const T* a, int64_t sa, const T* b, int64_t sb, uint8_t* y,
                   int64_t n) {
  switch (op) {
    case OpKind::kEqual:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x == z; });
    case OpKind::kNotEqual:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x != z; });
    case OpKind::kLess:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x < z; });
    case OpKind::kLessEqual:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x <= z; });
    case OpKind::kGreater:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x > z; });
    case OpKind::kGreaterEqual:
      return binary_run(a, sa, b, sb, y, n, [](T x, T z) -> uint8_t { return x >= z; });
    default:
      TS_ASSERT(false);
  }
}

template <typename T>
void compare_native(const KernelArgs& args, const ElemLoop& l) {
  const T* a = args.inputs[0].data<T>();
  const T* b = args.inputs[1].data<T>();
  uint8_t* y = args.output.data<uint8_t>();
  const int64_t sa = l.strides[0][l.rank - 1], sb = l.strides[1][l.rank - 1];
  const OpKind op = args.node.op;
  for_each_run(l, kCheapGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    compare_typed(op, a + off[0], sa, b + off[1], sb, y + o, n);
  });
}

void compare_half(const KernelArgs& args, const ElemLoop& l) {
  DType t = args.inputs[0].dtype();
  size_t es = t.size();
  const char* a = static_cast<const char*>(args.inputs[0].raw_data());
  const char* b = static_cast<const char*>(args.inputs[1].raw_data());
  uint8_t* y = args.output.data<uint8_t>();
  const int64_t sa = l.strides[0][l.rank - 1], sb = l.strides[1][l.rank - 1];
  const OpKind op = args.node.op;
  for_each_run(l, kCostlyGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    float ba[kTile], bb[kTile];
    for (int64_t i = 0; i < n; i += kTile) {
      size_t m = static_cast<size_t>(std::min(kTile, n - i));
      convert(a + (off[0] + i * sa) * es, t, ba, kF32, sa ? m : 1);
      convert(b + (off[1] + i * sb) * es, t, bb, kF32, sb ? m : 1);
      compare_typed<float>(op, ba, sa, bb, sb, y + o + i, static_cast<int64_t>(m));
    }
  });
}

// y[i] = c[i] ? a[i] : b (c[i] ? b : a[i] when inverted), as a bit mask so that the loop
// vectorizes (T is an unsigned integer of the element's size).
template <typename T>
void select_scalar(const uint8_t* __restrict c, const T* __restrict a, T b, T* __restrict y,
                   int64_t n, bool invert = false) {
  const T flip = invert ? T(~T(0)) : T(0);
  for (int64_t i = 0; i < n; ++i) {
    const T m = T(T(T(0) - T(c[i] != 0)) ^ flip);
    y[i] = T((a[i] & m) | (b & T(~m)));
  }
}

template <typename T>
void where_typed(const KernelArgs& args, const ElemLoop& l) {
  const uint8_t* c = args.inputs[0].data<uint8_t>();
  const T* a = args.inputs[1].data<T>();
  const T* b = args.inputs[2].data<T>();
  T* y = args.output.data<T>();
  const int64_t sc = l.strides[0][l.rank - 1], sa = l.strides[1][l.rank - 1],
                sb = l.strides[2][l.rank - 1];
  for_each_run(l, kCheapGrain, [&](int64_t o, const LoopOffsets& off, int64_t n) {
    const uint8_t* pc = c + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    T* py = y + o;
    if (sc && sa && sb) {
      for (int64_t i = 0; i < n; ++i) py[i] = pc[i] ? pa[i] : pb[i];
    } else if (sc && sa) {  // where(cond, x, scalar): relu's gradient, masks
      select_scalar(pc, pa, *pb, py, n);
    } else if (sc && sb) {
      select_scalar(pc, pb, *pa, py, n, /*invert=*/true);
    } else {
      for (int64_t i = 0; i < n; ++i) py[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
    }
  });
}

}  // namespace

void compare_kernel(const KernelArgs& args) {
  const Shape shapes[2] = {args.inputs[0].shape(), args.inputs[1].shape()};
  ElemLoop l = make_elem_loop(args.output.shape(), shapes);
  switch (args.inputs[0].dtype().id()) {
    case DTypeId::kF32: return compare_native<float>(args, l);
    case DTypeId::kI8: return compare_native<int8_t>(args, l);
    case DTypeId::kI32: return compare_native<int32_t>(args, l);
    case DTypeId::kI64: return compare_native<int64_t>(args, l);
    case DTypeId::kBool: return compare_native<uint8_t>(args, l);
    case DTypeId::kF16:
    case DTypeId::kBF16: return compare_half(args, l);
    case DTypeId::kFixed: break;
  }
  TS_ASSERT(false);
}

void where_kernel(const KernelArgs& args) {
  const Shape shapes[3] = {args.inputs[0].shape(), args.inputs[1].shape(),
                           args.inputs[2].shape()};
  ElemLoop l = make_elem_loop(args.output.shape(), shapes);
  switch (args.output.dtype().size()) {
    case 1: return where_typed<uint8_t>(args, l);
    case 2: return where_typed<uint16_t>(args, l);
    case 4: return where_typed<uint32_t>(args, l);
    case 8: return where_typed<uint64_t>(args, l);
    default: TS_ASSERT(false);
  }
}

void cast_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  DType st = x.dtype(), dt = args.output.dtype();
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(args.output.raw_data());
  size_t ss = st.size(), ds = dt.size();
  int64_t n = args.output.numel();
  if (st == dt) {
    if (src != dst) std::memcpy(dst, src, static_cast<size_t>(n) * ss);
    return;
  }
  // In place (same element size, the planner reusing the input): convert through a stack
  // tile so the converter never sees overlapping ranges.
  const bool overlap = src == dst;
  pool().parallel_for(n, kCheapGrain / 4, [&](int64_t b, int64_t e) {
    if (!overlap) {
      convert(src + b * ss, st, dst + b * ds, dt, static_cast<size_t>(e - b));
      return;
    }
    alignas(64) char tile[kTile * 8];
    for (int64_t i = b; i < e; i += kTile) {
      size_t m = static_cast<size_t>(std::min(kTile, e - i));
      convert(src + i * ss, st, tile, dt, m);
      std::memcpy(dst + i * ds, tile, m * ds);
    }
  });
}

}  // namespace tessera::cpu
