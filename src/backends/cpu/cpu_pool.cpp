// max_pool2d, avg_pool2d and their gradients on the cpu (NHWC). Every loop runs over the
// channels of a pixel, the contiguous axis, so it vectorizes; windows are clipped to the
// input, which is how padding never wins a maximum and is not counted in an average.
//
// Forward passes split output rows across the pool; gradients scatter into overlapping
// windows, so each task owns whole images of dx. Results do not depend on the thread count.
#include <algorithm>
#include <cstring>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

constexpr int64_t kMinTaskWork = 16384;  // window elements per parallel task

struct Pool {
  Conv2DGeometry g;
  int64_t batch;
  int64_t image_in() const { return g.in_h * g.in_w * g.in_c; }
  int64_t image_out() const { return g.out_h * g.out_w * g.in_c; }
  int64_t window_work() const { return g.kernel_h * g.kernel_w * g.in_c; }
  // The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
  void window(int64_t oh, int64_t ow, int64_t* h0, int64_t* h1, int64_t* w0, int64_t* w1) const {
    int64_t r = oh * g.stride_h - g.pad_top, q = ow * g.stride_w - g.pad_left;
    *h0 = std::max<int64_t>(r, 0);
    *h1 = std::min(r + g.kernel_h, g.in_h);
    *w0 = std::max<int64_t>(q, 0);
    *w1 = std::min(q + g.kernel_w, g.in_w);
  }
  int64_t offset(int64_t n, int64_t h, int64_t w) const {
    return n * image_in() + (h * g.in_w + w) * g.in_c;
  }
};

// max with NaN propagation: a NaN already held stays, a NaN read wins.
inline float max_nan(float m, float v) {
  float r = v > m ? v : m;
  r = v != v ? v : r;
  return m != m ? m : r;
}

// Runs `visit(n, h0, h1, w0, w1, out)` for every output position on the pool: the clipped
// window [h0, h1) x [w0, w1) of image n and its output's C channels.
template <typename Visit>
void for_each_window(const Pool& p, float* y, Visit&& visit) {
  const Conv2DGeometry& g = p.g;
  pool().parallel_for(p.batch * g.out_h,
                      std::max<int64_t>(1, kMinTaskWork / (g.out_w * p.window_work())),
                      [&](int64_t l0, int64_t l1) {
                        for (int64_t l = l0; l < l1; ++l) {
                          const int64_t n = l / g.out_h, oh = l % g.out_h;
                          for (int64_t ow = 0; ow < g.out_w; ++ow) {
                            int64_t h0, h1, w0, w1;
                            p.window(oh, ow, &h0, &h1, &w0, &w1);
                            visit(n, h0, h1, w0, w1, y + (l * g.out_w + ow) * g.in_c);
                          }
                        }
                      });
}

void max_forward(const Pool& p, const float* x, float* y) {
  const int64_t c = p.g.in_c;
  for_each_window(p, y, [&](int64_t n, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
                            float* out) {
    std::memcpy(out, x + p.offset(n, h0, w0), sizeof(float) * c);
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) {
        const float* v = x + p.offset(n, h, w);
        for (int64_t k = 0; k < c; ++k) out[k] = max_nan(out[k], v[k]);
      }
  });
}

void avg_forward(const Pool& p, const float* x, float* y) {
  const int64_t c = p.g.in_c;
  for_each_window(p, y, [&](int64_t n, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
                            float* out) {
    std::fill(out, out + c, 0.0f);
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) {
        const float* v = x + p.offset(n, h, w);
        for (int64_t k = 0; k < c; ++k) out[k] += v[k];
      }
    const float count = static_cast<float>((h1 - h0) * (w1 - w0));
    for (int64_t k = 0; k < c; ++k) out[k] /= count;
  });
}

// One window element: for each channel, hands the dy still `left` to this element when it
// equals the window's maximum `best` (or both are NaN), and clears it; stores or adds.
// Branch-free with unaliased pointers, so the compiler vectorizes it.
void route_first_max(const float* __restrict v, const float* __restrict best,
                     float* __restrict left, float* __restrict d, int64_t c, bool store) {
  if (store) {
    for (int64_t k = 0; k < c; ++k) {
      const bool hit = (v[k] == best[k]) | ((best[k] != best[k]) & (v[k] != v[k]));
      const float l = left[k];
      d[k] = hit ? l : 0.0f;
      left[k] = hit ? 0.0f : l;
    }
    return;
  }
  for (int64_t k = 0; k < c; ++k) {
    const bool hit = (v[k] == best[k]) | ((best[k] != best[k]) & (v[k] != v[k]));
    const float l = left[k];
    const float add = hit ? l : 0.0f;
    left[k] = hit ? 0.0f : l;
    d[k] = d[k] + add;
  }
}

// dy routed to each window's first maximum (the one max_forward returns). Two vectorized
// passes per window: the maximum of each channel, then a scan in window order that hands
// each channel's dy to the first element equal to it (the first NaN, when the maximum is
// NaN) and clears it, so later ties get nothing.
void max_grad(const Pool& p, const float* x, const float* dy, float* dx) {
  const Conv2DGeometry& g = p.g;
  const int64_t c = g.in_c;
  // Windows that do not overlap write each element of dx at most once, so they store
  // instead of adding; when they also tile the input exactly, dx needs no zeroing first.
  const bool disjoint = g.stride_h >= g.kernel_h && g.stride_w >= g.kernel_w;
  const bool tiled = disjoint && g.stride_h == g.kernel_h && g.stride_w == g.kernel_w &&
                     g.pad_top == 0 && g.pad_left == 0 && g.out_h * g.kernel_h == g.in_h &&
                     g.out_w * g.kernel_w == g.in_w;
  pool().parallel_for(
      p.batch, std::max<int64_t>(1, kMinTaskWork / (p.image_out() * g.kernel_h * g.kernel_w)),
      [&](int64_t n0, int64_t n1) {
        float* best = scratch<27>(static_cast<size_t>(c));
        float* left = scratch<28>(static_cast<size_t>(c));
        if (!tiled) std::fill(dx + n0 * p.image_in(), dx + n1 * p.image_in(), 0.0f);
        for (int64_t n = n0; n < n1; ++n)
          for (int64_t oh = 0; oh < g.out_h; ++oh)
            for (int64_t ow = 0; ow < g.out_w; ++ow) {
              int64_t h0, h1, w0, w1;
              p.window(oh, ow, &h0, &h1, &w0, &w1);
              std::memcpy(best, x + p.offset(n, h0, w0), sizeof(float) * c);
              for (int64_t h = h0; h < h1; ++h)
                for (int64_t w = w0; w < w1; ++w) {
                  const float* v = x + p.offset(n, h, w);
                  for (int64_t k = 0; k < c; ++k) best[k] = max_nan(best[k], v[k]);
                }
              std::memcpy(left, dy + ((n * g.out_h + oh) * g.out_w + ow) * c, sizeof(float) * c);
              for (int64_t h = h0; h < h1; ++h)
                for (int64_t w = w0; w < w1; ++w) {
                  const int64_t o = p.offset(n, h, w);
                  route_first_max(x + o, best, left, dx + o, c, disjoint);
                }
            }
      });
}

void avg_grad(const Pool& p, const float* dy, float* dx) {
  const Conv2DGeometry& g = p.g;
  const int64_t c = g.in_c;
  pool().parallel_for(
      p.batch, std::max<int64_t>(1, kMinTaskWork / (p.image_out() * g.kernel_h * g.kernel_w)),
      [&](int64_t n0, int64_t n1) {
        float* share = scratch<29>(static_cast<size_t>(c));
        std::fill(dx + n0 * p.image_in(), dx + n1 * p.image_in(), 0.0f);
        for (int64_t n = n0; n < n1; ++n)
          for (int64_t oh = 0; oh < g.out_h; ++oh)
            for (int64_t ow = 0; ow < g.out_w; ++ow) {
              int64_t h0, h1, w0, w1;
              p.window(oh, ow, &h0, &h1, &w0, &w1);
              const float count = static_cast<float>((h1 - h0) * (w1 - w0));
              const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * c;
              for (int64_t k = 0; k < c; ++k) share[k] = d[k] / count;
              for (int64_t h = h0; h < h1; ++h)
                for (int64_t w = w0; w < w1; ++w) {
                  float* out = dx + p.offset(n, h, w);
                  for (int64_t k = 0; k < c; ++k) out[k] += share[k];
                }
            }
      });
}

}  // namespace

void pool2d_kernel(const KernelArgs& args) {
  Pool p{conv_geometry(args.graph, args.node), args.inputs[0].shape()[0]};
  if (args.output.numel() == 0) return;
  const DType t = args.output.dtype();
  const float* in[2] = {nullptr, nullptr};
  for (size_t i = 0; i < args.inputs.size(); ++i) {
    const Tensor& ti = args.inputs[i];
    in[i] = ti.data<float>();
    if (t != kF32) {
      float* f = i == 0 ? scratch<24>(static_cast<size_t>(ti.numel()))
                        : scratch<25>(static_cast<size_t>(ti.numel()));
      convert(ti.raw_data(), t, f, kF32, static_cast<size_t>(ti.numel()));
      in[i] = f;
    }
  }
  float* out =
      t == kF32 ? args.output.data<float>() : scratch<26>(static_cast<size_t>(args.output.numel()));
  switch (args.node.op) {
    case OpKind::kMaxPool2D:
      max_forward(p, in[0], out);
      break;
    case OpKind::kAvgPool2D:
      avg_forward(p, in[0], out);
      break;
    case OpKind::kMaxPool2DGrad:
      max_grad(p, in[0], in[1], out);
      break;
    case OpKind::kAvgPool2DGrad:
      avg_grad(p, in[0], out);
      break;
    default:
      TS_ASSERT(false);
  }
  if (t != kF32)
    convert(out, kF32, args.output.raw_data(), t, static_cast<size_t>(args.output.numel()));
}

}  // namespace tessera::cpu
