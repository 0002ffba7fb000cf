// ONNX export (include/tessera/io/onnx.h): the model's inference graph, node by node, as
// ONNX opset 17. Ops ONNX lacks are written so that the importer recognises them and runs
// the same IR op again (export → import is exact): gelu as PyTorch's erf form, rsqrt as
// Reciprocal(Sqrt), attention as MatMul/Mul/[Where]/Softmax/MatMul, NHWC convolution and
// pooling between two Transposes with the filter stored OIHW. Ops with neither an ONNX form
// nor a pattern are decomposed through the op table first (rms_norm, fused elementwise).
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "onnx/checker.h"
#include "onnx_tensor.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/io/onnx.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

using onnx_io::onnx_elem_type;
using onnx_io::tensor_to_proto;

bool has_direct_form(OpKind k) {
  switch (k) {
    case OpKind::kInput: case OpKind::kParameter: case OpKind::kConstant:
    case OpKind::kNeg: case OpKind::kAbs: case OpKind::kExp: case OpKind::kLog:
    case OpKind::kSqrt: case OpKind::kRsqrt: case OpKind::kTanh: case OpKind::kSigmoid:
    case OpKind::kRelu: case OpKind::kGelu: case OpKind::kErf:
    case OpKind::kAdd: case OpKind::kSub: case OpKind::kMul: case OpKind::kDiv:
    case OpKind::kPow: case OpKind::kMaximum: case OpKind::kMinimum:
    case OpKind::kEqual: case OpKind::kNotEqual: case OpKind::kLess: case OpKind::kLessEqual:
    case OpKind::kGreater: case OpKind::kGreaterEqual: case OpKind::kWhere: case OpKind::kCast:
    case OpKind::kMatMul: case OpKind::kReduceSum: case OpKind::kReduceMean:
    case OpKind::kReduceMax: case OpKind::kReshape: case OpKind::kPermute:
    case OpKind::kBroadcast: case OpKind::kSlice: case OpKind::kConcat: case OpKind::kPad:
    case OpKind::kConv2D: case OpKind::kMaxPool2D: case OpKind::kAvgPool2D:
    case OpKind::kGather: case OpKind::kSoftmax: case OpKind::kLogSoftmax:
    case OpKind::kLayerNorm:
      return true;
    case OpKind::kAttention:  // without kv_len (decode graphs); checked when written
      return true;
    default:
      return false;
  }
}

class Exporter {
 public:
  Exporter(const Graph& g, onnx::GraphProto* gp) : g_(g), gp_(gp), users_(compute_users(g)) {
    names_.resize(static_cast<size_t>(g.size()));
  }

  void run() {
    for (ValueId id = 0; id < g_.size(); ++id) {
      try {
        write(id);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("ONNX export: {}: {}", g_.describe(id), e.what()));
      }
    }
    for (size_t k = 0; k < g_.outputs().size(); ++k) {
      ValueId o = g_.outputs()[k];
      std::string name = g_.outputs().size() == 1 ? "output" : fmt::format("output_{}", k);
      node("Identity", {names_[static_cast<size_t>(o)]}, {}, name);
      value_info(gp_->add_output(), name, g_.type(o));
    }
  }

  const std::vector<std::string>& non_trainable() const { return non_trainable_; }

 private:
  std::string fresh(const std::string& base) {
    std::string name = base.empty() ? "v" : base;
    for (int k = 1; !used_.insert(name).second; ++k) name = fmt::format("{}_{}", base, k);
    return name;
  }
  const std::string& in(ValueId id, int k) const {
    return names_[static_cast<size_t>(g_.node(id).inputs[static_cast<size_t>(k)])];
  }

  // Appends a node; returns its (single) output name.
  std::string node(const std::string& op, std::vector<std::string> inputs,
                   std::vector<onnx::AttributeProto> attrs = {}, std::string out = {}) {
    onnx::NodeProto* n = gp_->add_node();
    n->set_op_type(op);
    if (out.empty()) out = fresh(scope_ + "/" + op);
    else used_.insert(out);
    n->set_name(out);
    for (std::string& i : inputs) n->add_input(std::move(i));
    n->add_output(out);
    for (onnx::AttributeProto& a : attrs) *n->add_attribute() = std::move(a);
    return out;
  }
  static onnx::AttributeProto attr(const char* name, int64_t v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(v);
    return a;
  }
  static onnx::AttributeProto attr(const char* name, float v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(v);
    return a;
  }
  static onnx::AttributeProto attr(const char* name, const std::vector<int64_t>& v) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
    return a;
  }
  std::string constant(const Tensor& t, const std::string& hint) {
    onnx::AttributeProto a;
    a.set_name("value");
    a.set_type(onnx::AttributeProto::TENSOR);
    tensor_to_proto(t, "", a.mutable_t());
    return node("Constant", {}, {std::move(a)}, fresh(scope_ + "/" + hint));
  }
  std::string ints(const std::vector<int64_t>& v, const std::string& hint) {
    Tensor t = Tensor::zeros(kI64, Shape{static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.data<int64_t>()[i] = v[i];
    return constant(t, hint);
  }
  std::string scalar(double v, DType t, const std::string& hint) {
    return constant(Tensor::scalar(v, t), hint);
  }
  void value_info(onnx::ValueInfoProto* vi, const std::string& name, const TensorType& t) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx_elem_type(t.dtype));
    auto* shape = tt->mutable_shape();
    for (int64_t d : t.shape.dims()) {
      auto* dim = shape->add_dim();
      if (d == kDynamic) dim->set_dim_param("N");
      else dim->set_dim_value(d);
    }
  }
  static std::vector<int64_t> last_two_swapped(int rank) {
    std::vector<int64_t> p;
    for (int i = 0; i < rank; ++i) p.push_back(i);
    std::swap(p[static_cast<size_t>(rank - 2)], p[static_cast<size_t>(rank - 1)]);
    return p;
  }
  // ONNX pads [top, left, bottom, right] from the IR's [top, bottom, left, right].
  static std::vector<int64_t> onnx_pads(const std::vector<int64_t>& p) {
    return {p[0], p[2], p[1], p[3]};
  }
  // A parameter read only as conv2d filters is written OIHW (no run-time Transpose).
  bool conv_only(ValueId id) const {
    if (g_.node(id).op != OpKind::kParameter) return false;
    for (ValueId u : users_[static_cast<size_t>(id)])
      if (g_.node(u).op != OpKind::kConv2D || g_.node(u).inputs[1] != id) return false;
    for (ValueId o : g_.outputs())
      if (o == id) return false;
    return !users_[static_cast<size_t>(id)].empty();
  }

  void write(ValueId id) {
    const Node& n = g_.node(id);
    scope_ = n.name;
    std::string& out = names_[static_cast<size_t>(id)];
    const DType dt = n.type.dtype;
    auto unary = [&](const char* op) { out = node(op, {in(id, 0)}); };
    auto binary = [&](const char* op) { out = node(op, {in(id, 0), in(id, 1)}); };
    switch (n.op) {
      case OpKind::kInput:
        out = fresh(n.name);
        value_info(gp_->add_input(), out, n.type);
        return;
      case OpKind::kParameter: {
        out = fresh(n.name);
        Tensor v = n.value;
        if (conv_only(id)) {  // HWIO -> OIHW
          const Shape& s = v.shape();
          Tensor t = Tensor::zeros(v.dtype(), Shape{s[3], s[2], s[0], s[1]});
          Tensor c = v.contiguous();
          const size_t es = v.dtype().size();
          for (int64_t h = 0; h < s[0]; ++h)
            for (int64_t w = 0; w < s[1]; ++w)
              for (int64_t ci = 0; ci < s[2]; ++ci)
                for (int64_t o = 0; o < s[3]; ++o)
                  std::memcpy(static_cast<char*>(t.raw_data()) +
                                  static_cast<size_t>(((o * s[2] + ci) * s[0] + h) * s[1] + w) * es,
                              static_cast<const char*>(c.raw_data()) +
                                  static_cast<size_t>(((h * s[1] + w) * s[2] + ci) * s[3] + o) * es,
                              es);
          v = t;
          oihw_.insert(id);
        }
        tensor_to_proto(v, out, gp_->add_initializer());
        if (!n.trainable) non_trainable_.push_back(out);
        return;
      }
      case OpKind::kConstant:
        out = constant(n.value, "value");
        return;
      case OpKind::kNeg: return unary("Neg");
      case OpKind::kAbs: return unary("Abs");
      case OpKind::kExp: return unary("Exp");
      case OpKind::kLog: return unary("Log");
      case OpKind::kSqrt: return unary("Sqrt");
      case OpKind::kRsqrt:
        out = node("Reciprocal", {node("Sqrt", {in(id, 0)})});
        return;
      case OpKind::kTanh: return unary("Tanh");
      case OpKind::kSigmoid: return unary("Sigmoid");
      case OpKind::kRelu: return unary("Relu");
      case OpKind::kErf: return unary("Erf");
      case OpKind::kGelu: {  // x·(1 + erf(x/√2))·0.5, PyTorch's form
        const std::string& x = in(id, 0);
        std::string e = node("Erf", {node("Div", {x, scalar(std::sqrt(2.0), dt, "sqrt2")})});
        std::string p = node("Mul", {x, node("Add", {e, scalar(1.0, dt, "one")})});
        out = node("Mul", {p, scalar(0.5, dt, "half")});
        return;
      }
      case OpKind::kAdd: return binary("Add");
      case OpKind::kSub: return binary("Sub");
      case OpKind::kMul: return binary("Mul");
      case OpKind::kDiv: return binary("Div");
      case OpKind::kPow: return binary("Pow");
      case OpKind::kMaximum: return binary("Max");
      case OpKind::kMinimum: return binary("Min");
      case OpKind::kEqual: return binary("Equal");
      case OpKind::kNotEqual:
        out = node("Not", {node("Equal", {in(id, 0), in(id, 1)})});
        return;
      case OpKind::kLess: return binary("Less");
      case OpKind::kLessEqual: return binary("LessOrEqual");
      case OpKind::kGreater: return binary("Greater");
      case OpKind::kGreaterEqual: return binary("GreaterOrEqual");
      case OpKind::kWhere:
        out = node("Where", {in(id, 0), in(id, 1), in(id, 2)});
        return;
      case OpKind::kCast:
        out = node("Cast", {in(id, 0)}, {attr("to", int64_t{onnx_elem_type(dt)})});
        return;
      case OpKind::kMatMul: {
        std::string a = in(id, 0), b = in(id, 1);
        if (n.attrs.get_int_or("transpose_a", 0))
          a = node("Transpose", {a}, {attr("perm", last_two_swapped(g_.type(n.inputs[0]).shape.rank()))});
        if (n.attrs.get_int_or("transpose_b", 0))
          b = node("Transpose", {b}, {attr("perm", last_two_swapped(g_.type(n.inputs[1]).shape.rank()))});
        out = node("MatMul", {a, b});
        return;
      }
      case OpKind::kAttention: return attention(id);
      case OpKind::kReduceSum: case OpKind::kReduceMean: case OpKind::kReduceMax: {
        const std::vector<int64_t>& axes = n.attrs.get_ints("axes");
        int64_t keep = n.attrs.get_int_or("keepdims", 0);
        if (n.op == OpKind::kReduceSum) {
          std::vector<std::string> ins = {in(id, 0)};
          if (!axes.empty()) ins.push_back(ints(axes, "axes"));
          out = node("ReduceSum", ins, {attr("keepdims", keep)});
        } else {
          std::vector<onnx::AttributeProto> as = {attr("keepdims", keep)};
          if (!axes.empty()) as.push_back(attr("axes", axes));
          out = node(n.op == OpKind::kReduceMean ? "ReduceMean" : "ReduceMax", {in(id, 0)}, as);
        }
        return;
      }
      case OpKind::kReshape: {
        std::vector<int64_t> shape = n.attrs.get_ints("shape");
        int dynamic = 0;
        for (int64_t d : shape) dynamic += d == kDynamic;
        TS_CHECK(dynamic <= 1, ErrorKind::kUnsupported, "a reshape to {} (two batch dimensions)",
                 n.type.shape.str());
        out = node("Reshape", {in(id, 0), ints(shape, "shape")});  // -1: the batch, inferred
        return;
      }
      case OpKind::kPermute:
        out = node("Transpose", {in(id, 0)}, {attr("perm", n.attrs.get_ints("perm"))});
        return;
      case OpKind::kBroadcast: {
        std::vector<int64_t> shape = n.attrs.get_ints("shape");
        for (int64_t& d : shape)
          if (d == kDynamic) d = 1;  // Expand broadcasts both ways: 1 keeps the batch
        out = node("Expand", {in(id, 0), ints(shape, "shape")});
        return;
      }
      case OpKind::kSlice: {
        const std::vector<int64_t>& st = n.attrs.get_ints("starts");
        std::vector<int64_t> axes;
        for (size_t i = 0; i < st.size(); ++i) axes.push_back(static_cast<int64_t>(i));
        out = node("Slice", {in(id, 0), ints(st, "starts"), ints(n.attrs.get_ints("ends"), "ends"),
                             ints(axes, "axes"),
                             ints(n.attrs.has("steps") ? n.attrs.get_ints("steps")
                                                       : std::vector<int64_t>(st.size(), 1),
                                  "steps")});
        return;
      }
      case OpKind::kConcat:
      {
        std::vector<std::string> xs;
        for (ValueId x : n.inputs) xs.push_back(names_[static_cast<size_t>(x)]);
        out = node("Concat", xs, {attr("axis", n.attrs.get_int("axis"))});
        return;
      }
      case OpKind::kPad: {
        std::vector<int64_t> pads = n.attrs.get_ints("pads_before");
        for (int64_t p : n.attrs.get_ints("pads_after")) pads.push_back(p);
        out = node("Pad", {in(id, 0), ints(pads, "pads"),
                           scalar(n.attrs.get_float_or("value", 0.0), dt, "value")});
        return;
      }
      case OpKind::kConv2D: {
        ValueId f = n.inputs[1];
        std::string w = oihw_.count(f) ? in(id, 1)
                                       : node("Transpose", {in(id, 1)}, {attr("perm", std::vector<int64_t>{3, 2, 0, 1})});
        const Shape fs = g_.type(f).shape;
        std::string x = node("Transpose", {in(id, 0)}, {attr("perm", std::vector<int64_t>{0, 3, 1, 2})});
        std::string y = node("Conv", {x, w},
                             {attr("kernel_shape", std::vector<int64_t>{fs[0], fs[1]}),
                              attr("strides", n.attrs.get_ints("strides")),
                              attr("pads", onnx_pads(n.attrs.get_ints("pads"))),
                              attr("dilations", n.attrs.get_ints("dilations")),
                              attr("group", n.attrs.get_int_or("groups", 1))});
        out = node("Transpose", {y}, {attr("perm", std::vector<int64_t>{0, 2, 3, 1})});
        return;
      }
      case OpKind::kMaxPool2D: case OpKind::kAvgPool2D: {
        std::string x = node("Transpose", {in(id, 0)}, {attr("perm", std::vector<int64_t>{0, 3, 1, 2})});
        std::vector<onnx::AttributeProto> as = {attr("kernel_shape", n.attrs.get_ints("window")),
                                                attr("strides", n.attrs.get_ints("strides")),
                                                attr("pads", onnx_pads(n.attrs.get_ints("pads")))};
        if (n.op == OpKind::kAvgPool2D) as.push_back(attr("count_include_pad", int64_t{0}));
        std::string y = node(n.op == OpKind::kMaxPool2D ? "MaxPool" : "AveragePool", {x}, as);
        out = node("Transpose", {y}, {attr("perm", std::vector<int64_t>{0, 2, 3, 1})});
        return;
      }
      case OpKind::kGather:
        out = node("Gather", {in(id, 0), in(id, 1)}, {attr("axis", n.attrs.get_int("axis"))});
        return;
      case OpKind::kSoftmax: case OpKind::kLogSoftmax:
        out = node(n.op == OpKind::kSoftmax ? "Softmax" : "LogSoftmax", {in(id, 0)},
                   {attr("axis", n.attrs.get_int("axis"))});
        return;
      case OpKind::kLayerNorm:
        out = node("LayerNormalization", {in(id, 0), in(id, 1), in(id, 2)},
                   {attr("axis", int64_t{-1}),
                    attr("epsilon", static_cast<float>(n.attrs.get_float("epsilon")))});
        return;
      default:
        throw_error(ErrorKind::kUnsupported,
                    fmt::format("op {} has no ONNX form", op_name(n.op)));
    }
  }

  // softmax(q kᵀ · scale [where(causal, ·, -inf)]) v, the form the importer fuses back.
  void attention(ValueId id) {
    const Node& n = g_.node(id);
    TS_CHECK(n.inputs.size() == 3, ErrorKind::kUnsupported,
             "attention with a run-time key length (a decoding graph) has no ONNX form");
    const Shape qs = g_.type(n.inputs[0]).shape, ks = g_.type(n.inputs[1]).shape;
    const int rank = qs.rank();
    const int64_t tq = qs[rank - 2], tk = ks[rank - 2], d = qs[rank - 1];
    TS_CHECK(tq != kDynamic && tk != kDynamic, ErrorKind::kUnsupported,
             "attention over a batch-sized axis");
    const DType dt = n.type.dtype;
    double scale = n.attrs.has("scale") ? n.attrs.get_float("scale")
                                        : 1.0 / std::sqrt(static_cast<double>(d));
    std::string kt = node("Transpose", {in(id, 1)}, {attr("perm", last_two_swapped(rank))});
    std::string s = node("Mul", {node("MatMul", {in(id, 0), kt}), scalar(scale, dt, "scale")});
    if (n.attrs.get_int_or("causal", 0)) {
      TS_CHECK(tq <= tk, ErrorKind::kUnsupported,
               "causal attention with more queries ({}) than keys ({})", tq, tk);
      Tensor mask = Tensor::zeros(kBool, Shape{tq, tk});
      for (int64_t i = 0; i < tq; ++i)
        for (int64_t j = 0; j < tk; ++j) mask.set(i * tk + j, j <= i + (tk - tq) ? 1 : 0);
      s = node("Where", {constant(mask, "causal_mask"), s,
                         scalar(-std::numeric_limits<double>::infinity(), dt, "neg_inf")});
    }
    names_[static_cast<size_t>(id)] =
        node("MatMul", {node("Softmax", {s}, {attr("axis", int64_t{-1})}), in(id, 2)});
  }

  const Graph& g_;
  onnx::GraphProto* gp_;
  std::vector<std::vector<ValueId>> users_;
  std::vector<std::string> names_;
  std::set<std::string> used_;
  std::set<ValueId> oihw_;
  std::vector<std::string> non_trainable_;
  std::string scope_;
};

}  // namespace

std::string export_onnx_bytes(Model& model, const OnnxExportOptions& options) {
  // LayerNormalization is new in 17, the opset this writer targets.
  TS_CHECK(options.opset == 17, ErrorKind::kInvalidArgument,
           "ONNX export: opset {}; the exporter writes opset 17", options.opset);
  const Graph& predict = model.predict_graph();
  Graph g = decompose(predict, [](const Node& n) { return !has_direct_form(n.op); });
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("tessera");
  m.set_producer_version("0.1.0");
  onnx::OperatorSetIdProto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(options.opset);
  onnx::GraphProto* gp = m.mutable_graph();
  gp->set_name(model.net().name());
  Exporter e(g, gp);
  e.run();
  if (!e.non_trainable().empty()) {
    std::string list;
    for (const std::string& n : e.non_trainable()) list += (list.empty() ? "" : ",") + n;
    onnx::StringStringEntryProto* p = m.add_metadata_props();
    p->set_key("tessera.non_trainable");
    p->set_value(list);
  }
  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& ex) {
    throw_error(ErrorKind::kInternal,
                fmt::format("ONNX export of model '{}': the ONNX checker rejects the result: {}",
                            model.net().name(), ex.what()));
  }
  return m.SerializeAsString();
}

void export_onnx(Model& model, const std::string& path, const OnnxExportOptions& options) {
  write_file_atomic(path, export_onnx_bytes(model, options));
}

}  // namespace tessera
