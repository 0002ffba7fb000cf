// Tensor: creation, views (shared buffers, offsets, strides), reshape, clone, conversion
// through the dtype table, and element access on non-contiguous tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/core/tensor.h"

namespace tessera {
namespace {

TEST(Tensor, ZerosFullScalar) {
  Tensor t = Tensor::zeros(kF32, {2, 3});
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % kBufferAlignment, 0u);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(t.get(i), 0.0);
  Tensor f = Tensor::full(kI32, {4}, 7.9);
  EXPECT_EQ(f.to_f32_vector(), (std::vector<float>{7, 7, 7, 7}));  // truncated on store
  Tensor s = Tensor::scalar(2.5, kF16);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.get(0), 2.5);
  EXPECT_FALSE(Tensor().defined());
  EXPECT_THROW(Tensor::zeros(kF32, {kDynamic, 3}), Error);
}

TEST(Tensor, FromVectorAnyDtype) {
  Tensor a = Tensor::from_vector<float>({1.5f, -2.25f, 3, 4}, {2, 2});
  EXPECT_EQ(a.data<float>()[1], -2.25f);
  Tensor q = Tensor::from_vector<double>({0.3, -0.3}, {2}, DType::fixed(8, 4));
  EXPECT_EQ(q.data<int8_t>()[0], 4);   // 0.3 * 16 = 4.8, truncated (AP_TRN) to 4
  EXPECT_EQ(q.data<int8_t>()[1], -5);  // floor(-4.8)
  EXPECT_EQ(q.get(0), 0.25);
  Tensor b = Tensor::from_vector<int>({1, 0, 5}, {3}, kBool);
  EXPECT_EQ(b.to_f32_vector(), (std::vector<float>{1, 0, 1}));
}

TEST(Tensor, CopiesShareTheBufferCloneDoesNot) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {4});
  Tensor view = a;
  Tensor copy = a.clone();
  a.set(0, 10);
  EXPECT_EQ(view.get(0), 10.0);
  EXPECT_EQ(copy.get(0), 1.0);
  EXPECT_NE(copy.buffer(), a.buffer());
}

TEST(Tensor, ReshapeIsAView) {
  Tensor a = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor r = a.reshape({3, 2});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.buffer(), a.buffer());
  r.set(5, 50);
  EXPECT_EQ(a.get(5), 50.0);
  EXPECT_THROW(a.reshape({4, 2}), Error);
}

// A transposed view of a [2, 3] tensor: shape [3, 2], strides [1, 3].
Tensor transposed(const Tensor& a) {
  return Tensor(a.buffer(), a.offset_bytes(), Shape{a.shape()[1], a.shape()[0]},
                Shape{a.strides()[1], a.strides()[0]}, a.dtype());
}

TEST(Tensor, NonContiguousGetSet) {
  Tensor a = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = transposed(a);
  EXPECT_FALSE(t.is_contiguous());
  // t[i][j] = a[j][i]: row-major over t is 0 3 1 4 2 5.
  EXPECT_EQ(t.to_f32_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  t.set(1, 30);  // t[0][1] = a[1][0]
  EXPECT_EQ(a.get(3), 30.0);
  EXPECT_THROW(t.reshape({6}), Error);
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_f32_vector(), (std::vector<float>{0, 30, 1, 4, 2, 5}));
  EXPECT_EQ(a.contiguous().buffer(), a.buffer());
}

TEST(Tensor, OffsetViews) {
  // The second row of a [3, 4] i32 tensor as its own [4] tensor.
  Tensor a = Tensor::zeros(kI32, {3, 4});
  for (int64_t i = 0; i < 12; ++i) a.set(i, static_cast<double>(i));
  Tensor row(a.buffer(), 4 * sizeof(int32_t), Shape{4}, Shape{1}, kI32);
  EXPECT_EQ(row.to_f32_vector(), (std::vector<float>{4, 5, 6, 7}));
  // Every other element of that row: stride 2.
  Tensor strided(a.buffer(), 4 * sizeof(int32_t), Shape{2}, Shape{2}, kI32);
  EXPECT_EQ(strided.to_f32_vector(), (std::vector<float>{4, 6}));
  Tensor c = strided.clone();
  EXPECT_EQ(c.to_f32_vector(), (std::vector<float>{4, 6}));
}

TEST(Tensor, ToAndCopyFromConvert) {
  Tensor a = Tensor::from_vector<float>({0.1f, -2.5f, 65520.f, NAN}, {4});
  Tensor h = a.to(kF16);
  EXPECT_EQ(h.dtype(), kF16);
  EXPECT_EQ(h.data<uint16_t>()[0], f32_to_f16_bits(0.1f));
  EXPECT_EQ(h.get(1), -2.5);
  EXPECT_TRUE(std::isinf(h.get(2)));
  EXPECT_TRUE(std::isnan(h.get(3)));
  Tensor i = a.to(kI32);
  EXPECT_EQ(i.to_f32_vector(), (std::vector<float>{0, -2, 65520, 0}));
  // copy_from a non-contiguous source with conversion.
  Tensor m = Tensor::from_vector<float>({0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, {2, 3});
  Tensor dst = Tensor::zeros(DType::fixed(8, 4, true, Rounding::kHalfEven), {3, 2});
  dst.copy_from(transposed(m));
  // Transposed order 0.5 3.5 1.5 4.5 2.5 5.5, exact in fixed<8,4>.
  EXPECT_EQ(dst.to_f32_vector(), (std::vector<float>{0.5f, 3.5f, 1.5f, 4.5f, 2.5f, 5.5f}));
  // And into a non-contiguous destination.
  Tensor back = Tensor::zeros(kBF16, {2, 3});
  Tensor back_t = transposed(back);
  back_t.copy_from(dst);
  EXPECT_EQ(back.to_f32_vector(), m.to_f32_vector());
  EXPECT_THROW(back.copy_from(Tensor::zeros(kF32, {3, 3})), Error);
}

TEST(Tensor, StrMentionsDtypeAndShape) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
  EXPECT_EQ(a.str(), "Tensor(f32, [3], [1, 2, 3])");
  EXPECT_EQ(a.str(2), "Tensor(f32, [3], [1, 2, ...])");
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Device copies (the cuda backend) re-upload a buffer whose generation moved: every mutable
// access moves it, const reads do not.
TEST(Tensor, GenerationMovesOnMutableAccessOnly) {
  Tensor t = Tensor::zeros(kF32, {4});
  const uint64_t g0 = t.buffer()->generation();
  const Tensor& c = t;
  EXPECT_EQ(c.get(1), 0.0);
  EXPECT_EQ(c.data<float>()[0], 0.f);
  EXPECT_EQ(t.buffer()->generation(), g0);
  t.set(1, 2.0);
  const uint64_t g1 = t.buffer()->generation();
  EXPECT_NE(g1, g0);
  t.data<float>()[2] = 3.f;
  EXPECT_NE(t.buffer()->generation(), g1);
  Tensor view = t.reshape({2, 2});  // shares the buffer, and so the generation
  const uint64_t g2 = t.buffer()->generation();
  view.copy_from(Tensor::zeros(kF32, {2, 2}));
  EXPECT_NE(t.buffer()->generation(), g2);
}

}  // namespace
}  // namespace tessera
