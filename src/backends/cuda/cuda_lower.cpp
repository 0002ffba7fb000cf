// Which nodes the cuda backend runs (cuda_supports) and how: each supported node becomes a
// closure over its operands' device pointers and a kernel descriptor built here once, at
// compile time, so a run only enqueues launches. Matmul and convolution live in
// cuda_blas.cpp and cuda_conv.cpp.
#include <algorithm>
#include <cstring>

#include "cuda_common.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"

namespace tessera::cuda {
namespace {

bool is_float(DType t) { return t == kF32 || t == kBF16 || t == kF16; }
bool is_int(DType t) { return t == kI32 || t == kI64; }
bool is_index(DType t) { return t == kI32 || t == kI64; }
bool is_movable(DType t) {
  size_t s = t.size();
  return s == 1 || s == 2 || s == 4 || s == 8;
}
// The elementwise classes of the op table; the device's unary and binary kernels cover each.
bool is_unary_float(OpKind op) { return op_info(op).op_class == OpClass::kUnary; }
bool is_binary_float(OpKind op) { return op_info(op).op_class == OpClass::kBinary; }

// Every shape of the node fits the kernels' fixed rank.
bool ranks_fit(const Graph& g, const Node& n) {
  if (n.type.shape.rank() > kMaxDims) return false;
  for (ValueId in : n.inputs)
    if (g.type(in).shape.rank() > kMaxDims) return false;
  return true;
}

// Slot allocation of a fused program (registers are single-assignment; a register's slot is
// free after its last reader). Returns the device program and the slot count, or nothing
// when more than kMaxFusedSlots would be live at once.
struct SlotProgram {
  std::vector<FusedDevInstr> instrs;
  int slots = 0;
};
std::optional<SlotProgram> allocate_slots(const FusedProgram& p) {
  const int nr = p.num_registers();
  std::vector<int> last_use(nr, -1);
  for (size_t j = 0; j < p.instrs.size(); ++j) {
    last_use[p.instrs[j].a] = static_cast<int>(j);
    if (p.instrs[j].b >= 0) last_use[p.instrs[j].b] = static_cast<int>(j);
  }
  std::vector<int> slot(nr, -1);
  std::vector<int> free_slots;
  SlotProgram r;
  r.slots = p.num_inputs;
  for (int k = 0; k < p.num_inputs; ++k) slot[k] = k;
  for (size_t j = 0; j < p.instrs.size(); ++j) {
    const FusedInstr& ins = p.instrs[j];
    FusedDevInstr d{static_cast<int32_t>(ins.op), slot[ins.a], ins.b >= 0 ? slot[ins.b] : -1, -1};
    // Operands read before the result is written: their slots may take the result.
    auto release = [&](int reg) {
      if (reg >= 0 && last_use[reg] == static_cast<int>(j) && slot[reg] >= 0) {
        free_slots.push_back(slot[reg]);
        slot[reg] = -1;
      }
    };
    release(ins.a);
    if (ins.b != ins.a) release(ins.b);
    const int reg = p.num_inputs + static_cast<int>(j);
    if (!free_slots.empty()) {
      std::sort(free_slots.begin(), free_slots.end(), std::greater<>());
      slot[reg] = free_slots.back();
      free_slots.pop_back();
    } else {
      slot[reg] = r.slots++;
    }
    d.dst = slot[reg];
    r.instrs.push_back(d);
  }
  if (r.slots > kMaxFusedSlots) return std::nullopt;
  return r;
}

bool fused_supported(const Graph& g, const Node& n) {
  if (n.fused == nullptr || n.type.dtype != kF32 || n.fused->instrs.empty()) return false;
  if (static_cast<int>(n.inputs.size()) != n.fused->num_inputs ||
      n.fused->num_inputs > kMaxFusedOperands)
    return false;
  for (ValueId in : n.inputs)
    if (g.type(in).dtype != kF32) return false;
  int reg = n.fused->num_inputs;
  for (const FusedInstr& ins : n.fused->instrs) {
    const bool unary = is_unary_float(ins.op), binary = is_binary_float(ins.op);
    if (!unary && !binary) return false;
    if (ins.a < 0 || ins.a >= reg || (binary && (ins.b < 0 || ins.b >= reg))) return false;
    if (unary && ins.b >= 0) return false;
    ++reg;
  }
  return allocate_slots(*n.fused).has_value();
}

// ---- descriptors --------------------------------------------------------------------------

// Broadcast strides of `in` over `out` (numpy: right-aligned, size-1 dims stretch).
void broadcast_strides(const Shape& in, const Shape& out, int64_t* strides) {
  Shape cs = contiguous_strides(in);
  for (int i = 0; i < out.rank(); ++i) {
    const int j = in.rank() - out.rank() + i;
    strides[i] = j >= 0 && in[j] != 1 ? cs[j] : 0;
  }
}

ElemDesc elem_desc(const Graph& g, const Node& n, const std::vector<ValueId>& operands) {
  ElemDesc d;
  const Shape& out = n.type.shape;
  d.rank = out.rank();
  d.numel = out.numel();
  d.num_operands = static_cast<int32_t>(operands.size());
  for (int i = 0; i < out.rank(); ++i) d.dims[i] = out[i];
  d.contiguous = true;
  for (size_t k = 0; k < operands.size(); ++k) {
    const Shape& s = g.type(operands[k]).shape;
    if (s != out) d.contiguous = false;
    broadcast_strides(s, out, d.strides[k]);
  }
  return d;
}

std::string where_of(const Graph& g, ValueId id) { return g.describe(id); }

DevType dt(DType t) {
  std::optional<DevType> d = dev_type(t);
  TS_ASSERT(d.has_value());
  return *d;
}

// Wraps a launch so that a failed launch names the kernel and the node.
Lowered make(const Graph& g, ValueId id, std::string kernel,
             std::function<void(const LaunchEnv&)> body, size_t scratch = 0) {
  std::string where = where_of(g, id);
  std::string k = kernel;
  return {
      std::move(kernel),
      [body = std::move(body), where = std::move(where), k = std::move(k)](const LaunchEnv& env) {
        body(env);
        check_launch(k, where);
      },
      scratch};
}

Lowered device_copy(const Graph& g, ValueId id, const void* src, void* dst, size_t bytes) {
  return make(g, id, "copy", [src, dst, bytes](const LaunchEnv& env) {
    if (src != dst && bytes > 0)
      check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, env.stream),
                 "cudaMemcpyAsync", "a device copy");
  });
}

}  // namespace

bool cuda_supports(const Graph& g, ValueId id, int compute_major) {
  const Node& n = g.node(id);
  if (op_info(n.op).op_class == OpClass::kLeaf) return false;
  if (!n.type.shape.is_static() || !ranks_fit(g, n)) return false;
  auto in = [&](size_t i) { return g.type(n.inputs[i]).dtype; };
  const DType out = n.type.dtype;
  switch (n.op) {
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
      return false;
    case OpKind::kNeg:
    case OpKind::kAbs:
    case OpKind::kRelu:
      return is_float(in(0)) || is_int(in(0));
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kRsqrt:
    case OpKind::kTanh:
    case OpKind::kSigmoid:
    case OpKind::kGelu:
    case OpKind::kErf:
      return is_float(in(0));
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
      return (is_float(in(0)) || is_int(in(0))) && in(0) == in(1);
    case OpKind::kDiv:  // integer division reports division by zero: left to the cpu
    case OpKind::kPow:
      return is_float(in(0)) && in(0) == in(1);
    case OpKind::kEqual:
    case OpKind::kNotEqual:
      return (is_float(in(0)) || is_int(in(0)) || in(0) == kBool) && in(0) == in(1);
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual:
      return (is_float(in(0)) || is_int(in(0))) && in(0) == in(1);
    case OpKind::kWhere:
      return in(0) == kBool && in(1) == in(2) && is_movable(in(1));
    case OpKind::kCast:
      return dev_type(in(0)).has_value() && dev_type(out).has_value();
    case OpKind::kMatMul:
      return matmul_supported(g, id, compute_major);
    case OpKind::kAttention: {
      if (!is_float(in(0)) || in(1) != in(0) || in(2) != in(0)) return false;
      if (n.inputs.size() > 3 && !is_index(in(3))) return false;
      const Shape& q = g.type(n.inputs[0]).shape;
      const Shape& k = g.type(n.inputs[1]).shape;
      const Shape& v = g.type(n.inputs[2]).shape;
      if (q.rank() < 2 || k.rank() != q.rank() || v.rank() != q.rank()) return false;
      for (int i = 0; i < q.rank() - 2; ++i)
        if (k[i] != q[i] || v[i] != q[i]) return false;
      return q[q.rank() - 1] <= kMaxAttentionHead && v[v.rank() - 1] <= kMaxAttentionHead;
    }
    case OpKind::kUpdateSlice:
      return is_movable(in(0)) && in(1) == in(0) && is_index(in(2));
    case OpKind::kDynamicSlice:
      return is_movable(in(0)) && is_index(in(1));
    case OpKind::kReduceSum:
      return is_float(in(0)) || is_int(in(0));
    case OpKind::kReduceMax:  // the max and mean of nothing (-inf, NaN) are left to the cpu
      return (is_float(in(0)) || is_int(in(0))) && g.type(n.inputs[0]).shape.numel() > 0;
    case OpKind::kReduceMean:
      return is_float(in(0)) && g.type(n.inputs[0]).shape.numel() > 0;
    case OpKind::kReshape:
    case OpKind::kPermute:
    case OpKind::kBroadcast:
    case OpKind::kSlice:
    case OpKind::kConcat:
    case OpKind::kPad:
      return is_movable(in(0));
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      return conv_supported(g, id, compute_major);
    case OpKind::kMaxPool2D:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2D:
    case OpKind::kAvgPool2DGrad:
      return false;  // the cpu runs pooling (docs/backends/cuda.md)
    case OpKind::kGather:
      return is_movable(in(0)) && is_index(in(1));
    case OpKind::kScatterAdd:
      return (in(0) == kF32 || is_int(in(0))) && is_index(in(1));
    case OpKind::kOneHot:
      return is_index(in(0)) && dev_type(out).has_value() && out != kI8;
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax:
      return is_float(in(0));
    case OpKind::kCrossEntropy:
      return is_float(in(0)) && is_index(in(1));
    case OpKind::kLayerNorm:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput: {
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (in(i) != in(0)) return false;
      return is_float(in(0)) && n.type.shape.rank() >= 1;
    }
    case OpKind::kRandomUniform:
      return out == kF32 && in(0) == kI64;
    case OpKind::kFusedElementwise:
      return fused_supported(g, n);
  }
  return false;
}

Lowered lower_node(LowerContext& c, ValueId id) {
  const Graph& g = c.graph;
  const Node& n = g.node(id);
  void* y = c.ptr[id];
  auto p = [&](size_t i) { return static_cast<const void*>(c.ptr[n.inputs[i]]); };
  auto shape = [&](size_t i) -> const Shape& { return g.type(n.inputs[i]).shape; };
  auto in_t = [&](size_t i) { return g.type(n.inputs[i]).dtype; };
  const int64_t numel = n.type.shape.numel();
  const size_t out_bytes = static_cast<size_t>(numel) * n.type.dtype.size();
  DeviceStatus* status = c.status;

  switch (n.op) {
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
    case OpKind::kErf: {
      const OpKind op = n.op;
      const DevType t = dt(in_t(0));
      const void* x = p(0);
      return make(g, id, std::string(op_name(op)),
                  [=](const LaunchEnv& e) { launch_unary(op, t, x, y, numel, e.stream); });
    }
    case OpKind::kAdd:
    case OpKind::kSub:
    case OpKind::kMul:
    case OpKind::kDiv:
    case OpKind::kPow:
    case OpKind::kMaximum:
    case OpKind::kMinimum:
    case OpKind::kEqual:
    case OpKind::kNotEqual:
    case OpKind::kLess:
    case OpKind::kLessEqual:
    case OpKind::kGreater:
    case OpKind::kGreaterEqual: {
      const OpKind op = n.op;
      const DevType t = dt(in_t(0));
      const ElemDesc d = elem_desc(g, n, {n.inputs[0], n.inputs[1]});
      const void* a = p(0);
      const void* b = p(1);
      return make(g, id, std::string(op_name(op)),
                  [=](const LaunchEnv& e) { launch_binary(op, t, d, a, b, y, e.stream); });
    }
    case OpKind::kWhere: {
      const ElemDesc d = elem_desc(g, n, {n.inputs[0], n.inputs[1], n.inputs[2]});
      const int es = static_cast<int>(in_t(1).size());
      const void *cond = p(0), *a = p(1), *b = p(2);
      return make(g, id, "where",
                  [=](const LaunchEnv& e) { launch_where(es, d, cond, a, b, y, e.stream); });
    }
    case OpKind::kCast: {
      if (in_t(0) == n.type.dtype) return device_copy(g, id, p(0), y, out_bytes);
      const DevType from = dt(in_t(0)), to = dt(n.type.dtype);
      const void* x = p(0);
      return make(g, id, "cast",
                  [=](const LaunchEnv& e) { launch_cast(from, to, x, y, numel, e.stream); });
    }
    case OpKind::kFusedElementwise: {
      std::optional<SlotProgram> prog = allocate_slots(*n.fused);
      TS_ASSERT(prog.has_value());
      const size_t bytes = prog->instrs.size() * sizeof(FusedDevInstr);
      c.keep->emplace_back(bytes, fmt::format("the fused program of {}", g.describe(id)));
      const FusedDevInstr* instrs = static_cast<const FusedDevInstr*>(c.keep->back().get());
      check_cuda(
          cudaMemcpy(c.keep->back().get(), prog->instrs.data(), bytes, cudaMemcpyHostToDevice),
          "cudaMemcpy", g.describe(id));
      const ElemDesc d = elem_desc(g, n, n.inputs);
      std::vector<const float*> inputs;
      for (size_t i = 0; i < n.inputs.size(); ++i)
        inputs.push_back(static_cast<const float*>(p(i)));
      const int32_t count = static_cast<int32_t>(prog->instrs.size()), slots = prog->slots;
      float* out = static_cast<float*>(y);
      return make(g, id, "fused_elementwise", [=](const LaunchEnv& e) {
        launch_fused(instrs, count, slots, d, inputs.data(), out, e.stream);
      });
    }
    case OpKind::kMatMul:
      return lower_matmul(c, id);
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      return lower_conv(c, id);
    case OpKind::kReshape:
      return device_copy(g, id, p(0), y, out_bytes);
    case OpKind::kPermute:
    case OpKind::kBroadcast:
    case OpKind::kSlice: {
      const Shape& xs = shape(0);
      const Shape& os = n.type.shape;
      const Shape cs = contiguous_strides(xs);
      CopyDesc d;
      d.rank = os.rank();
      d.numel = numel;
      Shape ocs = contiguous_strides(os);
      for (int i = 0; i < os.rank(); ++i) {
        d.dims[i] = os[i];
        d.out_strides[i] = ocs[i];
      }
      if (n.op == OpKind::kPermute) {
        const auto& perm = n.attrs.get_ints("perm");
        for (int i = 0; i < os.rank(); ++i)  // perm entries may be negative (from the end)
          d.in_strides[i] = cs[xs.normalize_axis(static_cast<int>(perm[i]))];
      } else if (n.op == OpKind::kBroadcast) {
        broadcast_strides(xs, os, d.in_strides);
      } else {
        const auto& starts = n.attrs.get_ints("starts");
        const auto& steps = n.attrs.get_ints("steps");
        for (int i = 0; i < xs.rank(); ++i) {
          int64_t s = starts[i] < 0 ? starts[i] + xs[i] : starts[i];
          s = std::clamp<int64_t>(s, 0, xs[i]);
          if (os[i] > 0) d.in_offset += s * cs[i];
          d.in_strides[i] = cs[i] * steps[i];
        }
      }
      const int es = static_cast<int>(n.type.dtype.size());
      const void* x = p(0);
      return make(g, id, std::string(op_name(n.op)),
                  [=](const LaunchEnv& e) { launch_copy(es, d, x, y, e.stream); });
    }
    case OpKind::kConcat: {
      const Shape& os = n.type.shape;
      const int axis = os.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
      const Shape ocs = contiguous_strides(os);
      std::vector<std::pair<CopyDesc, const void*>> parts;
      int64_t at = 0;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const Shape& xs = shape(k);
        const Shape cs = contiguous_strides(xs);
        CopyDesc d;
        d.rank = xs.rank();
        d.numel = xs.numel();
        for (int i = 0; i < xs.rank(); ++i) {
          d.dims[i] = xs[i];
          d.in_strides[i] = cs[i];
          d.out_strides[i] = ocs[i];
        }
        d.out_offset = at * ocs[axis];
        at += xs[axis];
        parts.emplace_back(d, p(k));
      }
      const int es = static_cast<int>(n.type.dtype.size());
      return make(g, id, "concat", [=](const LaunchEnv& e) {
        for (const auto& [d, x] : parts) launch_copy(es, d, x, y, e.stream);
      });
    }
    case OpKind::kPad: {
      const Shape& xs = shape(0);
      const Shape& os = n.type.shape;
      const auto& before = n.attrs.get_ints("pads_before");
      uint64_t pattern = 0;
      store_f64(n.attrs.get_float_or("value", 0.0), &pattern, n.type.dtype);  // little-endian
      const Shape cs = contiguous_strides(xs), ocs = contiguous_strides(os);
      CopyDesc d;
      d.rank = xs.rank();
      d.numel = xs.numel();
      for (int i = 0; i < xs.rank(); ++i) {
        d.dims[i] = xs[i];
        d.in_strides[i] = cs[i];
        d.out_strides[i] = ocs[i];
        d.out_offset += before[i] * ocs[i];
      }
      const int es = static_cast<int>(n.type.dtype.size());
      const void* x = p(0);
      return make(g, id, "pad", [=](const LaunchEnv& e) {
        launch_fill(es, y, numel, pattern, e.stream);
        launch_copy(es, d, x, y, e.stream);
      });
    }
    case OpKind::kUpdateSlice:
    case OpKind::kDynamicSlice: {
      const bool update = n.op == OpKind::kUpdateSlice;
      const Shape& xs = shape(0);
      const int axis = xs.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
      const Shape& window = update ? shape(1) : n.type.shape;
      const Shape xcs = contiguous_strides(xs), wcs = contiguous_strides(window);
      CopyDesc d;
      d.rank = window.rank();
      d.numel = window.numel();
      for (int i = 0; i < window.rank(); ++i) {
        d.dims[i] = window[i];
        d.in_strides[i] = update ? wcs[i] : xcs[i];
        d.out_strides[i] = update ? xcs[i] : wcs[i];
      }
      d.dyn_start = p(update ? 2 : 1);
      d.dyn_start_i64 = in_t(update ? 2 : 1) == kI64;
      d.dyn_target = update ? 2 : 1;
      d.dyn_max = xs[axis] - window[axis];
      d.dyn_stride = xcs[axis];
      const int es = static_cast<int>(n.type.dtype.size());
      const void* x = p(0);
      const void* upd = update ? p(1) : nullptr;
      const size_t x_bytes = static_cast<size_t>(xs.numel()) * es;
      return make(g, id, std::string(op_name(n.op)), [=](const LaunchEnv& e) {
        if (update) {
          if (x != y)
            check_cuda(cudaMemcpyAsync(y, x, x_bytes, cudaMemcpyDeviceToDevice, e.stream),
                       "cudaMemcpyAsync", "update_slice");
          launch_copy(es, d, upd, y, e.stream);
        } else {
          launch_copy(es, d, x, y, e.stream);
        }
      });
    }
    case OpKind::kReduceSum:
    case OpKind::kReduceMean:
    case OpKind::kReduceMax: {
      const Shape& xs = shape(0);
      const Shape cs = contiguous_strides(xs);
      std::vector<bool> reduced(xs.rank(), false);
      const auto& axes = n.attrs.get_ints("axes");
      if (axes.empty()) reduced.assign(xs.rank(), true);
      for (int64_t a : axes) reduced[xs.normalize_axis(static_cast<int>(a))] = true;
      ReduceDesc d;
      for (int i = 0; i < xs.rank(); ++i) {
        if (reduced[i]) {
          d.red_dims[d.red_rank] = xs[i];
          d.red_strides[d.red_rank++] = cs[i];
          d.red_numel *= xs[i];
        } else {
          d.out_dims[d.out_rank] = xs[i];
          d.out_strides[d.out_rank++] = cs[i];
          d.out_numel *= xs[i];
        }
      }
      const OpKind op = n.op;
      const DevType t = dt(in_t(0));
      const void* x = p(0);
      const int es = static_cast<int>(n.type.dtype.size());
      return make(g, id, std::string(op_name(op)), [=](const LaunchEnv& e) {
        if (d.red_numel == 0) {  // a sum of nothing (supports() keeps max and mean away)
          launch_fill(es, y, d.out_numel, 0, e.stream);
          return;
        }
        launch_reduce(op, t, d, x, y, e.stream);
      });
    }
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax: {
      const Shape& xs = shape(0);
      const int axis = xs.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < axis; ++i) outer *= xs[i];
      for (int i = axis + 1; i < xs.rank(); ++i) inner *= xs[i];
      const int64_t ch = xs[axis];
      const bool log = n.op == OpKind::kLogSoftmax;
      const DevType t = dt(in_t(0));
      const void* x = p(0);
      return make(g, id, log ? "log_softmax" : "softmax", [=](const LaunchEnv& e) {
        launch_softmax(log, t, outer, ch, inner, x, y, e.stream);
      });
    }
    case OpKind::kCrossEntropy: {
      const Shape& xs = shape(0);
      const int64_t ch = xs[xs.rank() - 1];
      const int64_t rows = shape(1).numel();
      const DevType t = dt(in_t(0));
      const bool i64 = in_t(1) == kI64;
      const void *logits = p(0), *labels = p(1);
      const int32_t node = id;
      return make(g, id, "cross_entropy", [=](const LaunchEnv& e) {
        launch_cross_entropy(t, i64, rows, ch, logits, labels, y, status, node, e.stream);
      });
    }
    case OpKind::kLayerNorm:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput: {
      const Shape& xs = shape(0);
      const int64_t ch = xs[xs.rank() - 1];
      const int64_t rows = ch == 0 ? 0 : xs.numel() / ch;
      const float eps = static_cast<float>(n.attrs.get_float_or(
          "epsilon",
          n.op == OpKind::kLayerNorm || n.op == OpKind::kLayerNormGradInput ? 1e-5 : 1e-6));
      const OpKind op = n.op;
      const DevType t = dt(in_t(0));
      const void *x = p(0), *gamma = p(1);
      const void* third = n.inputs.size() > 2 ? p(2) : nullptr;
      return make(g, id, std::string(op_name(op)), [=](const LaunchEnv& e) {
        launch_norm(op, t, rows, ch, eps, x, gamma, third, y, e.stream);
      });
    }
    case OpKind::kGather: {
      const Shape& ds = shape(0);
      const int axis = ds.normalize_axis(static_cast<int>(n.attrs.get_int("axis")));
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < axis; ++i) outer *= ds[i];
      for (int i = axis + 1; i < ds.rank(); ++i) inner *= ds[i];
      const int64_t dim = ds[axis], nidx = shape(1).numel();
      const int es = static_cast<int>(n.type.dtype.size());
      const bool i64 = in_t(1) == kI64;
      const void *data = p(0), *idx = p(1);
      const int32_t node = id;
      return make(g, id, "gather", [=](const LaunchEnv& e) {
        launch_gather(es, i64, outer, dim, nidx, inner, data, idx, y, status, node, e.stream);
      });
    }
    case OpKind::kScatterAdd: {
      const Shape& us = shape(0);
      const int axis = static_cast<int>(n.attrs.get_int("axis"));
      const int64_t dim = n.attrs.get_int("dim_size");
      const int idx_rank = shape(1).rank();
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < axis; ++i) outer *= us[i];
      for (int i = axis + idx_rank; i < us.rank(); ++i) inner *= us[i];
      const int64_t nidx = shape(1).numel();
      const DevType t = dt(in_t(0));
      const bool i64 = in_t(1) == kI64;
      const void *upd = p(0), *idx = p(1);
      const int32_t node = id;
      return make(g, id, "scatter_add", [=](const LaunchEnv& e) {
        launch_scatter_add(t, i64, outer, dim, nidx, inner, upd, idx, y, status, node, e.stream);
      });
    }
    case OpKind::kOneHot: {
      const int64_t depth = n.attrs.get_int("depth");
      const int64_t count = shape(0).numel();
      const DevType t = dt(n.type.dtype);
      const bool i64 = in_t(0) == kI64;
      const void* idx = p(0);
      const int32_t node = id;
      return make(g, id, "one_hot", [=](const LaunchEnv& e) {
        launch_one_hot(t, i64, count, depth, idx, y, status, node, e.stream);
      });
    }
    case OpKind::kRandomUniform: {
      const uint64_t seed = static_cast<uint64_t>(n.attrs.get_int("seed"));
      const int64_t* step = static_cast<const int64_t*>(p(0));
      float* out = static_cast<float*>(y);
      return make(g, id, "random_uniform", [=](const LaunchEnv& e) {
        launch_random_uniform(seed, step, out, numel, e.stream);
      });
    }
    case OpKind::kAttention: {
      const Shape& q = shape(0);
      const Shape& k = shape(1);
      const Shape& v = shape(2);
      AttentionDesc d;
      const int r = q.rank();
      for (int i = 0; i < r - 2; ++i) d.batch *= q[i];
      d.tq = q[r - 2];
      d.d = q[r - 1];
      d.tk = k[r - 2];
      d.dv = v[r - 1];
      d.scale = static_cast<float>(n.attrs.get_float_or(
          "scale", 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(d.d, 1)))));
      d.causal = n.attrs.get_int_or("causal", 0) != 0;
      if (n.inputs.size() > 3) {
        d.kv_len = p(3);
        d.kv_len_i64 = in_t(3) == kI64;
      }
      const DevType t = dt(in_t(0));
      const void *qp = p(0), *kp = p(1), *vp = p(2);
      return make(g, id, "attention",
                  [=](const LaunchEnv& e) { launch_attention(t, d, qp, kp, vp, y, e.stream); });
    }
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
    case OpKind::kMaxPool2D:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2D:
    case OpKind::kAvgPool2DGrad:
      break;
  }
  throw_error(ErrorKind::kUnsupported,
              fmt::format("backend 'cuda' does not support {}", g.describe(id)));
}

}  // namespace tessera::cuda
