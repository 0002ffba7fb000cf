// conv2d and its two backprops on the cpu (NHWC activations, HWIO filters).
//
// NHWC makes the convolution a matrix product over output pixels: the output is the
// [N·OH·OW, OC] row-major matrix, and each row's im2col patch (KH·KW·C/groups values) is the
// row of the left operand. So:
//   forward          tiles of output rows: im2col into a per-thread scratch that fits in
//                    L2, then one sgemm per group straight into the output rows
//   backprop_input   per image: dy rows · filterᵀ (sgemm) into the scratch, then col2im
//                    adds each patch back where it was read
//   backprop_filter  im2colᵀ · dy (sgemm, accumulating over row tiles) per fixed chunk of
//                    images, the chunks' partial sums added in order
// A 1x1, stride-1, unpadded convolution needs no im2col: x's rows are the patches. A
// depthwise convolution (groups == C) is a direct loop vectorized over channels, where
// per-group products would be one-column sgemms.
//
// Determinism: OpenBLAS runs single threaded (cpu_matmul.cpp says why) and every tile,
// image and chunk boundary depends on the shapes only, so results do not depend on the
// thread count. f16/bf16 operands are converted to f32 around the f32 kernels.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

// Floats of one im2col tile: 256 KiB, so a tile stays in L2 while sgemm reads it.
constexpr int64_t kTileFloats = 64 * 1024;
// Work per parallel task, in multiply-adds: enough to amortize a thread hand-off.
constexpr int64_t kMinTaskMacs = int64_t{1} << 20;
// backprop_filter's partial sums: at most this many chunks of images.
constexpr int64_t kMaxFilterChunks = 8;

void single_threaded_blas() {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

int i32(int64_t v) { return static_cast<int>(v); }

// Rows of an im2col tile for patches of `k` values.
int64_t tile_rows(int64_t k) {
  return std::clamp<int64_t>(kTileFloats / std::max<int64_t>(k, 1), 16, 4096);
}

int64_t grain_for(int64_t macs_per_task) {
  return std::max<int64_t>(1, kMinTaskMacs / std::max<int64_t>(macs_per_task, 1));
}

// C[m, n] (ldc) = or += op(A)[m, k] · op(B)[k, n], row-major.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i32(m),
              i32(n), i32(k), 1.0f, a, i32(lda), b, i32(ldb), beta, c, i32(ldc));
}

struct Conv {
  Conv2DGeometry g;
  int64_t batch;  // N, static at run time
  int64_t pixels() const { return g.out_pixels(); }
  int64_t rows() const { return batch * pixels(); }
  int64_t image_in() const { return g.in_h * g.in_w * g.in_c; }
  // The input row and column that window position (i, j) of output (oh, ow) reads.
  int64_t in_row(int64_t oh, int64_t i) const {
    return oh * g.stride_h - g.pad_top + i * g.dilation_h;
  }
  int64_t in_col(int64_t ow, int64_t j) const {
    return ow * g.stride_w - g.pad_left + j * g.dilation_w;
  }
};

// Calls f(dst offset in the patch, x offset or -1 for padding, length) for the pieces of
// the im2col row of output pixel p (global over N·OH·OW), channels of group gi. Adjacent
// window columns of one kernel row are one piece when they are all inside the input and
// the group spans every channel (they are then contiguous in x).
template <typename F>
void for_each_piece(const Conv& cv, int64_t p, int64_t gi, F&& f) {
  const Conv2DGeometry& g = cv.g;
  const int64_t cg = g.in_c_per_group();
  const int64_t n = p / cv.pixels(), r = p % cv.pixels();
  const int64_t oh = r / g.out_w, ow = r % g.out_w;
  const int64_t base = n * cv.image_in() + gi * cg;
  const bool whole = g.groups == 1 && g.dilation_w == 1;
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    const int64_t dst = i * g.kernel_w * cg;
    const int64_t ih = cv.in_row(oh, i);
    if (ih < 0 || ih >= g.in_h) {
      f(dst, int64_t{-1}, g.kernel_w * cg);
      continue;
    }
    const int64_t iw0 = cv.in_col(ow, 0);
    if (whole && iw0 >= 0 && iw0 + g.kernel_w <= g.in_w) {
      f(dst, base + (ih * g.in_w + iw0) * g.in_c, g.kernel_w * cg);
      continue;
    }
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t iw = cv.in_col(ow, j);
      bool inside = iw >= 0 && iw < g.in_w;
      f(dst + j * cg, inside ? base + (ih * g.in_w + iw) * g.in_c : int64_t{-1}, cg);
    }
  }
}

// Rows [p0, p1) of group gi's im2col matrix into cols ([p1 - p0, K/groups], row-major).
void im2col(const Conv& cv, const float* x, int64_t gi, int64_t p0, int64_t p1, float* cols) {
  const int64_t k = cv.g.patch_size();
  for (int64_t p = p0; p < p1; ++p) {
    float* row = cols + (p - p0) * k;
    for_each_piece(cv, p, gi, [&](int64_t dst, int64_t src, int64_t len) {
      float* d = row + dst;
      if (src < 0) {
        std::fill(d, d + len, 0.0f);
      } else if (len <= 16) {  // a few channels (the first layer): cheaper than a call
        for (int64_t i = 0; i < len; ++i) d[i] = x[src + i];
      } else {
        std::memcpy(d, x + src, sizeof(float) * static_cast<size_t>(len));
      }
    });
  }
}

// The adjoint of im2col: adds rows [p0, p1) of cols back into dx where they were read.
void col2im(const Conv& cv, const float* cols, int64_t gi, int64_t p0, int64_t p1, float* dx) {
  const int64_t k = cv.g.patch_size();
  for (int64_t p = p0; p < p1; ++p) {
    const float* row = cols + (p - p0) * k;
    for_each_piece(cv, p, gi, [&](int64_t src, int64_t dst, int64_t len) {
      if (dst < 0) return;
      float* d = dx + dst;
      const float* s = row + src;
      for (int64_t c = 0; c < len; ++c) d[c] += s[c];
    });
  }
}

// ---- depthwise (groups == C): direct loops over channels -----------------------------------

// For output pixel (n, oh, ow): f(x offset of the pixel read by tap (i, j), tap index).
template <typename F>
void for_each_tap(const Conv& cv, int64_t n, int64_t oh, int64_t ow, F&& f) {
  const Conv2DGeometry& g = cv.g;
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    const int64_t ih = cv.in_row(oh, i);
    if (ih < 0 || ih >= g.in_h) continue;
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t iw = cv.in_col(ow, j);
      if (iw < 0 || iw >= g.in_w) continue;
      f(n * cv.image_in() + (ih * g.in_w + iw) * g.in_c, i * g.kernel_w + j);
    }
  }
}

// out[oc] += x[oc / m] · w[oc] for the depth multiplier m = OC / C.
inline void depthwise_fma(const float* x, const float* w, float* out, int64_t channels, int64_t m) {
  if (m == 1) {
    for (int64_t c = 0; c < channels; ++c) out[c] += x[c] * w[c];
    return;
  }
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < m; ++k) out[c * m + k] += x[c] * w[c * m + k];
}

void depthwise_forward(const Conv& cv, const float* x, const float* w, float* y) {
  const Conv2DGeometry& g = cv.g;
  const int64_t oc = g.out_c, m = g.out_c / g.in_c;
  const int64_t lines = cv.batch * g.out_h;  // one task: one output row of one image
  pool().parallel_for(lines, grain_for(g.out_w * oc * g.kernel_h * g.kernel_w),
                      [&](int64_t l0, int64_t l1) {
                        for (int64_t l = l0; l < l1; ++l) {
                          const int64_t n = l / g.out_h, oh = l % g.out_h;
                          for (int64_t ow = 0; ow < g.out_w; ++ow) {
                            float* out = y + (l * g.out_w + ow) * oc;
                            std::fill(out, out + oc, 0.0f);
                            for_each_tap(cv, n, oh, ow, [&](int64_t xo, int64_t tap) {
                              depthwise_fma(x + xo, w + tap * oc, out, g.in_c, m);
                            });
                          }
                        }
                      });
}

void depthwise_backprop_input(const Conv& cv, const float* dy, const float* w, float* dx) {
  const Conv2DGeometry& g = cv.g;
  const int64_t oc = g.out_c, m = g.out_c / g.in_c;
  pool().parallel_for(cv.batch, grain_for(cv.pixels() * oc * g.kernel_h * g.kernel_w),
                      [&](int64_t n0, int64_t n1) {
                        std::fill(dx + n0 * cv.image_in(), dx + n1 * cv.image_in(), 0.0f);
                        for (int64_t n = n0; n < n1; ++n)
                          for (int64_t oh = 0; oh < g.out_h; ++oh)
                            for (int64_t ow = 0; ow < g.out_w; ++ow) {
                              const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * oc;
                              for_each_tap(cv, n, oh, ow, [&](int64_t xo, int64_t tap) {
                                const float* wt = w + tap * oc;
                                float* out = dx + xo;
                                for (int64_t c = 0; c < g.in_c; ++c) {
                                  float s = 0.0f;
                                  for (int64_t k = 0; k < m; ++k) s += d[c * m + k] * wt[c * m + k];
                                  out[c] += s;
                                }
                              });
                            }
                      });
}

// Partial filter gradients of images [n0, n1) into part ([KH·KW, OC]), zeroed first.
void depthwise_filter_chunk(const Conv& cv, const float* x, const float* dy, int64_t n0, int64_t n1,
                            float* part) {
  const Conv2DGeometry& g = cv.g;
  const int64_t oc = g.out_c, m = g.out_c / g.in_c;
  std::fill(part, part + g.kernel_h * g.kernel_w * oc, 0.0f);
  for (int64_t n = n0; n < n1; ++n)
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const float* d = dy + ((n * g.out_h + oh) * g.out_w + ow) * oc;
        for_each_tap(cv, n, oh, ow, [&](int64_t xo, int64_t tap) {
          depthwise_fma(x + xo, d, part + tap * oc, g.in_c, m);
        });
      }
}

// ---- the three ops ---------------------------------------------------------------------------

void forward(const Conv& cv, const float* x, const float* w, float* y) {
  const Conv2DGeometry& g = cv.g;
  if (g.is_depthwise()) return depthwise_forward(cv, x, w, y);
  const int64_t k = g.patch_size(), ocg = g.out_c_per_group(), rows = cv.rows();
  const int64_t tile = std::min(rows, tile_rows(k));
  const int64_t tiles = (rows + tile - 1) / tile;
  const bool direct = g.is_pointwise();  // x's rows are the patches
  single_threaded_blas();
  pool().parallel_for(tiles, grain_for(tile * k * g.out_c), [&](int64_t t0, int64_t t1) {
    float* cols = direct ? nullptr : scratch<20>(static_cast<size_t>(tile * k));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t p0 = t * tile, p1 = std::min(rows, p0 + tile);
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const float* a = x + p0 * g.in_c + gi * g.in_c_per_group();
        int64_t lda = g.in_c;
        if (!direct) {
          im2col(cv, x, gi, p0, p1, cols);
          a = cols;
          lda = k;
        }
        gemm(false, false, p1 - p0, ocg, k, a, lda, w + gi * ocg, g.out_c, 0.0f,
             y + p0 * g.out_c + gi * ocg, g.out_c);
      }
    }
  });
}

void backprop_input(const Conv& cv, const float* dy, const float* w, float* dx) {
  const Conv2DGeometry& g = cv.g;
  if (g.is_depthwise()) return depthwise_backprop_input(cv, dy, w, dx);
  const int64_t k = g.patch_size(), ocg = g.out_c_per_group(), cg = g.in_c_per_group();
  single_threaded_blas();
  if (g.is_pointwise()) {  // dx rows = dy rows · filterᵀ, written in place
    const int64_t rows = cv.rows(), tile = std::min(rows, tile_rows(g.in_c));
    const int64_t tiles = (rows + tile - 1) / tile;
    pool().parallel_for(tiles, grain_for(tile * k * g.out_c), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t p0 = t * tile, p1 = std::min(rows, p0 + tile);
        for (int64_t gi = 0; gi < g.groups; ++gi)
          gemm(false, true, p1 - p0, cg, ocg, dy + p0 * g.out_c + gi * ocg, g.out_c, w + gi * ocg,
               g.out_c, 0.0f, dx + p0 * g.in_c + gi * cg, g.in_c);
      }
    });
    return;
  }
  // Patches of neighbouring pixels overlap, so each task owns whole images of dx.
  const int64_t pixels = cv.pixels(), tile = std::min(pixels, tile_rows(k));
  pool().parallel_for(cv.batch, grain_for(pixels * k * g.out_c), [&](int64_t n0, int64_t n1) {
    float* cols = scratch<21>(static_cast<size_t>(tile * k));
    std::fill(dx + n0 * cv.image_in(), dx + n1 * cv.image_in(), 0.0f);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t p0 = n * pixels; p0 < (n + 1) * pixels; p0 += tile) {
        const int64_t p1 = std::min((n + 1) * pixels, p0 + tile);
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          gemm(false, true, p1 - p0, k, ocg, dy + p0 * g.out_c + gi * ocg, g.out_c, w + gi * ocg,
               g.out_c, 0.0f, cols, k);
          col2im(cv, cols, gi, p0, p1, dx);
        }
      }
  });
}

void backprop_filter(const Conv& cv, const float* x, const float* dy, float* dw) {
  const Conv2DGeometry& g = cv.g;
  const int64_t filter = g.kernel_h * g.kernel_w * g.in_c_per_group() * g.out_c;
  // Chunks of whole images; their count depends on the shapes only.
  const int64_t image_macs = cv.pixels() * g.patch_size() * g.out_c;
  const int64_t chunks = std::clamp<int64_t>(cv.batch * image_macs / kMinTaskMacs, 1,
                                             std::min(cv.batch, kMaxFilterChunks));
  float* partials = chunks == 1 ? dw : scratch<22>(static_cast<size_t>(chunks * filter));
  const int64_t k = g.patch_size(), ocg = g.out_c_per_group();
  const int64_t tile = std::min(cv.rows(), tile_rows(k));
  const bool direct = g.is_pointwise();
  single_threaded_blas();
  pool().parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t n0 = cv.batch * c / chunks, n1 = cv.batch * (c + 1) / chunks;
      float* part = partials + c * filter;
      if (g.is_depthwise()) {
        depthwise_filter_chunk(cv, x, dy, n0, n1, part);
        continue;
      }
      std::fill(part, part + filter, 0.0f);
      float* cols = direct ? nullptr : scratch<23>(static_cast<size_t>(tile * k));
      for (int64_t p0 = n0 * cv.pixels(); p0 < n1 * cv.pixels(); p0 += tile) {
        const int64_t p1 = std::min(n1 * cv.pixels(), p0 + tile);
        for (int64_t gi = 0; gi < g.groups; ++gi) {
          const float* a = x + p0 * g.in_c + gi * g.in_c_per_group();
          int64_t lda = g.in_c;
          if (!direct) {
            im2col(cv, x, gi, p0, p1, cols);
            a = cols;
            lda = k;
          }
          gemm(true, false, k, ocg, p1 - p0, a, lda, dy + p0 * g.out_c + gi * ocg, g.out_c, 1.0f,
               part + gi * ocg, g.out_c);
        }
      }
    }
  });
  if (chunks == 1) return;
  // In chunk order, so the sum does not depend on which thread ran which chunk.
  std::copy(partials, partials + filter, dw);
  for (int64_t c = 1; c < chunks; ++c) {
    const float* part = partials + c * filter;
    for (int64_t i = 0; i < filter; ++i) dw[i] += part[i];
  }
}

}  // namespace

void conv2d_kernel(const KernelArgs& args) {
  Conv cv{conv_geometry(args.graph, args.node), args.inputs[0].shape()[0]};
  const Tensor& ta = args.inputs[0];
  const Tensor& tb = args.inputs[1];
  if (args.output.numel() == 0) return;
  if (ta.numel() == 0 || tb.numel() == 0) {  // an empty batch: the filter gradient is 0
    std::memset(args.output.raw_data(), 0, args.output.nbytes());
    return;
  }
  const DType t = ta.dtype();
  const float* a = ta.data<float>();
  const float* b = tb.data<float>();
  float* out = args.output.data<float>();
  if (t != kF32) {
    float* fa = scratch<24>(static_cast<size_t>(ta.numel()));
    float* fb = scratch<25>(static_cast<size_t>(tb.numel()));
    convert(ta.raw_data(), t, fa, kF32, static_cast<size_t>(ta.numel()));
    convert(tb.raw_data(), t, fb, kF32, static_cast<size_t>(tb.numel()));
    a = fa;
    b = fb;
    out = scratch<26>(static_cast<size_t>(args.output.numel()));
  }
  switch (args.node.op) {
    case OpKind::kConv2D:
      forward(cv, a, b, out);
      break;
    case OpKind::kConv2DBackpropInput:
      backprop_input(cv, a, b, out);
      break;
    case OpKind::kConv2DBackpropFilter:
      backprop_filter(cv, a, b, out);
      break;
    default:
      TS_ASSERT(false);
  }
  if (t != kF32)
    convert(out, kF32, args.output.raw_data(), t, static_cast<size_t>(args.output.numel()));
}

}  // namespace tessera::cpu
