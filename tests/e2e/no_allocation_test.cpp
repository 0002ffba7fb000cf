// A compiled training step allocates nothing on the C++ heap: every intermediate lives in
// the executable's arena (DESIGN.md, "no heap allocation per training step"). Checked for a
// hand-built step graph and for Model::fit, whose per-epoch cost must not grow with the
// number of steps.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (this test binary only).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace tessera {
namespace {

// Assigned member by member: a designated initializer of CompileConfig trips g++ 12's
// -Wmaybe-uninitialized on the std::function inside OptimizerOptions (a false positive).
CompileConfig adam_accuracy() {
  CompileConfig c;
  c.optimizer = "adam";
  c.metrics = {"accuracy"};
  return c;
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
  int64_t before = g_allocations.load();
  for (int i = 0; i < 4; ++i) step.run(inputs);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

int64_t allocations_of_one_epoch(Model& m, const Dataset& data) {
  int64_t before = g_allocations.load();
  m.fit(data, {.epochs = 1, .batch_size = 32, .seed = 3, .verbose = 0});
  return g_allocations.load() - before;
}

TEST(NoAllocation, FitAllocatesNothingPerStep) {
  Sequential m({Dense(64, {.activation = "relu", .input_shape = Shape{32}}), Dropout(0.1),
                Dense(10, {.activation = "softmax"})});
  m.compile(adam_accuracy());
  Dataset small = synthetic_classification(1, 4 * 32), large = synthetic_classification(2, 16 * 32);
  allocations_of_one_epoch(m, small);  // compiles the step program for batch 32
  allocations_of_one_epoch(m, large);
  int64_t four_steps = allocations_of_one_epoch(m, small);
  int64_t sixteen_steps = allocations_of_one_epoch(m, large);
  EXPECT_EQ(sixteen_steps, four_steps) << "allocations grow with the number of steps";
}

}  // namespace
}  // namespace tessera
