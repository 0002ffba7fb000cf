// Reference attention and sequence windows: attention as the naive formula in double (every
// score, the softmax, the weighted sum), update_slice and dynamic_slice as byte copies at a
// clamped start. The mask convention is documented in docs/ops.md and src/ir/attention_rules.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ref_kernels.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {
namespace {

// The window start: rank-0 i32/i64, clamped to [0, dim - size] (XLA's DynamicSlice rule).
int64_t clamped_start(const Tensor& start, int64_t dim, int64_t size) {
  return std::clamp<int64_t>(get_i64(start, 0), 0, dim - size);
}

// x viewed as [outer, dim, inner] around `axis`.
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

}  // namespace

void attention_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& q = in[0];
  const Tensor& k = in[1];
  const Tensor& v = in[2];
  const Shape& qs = q.shape();
  int r = qs.rank();
  const int64_t tq = qs[r - 2], d = qs[r - 1];
  const int64_t tk = k.shape()[r - 2], dv = v.shape()[r - 1];
  const int64_t heads = tq * d > 0 ? q.numel() / (tq * d) : 0;  // batch · heads
  const double scale = args.node.attrs.get_float_or(
      "scale", 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(d, 1))));
  const bool causal = args.node.attrs.get_int_or("causal", 0) != 0;
  const int64_t len = in.size() > 3 ? std::clamp<int64_t>(get_i64(in[3], 0), 0, tk) : tk;
  with_output(args, [&](Tensor& out) {
    std::vector<double> s(static_cast<size_t>(tk));
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < tq; ++i) {
        // Keys [0, visible): bottom-right causal alignment.
        int64_t visible = causal ? std::clamp<int64_t>(i + 1 + len - tq, 0, len) : len;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < d; ++c)
            dot += get_f64(q, (h * tq + i) * d + c) * get_f64(k, (h * tk + j) * d + c);
          s[j] = dot * scale;
          mx = std::max(mx, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j) sum += (s[j] = std::exp(s[j] - mx));
        for (int64_t c = 0; c < dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < visible; ++j) acc += s[j] * get_f64(v, (h * tk + j) * dv + c);
          set_f64(out, (h * tq + i) * dv + c, visible > 0 ? acc / sum : 0.0);
        }
      }
    }
  });
}

void update_slice_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  const Tensor& u = in[1];
  int axis = x.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  Window w = window_of(x.shape(), axis);
  const int64_t size = u.shape()[axis];
  const int64_t start = clamped_start(in[2], w.dim, size);
  const size_t es = x.dtype().size();
  with_output(args, [&](Tensor& out) {
    std::memcpy(out.raw_data(), x.raw_data(), x.nbytes());
    for (int64_t o = 0; o < w.outer; ++o)
      for (int64_t t = 0; t < size; ++t)
        std::memcpy(elem(out, (o * w.dim + start + t) * w.inner), elem(u, (o * size + t) * w.inner),
                    static_cast<size_t>(w.inner) * es);
  });
}

void dynamic_slice_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& x = in[0];
  int axis = x.shape().normalize_axis(static_cast<int>(args.node.attrs.get_int("axis")));
  Window w = window_of(x.shape(), axis);
  const int64_t size = args.node.attrs.get_int("size");
  const int64_t start = clamped_start(in[1], w.dim, size);
  const size_t es = x.dtype().size();
  with_output(args, [&](Tensor& out) {
    for (int64_t o = 0; o < w.outer; ++o)
      for (int64_t t = 0; t < size; ++t)
        std::memcpy(elem(out, (o * size + t) * w.inner), elem(x, (o * w.dim + start + t) * w.inner),
                    static_cast<size_t>(w.inner) * es);
  });
}

}  // namespace tessera::ref
