// The reference backend: the dispatch from ops to kernels, the Backend itself and the helpers
// the kernels share. Kernels live in ref_*.cpp, one file per op family.
#include "tessera/backends/ref/ref_backend.h"

#include <cstring>

#include "ref_kernels.h"
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace ref {

int64_t wrap_to(DType t, uint64_t v) {
  switch (t.id()) {
    case DTypeId::kI8:
      return static_cast<int8_t>(v);
    case DTypeId::kI32:
      return static_cast<int32_t>(v);
    case DTypeId::kBool:
      return v != 0 ? 1 : 0;
    default:
      return static_cast<int64_t>(v);
  }
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.rank());
  for (int i = shape.rank() - 1; i >= 0; --i) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t flat = 0;
  for (int i = 0; i < shape.rank(); ++i) flat = flat * shape[i] + index[i];
  return flat;
}

BroadcastIndexer::BroadcastIndexer(const Shape& in, const Shape& out)
    : out_(out), in_strides_(out.rank(), 0) {
  int64_t stride = 1;
  for (int i = in.rank() - 1; i >= 0; --i) {
    int o = out.rank() - in.rank() + i;
    in_strides_[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
}

int64_t BroadcastIndexer::operator()(int64_t flat_out) const {
  int64_t flat_in = 0;
  for (int i = out_.rank() - 1; i >= 0; --i) {
    flat_in += (flat_out % out_[i]) * in_strides_[i];
    flat_out /= out_[i];
  }
  return flat_in;
}

std::string index_str(const std::vector<int64_t>& index) {
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", index[i]);
  return s + "]";
}

std::vector<Tensor> contiguous_inputs(const KernelArgs& args) {
  std::vector<Tensor> r;
  for (const Tensor& t : args.inputs) r.push_back(t.contiguous());
  return r;
}

bool output_overlaps_input(const KernelArgs& args) {
  const Tensor& out = args.output;
  const char* ob = static_cast<const char*>(out.raw_data());
  const char* oe = ob + out.nbytes();
  for (const Tensor& in : args.inputs) {
    if (!in.defined() || in.buffer() != out.buffer()) continue;
    const char* ib = static_cast<const char*>(in.raw_data());
    // A strided input may reach anywhere in its buffer: treat any shared buffer as overlap.
    const char* ie = in.is_contiguous() ? ib + in.nbytes() : oe;
    if (!in.is_contiguous()) ib = ob;
    if (ib < oe && ob < ie) return true;
  }
  return false;
}

void copy_over(const Tensor& scratch, Tensor& output) {
  std::memcpy(output.raw_data(), scratch.raw_data(), scratch.nbytes());
}

void fail_at(const KernelArgs& args, const std::string& what, const std::vector<int64_t>& position,
             int64_t value, const std::string& problem) {
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("ref: {}: {} {} at position {}: {}", args.graph.describe(args.id), what,
                          value, index_str(position), problem));
}

namespace {

KernelFn kernel_for(OpKind op) {
  switch (op) {
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
      return nullptr;  // leaves hold values; nothing runs
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kRsqrt:
    case OpKind::kTanh:
    case OpKind::kSigmoid:
    case OpKind::kRelu:
    case OpKind::kGelu:
    case OpKind::kErf:
      return unary_kernel;
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kPow:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
      return binary_kernel;
    case OpKind::kEqual:
    case OpKind::kNotEqual:
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
      return compare_kernel;
    case OpKind::kWhere:
      return where_kernel;
    case OpKind::kCast:
      return cast_kernel;
    case OpKind::kMatMul:
      return matmul_kernel;
    case OpKind::kAttention:
      return attention_kernel;
    case OpKind::kUpdateSlice:
      return update_slice_kernel;
    case OpKind::kDynamicSlice:
      return dynamic_slice_kernel;
    case OpKind::kReduceSum:
    case OpKind::kReduceMean:
    case OpKind::kReduceMax:
      return reduce_kernel;
    case OpKind::kReshape:
      return reshape_kernel;
    case OpKind::kPermute:
      return permute_kernel;
    case OpKind::kBroadcast:
      return broadcast_kernel;
    case OpKind::kSlice:
      return slice_kernel;
    case OpKind::kConcat:
      return concat_kernel;
    case OpKind::kPad:
      return pad_kernel;
    // Convolution and pooling (NHWC)
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      return conv2d_kernel;
    case OpKind::kMaxPool2D:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2D:
    case OpKind::kAvgPool2DGrad:
      return pool2d_kernel;
    case OpKind::kGather:
      return gather_kernel;
    case OpKind::kScatterAdd:
      return scatter_add_kernel;
    case OpKind::kOneHot:
      return one_hot_kernel;
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax:
      return softmax_kernel;
    case OpKind::kCrossEntropy:
      return cross_entropy_kernel;
    case OpKind::kLayerNorm:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput:
      return norm_kernel;
    case OpKind::kRandomUniform:
      return random_uniform_kernel;
    case OpKind::kFusedElementwise:
      return nullptr;  // RefBackend::compile decomposes fused nodes into primitives
  }
  return nullptr;
}

bool is_fused(const Node& n) { return n.op == OpKind::kFusedElementwise; }

class RefBackend final : public Backend {
 public:
  std::string_view name() const override { return "ref"; }

  bool supports(const Graph& g, ValueId id) const override {
    // Fused nodes have no kernel but are supported: compile() expands them.
    return is_fused(g.node(id)) || ref_kernel(g, id) != nullptr;
  }

  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& options) override {
    // The oracle runs every primitive on its own: fused programs are expanded and nothing
    // is fused again, so results never depend on the fusion pass.
    CompileOptions ref_options = options;
    ref_options.fuse_elementwise = false;
    return compile_with_kernels(decompose(g, is_fused), ref_options, ref_kernel, "ref");
  }
};

}  // namespace
}  // namespace ref

std::unique_ptr<Backend> make_ref_backend() { return std::make_unique<ref::RefBackend>(); }

KernelFn ref_kernel(const Graph& g, ValueId id) { return ref::kernel_for(g.node(id).op); }

Tensor ref_evaluate(const Graph& g, ValueId id, std::span<const Tensor> inputs) {
  return evaluate_with_kernels(g, id, inputs, ref_kernel, "ref");
}

}  // namespace tessera
