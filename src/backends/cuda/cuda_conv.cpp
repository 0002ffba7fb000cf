// conv2d and its two backprops on cuDNN. Activations are NHWC, as cuDNN's NHWC tensor
// format; the IR's HWIO filter [KH, KW, C/g, OC] is not a cuDNN filter layout, so it is
// permuted to KRSC ([OC, KH, KW, C/g], cuDNN's NHWC filter format) in scratch memory before
// the call, and backprop_filter's KRSC result is permuted back. cuDNN pads symmetrically;
// asymmetric pads (Keras "same" with an even total) go through an explicitly padded copy of
// the input (or a padded gradient, sliced afterwards). Algorithms are chosen once, at
// compile time, from cuDNN's heuristics, preferring deterministic ones.
#include <algorithm>
#include <optional>
#include <utility>

#include "cuda_common.h"
#include "tessera/ir/conv_geometry.h"

namespace tessera::cuda {
namespace {

constexpr size_t kMaxWorkspace = size_t{512} << 20;
constexpr size_t kAlign = 256;

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

cudnnDataType_t cudnn_type(DType t) {
  return t == kF32 ? CUDNN_DATA_FLOAT : t == kBF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
}

// Descriptors owned for the executable's lifetime (the closure holds them).
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ~Descriptors() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

// A 4-D permutation copy of a contiguous tensor: out dims[i] = in dims[perm[i]].
CopyDesc permute4(const int64_t in_dims[4], const int perm[4]) {
  CopyDesc d;
  d.rank = 4;
  int64_t in_strides[4];
  in_strides[3] = 1;
  for (int i = 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * in_dims[i + 1];
  int64_t out_dims[4];
  for (int i = 0; i < 4; ++i) out_dims[i] = in_dims[perm[i]];
  int64_t out_strides[4];
  out_strides[3] = 1;
  for (int i = 2; i >= 0; --i) out_strides[i] = out_strides[i + 1] * out_dims[i + 1];
  d.numel = 1;
  for (int i = 0; i < 4; ++i) {
    d.dims[i] = out_dims[i];
    d.in_strides[i] = in_strides[perm[i]];
    d.out_strides[i] = out_strides[i];
    d.numel *= out_dims[i];
  }
  return d;
}

// A copy between an [N, H, W, C] tensor and the window [top, left] of a larger
// [N, Hp, Wp, C] one: into the window (pad) or out of it (slice).
CopyDesc window_copy(int64_t n, int64_t h, int64_t w, int64_t ch, int64_t hp, int64_t wp,
                     int64_t top, int64_t left, bool into) {
  CopyDesc d;
  d.rank = 4;
  d.numel = n * h * w * ch;
  const int64_t small[4] = {h * w * ch, w * ch, ch, 1};
  const int64_t big[4] = {hp * wp * ch, wp * ch, ch, 1};
  const int64_t dims[4] = {n, h, w, ch};
  for (int i = 0; i < 4; ++i) {
    d.dims[i] = dims[i];
    d.in_strides[i] = into ? small[i] : big[i];
    d.out_strides[i] = into ? big[i] : small[i];
  }
  (into ? d.out_offset : d.in_offset) = top * big[1] + left * big[2];
  return d;
}

// The algorithm to run and its workspace: the first usable one in cuDNN's order,
// deterministic ones first. The _v7 heuristics list algorithms under either math type
// (perf.mathType), and perf.memory is for that math type, but the call runs with the
// descriptor's: each candidate's workspace is asked for again with our descriptors, which
// also rejects an algorithm the descriptor's math type does not support.
template <typename Perf, typename Workspace>
std::optional<std::pair<decltype(Perf::algo), size_t>> pick(const Perf* perf, int count,
                                                            Workspace&& workspace) {
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < count; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      if ((perf[i].determinism == CUDNN_DETERMINISTIC) != (pass == 0)) continue;
      size_t bytes = 0;
      if (workspace(perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspace)
        continue;
      return std::pair{perf[i].algo, bytes};
    }
  }
  return std::nullopt;
}

}  // namespace

bool conv_supported(const Graph& g, ValueId id, int compute_major) {
  const Node& n = g.node(id);
  const DType a = g.type(n.inputs[0]).dtype, b = g.type(n.inputs[1]).dtype;
  if (a != b || (a != kF32 && a != kBF16 && a != kF16)) return false;
  if (a == kBF16 && compute_major != 0 && compute_major < 8) return false;
  try {
    Conv2DGeometry geo = conv_geometry(g, n);
    const int64_t limit = INT32_MAX;
    for (int64_t v : {geo.batch, geo.in_h + geo.pad_top + geo.pad_bottom,
                      geo.in_w + geo.pad_left + geo.pad_right, geo.in_c, geo.out_c})
      if (v <= 0 || v > limit) return false;
  } catch (const Error&) {
    return false;
  }
  return true;
}

Lowered lower_conv(LowerContext& c, ValueId id) {
  const Graph& g = c.graph;
  const Node& n = g.node(id);
  const std::string where = g.describe(id);
  const Conv2DGeometry geo = conv_geometry(g, n);
  const DType t = n.type.dtype;
  const size_t es = t.size();
  const bool asym = geo.pad_top != geo.pad_bottom || geo.pad_left != geo.pad_right;
  const int64_t hp = geo.in_h + (asym ? geo.pad_top + geo.pad_bottom : 0);
  const int64_t wp = geo.in_w + (asym ? geo.pad_left + geo.pad_right : 0);
  const int cg = static_cast<int>(geo.in_c_per_group());

  auto d = std::make_shared<Descriptors>();
  auto ok = [&](cudnnStatus_t s, const char* call) { check_cudnn(s, call, where); };
  ok(cudnnCreateTensorDescriptor(&d->x), "cudnnCreateTensorDescriptor");
  ok(cudnnCreateTensorDescriptor(&d->y), "cudnnCreateTensorDescriptor");
  ok(cudnnCreateFilterDescriptor(&d->w), "cudnnCreateFilterDescriptor");
  ok(cudnnCreateConvolutionDescriptor(&d->conv), "cudnnCreateConvolutionDescriptor");
  const cudnnDataType_t type = cudnn_type(t);
  ok(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NHWC, type, static_cast<int>(geo.batch),
                                static_cast<int>(geo.in_c), static_cast<int>(hp),
                                static_cast<int>(wp)),
     "cudnnSetTensor4dDescriptor(x)");
  ok(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NHWC, type, static_cast<int>(geo.batch),
                                static_cast<int>(geo.out_c), static_cast<int>(geo.out_h),
                                static_cast<int>(geo.out_w)),
     "cudnnSetTensor4dDescriptor(y)");
  ok(cudnnSetFilter4dDescriptor(d->w, type, CUDNN_TENSOR_NHWC, static_cast<int>(geo.out_c), cg,
                                static_cast<int>(geo.kernel_h), static_cast<int>(geo.kernel_w)),
     "cudnnSetFilter4dDescriptor");
  ok(cudnnSetConvolution2dDescriptor(
         d->conv, asym ? 0 : static_cast<int>(geo.pad_top),
         asym ? 0 : static_cast<int>(geo.pad_left), static_cast<int>(geo.stride_h),
         static_cast<int>(geo.stride_w), static_cast<int>(geo.dilation_h),
         static_cast<int>(geo.dilation_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
     "cudnnSetConvolution2dDescriptor");
  ok(cudnnSetConvolutionGroupCount(d->conv, static_cast<int>(geo.groups)),
     "cudnnSetConvolutionGroupCount");
  // Exact f32 unless the matmul option allows tensor-core arithmetic; 16-bit types use
  // tensor cores (they accumulate in f32 either way).
  const cudnnMathType_t math = t != kF32                   ? CUDNN_TENSOR_OP_MATH
                               : c.options.matmul == "f32" ? CUDNN_FMA_MATH
                                                           : CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  ok(cudnnSetConvolutionMathType(d->conv, math), "cudnnSetConvolutionMathType");

  // Scratch layout: [filter in KRSC][padded activation or gradient][cuDNN workspace].
  const size_t filter_bytes =
      static_cast<size_t>(geo.kernel_h * geo.kernel_w * cg * geo.out_c) * es;
  const size_t padded_bytes = asym ? static_cast<size_t>(geo.batch * hp * wp * geo.in_c) * es : 0;
  const size_t off_padded = align_up(filter_bytes);
  const size_t off_work = off_padded + align_up(padded_bytes);

  const int64_t hwio[4] = {geo.kernel_h, geo.kernel_w, cg, geo.out_c};
  const int to_krsc[4] = {3, 0, 1, 2};
  const CopyDesc filter_to_krsc = permute4(hwio, to_krsc);
  const int64_t krsc[4] = {geo.out_c, geo.kernel_h, geo.kernel_w, cg};
  const int to_hwio[4] = {1, 2, 3, 0};
  const CopyDesc filter_to_hwio = permute4(krsc, to_hwio);
  const CopyDesc pad_in =
      window_copy(geo.batch, geo.in_h, geo.in_w, geo.in_c, hp, wp, geo.pad_top, geo.pad_left, true);
  const CopyDesc slice_out = window_copy(geo.batch, geo.in_h, geo.in_w, geo.in_c, hp, wp,
                                         geo.pad_top, geo.pad_left, false);
  const int ies = static_cast<int>(es);
  cudnnHandle_t h = c.cudnn;
  const void* in0 = c.ptr[n.inputs[0]];
  const void* in1 = c.ptr[n.inputs[1]];
  void* y = c.ptr[id];
  const size_t padded_elems = padded_bytes / es;
  // x with its asymmetric padding made explicit in scratch (cuDNN pads symmetrically), or x.
  const auto input_of = [=](char* s, cudaStream_t stream) -> const void* {
    if (!asym) return in0;
    launch_fill(ies, s + off_padded, static_cast<int64_t>(padded_elems), 0, stream);
    launch_copy(ies, pad_in, in0, s + off_padded, stream);
    return s + off_padded;
  };
  const float one = 1.f, zero = 0.f;
  constexpr int kRequest = 8;
  int returned = 0;

  if (n.op == OpKind::kConv2D) {
    cudnnConvolutionFwdAlgoPerf_t perf[kRequest];
    ok(cudnnGetConvolutionForwardAlgorithm_v7(h, d->x, d->w, d->conv, d->y, kRequest, &returned,
                                              perf),
       "cudnnGetConvolutionForwardAlgorithm_v7");
    const auto best = pick(perf, returned, [&](cudnnConvolutionFwdAlgo_t a, size_t* bytes) {
      return cudnnGetConvolutionForwardWorkspaceSize(h, d->x, d->w, d->conv, d->y, a, bytes);
    });
    TS_CHECK(best.has_value(), ErrorKind::kUnsupported,
             "cuda: cuDNN has no forward convolution algorithm for {}", where);
    const auto algo = best->first;
    const size_t work = best->second;
    return {"cudnn convolution forward",
            [=](const LaunchEnv& e) {
              char* s = static_cast<char*>(e.scratch);
              launch_copy(ies, filter_to_krsc, in1, s, e.stream);
              const void* x = input_of(s, e.stream);
              check_launch("conv2d layout copies", where);
              check_cudnn(cudnnConvolutionForward(h, &one, d->x, x, d->w, s, d->conv, algo,
                                                  s + off_work, work, &zero, d->y, y),
                          "cudnnConvolutionForward", where);
            },
            off_work + work};
  }
  if (n.op == OpKind::kConv2DBackpropInput) {
    // dy = in0, w = in1 -> dx (or a padded dx in scratch, sliced).
    cudnnConvolutionBwdDataAlgoPerf_t perf[kRequest];
    ok(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d->w, d->y, d->conv, d->x, kRequest,
                                                   &returned, perf),
       "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    const auto best = pick(perf, returned, [&](cudnnConvolutionBwdDataAlgo_t a, size_t* bytes) {
      return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d->w, d->y, d->conv, d->x, a, bytes);
    });
    TS_CHECK(best.has_value(), ErrorKind::kUnsupported,
             "cuda: cuDNN has no backward-data convolution algorithm for {}", where);
    const auto algo = best->first;
    const size_t work = best->second;
    return {"cudnn convolution backward data",
            [=](const LaunchEnv& e) {
              char* s = static_cast<char*>(e.scratch);
              launch_copy(ies, filter_to_krsc, in1, s, e.stream);
              check_launch("conv2d layout copies", where);
              void* dx = asym ? static_cast<void*>(s + off_padded) : y;
              check_cudnn(cudnnConvolutionBackwardData(h, &one, d->w, s, d->y, in0, d->conv, algo,
                                                       s + off_work, work, &zero, d->x, dx),
                          "cudnnConvolutionBackwardData", where);
              if (asym) {
                launch_copy(ies, slice_out, s + off_padded, y, e.stream);
                check_launch("conv2d layout copies", where);
              }
            },
            off_work + work};
  }
  // Backprop filter: x = in0, dy = in1 -> dw (KRSC in scratch, permuted to HWIO).
  cudnnConvolutionBwdFilterAlgoPerf_t perf[kRequest];
  ok(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d->x, d->y, d->conv, d->w, kRequest,
                                                   &returned, perf),
     "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  const auto best = pick(perf, returned, [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d->x, d->y, d->conv, d->w, a, bytes);
  });
  TS_CHECK(best.has_value(), ErrorKind::kUnsupported,
           "cuda: cuDNN has no backward-filter convolution algorithm for {}", where);
  const auto algo = best->first;
  const size_t work = best->second;
  return {"cudnn convolution backward filter",
          [=](const LaunchEnv& e) {
            char* s = static_cast<char*>(e.scratch);
            const void* x = input_of(s, e.stream);
            if (asym) check_launch("conv2d layout copies", where);
            check_cudnn(cudnnConvolutionBackwardFilter(h, &one, d->x, x, d->y, in1, d->conv, algo,
                                                       s + off_work, work, &zero, d->w, s),
                        "cudnnConvolutionBackwardFilter", where);
            launch_copy(ies, filter_to_hwio, s, y, e.stream);
            check_launch("conv2d layout copies", where);
          },
          off_work + work};
}

}  // namespace tessera::cuda
