// The convolution and pooling semantics of docs/ops.md checked on ref (and cpu) by hand:
// values worked out on paper for a 3x3 image, including padding that never wins a maximum,
// averages over the real elements only, the first of tied maxima, strides, dilations and
// groups.
#include <gtest/gtest.h>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

Tensor from(const std::vector<double>& v, const Shape& s) {
  Tensor t = Tensor::zeros(kF32, s);
  for (size_t i = 0; i < v.size(); ++i) t.set(static_cast<int64_t>(i), v[i]);
  return t;
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.get(i));
  return v;
}

// x = 1..9 as a [1, 3, 3, 1] image; `op` builds the output from x (and dy when given).
std::vector<double> run(const std::string& backend,
                        const std::function<ValueId(GraphBuilder&, ValueId, ValueId)>& op,
                        const Shape& dy_shape = {}, const std::vector<double>& dy = {}) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {1, 3, 3, 1});
  ValueId d = dy.empty() ? kNoValue : b.input("dy", kF32, dy_shape);
  b.output(op(b, x, d));
  Program p = compile_program(b.finish(), {.batch = 1, .backends = {backend}});
  std::vector<Tensor> in = {from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1})};
  if (!dy.empty()) in.push_back(from(dy, dy_shape));
  return values(p.run(in)[0]);
}

class ConvGolden : public testing::TestWithParam<std::string> {};

TEST_P(ConvGolden, Convolutions) {
  const std::string be = GetParam();
  auto ones = [](GraphBuilder& b, const Shape& s) {
    return b.constant(Tensor::full(kF32, s, 1.0));
  };
  // 2x2 sums of the image.
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId) {
                  return b.conv2d(x, ones(b, {2, 2, 1, 1}));
                }),
            (std::vector<double>{12, 16, 24, 28}));
  // "same" 3x3 sums, stride 2: pads [1, 1, 1, 1], outputs at (0, 0), (0, 2), (2, 0), (2, 2).
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId) {
                  return b.conv2d(x, ones(b, {3, 3, 1, 1}), {2, 2}, {1, 1, 1, 1});
                }),
            (std::vector<double>{12, 16, 24, 28}));
  // Dilation 2: the four corners.
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId) {
                  return b.conv2d(x, ones(b, {2, 2, 1, 1}), {1, 1}, {0, 0, 0, 0}, {2, 2});
                }),
            (std::vector<double>{20}));
  // dx of the 2x2 sums with dy = 1: how many windows read each pixel.
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId, ValueId dy) {
                  return b.conv2d_backprop_input(dy, ones(b, {2, 2, 1, 1}), {3, 3, 1});
                },
                {1, 2, 2, 1}, {1, 1, 1, 1}),
            (std::vector<double>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
  // dw of the 2x2 sums with dy = 1: the sums of the pixels each tap reads.
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId dy) {
                  return b.conv2d_backprop_filter(x, dy, {2, 2, 1, 1});
                },
                {1, 2, 2, 1}, {1, 1, 1, 1}),
            (std::vector<double>{12, 16, 24, 28}));
}

TEST_P(ConvGolden, Groups) {
  const std::string be = GetParam();
  // Two channels (x and 10·x) in two groups, each filter a 1x1 weight of 1 and 2.
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {1, 1, 2, 2});
  ValueId w = b.constant(from({1, 2}, {1, 1, 1, 2}));
  b.output(b.conv2d(x, w, {1, 1}, {0, 0, 0, 0}, {1, 1}, 2));
  Program p = compile_program(b.finish(), {.batch = 1, .backends = {be}});
  std::vector<Tensor> in = {from({1, 10, 2, 20}, {1, 1, 2, 2})};
  EXPECT_EQ(values(p.run(in)[0]), (std::vector<double>{1, 20, 2, 40}));
}

TEST_P(ConvGolden, Pooling) {
  const std::string be = GetParam();
  const std::vector<int64_t> same = {0, 1, 0, 1};  // "same", 2x2 windows, stride 2, on 3x3
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId) {
                  return b.max_pool2d(b.neg(x), {2, 2}, {2, 2}, same);  // padding never wins
                }),
            (std::vector<double>{-1, -3, -7, -9}));
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId) {
                  return b.avg_pool2d(x, {2, 2}, {2, 2}, same);  // real elements only
                }),
            (std::vector<double>{3, 4.5, 7.5, 9}));
  // Ties (x·0 = 0 everywhere): each window's dy goes to its first element.
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId x, ValueId dy) {
                  return b.max_pool2d_grad(b.mul(x, b.scalar(0.0)), dy, {2, 2}, {1, 1});
                },
                {1, 2, 2, 1}, {1, 2, 3, 4}),
            (std::vector<double>{1, 2, 0, 3, 4, 0, 0, 0, 0}));
  EXPECT_EQ(run(be,
                [&](GraphBuilder& b, ValueId, ValueId dy) {
                  return b.avg_pool2d_grad(dy, {3, 3, 1}, {2, 2}, {2, 2}, same);
                },
                {1, 2, 2, 1}, {4, 2, 6, 9}),
            (std::vector<double>{1, 1, 1, 1, 1, 1, 3, 3, 9}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ConvGolden, testing::Values("ref", "cpu"));

}  // namespace
}  // namespace tessera
