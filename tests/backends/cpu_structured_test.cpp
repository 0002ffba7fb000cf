// cpu backend: reductions, softmax family, matmul, data movement and indexing against naive
// references; determinism across thread counts; index errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu_test_util.h"
#include "tessera/core/error.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {
using namespace cpu_test;  // NOLINT

Attrs reduce_attrs(std::vector<int64_t> axes, bool keep) {
  return Attrs().set("axes", std::move(axes)).set("keepdims", int64_t{keep});
}

// Naive reduction over `axes` (sorted, non-negative) of x, in double.
std::vector<double> naive_reduce(const Tensor& x, const std::vector<int64_t>& axes, bool max,
                                 bool mean) {
  const Shape& s = x.shape();
  std::vector<bool> red(s.rank(), axes.empty());
  for (int64_t a : axes) red[a] = true;
  Shape out;
  int64_t count = 1;
  for (int i = 0; i < s.rank(); ++i) {
    if (!red[i]) out.push_back(s[i]);
    else count *= s[i];
  }
  std::vector<double> y(out.numel(), max ? -INFINITY : 0.0);
  for (int64_t f = 0; f < x.numel(); ++f) {
    int64_t rem = f, o = 0, stride = 1;
    for (int i = s.rank() - 1; i >= 0; --i) {
      int64_t c = rem % s[i];
      rem /= s[i];
      if (!red[i]) {
        o += c * stride;
        stride *= s[i];
      }
    }
    double v = x.get(f);
    y[o] = max ? std::max(y[o], v) : y[o] + v;
  }
  if (mean)
    for (double& v : y) v /= static_cast<double>(count);
  return y;
}

TEST(CpuReduce, AxisPatternsMatchNaive) {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{1000}, {}},          {{37, 53}, {1}},      {{37, 53}, {0}},     {{4, 5, 6}, {1}},
      {{4, 5, 6}, {0, 2}},   {{2, 3, 4, 5}, {1, 3}}, {{3, 100000}, {1}}, {{300000}, {0}},
      {{1, 7, 1}, {0, 2}},   {{6, 1, 5}, {1}}};
  for (const auto& [shape, axes] : cases) {
    Tensor x = random_tensor(kF32, shape, 11);
    for (OpKind op : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceMax}) {
      auto want = naive_reduce(x, axes, op == OpKind::kReduceMax, op == OpKind::kReduceMean);
      both_paths([&] {
        SCOPED_TRACE(std::string(op_name(op)) + " " + shape.str());
        Tensor y = run_op(op, {x}, reduce_attrs(axes, false));
        double atol = op == OpKind::kReduceSum ? 1e-6 * static_cast<double>(x.numel()) : 1e-5;
        expect_close(y, want, 1e-5, atol);
      });
    }
  }
}

TEST(CpuReduce, HalfIntegerAndNan) {
  Tensor x = random_tensor(kBF16, {8, 300}, 12);
  expect_close(run_op(OpKind::kReduceSum, {x}, reduce_attrs({1}, true)),
               naive_reduce(x, {1}, false, false), 1e-2, 0.1);
  Tensor i = Tensor::from_vector<int64_t>({100, 100, 100, -5, 1, 2}, {2, 3}, kI8);
  Tensor s = run_op(OpKind::kReduceSum, {i}, reduce_attrs({1}, false));
  EXPECT_EQ(s.get(0), 44);  // 300 wraps to 44
  EXPECT_EQ(s.get(1), -2);
  Tensor m = run_op(OpKind::kReduceMax, {i}, reduce_attrs({0}, false));
  EXPECT_EQ(m.get(0), 100);
  std::vector<float> v(20000, 1.0f);
  v[12345] = NAN;
  Tensor n = Tensor::from_vector<float>(v, {20000});
  both_paths([&] {
    EXPECT_TRUE(std::isnan(run_op(OpKind::kReduceMax, {n}, reduce_attrs({}, false)).get(0)));
  });
}

// The same result on 1 and 2 threads, bit for bit, for every kernel that splits work.
TEST(CpuDeterminism, SameBitsOnOneAndTwoThreads) {
  const int saved = num_threads();
  Tensor big = random_tensor(kF32, {1 << 20}, 13);
  Tensor rows = random_tensor(kF32, {3, 200000}, 14);
  Tensor cols = random_tensor(kF32, {5000, 64}, 15);
  auto run_all = [&] {
    std::vector<Tensor> r;
    r.push_back(run_op(OpKind::kReduceSum, {big}, reduce_attrs({}, false)));
    r.push_back(run_op(OpKind::kReduceSum, {rows}, reduce_attrs({1}, false)));
    r.push_back(run_op(OpKind::kReduceMean, {cols}, reduce_attrs({0}, false)));
    r.push_back(run_op(OpKind::kReduceMax, {rows}, reduce_attrs({0, 1}, false)));
    r.push_back(run_op(OpKind::kSoftmax, {cols}, Attrs().set("axis", int64_t{0})));
    r.push_back(run_op(OpKind::kLogSoftmax, {rows}, Attrs().set("axis", int64_t{-1})));
    r.push_back(run_op(OpKind::kGelu, {big}));
    return r;
  };
  set_num_threads(1);
  auto one = run_all();
  set_num_threads(2);
  auto two = run_all();
  set_num_threads(saved);
  for (size_t k = 0; k < one.size(); ++k) {
    ASSERT_EQ(one[k].nbytes(), two[k].nbytes());
    EXPECT_EQ(std::memcmp(one[k].raw_data(), two[k].raw_data(), one[k].nbytes()), 0) << k;
  }
}

TEST(CpuSoftmax, RowsColumnsAndCrossEntropy) {
  for (int axis : {-1, 0, 1}) {
    Tensor x = random_tensor(kF32, {6, 40, 3}, 16, -10, 10);
    const Shape& s = x.shape();
    int ax = axis < 0 ? axis + 3 : axis;
    std::vector<double> sm(x.numel()), lsm(x.numel());
    for (int64_t f = 0; f < x.numel(); ++f) {
      // Elements of the same softmax slice differ only in the axis coordinate.
      int64_t stride = 1;
      for (int i = 2; i > ax; --i) stride *= s[i];
      int64_t c = (f / stride) % s[ax];
      int64_t base = f - c * stride;
      double m = -INFINITY, z = 0;
      for (int64_t j = 0; j < s[ax]; ++j) m = std::max(m, x.get(base + j * stride));
      for (int64_t j = 0; j < s[ax]; ++j) z += std::exp(x.get(base + j * stride) - m);
      sm[f] = std::exp(x.get(f) - m) / z;
      lsm[f] = x.get(f) - m - std::log(z);
    }
    both_paths([&] {
      Attrs a = Attrs().set("axis", int64_t{axis});
      expect_close(run_op(OpKind::kSoftmax, {x}, a), sm, 1e-5, 1e-7);
      expect_close(run_op(OpKind::kLogSoftmax, {x}, a), lsm, 1e-5, 1e-5);
    });
  }
  Tensor logits = random_tensor(kF32, {5, 11}, 17, -5, 5);
  Tensor labels = Tensor::from_vector<int64_t>({0, 10, 3, 7, 5}, {5}, kI32);
  std::vector<double> want(5);
  for (int p = 0; p < 5; ++p) {
    double m = -INFINITY, z = 0;
    for (int c = 0; c < 11; ++c) m = std::max(m, logits.get(p * 11 + c));
    for (int c = 0; c < 11; ++c) z += std::exp(logits.get(p * 11 + c) - m);
    want[p] = m + std::log(z) - logits.get(p * 11 + static_cast<int64_t>(labels.get(p)));
  }
  both_paths([&] {
    expect_close(run_op(OpKind::kCrossEntropy, {logits, labels}), want, 1e-5, 1e-5);
  });
  expect_close(run_op(OpKind::kCrossEntropy, {logits.to(kF16), labels.to(kI64)}), want, 1e-2,
               1e-2);
  Tensor bad = Tensor::from_vector<int64_t>({0, 11, 3, 7, 5}, {5}, kI32);
  try {
    run_op(OpKind::kCrossEntropy, {logits, bad});
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("node_under_test"), std::string::npos) << m;
    EXPECT_NE(m.find("label 11 at position 1"), std::string::npos) << m;
  }
}

TEST(CpuMatMul, TransposesAndBroadcastBatches) {
  struct Case {
    Shape a, b;
    bool ta, tb;
  };
  const std::vector<Case> cases = {{{5, 7}, {7, 3}, false, false},
                                   {{7, 5}, {7, 3}, true, false},
                                   {{5, 7}, {3, 7}, false, true},
                                   {{7, 5}, {3, 7}, true, true},
                                   {{2, 3, 5, 7}, {7, 4}, false, false},
                                   {{3, 5, 7}, {2, 1, 7, 4}, false, false},
                                   {{1, 4, 6}, {3, 6, 2}, false, false},
                                   {{2, 7, 5}, {2, 4, 7}, true, true},
                                   {{1, 64}, {64, 1000}, false, false}};
  for (const Case& c : cases) {
    Tensor a = random_tensor(kF32, c.a, 18), b = random_tensor(kF32, c.b, 19);
    Attrs attrs = Attrs().set("transpose_a", int64_t{c.ta}).set("transpose_b", int64_t{c.tb});
    Tensor y = run_op(OpKind::kMatMul, {a, b}, attrs);
    const Shape& os = y.shape();
    int64_t M = os[os.rank() - 2], N = os[os.rank() - 1];
    int64_t K = c.a[c.a.rank() - (c.ta ? 2 : 1)];
    Shape ob(std::span<const int64_t>(os.begin(), os.rank() - 2));
    Shape ab(std::span<const int64_t>(c.a.begin(), c.a.rank() - 2));
    Shape bb(std::span<const int64_t>(c.b.begin(), c.b.rank() - 2));
    std::vector<double> want(y.numel());
    for (int64_t f = 0; f < y.numel(); ++f) {
      int64_t batch = f / (M * N), i = (f / N) % M, j = f % N;
      int64_t ba = broadcast_index(ob, ab, batch), bbi = broadcast_index(ob, bb, batch);
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        double av = a.get(ba * M * K + (c.ta ? k * M + i : i * K + k));
        double bv = b.get(bbi * K * N + (c.tb ? j * K + k : k * N + j));
        s += av * bv;
      }
      want[f] = s;
    }
    SCOPED_TRACE(c.a.str() + " x " + c.b.str());
    expect_close(y, want, 1e-5, 1e-4);
    if (c.a.rank() == 2) {
      expect_close(run_op(OpKind::kMatMul, {a.to(kF16), b.to(kF16)}, attrs), want, 1e-2, 5e-2);
      expect_close(run_op(OpKind::kMatMul, {a.to(kBF16), b.to(kBF16)}, attrs), want, 2e-2,
                   2e-1);
    }
  }
}

TEST(CpuMovement, PermuteSliceConcatPadBroadcast) {
  Tensor x = random_tensor(kI32, {2, 3, 4}, 20, -100, 100);
  auto at = [&](int i, int j, int k) { return x.get((i * 3 + j) * 4 + k); };
  Tensor p = run_op(OpKind::kPermute, {x}, Attrs().set("perm", std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_EQ(p.get((k * 2 + i) * 3 + j), at(i, j, k));
  Tensor s = run_op(OpKind::kSlice, {x},
                    Attrs()
                        .set("starts", std::vector<int64_t>{0, -2, 3})
                        .set("ends", std::vector<int64_t>{2, 100, -5})
                        .set("steps", std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(s.numel(), 0);
  Tensor s2 = run_op(OpKind::kSlice, {x.to(kF16)},
                     Attrs()
                         .set("starts", std::vector<int64_t>{1, -2, 0})
                         .set("ends", std::vector<int64_t>{2, 100, 4})
                         .set("steps", std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(s2.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(s2.get(3), Tensor::scalar(at(1, 2, 2), kF32).to(kF16).get(0));
  Tensor c = run_op(OpKind::kConcat, {x, x.to(kI32)}, Attrs().set("axis", int64_t{1}));
  EXPECT_EQ(c.shape(), (Shape{2, 6, 4}));
  EXPECT_EQ(c.get((1 * 6 + 4) * 4 + 3), at(1, 1, 3));
  Tensor pd = run_op(OpKind::kPad, {x},
                     Attrs()
                         .set("pads_before", std::vector<int64_t>{0, 1, 2})
                         .set("pads_after", std::vector<int64_t>{1, 0, 0})
                         .set("value", 7.0));
  EXPECT_EQ(pd.shape(), (Shape{3, 4, 6}));
  EXPECT_EQ(pd.get(0), 7);
  EXPECT_EQ(pd.get((1 * 4 + 2) * 6 + 3), at(1, 1, 1));
  Tensor b = run_op(OpKind::kBroadcast, {Tensor::from_vector<int>({1, 0}, {2, 1}, kBool)},
                    Attrs().set("shape", std::vector<int64_t>{3, 2, 5}));
  EXPECT_EQ(b.get(5 * 3 + 4), 0);
  EXPECT_EQ(b.get(5 * 4 + 1), 1);
  Tensor r = run_op(OpKind::kReshape, {x}, Attrs().set("shape", std::vector<int64_t>{6, 4}));
  EXPECT_EQ(r.get(23), x.get(23));
}

TEST(CpuIndexing, GatherScatterOneHot) {
  Tensor data = random_tensor(kF32, {3, 5, 2}, 21);
  Tensor idx = Tensor::from_vector<int64_t>({4, -1, 0, 2}, {2, 2}, kI64);
  Tensor g = run_op(OpKind::kGather, {data, idx}, Attrs().set("axis", int64_t{1}));
  EXPECT_EQ(g.shape(), (Shape{3, 2, 2, 2}));
  EXPECT_EQ(g.get(((2 * 2 + 0) * 2 + 1) * 2 + 1), data.get((2 * 5 + 4) * 2 + 1));  // -1 -> 4
  Tensor upd = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2}, kF32);
  Tensor si = Tensor::from_vector<int64_t>({1, 1, 0}, {3}, kI32);
  Tensor sc = run_op(OpKind::kScatterAdd, {upd, si},
                     Attrs().set("axis", int64_t{0}).set("dim_size", int64_t{3}));
  expect_close(sc, {5, 6, 4, 6, 0, 0}, 0, 0);
  Tensor sh = run_op(OpKind::kScatterAdd, {upd.to(kBF16), si},
                     Attrs().set("axis", int64_t{0}).set("dim_size", int64_t{3}));
  expect_close(sh, {5, 6, 4, 6, 0, 0}, 0, 0);
  Tensor oh = run_op(OpKind::kOneHot, {si}, Attrs().set("depth", int64_t{3}).set("dtype", kI8));
  expect_close(oh, {0, 1, 0, 0, 1, 0, 1, 0, 0}, 0, 0);
  Tensor bad = Tensor::from_vector<int64_t>({0, 5}, {2}, kI32);
  for (OpKind op : {OpKind::kGather, OpKind::kOneHot}) {
    try {
      if (op == OpKind::kGather) run_op(op, {data, bad}, Attrs().set("axis", int64_t{1}));
      else run_op(op, {bad}, Attrs().set("depth", int64_t{3}).set("dtype", kF32));
      FAIL() << op_name(op);
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("node_under_test"), std::string::npos) << m;
      EXPECT_NE(m.find("index 5 at position 1"), std::string::npos) << m;
    }
  }
}

}  // namespace
}  // namespace tessera
