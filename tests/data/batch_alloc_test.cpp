// BatchIterator::next() must not allocate. The global operator new is replaced for the
// whole data_test executable, but it only counts while a test switches the counter on (on
// its own thread), so the other tests are unaffected.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tessera/data/dataset.h"

namespace {
thread_local bool counting = false;
std::atomic<int64_t> allocations{0};

void* counted_alloc(std::size_t size) {
  if (counting) allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size); }
void* operator new[](std::size_t size) { return counted_alloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace tessera {
namespace {

TEST(BatchIteratorAllocations, NoneAfterConstruction) {
  Dataset d = synthetic_classification(3, 1000, 32, 10);
  for (bool shuffle : {true, false}) {
    BatchIterator it(d, 64, shuffle, 11, 2);  // 15 full batches and one of 40
    const void* x_storage = nullptr;
    int64_t rows = 0;
    allocations = 0;
    counting = true;
    while (it.next()) {
      rows += it.x().shape()[0];
      if (shuffle) {
        // Every batch, the partial last one included, lives in the same buffer.
        if (x_storage == nullptr) x_storage = it.x().buffer().get();
        if (it.x().buffer().get() != x_storage) ADD_FAILURE() << "batch buffer changed";
      }
    }
    counting = false;
    EXPECT_EQ(allocations.load(), 0) << "shuffle=" << shuffle;
    EXPECT_EQ(rows, 1000);
  }
}

}  // namespace
}  // namespace tessera
