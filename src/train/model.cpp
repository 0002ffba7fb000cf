// Model and Sequential: construction, the architecture, weights. Compilation, fitting and
// inference live in model_compile.cpp, model_fit.cpp and model_infer.cpp.
#include "tessera/train/model.h"

#include "model_internal.h"
#include "tessera/core/error.h"

namespace tessera {

Tensor rows(const Tensor& t, int64_t begin, int64_t n) {
  Shape s = t.shape();
  int64_t row_elems = s[0] == 0 ? 0 : s.numel() / s[0];
  s[0] = n;
  return Tensor(t.buffer(), t.offset_bytes() + begin * row_elems * t.dtype().size(), s,
                contiguous_strides(s), t.dtype());
}

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
             std::string name, uint64_t seed)
    : net_(std::move(inputs), std::move(outputs), std::move(name), seed) {}

Model::Model() = default;
Model::Model(Functional net) : net_(std::move(net)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const Functional& Model::net() const {
  TS_CHECK(!net_.input_types().empty(), ErrorKind::kInvalidArgument,
           "model '{}' is not built: give the first layer an input_shape or call build(shape)",
           net_.name().empty() ? "sequential" : net_.name());
  return net_;
}

Functional& Model::net() {
  const Model& self = *this;
  self.net();
  return net_;
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> out;
  for (const VariablePtr& v : net().variables()) out.push_back(v->value.clone());
  return out;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  std::vector<VariablePtr> vars = net().variables();
  TS_CHECK(weights.size() == vars.size(), ErrorKind::kInvalidArgument,
           "set_weights: the model has {} weights, got {}", vars.size(), weights.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    TS_CHECK(weights[i].shape() == vars[i]->value.shape(), ErrorKind::kInvalidArgument,
             "set_weights: '{}' has shape {}, got {}", vars[i]->name, vars[i]->value.shape().str(),
             weights[i].shape().str());
    vars[i]->value.copy_from(weights[i]);  // in place: programs share the buffer
  }
}

void Model::architecture_changed() {
  if (compiled()) {
    build_graphs(compiled_ ? compiled_->train_seed : 0);
  } else {
    compiled_.reset();
  }
}

Sequential::Sequential(std::vector<LayerPtr> layers, std::string name, uint64_t seed)
    : pending_(std::move(layers)), name_(std::move(name)), seed_(seed) {
  for (const LayerPtr& l : pending_)
    TS_CHECK(l != nullptr, ErrorKind::kInvalidArgument, "Sequential '{}': a layer is null", name_);
  if (!pending_.empty() && pending_[0]->input_shape()) input_shape_ = *pending_[0]->input_shape();
  rebuild();
}

void Sequential::add(LayerPtr layer) {
  TS_CHECK(layer != nullptr, ErrorKind::kInvalidArgument, "Sequential '{}': add(nullptr)", name_);
  if (pending_.empty() && !input_shape_ && layer->input_shape())
    input_shape_ = *layer->input_shape();
  pending_.push_back(std::move(layer));
  rebuild();
}

void Sequential::build(const Shape& input_shape) {
  input_shape_ = input_shape;
  rebuild();
}

void Sequential::rebuild() {
  if (!input_shape_ || pending_.empty()) return;
  // Layers keep their weights: a built layer is not built again.
  SymbolicTensor x = Input(*input_shape_);
  SymbolicTensor h = x;
  for (const LayerPtr& l : pending_) h = (*l)(h);
  net_ = Functional({x}, {h}, name_, seed_);
  architecture_changed();
}

}  // namespace tessera
