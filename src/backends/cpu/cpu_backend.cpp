// The cpu backend: kernel lookup (which kernel runs a node, and whether its dtypes are
// supported), run-time choice between AVX2 and scalar kernels, and the Backend object.
#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/core/cpu_features.h"

#include <atomic>

#include "cpu_internal.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

std::atomic<bool> g_force_scalar{false};

bool detect_avx2() { return cpu_features().avx2_fma_f16c; }

bool is_float(DType t) { return t.kind() == DTypeKind::kFloat; }
bool is_numeric(DType t) { return t.kind() == DTypeKind::kFloat || t.kind() == DTypeKind::kInt; }
bool is_index(DType t) { return t.id() == DTypeId::kI32 || t.id() == DTypeId::kI64; }
// Byte-moving kernels handle any element of 1, 2, 4 or 8 bytes (fixed point included).
bool is_movable(DType t) {
  size_t s = t.size();
  return s == 1 || s == 2 || s == 4 || s == 8;
}

bool fused_supported(const Graph& g, const Node& n) {
  if (n.fused == nullptr || n.type.dtype != kF32) return false;
  if (static_cast<int>(n.inputs.size()) != n.fused->num_inputs || n.fused->instrs.empty())
    return false;
  for (ValueId in : n.inputs)
    if (g.type(in).dtype != kF32) return false;
  const cpu::F32Kernels& k = cpu::scalar_f32_kernels();
  int reg = n.fused->num_inputs;
  for (const FusedInstr& ins : n.fused->instrs) {
    bool unary = k.unary[static_cast<int>(ins.op)] != nullptr;
    bool binary = k.binary[static_cast<int>(ins.op)] != nullptr;
    if (!unary && !binary) return false;
    if (ins.a < 0 || ins.a >= reg) return false;
    if (binary && (ins.b < 0 || ins.b >= reg)) return false;
    ++reg;
  }
  return true;
}

KernelFn lookup(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  auto in = [&](size_t i) { return g.type(n.inputs[i]).dtype; };
  switch (n.op) {
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
      return nullptr;
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kRelu:
      return is_numeric(in(0)) ? cpu::unary_kernel : nullptr;
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kRsqrt:
    case OpKind::kTanh:
    case OpKind::kSigmoid:
    case OpKind::kGelu:
    case OpKind::kErf:
      return is_float(in(0)) ? cpu::unary_kernel : nullptr;
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
      return is_numeric(in(0)) && in(0) == in(1) ? cpu::binary_kernel : nullptr;
    case OpKind::kPow:
      return is_float(in(0)) && in(0) == in(1) ? cpu::binary_kernel : nullptr;
    case OpKind::kEqual:
    case OpKind::kNotEqual:
      return (is_numeric(in(0)) || in(0) == kBool) && in(0) == in(1) ? cpu::compare_kernel
                                                                        : nullptr;
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
      return is_numeric(in(0)) && in(0) == in(1) ? cpu::compare_kernel : nullptr;
    case OpKind::kWhere:
      return in(0) == kBool && in(1) == in(2) && is_movable(in(1)) ? cpu::where_kernel
                                                                   : nullptr;
    case OpKind::kCast:
      return cpu::cast_kernel;
    case OpKind::kMatMul:
      return is_float(in(0)) && in(0) == in(1) ? cpu::matmul_kernel : nullptr;
    case OpKind::kAttention:
      return is_float(in(0)) && in(1) == in(0) && in(2) == in(0) &&
                     (n.inputs.size() < 4 || is_index(in(3)))
                 ? cpu::attention_kernel
                 : nullptr;
    case OpKind::kUpdateSlice:
      return is_movable(in(0)) && in(1) == in(0) && is_index(in(2)) ? cpu::update_slice_kernel
                                                                     : nullptr;
    case OpKind::kDynamicSlice:
      return is_movable(in(0)) && is_index(in(1)) ? cpu::dynamic_slice_kernel : nullptr;
    case OpKind::kReduceSum:
    case OpKind::kReduceMax:
      return is_numeric(in(0)) ? cpu::reduce_kernel : nullptr;
    case OpKind::kReduceMean:
      return is_float(in(0)) ? cpu::reduce_kernel : nullptr;
    case OpKind::kReshape:
      return cpu::reshape_kernel;
    case OpKind::kPermute:
      return is_movable(in(0)) ? cpu::permute_kernel : nullptr;
    case OpKind::kBroadcast:
      return is_movable(in(0)) ? cpu::broadcast_kernel : nullptr;
    case OpKind::kSlice:
      return is_movable(in(0)) ? cpu::slice_kernel : nullptr;
    case OpKind::kConcat:
      return is_movable(in(0)) ? cpu::concat_kernel : nullptr;
    case OpKind::kPad:
      return is_movable(in(0)) ? cpu::pad_kernel : nullptr;
    // Convolution and pooling (NHWC)
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      return is_float(in(0)) && in(0) == in(1) ? cpu::conv2d_kernel : nullptr;
    case OpKind::kMaxPool2DGrad:
      return is_float(in(0)) && in(0) == in(1) ? cpu::pool2d_kernel : nullptr;
    case OpKind::kMaxPool2D:
    case OpKind::kAvgPool2D:
    case OpKind::kAvgPool2DGrad:
      return is_float(in(0)) ? cpu::pool2d_kernel : nullptr;
    case OpKind::kGather:
      return is_movable(in(0)) && is_index(in(1)) ? cpu::gather_kernel : nullptr;
    case OpKind::kScatterAdd:
      return is_numeric(in(0)) && is_index(in(1)) ? cpu::scatter_add_kernel : nullptr;
    case OpKind::kOneHot:
      return is_index(in(0)) && is_movable(n.type.dtype) ? cpu::one_hot_kernel : nullptr;
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax:
      return is_float(in(0)) ? cpu::softmax_kernel : nullptr;
    case OpKind::kCrossEntropy:
      return is_float(in(0)) && is_index(in(1)) ? cpu::cross_entropy_kernel : nullptr;
    case OpKind::kLayerNorm:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput: {
      bool same = true;
      for (size_t i = 1; i < n.inputs.size(); ++i) same = same && in(i) == in(0);
      return is_float(in(0)) && same ? cpu::norm_kernel : nullptr;
    }
    case OpKind::kRandomUniform:
      return in(0) == kI64 && n.type.dtype == kF32 ? cpu::random_uniform_kernel : nullptr;
    case OpKind::kFusedElementwise:
      return fused_supported(g, n) ? cpu::fused_kernel : nullptr;
  }
  return nullptr;
}

class CpuBackend final : public Backend {
 public:
  std::string_view name() const override { return "cpu"; }
  bool supports(const Graph& g, ValueId id) const override { return cpu_kernel(g, id) != nullptr; }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return compile_with_kernels(g, o, cpu_kernel, "cpu");
  }
};

}  // namespace

namespace cpu {
const F32Kernels& f32_kernels() {
  return cpu_has_avx2() && !g_force_scalar.load(std::memory_order_relaxed) ? avx2_f32_kernels()
                                                                           : scalar_f32_kernels();
}
}  // namespace cpu

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

KernelFn cpu_kernel(const Graph& g, ValueId id) {
  if (id < 0 || id >= g.size()) return nullptr;
  return lookup(g, id);
}

bool cpu_has_avx2() {
  static const bool has = detect_avx2();
  return has;
}

bool cpu_force_scalar(bool force) { return g_force_scalar.exchange(force); }

}  // namespace tessera
