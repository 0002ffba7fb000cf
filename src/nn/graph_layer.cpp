// GraphLayer (include/tessera/nn/graph_layer.h): a fixed IR fragment replayed as a layer, and
// the fragment's JSON form. The JSON reader trusts nothing: it is reached from checkpoints,
// so every id, op, type and constant is checked before use.
#include "tessera/nn/graph_layer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

using nlohmann::json;

// A fragment from a file may not ask for more weight storage than this (elements, all
// weights together): a corrupt size must fail, not exhaust memory.
constexpr int64_t kMaxFragmentWeightElements = int64_t{1} << 31;
constexpr int64_t kMaxDim = int64_t{1} << 40;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    if (i + 2 < n) v |= p[i + 2];
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += i + 1 < n ? kBase64[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kBase64[v & 63] : '=';
  }
  return out;
}

// Returns false on a malformed string.
bool base64_decode(const std::string& s, std::string* out) {
  if (s.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  out->reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after '='
      v[k] = value(c);
      if (v[k] < 0) return false;
    }
    uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) |
                 uint32_t(v[3]);
    out->push_back(static_cast<char>((w >> 16) & 255));
    if (pad < 2) out->push_back(static_cast<char>((w >> 8) & 255));
    if (pad < 1) out->push_back(static_cast<char>(w & 255));
  }
  return true;
}

json float_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json attrs_json(const Attrs& attrs) {
  json out = json::object();
  for (const auto& [name, value] : attrs.items()) {
    if (const auto* i = std::get_if<int64_t>(&value)) out[name] = {{"int", *i}};
    else if (const auto* f = std::get_if<double>(&value)) out[name] = {{"float", float_json(*f)}};
    else if (const auto* is = std::get_if<std::vector<int64_t>>(&value)) out[name] = {{"ints", *is}};
    else if (const auto* s = std::get_if<std::string>(&value)) out[name] = {{"string", *s}};
    else out[name] = {{"dtype", std::get<DType>(value).name()}};
  }
  return out;
}

json type_json(const TensorType& t) {
  return {{"dtype", t.dtype.name()}, {"shape", t.shape.to_vector()}};
}

// Errors name the node being read.
class FragmentReader {
 public:
  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorKind::kInvalidArgument,
                node_ < 0 ? fmt::format("graph fragment: {}", what)
                          : fmt::format("graph fragment node {}: {}", node_, what));
  }
  void at_node(int i) { node_ = i; }

  const json& field(const json& j, const char* key) const {
    if (!j.is_object() || !j.contains(key)) fail(fmt::format("missing field '{}'", key));
    return j.at(key);
  }
  std::string str(const json& j, const char* key) const {
    const json& v = field(j, key);
    if (!v.is_string()) fail(fmt::format("field '{}' must be a string", key));
    return v.get<std::string>();
  }
  int64_t integer(const json& v, const char* what) const {
    if (!v.is_number_integer()) fail(fmt::format("{} must be an integer", what));
    return v.get<int64_t>();
  }
  std::vector<int64_t> ints(const json& v, const char* what) const {
    if (!v.is_array()) fail(fmt::format("{} must be a list of integers", what));
    std::vector<int64_t> out;
    for (const json& e : v) out.push_back(integer(e, what));
    return out;
  }
  double number(const json& v, const char* what) const {
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
      if (s == "inf") return std::numeric_limits<double>::infinity();
      if (s == "-inf") return -std::numeric_limits<double>::infinity();
    }
    if (!v.is_number()) fail(fmt::format("{} must be a number", what));
    return v.get<double>();
  }
  DType dtype(const std::string& name) const {
    try {
      return DType::parse(name);
    } catch (const Error&) {
      fail(fmt::format("unknown dtype '{}'", name));
    }
  }
  TensorType type(const json& j) const {
    const json& t = field(j, "type");
    TensorType out;
    out.dtype = dtype(str(t, "dtype"));
    std::vector<int64_t> dims = ints(field(t, "shape"), "shape");
    if (dims.size() > static_cast<size_t>(kMaxRank))
      fail(fmt::format("shape of rank {} (at most {})", dims.size(), kMaxRank));
    for (int64_t d : dims) {
      if (d < kDynamic || d > kMaxDim) fail(fmt::format("shape has an invalid size {}", d));
      out.shape.push_back(d);
    }
    return out;
  }
  Attrs attrs(const json& j) const {
    Attrs out;
    if (!j.contains("attrs")) return out;
    const json& a = j.at("attrs");
    if (!a.is_object()) fail("field 'attrs' must be an object");
    for (const auto& [name, v] : a.items()) {
      if (!v.is_object() || v.size() != 1)
        fail(fmt::format("attribute '{}' must be an object with one typed value", name));
      const auto first = v.begin();  // not *v.items().begin(): that proxy dies at the ';'
      const std::string& kind = first.key();
      const json& x = first.value();
      if (kind == "int") out.set(name, integer(x, "an int attribute"));
      else if (kind == "float") out.set(name, number(x, "a float attribute"));
      else if (kind == "ints") out.set(name, ints(x, "an ints attribute"));
      else if (kind == "string" && x.is_string()) out.set(name, x.get<std::string>());
      else if (kind == "dtype" && x.is_string()) out.set(name, dtype(x.get<std::string>()));
      else fail(fmt::format("attribute '{}' has an unknown kind '{}'", name, kind));
    }
    return out;
  }

 private:
  int node_ = -1;
};

class GraphLayerImpl final : public Layer {
 public:
  GraphLayerImpl(Graph fragment, std::string name)
      : Layer(default_name(std::move(name), "graph")), g_(std::move(fragment)) {
    TS_CHECK(g_.outputs().size() == 1, ErrorKind::kInvalidArgument,
             "{}: the fragment must have exactly one output, it has {}", describe(),
             g_.outputs().size());
    TS_CHECK(g_.outputs()[0] >= 0 && g_.outputs()[0] < g_.size(), ErrorKind::kInvalidArgument,
             "{}: the fragment's output {} is not one of its {} nodes", describe(),
             g_.outputs()[0], g_.size());
    std::set<std::string> weight_names;
    bool inputs_done = false;
    for (ValueId i = 0; i < g_.size(); ++i) {
      const Node& n = g_.node(i);
      if (n.op == OpKind::kInput) {
        TS_CHECK(!inputs_done, ErrorKind::kInvalidArgument,
                 "{}: input node {} ('{}') comes after other nodes; inputs go first", describe(),
                 i, n.name);
        input_types_.push_back(n.type);
        continue;
      }
      inputs_done = true;
      if (n.op == OpKind::kParameter) {
        TS_CHECK(n.value.defined() && !n.name.empty(), ErrorKind::kInvalidArgument,
                 "{}: parameter node {} has no value or no name", describe(), i);
        TS_CHECK(weight_names.insert(n.name).second, ErrorKind::kInvalidArgument,
                 "{}: two weights are called '{}'", describe(), n.name);
      }
    }
    TS_CHECK(!input_types_.empty(), ErrorKind::kInvalidArgument, "{}: the fragment has no input",
             describe());
  }

  std::string class_name() const override { return "GraphLayer"; }

  ValueId call(CallContext& ctx, std::span<const ValueId> in) override {
    GraphBuilder& b = ctx.b;
    TS_CHECK(!ctx.compute_dtype || *ctx.compute_dtype == kF32, ErrorKind::kUnsupported,
             "{}: an imported graph runs in the dtypes it was written with; mixed precision "
             "policies are not supported",
             describe());
    TS_CHECK(in.size() == input_types_.size(), ErrorKind::kInvalidArgument,
             "{}: called with {} inputs, the graph takes {}", describe(), in.size(),
             input_types_.size());
    for (size_t k = 0; k < in.size(); ++k) {
      TensorType got = b.type(in[k]);
      const TensorType& want = input_types_[k];
      bool ok = got.dtype == want.dtype && got.shape.rank() == want.shape.rank();
      for (int d = 0; ok && d < got.shape.rank(); ++d)
        ok = want.shape[d] == kDynamic || got.shape[d] == want.shape[d];
      TS_CHECK(ok, ErrorKind::kInvalidArgument, "{}: input {} must be {}, got {}", describe(), k,
               want.str(), got.str());
    }
    const std::string prefix = b.scope().empty() ? std::string() : b.scope() + "/";
    std::vector<ValueId> map(static_cast<size_t>(g_.size()), kNoValue);
    size_t next_input = 0, next_weight = 0;
    std::vector<ValueId> args;
    for (ValueId i = 0; i < g_.size(); ++i) {
      const Node& n = g_.node(i);
      switch (n.op) {
        case OpKind::kInput:
          map[i] = in[next_input++];
          break;
        case OpKind::kParameter:
          map[i] = ctx.param(weights()[next_weight++]);
          break;
        case OpKind::kConstant:
          map[i] = b.constant(n.value, prefix + n.name);
          break;
        default:
          args.clear();
          for (ValueId x : n.inputs) args.push_back(map[x]);
          map[i] = b.emit(n.op, args, n.attrs, prefix + n.name);
      }
    }
    return map[g_.outputs()[0]];
  }

  nlohmann::json config() const override {
    nlohmann::json j = Layer::config();
    j["graph"] = graph_fragment_to_json(g_);
    return j;
  }

 protected:
  void build_weights(std::span<const TensorType> inputs, Rng&) override {
    (void)inputs;
    for (const Node& n : g_.nodes())
      if (n.op == OpKind::kParameter) add_weight(n.name, n.value, n.trainable);
  }

 private:
  Graph g_;
  std::vector<TensorType> input_types_;
};

}  // namespace

LayerPtr GraphLayer(Graph fragment, std::string name) {
  return std::make_shared<GraphLayerImpl>(std::move(fragment), std::move(name));
}

json graph_fragment_to_json(const Graph& g) {
  json nodes = json::array();
  for (const Node& n : g.nodes()) {
    json j = {{"op", op_name(n.op)}, {"name", n.name}, {"type", type_json(n.type)}};
    if (!n.inputs.empty()) j["inputs"] = n.inputs;
    if (!n.attrs.items().empty()) j["attrs"] = attrs_json(n.attrs);
    if (n.op == OpKind::kParameter) j["trainable"] = n.trainable;
    if (n.op == OpKind::kConstant) {
      Tensor t = n.value.contiguous();
      j["data"] = base64_encode(t.raw_data(), t.nbytes());
    }
    nodes.push_back(std::move(j));
  }
  return {{"nodes", std::move(nodes)}, {"outputs", g.outputs()}};
}

Graph graph_fragment_from_json(const json& j) {
  FragmentReader r;
  const json& nodes = r.field(j, "nodes");
  if (!nodes.is_array()) r.fail("field 'nodes' must be a list");
  GraphBuilder b;
  int64_t weight_elements = 0;
  std::string bytes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    r.at_node(static_cast<int>(i));
    const json& nj = nodes[i];
    const std::string op_text = r.str(nj, "op");
    std::optional<OpKind> op = op_kind_from_name(op_text);
    if (!op) r.fail(fmt::format("unknown op '{}'", op_text));
    const std::string name = r.str(nj, "name");
    if (*op == OpKind::kInput) {
      b.input(name, r.type(nj).dtype, r.type(nj).shape);
      continue;
    }
    if (*op == OpKind::kParameter || *op == OpKind::kConstant) {
      TensorType t = r.type(nj);
      if (!t.shape.is_static()) r.fail("a parameter or constant must have a static shape");
      int64_t numel = 1;
      for (int64_t d : t.shape.dims()) {
        if (d != 0 && numel > kMaxFragmentWeightElements / d)
          r.fail(fmt::format("shape {} is too large", t.shape.str()));
        numel *= d;
      }
      if (t.dtype.id() == DTypeId::kFixed) r.fail("fixed-point constants are not supported");
      if (*op == OpKind::kParameter) {
        weight_elements += numel;
        if (weight_elements > kMaxFragmentWeightElements)
          r.fail(fmt::format("the weights exceed {} elements", kMaxFragmentWeightElements));
        const json& tr = nj.contains("trainable") ? nj.at("trainable") : json(true);
        if (!tr.is_boolean()) r.fail("field 'trainable' must be true or false");
        b.parameter(name, Tensor::zeros(t.dtype, t.shape), tr.get<bool>());
      } else {
        if (!base64_decode(r.str(nj, "data"), &bytes)) r.fail("field 'data' is not base64");
        if (bytes.size() != static_cast<size_t>(numel) * t.dtype.size())
          r.fail(fmt::format("constant data has {} bytes, {} {} needs {}", bytes.size(),
                             t.dtype.name(), t.shape.str(), numel * t.dtype.size()));
        Tensor v = Tensor::zeros(t.dtype, t.shape);
        if (!bytes.empty()) std::memcpy(v.raw_data(), bytes.data(), bytes.size());
        b.constant(std::move(v), name);
      }
      continue;
    }
    std::vector<ValueId> inputs;
    if (nj.contains("inputs")) {
      for (int64_t x : r.ints(nj.at("inputs"), "field 'inputs'")) {
        if (x < 0 || x >= static_cast<int64_t>(i))
          r.fail(fmt::format("input {} is not an earlier node", x));
        inputs.push_back(static_cast<ValueId>(x));
      }
    }
    try {
      b.emit(*op, inputs, r.attrs(nj), name);
    } catch (const Error& e) {
      r.fail(e.what());
    }
  }
  r.at_node(-1);
  for (int64_t o : r.ints(r.field(j, "outputs"), "field 'outputs'")) {
    if (o < 0 || o >= b.graph().size()) r.fail(fmt::format("output {} is not a node", o));
    b.output(static_cast<ValueId>(o));
  }
  return b.finish();
}

}  // namespace tessera
