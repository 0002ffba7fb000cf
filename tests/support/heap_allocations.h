// Counts C++ heap allocations in a test executable, for tests of "no allocation per step".
// heap_allocations.cpp replaces the global operator new; it is linked into an executable
// only when one of its tests calls heap_allocations(), so other tests are unaffected.
//
//   int64_t before = heap_allocations();
//   run_ten_steps();
//   EXPECT_EQ(heap_allocations() - before, 0);
#pragma once

#include <cstdint>
#include <functional>

namespace tessera::test_support {

// Allocations so far, on every thread (kernels run on the thread pool's workers too).
int64_t heap_allocations();

// Allocations `work` makes.
inline int64_t allocations_of(const std::function<void()>& work) {
  const int64_t before = heap_allocations();
  work();
  return heap_allocations() - before;
}

// Whether `fewer` and `more` (the same work over fewer and more steps) allocate alike: the
// cost of "no allocation per step". A kernel's per-thread scratch is allocated the first time
// a pool thread runs it, and which thread runs which chunk depends on scheduling (a loaded
// machine shifts it), so such a one-time allocation may land in either measurement. Those
// are finite (threads x scratch slots), so a few attempts settle; an allocation per step
// differs on every attempt. `fewer_count` / `more_count` get the last attempt's counts.
inline bool allocations_settle(const std::function<void()>& fewer,
                               const std::function<void()>& more, int64_t* fewer_count,
                               int64_t* more_count, int attempts = 8) {
  for (int i = 0; i < attempts; ++i) {
    *fewer_count = allocations_of(fewer);
    *more_count = allocations_of(more);
    if (*fewer_count == *more_count) return true;
  }
  return false;
}

}  // namespace tessera::test_support
