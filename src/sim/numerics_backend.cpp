// The numerics backend: matmul and conv2d kernels in bf16 or int8 (numerics.h), run by the
// shared node-by-node executable. The kernels are plain functions, so compile() writes the
// target's numerics onto each node it runs (kModeAttr and friends) and the kernels read
// them there, next to the calibrated scales.
//
// Each kernel prepares its operands once per run (bf16 rounding, or int8 quantization and
// widening to floats holding the integers), brings them to row-major [M, K] x [K, N] form
// and calls the GEMM engine (numerics_internal.h); conv2d goes through im2col, per group,
// in chunks of output pixels. The k order of conv2d is the HWIO filter's: (kh, kw, c).
#include "tessera/sim/numerics_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "numerics_internal.h"
#include "tessera/backends/kernel_executable.h"
#include "tessera/core/error.h"
#include "tessera/ir/conv_geometry.h"

namespace tessera::sim {
namespace {

constexpr const char* kModeAttr = "numerics_mode";  // "bf16" or "int8"
constexpr const char* kFoldAttr = "numerics_fold_rows";
constexpr const char* kPerChannelAttr = "numerics_per_channel";

int64_t depth_of(const Graph& g, const Node& n) {
  if (n.op == OpKind::kConv2D) return conv_geometry(g, n).patch_size();
  const Shape& as = g.type(n.inputs[0]).shape;
  const bool tr_a = n.attrs.get_int_or("transpose_a", 0) != 0;
  return as[as.rank() - (tr_a ? 2 : 1)];
}

// --- Operand preparation --------------------------------------------------------------

// An operand ready for the engine: bf16 values, or int8 integers held in floats with one
// scale per channel of the output (all equal for a per-tensor scale).
struct Operand {
  std::vector<float> values;
  std::vector<float> scales;
};

Operand round_operand(const Tensor& t) {
  Operand op;
  op.values.resize(static_cast<size_t>(t.numel()));
  round_to_bf16(t.data<float>(), op.values.data(), t.numel());
  return op;
}

// `t` (operand `index` of the node) viewed as [outer, channels, inner]; `channels` is the
// output axis it feeds. A weight gets per-channel scales when the node asks for them, any
// other operand its calibrated per-tensor scale.
Operand quantize_operand(const KernelArgs& args, int index, int64_t outer, int64_t channels,
                         int64_t inner) {
  const Tensor& t = args.inputs[static_cast<size_t>(index)];
  const float* x = t.data<float>();
  const ValueId in = args.node.inputs[static_cast<size_t>(index)];
  Operand op;
  op.scales.resize(static_cast<size_t>(channels));
  if (is_weight_operand(args.graph, in)) {
    const bool per_channel = args.node.attrs.get_int_or(kPerChannelAttr, 1) != 0;
    std::vector<float> peak(static_cast<size_t>(channels), 0.0f);
    bool nan = false;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        const float* row = x + (o * channels + c) * inner;
        float& p = peak[static_cast<size_t>(c)];
        for (int64_t i = 0; i < inner; ++i) {
          p = std::max(p, std::fabs(row[i]));
          nan |= std::isnan(row[i]);
        }
      }
    const std::string what =
        fmt::format("{}: weight '{}'", args.graph.describe(args.id), args.graph.node(in).name);
    TS_CHECK(!nan, ErrorKind::kInvalidArgument, "{} holds NaN; int8 needs finite weights", what);
    if (!per_channel) {
      const float all = *std::max_element(peak.begin(), peak.end());
      std::fill(peak.begin(), peak.end(), all);
    }
    for (int64_t c = 0; c < channels; ++c)
      op.scales[static_cast<size_t>(c)] = int8_scale(peak[static_cast<size_t>(c)], what);
  } else {
    const auto s = static_cast<float>(args.node.attrs.get_float(kScaleAttrs[index]));
    std::fill(op.scales.begin(), op.scales.end(), s);
  }
  std::vector<int8_t> q(static_cast<size_t>(t.numel()));
  quantize_int8_per_channel(x, outer, channels, inner, op.scales.data(), q.data());
  op.values.assign(q.begin(), q.end());
  return op;
}

// Row-major [rows, cols] copy of a [cols, rows] matrix.
void transpose_into(const float* src, int64_t rows, int64_t cols, std::vector<float>& dst) {
  dst.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[static_cast<size_t>(r * cols + c)] = src[c * rows + r];
}

// Element offset of the matrix that operand shape `s` (rank >= 2, broadcast against the
// output's batch dimensions) contributes to output batch entry `b`.
int64_t matrix_offset(const Shape& out, const Shape& s, int64_t b) {
  const int ro = out.rank() - 2, rs = s.rank() - 2;
  int64_t offset = 0, stride = s[rs] * s[rs + 1];
  for (int i = ro - 1; i >= 0; --i) {
    const int64_t idx = b % out[i];
    b /= out[i];
    const int j = i - (ro - rs);
    if (j < 0) continue;
    if (s[j] != 1) offset += idx * stride;
    stride *= s[j];
  }
  return offset;
}

bool is_int8(const Node& n) { return n.attrs.get_string(kModeAttr) == "int8"; }

// Runs op(A) [M, K] x op(B) [K, N] into c in the node's numerics.
void run_engine(const Node& n, int64_t m, int64_t nn, int64_t k, const float* a, int64_t lda,
                const float* b, int64_t ldb, const float* scale_a, const float* scale_b, float* c,
                int64_t ldc) {
  if (is_int8(n)) {
    detail::gemm_int_in_f32(m, nn, k, a, lda, b, ldb, scale_a, scale_b, c, ldc);
  } else {
    const int64_t fold = n.attrs.get_int_or(kFoldAttr, 0);
    detail::gemm_blocked_f32(m, nn, k, a, lda, b, ldb, c, ldc, fold > 0 ? fold : k);
  }
}

// --- Kernels --------------------------------------------------------------------------

void matmul_kernel(const KernelArgs& args) {
  const Tensor& ta = args.inputs[0];
  const Tensor& tb = args.inputs[1];
  const Shape& as = ta.shape();
  const Shape& bs = tb.shape();
  const Shape& os = args.output.shape();
  const bool tr_a = args.node.attrs.get_int_or("transpose_a", 0) != 0;
  const bool tr_b = args.node.attrs.get_int_or("transpose_b", 0) != 0;
  const int64_t M = os[os.rank() - 2], N = os[os.rank() - 1];
  const int64_t K = as[as.rank() - (tr_a ? 2 : 1)];
  const int64_t out_n = args.output.numel();
  if (out_n == 0) return;
  const int64_t batch_a = M * K == 0 ? 0 : ta.numel() / (M * K);
  const int64_t batch_b = K * N == 0 ? 0 : tb.numel() / (K * N);

  Operand a, b;
  if (is_int8(args.node)) {
    // The output channel of A is M (its rows), of B is N (its columns).
    a = tr_a ? quantize_operand(args, 0, batch_a * K, M, 1)
             : quantize_operand(args, 0, batch_a, M, K);
    b = tr_b ? quantize_operand(args, 1, batch_b, N, K)
             : quantize_operand(args, 1, batch_b * K, N, 1);
  } else {
    a = round_operand(ta);
    b = round_operand(tb);
  }
  std::vector<float> a_t, b_t;
  float* c = args.output.data<float>();
  for (int64_t batch = 0; batch < out_n / (M * N); ++batch) {
    const float* pa = a.values.data() + matrix_offset(os, as, batch);
    const float* pb = b.values.data() + matrix_offset(os, bs, batch);
    if (tr_a) {
      transpose_into(pa, M, K, a_t);
      pa = a_t.data();
    }
    if (tr_b) {
      transpose_into(pb, K, N, b_t);
      pb = b_t.data();
    }
    run_engine(args.node, M, N, K, pa, K, pb, N, a.scales.data(), b.scales.data(),
               c + batch * M * N, N);
  }
}

void conv2d_kernel(const KernelArgs& args) {
  const Conv2DGeometry geo = conv_geometry(args.graph, args.node);
  const Tensor& tx = args.inputs[0];
  const Tensor& tw = args.inputs[1];
  const int64_t P = geo.patch_size(), cg = geo.in_c_per_group(), ocg = geo.out_c_per_group();
  const int64_t rows = geo.batch * geo.out_pixels(), oc = geo.out_c;
  if (rows * oc == 0) return;

  Operand x, w;
  if (is_int8(args.node)) {
    x = quantize_operand(args, 0, 1, 1, tx.numel());  // activations: one scale
    w = quantize_operand(args, 1, P, oc, 1);          // HWIO: the output channel is last
  } else {
    x = round_operand(tx);
    w = round_operand(tw);
  }
  // im2col in chunks of output pixels (about 16 MiB each).
  const int64_t chunk = std::clamp<int64_t>((int64_t{1} << 22) / std::max<int64_t>(P, 1), 1, rows);
  std::vector<float> col(static_cast<size_t>(chunk * P));
  const std::vector<float> scale_a(static_cast<size_t>(chunk),
                                   x.scales.empty() ? 1.0f : x.scales[0]);
  float* y = args.output.data<float>();
  const float* fx = x.values.data();
  for (int64_t g = 0; g < geo.groups; ++g) {
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t rc = std::min(chunk, rows - r0);
      for (int64_t r = 0; r < rc; ++r) {
        const int64_t pix = (r0 + r) % geo.out_pixels(), n = (r0 + r) / geo.out_pixels();
        const int64_t oh = pix / geo.out_w, ow = pix % geo.out_w;
        for (int64_t i = 0; i < geo.kernel_h; ++i)
          for (int64_t j = 0; j < geo.kernel_w; ++j) {
            float* dst = col.data() + r * P + (i * geo.kernel_w + j) * cg;
            const int64_t ih = oh * geo.stride_h - geo.pad_top + i * geo.dilation_h;
            const int64_t iw = ow * geo.stride_w - geo.pad_left + j * geo.dilation_w;
            if (ih < 0 || ih >= geo.in_h || iw < 0 || iw >= geo.in_w) {
              std::fill(dst, dst + cg, 0.0f);
              continue;
            }
            const float* src = fx + ((n * geo.in_h + ih) * geo.in_w + iw) * geo.in_c + g * cg;
            std::copy(src, src + cg, dst);
          }
      }
      run_engine(args.node, rc, ocg, P, col.data(), P, w.values.data() + g * ocg, oc,
                 scale_a.data(), w.scales.empty() ? nullptr : w.scales.data() + g * ocg,
                 y + r0 * oc + g * ocg, oc);
    }
  }
}

KernelFn numerics_kernel(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  if (!is_matrix_unit_node(g, id) || !n.attrs.has(kModeAttr)) return nullptr;
  return n.op == OpKind::kMatMul ? matmul_kernel : conv2d_kernel;
}

class NumericsBackend final : public Backend {
 public:
  explicit NumericsBackend(const TargetNumerics& t)
      : numerics_(t), name_(t.mode == NumericsMode::kInt8 ? "numerics-int8" : "numerics-bf16") {}

  std::string_view name() const override { return name_; }

  bool supports(const Graph& g, ValueId id) const override {
    return is_matrix_unit_node(g, id) && numerics_unsupported_reason(g, id, numerics_).empty();
  }

  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& options) override {
    Graph work = g;
    for (ValueId id = 0; id < work.size(); ++id) {
      if (!is_matrix_unit_node(work, id)) continue;
      std::string why = numerics_unsupported_reason(work, id, numerics_);
      TS_CHECK(why.empty(), ErrorKind::kUnsupported, "backend '{}' cannot run {}: {}", name_,
               work.describe(id), why);
      Attrs& a = work.mutable_node(id).attrs;
      a.set(kModeAttr, std::string(numerics_.mode == NumericsMode::kInt8 ? "int8" : "bf16"));
      a.set(kFoldAttr, numerics_.fold_rows);
      a.set(kPerChannelAttr, int64_t{numerics_.per_channel ? 1 : 0});
    }
    return compile_with_kernels(work, options, numerics_kernel, name_);
  }

 private:
  TargetNumerics numerics_;
  std::string name_;
};

}  // namespace

bool is_matrix_unit_node(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  if (n.op != OpKind::kMatMul && n.op != OpKind::kConv2D) return false;
  if (n.type.dtype != kF32) return false;
  for (ValueId in : n.inputs)
    if (g.type(in).dtype != kF32) return false;
  return true;
}

bool is_weight_operand(const Graph& g, ValueId in) {
  const OpKind op = g.node(in).op;
  return op == OpKind::kParameter || op == OpKind::kConstant;
}

std::string numerics_unsupported_reason(const Graph& g, ValueId id, const TargetNumerics& t) {
  if (t.mode != NumericsMode::kInt8) return "";
  const Node& n = g.node(id);
  const int64_t depth = depth_of(g, n);
  if (depth > kInt8MaxDepth)
    return fmt::format("its depth K = {} exceeds {}, where the int32 accumulator could overflow",
                       depth, kInt8MaxDepth);
  for (size_t i = 0; i < 2 && i < n.inputs.size(); ++i)
    if (!is_weight_operand(g, n.inputs[i]) && !n.attrs.has(kScaleAttrs[i]))
      return fmt::format("operand {} ('{}') has no calibrated int8 scale (calibrate first)", i,
                         g.node(n.inputs[i]).name);
  return "";
}

std::shared_ptr<Backend> make_numerics_backend(const TargetNumerics& numerics) {
  TS_CHECK(numerics.mode != NumericsMode::kF32, ErrorKind::kInvalidArgument,
           "f32 numerics run on the cpu backend; no numerics backend is needed");
  TS_CHECK(numerics.fold_rows >= 0, ErrorKind::kInvalidArgument,
           "numerics: fold_rows must be >= 0, got {}", numerics.fold_rows);
  return std::make_shared<NumericsBackend>(numerics);
}

}  // namespace tessera::sim
