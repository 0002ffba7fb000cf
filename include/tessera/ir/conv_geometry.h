// The geometry of the convolution and pooling ops (conv2d, its two backprops, max_pool2d,
// avg_pool2d and their gradients): sizes, strides, dilations, pads and groups, read from a
// node's attributes and input shapes and checked once, so that type inference, costs,
// gradient rules, decompositions and every backend's kernels agree on them.
//
// Layouts are Keras': activations NHWC, filters HWIO ([KH, KW, C/groups, OC]).
//
//   Conv2DGeometry geo = conv_geometry(graph, node);   // throws naming the node
//   int64_t macs = geo.macs();                         // per sample when N is symbolic
//   PadsHW p = same_padding(28, 3, 1, 1);              // Keras/TF "same": {1, 1}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

struct Conv2DGeometry {
  int64_t batch = 1;  // N; kDynamic in a graph with a symbolic batch
  int64_t in_h = 0, in_w = 0, in_c = 0;
  int64_t out_h = 0, out_w = 0, out_c = 0;
  int64_t kernel_h = 1, kernel_w = 1;  // the filter's, or the pooling window's
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t groups = 1;

  int64_t in_c_per_group() const { return in_c / groups; }
  int64_t out_c_per_group() const { return out_c / groups; }
  // Elements of one im2col row: KH·KW·C/groups.
  int64_t patch_size() const { return kernel_h * kernel_w * in_c_per_group(); }
  // Output pixels (rows of the im2col matrix) per sample.
  int64_t out_pixels() const { return out_h * out_w; }
  // Multiply-adds of the convolution (conv2d and each of its backprops), for a batch of
  // `n` samples.
  double macs(int64_t n) const {
    return static_cast<double>(n) * static_cast<double>(out_pixels()) * static_cast<double>(out_c) *
           static_cast<double>(patch_size());
  }
  // 1x1, stride 1, no padding: the convolution is a plain matmul over pixels.
  bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
           pad_bottom == 0 && pad_left == 0 && pad_right == 0;
  }
  bool is_depthwise() const { return groups > 1 && groups == in_c; }
  Shape input_shape() const { return Shape{batch, in_h, in_w, in_c}; }
  Shape output_shape() const { return Shape{batch, out_h, out_w, out_c}; }
  Shape filter_shape() const { return Shape{kernel_h, kernel_w, in_c_per_group(), out_c}; }
};

// One output size along an axis: (in + pads - dilation·(kernel-1) - 1) / stride + 1, which
// is < 1 when the dilated kernel does not fit in the padded input.
inline int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                             int64_t pad_before, int64_t pad_after) {
  int64_t span = in + pad_before + pad_after - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// The geometry of a conv or pool node of `g` (any of the seven ops), from its attributes
// and the shapes of its inputs; type inference checks everything through it. Throws
// Error(kInvalidArgument) naming the node, the attribute or input and the value at fault.
Conv2DGeometry conv_geometry(const Graph& g, const Node& node);

// Keras/TF padding: "valid" is no padding; "same" gives out = ceil(in / stride) with the
// total padding split evenly, the odd element after.
struct PadsHW {
  int64_t before = 0;
  int64_t after = 0;
};
PadsHW same_padding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation);

// Attributes of the conv ops as the builder sets them: strides, dilations, pads, groups.
Attrs conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                 std::vector<int64_t> dilations, int64_t groups);
// Attributes of the pool ops: window, strides, pads.
Attrs pool_attrs(std::vector<int64_t> window, std::vector<int64_t> strides,
                 std::vector<int64_t> pads);

}  // namespace tessera
