// Reference convolution and pooling (NHWC activations, HWIO filters): direct loops over
// every output (or, for the backprops and pooling gradients, every contribution) in double,
// each result rounded once. The geometry is the op table's (conv_geometry).
#include <cmath>
#include <vector>

#include "ref_kernels.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {
namespace {

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = get_f64(t, i);
  return v;
}

void store(const std::vector<double>& v, Tensor& out) {
  for (int64_t i = 0; i < out.numel(); ++i) set_f64(out, i, v[i]);
}

// Calls f(n, oh, ow, i, j, h, w) for every output pixel and window position (i, j) that
// reads a real (non-padding) input element at row h, column w.
template <typename F>
void for_each_tap(const Conv2DGeometry& g, int64_t batch, F&& f) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow)
        for (int64_t i = 0; i < g.kernel_h; ++i) {
          int64_t h = oh * g.stride_h - g.pad_top + i * g.dilation_h;
          if (h < 0 || h >= g.in_h) continue;
          for (int64_t j = 0; j < g.kernel_w; ++j) {
            int64_t w = ow * g.stride_w - g.pad_left + j * g.dilation_w;
            if (w < 0 || w >= g.in_w) continue;
            f(n, oh, ow, i, j, h, w);
          }
        }
}

struct Index {
  const Conv2DGeometry& g;
  int64_t x(int64_t n, int64_t h, int64_t w, int64_t c) const {
    return ((n * g.in_h + h) * g.in_w + w) * g.in_c + c;
  }
  int64_t y(int64_t n, int64_t oh, int64_t ow, int64_t c) const {
    return ((n * g.out_h + oh) * g.out_w + ow) * g.out_c + c;
  }
  int64_t f(int64_t i, int64_t j, int64_t c, int64_t oc) const {
    return ((i * g.kernel_w + j) * g.in_c_per_group() + c) * g.out_c + oc;
  }
};

// The convolution's three products, one loop: acc(x index, w index, y index) for every
// multiply of x by w that contributes to y.
template <typename F>
void for_each_product(const Conv2DGeometry& g, int64_t batch, F&& f) {
  Index ix{g};
  const int64_t cg = g.in_c_per_group(), ocg = g.out_c_per_group();
  for_each_tap(g, batch,
               [&](int64_t n, int64_t oh, int64_t ow, int64_t i, int64_t j, int64_t h, int64_t w) {
                 for (int64_t oc = 0; oc < g.out_c; ++oc) {
                   int64_t group = oc / ocg;
                   for (int64_t c = 0; c < cg; ++c)
                     f(ix.x(n, h, w, group * cg + c), ix.f(i, j, c, oc), ix.y(n, oh, ow, oc));
                 }
               });
}

// Pooling windows: f(window's real input indices, output index) per output element.
template <typename F>
void for_each_window(const Conv2DGeometry& g, int64_t batch, F&& f) {
  Index ix{g};
  std::vector<int64_t> taps;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow)
        for (int64_t c = 0; c < g.in_c; ++c) {
          taps.clear();
          for (int64_t i = 0; i < g.kernel_h; ++i) {
            int64_t h = oh * g.stride_h - g.pad_top + i;
            if (h < 0 || h >= g.in_h) continue;
            for (int64_t j = 0; j < g.kernel_w; ++j) {
              int64_t w = ow * g.stride_w - g.pad_left + j;
              if (w >= 0 && w < g.in_w) taps.push_back(ix.x(n, h, w, c));
            }
          }
          f(taps, ix.y(n, oh, ow, c));
        }
}

// The first maximum of a window (NaN counts as the largest, so it propagates).
int64_t first_max(const std::vector<double>& x, const std::vector<int64_t>& taps) {
  int64_t best = taps.at(0);
  for (int64_t t : taps) {
    if (std::isnan(x[best])) break;
    if (x[t] > x[best] || std::isnan(x[t])) best = t;
  }
  return best;
}

}  // namespace

void conv2d_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  Conv2DGeometry g = conv_geometry(args.graph, args.node);
  std::vector<double> a = to_doubles(in[0]), b = to_doubles(in[1]);
  std::vector<double> out(static_cast<size_t>(args.output.numel()), 0.0);
  switch (args.node.op) {
    case OpKind::kConv2D:  // x, w -> y
      for_each_product(g, in[0].shape()[0],
                       [&](int64_t xi, int64_t wi, int64_t yi) { out[yi] += a[xi] * b[wi]; });
      break;
    case OpKind::kConv2DBackpropInput:  // dy, w -> dx
      for_each_product(g, in[0].shape()[0],
                       [&](int64_t xi, int64_t wi, int64_t yi) { out[xi] += a[yi] * b[wi]; });
      break;
    default:  // kConv2DBackpropFilter: x, dy -> dw
      for_each_product(g, in[0].shape()[0],
                       [&](int64_t xi, int64_t wi, int64_t yi) { out[wi] += a[xi] * b[yi]; });
      break;
  }
  with_output(args, [&](Tensor& o) { store(out, o); });
}

void pool2d_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  Conv2DGeometry g = conv_geometry(args.graph, args.node);
  const int64_t batch = in[0].shape()[0];
  std::vector<double> a = to_doubles(in[0]);
  std::vector<double> out(static_cast<size_t>(args.output.numel()), 0.0);
  switch (args.node.op) {
    case OpKind::kMaxPool2D:
      for_each_window(g, batch, [&](const std::vector<int64_t>& taps, int64_t yi) {
        out[yi] = a[first_max(a, taps)];
      });
      break;
    case OpKind::kAvgPool2D:
      for_each_window(g, batch, [&](const std::vector<int64_t>& taps, int64_t yi) {
        double s = 0;
        for (int64_t t : taps) s += a[t];
        out[yi] = s / static_cast<double>(taps.size());
      });
      break;
    case OpKind::kMaxPool2DGrad: {  // x, dy -> dx
      std::vector<double> dy = to_doubles(in[1]);
      for_each_window(g, batch, [&](const std::vector<int64_t>& taps, int64_t yi) {
        out[first_max(a, taps)] += dy[yi];
      });
      break;
    }
    default:  // kAvgPool2DGrad: dy -> dx
      for_each_window(g, batch, [&](const std::vector<int64_t>& taps, int64_t yi) {
        for (int64_t t : taps) out[t] += a[yi] / static_cast<double>(taps.size());
      });
      break;
  }
  with_output(args, [&](Tensor& o) { store(out, o); });
}

}  // namespace tessera::ref
