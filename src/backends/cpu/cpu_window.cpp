// update_slice and dynamic_slice: windows along one axis at a run-time start (clamped to
// [0, dim - size], docs/ops.md), moved as contiguous byte runs of `size · inner` elements.
// update_slice copies x first unless it runs in place (output storage = x's), in which case
// only the window is written — the cost of a KV-cache write is then the new rows alone.
#include <algorithm>
#include <cstring>

#include "cpu_internal.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

struct Window {
  int64_t outer = 1, dim = 1, inner = 1;
};

Window window_of(const Shape& s, int axis) {
  Window w;
  for (int i = 0; i < axis; ++i) w.outer *= s[i];
  w.dim = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) w.inner *= s[i];
  return w;
}

int64_t clamped_start(const Tensor& start, int64_t dim, int64_t size) {
  int64_t s = start.dtype() == kI64 ? start.data<int64_t>()[0] : start.data<int32_t>()[0];
  return std::clamp<int64_t>(s, 0, dim - size);
}

// Copies `outer` runs of `run` bytes from src (stride src_stride) to dst (stride dst_stride).
void copy_runs(const char* src, int64_t src_stride, char* dst, int64_t dst_stride, int64_t outer,
               int64_t run) {
  if (run <= 0) return;
  pool().parallel_for(
      outer, std::max<int64_t>(1, kCheapGrain * 4 / run), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o)
          std::memcpy(dst + o * dst_stride, src + o * src_stride, static_cast<size_t>(run));
      });
}

// A flat copy of n bytes in pieces of 64 KiB.
void copy_bytes(const char* src, char* dst, int64_t n) {
  constexpr int64_t kPiece = 1 << 16;
  copy_runs(src, kPiece, dst, kPiece, n / kPiece, kPiece);
  int64_t done = n / kPiece * kPiece;
  if (done < n) std::memcpy(dst + done, src + done, static_cast<size_t>(n - done));
}

}  // namespace

void update_slice_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const Tensor& u = args.inputs[1];
  const int axis = x.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  const Window w = window_of(x.shape(), axis);
  const int64_t size = u.shape()[axis];
  const int64_t start = clamped_start(args.inputs[2], w.dim, size);
  const int64_t es = static_cast<int64_t>(x.dtype().size());
  char* out = static_cast<char*>(args.output.raw_data());
  if (x.raw_data() != args.output.raw_data())
    copy_bytes(static_cast<const char*>(x.raw_data()), out, static_cast<int64_t>(x.nbytes()));
  const int64_t row = w.inner * es;
  copy_runs(static_cast<const char*>(u.raw_data()), size * row, out + start * row, w.dim * row,
            w.outer, size * row);
}

void dynamic_slice_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const int axis = x.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  const Window w = window_of(x.shape(), axis);
  const int64_t size = args.node.attrs.get_int("size");
  const int64_t start = clamped_start(args.inputs[1], w.dim, size);
  const int64_t row = w.inner * static_cast<int64_t>(x.dtype().size());
  copy_runs(static_cast<const char*>(x.raw_data()) + start * row, w.dim * row,
            static_cast<char*>(args.output.raw_data()), size * row, w.outer, size * row);
}

}  // namespace tessera::cpu
