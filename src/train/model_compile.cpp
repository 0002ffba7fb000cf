// Model::compile: the training step as one graph — forward (training mode), the weighted
// loss, autodiff and the optimizer's updates — plus the evaluation and inference graphs.
// Programs are compiled lazily, once per batch size (model_internal.h).
#include <set>

#include "model_internal.h"
#include "tessera/backends/backend.h"
#include "tessera/core/error.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

// Loss::target_type may answer per sample ([] for sparse labels) or with the batch
// dimension; the model keeps the batched form.
TensorType batched(TensorType t) {
  if (t.shape.rank() > 0 && t.shape[0] == kDynamic) return t;
  Shape s{kDynamic};
  for (int64_t d : t.shape.dims()) s.push_back(d);
  t.shape = s;
  return t;
}

Graph build_train_graph(const Functional& net, const Loss& loss_fn, Optimizer& optimizer,
                        const TensorType& input_type, const TensorType& target_type,
                        uint64_t seed) {
  GraphBuilder b;
  CallContext ctx{b};
  ctx.training = true;
  ctx.seed = seed;
  ValueId x = b.input(net.input_names()[0], input_type.dtype, input_type.shape);
  ValueId y = b.input("y", target_type.dtype, target_type.shape);
  ValueId sample_weight = b.input("sample_weight", kF32, {kDynamic});
  ctx.step = b.input("step", kI64, {});
  ValueId y_pred = net.emit(ctx, {&x, 1})[0];
  ValueId per_sample = loss_fn.per_sample(b, y_pred, y);
  ValueId w =
      b.dtype(per_sample) == kF32 ? sample_weight : b.cast(sample_weight, b.dtype(per_sample));
  // Keras' sum-over-batch-size reduction: Σ(w·loss)/N.
  ValueId loss = b.reduce_mean(b.mul(per_sample, w), {});
  b.output(loss);
  b.output(y_pred);
  // Layer state (moving statistics) is written when the step ends, as the optimizer's
  // updates are; differentiate() keeps the updates of the graph it is given.
  for (const auto& [variable, value] : ctx.state_updates) b.update(ctx.param(variable), value);

  std::vector<VariablePtr> trainable;
  std::vector<ValueId> wrt;
  for (const VariablePtr& v : net.variables()) {
    if (!v->trainable) continue;
    auto it = ctx.params.find(v.get());
    if (it == ctx.params.end()) continue;  // not used by this graph
    trainable.push_back(v);
    wrt.push_back(it->second);
  }
  Gradients d = differentiate(b.finish(), loss, wrt);
  GraphBuilder s(std::move(d.graph));
  CallContext octx{s};
  octx.training = true;
  octx.seed = seed;
  octx.step = ctx.step;
  octx.params = ctx.params;  // the forward graph's ids are unchanged by differentiate
  std::vector<ParamGrad> pairs;
  for (size_t i = 0; i < trainable.size(); ++i) pairs.push_back({trainable[i], wrt[i], d.grads[i]});
  optimizer.apply(octx, pairs);
  return s.finish();
}

}  // namespace

void Model::compile(CompileConfig config) {
  const Functional& f = net();
  TS_CHECK(f.input_types().size() == 1 && f.output_types().size() == 1, ErrorKind::kUnsupported,
           "compile: model '{}' has {} inputs and {} outputs; fit/evaluate support one of each",
           f.name(), f.input_types().size(), f.output_types().size());
  TS_CHECK(!config.backends.empty(), ErrorKind::kInvalidArgument,
           "compile: the list of backends is empty");
  for (const std::string& name : config.backends) {
    if (backend_registry().find(name) == nullptr) {
      std::string known;
      for (const std::string& n : backend_registry().names())
        known += (known.empty() ? "" : ", ") + n;
      throw_error(ErrorKind::kNotFound,
                  fmt::format("compile: unknown backend '{}' (known: {})", name, known));
    }
  }
  // Everything is created before anything is replaced, so a bad config leaves the model
  // as it was.
  std::unique_ptr<Loss> loss = make_loss(config.loss, config.loss_options);
  std::unique_ptr<Optimizer> optimizer = make_optimizer(config.optimizer, config.optimizer_options);
  std::vector<std::unique_ptr<Metric>> metrics;
  std::set<std::string> seen;
  for (const std::string& m : config.metrics) {
    metrics.push_back(make_metric(m, config.loss));
    TS_CHECK(seen.insert(metrics.back()->name()).second, ErrorKind::kInvalidArgument,
             "compile: metric '{}' is listed twice", m);
  }
  TS_CHECK(!seen.count("loss"), ErrorKind::kInvalidArgument,
           "compile: a metric may not be named 'loss'");

  std::unique_ptr<Loss> old_loss = std::move(loss_);
  std::unique_ptr<Optimizer> old_optimizer = std::move(optimizer_);
  CompileConfig old_config = std::move(config_);
  loss_ = std::move(loss);
  optimizer_ = std::move(optimizer);
  config_ = std::move(config);
  try {
    build_graphs(0);
  } catch (...) {
    loss_ = std::move(old_loss);
    optimizer_ = std::move(old_optimizer);
    config_ = std::move(old_config);
    throw;
  }
  metrics_ = std::move(metrics);
  step_ = 0;
}

void Model::build_graphs(uint64_t seed) {
  const Functional& f = net();
  auto c = std::make_unique<Compiled>();
  c->backends = config_.backends;
  c->input_type = f.input_types()[0];
  c->output_type = f.output_types()[0];
  c->train_seed = seed;
  {
    GraphBuilder b;
    CallContext ctx{b};
    ValueId x = b.input(f.input_names()[0], c->input_type.dtype, c->input_type.shape);
    b.output(f.emit(ctx, {&x, 1})[0]);
    c->predict_graph = b.finish();
  }
  if (loss_) {
    c->target_type = batched(loss_->target_type(c->output_type));
    if (c->target_type.dtype.is_int() && c->output_type.shape.rank() >= 2)
      c->num_classes = c->output_type.shape[c->output_type.shape.rank() - 1];
    GraphBuilder b;
    CallContext ctx{b};
    ValueId x = b.input(f.input_names()[0], c->input_type.dtype, c->input_type.shape);
    ValueId y = b.input("y", c->target_type.dtype, c->target_type.shape);
    ValueId y_pred = f.emit(ctx, {&x, 1})[0];
    b.output(loss_->per_sample(b, y_pred, y));
    b.output(y_pred);
    c->eval_graph = b.finish();
  }
  if (optimizer_)
    c->train_graph = build_train_graph(f, *loss_, *optimizer_, c->input_type, c->target_type, seed);
  compiled_ = std::move(c);
}

Model::Compiled& Model::inference_state() {
  if (!compiled_) build_graphs(0);
  return *compiled_;
}

const Graph& Model::train_graph() const {
  TS_CHECK(compiled() && compiled_, ErrorKind::kInvalidArgument,
           "the model is not compiled: call compile() first");
  return compiled_->train_graph;
}

const Graph& Model::predict_graph() { return inference_state().predict_graph; }

}  // namespace tessera
