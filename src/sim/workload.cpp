// Lowering a graph to a Workload: the graph is specialized to the batch, then every node
// becomes the work of one hardware unit (workload.h). The switch over OpKind has no default,
// so a new op without a lowering is a build error. Leaves (inputs, parameters, constants)
// are not emitted: they are storage, not work; their bytes appear as the reads of the ops
// that use them (weight_bytes) and in the Workload's parameter totals.
#include "tessera/sim/workload.h"

#include <string_view>

#include "tessera/core/error.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"
#include "workload_internal.h"

namespace tessera::sim {
namespace detail {

double elements_of(const TensorType& t) { return static_cast<double>(t.shape.numel()); }
double bytes_of(const TensorType& t) {
  return elements_of(t) * static_cast<double>(t.dtype.size());
}

bool is_weight(const Graph& g, ValueId v) {
  OpKind k = g.node(v).op;
  return k == OpKind::kParameter || k == OpKind::kConstant;
}

WorkOp base_op(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  WorkOp op;
  op.node = id;
  op.name = n.name;
  op.layer = layer_of(n.name);
  op.phase = phase_of(n.name);
  op.op = n.op;
  op.output_dtype = n.type.dtype;
  // The data's dtype: the first float input (where's condition and index inputs are not
  // data), else the first input's.
  op.input_dtype = n.inputs.empty() ? n.type.dtype : g.type(n.inputs[0]).dtype;
  for (ValueId in : n.inputs) {
    if (g.type(in).dtype.is_float()) {
      op.input_dtype = g.type(in).dtype;
      break;
    }
  }
  OpCost c = op_info(n.op).cost(g, n);
  op.bytes_read = c.bytes_read;
  op.bytes_written = c.bytes_written;
  for (ValueId in : n.inputs)
    if (is_weight(g, in)) op.weight_bytes += bytes_of(g.type(in));
  return op;
}

}  // namespace detail

namespace {

using detail::base_op;
using detail::elements_of;

bool is_transcendental(OpKind k) {
  switch (k) {
    case OpKind::kExp:
    case OpKind::kLog:
    case OpKind::kSqrt:
    case OpKind::kRsqrt:
    case OpKind::kTanh:
    case OpKind::kSigmoid:
    case OpKind::kGelu:
    case OpKind::kErf:
    case OpKind::kPow:
      return true;
    default:
      return false;
  }
}

// A vector-unit op: `elements` produced (or read, for `elements_read`), and the op table's
// flops as its arithmetic.
WorkOp vector_op(const Graph& g, ValueId id, VectorKind kind, bool elements_read = false) {
  const Node& n = g.node(id);
  WorkOp op = base_op(g, id);
  op.kind = WorkKind::kVector;
  op.vector = kind;
  op.elements =
      static_cast<int64_t>(elements_read ? elements_of(g.type(n.inputs[0])) : elements_of(n.type));
  op.vector_ops = op_info(n.op).cost(g, n).flops;
  return op;
}

WorkOp elementwise_op(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  bool transcendental = is_transcendental(n.op);
  if (n.op == OpKind::kFusedElementwise && n.fused)
    for (const FusedInstr& ins : n.fused->instrs) transcendental |= is_transcendental(ins.op);
  return vector_op(g, id, transcendental ? VectorKind::kTranscendental : VectorKind::kElementwise);
}

// Data movement: the op table's bytes, no arithmetic (scatter_add's adds ride along as
// vector_ops, as the op table counts them).
WorkOp memory_op(const Graph& g, ValueId id) {
  const Node& n = g.node(id);
  WorkOp op = base_op(g, id);
  op.kind = WorkKind::kMemory;
  op.vector_ops = op_info(n.op).cost(g, n).flops;
  return op;
}

// Appends the work of node `id` (nothing for leaves).
void lower_node(const Graph& g, ValueId id, std::vector<WorkOp>& out) {
  const Node& n = g.node(id);
  switch (n.op) {
    case OpKind::kInput:
    case OpKind::kParameter:
    case OpKind::kConstant:
      return;
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
    case OpKind::kGreaterEqual:
    case OpKind::kWhere:
    case OpKind::kCast:
    case OpKind::kRandomUniform:
    case OpKind::kFusedElementwise:
      out.push_back(elementwise_op(g, id));
      return;
    case OpKind::kMatMul:
      out.push_back(detail::lower_matmul(g, id));
      return;
    case OpKind::kConv2D:
    case OpKind::kConv2DBackpropInput:
    case OpKind::kConv2DBackpropFilter:
      out.push_back(detail::lower_conv(g, id));
      return;
    case OpKind::kAttention:
      for (WorkOp& op : detail::lower_attention(g, id)) out.push_back(std::move(op));
      return;
    case OpKind::kReduceSum:
    case OpKind::kReduceMean:
    case OpKind::kReduceMax:
      out.push_back(vector_op(g, id, VectorKind::kReduction, /*elements_read=*/true));
      return;
    case OpKind::kSoftmax:
    case OpKind::kLogSoftmax:
      out.push_back(vector_op(g, id, VectorKind::kSoftmax));
      return;
    case OpKind::kCrossEntropy:  // per-sample output: count the logits it reads
      out.push_back(vector_op(g, id, VectorKind::kSoftmax, /*elements_read=*/true));
      return;
    case OpKind::kLayerNorm:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNormGradInput:
    case OpKind::kRmsNormGradInput:
      out.push_back(vector_op(g, id, VectorKind::kNormalization));
      return;
    case OpKind::kMaxPool2D:
    case OpKind::kMaxPool2DGrad:
    case OpKind::kAvgPool2D:
    case OpKind::kAvgPool2DGrad: {
      WorkOp op = vector_op(g, id, VectorKind::kPooling);
      op.conv = detail::conv_shape(g, n);  // the window geometry; is_conv stays false
      out.push_back(std::move(op));
      return;
    }
    case OpKind::kPermute:
    case OpKind::kBroadcast:
    case OpKind::kSlice:
    case OpKind::kConcat:
    case OpKind::kPad:
    case OpKind::kGather:
    case OpKind::kScatterAdd:
    case OpKind::kOneHot:
    case OpKind::kUpdateSlice:
    case OpKind::kDynamicSlice:
      out.push_back(memory_op(g, id));
      return;
    case OpKind::kReshape: {  // metadata only: row-major data does not move
      WorkOp op = base_op(g, id);
      op.kind = WorkKind::kNone;
      op.bytes_read = op.bytes_written = op.weight_bytes = 0;
      out.push_back(std::move(op));
      return;
    }
  }
  throw Error(ErrorKind::kUnsupported,
              fmt::format("lower_to_workload: {} has no lowering", g.describe(id)));
}

}  // namespace

std::string layer_of(const std::string& node_name) {
  size_t slash = node_name.find('/');
  return slash == std::string::npos ? std::string() : node_name.substr(0, slash);
}

Phase phase_of(const std::string& node_name) {
  std::string_view name = node_name;
  size_t slash = name.find('/');
  if (slash == std::string_view::npos) return Phase::kForward;
  std::string_view first = name.substr(0, slash);
  if (first == "optimizer") return Phase::kUpdate;
  // A "grad" component between the first and the last (the op's own name) marks the
  // backward pass: "<layer>/grad/<op>", "loss/grad/<op>", "<outer>/<inner>/grad/<op>".
  for (size_t start = slash + 1;;) {
    size_t next = name.find('/', start);
    if (next == std::string_view::npos) break;
    if (name.substr(start, next - start) == "grad") return Phase::kBackward;
    start = next + 1;
  }
  // Activation checkpointing's copies ("<layer>/<op>_<id>/recompute", ir/recompute.h) run
  // in the backward pass: their cost is the checkpointing's, not the forward pass's.
  if (name.substr(name.rfind('/') + 1) == "recompute") return Phase::kBackward;
  if (first == "loss") return Phase::kLoss;
  return Phase::kForward;
}

int64_t Workload::macs() const {
  int64_t total = 0;
  for (const WorkOp& op : ops) total += op.macs();
  return total;
}

double Workload::flops() const {
  double total = 0;
  for (const WorkOp& op : ops) total += op.flops();
  return total;
}

Workload lower_to_workload(const Graph& graph, const LowerOptions& options) {
  TS_CHECK(options.batch >= 1, ErrorKind::kInvalidArgument,
           "lower_to_workload: batch must be >= 1, got {}", options.batch);
  Graph g = specialize(graph, options.batch);
  Workload w;
  w.name = options.name;
  w.batch = options.batch;
  for (ValueId id = 0; id < g.size(); ++id) {
    try {
      lower_node(g, id, w.ops);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kUnsupported) throw;
      throw Error(e.kind(), fmt::format("lower_to_workload: {}: {}", g.describe(id), e.what()));
    }
  }
  // A step that updates a trainable parameter is a training step; other updates (KV caches,
  // batch-norm statistics alone) are state an inference graph may carry.
  std::vector<char> updated(g.size(), 0);
  for (const Graph::Update& u : g.updates()) {
    updated[u.parameter] = 1;
    if (g.node(u.parameter).trainable) w.training = true;
  }
  double gradient_bytes = 0;
  for (ValueId id : g.parameters()) {
    const Node& n = g.node(id);
    const double bytes = detail::bytes_of(n.type);
    w.parameter_bytes += bytes;
    if (!n.trainable) continue;
    w.parameter_count += n.type.shape.numel();
    if (updated[id]) gradient_bytes += bytes;  // gradients have their parameter's dtype
  }
  w.gradient_bytes = w.training ? gradient_bytes : 0.0;
  return w;
}

}  // namespace tessera::sim
