// The training loop allocates nothing per step once warm: the difference in heap
// allocations between a 20-step and a 10-step epoch is the per-step cost.
#include <gtest/gtest.h>

#include <functional>

#include "../support/heap_allocations.h"

#include "train_test_util.h"

namespace tessera {
namespace {

std::function<void()> epoch(Model& model, const Dataset& d) {
  return [&model, d] { model.fit(d, {.epochs = 1, .batch_size = 32, .verbose = 0}); };
}

TEST(StepAllocation, NoHeapAllocationPerTrainingStep) {
  Dataset d = synthetic_classification(7, 640);
  for (bool with_metrics : {false, true}) {
    SCOPED_TRACE(with_metrics ? "with accuracy" : "loss only");
    Sequential model = train_test::seed_model(1);
    CompileConfig c = train_test::seed_config();
    if (!with_metrics) c.metrics.clear();
    model.compile(c);
    epoch(model, d)();  // warm-up: compiles the batch-32 program
    // Ten more steps, metrics included, allocate nothing more.
    int64_t ten = 0, twenty = 0;
    EXPECT_TRUE(test_support::allocations_settle(epoch(model, d.slice(0, 320)), epoch(model, d),
                                                 &ten, &twenty))
        << "allocations per step: " << static_cast<double>(twenty - ten) / 10.0;
  }
}

}  // namespace
}  // namespace tessera
