// A compiled training step allocates nothing on the C++ heap: every intermediate lives in
// the executable's arena (DESIGN.md, "no heap allocation per training step").
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tessera/cli/demo_model.h"

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

TEST(NoAllocation, TrainingStepAllocatesNothingAfterWarmUp) {
  DemoData data = make_demo_data(11, 256, 8);
  DemoModel model(11, 64);
  DemoTrainer trainer(model, {.batch = 64});
  trainer.train_epoch(data.train_x, data.train_y);  // compiles the step program
  int64_t before = g_allocations.load();
  trainer.train_epoch(data.train_x, data.train_y);  // 4 steps
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace tessera
