// Counts C++ heap allocations in a test executable, for tests of "no allocation per step".
// heap_allocations.cpp replaces the global operator new; it is linked into an executable
// only when one of its tests calls heap_allocations(), so other tests are unaffected.
//
//   int64_t before = heap_allocations();
//   run_ten_steps();
//   EXPECT_EQ(heap_allocations() - before, 0);
#pragma once

#include <cstdint>

namespace tessera::test_support {

// Allocations so far, on every thread (kernels run on the thread pool's workers too).
int64_t heap_allocations();

}  // namespace tessera::test_support
