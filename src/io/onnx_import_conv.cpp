// ONNX convolution, pooling and batch normalization → the IR's NHWC ops (onnx_import.h).
// ONNX is NCHW with OIHW filters; the IR is NHWC with HWIO filters. Activations enter NHWC
// once (a permute) and stay NHWC through every layout-agnostic op (elementwise, batch
// normalization, pooling, concat over channels) until an op needs NCHW (Flatten, Reshape, an
// output): one permute there, a reshape when H = W = 1. Filters that are initializers are
// stored in HWIO, so no run-time transpose is left.
#include <fmt/ranges.h>

#include <algorithm>

#include "onnx_import.h"
#include "onnx_tensor.h"
#include "tessera/core/error.h"

namespace tessera::onnx_io {
namespace {

struct Window {
  std::vector<int64_t> kernel, strides, pads, dilations;  // pads: IR [top, bottom, left, right]
};

// kernel_shape, strides, dilations, pads / auto_pad for a 2-D window over NHWC `x`.
Window window(Importer& im, ValueId x, std::vector<int64_t> kernel, bool pool) {
  const Shape s = im.b.shape(x);
  if (kernel.size() != 2)
    im.unsupported(fmt::format("a {}-D window (only 2-D convolution and pooling)", kernel.size()));
  Window w;
  w.kernel = kernel;
  w.strides = im.attr_ints("strides");
  if (w.strides.empty()) w.strides = {1, 1};
  w.dilations = im.attr_ints("dilations");
  if (w.dilations.empty()) w.dilations = {1, 1};
  if (w.strides.size() != 2 || w.dilations.size() != 2)
    im.invalid("strides and dilations need one value per spatial axis");
  constexpr int64_t kMax = int64_t{1} << 31;  // hostile sizes fail before any arithmetic
  for (int k = 0; k < 2; ++k)
    if (w.strides[k] < 1 || w.dilations[k] < 1 || w.kernel[k] < 1 || w.strides[k] > kMax ||
        w.dilations[k] > kMax || w.kernel[k] > kMax)
      im.invalid(fmt::format("kernel {}, strides {} and dilations {} must be >= 1",
                             fmt::join(w.kernel, "x"), fmt::join(w.strides, "x"),
                             fmt::join(w.dilations, "x")));
  if (pool && (w.dilations[0] != 1 || w.dilations[1] != 1))
    im.unsupported("pooling with dilations");
  std::string auto_pad = im.attr_string("auto_pad", "NOTSET");
  std::vector<int64_t> p = im.attr_ints("pads");
  if (auto_pad == "NOTSET") {
    if (p.empty()) p = {0, 0, 0, 0};
    if (p.size() != 4) im.invalid(fmt::format("pads has {} values, a 2-D window needs 4", p.size()));
    for (int64_t v : p) {
      if (v < 0) im.unsupported("negative pads");
      if (v > kMax) im.invalid(fmt::format("pad {} is too large", v));
    }
    w.pads = {p[0], p[2], p[1], p[3]};
  } else if (auto_pad == "VALID") {
    w.pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    w.pads.clear();
    for (int k = 0; k < 2; ++k) {
      int64_t in = s[1 + k], st = w.strides[k];
      int64_t out = (in + st - 1) / st;
      int64_t total = std::max<int64_t>((out - 1) * st + (w.kernel[k] - 1) * w.dilations[k] + 1 - in, 0);
      int64_t small = total / 2, big = total - small;
      bool upper = auto_pad == "SAME_UPPER";
      w.pads.push_back(upper ? small : big);
      w.pads.push_back(upper ? big : small);
    }
  } else {
    im.invalid("auto_pad '" + auto_pad + "'");
  }
  if (im.attr_int("ceil_mode", 0) != 0) {
    // Supported when rounding up changes nothing.
    for (int k = 0; k < 2; ++k) {
      int64_t span = s[1 + k] + w.pads[2 * k] + w.pads[2 * k + 1] - (w.kernel[k] - 1) * w.dilations[k] - 1;
      if (span >= 0 && span % w.strides[k] != 0) im.unsupported("ceil_mode = 1 where it changes the output size");
    }
  }
  return w;
}

void conv(Importer& im) {
  if (im.type(0).shape.rank() != 4)
    im.unsupported(fmt::format("Conv on {} (only 2-D: NCHW inputs)", im.type(0).str()));
  ValueId x = im.nhwc(0);
  ValueId f = im.hwio(1);
  const Shape fs = im.b.shape(f);
  std::vector<int64_t> kernel = im.attr_ints("kernel_shape");
  if (kernel.empty()) kernel = {fs[0], fs[1]};
  if (kernel.size() != 2 || kernel[0] != fs[0] || kernel[1] != fs[1])
    im.invalid(fmt::format("kernel_shape {} does not match the filter {} (HWIO)", fmt::join(kernel, "x"),
                           fs.str()));
  Window w = window(im, x, kernel, false);
  ValueId y = im.b.conv2d(x, f, w.strides, w.pads, w.dilations, im.attr_int("group", 1));
  if (im.has_input(2)) {
    ValueId bias = im.plain(2);
    if (im.b.shape(bias) != Shape{fs[3]})
      im.invalid(fmt::format("bias must be [{}], got {}", fs[3], im.b.type(bias).str()));
    y = im.b.add(y, bias);
  }
  im.set_nhwc(y);
}

void pool(Importer& im, bool max) {
  if (im.type(0).shape.rank() != 4)
    im.unsupported(fmt::format("pooling on {} (only 2-D: NCHW inputs)", im.type(0).str()));
  ValueId x = im.nhwc(0);
  Window w = window(im, x, im.attr_ints("kernel_shape"), true);
  if (!max && im.attr_int("count_include_pad", 0) != 0 &&
      std::any_of(w.pads.begin(), w.pads.end(), [](int64_t p) { return p != 0; }))
    im.unsupported("AveragePool with count_include_pad = 1 and padding (the IR averages the "
                   "real elements only)");
  im.set_nhwc(max ? im.b.max_pool2d(x, w.kernel, w.strides, w.pads)
                  : im.b.avg_pool2d(x, w.kernel, w.strides, w.pads));
}
void max_pool(Importer& im) { pool(im, true); }
void average_pool(Importer& im) { pool(im, false); }

void global_pool(Importer& im, bool max) {
  if (im.type(0).shape.rank() != 4)
    im.unsupported(fmt::format("global pooling on {} (only NCHW inputs)", im.type(0).str()));
  ValueId x = im.nhwc(0);
  im.set_nhwc(max ? im.b.reduce_max(x, {1, 2}, true) : im.b.reduce_mean(x, {1, 2}, true));
}
void global_average_pool(Importer& im) { global_pool(im, false); }
void global_max_pool(Importer& im) { global_pool(im, true); }

// Inference form, as Tessera's BatchNormalization layer writes it: y = x·a + c with
// a = scale / sqrt(var + eps), c = B - mean·a.
void batch_norm(Importer& im) {
  if (im.attr_int("training_mode", 0) != 0)
    im.unsupported("training_mode = 1 (import the inference graph)");
  const TensorType t = im.type(0);
  if (t.shape.rank() < 2) im.invalid(fmt::format("input {} has no channel axis", t.str()));
  const int64_t c = t.shape[1];
  const bool nhwc = im.is_nhwc_only(0) || (t.shape.rank() == 4 && im.val(0).nhwc != kNoValue);
  ValueId x = nhwc ? im.nhwc(0) : im.plain(0);
  auto vec = [&](int i) {
    ValueId v = im.plain(i);
    if (im.b.shape(v) != Shape{c})
      im.invalid(fmt::format("input {} must be [{}] (one value per channel), got {}", i, c,
                             im.b.type(v).str()));
    return v;
  };
  ValueId gamma = vec(1), beta = vec(2), mean = vec(3), var = vec(4);
  GraphBuilder& b = im.b;
  ValueId a = b.mul(b.rsqrt(b.add(var, b.scalar(im.attr_float("epsilon", 1e-5f), b.dtype(var)))), gamma);
  ValueId off = b.add(b.neg(b.mul(mean, a)), beta);
  if (!nhwc && t.shape.rank() > 2) {
    Shape s{c};
    for (int k = 2; k < t.shape.rank(); ++k) s.push_back(1);
    a = b.reshape(a, s);
    off = b.reshape(off, s);
  }
  ValueId y = b.add(b.mul(x, a), off);
  nhwc ? im.set_nhwc(y) : im.set_plain(y);
}

}  // namespace

void register_conv_translators(std::map<std::string, Translator>& table) {
  table["Conv"] = conv;
  table["MaxPool"] = max_pool;
  table["AveragePool"] = average_pool;
  table["GlobalAveragePool"] = global_average_pool;
  table["GlobalMaxPool"] = global_max_pool;
  table["BatchNormalization"] = batch_norm;
}

}  // namespace tessera::onnx_io
