// Decompositions of the convolution and pooling ops into primitives (pad, strided slice,
// concat, reshape, matmul, elementwise), the fallback of any backend or simulator without
// a kernel for them:
//
//   conv2d                  im2col + GEMM: the KH·KW window positions are strided slices
//                           of the padded input, concatenated on the channel axis to
//                           [N, OH, OW, KH·KW·C/groups], times the filter as a matrix
//   conv2d_backprop_input   GEMM + col2im: dy times the filterᵀ, each window position's
//                           slice placed back where it was read (the adjoint of a strided
//                           slice, below) and summed
//   conv2d_backprop_filter  im2colᵀ · dy per sample, summed over the batch
//   max/avg pooling         the same slices combined by maximum or sum / count
//
// Groups are handled one at a time on channel slices and concatenated.
#include <algorithm>
#include <limits>

#include "conv_rules.h"
#include "tessera/core/error.h"

namespace tessera::detail {
namespace {

// "To the end of the axis" for slices; the batch axis must be sliced with an end this large.
constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();

int64_t padded_h(const Conv2DGeometry& g) { return g.in_h + g.pad_top + g.pad_bottom; }
int64_t padded_w(const Conv2DGeometry& g) { return g.in_w + g.pad_left + g.pad_right; }

ValueId pad_hw(GraphBuilder& b, ValueId x, const Conv2DGeometry& g, double value) {
  if (g.pad_top == 0 && g.pad_bottom == 0 && g.pad_left == 0 && g.pad_right == 0) return x;
  return b.pad(x, {0, g.pad_top, g.pad_left, 0}, {0, g.pad_bottom, g.pad_right, 0}, value);
}

// Channels [c0, c1) of an NHWC value.
ValueId channels(GraphBuilder& b, ValueId v, int64_t c0, int64_t c1) {
  Shape s = b.shape(v);
  if (c0 == 0 && c1 == s[3]) return v;
  return b.slice(v, {0, 0, 0, c0}, {kToEnd, s[1], s[2], c1});
}

// Window position (i, j) of every output pixel: rows i·dh + oh·sh and columns j·dw + ow·sw
// of the padded input xp, channels [c0, c1). Returns [N, OH, OW, c1 - c0].
ValueId window_slice(GraphBuilder& b, ValueId xp, const Conv2DGeometry& g, int64_t i, int64_t j,
                     int64_t c0, int64_t c1) {
  int64_t r0 = i * g.dilation_h, q0 = j * g.dilation_w;
  return b.slice(
      xp, {0, r0, q0, c0},
      {kToEnd, r0 + (g.out_h - 1) * g.stride_h + 1, q0 + (g.out_w - 1) * g.stride_w + 1, c1},
      {1, g.stride_h, g.stride_w, 1});
}

ValueId window_slice(GraphBuilder& b, ValueId xp, const Conv2DGeometry& g, int64_t i, int64_t j) {
  return window_slice(b, xp, g, i, j, 0, b.shape(xp)[3]);
}

// The adjoint of window_slice: p [N, OH, OW, C'] placed at the positions window (i, j)
// reads, zeros elsewhere, in a tensor of the padded input's size [N, Hp, Wp, C']. Strides
// interleave zeros through a reshape to [N, OH, 1, OW, 1, C'] padded to [N, OH, sh, OW, sw,
// C'].
ValueId unslice(GraphBuilder& b, ValueId p, const Conv2DGeometry& g, int64_t i, int64_t j) {
  Shape s = b.shape(p);
  const int64_t n = s[0], c = s[3];
  ValueId v = p;
  int64_t rows = g.out_h, cols = g.out_w;
  if (g.stride_h > 1 || g.stride_w > 1) {
    v = b.reshape(v, Shape{n, g.out_h, 1, g.out_w, 1, c});
    v = b.pad(v, {0, 0, 0, 0, 0, 0}, {0, 0, g.stride_h - 1, 0, g.stride_w - 1, 0});
    rows = g.out_h * g.stride_h;
    cols = g.out_w * g.stride_w;
    v = b.reshape(v, Shape{n, rows, cols, c});
  }
  const int64_t top = i * g.dilation_h, left = j * g.dilation_w;
  // The zeros interleaved after the last row or column may reach past the padded input.
  const int64_t keep_r = std::min(rows, padded_h(g) - top);
  const int64_t keep_c = std::min(cols, padded_w(g) - left);
  if (keep_r < rows || keep_c < cols) v = b.slice(v, {0, 0, 0, 0}, {kToEnd, keep_r, keep_c, c});
  return b.pad(v, {0, top, left, 0},
               {0, padded_h(g) - top - keep_r, padded_w(g) - left - keep_c, 0});
}

// Drops the padding of a [N, Hp, Wp, C] value: [N, H, W, C].
ValueId crop(GraphBuilder& b, ValueId vp, const Conv2DGeometry& g) {
  if (g.pad_top == 0 && g.pad_bottom == 0 && g.pad_left == 0 && g.pad_right == 0) return vp;
  return b.slice(vp, {0, g.pad_top, g.pad_left, 0},
                 {kToEnd, g.pad_top + g.in_h, g.pad_left + g.in_w, g.in_c});
}

ValueId sum(GraphBuilder& b, const std::vector<ValueId>& terms) {
  ValueId acc = terms.at(0);
  for (size_t k = 1; k < terms.size(); ++k) acc = b.add(acc, terms[k]);
  return acc;
}

// The im2col matrix of group `gi`: [N, OH, OW, KH·KW·C/groups], ordered (kh, kw, c) as the
// rows of the HWIO filter.
ValueId im2col(GraphBuilder& b, ValueId xp, const Conv2DGeometry& g, int64_t gi) {
  const int64_t cg = g.in_c_per_group();
  std::vector<ValueId> patches;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j)
      patches.push_back(window_slice(b, xp, g, i, j, gi * cg, (gi + 1) * cg));
  return patches.size() == 1 ? patches[0] : b.concat(patches, 3);
}

// Group `gi`'s filter as a [KH·KW·C/groups, OC/groups] matrix.
ValueId filter_matrix(GraphBuilder& b, ValueId w, const Conv2DGeometry& g, int64_t gi) {
  const int64_t ocg = g.out_c_per_group();
  ValueId wg = w;
  if (g.groups > 1)
    wg = b.slice(w, {0, 0, 0, gi * ocg},
                 {g.kernel_h, g.kernel_w, g.in_c_per_group(), (gi + 1) * ocg});
  return b.reshape(wg, Shape{g.patch_size(), ocg});
}

ValueId concat_groups(GraphBuilder& b, const std::vector<ValueId>& parts) {
  return parts.size() == 1 ? parts[0] : b.concat(parts, 3);
}

// Non-padding elements of each pooling window, [OH, OW, 1] in `dtype` (broadcasts over
// N and C).
ValueId window_counts(GraphBuilder& b, const Conv2DGeometry& g, DType dtype) {
  Tensor t = Tensor::zeros(dtype, {g.out_h, g.out_w, 1});
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    int64_t r0 = oh * g.stride_h - g.pad_top;
    int64_t rows = std::min(r0 + g.kernel_h, g.in_h) - std::max<int64_t>(r0, 0);
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      int64_t q0 = ow * g.stride_w - g.pad_left;
      int64_t cols = std::min(q0 + g.kernel_w, g.in_w) - std::max<int64_t>(q0, 0);
      t.set(oh * g.out_w + ow, static_cast<double>(rows * cols));
    }
  }
  return b.constant(t);
}

Conv2DGeometry geometry(const GraphBuilder& b, const Node& node) {
  return conv_geometry(b.graph(), node);
}

}  // namespace

ValueId decompose_conv2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  ValueId xp = pad_hw(b, in[0], g, 0.0);
  std::vector<ValueId> parts;
  for (int64_t gi = 0; gi < g.groups; ++gi)
    parts.push_back(b.matmul(im2col(b, xp, g, gi), filter_matrix(b, in[1], g, gi)));
  return concat_groups(b, parts);
}

ValueId decompose_conv2d_backprop_input(GraphBuilder& b, const Node& node,
                                        std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  const int64_t cg = g.in_c_per_group(), ocg = g.out_c_per_group();
  std::vector<ValueId> parts;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    ValueId dy = channels(b, in[0], gi * ocg, (gi + 1) * ocg);
    ValueId cols = b.matmul(dy, filter_matrix(b, in[1], g, gi), false, true);
    std::vector<ValueId> terms;
    for (int64_t i = 0; i < g.kernel_h; ++i)
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        int64_t c0 = (i * g.kernel_w + j) * cg;
        terms.push_back(unslice(b, channels(b, cols, c0, c0 + cg), g, i, j));
      }
    parts.push_back(sum(b, terms));
  }
  return crop(b, concat_groups(b, parts), g);
}

ValueId decompose_conv2d_backprop_filter(GraphBuilder& b, const Node& node,
                                         std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  const int64_t ocg = g.out_c_per_group();
  const int64_t n = b.shape(in[0])[0];
  ValueId xp = pad_hw(b, in[0], g, 0.0);
  std::vector<ValueId> parts;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    ValueId cols = b.reshape(im2col(b, xp, g, gi), Shape{n, g.out_pixels(), g.patch_size()});
    ValueId dy =
        b.reshape(channels(b, in[1], gi * ocg, (gi + 1) * ocg), Shape{n, g.out_pixels(), ocg});
    ValueId per_sample = b.matmul(cols, dy, /*transpose_a=*/true, false);  // [N, K, OC/g]
    ValueId dw = b.reduce_sum(per_sample, {0});
    parts.push_back(b.reshape(dw, Shape{g.kernel_h, g.kernel_w, g.in_c_per_group(), ocg}));
  }
  return concat_groups(b, parts);
}

ValueId decompose_max_pool2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  ValueId xp = pad_hw(b, in[0], g, -std::numeric_limits<double>::infinity());
  ValueId y = kNoValue;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      ValueId s = window_slice(b, xp, g, i, j);
      y = y == kNoValue ? s : b.maximum(y, s);
    }
  return y;
}

std::vector<ValueId> first_max_masks(GraphBuilder& b, ValueId x, const Conv2DGeometry& g,
                                     DType dtype) {
  ValueId xp = pad_hw(b, x, g, -std::numeric_limits<double>::infinity());
  std::vector<ValueId> slices;
  ValueId y = kNoValue;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      slices.push_back(window_slice(b, xp, g, i, j));
      y = y == kNoValue ? slices.back() : b.maximum(y, slices.back());
    }
  ValueId one = b.scalar(1.0, dtype), zero = b.scalar(0.0, dtype);
  std::vector<ValueId> masks;
  ValueId taken = kNoValue;  // 1 where an earlier position already holds the maximum
  for (ValueId s : slices) {
    ValueId hit = b.where(b.compare(OpKind::kEqual, s, y), one, zero);
    ValueId first = taken == kNoValue ? hit : b.mul(hit, b.sub(one, taken));
    taken = taken == kNoValue ? first : b.add(taken, first);
    masks.push_back(first);
  }
  return masks;
}

ValueId select_at_first_max(GraphBuilder& b, ValueId x, ValueId v, const Conv2DGeometry& g) {
  std::vector<ValueId> masks = first_max_masks(b, x, g, b.dtype(v));
  ValueId vp = pad_hw(b, v, g, 0.0);
  std::vector<ValueId> terms;
  size_t k = 0;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j)
      terms.push_back(b.mul(masks[k++], window_slice(b, vp, g, i, j)));
  return sum(b, terms);
}

ValueId decompose_max_pool2d_grad(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  std::vector<ValueId> masks = first_max_masks(b, in[0], g, b.dtype(in[1]));
  std::vector<ValueId> terms;
  size_t k = 0;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j)
      terms.push_back(unslice(b, b.mul(masks[k++], in[1]), g, i, j));
  return crop(b, sum(b, terms), g);
}

ValueId decompose_avg_pool2d(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  ValueId xp = pad_hw(b, in[0], g, 0.0);
  std::vector<ValueId> terms;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j) terms.push_back(window_slice(b, xp, g, i, j));
  return b.div(sum(b, terms), window_counts(b, g, b.dtype(in[0])));
}

ValueId decompose_avg_pool2d_grad(GraphBuilder& b, const Node& node, std::span<const ValueId> in) {
  Conv2DGeometry g = geometry(b, node);
  ValueId share = b.div(in[0], window_counts(b, g, b.dtype(in[0])));
  std::vector<ValueId> terms;
  for (int64_t i = 0; i < g.kernel_h; ++i)
    for (int64_t j = 0; j < g.kernel_w; ++j) terms.push_back(unslice(b, share, g, i, j));
  return crop(b, sum(b, terms), g);
}

}  // namespace tessera::detail
