// Type inference and cost of the convolution and pooling ops. The geometry (and every check
// of sizes, strides, pads and groups) is conv_geometry(); here only dtypes are added.
#include "conv_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"

namespace tessera::detail {
namespace {

bool is_float_dtype(DType t) {
  return t.id() == DTypeId::kF32 || t.id() == DTypeId::kF16 || t.id() == DTypeId::kBF16;
}

void check_dtypes(const Graph& g, const Node& n) {
  DType t = g.type(n.inputs.at(0)).dtype;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    DType ti = g.type(n.inputs[i]).dtype;
    TS_CHECK(is_float_dtype(ti) && ti == t, ErrorKind::kInvalidArgument,
             "node '{}' ({}): input {} has dtype {}; every input must have the same float "
             "dtype (f32, f16, bf16), the first has {}",
             n.name, op_name(n.op), i, ti.name(), t.name());
  }
}

double count(int64_t n) { return static_cast<double>(n == kDynamic ? 1 : n); }

double bytes_of(const TensorType& t) {
  return static_cast<double>(t.shape.with_batch(1).numel()) * static_cast<double>(t.dtype.size());
}

}  // namespace

TensorType infer_conv(const Graph& g, const Node& n) {
  check_dtypes(g, n);
  DType t = g.type(n.inputs[0]).dtype;
  Conv2DGeometry geo = conv_geometry(g, n);
  switch (n.op) {
    case OpKind::kConv2D:
    case OpKind::kMaxPool2D:
    case OpKind::kAvgPool2D:
      return {t, geo.output_shape()};
    case OpKind::kConv2DBackpropInput:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2DGrad:
      return {t, geo.input_shape()};
    case OpKind::kConv2DBackpropFilter:
      return {t, geo.filter_shape()};
    default:
      break;
  }
  throw_error(
      ErrorKind::kInternal,
      fmt::format("infer_conv: node '{}' ({}) is not a conv or pool op", n.name, op_name(n.op)));
}

OpCost cost_conv(const Graph& g, const Node& n) {
  Conv2DGeometry geo = conv_geometry(g, n);
  OpCost c;
  for (ValueId in : n.inputs) c.bytes_read += bytes_of(g.type(in));
  c.bytes_written = bytes_of(n.type);
  double batch = count(geo.batch);
  switch (n.op) {
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      c.flops = 2.0 * geo.macs(1) * batch;
      break;
    default:  // one max or add per window element and output
      c.flops =
          batch * static_cast<double>(geo.out_pixels() * geo.out_c * geo.kernel_h * geo.kernel_w);
      break;
  }
  return c;
}

}  // namespace tessera::detail
