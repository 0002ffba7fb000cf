// Optimizer updates as graph nodes, checked against the Keras formulas evaluated by hand
// (in double) for a few steps on a tiny variable. The loss is ½·Σw², so the gradient is w
// itself and each step feeds the previous one's result back in.
#include "tessera/train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/ir/autodiff.h"
#include "tessera/train/schedules.h"

namespace tessera {
namespace {

struct Harness {
  VariablePtr w = std::make_shared<Variable>();
  std::unique_ptr<Optimizer> opt;
  std::optional<Program> program;  // Program's default constructor needs its Segment

  Harness(const std::string& name, OptimizerOptions o, std::vector<float> init = {1.0f, -2.0f}) {
    w->name = "dense/kernel";
    w->value = Tensor::from_vector<float>(init, {static_cast<int64_t>(init.size())});
    opt = make_optimizer(name, std::move(o));
    GraphBuilder b;
    CallContext ctx{b};
    ValueId p = ctx.param(w);
    ValueId loss = b.mul(b.reduce_sum(b.mul(p, p), {}), b.scalar(0.5));
    b.output(loss);
    Gradients d = differentiate(b.finish(), loss, std::vector<ValueId>{p});
    GraphBuilder s(std::move(d.graph));
    CallContext octx{s};
    octx.params = ctx.params;
    opt->apply(octx, {{w, p, d.grads[0]}});
    program.emplace(compile_program(s.finish(), {.batch = 1}));
  }
  void step(int64_t i) {
    opt->set_step(i);
    program->run({});
  }
  double at(int64_t i) const { return w->value.get(i); }
};

void expect_near_all(const Harness& h, const std::vector<double>& want, int step) {
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(h.at(static_cast<int64_t>(i)), want[i], 1e-6 * (1 + std::abs(want[i])))
        << "element " << i << " after step " << step;
}

TEST(Optimizer, SgdDefaultsToKerasLearningRate) {
  auto sgd = make_optimizer("sgd");
  EXPECT_DOUBLE_EQ(sgd->options().learning_rate, 0.01);
  EXPECT_NEAR(sgd->current_learning_rate(), 0.01, 1e-9);
  auto adam = make_optimizer("adam");
  EXPECT_DOUBLE_EQ(adam->options().learning_rate, 0.001);
  EXPECT_DOUBLE_EQ(adam->options().epsilon, 1e-7);
}

TEST(Optimizer, PlainSgd) {
  Harness h("sgd", {.learning_rate = 0.1});
  h.step(0);  // w - 0.1·w
  EXPECT_NEAR(h.at(0), 0.9, 1e-7);
  EXPECT_NEAR(h.at(1), -1.8, 1e-7);
  h.step(1);
  EXPECT_NEAR(h.at(0), 0.81, 1e-7);
  EXPECT_EQ(h.opt->iterations(), 2);
  EXPECT_EQ(h.opt->variables().size(), 2u);  // learning rate and iterations; no slots
}

TEST(Optimizer, SgdMomentumAndNesterov) {
  for (bool nesterov : {false, true}) {
    SCOPED_TRACE(nesterov ? "nesterov" : "momentum");
    const double lr = 0.1, mu = 0.9;
    Harness h("sgd", {.learning_rate = lr, .momentum = mu, .nesterov = nesterov});
    ASSERT_EQ(h.opt->variables().size(), 3u);
    EXPECT_EQ(h.opt->variables()[2]->name, "sgd/dense/kernel/momentum");
    std::vector<double> w = {1.0, -2.0}, m = {0, 0};
    for (int s = 0; s < 3; ++s) {
      for (size_t i = 0; i < w.size(); ++i) {
        double g = w[i];
        m[i] = mu * m[i] - lr * g;
        w[i] += nesterov ? mu * m[i] - lr * g : m[i];
      }
      h.step(s);
      expect_near_all(h, w, s);
      // By hand for w0 = 1: momentum 0.9, 0.72; Nesterov 0.81, 0.5751.
      if (s == 1) {
        EXPECT_NEAR(h.at(0), nesterov ? 0.5751 : 0.72, 1e-6);
      }
    }
  }
}

TEST(Optimizer, AdamBiasCorrection) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  Harness h("adam", {.learning_rate = lr});
  ASSERT_EQ(h.opt->variables().size(), 4u);
  EXPECT_EQ(h.opt->variables()[2]->name, "adam/dense/kernel/m");
  EXPECT_EQ(h.opt->variables()[3]->name, "adam/dense/kernel/v");
  EXPECT_FALSE(h.opt->variables()[2]->trainable);
  std::vector<double> w = {1.0, -2.0}, m = {0, 0}, v = {0, 0};
  for (int s = 0; s < 3; ++s) {
    double t = s + 1;
    double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < w.size(); ++i) {
      double g = w[i];
      m[i] += (g - m[i]) * (1 - b1);
      v[i] += (g * g - v[i]) * (1 - b2);
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
    h.step(s);
    expect_near_all(h, w, s);
  }
  // With bias correction the first step moves each weight by ≈ lr, whatever the gradient.
  Harness first("adam", {.learning_rate = lr});
  first.step(0);
  EXPECT_NEAR(first.at(0), 1.0 - 0.01, 1e-6);
  EXPECT_NEAR(first.at(1), -2.0 + 0.01, 1e-6);
}

TEST(Optimizer, AdamWDecoupledDecay) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7, wd = 0.1;
  Harness h("adamw", {.learning_rate = lr, .weight_decay = wd});
  std::vector<double> w = {1.0, -2.0}, m = {0, 0}, v = {0, 0};
  for (int s = 0; s < 3; ++s) {
    double t = s + 1;
    double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < w.size(); ++i) {
      double g = w[i];
      m[i] += (g - m[i]) * (1 - b1);
      v[i] += (g * g - v[i]) * (1 - b2);
      w[i] = w[i] - lr * wd * w[i] - alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
    h.step(s);
    expect_near_all(h, w, s);
  }
}

TEST(Optimizer, RmsPropWithAndWithoutMomentum) {
  for (double mu : {0.0, 0.5}) {
    SCOPED_TRACE(mu);
    const double lr = 0.01, rho = 0.9, eps = 1e-7;
    Harness h("rmsprop", {.learning_rate = lr, .momentum = mu});
    EXPECT_EQ(h.opt->variables().size(), mu > 0 ? 4u : 3u);
    EXPECT_EQ(h.opt->variables()[2]->name, "rmsprop/dense/kernel/velocity");
    std::vector<double> w = {1.0, -2.0}, vel = {0, 0}, mom = {0, 0};
    for (int s = 0; s < 3; ++s) {
      for (size_t i = 0; i < w.size(); ++i) {
        double g = w[i];
        vel[i] = rho * vel[i] + (1 - rho) * g * g;
        double inc = lr * g / std::sqrt(vel[i] + eps);
        if (mu > 0) {
          mom[i] = mu * mom[i] + inc;
          w[i] -= mom[i];
        } else {
          w[i] -= inc;
        }
      }
      h.step(s);
      expect_near_all(h, w, s);
      // First step by hand: v = 0.1·1, Δ = 0.01/√(0.1 + 1e-7) = 0.0316226 for w0 = 1.
      if (s == 0) {
        EXPECT_NEAR(h.at(0), 1.0 - 0.0316226, 1e-6);
      }
    }
  }
}

TEST(Optimizer, ClipNormScalesTheGradient) {
  // ‖g‖ = ‖(3, 4)‖ = 5, clipnorm 1 → g = (0.6, 0.8); SGD lr 1.
  Harness h("sgd", {.learning_rate = 1.0, .clipnorm = 1.0}, {3.0f, 4.0f});
  h.step(0);
  EXPECT_NEAR(h.at(0), 2.4, 1e-6);
  EXPECT_NEAR(h.at(1), 3.2, 1e-6);
  // A gradient already inside the ball is untouched.
  Harness small("sgd", {.learning_rate = 1.0, .clipnorm = 10.0}, {3.0f, 4.0f});
  small.step(0);
  EXPECT_NEAR(small.at(0), 0.0, 1e-6);
}

TEST(Optimizer, ScheduleDrivesTheLearningRateVariable) {
  Harness h("sgd", {.schedule = step_decay(0.1, 0.5, 1)});
  h.step(0);  // lr 0.1
  EXPECT_NEAR(h.at(0), 0.9, 1e-6);
  h.step(1);  // lr 0.05
  EXPECT_NEAR(h.at(0), 0.9 * 0.95, 1e-6);
  EXPECT_NEAR(h.opt->current_learning_rate(), 0.05, 1e-7);
  h.opt->set_learning_rate(0.2);  // constant from now on
  h.step(2);
  EXPECT_NEAR(h.opt->current_learning_rate(), 0.2, 1e-7);
  EXPECT_NEAR(h.at(0), 0.9 * 0.95 * 0.8, 1e-6);
}

TEST(Optimizer, UnknownNameIsAnError) {
  try {
    make_optimizer("adagrad");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("adagrad"), std::string::npos) << e.what();
  }
}

TEST(Optimizer, ConfigNamesTheOptimizer) {
  auto opt = make_optimizer("adamw", {.weight_decay = 0.01});
  EXPECT_EQ(opt->config()["name"], "adamw");
  EXPECT_DOUBLE_EQ(opt->config()["weight_decay"].get<double>(), 0.01);
  EXPECT_EQ(opt->variables()[0]->name, "adamw/learning_rate");
  EXPECT_EQ(opt->variables()[1]->name, "adamw/iterations");
  EXPECT_EQ(opt->variables()[1]->value.dtype(), kI64);
}

}  // namespace
}  // namespace tessera
