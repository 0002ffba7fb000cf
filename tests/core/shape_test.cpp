// Shape: construction checks, axes, the symbolic batch, strides and broadcasting.
#include <gtest/gtest.h>

#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/shape.h"

namespace tessera {
namespace {

TEST(Shape, BasicsAndStr) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_EQ(Shape{}.str(), "[]");
  EXPECT_EQ(Shape({5, 0}).numel(), 0);
  EXPECT_EQ(s.to_vector(), (std::vector<int64_t>{2, 3, 4}));
  std::vector<int64_t> dims = {7, 8};
  EXPECT_EQ(Shape(std::span<const int64_t>(dims)), (Shape{7, 8}));
}

TEST(Shape, AxesCountFromTheEnd) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.dim(-1), 4);
  EXPECT_EQ(s.dim(0), 2);
  EXPECT_EQ(s.normalize_axis(-3), 0);
  EXPECT_THROW(s.dim(3), Error);
  EXPECT_THROW(s.dim(-4), Error);
}

TEST(Shape, RejectsBadDimsAndRanks) {
  EXPECT_THROW((Shape{2, -3}), Error);
  EXPECT_THROW((Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), Error);
  Shape s{1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_THROW(s.push_back(1), Error);
}

TEST(Shape, DynamicBatch) {
  Shape s{kDynamic, 784};
  EXPECT_FALSE(s.is_static());
  EXPECT_EQ(s.str(), "[N, 784]");
  EXPECT_THROW(s.numel(), Error);
  EXPECT_EQ(s.with_batch(32), (Shape{32, 784}));
  EXPECT_EQ(s.with_batch(32).numel(), 25088);
}

TEST(Shape, ContiguousStrides) {
  EXPECT_EQ(contiguous_strides(Shape{2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides(Shape{}), Shape{});
  // A zero-size dim must not zero the outer strides (they stay valid offsets).
  EXPECT_EQ(contiguous_strides(Shape{2, 0, 3}), (Shape{3, 3, 1}));
}

TEST(Shape, Broadcasting) {
  Shape out;
  ASSERT_TRUE(broadcast_shapes(Shape{3, 1}, Shape{4}, &out));
  EXPECT_EQ(out, (Shape{3, 4}));
  ASSERT_TRUE(broadcast_shapes(Shape{}, Shape{2, 5}, &out));
  EXPECT_EQ(out, (Shape{2, 5}));
  ASSERT_TRUE(broadcast_shapes(Shape{kDynamic, 1}, Shape{1, 6}, &out));
  EXPECT_EQ(out, (Shape{kDynamic, 6}));
  ASSERT_TRUE(broadcast_shapes(Shape{kDynamic, 6}, Shape{kDynamic, 6}, &out));
  EXPECT_EQ(out, (Shape{kDynamic, 6}));
  EXPECT_FALSE(broadcast_shapes(Shape{3}, Shape{4}, &out));
  EXPECT_FALSE(broadcast_shapes(Shape{2, 3}, Shape{3, 3}, &out));
}

}  // namespace
}  // namespace tessera
