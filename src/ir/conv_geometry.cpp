// Reading and checking the geometry of the convolution and pooling ops. Every message names
// the node, the attribute or input at fault, its value and what was expected.
#include "tessera/ir/conv_geometry.h"

#include <algorithm>
#include <array>

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

std::string where_(const Node& n) { return fmt::format("node '{}' ({})", n.name, op_name(n.op)); }

std::string list_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

// Up to four integers, held inline: kernels read the geometry on every run, and reading it
// must not allocate.
struct Ints {
  std::array<int64_t, 4> v{};
  size_t size = 0;
  int64_t operator[](size_t i) const { return v[i]; }
};

std::string list_str(const Ints& v) {
  return list_str(std::vector<int64_t>(v.v.begin(), v.v.begin() + v.size));
}

// An int-list attribute of `size` entries, each >= `min`; `fallback` when absent.
Ints int_list(const Node& n, const char* name, size_t size, int64_t min, Ints fallback,
              const char* meaning) {
  if (!n.attrs.has(name)) return fallback;
  const std::vector<int64_t>& v = n.attrs.get_ints(name);
  bool ok = v.size() == size;
  for (size_t i = 0; ok && i < v.size(); ++i) ok = v[i] >= min;
  TS_CHECK(ok, ErrorKind::kInvalidArgument, "{}: '{}' must be {} integers >= {} ({}), got {}",
           where_(n), name, size, min, meaning, list_str(v));
  Ints r;
  r.size = size;
  std::copy(v.begin(), v.end(), r.v.begin());
  return r;
}

const Shape& input_shape(const Graph& g, const Node& n, size_t i, const char* what) {
  TS_CHECK(i < n.inputs.size(), ErrorKind::kInvalidArgument, "{}: missing input {} ({})", where_(n),
           i, what);
  const Shape& s = g.type(n.inputs[i]).shape;
  TS_CHECK(s.rank() == 4, ErrorKind::kInvalidArgument, "{}: input {} ({}) must have rank 4, got {}",
           where_(n), i, what, s.str());
  for (int d = 1; d < 4; ++d)
    TS_CHECK(s[d] > 0, ErrorKind::kInvalidArgument,
             "{}: input {} ({}) {} must have static, positive dims after the first", where_(n), i,
             what, s.str());
  return s;
}

// Strides, dilations and pads common to every op; the window comes from the caller.
void read_common(const Node& n, Conv2DGeometry* geo, bool pooling) {
  const Ints window{{geo->kernel_h, geo->kernel_w}, 2};
  const Ints ones{{1, 1}, 2};
  Ints strides = int_list(n, "strides", 2, 1, pooling ? window : ones, "[h, w]");
  Ints dilations = int_list(n, "dilations", 2, 1, ones, "[h, w]");
  Ints pads = int_list(n, "pads", 4, 0, Ints{{0, 0, 0, 0}, 4}, "[top, bottom, left, right]");
  geo->stride_h = strides[0];
  geo->stride_w = strides[1];
  geo->dilation_h = dilations[0];
  geo->dilation_w = dilations[1];
  geo->pad_top = pads[0];
  geo->pad_bottom = pads[1];
  geo->pad_left = pads[2];
  geo->pad_right = pads[3];
  if (pooling) {
    TS_CHECK(dilations[0] == 1 && dilations[1] == 1, ErrorKind::kInvalidArgument,
             "{}: pooling takes no 'dilations', got {}", where_(n), list_str(dilations));
    // Every window must hold at least one real element, so padding never decides a result.
    TS_CHECK(pads[0] < geo->kernel_h && pads[1] < geo->kernel_h && pads[2] < geo->kernel_w &&
                 pads[3] < geo->kernel_w,
             ErrorKind::kInvalidArgument,
             "{}: 'pads' {} must each be smaller than the window {} on their axis", where_(n),
             list_str(pads), list_str(window));
  }
}

void compute_output(const Node& n, Conv2DGeometry* geo) {
  geo->out_h = conv_out_size(geo->in_h, geo->kernel_h, geo->stride_h, geo->dilation_h, geo->pad_top,
                             geo->pad_bottom);
  geo->out_w = conv_out_size(geo->in_w, geo->kernel_w, geo->stride_w, geo->dilation_w,
                             geo->pad_left, geo->pad_right);
  TS_CHECK(geo->out_h >= 1 && geo->out_w >= 1, ErrorKind::kInvalidArgument,
           "{}: the {}x{} {} (dilations [{}, {}]) does not fit in the {}x{} input padded by "
           "[{}, {}, {}, {}]: the output would be {}x{}; use a smaller kernel, more padding or "
           "a larger input",
           where_(n), geo->kernel_h, geo->kernel_w,
           n.op == OpKind::kMaxPool2D || n.op == OpKind::kAvgPool2D ||
                   n.op == OpKind::kMaxPool2DGrad || n.op == OpKind::kAvgPool2DGrad
               ? "window"
               : "kernel",
           geo->dilation_h, geo->dilation_w, geo->in_h, geo->in_w, geo->pad_top, geo->pad_bottom,
           geo->pad_left, geo->pad_right, geo->out_h, geo->out_w);
}

void check_groups(const Node& n, const Conv2DGeometry& geo) {
  TS_CHECK(geo.groups >= 1, ErrorKind::kInvalidArgument, "{}: 'groups' must be >= 1, got {}",
           where_(n), geo.groups);
  TS_CHECK(geo.in_c % geo.groups == 0 && geo.out_c % geo.groups == 0, ErrorKind::kInvalidArgument,
           "{}: 'groups' {} must divide both the input channels {} and the output channels {}",
           where_(n), geo.groups, geo.in_c, geo.out_c);
}

void set_filter(const Node& n, const Shape& w, const char* what, Conv2DGeometry* geo) {
  TS_CHECK(w.rank() == 4, ErrorKind::kInvalidArgument,
           "{}: the filter ({}) must be [KH, KW, C/groups, OC], got {}", where_(n), what, w.str());
  for (int d = 0; d < 4; ++d)
    TS_CHECK(w[d] > 0, ErrorKind::kInvalidArgument,
             "{}: the filter ({}) {} must have static, positive dims", where_(n), what, w.str());
  geo->kernel_h = w[0];
  geo->kernel_w = w[1];
  geo->out_c = w[3];
  check_groups(n, *geo);
  TS_CHECK(w[2] == geo->in_c / geo->groups, ErrorKind::kInvalidArgument,
           "{}: the filter {} has {} input channels; the input has {} channels in {} group(s), "
           "so it needs {}",
           where_(n), w.str(), w[2], geo->in_c, geo->groups, geo->in_c / geo->groups);
}

void set_input(const Shape& x, Conv2DGeometry* geo) {
  geo->batch = x[0];
  geo->in_h = x[1];
  geo->in_w = x[2];
  geo->in_c = x[3];
}

// Backprops take the forward input's spatial shape from an attribute.
void set_input_from_attr(const Node& n, int64_t batch, Conv2DGeometry* geo) {
  Ints s = int_list(n, "input_shape", 3, 1, {}, "[H, W, C]");
  TS_CHECK(s.size == 3, ErrorKind::kInvalidArgument,
           "{}: missing attribute 'input_shape' ([H, W, C] of the forward input)", where_(n));
  geo->batch = batch;
  geo->in_h = s[0];
  geo->in_w = s[1];
  geo->in_c = s[2];
}

// dy (input `i`) must have the shape the forward op produced.
void check_dy(const Graph& g, const Node& n, size_t i, const Conv2DGeometry& geo) {
  const Shape& dy = input_shape(g, n, i, "dy");
  TS_CHECK(dy[1] == geo.out_h && dy[2] == geo.out_w && dy[3] == geo.out_c,
           ErrorKind::kInvalidArgument,
           "{}: dy {} does not match the forward output [N, {}, {}, {}] of this geometry",
           where_(n), dy.str(), geo.out_h, geo.out_w, geo.out_c);
}

void check_batches(const Node& n, const Shape& a, const Shape& b) {
  TS_CHECK(a[0] == b[0], ErrorKind::kInvalidArgument,
           "{}: inputs {} and {} differ in their batch dimension", where_(n), a.str(), b.str());
}

}  // namespace

Conv2DGeometry conv_geometry(const Graph& g, const Node& n) {
  Conv2DGeometry geo;
  switch (n.op) {
    case OpKind::kConv2D: {
      const Shape& x = input_shape(g, n, 0, "x");
      set_input(x, &geo);
      geo.groups = n.attrs.get_int_or("groups", 1);
      set_filter(n, g.type(n.inputs.at(1)).shape, "input 1", &geo);
      read_common(n, &geo, false);
      compute_output(n, &geo);
      return geo;
    }
    case OpKind::kConv2DBackpropInput: {
      const Shape& dy = input_shape(g, n, 0, "dy");
      set_input_from_attr(n, dy[0], &geo);
      geo.groups = n.attrs.get_int_or("groups", 1);
      set_filter(n, g.type(n.inputs.at(1)).shape, "input 1", &geo);
      read_common(n, &geo, false);
      compute_output(n, &geo);
      check_dy(g, n, 0, geo);
      return geo;
    }
    case OpKind::kConv2DBackpropFilter: {
      const Shape& x = input_shape(g, n, 0, "x");
      set_input(x, &geo);
      geo.groups = n.attrs.get_int_or("groups", 1);
      Ints f = int_list(n, "filter_shape", 4, 1, {}, "[KH, KW, C/groups, OC]");
      TS_CHECK(f.size == 4, ErrorKind::kInvalidArgument,
               "{}: missing attribute 'filter_shape' ([KH, KW, C/groups, OC])", where_(n));
      set_filter(n, Shape{f[0], f[1], f[2], f[3]}, "filter_shape", &geo);
      read_common(n, &geo, false);
      compute_output(n, &geo);
      check_dy(g, n, 1, geo);
      check_batches(n, x, g.type(n.inputs[1]).shape);
      return geo;
    }
    case OpKind::kMaxPool2D:
    case OpKind::kAvgPool2D:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2DGrad: {
      Ints window = int_list(n, "window", 2, 1, {}, "[h, w]");
      TS_CHECK(window.size == 2, ErrorKind::kInvalidArgument,
               "{}: missing attribute 'window' ([h, w])", where_(n));
      geo.kernel_h = window[0];
      geo.kernel_w = window[1];
      if (n.op == OpKind::kAvgPool2DGrad) {
        set_input_from_attr(n, input_shape(g, n, 0, "dy")[0], &geo);
      } else {
        set_input(input_shape(g, n, 0, "x"), &geo);
      }
      geo.out_c = geo.in_c;
      read_common(n, &geo, true);
      compute_output(n, &geo);
      if (n.op == OpKind::kMaxPool2DGrad) {
        check_dy(g, n, 1, geo);
        check_batches(n, g.type(n.inputs[0]).shape, g.type(n.inputs[1]).shape);
      }
      if (n.op == OpKind::kAvgPool2DGrad) check_dy(g, n, 0, geo);
      return geo;
    }
    default:
      break;
  }
  throw_error(ErrorKind::kInternal,
              fmt::format("conv_geometry: {} is not a convolution or pooling op", where_(n)));
}

PadsHW same_padding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + dilation * (kernel - 1) + 1 - in, 0);
  return {total / 2, total - total / 2};
}

Attrs conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads,
                 std::vector<int64_t> dilations, int64_t groups) {
  return Attrs()
      .set("strides", std::move(strides))
      .set("dilations", std::move(dilations))
      .set("pads", std::move(pads))
      .set("groups", groups);
}

Attrs pool_attrs(std::vector<int64_t> window, std::vector<int64_t> strides,
                 std::vector<int64_t> pads) {
  return Attrs()
      .set("window", std::move(window))
      .set("strides", std::move(strides))
      .set("pads", std::move(pads));
}

}  // namespace tessera
