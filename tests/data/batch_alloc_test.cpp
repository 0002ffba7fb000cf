// BatchIterator::next() must not allocate.
#include <gtest/gtest.h>

#include "../support/heap_allocations.h"

#include "tessera/data/dataset.h"

namespace tessera {
namespace {

TEST(BatchIteratorAllocations, NoneAfterConstruction) {
  Dataset d = synthetic_classification(3, 1000, 32, 10);
  for (bool shuffle : {true, false}) {
    BatchIterator it(d, 64, shuffle, 11, 2);  // 15 full batches and one of 40
    const void* x_storage = nullptr;
    int64_t rows = 0;
    int64_t before = test_support::heap_allocations();
    while (it.next()) {
      rows += it.x().shape()[0];
      if (shuffle) {
        // Every batch, the partial last one included, lives in the same buffer.
        if (x_storage == nullptr) x_storage = it.x().buffer().get();
        if (it.x().buffer().get() != x_storage) ADD_FAILURE() << "batch buffer changed";
      }
    }
    EXPECT_EQ(test_support::heap_allocations() - before, 0) << "shuffle=" << shuffle;
    EXPECT_EQ(rows, 1000);
  }
}

}  // namespace
}  // namespace tessera
