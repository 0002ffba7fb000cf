// Harness cases of the convolution and pooling ops (appended to op_cases()).
//
// The shapes are small and odd, and cover what the cpu kernels special-case: valid and
// "same" padding, asymmetric pads, strides, dilations, groups, depthwise (with a depth
// multiplier), 1x1 convolutions (no im2col), the symbolic batch, and sizes that span
// several im2col tiles and several backprop_filter chunks (forward only: finite
// differences over thousands of elements would be slow). Backprop cases build dy with the
// forward op's output shape.
#include <cstdint>

#include "harness.h"
#include "tessera/ir/conv_geometry.h"
#include "tessera/ir/op_table.h"

namespace tessera::ops_test {
namespace {

constexpr int64_t N = kDynamic;

Arg data(Shape s, double lo = -1, double hi = 1) { return Arg{.shape = s, .lo = lo, .hi = hi}; }
Arg distinct(Shape s) { return Arg{.shape = s, .lo = -2, .hi = 2, .distinct = true}; }

struct ConvSpec {
  Shape x;  // [N, H, W, C]
  Shape w;  // [KH, KW, C/groups, OC] (pooling: [KH, KW] window only)
  std::vector<int64_t> strides = {1, 1};
  std::vector<int64_t> pads = {0, 0, 0, 0};
  std::vector<int64_t> dilations = {1, 1};
  int64_t groups = 1;

  Shape out(int64_t channels) const {
    return Shape{x[0], conv_out_size(x[1], w[0], strides[0], dilations[0], pads[0], pads[1]),
                 conv_out_size(x[2], w[1], strides[1], dilations[1], pads[2], pads[3]), channels};
  }
  Shape hwc() const { return Shape{x[1], x[2], x[3]}; }
};

OpCase make(std::string name, OpKind op, std::vector<Arg> args, EmitFn emit) {
  OpCase c;
  c.name = std::move(name);
  c.op = op;
  c.args = std::move(args);
  c.emit = std::move(emit);
  c.dtypes = op_dtypes(op);
  c.tol_scale = 10;  // products and sums accumulate in f32, as matmul's do
  return c;
}

void add_conv(std::vector<OpCase>& out, const std::string& suffix, const ConvSpec& s,
              bool gradient = true) {
  Shape dy = s.out(s.w[3]);
  auto conv = make("conv2d_" + suffix, OpKind::kConv2D, {data(s.x), data(s.w)},
                   [s](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                     return b.conv2d(in[0], in[1], s.strides, s.pads, s.dilations, s.groups);
                   });
  auto input =
      make("conv2d_backprop_input_" + suffix, OpKind::kConv2DBackpropInput, {data(dy), data(s.w)},
           [s](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
             return b.conv2d_backprop_input(in[0], in[1], s.hwc(), s.strides, s.pads, s.dilations,
                                            s.groups);
           });
  auto filter =
      make("conv2d_backprop_filter_" + suffix, OpKind::kConv2DBackpropFilter, {data(s.x), data(dy)},
           [s](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
             return b.conv2d_backprop_filter(in[0], in[1], s.w, s.strides, s.pads, s.dilations,
                                             s.groups);
           });
  // The large cases' backprop decompositions sum hundreds of products rounded to f16/bf16
  // along the way (per window position, per sample), beyond the decomposition check's 8 ulps;
  // their f16/bf16 kernels are covered by the small cases.
  if (!gradient) input.dtypes = filter.dtypes = {kF32};
  for (OpCase* c : {&conv, &input, &filter}) {
    c->gradient = gradient;
    out.push_back(std::move(*c));
  }
}

void add_pool(std::vector<OpCase>& out, const std::string& suffix, const ConvSpec& s,
              bool gradient = true) {
  std::vector<int64_t> window = {s.w[0], s.w[1]};
  Shape dy = s.out(s.x[3]);
  Arg x = distinct(s.x);  // no ties: one well-defined maximum per window
  Arg x_specials = x;
  x_specials.specials = s.x.is_static();  // NaN and infinities propagate as in reduce_max
  std::vector<OpCase> cases;
  cases.push_back(make("max_pool2d_" + suffix, OpKind::kMaxPool2D, {x_specials},
                       [s, window](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                         return b.max_pool2d(in[0], window, s.strides, s.pads);
                       }));
  cases.push_back(make("max_pool2d_grad_" + suffix, OpKind::kMaxPool2DGrad, {x, data(dy)},
                       [s, window](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                         return b.max_pool2d_grad(in[0], in[1], window, s.strides, s.pads);
                       }));
  cases.push_back(make("avg_pool2d_" + suffix, OpKind::kAvgPool2D, {data(s.x)},
                       [s, window](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                         return b.avg_pool2d(in[0], window, s.strides, s.pads);
                       }));
  cases.push_back(make("avg_pool2d_grad_" + suffix, OpKind::kAvgPool2DGrad, {data(dy)},
                       [s, window](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                         return b.avg_pool2d_grad(in[0], s.hwc(), window, s.strides, s.pads);
                       }));
  for (OpCase& c : cases) {
    c.gradient = gradient;
    c.tol_scale = 1;
    out.push_back(std::move(c));
  }
}

}  // namespace

std::vector<OpCase> conv_op_cases() {
  std::vector<OpCase> out;
  add_conv(out, "valid", {.x = {2, 5, 6, 3}, .w = {3, 2, 3, 4}});
  // Keras "same" with stride 2 on odd sizes: pads [1, 1, 0, 1].
  add_conv(out, "same_stride2",
           {.x = {1, 7, 6, 2}, .w = {3, 3, 2, 3}, .strides = {2, 2}, .pads = {1, 1, 0, 1}});
  add_conv(out, "dilated_asymmetric",
           {.x = {1, 7, 7, 2},
            .w = {2, 3, 2, 2},
            .strides = {1, 2},
            .pads = {1, 0, 2, 1},
            .dilations = {2, 1}});
  add_conv(out, "groups",
           {.x = {1, 5, 5, 4}, .w = {3, 3, 2, 6}, .pads = {1, 1, 1, 1}, .groups = 2});
  add_conv(
      out, "depthwise",
      {.x = {2, 5, 4, 3}, .w = {3, 3, 1, 6}, .strides = {2, 1}, .pads = {1, 1, 1, 1}, .groups = 3});
  add_conv(out, "pointwise", {.x = {2, 3, 4, 5}, .w = {1, 1, 5, 3}});
  add_conv(out, "pointwise_groups", {.x = {2, 3, 4, 6}, .w = {1, 1, 3, 4}, .groups = 2});
  add_conv(out, "one_channel", {.x = {3, 6, 6, 1}, .w = {3, 3, 1, 4}});
  add_conv(out, "batch", {.x = {N, 6, 5, 2}, .w = {3, 3, 2, 3}, .pads = {1, 1, 1, 1}});
  // Several im2col tiles (rows > 910 for 72-value patches) and backprop_filter chunks.
  add_conv(out, "large", {.x = {4, 20, 19, 8}, .w = {3, 3, 8, 16}, .pads = {1, 1, 1, 1}},
           /*gradient=*/false);
  add_conv(out, "large_depthwise",
           {.x = {3, 17, 18, 16}, .w = {3, 3, 1, 16}, .pads = {1, 1, 1, 1}, .groups = 16},
           /*gradient=*/false);

  add_pool(out, "2x2", {.x = {2, 5, 6, 3}, .w = {2, 2}, .strides = {2, 2}});
  // Keras "same": 3x3 windows, stride 2 on 7x6: pads [1, 1, 1, 1] and [0, 1]; the padded
  // border is excluded from averages.
  add_pool(out, "same_3x3_stride2",
           {.x = {1, 7, 6, 2}, .w = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 0, 1}});
  add_pool(out, "overlapping",
           {.x = {1, 5, 5, 3}, .w = {3, 2}, .strides = {1, 1}, .pads = {1, 1, 1, 0}});
  add_pool(out, "batch", {.x = {N, 4, 6, 2}, .w = {2, 3}, .strides = {2, 3}});
  add_pool(out, "large", {.x = {3, 26, 26, 32}, .w = {2, 2}, .strides = {2, 2}},
           /*gradient=*/false);
  return out;
}

}  // namespace tessera::ops_test
