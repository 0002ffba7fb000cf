// Optimizers as graph nodes. Each apply() emits, per trainable variable, the new values of
// its slots and of the variable itself; the executable writes them back after the step, so
// every update reads the values from before the step (as Keras' per-variable updates do).
#include "tessera/train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "tessera/core/error.h"

namespace tessera {
namespace {

VariablePtr make_variable(std::string name, Tensor value) {
  auto v = std::make_shared<Variable>();
  v->name = std::move(name);
  v->value = std::move(value);
  v->trainable = false;
  return v;
}

// The shared machinery: learning rate and iteration nodes, slots, clipping and the
// iteration increment. Subclasses emit one variable's update.
class GraphOptimizer : public Optimizer {
 public:
  GraphOptimizer(std::string name, OptimizerOptions options)
      : Optimizer(name, std::move(options)), name_(std::move(name)) {}

  std::string name() const override { return name_; }

  void apply(CallContext& ctx, const std::vector<ParamGrad>& pairs) override {
    GraphBuilder& b = ctx.b;
    ValueId lr = ctx.param(learning_rate_);
    ValueId iterations = ctx.param(iterations_);
    // The gradients to apply, in their variables' dtypes.
    std::vector<ParamGrad> work;
    for (const ParamGrad& pg : pairs) {
      if (pg.grad == kNoValue) continue;  // the variable does not reach the loss
      TS_CHECK(b.dtype(pg.param).is_float(), ErrorKind::kInvalidArgument,
               "optimizer '{}': variable '{}' has dtype {}; only float variables train", name_,
               pg.variable->name, b.dtype(pg.param).name());
      ParamGrad w = pg;
      if (b.dtype(w.grad) != b.dtype(w.param)) w.grad = b.cast(w.grad, b.dtype(w.param));
      work.push_back(std::move(w));
    }
    const size_t first_update = b.graph().updates().size();
    Accumulation acc = accumulate(ctx, work);
    clip(b, work);
    begin_step(ctx, lr, iterations);
    for (const ParamGrad& pg : work) {
      DType dt = b.dtype(pg.param);
      ValueId var_lr = dt == kF32 ? lr : b.cast(lr, dt);
      b.update(pg.param, update(ctx, pg, pg.grad, var_lr, dt));
    }
    // The counter counts applied steps; Adam's bias correction reads its old value.
    b.update(iterations, b.add(iterations, b.scalar(1, kI64)));
    if (acc.apply_now != kNoValue) gate_updates(b, acc, first_update);
  }

  nlohmann::json config() const override {
    nlohmann::json j = Optimizer::config();
    add_config(j);
    return j;
  }

 protected:
  // Per-step values shared by all variables (Adam's bias correction).
  virtual void begin_step(CallContext&, ValueId /*lr*/, ValueId /*iterations*/) {}
  // Returns the variable's new value; emits the slot updates itself.
  virtual ValueId update(CallContext& ctx, const ParamGrad& pg, ValueId grad, ValueId lr,
                         DType dt) = 0;
  virtual void add_config(nlohmann::json&) const {}

  // The parameter node of slot `slot_name` of `var` (zero-initialised on first use).
  ValueId slot(CallContext& ctx, const VariablePtr& var, const std::string& slot_name) {
    auto key = std::make_pair(var.get(), slot_name);
    auto it = slots_.find(key);
    if (it == slots_.end()) {
      VariablePtr s = make_variable(name_ + "/" + var->name + "/" + slot_name,
                                    Tensor::zeros(var->value.dtype(), var->value.shape()));
      variables_.push_back(s);
      it = slots_.emplace(key, std::move(s)).first;
    }
    return ctx.param(it->second);
  }

  ValueId scalar(GraphBuilder& b, double v, DType dt) { return b.scalar(v, dt); }

 private:
  // Gradient accumulation as graph nodes. Every step adds the gradients to the
  // accumulators; on every k-th step (the counter reaches k - 1) the optimizer's updates
  // take effect with the mean, and the accumulators and counter return to 0. The other
  // steps keep every variable and slot as it was: each update is gated by where(apply, new,
  // old).
  //
  // Why one graph with conditional updates rather than two host-side programs (accumulate
  // only / accumulate and apply): accumulation is for batches that do not fit in memory,
  // and each compiled program owns an arena for its activations, so two programs would
  // double the memory the option exists to save; one graph also stays one training step
  // for the simulators. The price is the optimizer's arithmetic on every step (elementwise
  // over the weights, small next to the forward and backward passes) and one select per
  // updated value.
  struct Accumulation {
    ValueId apply_now = kNoValue;  // bool scalar; kNoValue without accumulation
    ValueId counter = kNoValue;    // the accumulated_ parameter
    std::vector<std::pair<ValueId, ValueId>> accumulators;  // (parameter, sum incl. this step)
  };

  Accumulation accumulate(CallContext& ctx, std::vector<ParamGrad>& work) {
    Accumulation acc;
    const int64_t k = accumulation_steps();
    if (k <= 1) return acc;
    GraphBuilder& b = ctx.b;
    acc.counter = ctx.param(accumulated_);
    acc.apply_now = b.compare(OpKind::kEqual, acc.counter, b.scalar(k - 1, kI64));
    for (ParamGrad& pg : work) {
      DType dt = b.dtype(pg.param);
      ValueId slot_id = slot(ctx, pg.variable, "accumulator");
      ValueId sum = b.add(slot_id, pg.grad);
      acc.accumulators.push_back({slot_id, sum});
      pg.grad = b.mul(sum, b.scalar(1.0 / static_cast<double>(k), dt));
    }
    return acc;
  }

  void gate_updates(GraphBuilder& b, const Accumulation& acc, size_t first_update) {
    const size_t end = b.graph().updates().size();
    for (size_t i = first_update; i < end; ++i) {
      Graph::Update u = b.graph().updates()[i];  // a copy: emitting nodes below
      ValueId gated = b.where(acc.apply_now, u.value, u.parameter);
      b.graph().updates()[i].value = gated;
    }
    for (const auto& [slot_id, sum] : acc.accumulators)
      b.update(slot_id, b.where(acc.apply_now, b.scalar(0.0, b.dtype(sum)), sum));
    b.update(acc.counter,
             b.where(acc.apply_now, b.scalar(0, kI64), b.add(acc.counter, b.scalar(1, kI64))));
  }

  // Keras' clipping: clipnorm g·c/max(‖g‖, c) per gradient; global_clipnorm the same with
  // the norm of all gradients together (summed in f32); clipvalue clip(g, -c, c).
  void clip(GraphBuilder& b, std::vector<ParamGrad>& work) {
    if (options_.clipnorm > 0) {
      for (ParamGrad& pg : work) {
        DType dt = b.dtype(pg.grad);
        ValueId norm = b.sqrt(b.reduce_sum(b.mul(pg.grad, pg.grad), {}));
        ValueId c = b.scalar(options_.clipnorm, dt);
        pg.grad = b.mul(pg.grad, b.div(c, b.maximum(norm, c)));
      }
    } else if (options_.global_clipnorm > 0 && !work.empty()) {
      ValueId total = kNoValue;
      for (const ParamGrad& pg : work) {
        ValueId g = b.dtype(pg.grad) == kF32 ? pg.grad : b.cast(pg.grad, kF32);
        ValueId sq = b.reduce_sum(b.mul(g, g), {});
        total = total == kNoValue ? sq : b.add(total, sq);
      }
      ValueId c = b.scalar(options_.global_clipnorm, kF32);
      ValueId scale = b.div(c, b.maximum(b.sqrt(total), c));
      for (ParamGrad& pg : work) {
        DType dt = b.dtype(pg.grad);
        pg.grad = b.mul(pg.grad, dt == kF32 ? scale : b.cast(scale, dt));
      }
    } else if (options_.clipvalue > 0) {
      for (ParamGrad& pg : work) {
        DType dt = b.dtype(pg.grad);
        pg.grad = b.maximum(b.minimum(pg.grad, b.scalar(options_.clipvalue, dt)),
                            b.scalar(-options_.clipvalue, dt));
      }
    }
  }

  std::string name_;
  // Keyed by the variable (alive as long as the model) and the slot's short name.
  std::map<std::pair<const Variable*, std::string>, VariablePtr> slots_;
};

// Keras SGD: m = μ·m − lr·g; w += m (Nesterov: w += μ·m − lr·g with the new m).
class Sgd final : public GraphOptimizer {
 public:
  explicit Sgd(OptimizerOptions o) : GraphOptimizer("sgd", std::move(o)) {}

 protected:
  ValueId update(CallContext& ctx, const ParamGrad& pg, ValueId g, ValueId lr, DType dt) override {
    GraphBuilder& b = ctx.b;
    ValueId lr_g = b.mul(lr, g);
    if (options_.momentum == 0.0) return b.sub(pg.param, lr_g);
    ValueId mu = scalar(b, options_.momentum, dt);
    ValueId m = slot(ctx, pg.variable, "momentum");
    ValueId m_new = b.sub(b.mul(mu, m), lr_g);
    b.update(m, m_new);
    if (options_.nesterov) return b.add(pg.param, b.sub(b.mul(mu, m_new), lr_g));
    return b.add(pg.param, m_new);
  }
  void add_config(nlohmann::json& j) const override {
    j["momentum"] = options_.momentum;
    j["nesterov"] = options_.nesterov;
  }
};

// Keras Adam: bias correction folded into the step size,
// α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) with t = iterations + 1; w −= α·m/(√v + ε).
// AdamW adds the decoupled decay w −= lr·wd·w (on the value before the step).
class Adam : public GraphOptimizer {
 public:
  Adam(std::string name, OptimizerOptions o, bool decoupled_decay)
      : GraphOptimizer(std::move(name), std::move(o)), decay_(decoupled_decay) {}

 protected:
  void begin_step(CallContext& ctx, ValueId lr, ValueId iterations) override {
    GraphBuilder& b = ctx.b;
    ValueId t = b.cast(b.add(iterations, b.scalar(1, kI64)), kF32);
    ValueId b1_power = b.pow(b.scalar(options_.beta_1), t);
    ValueId b2_power = b.pow(b.scalar(options_.beta_2), t);
    ValueId one = b.scalar(1.0);
    alpha_ = b.div(b.mul(lr, b.sqrt(b.sub(one, b2_power))), b.sub(one, b1_power));
  }

  ValueId update(CallContext& ctx, const ParamGrad& pg, ValueId g, ValueId lr, DType dt) override {
    GraphBuilder& b = ctx.b;
    ValueId m = slot(ctx, pg.variable, "m");
    ValueId v = slot(ctx, pg.variable, "v");
    ValueId m_new = b.add(m, b.mul(b.sub(g, m), scalar(b, 1.0 - options_.beta_1, dt)));
    ValueId v_new = b.add(v, b.mul(b.sub(b.mul(g, g), v), scalar(b, 1.0 - options_.beta_2, dt)));
    b.update(m, m_new);
    b.update(v, v_new);
    ValueId alpha = dt == kF32 ? alpha_ : b.cast(alpha_, dt);
    ValueId step =
        b.div(b.mul(alpha, m_new), b.add(b.sqrt(v_new), scalar(b, options_.epsilon, dt)));
    ValueId w = pg.param;
    if (decay_ && options_.weight_decay != 0.0) {
      ValueId decay = b.mul(lr, scalar(b, options_.weight_decay, dt));
      w = b.sub(w, b.mul(decay, pg.param));
    }
    return b.sub(w, step);
  }

  void add_config(nlohmann::json& j) const override {
    j["beta_1"] = options_.beta_1;
    j["beta_2"] = options_.beta_2;
    j["epsilon"] = options_.epsilon;
    if (decay_) j["weight_decay"] = options_.weight_decay;
  }

 private:
  bool decay_;
  ValueId alpha_ = kNoValue;  // valid during one apply()
};

// Keras RMSprop: v = ρ·v + (1 − ρ)·g²; Δ = lr·g/√(v + ε); with momentum
// m = μ·m + Δ, w −= m; else w −= Δ.
class RmsProp final : public GraphOptimizer {
 public:
  explicit RmsProp(OptimizerOptions o) : GraphOptimizer("rmsprop", std::move(o)) {}

 protected:
  ValueId update(CallContext& ctx, const ParamGrad& pg, ValueId g, ValueId lr, DType dt) override {
    GraphBuilder& b = ctx.b;
    ValueId v = slot(ctx, pg.variable, "velocity");
    ValueId v_new = b.add(b.mul(scalar(b, options_.rho, dt), v),
                          b.mul(scalar(b, 1.0 - options_.rho, dt), b.mul(g, g)));
    b.update(v, v_new);
    ValueId increment = b.div(b.mul(lr, g), b.sqrt(b.add(v_new, scalar(b, options_.epsilon, dt))));
    if (options_.momentum > 0.0) {
      ValueId m = slot(ctx, pg.variable, "momentum");
      ValueId m_new = b.add(b.mul(scalar(b, options_.momentum, dt), m), increment);
      b.update(m, m_new);
      return b.sub(pg.param, m_new);
    }
    return b.sub(pg.param, increment);
  }
  void add_config(nlohmann::json& j) const override {
    j["rho"] = options_.rho;
    j["momentum"] = options_.momentum;
    j["epsilon"] = options_.epsilon;
  }
};

}  // namespace

double default_learning_rate(const std::string& optimizer) {
  return optimizer == "sgd" ? 0.01 : 0.001;
}

Optimizer::Optimizer(OptimizerOptions options) : Optimizer("optimizer", std::move(options)) {}

Optimizer::Optimizer(const std::string& name, OptimizerOptions options)
    : options_(std::move(options)) {
  if (options_.learning_rate == 0.0) options_.learning_rate = default_learning_rate(name);
  learning_rate_ =
      make_variable(name + "/learning_rate", Tensor::scalar(options_.learning_rate, kF32));
  iterations_ = make_variable(name + "/iterations", Tensor::scalar(0, kI64));
  variables_ = {learning_rate_, iterations_};
  if (accumulation_steps() > 1) {
    accumulated_ = make_variable(name + "/accumulated_steps", Tensor::scalar(0, kI64));
    variables_.push_back(accumulated_);
  }
  set_step(0);
}

void Optimizer::set_step(int64_t step) {
  double lr = options_.schedule ? options_.schedule(step) : options_.learning_rate;
  learning_rate_->value.set(0, lr);
}

double Optimizer::current_learning_rate() const { return learning_rate_->value.get(0); }

void Optimizer::set_learning_rate(double lr) {
  TS_CHECK(std::isfinite(lr) && lr >= 0, ErrorKind::kInvalidArgument,
           "learning rate must be finite and >= 0, got {}", lr);
  options_.schedule = {};
  options_.learning_rate = lr;
  learning_rate_->value.set(0, lr);
}

int64_t Optimizer::iterations() const { return static_cast<int64_t>(iterations_->value.get(0)); }

int64_t Optimizer::accumulation_steps() const {
  return std::max<int64_t>(1, options_.gradient_accumulation_steps);
}

int64_t Optimizer::steps_seen() const {
  int64_t pending = accumulated_ ? static_cast<int64_t>(accumulated_->value.get(0)) : 0;
  return iterations() * accumulation_steps() + pending;
}

nlohmann::json Optimizer::config() const {
  return {{"name", name()},
          {"learning_rate", options_.learning_rate},
          {"has_schedule", static_cast<bool>(options_.schedule)},
          {"clipnorm", options_.clipnorm},
          {"clipvalue", options_.clipvalue},
          {"global_clipnorm", options_.global_clipnorm},
          {"gradient_accumulation_steps", options_.gradient_accumulation_steps}};
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, OptimizerOptions options) {
  TS_CHECK(options.learning_rate >= 0 && std::isfinite(options.learning_rate),
           ErrorKind::kInvalidArgument, "optimizer '{}': learning_rate must be >= 0, got {}", name,
           options.learning_rate);
  for (auto [field, value] : {std::pair<const char*, double>{"clipnorm", options.clipnorm},
                              {"clipvalue", options.clipvalue},
                              {"global_clipnorm", options.global_clipnorm}})
    TS_CHECK(value >= 0 && std::isfinite(value), ErrorKind::kInvalidArgument,
             "optimizer '{}': {} must be >= 0 (0: off), got {}", name, field, value);
  int clip_modes = (options.clipnorm > 0) + (options.clipvalue > 0) + (options.global_clipnorm > 0);
  TS_CHECK(clip_modes <= 1, ErrorKind::kInvalidArgument,
           "optimizer '{}': only one of clipnorm, clipvalue and global_clipnorm can be set, got "
           "clipnorm={}, clipvalue={}, global_clipnorm={}",
           name, options.clipnorm, options.clipvalue, options.global_clipnorm);
  TS_CHECK(options.gradient_accumulation_steps >= 0, ErrorKind::kInvalidArgument,
           "optimizer '{}': gradient_accumulation_steps must be >= 0 (0 or 1: off), got {}", name,
           options.gradient_accumulation_steps);
  if (name == "sgd") {
    TS_CHECK(options.momentum >= 0 && options.momentum <= 1, ErrorKind::kInvalidArgument,
             "optimizer 'sgd': momentum must be in [0, 1], got {}", options.momentum);
    return std::make_unique<Sgd>(std::move(options));
  }
  if (name == "adam" || name == "adamw") {
    TS_CHECK(options.beta_1 >= 0 && options.beta_1 < 1 && options.beta_2 >= 0 && options.beta_2 < 1,
             ErrorKind::kInvalidArgument, "optimizer '{}': beta_1 and beta_2 must be in [0, 1)",
             name);
    return std::make_unique<Adam>(name, std::move(options), name == "adamw");
  }
  if (name == "rmsprop") return std::make_unique<RmsProp>(std::move(options));
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("unknown optimizer '{}' (known: sgd, adam, adamw, rmsprop)", name));
}

}  // namespace tessera
