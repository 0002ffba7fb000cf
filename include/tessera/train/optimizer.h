// Optimizers whose updates are graph nodes (DESIGN.md): apply() emits, for every trainable
// variable, the new value of the variable and of its slots (momenta, …) as graph updates,
// so a training step runs on any backend and is simulated like any other work.
//
//   auto opt = make_optimizer("adam", {.learning_rate = 1e-3});
//   opt->apply(ctx, params_and_grads);   // inside the training-step graph
//   opt->set_step(epoch * steps + i);    // host side, before each step: lr from the schedule
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/nn/layer.h"

namespace tessera {

// A learning rate as a function of the step (0-based). Built-ins in schedules.h. A shared
// callable rather than a bare std::function: g++ 12 warns (falsely) about std::function
// members of aggregates built with designated initializers, which is how users write
// `model.compile({.optimizer = "adam", ...})`.
class LearningRateSchedule {
 public:
  LearningRateSchedule() = default;
  template <typename F>
    requires std::is_invocable_r_v<double, F&, int64_t> &&
             (!std::is_same_v<std::decay_t<F>, LearningRateSchedule>)
  LearningRateSchedule(F f)  // NOLINT: implicit, so lambdas convert as they did
      : fn_(std::make_shared<const std::function<double(int64_t)>>(std::move(f))) {}
  double operator()(int64_t step) const { return (*fn_)(step); }
  explicit operator bool() const { return fn_ != nullptr; }

 private:
  std::shared_ptr<const std::function<double(int64_t)>> fn_;
};

struct OptimizerOptions {
  // 0 means the Keras default of the optimizer: 0.01 for sgd, 0.001 otherwise.
  double learning_rate = 0.0;
  LearningRateSchedule schedule;                        // overrides learning_rate when set
  double momentum = 0.0;                                // sgd, rmsprop
  bool nesterov = false;                                // sgd
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam, adamw
  double weight_decay = 0.004;                          // adamw (decoupled)
  double rho = 0.9;                                     // rmsprop
  // Gradient clipping as in Keras; at most one of the three may be set (> 0).
  double clipnorm = 0.0;         // clip each gradient to this L2 norm
  double clipvalue = 0.0;        // clip each gradient element to [-clipvalue, clipvalue]
  double global_clipnorm = 0.0;  // scale all gradients so that their joint L2 norm is at most this
  // Keras 3's gradient accumulation: k > 1 sums the gradients of k steps in non-trainable
  // accumulators ("<optimizer>/<variable>/accumulator") and applies their mean on every
  // k-th step, so k steps of batch B update the weights as one step of batch k·B would.
  // The iteration counter counts applied steps, which Adam's bias correction and the
  // learning-rate schedule follow, so that k accumulated steps equal one k-times larger
  // step for every optimizer (Keras 3's counter counts every step instead). 0 or 1: apply
  // every step.
  int64_t gradient_accumulation_steps = 0;
};

// The Keras default learning rate of an optimizer (0.01 for sgd, 0.001 otherwise).
double default_learning_rate(const std::string& optimizer);

struct ParamGrad {
  VariablePtr variable;
  ValueId param;  // its parameter node in ctx.b
  ValueId grad;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;  // "adam"
  // Emits the updates into ctx.b (ctx.b.update(...)); creates slot variables on first use.
  virtual void apply(CallContext& ctx, const std::vector<ParamGrad>& pairs) = 0;
  // Sets the learning-rate variable for the next step from the schedule.
  void set_step(int64_t step);
  double current_learning_rate() const;
  // A constant learning rate from now on (drops any schedule); LearningRateScheduler uses it.
  void set_learning_rate(double lr);
  // Steps applied so far: the in-graph counter (restored by checkpoints).
  int64_t iterations() const;
  // Gradient accumulation: k (1 without), and the training steps (batches) seen so far,
  // iterations() · k plus the gradients waiting in the accumulators.
  int64_t accumulation_steps() const;
  int64_t steps_seen() const;
  const OptimizerOptions& options() const { return options_; }  // learning_rate resolved
  // Slots, the learning rate and the iteration counter: what a checkpoint saves.
  const std::vector<VariablePtr>& variables() const { return variables_; }
  virtual nlohmann::json config() const;

 protected:
  explicit Optimizer(OptimizerOptions options);
  // Names the state variables "<name>/learning_rate" and "<name>/iterations".
  Optimizer(const std::string& name, OptimizerOptions options);
  OptimizerOptions options_;
  VariablePtr learning_rate_;           // f32 rank 0, written by set_step
  VariablePtr iterations_;              // i64 rank 0, incremented in the graph
  VariablePtr accumulated_;             // i64 rank 0: gradients summed so far (k > 1 only)
  std::vector<VariablePtr> variables_;  // learning rate, iterations, then slots
};

// sgd, adam, adamw, rmsprop. Throws Error naming the optimizer when unknown.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, OptimizerOptions options = {});

}  // namespace tessera
