// Keras' gradient clipping as graph nodes: clipvalue per element, global_clipnorm over all
// gradients together, and at most one clipping mode per optimizer.
#include <gtest/gtest.h>

#include <optional>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/autodiff.h"
#include "train_test_util.h"

namespace tessera {
namespace {

using train_test::contains;
using train_test::error_of;

// loss = ½·Σ w² over every variable, so each gradient is its variable; one SGD step with
// learning rate 1 leaves w - clip(w).
struct Step {
  std::vector<VariablePtr> vars;
  std::unique_ptr<Optimizer> opt;

  Step(OptimizerOptions o, std::vector<std::vector<float>> values) {
    opt = make_optimizer("sgd", std::move(o));
    GraphBuilder b;
    CallContext ctx{b};
    ValueId loss = kNoValue;
    std::vector<ValueId> ps;
    for (size_t i = 0; i < values.size(); ++i) {
      auto v = std::make_shared<Variable>();
      v->name = fmt::format("w{}", i);
      v->value = Tensor::from_vector<float>(values[i], {static_cast<int64_t>(values[i].size())});
      vars.push_back(v);
      ValueId p = ctx.param(v);
      ps.push_back(p);
      ValueId sq = b.mul(b.reduce_sum(b.mul(p, p), {}), b.scalar(0.5));
      loss = loss == kNoValue ? sq : b.add(loss, sq);
    }
    b.output(loss);
    Gradients d = differentiate(b.finish(), loss, ps);
    GraphBuilder s(std::move(d.graph));
    CallContext octx{s};
    octx.params = ctx.params;
    std::vector<ParamGrad> pairs;
    for (size_t i = 0; i < vars.size(); ++i) pairs.push_back({vars[i], ps[i], d.grads[i]});
    opt->apply(octx, pairs);
    compile_program(s.finish(), {.batch = 1}).run({});
  }
  float at(size_t var, int64_t i) const { return static_cast<float>(vars[var]->value.get(i)); }
};

TEST(GradientClipping, ClipValueClipsEachElement) {
  Step s({.learning_rate = 1.0, .clipvalue = 1.0}, {{3.0f, -0.5f, -2.0f}});
  EXPECT_FLOAT_EQ(s.at(0, 0), 2.0f);   // g 3 -> 1
  EXPECT_FLOAT_EQ(s.at(0, 1), 0.0f);   // g -0.5 inside
  EXPECT_FLOAT_EQ(s.at(0, 2), -1.0f);  // g -2 -> -1
}

TEST(GradientClipping, GlobalClipNormScalesAllGradientsTogether) {
  // Joint norm ‖(3, 0, 0, 4)‖ = 5; clipped to 1, every gradient is scaled by 0.2. (Per
  // variable, clipnorm would scale the two by 1/3 and 1/4 instead.)
  Step s({.learning_rate = 1.0, .global_clipnorm = 1.0}, {{3.0f, 0.0f}, {0.0f, 4.0f}});
  EXPECT_NEAR(s.at(0, 0), 2.4f, 1e-6);
  EXPECT_NEAR(s.at(1, 1), 3.2f, 1e-6);
  Step inside({.learning_rate = 1.0, .global_clipnorm = 10.0}, {{3.0f, 0.0f}, {0.0f, 4.0f}});
  EXPECT_NEAR(inside.at(0, 0), 0.0f, 1e-6);
  EXPECT_NEAR(inside.at(1, 1), 0.0f, 1e-6);
}

TEST(GradientClipping, OneModeAtATime) {
  std::string e = error_of([] { make_optimizer("adam", {.clipnorm = 1.0, .clipvalue = 0.5}); });
  EXPECT_TRUE(contains(e, "only one of clipnorm, clipvalue and global_clipnorm can be set")) << e;
  EXPECT_TRUE(contains(e, "clipnorm=1, clipvalue=0.5, global_clipnorm=0")) << e;
  e = error_of([] { make_optimizer("sgd", {.global_clipnorm = -1.0}); });
  EXPECT_TRUE(contains(e, "global_clipnorm must be >= 0")) << e;
  auto opt = make_optimizer("sgd", {.clipvalue = 0.5});
  EXPECT_DOUBLE_EQ(opt->config()["clipvalue"].get<double>(), 0.5);
}

}  // namespace
}  // namespace tessera
