// Test-only: the double-precision interpreter's convolution and pooling ops (double_eval.h),
// written from docs/ops.md independently of the backends' kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "tessera/ir/conv_geometry.h"

namespace tessera::adtest {

// Evaluates a conv or pool node (`batch`: the value of a symbolic N); `a` and `b` are its inputs (b
// empty for one-input ops), the result has `out_size` elements.
inline std::vector<double> conv_eval(const Graph& g, const Node& n, int64_t batch,
                                     const std::vector<double>& a, const std::vector<double>& b,
                                     int64_t out_size) {
  const Conv2DGeometry geo = conv_geometry(g, n);
  if (geo.batch != kDynamic) batch = geo.batch;  // `batch` stands for the symbolic N only
  std::vector<double> r(static_cast<size_t>(out_size), 0.0);
  const int64_t cg = geo.in_c_per_group(), ocg = geo.out_c_per_group();
  auto xi = [&](int64_t s, int64_t h, int64_t w, int64_t c) {
    return ((s * geo.in_h + h) * geo.in_w + w) * geo.in_c + c;
  };
  auto yi = [&](int64_t s, int64_t h, int64_t w, int64_t c) {
    return ((s * geo.out_h + h) * geo.out_w + w) * geo.out_c + c;
  };
  const bool pool = n.op == OpKind::kMaxPool2D || n.op == OpKind::kMaxPool2DGrad ||
                    n.op == OpKind::kAvgPool2D || n.op == OpKind::kAvgPool2DGrad;
  for (int64_t s = 0; s < batch; ++s)
    for (int64_t oh = 0; oh < geo.out_h; ++oh)
      for (int64_t ow = 0; ow < geo.out_w; ++ow)
        for (int64_t oc = 0; oc < geo.out_c; ++oc) {
          // The window's real input positions, in row-major window order.
          std::vector<std::pair<int64_t, int64_t>> taps;  // (x index, filter tap)
          for (int64_t i = 0; i < geo.kernel_h; ++i)
            for (int64_t j = 0; j < geo.kernel_w; ++j) {
              int64_t h = oh * geo.stride_h - geo.pad_top + i * geo.dilation_h;
              int64_t w = ow * geo.stride_w - geo.pad_left + j * geo.dilation_w;
              if (h >= 0 && h < geo.in_h && w >= 0 && w < geo.in_w)
                taps.push_back({xi(s, h, w, pool ? oc : 0), i * geo.kernel_w + j});
            }
          const int64_t y = yi(s, oh, ow, oc);
          if (pool) {
            double cnt = static_cast<double>(taps.size());
            int64_t best = taps[0].first;  // max pooling: a is x
            if (n.op == OpKind::kMaxPool2D || n.op == OpKind::kMaxPool2DGrad)
              for (auto [t, k] : taps)
                if (!std::isnan(a[best]) && (a[t] > a[best] || std::isnan(a[t]))) best = t;
            switch (n.op) {
              case OpKind::kMaxPool2D:
                r[y] = a[best];
                break;
              case OpKind::kMaxPool2DGrad:
                r[best] += b[y];
                break;
              case OpKind::kAvgPool2D:
                for (auto [t, k] : taps) r[y] += a[t] / cnt;
                break;
              default:  // avg_pool2d_grad: a is dy
                for (auto [t, k] : taps) r[t] += a[y] / cnt;
            }
            continue;
          }
          const int64_t group = oc / ocg;
          for (auto [t, k] : taps)
            for (int64_t c = 0; c < cg; ++c) {
              int64_t x = t + group * cg + c, f = (k * cg + c) * geo.out_c + oc;
              switch (n.op) {
                case OpKind::kConv2D:
                  r[y] += a[x] * b[f];
                  break;  // x, w
                case OpKind::kConv2DBackpropInput:
                  r[x] += a[y] * b[f];
                  break;  // dy, w
                default:
                  r[f] += a[x] * b[y];  // x, dy
              }
            }
        }
  return r;
}

}  // namespace tessera::adtest
