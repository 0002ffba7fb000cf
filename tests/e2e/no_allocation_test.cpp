// A compiled training step allocates nothing on the C++ heap: every intermediate lives in
// the executable's arena (DESIGN.md, "no heap allocation per training step"). Checked for a
// hand-built step graph and for Model::fit, whose per-epoch cost must not grow with the
// number of steps.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "../support/heap_allocations.h"

#include "tessera/backends/scheduler.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

CompileConfig adam_accuracy() { return {.optimizer = "adam", .metrics = {"accuracy"}}; }

// Guards the tests below against a counter that counts nothing.
TEST(NoAllocation, TheCounterSeesAllocations) {
  int64_t before = test_support::heap_allocations();
  auto p = std::make_unique<std::vector<int>>(100);
  EXPECT_GE(test_support::heap_allocations() - before, 2);
}

TEST(NoAllocation, CompiledStepProgramAllocatesNothingAfterWarmUp) {
  // Forward, loss, autodiff and SGD updates as one graph, as the fit loop builds it.
  Tensor w = Tensor::zeros(kF32, {32, 10});
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 32});
  ValueId y = b.input("y", kI32, {kDynamic});
  ValueId wp = b.parameter("w", w);
  ValueId loss = b.reduce_mean(b.cross_entropy(b.relu(b.matmul(x, wp)), y), {});
  b.output(loss);
  Gradients d = differentiate(b.finish(), loss, std::vector<ValueId>{wp});
  GraphBuilder s(std::move(d.graph));
  s.update(wp, s.sub(wp, s.mul(s.scalar(0.1), d.grads[0])));
  Program step = compile_program(s.finish(), {.batch = 64, .backends = {"cpu"}});
  Dataset data = synthetic_classification(11, 64);
  Tensor inputs[] = {data.x, data.y};
  step.run(inputs);  // warm-up
  // A kernel's per-thread scratch is allocated the first time a pool thread runs it (see
  // allocations_settle); once every thread has, four steps allocate nothing.
  int64_t four_steps = -1;
  for (int attempt = 0; attempt < 8 && four_steps != 0; ++attempt)
    four_steps = test_support::allocations_of([&] {
      for (int i = 0; i < 4; ++i) step.run(inputs);
    });
  EXPECT_EQ(four_steps, 0);
}

std::function<void()> one_epoch(Model& m, const Dataset& data) {
  return [&m, &data] { m.fit(data, {.epochs = 1, .batch_size = 32, .seed = 3, .verbose = 0}); };
}

TEST(NoAllocation, FitAllocatesNothingPerStep) {
  Sequential m({Dense(64, {.activation = "relu", .input_shape = Shape{32}}), Dropout(0.1),
                Dense(10, {.activation = "softmax"})});
  m.compile(adam_accuracy());
  Dataset small = synthetic_classification(1, 4 * 32), large = synthetic_classification(2, 16 * 32);
  one_epoch(m, small)();  // compiles the step program for batch 32
  int64_t four_steps = 0, sixteen_steps = 0;
  EXPECT_TRUE(test_support::allocations_settle(one_epoch(m, small), one_epoch(m, large),
                                               &four_steps, &sixteen_steps))
      << "allocations grow with the number of steps: " << four_steps << " for 4 steps, "
      << sixteen_steps << " for 16";
}

}  // namespace
}  // namespace tessera
