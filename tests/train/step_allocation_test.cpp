// The training loop allocates nothing per step once warm: the difference in heap
// allocations between a 20-step and a 10-step epoch is the per-step cost.
#include <gtest/gtest.h>

#include "../support/heap_allocations.h"

#include "train_test_util.h"

namespace tessera {
namespace {

int64_t allocations_of_epoch(Model& model, const Dataset& d) {
  int64_t before = test_support::heap_allocations();
  model.fit(d, {.epochs = 1, .batch_size = 32, .verbose = 0});
  return test_support::heap_allocations() - before;
}

TEST(StepAllocation, NoHeapAllocationPerTrainingStep) {
  Dataset d = synthetic_classification(7, 640);
  for (bool with_metrics : {false, true}) {
    SCOPED_TRACE(with_metrics ? "with accuracy" : "loss only");
    Sequential model = train_test::seed_model(1);
    CompileConfig c = train_test::seed_config();
    if (!with_metrics) c.metrics.clear();
    model.compile(c);
    allocations_of_epoch(model, d);  // warm-up: compiles the batch-32 program
    int64_t ten = allocations_of_epoch(model, d.slice(0, 320));
    int64_t twenty = allocations_of_epoch(model, d);
    // Ten more steps, metrics included, allocate nothing more.
    EXPECT_EQ(twenty - ten, 0)
        << "allocations per step: " << static_cast<double>(twenty - ten) / 10.0;
  }
}

}  // namespace
}  // namespace tessera
