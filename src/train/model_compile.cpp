// Model::compile: the training step as one graph — forward (training mode), the weighted
// loss, autodiff (with activation checkpointing when asked) and the optimizer's updates —
// plus the evaluation and inference graphs, all under the config's dtype policy.
// Programs are compiled lazily, once per batch size (model_internal.h).
#include <algorithm>
#include <optional>
#include <set>

#include "model_internal.h"
#include "tessera/backends/backend.h"
#include "tessera/backends/device_select.h"
#include "tessera/comm/mpi_communicator.h"
#include "tessera/core/error.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"
#include "tessera/ir/recompute.h"

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

// The compute dtype of a policy (unset: float32, every value keeps its dtype).
std::optional<DType> compute_dtype(const std::string& policy) {
  if (policy == "mixed_bfloat16") return kBF16;
  return std::nullopt;
}

// Emits the model on `x` under the config's dtype policy: float inputs cast to the compute
// dtype, the output cast back to f32 (the loss and metrics see f32, as Keras' mixed
// policies give float32 outputs to the loss).
ValueId emit_model(const Functional& net, CallContext& ctx, ValueId x,
                   const CompileConfig& config) {
  ctx.compute_dtype = compute_dtype(config.dtype_policy);
  GraphBuilder& b = ctx.b;
  if (ctx.compute_dtype && b.dtype(x).is_float()) x = b.cast(x, *ctx.compute_dtype);
  ValueId y = net.emit(ctx, {&x, 1})[0];
  if (ctx.compute_dtype && b.dtype(y) == *ctx.compute_dtype) y = b.cast(y, kF32);
  return y;
}

// Segments for activation checkpointing: each layer call's non-leaf nodes.
std::vector<int32_t> layer_call_segments(const Graph& g, ValueId first_call_start,
                                         const std::vector<ValueId>& call_ends) {
  std::vector<int32_t> segment(g.size(), -1);
  ValueId start = first_call_start;
  for (size_t k = 0; k < call_ends.size(); ++k) {
    for (ValueId v = start; v < call_ends[k]; ++v)
      if (op_info(g.node(v).op).op_class != OpClass::kLeaf) segment[v] = static_cast<int32_t>(k);
    start = call_ends[k];
  }
  return segment;
}

// Forward (training mode), the weighted loss and the backward pass, before any optimizer.
struct GradientStep {
  Graph graph;  // x, y, sample_weight, step -> loss, y_pred; layer state updates
  std::map<const Variable*, ValueId> params;
  ValueId step = kNoValue;
  std::vector<VariablePtr> trainable;
  std::vector<ValueId> wrt, grads;  // kNoValue: the variable does not reach the loss
};

GradientStep build_gradient_step(const Functional& net, const Loss& loss_fn,
                                 const TensorType& input_type, const TensorType& target_type,
                                 uint64_t seed, const CompileConfig& config) {
  GraphBuilder b;
  CallContext ctx{b};
  ctx.training = true;
  ctx.seed = seed;
  ValueId x = b.input(net.input_names()[0], input_type.dtype, input_type.shape);
  ValueId y = b.input("y", target_type.dtype, target_type.shape);
  ValueId sample_weight = b.input("sample_weight", kF32, {kDynamic});
  ctx.step = b.input("step", kI64, {});
  const ValueId calls_start = b.graph().size();
  ValueId y_pred = emit_model(net, ctx, x, config);
  ValueId loss;
  {
    GraphBuilder::ScopeGuard scope(b, "loss");
    ValueId per_sample = loss_fn.per_sample(b, y_pred, y);
    ValueId w =
        b.dtype(per_sample) == kF32 ? sample_weight : b.cast(sample_weight, b.dtype(per_sample));
    // Keras' sum-over-batch-size reduction: Σ(w·loss)/N.
    loss = b.reduce_mean(b.mul(per_sample, w), {});
  }
  b.output(loss);
  b.output(y_pred);
  // Layer state (moving statistics) is written when the step ends, as the optimizer's
  // updates are; differentiate() keeps the updates of the graph it is given.
  for (const auto& [variable, value] : ctx.state_updates) b.update(ctx.param(variable), value);

  GradientStep out;
  for (const VariablePtr& v : net.variables()) {
    if (!v->trainable) continue;
    auto it = ctx.params.find(v.get());
    if (it == ctx.params.end()) continue;  // not used by this graph
    out.trainable.push_back(v);
    out.wrt.push_back(it->second);
  }
  Graph forward = b.finish();
  Gradients d = differentiate(forward, loss, out.wrt);
  // Under mixed precision the backward pass recasts the weights and the input it reads
  // rather than keep their bf16 copies alive from the forward pass to its end.
  std::vector<char> recast(forward.size(), 0);
  bool any_recast = false;
  for (ValueId v = 0; v < forward.size(); ++v) {
    const Node& n = forward.node(v);
    if (ctx.compute_dtype && n.op == OpKind::kCast &&
        op_info(forward.node(n.inputs[0]).op).op_class == OpClass::kLeaf) {
      recast[v] = 1;
      any_recast = true;
    }
  }
  if (config.recompute || any_recast) {
    std::vector<int32_t> segments = config.recompute
                                        ? layer_call_segments(forward, calls_start, ctx.call_ends)
                                        : std::vector<int32_t>(forward.size(), -1);
    d.graph = recompute_activations(d.graph, forward.size(), segments, &d.grads, recast);
  }
  out.graph = std::move(d.graph);
  out.params = ctx.params;  // the forward graph's ids are unchanged by differentiate
  out.step = ctx.step;
  out.grads = std::move(d.grads);
  return out;
}

Graph build_train_graph(const Functional& net, const Loss& loss_fn, Optimizer& optimizer,
                        const TensorType& input_type, const TensorType& target_type, uint64_t seed,
                        const CompileConfig& config) {
  GradientStep g = build_gradient_step(net, loss_fn, input_type, target_type, seed, config);
  GraphBuilder s(std::move(g.graph));
  CallContext octx{s};
  octx.training = true;
  octx.seed = seed;
  octx.step = g.step;
  octx.params = g.params;
  std::vector<ParamGrad> pairs;
  for (size_t i = 0; i < g.trainable.size(); ++i)
    pairs.push_back({g.trainable[i], g.wrt[i], g.grads[i]});
  const ValueId optimizer_start = s.graph().size();
  {
    GraphBuilder::ScopeGuard scope(s, "optimizer");
    optimizer.apply(octx, pairs);
  }
  // Each variable's update right after its gradient: the gradients do not pile up in the
  // arena, and the updates are computed into the variables in place.
  return hoist_nodes(s.finish(), optimizer_start);
}

// The step split for the strategies: the gradient graph gives every gradient as an f32
// output (after loss and y_pred), so it can be all-reduced before the optimizer runs; the
// apply graph takes the reduced gradients as inputs and holds the optimizer's updates.
void build_split_step(const Functional& net, const Loss& loss_fn, Optimizer& optimizer,
                      const TensorType& input_type, const TensorType& target_type, uint64_t seed,
                      const CompileConfig& config, Graph& grad_graph, Graph& apply_graph,
                      std::vector<VariablePtr>& grad_variables) {
  GradientStep g = build_gradient_step(net, loss_fn, input_type, target_type, seed, config);
  GraphBuilder s(std::move(g.graph));
  grad_variables.clear();
  for (size_t i = 0; i < g.trainable.size(); ++i) {
    if (g.grads[i] == kNoValue) continue;  // the optimizer skips it as well
    ValueId grad = g.grads[i];
    if (s.dtype(grad) != kF32) grad = s.cast(grad, kF32);
    s.output(grad);
    grad_variables.push_back(g.trainable[i]);
  }
  grad_graph = s.finish();

  GraphBuilder a;
  CallContext actx{a};
  actx.training = true;
  actx.seed = seed;
  std::vector<ParamGrad> pairs;
  for (const VariablePtr& v : grad_variables) {
    ValueId grad = a.input("grad:" + v->name, kF32, v->value.shape());
    pairs.push_back({v, actx.param(v), grad});
  }
  {
    GraphBuilder::ScopeGuard scope(a, "optimizer");
    optimizer.apply(actx, pairs);
  }
  apply_graph = a.finish();
}

void check_distribution(const std::string& strategy, int replicas, double timeout_seconds) {
  const std::vector<std::string>& strategies = strategy_names();
  if (std::find(strategies.begin(), strategies.end(), strategy) == strategies.end())
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("compile: strategy '{}' is unknown (expected default, mirrored or "
                            "mpi)",
                            strategy));
  TS_CHECK(replicas >= 0 && replicas <= 256, ErrorKind::kInvalidArgument,
           "compile: replicas must be in [1, 256] (0: the default, 2), got {}", replicas);
  TS_CHECK(timeout_seconds > 0, ErrorKind::kInvalidArgument,
           "compile: timeout_seconds must be > 0, got {}", timeout_seconds);
  TS_CHECK(strategy != "mpi" || mpi_available(), ErrorKind::kUnsupported,
           "compile: strategy 'mpi' needs a build with MPI (configure with -DTESSERA_MPI=ON "
           "and install libopenmpi-dev)");
}

}  // namespace

void Model::set_distribution(const std::string& strategy, int replicas, bool deterministic,
                             double timeout_seconds) {
  TS_CHECK(compiled(), ErrorKind::kInvalidArgument,
           "set_distribution: the model is not compiled: call compile() first");
  check_distribution(strategy, replicas, timeout_seconds);
  bool rebuild = (strategy != "default" || deterministic) &&
                 (config_.strategy == "default" && !config_.deterministic);
  config_.strategy = strategy;
  config_.replicas = replicas;
  config_.deterministic = deterministic;
  config_.timeout_seconds = timeout_seconds;
  // The split step is built once the model has a strategy; the optimizer keeps its slots.
  if (rebuild) build_graphs(compiled_ ? compiled_->train_seed : 0);
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"default", "mirrored", "mpi"};
  return names;
}

const std::vector<std::string>& dtype_policy_names() {
  static const std::vector<std::string> names = {"float32", "mixed_bfloat16"};
  return names;
}

void Model::compile(CompileConfig config) {
  const Functional& f = net();
  TS_CHECK(f.input_types().size() == 1 && f.output_types().size() == 1, ErrorKind::kUnsupported,
           "compile: model '{}' has {} inputs and {} outputs; fit/evaluate support one of each",
           f.name(), f.input_types().size(), f.output_types().size());
  if (!config.device.empty()) {
    try {
      config.backends = backends_for_device(config.device);
    } catch (const Error& e) {
      throw_error(e.kind(), fmt::format("compile: {}", e.what()));
    }
  }
  TS_CHECK(!config.backends.empty(), ErrorKind::kInvalidArgument,
           "compile: the list of backends is empty");
  const std::vector<std::string>& policies = dtype_policy_names();
  if (std::find(policies.begin(), policies.end(), config.dtype_policy) == policies.end())
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("compile: dtype_policy '{}' is unknown (expected float32 or "
                            "mixed_bfloat16)",
                            config.dtype_policy));
  check_distribution(config.strategy, config.replicas, config.timeout_seconds);
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
    b.output(emit_model(f, ctx, x, config_));
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
    ValueId y_pred = emit_model(f, ctx, x, config_);
    b.output(loss_->per_sample(b, y_pred, y));
    b.output(y_pred);
    c->eval_graph = b.finish();
  }
  if (optimizer_) {
    c->train_graph =
        build_train_graph(f, *loss_, *optimizer_, c->input_type, c->target_type, seed, config_);
    if (config_.strategy != "default" || config_.deterministic)
      build_split_step(f, *loss_, *optimizer_, c->input_type, c->target_type, seed, config_,
                       c->grad_graph, c->apply_graph, c->grad_variables);
  }
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
