// ONNX import, the driver: parse (protobuf), check (the ONNX checker), opsets, inputs and
// initializers, one translator per node, then the IR fragment packaged as a GraphLayer in a
// Model. Errors from any node are rethrown naming the file, the node's name, index and
// operator.
#include "onnx_import.h"

#include <cstring>
#include <fstream>
#include <limits>

#include "onnx/checker.h"
#include "onnx_tensor.h"
#include "tessera/core/error.h"
#include "tessera/ir/passes.h"
#include "tessera/nn/graph_layer.h"

namespace tessera {
namespace onnx_io {
namespace {

constexpr int64_t kMinOpset = 13, kMaxOpset = 18;
// onnx 1.12 (Debian) knows opsets up to 17: an opset-18 model is checked as opset 17 after
// the reductions' axes inputs (new in 18) are written back as attributes.
constexpr int64_t kCheckerMaxOpset = 17;

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

std::string node_label(const onnx::NodeProto& n, int index) {
  return n.name().empty() ? fmt::format("{}_{}", clean_name(n.op_type()), index)
                          : clean_name(n.name());
}

}  // namespace

std::string clean_name(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size() && !(len == 1 && (c < 0x20 || c == 0x7f));
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok && len == 2) ok = c >= 0xc2;  // no overlong forms
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

bool Known::symbolic() const {
  for (uint8_t x : batch)
    if (x) return true;
  return false;
}

Importer::Importer(const onnx::ModelProto& model, std::string source, OnnxImportOptions options)
    : model_(model), source_(std::move(source)), options_(std::move(options)) {}

[[noreturn]] void Importer::unsupported(const std::string& what) const {
  throw_error(ErrorKind::kUnsupported, what);
}
[[noreturn]] void Importer::invalid(const std::string& what) const {
  throw_error(ErrorKind::kInvalidArgument, what);
}

bool Importer::has_input(int i) const {
  return i < node->input_size() && !node->input(i).empty();
}

const std::string& Importer::input_name(int i) const { return node->input(i); }

const Val& Importer::val(int i) {
  if (!has_input(i)) invalid(fmt::format("input {} is missing", i));
  const std::string& name = node->input(i);
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  auto init = inits_.find(name);
  if (init == inits_.end())
    invalid(fmt::format("input {} '{}' is not defined: no initializer, graph input or earlier "
                        "node output has that name",
                        i, name));
  Val v;
  v.init = init->second;
  return values_[name] = std::move(v);
}

const onnx::TensorProto* Importer::initializer(int i) {
  const Val& v = val(i);
  return v.plain == kNoValue && v.nhwc == kNoValue ? v.init : nullptr;
}

const Known* Importer::known(int i) {
  const Val& v = val(i);
  if (v.known) return &*v.known;
  if (v.init && v.init->data_type() != onnx::TensorProto::FLOAT &&
      v.init->data_type() != onnx::TensorProto::DOUBLE &&
      v.init->data_type() != onnx::TensorProto::FLOAT16 &&
      v.init->data_type() != onnx::TensorProto::BFLOAT16) {
    Tensor t = tensor_from_proto(*v.init, fmt::format("initializer '{}'", v.init->name()));
    if (t.numel() <= kMaxKnownElements) {
      Val& w = values_[node->input(i)];
      w.known = known_from_tensor(t);
      return &*w.known;
    }
  }
  return nullptr;
}

std::vector<int64_t> Importer::const_ints(int i, const char* what) {
  const Known* k = has_input(i) ? known(i) : nullptr;
  if (k == nullptr || !k->is_int())
    unsupported(fmt::format("{} (input {} '{}') must be integers known at import time (an "
                            "initializer, a Constant or a shape computation)",
                            what, i, has_input(i) ? input_name(i) : std::string()));
  if (k->symbolic())
    unsupported(fmt::format("{} (input {} '{}') depends on the batch size", what, i,
                            input_name(i)));
  return k->v;
}

ValueId Importer::parameter_from(const onnx::TensorProto& init, const Tensor& value) {
  const std::string name = clean_name(init.name());
  TS_CHECK(param_names_.insert(init.name()).second, ErrorKind::kInternal,
           "initializer '{}' became two parameters", name);
  // Rank-0 floats are constants (scales and epsilons a graph computes with, not weights).
  if (value.rank() == 0 || !value.dtype().is_float()) return b.constant(value, name);
  return b.parameter(name, value, non_trainable_.count(init.name()) == 0);
}

ValueId Importer::plain(int i) {
  const Val& cv = val(i);
  if (cv.plain != kNoValue) return cv.plain;
  Val& v = values_[node->input(i)];
  if (v.nhwc != kNoValue) {
    Shape s = b.shape(v.nhwc);
    if (s[1] == 1 && s[2] == 1) v.plain = b.reshape(v.nhwc, Shape{s[0], s[3], 1, 1});
    else v.plain = b.permute(v.nhwc, {0, 3, 1, 2});
  } else if (v.known) {
    v.plain = b.constant(known_to_tensor(*v.known), clean_name(input_name(i)));
  } else {
    TS_ASSERT(v.init != nullptr);
    Tensor t = tensor_from_proto(*v.init, fmt::format("initializer '{}'", v.init->name()));
    v.plain = parameter_from(*v.init, t);
  }
  return v.plain;
}

ValueId Importer::nhwc(int i) {
  const Val& cv = val(i);
  if (cv.nhwc != kNoValue) return cv.nhwc;
  ValueId p = plain(i);
  Shape s = b.shape(p);
  if (s.rank() != 4)
    invalid(fmt::format("input {} '{}' must be rank 4 (NCHW), got {}", i, input_name(i),
                        b.type(p).str()));
  Val& v = values_[node->input(i)];
  if (s[2] == 1 && s[3] == 1) v.nhwc = b.reshape(p, Shape{s[0], 1, 1, s[1]});
  else v.nhwc = b.permute(p, {0, 2, 3, 1});
  return v.nhwc;
}

ValueId Importer::hwio(int i) {
  const Val& cv = val(i);
  if (cv.hwio != kNoValue) return cv.hwio;
  if (cv.plain == kNoValue && cv.nhwc == kNoValue && cv.init && conv_only_.count(cv.init->name())) {
    // Stored in HWIO from the start: the variable is what conv2d reads, and an export
    // writes it back as OIHW.
    Tensor oihw = tensor_from_proto(*cv.init, fmt::format("initializer '{}'", cv.init->name()));
    if (oihw.rank() != 4) invalid(fmt::format("filter '{}' must be rank 4 (OIHW), got {}", cv.init->name(), oihw.shape().str()));
    const Shape& s = oihw.shape();
    Tensor t = Tensor::zeros(oihw.dtype(), Shape{s[2], s[3], s[1], s[0]});
    const size_t es = oihw.dtype().size();
    const char* src = static_cast<const char*>(oihw.raw_data());
    char* dst = static_cast<char*>(t.raw_data());
    for (int64_t o = 0; o < s[0]; ++o)
      for (int64_t c = 0; c < s[1]; ++c)
        for (int64_t h = 0; h < s[2]; ++h)
          for (int64_t w = 0; w < s[3]; ++w)
            std::memcpy(dst + static_cast<size_t>(((h * s[3] + w) * s[1] + c) * s[0] + o) * es,
                        src + static_cast<size_t>(((o * s[1] + c) * s[2] + h) * s[3] + w) * es, es);
    ValueId id = parameter_from(*cv.init, t);
    values_[node->input(i)].hwio = id;
    return id;
  }
  ValueId p = plain(i);
  if (b.shape(p).rank() != 4)
    invalid(fmt::format("filter input {} '{}' must be rank 4 (OIHW), got {}", i, input_name(i), b.type(p).str()));
  ValueId id = b.permute(p, {2, 3, 1, 0});
  values_[node->input(i)].hwio = id;
  return id;
}

std::optional<ValueId> Importer::dense_kernel(int i) {
  const Val& cv = val(i);
  if (cv.hwio != kNoValue) return cv.hwio;
  if (cv.plain != kNoValue || cv.nhwc != kNoValue || !cv.init || !gemm_bt_only_.count(cv.init->name()))
    return std::nullopt;
  Tensor nk = tensor_from_proto(*cv.init, fmt::format("initializer '{}'", cv.init->name()));
  if (nk.rank() != 2 || !nk.dtype().is_float()) return std::nullopt;
  const int64_t n = nk.shape()[0], k = nk.shape()[1];
  Tensor t = Tensor::zeros(nk.dtype(), Shape{k, n});
  const size_t es = nk.dtype().size();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c)
      std::memcpy(static_cast<char*>(t.raw_data()) + static_cast<size_t>(c * n + r) * es,
                  static_cast<const char*>(nk.raw_data()) + static_cast<size_t>(r * k + c) * es, es);
  ValueId id = parameter_from(*cv.init, t);
  values_[node->input(i)].hwio = id;
  return id;
}

bool Importer::is_nhwc_only(int i) {
  const Val& v = val(i);
  return v.nhwc != kNoValue && v.plain == kNoValue;
}

TensorType Importer::type(int i) {
  const Val& v = val(i);
  if (v.plain != kNoValue) return b.type(v.plain);
  if (v.nhwc != kNoValue) {
    TensorType t = b.type(v.nhwc);
    t.shape = Shape{t.shape[0], t.shape[3], t.shape[1], t.shape[2]};
    return t;
  }
  if (v.known) return {v.known->dtype, v.known->shape};
  TS_ASSERT(v.init != nullptr);
  std::optional<DType> d = dtype_from_onnx(v.init->data_type());
  if (!d) return b.type(plain(i));  // reports the unsupported type
  if (v.init->dims_size() > kMaxRank) return b.type(plain(i));  // reports it
  Shape s;
  for (int64_t x : v.init->dims()) {
    if (x < 0 || x > kMaxTensorElements) return b.type(plain(i));
    s.push_back(x);
  }
  return {*d, s};
}

void Importer::set_output(int k, Val v) {
  if (k >= node->output_size() || node->output(k).empty()) return;
  const std::string& name = node->output(k);
  if (values_.count(name) || inits_.count(name))
    invalid(fmt::format("output '{}' is defined twice", name));
  for (ValueId id : {v.plain, v.nhwc}) {
    if (id == kNoValue) continue;
    // Hostile dimensions must fail here, before anything sizes memory from them.
    const Shape& s = b.shape(id);
    int64_t n = 1;
    for (int64_t d : s.dims()) {
      int64_t x = d == kDynamic ? 1 : d;
      if (x != 0 && n > (int64_t{1} << 40) / x)
        invalid(fmt::format("output '{}' would have {} elements per sample, beyond any memory",
                            name, s.str()));
      n *= x;
    }
  }
  values_[name] = std::move(v);
}

const onnx::AttributeProto* Importer::attr(const char* name) const {
  for (const onnx::AttributeProto& a : node->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t Importer::attr_int(const char* name, int64_t fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto::INT)
    invalid(fmt::format("attribute '{}' must be an INT", name));
  return a->i();
}

float attr_float_impl(const onnx::AttributeProto* a, const char* name, float fallback) {
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT)
    throw_error(ErrorKind::kInvalidArgument, fmt::format("attribute '{}' must be a FLOAT", name));
  return a->f();
}

float Importer::attr_float(const char* name, float fallback) const {
  return attr_float_impl(attr(name), name, fallback);
}

std::vector<int64_t> Importer::attr_ints(const char* name) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return {};
  if (a->type() != onnx::AttributeProto::INTS)
    invalid(fmt::format("attribute '{}' must be INTS", name));
  return {a->ints().begin(), a->ints().end()};
}

std::string Importer::attr_string(const char* name, const std::string& fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return fallback;
  if (a->type() != onnx::AttributeProto::STRING)
    invalid(fmt::format("attribute '{}' must be a STRING", name));
  return a->s();
}

void Importer::check_opsets() {
  opset = 0;
  for (const onnx::OperatorSetIdProto& o : model_.opset_import()) {
    if (is_default_domain(o.domain())) opset = o.version();
  }
  TS_CHECK(opset != 0, ErrorKind::kInvalidArgument,
           "ONNX model '{}': imports no ai.onnx opset", source_);
  TS_CHECK(opset >= kMinOpset && opset <= kMaxOpset, ErrorKind::kUnsupported,
           "ONNX model '{}': opset {} is not supported (supported: {}–{}; convert older models "
           "with onnx.version_converter)",
           source_, opset, kMinOpset, kMaxOpset);
  TS_CHECK(model_.has_graph(), ErrorKind::kInvalidArgument, "ONNX model '{}': has no graph",
           source_);
  TS_CHECK(model_.functions_size() == 0, ErrorKind::kUnsupported,
           "ONNX model '{}': model-local functions are not supported", source_);
  TS_CHECK(model_.graph().sparse_initializer_size() == 0, ErrorKind::kUnsupported,
           "ONNX model '{}': sparse initializers are not supported", source_);
  // External data: a clear error before anything (the checker would look for the files).
  for (const onnx::TensorProto& t : model_.graph().initializer())
    TS_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL && t.external_data_size() == 0,
             ErrorKind::kUnsupported,
             "ONNX model '{}': initializer '{}' keeps its data in an external file; only "
             "self-contained models are supported (save with the data inside the .onnx file)",
             source_, t.name());
  for (int i = 0; i < model_.graph().node_size(); ++i)
    for (const onnx::AttributeProto& a : model_.graph().node(i).attribute())
      TS_CHECK(!a.has_t() || (a.t().data_location() != onnx::TensorProto::EXTERNAL &&
                              a.t().external_data_size() == 0),
               ErrorKind::kUnsupported,
               "ONNX model '{}': node '{}' (#{}, {}): attribute '{}' keeps its data in an "
               "external file; only self-contained models are supported",
               source_, node_label(model_.graph().node(i), i), i,
               model_.graph().node(i).op_type(), a.name());
}

void Importer::check_with_onnx_checker() {
  try {
    if (opset <= kCheckerMaxOpset) {
      onnx::checker::check_model(model_);
      return;
    }
    onnx::ModelProto copy = model_;
    for (onnx::OperatorSetIdProto& o : *copy.mutable_opset_import())
      if (is_default_domain(o.domain())) o.set_version(kCheckerMaxOpset);
    std::map<std::string, const onnx::TensorProto*> consts;
    for (const onnx::TensorProto& t : copy.graph().initializer()) consts[t.name()] = &t;
    for (const onnx::NodeProto& n : copy.graph().node())
      if (n.op_type() == "Constant" && n.attribute_size() == 1 && n.attribute(0).has_t() &&
          n.output_size() == 1)
        consts[n.output(0)] = &n.attribute(0).t();
    for (onnx::NodeProto& n : *copy.mutable_graph()->mutable_node()) {
      const std::string& op = n.op_type();
      bool axes_input = op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin" ||
                        op == "ReduceProd" || op == "ReduceL1" || op == "ReduceL2" ||
                        op == "ReduceLogSum" || op == "ReduceLogSumExp" ||
                        op == "ReduceSumSquare";
      if (!axes_input || n.input_size() < 2) continue;
      auto it = consts.find(n.input(1));
      if (it == consts.end())
        throw_error(ErrorKind::kUnsupported,
                    fmt::format("node '{}' ({}): axes must be a constant", n.name(), op));
      Tensor axes = tensor_from_proto(*it->second, "axes of " + op);
      onnx::AttributeProto* a = n.add_attribute();
      a->set_name("axes");
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t k = 0; k < axes.numel(); ++k)
        a->add_ints(static_cast<int64_t>(axes.get(k)));
      n.mutable_input()->RemoveLast();
    }
    onnx::checker::check_model(copy);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("ONNX model '{}': {}", source_, e.what()));
  } catch (const std::exception& e) {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("ONNX model '{}': the ONNX checker rejects it: {}", source_,
                            e.what()));
  }
}

void Importer::scan_initializers() {
  const onnx::GraphProto& g = model_.graph();
  for (const onnx::TensorProto& t : g.initializer()) {
    TS_CHECK(!t.name().empty(), ErrorKind::kInvalidArgument,
             "ONNX model '{}': an initializer has no name", source_);
    TS_CHECK(inits_.emplace(t.name(), &t).second, ErrorKind::kInvalidArgument,
             "ONNX model '{}': initializer '{}' is defined twice", source_, t.name());
  }
  // Conv weights used nowhere else are stored in the IR's HWIO layout, Gemm's transposed B
  // as [K, N] (a dense kernel); BatchNormalization's
  // running statistics are state, not trainable weights.
  std::map<std::string, int> uses, conv_uses, gemm_bt_uses;
  for (const onnx::NodeProto& n : g.node()) {
    for (int i = 0; i < n.input_size(); ++i) {
      ++uses[n.input(i)];
      if (i == 1 && n.op_type() == "Conv" && is_default_domain(n.domain())) ++conv_uses[n.input(i)];
      if (i == 1 && n.op_type() == "Gemm" && is_default_domain(n.domain())) {
        bool bt = false;
        for (const onnx::AttributeProto& a : n.attribute())
          if (a.name() == "transB" && a.type() == onnx::AttributeProto::INT) bt = a.i() != 0;
        if (bt) ++gemm_bt_uses[n.input(i)];
      }
      if ((i == 3 || i == 4) && n.op_type() == "BatchNormalization")
        non_trainable_.insert(n.input(i));
    }
  }
  for (const onnx::ValueInfoProto& o : g.output()) ++uses[o.name()];
  for (const auto& [name, count] : conv_uses)
    if (uses[name] == count && inits_.count(name)) conv_only_.insert(name);
  for (const auto& [name, count] : gemm_bt_uses)
    if (uses[name] == count && inits_.count(name)) gemm_bt_only_.insert(name);
  // Models written by export_onnx list their non-trainable variables.
  for (const onnx::StringStringEntryProto& p : model_.metadata_props()) {
    if (p.key() != "tessera.non_trainable") continue;
    size_t start = 0;
    while (start <= p.value().size()) {
      size_t end = p.value().find(',', start);
      if (end == std::string::npos) end = p.value().size();
      if (end > start) non_trainable_.insert(p.value().substr(start, end - start));
      start = end + 1;
    }
  }
}

void Importer::add_inputs() {
  const onnx::GraphProto& g = model_.graph();
  for (const onnx::ValueInfoProto& in : g.input()) {
    if (inits_.count(in.name())) continue;  // IR < 4 style: initializers listed as inputs
    auto fail = [&](ErrorKind kind, const std::string& what) {
      throw_error(kind, fmt::format("ONNX model '{}': graph input '{}': {}", source_, in.name(),
                                    what));
    };
    if (!in.type().has_tensor_type()) fail(ErrorKind::kUnsupported, "is not a tensor");
    const onnx::TypeProto::Tensor& tt = in.type().tensor_type();
    std::optional<DType> dtype = dtype_from_onnx(tt.elem_type());
    if (!dtype || tt.elem_type() == onnx::TensorProto::DOUBLE)
      fail(ErrorKind::kUnsupported,
           fmt::format("has element type {}; supported: FLOAT, FLOAT16, BFLOAT16, INT8, INT32, "
                       "INT64, BOOL",
                       onnx_type_name(tt.elem_type())));
    if (!tt.has_shape()) fail(ErrorKind::kUnsupported, "has no shape");
    const int rank = tt.shape().dim_size();
    if (rank < 1 || rank > kMaxRank)
      fail(ErrorKind::kUnsupported,
           fmt::format("has rank {}; inputs are [batch, ...] of rank 1 to {}", rank, kMaxRank));
    Shape s{kDynamic};
    const auto& d0 = tt.shape().dim(0);
    if (d0.has_dim_value() && declared_batch == 0) declared_batch = d0.dim_value();
    for (int k = 1; k < rank; ++k) {
      const auto& d = tt.shape().dim(k);
      if (!d.has_dim_value() || d.dim_value() < 1 || d.dim_value() > (int64_t{1} << 31))
        fail(ErrorKind::kUnsupported,
             fmt::format("dimension {} is '{}': every dimension but the first (the batch) must "
                         "be a fixed size",
                         k, d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value())));
      s.push_back(d.dim_value());
    }
    int64_t per_sample = 1;
    for (int k = 1; k < s.rank(); ++k) {
      per_sample *= s[k];
      if (per_sample > (int64_t{1} << 40)) fail(ErrorKind::kUnsupported, "is too large");
    }
    TS_CHECK(!values_.count(in.name()), ErrorKind::kInvalidArgument,
             "ONNX model '{}': graph input '{}' is listed twice", source_, in.name());
    values_[in.name()].plain = b.input(clean_name(in.name()), *dtype, s);
  }
  TS_CHECK(!b.graph().inputs().empty(), ErrorKind::kInvalidArgument,
           "ONNX model '{}': the graph has no inputs", source_);
  TS_CHECK(b.graph().inputs().size() == 1, ErrorKind::kUnsupported,
           "ONNX model '{}': the graph has {} inputs; Tessera models take one", source_,
           b.graph().inputs().size());
}

void Importer::translate(int index) {
  const onnx::NodeProto& n = model_.graph().node(index);
  node = &n;
  const std::string label = node_label(n, index);
  try {
    // PyTorch names nodes "/block/MatMul": no leading slash in the scope.
    GraphBuilder::ScopeGuard scope(b, label[0] == '/' ? label.substr(1) : label);
    const Translator* t = find_translator(n.domain(), n.op_type());
    if (t == nullptr) {
      unsupported(fmt::format("operator {}{} is not supported (supported: {})",
                              n.domain().empty() ? "" : n.domain() + ".", n.op_type(),
                              supported_operators()));
    }
    if (fold_known(*this, n.op_type())) return;
    (*t)(*this);
    for (int k = 0; k < n.output_size(); ++k)
      if (!n.output(k).empty() && !values_.count(n.output(k)))
        unsupported(fmt::format("output {} ('{}') is not supported", k, n.output(k)));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("ONNX model '{}': node '{}' (#{}, {}): {}", source_, label,
                                      index, n.op_type(), e.what()));
  }
}

Model Importer::run() {
  check_opsets();
  check_with_onnx_checker();
  scan_initializers();
  add_inputs();
  const onnx::GraphProto& g = model_.graph();
  for (int i = 0; i < g.node_size(); ++i) translate(i);

  TS_CHECK(g.output_size() == 1, ErrorKind::kUnsupported,
           "ONNX model '{}': the graph has {} outputs; Tessera imports models with one output",
           source_, g.output_size());
  const onnx::ValueInfoProto& out = g.output(0);
  auto it = values_.find(out.name());
  TS_CHECK(it != values_.end() && (it->second.plain != kNoValue || it->second.nhwc != kNoValue),
           ErrorKind::kUnsupported,
           "ONNX model '{}': output '{}' is not computed from the inputs (a constant or an "
           "initializer)",
           source_, out.name());
  onnx::NodeProto fake;  // plain() works on the current node's inputs
  fake.add_input(out.name());
  node = &fake;
  ValueId y = plain(0);
  TensorType t = b.type(y);
  auto where = [&] {
    for (int i = g.node_size() - 1; i >= 0; --i)
      for (const std::string& o : g.node(i).output())
        if (o == out.name())
          return fmt::format("node '{}' (#{}, {})", node_label(g.node(i), i), i,
                             g.node(i).op_type());
    return std::string("the graph");
  };
  TS_CHECK(t.shape.rank() >= 1 && t.shape[0] == kDynamic, ErrorKind::kUnsupported,
           "ONNX model '{}': output '{}' ({}, computed by {}) has no batch dimension first",
           source_, out.name(), t.str(), where());
  if (out.type().has_tensor_type()) {
    const onnx::TypeProto::Tensor& tt = out.type().tensor_type();
    std::optional<DType> dt = dtype_from_onnx(tt.elem_type());
    bool ok = !dt || *dt == t.dtype;
    if (tt.has_shape()) {
      ok = ok && tt.shape().dim_size() == t.shape.rank();
      for (int k = 1; ok && k < t.shape.rank(); ++k)
        ok = !tt.shape().dim(k).has_dim_value() || tt.shape().dim(k).dim_value() == t.shape[k];
    }
    TS_CHECK(ok, ErrorKind::kInvalidArgument,
             "ONNX model '{}': inconsistent shapes: output '{}' is declared {} {} dims, but {} "
             "computes {}",
             source_, out.name(), onnx_type_name(tt.elem_type()),
             tt.has_shape() ? std::to_string(tt.shape().dim_size()) : "?", where(), t.str());
  }
  node = nullptr;
  b.output(y);
  Graph fragment = eliminate_dead_code(b.finish());

  std::vector<SymbolicTensor> inputs;
  for (ValueId id : fragment.inputs()) {
    const Node& n = fragment.node(id);
    Shape per_sample;
    for (int k = 1; k < n.type.shape.rank(); ++k) per_sample.push_back(n.type.shape[k]);
    inputs.push_back(Input(per_sample, n.type.dtype, n.name));
  }
  std::string name = options_.name;
  if (name.empty()) name = g.name().empty() ? "onnx_model" : clean_name(g.name());
  LayerPtr layer = GraphLayer(std::move(fragment), "onnx");
  SymbolicTensor yt = (*layer)(inputs);
  return Model(std::move(inputs), {yt}, name);
}

}  // namespace onnx_io

Model import_onnx_bytes(std::string_view bytes, const std::string& source,
                        const OnnxImportOptions& options) {
  TS_CHECK(bytes.size() < (size_t{1} << 31), ErrorKind::kUnsupported,
           "ONNX model '{}': {} bytes; protobuf files are limited to 2 GiB", source, bytes.size());
  onnx::ModelProto model;
  TS_CHECK(model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())),
           ErrorKind::kInvalidArgument,
           "ONNX model '{}': not a valid ONNX protobuf (truncated or corrupt; {} bytes)", source,
           bytes.size());
  onnx_io::Importer importer(model, source, options);
  return importer.run();
}

Model import_onnx(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "ONNX model '{}': cannot open: {}", path,
           std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TS_CHECK(!in.bad(), ErrorKind::kIo, "ONNX model '{}': read failed", path);
  return import_onnx_bytes(bytes, path, options);
}

bool is_onnx_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

}  // namespace tessera
