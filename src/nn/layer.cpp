// The Layer base: naming, one-time build, symbolic calls for the functional API, and the
// per-graph parameter nodes of CallContext.
#include "tessera/nn/layer.h"

#include <atomic>

#include "nn_internal.h"
#include "tessera/core/error.h"

namespace tessera {

uint64_t hash_string(std::string_view s, uint64_t h) {
  // FNV-1a, then a splitmix64 finalizer so that nearby names give unrelated seeds.
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return mix64(h);
}

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {
std::atomic<uint64_t> g_random_seed{0};
}  // namespace

uint64_t weight_seed(const std::string& layer_name, uint64_t salt) {
  uint64_t global = g_random_seed.load();
  return mix64(hash_string(layer_name) ^ salt ^ (global ? mix64(global) : 0));
}

void set_random_seed(uint64_t seed) { g_random_seed.store(seed); }
uint64_t random_seed() { return g_random_seed.load(); }

std::string shape_tuple(const Shape& s) {
  // Python's tuple repr, with None for the batch: (None, 64), (None,).
  std::string r = "(";
  for (int i = 0; i < s.rank(); ++i) {
    if (i) r += ", ";
    r += s[i] == kDynamic ? "None" : std::to_string(s[i]);
  }
  if (s.rank() == 1) r += ",";
  return r + ")";
}

Shape per_sample(const Shape& s) {
  return s.rank() == 0 ? Shape{} : Shape(std::span<const int64_t>(s.begin() + 1, s.end()));
}

Shape with_batch_dim(int64_t batch, const Shape& per_sample_shape) {
  Shape r{batch};
  for (int64_t d : per_sample_shape.dims()) r.push_back(d);
  return r;
}

VariablePtr KvCache::variable(const std::string& name, const TensorType& type) {
  auto it = variables.find(name);
  if (it == variables.end()) {
    auto v = std::make_shared<Variable>(
        Variable{name, Tensor::zeros(type.dtype, type.shape), /*trainable=*/false});
    return variables.emplace(name, std::move(v)).first->second;
  }
  const Tensor& t = it->second->value;
  TS_CHECK(t.dtype() == type.dtype && t.shape() == type.shape, ErrorKind::kInvalidArgument,
           "KV cache '{}' holds {} but {} was asked for (one cache per attention layer)", name,
           TensorType{t.dtype(), t.shape()}.str(), type.str());
  return it->second;
}

ValueId CallContext::param(const VariablePtr& v) {
  TS_CHECK(v != nullptr, ErrorKind::kInvalidArgument, "CallContext::param: null variable");
  auto it = params.find(v.get());
  ValueId id = it != params.end() ? it->second : kNoValue;
  if (id == kNoValue) {
    id = b.parameter(v->name, v->value, v->trainable);
    params.emplace(v.get(), id);
  }
  DType dt = v->value.dtype();
  if (!compute_dtype || !dt.is_float() || dt == *compute_dtype) return id;
  auto cast = cast_params.find(v.get());
  if (cast != cast_params.end()) return cast->second;
  ValueId c = b.cast(id, *compute_dtype);
  cast_params.emplace(v.get(), c);
  return c;
}

SymbolicTensor Input(const Shape& shape, DType dtype, std::string name) {
  TS_CHECK(shape.rank() < kMaxRank, ErrorKind::kInvalidArgument,
           "Input '{}': shape {} has too many dims (at most {} per sample)", name, shape.str(),
           kMaxRank - 1);
  for (int64_t d : shape.dims())
    TS_CHECK(d > 0, ErrorKind::kInvalidArgument,
             "Input '{}': per-sample dims must be > 0, got {} (the batch dim is added)", name,
             shape.str());
  auto call = std::make_shared<SymbolicCall>();
  call->input_name = name;
  call->type = TensorType{dtype, with_batch_dim(kDynamic, shape)};
  uint64_t sig = hash_string(name, 0x1b873593ull);
  for (int64_t d : shape.dims()) sig = mix64(sig ^ static_cast<uint64_t>(d));
  call->signature = sig;
  return SymbolicTensor(std::move(call), TensorType{dtype, with_batch_dim(kDynamic, shape)});
}

std::string Layer::describe() const { return fmt::format("layer '{}' ({})", name_, class_name()); }

void Layer::set_name(std::string name) {
  TS_CHECK(!name.empty(), ErrorKind::kInvalidArgument, "{}: a layer name cannot be empty",
           describe());
  name_ = std::move(name);
  for (size_t i = 0; i < weights_.size(); ++i)
    weights_[i]->name = name_ + "/" + weight_short_names_[i];
}

namespace {

// Types agree up to the batch dimension, which may be symbolic on one side.
bool same_up_to_batch(const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype || a.shape.rank() != b.shape.rank()) return false;
  for (int i = 1; i < a.shape.rank(); ++i)
    if (a.shape[i] != b.shape[i]) return false;
  return true;
}

std::string types_str(std::span<const TensorType> ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + ts[i].str();
  return s;
}

}  // namespace

bool Layer::fits_built_weights(std::span<const TensorType> inputs) const {
  bool same = inputs.size() == built_inputs_.size();
  for (size_t i = 0; same && i < inputs.size(); ++i)
    same = same_up_to_batch(inputs[i], built_inputs_[i]);
  return same;
}

void Layer::build(std::span<const TensorType> inputs, Rng& rng) {
  if (built_) {
    TS_CHECK(fits_built_weights(inputs), ErrorKind::kInvalidArgument,
             "{}: was built for inputs {} and cannot take {} (a layer's weights fit one input "
             "type; create another layer)",
             describe(), types_str(built_inputs_), types_str(inputs));
    return;
  }
  TS_CHECK(!inputs.empty(), ErrorKind::kInvalidArgument, "{}: called without inputs",
           describe());
  build_weights(inputs, rng);
  built_inputs_.assign(inputs.begin(), inputs.end());
  built_ = true;
}

TensorType Layer::output_type(std::span<const TensorType> inputs, Rng& rng) {
  build(inputs, rng);
  GraphBuilder b;
  std::vector<ValueId> ids;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Shape s = inputs[i].shape;
    if (s.rank() > 0) s[0] = kDynamic;
    ids.push_back(b.input(fmt::format("x{}", i), inputs[i].dtype, s));
  }
  CallContext ctx{b};
  try {
    return b.type(call(ctx, ids));
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{}: on inputs {}: {}", describe(), types_str(inputs),
                                      e.what()));
  }
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (const VariablePtr& w : weights_) n += w->value.numel();
  return n;
}

nlohmann::json Layer::config() const {
  nlohmann::json j = {{"name", name_}};
  if (input_shape_) j["input_shape"] = input_shape_->to_vector();
  return j;
}

VariablePtr Layer::add_weight(const std::string& short_name, Tensor value, bool trainable) {
  auto v = std::make_shared<Variable>(Variable{name_ + "/" + short_name, std::move(value),
                                               trainable});
  weights_.push_back(v);
  weight_short_names_.push_back(short_name);
  return v;
}

SymbolicTensor Layer::operator()(const SymbolicTensor& x) {
  return (*this)(std::vector<SymbolicTensor>{x});
}

SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& xs) {
  TS_CHECK(!xs.empty(), ErrorKind::kInvalidArgument, "{}: called without inputs", describe());
  std::vector<TensorType> types;
  uint64_t sig = hash_string(config().dump(), hash_string(name_, 0x85ebca6bull));
  for (size_t i = 0; i < xs.size(); ++i) {
    TS_CHECK(xs[i].call() != nullptr, ErrorKind::kInvalidArgument,
             "{}: input {} is an empty SymbolicTensor (make inputs with Input())", describe(),
             i);
    types.push_back(xs[i].type());
    sig = mix64(sig ^ xs[i].call()->signature);
  }
  int earlier = xs[0].call()->consumers[sig]++;
  if (earlier > 0) sig = mix64(sig ^ static_cast<uint64_t>(earlier));
  Rng rng(weight_seed(name_, sig));
  TensorType out = output_type(types, rng);
  auto call = std::make_shared<SymbolicCall>();
  call->layer = shared_from_this();
  call->inputs = xs;
  call->signature = sig;
  call->type = out;
  return SymbolicTensor(std::move(call), std::move(out));
}

}  // namespace tessera
