// The oracle checked by hand: values worked out on paper for the semantics that docs/ops.md
// pins down (wrapping, truncating division, NaN propagation, index rules, errors), so that
// comparing backends with ref means comparing them with the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tessera/backends/ref/ref_backend.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Evaluates the graph's single output on ref.
Tensor eval(const Graph& g, const std::vector<Tensor>& inputs) {
  Program p = compile_program(g, {.batch = 1, .backends = {"ref"}});
  return p.run(inputs)[0].clone();
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.get(i));
  return v;
}

std::vector<int64_t> ints(const Tensor& t) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t.numel(); ++i)
    v.push_back(load_i64(static_cast<const char*>(t.raw_data()) + i * t.dtype().size(), t.dtype()));
  return v;
}

Tensor int_tensor(const std::vector<int64_t>& v, const Shape& s, DType t) {
  Tensor r = Tensor::zeros(t, s);
  for (size_t i = 0; i < v.size(); ++i)
    store_i64(v[i], static_cast<char*>(r.raw_data()) + i * t.size(), t);
  return r;
}

// A binary op on two inputs of the given dtype and shapes.
Tensor binary(OpKind op, const Tensor& a, const Tensor& b) {
  GraphBuilder gb;
  ValueId x = gb.input("a", a.dtype(), a.shape()), y = gb.input("b", b.dtype(), b.shape());
  gb.output(gb.emit(op, {x, y}));
  return eval(gb.finish(), {a, b});
}

Tensor unary(OpKind op, const Tensor& a) {
  GraphBuilder gb;
  gb.output(gb.emit(op, {gb.input("a", a.dtype(), a.shape())}));
  return eval(gb.finish(), {a});
}

TEST(RefGolden, IntegerArithmeticWraps) {
  Tensor a = int_tensor({100, -128, 127}, {3}, kI8), b = int_tensor({100, -1, 1}, {3}, kI8);
  EXPECT_EQ(ints(binary(OpKind::kAdd, a, b)), (std::vector<int64_t>{-56, 127, -128}));
  EXPECT_EQ(ints(binary(OpKind::kMul, a, b)), (std::vector<int64_t>{16, -128, 127}));
  EXPECT_EQ(ints(binary(OpKind::kDiv, a, b)), (std::vector<int64_t>{1, -128, 127}));
  int64_t big = int64_t{1} << 62;
  Tensor c = int_tensor({big, INT64_MIN}, {2}, kI64), d = int_tensor({big, -1}, {2}, kI64);
  EXPECT_EQ(ints(binary(OpKind::kAdd, c, d)), (std::vector<int64_t>{INT64_MIN, INT64_MAX}));
  EXPECT_EQ(ints(binary(OpKind::kDiv, c, d)), (std::vector<int64_t>{1, INT64_MIN}));
  Tensor e = int_tensor({INT32_MIN, -5, 7}, {3}, kI32);
  EXPECT_EQ(ints(unary(OpKind::kNeg, e)), (std::vector<int64_t>{INT32_MIN, 5, -7}));
  EXPECT_EQ(ints(unary(OpKind::kAbs, e)), (std::vector<int64_t>{INT32_MIN, 5, 7}));
  EXPECT_EQ(ints(unary(OpKind::kRelu, e)), (std::vector<int64_t>{0, 0, 7}));
}

TEST(RefGolden, IntegerDivisionTruncatesAndRejectsZero) {
  Tensor a = int_tensor({-7, 7, -7, 7}, {4}, kI32), b = int_tensor({2, -2, -2, 2}, {4}, kI32);
  EXPECT_EQ(ints(binary(OpKind::kDiv, a, b)), (std::vector<int64_t>{-3, -3, 3, 3}));
  Tensor z = int_tensor({1, 0, 1, 1}, {4}, kI32);
  try {
    binary(OpKind::kDiv, a, z);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("div_2"), std::string::npos) << m;
    EXPECT_NE(m.find("[1]"), std::string::npos) << m;
    EXPECT_NE(m.find("by zero"), std::string::npos) << m;
  }
}

TEST(RefGolden, NaNPropagatesAndComparesPerIeee) {
  Tensor a = Tensor::from_vector<double>({kNaN, 1, 2}, {3}),
         b = Tensor::from_vector<double>({0, kNaN, 1}, {3});
  std::vector<double> mx = values(binary(OpKind::kMaximum, a, b));
  EXPECT_TRUE(std::isnan(mx[0]) && std::isnan(mx[1]));
  EXPECT_EQ(mx[2], 2);
  std::vector<double> mn = values(binary(OpKind::kMinimum, a, b));
  EXPECT_TRUE(std::isnan(mn[0]) && std::isnan(mn[1]));
  EXPECT_EQ(mn[2], 1);
  EXPECT_EQ(values(binary(OpKind::kEqual, a, b)), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(values(binary(OpKind::kNotEqual, a, b)), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(values(binary(OpKind::kLess, a, b)), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(values(binary(OpKind::kGreaterEqual, a, b)), (std::vector<double>{0, 0, 1}));

  GraphBuilder gb;
  ValueId x = gb.input("x", kF32, {2, 2});
  gb.output(gb.reduce_max(x, {1}));
  std::vector<double> r =
      values(eval(gb.finish(), {Tensor::from_vector<double>({1, kNaN, 3, 2}, {2, 2})}));
  EXPECT_TRUE(std::isnan(r[0]));
  EXPECT_EQ(r[1], 3);
}

TEST(RefGolden, CastSaturatesTruncatesAndMapsNaNToZero) {
  GraphBuilder gb;
  ValueId x = gb.input("x", kF32, {6});
  gb.output(gb.cast(x, kI8));
  Tensor in = Tensor::from_vector<double>({300, -300, -1.7, 1.7, kNaN, 0.5}, {6});
  EXPECT_EQ(ints(eval(gb.finish(), {in})), (std::vector<int64_t>{127, -128, -1, 1, 0, 0}));
  GraphBuilder gb2;
  gb2.output(gb2.cast(gb2.input("x", kF32, {6}), kBool));
  EXPECT_EQ(ints(eval(gb2.finish(), {in})), (std::vector<int64_t>{1, 1, 1, 1, 1, 1}));
}

TEST(RefGolden, MatMulAndTransposes) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<double>({5, 6, 7, 8}, {2, 2});
  auto mm = [&](bool ta, bool tb) {
    GraphBuilder gb;
    ValueId x = gb.input("a", kF32, {2, 2}), y = gb.input("b", kF32, {2, 2});
    gb.output(gb.matmul(x, y, ta, tb));
    return values(eval(gb.finish(), {a, b}));
  };
  EXPECT_EQ(mm(false, false), (std::vector<double>{19, 22, 43, 50}));
  EXPECT_EQ(mm(false, true), (std::vector<double>{17, 23, 39, 53}));
  EXPECT_EQ(mm(true, false), (std::vector<double>{26, 30, 38, 44}));
}

TEST(RefGolden, Reductions) {
  GraphBuilder gb;
  ValueId x = gb.input("x", kI8, {3});
  gb.output(gb.reduce_sum(x, {}));
  EXPECT_EQ(ints(eval(gb.finish(), {int_tensor({100, 100, 100}, {3}, kI8)})),
            (std::vector<int64_t>{44}));
  GraphBuilder gb2;
  ValueId y = gb2.input("y", kF32, {2, 3});
  gb2.output(gb2.reduce_mean(y, {0}, true));
  EXPECT_EQ(values(eval(gb2.finish(), {Tensor::from_vector<double>({1, 2, 3, 4, 5, 7}, {2, 3})})),
            (std::vector<double>{2.5, 3.5, 5}));
}

TEST(RefGolden, DataMovement) {
  Tensor x = Tensor::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  GraphBuilder gb;
  ValueId in = gb.input("x", kF32, {2, 3});
  gb.output(gb.permute(in, {1, 0}));
  EXPECT_EQ(values(eval(gb.finish(), {x})), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  GraphBuilder gb2;
  in = gb2.input("x", kF32, {2, 3});
  gb2.output(gb2.slice(in, {-1, -2}, {2, 100}, {1, 1}));
  EXPECT_EQ(values(eval(gb2.finish(), {x})), (std::vector<double>{4, 5}));
  GraphBuilder gb3;
  in = gb3.input("x", kI32, {1, 2});
  gb3.output(gb3.pad(in, {0, 1}, {0, 1}, 2.7));  // the value is cast: 2.7 -> 2
  EXPECT_EQ(ints(eval(gb3.finish(), {int_tensor({5, 6}, {1, 2}, kI32)})),
            (std::vector<int64_t>{2, 5, 6, 2}));
  GraphBuilder gb4;
  ValueId a = gb4.input("a", kF32, {1, 2}), b = gb4.input("b", kF32, {1, 1});
  std::vector<ValueId> both = {a, b};
  gb4.output(gb4.concat(both, 1));
  EXPECT_EQ(values(eval(gb4.finish(), {Tensor::from_vector<double>({1, 2}, {1, 2}),
                                       Tensor::from_vector<double>({3}, {1, 1})})),
            (std::vector<double>{1, 2, 3}));
}

TEST(RefGolden, GatherScatterOneHot) {
  Tensor data = Tensor::from_vector<double>({10, 11, 12, 13}, {4});
  GraphBuilder gb;
  ValueId d = gb.input("d", kF32, {4}), i = gb.input("i", kI64, {3});
  gb.output(gb.gather(d, i, 0));
  Graph g = gb.finish();
  EXPECT_EQ(values(eval(g, {data, int_tensor({-1, 0, 2}, {3}, kI64)})),
            (std::vector<double>{13, 10, 12}));
  try {
    eval(g, {data, int_tensor({0, 1, -5}, {3}, kI64)});
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("gather_2"), std::string::npos) << m;
    EXPECT_NE(m.find("-5"), std::string::npos) << m;
    EXPECT_NE(m.find("[2]"), std::string::npos) << m;
  }

  GraphBuilder gs;
  ValueId u = gs.input("u", kF32, {3}), j = gs.input("j", kI32, {3});
  gs.output(gs.scatter_add(u, j, 0, 3));
  EXPECT_EQ(values(eval(gs.finish(), {Tensor::from_vector<double>({1, 2, 3}, {3}),
                                      int_tensor({0, 0, -1}, {3}, kI32)})),
            (std::vector<double>{3, 0, 3}));

  GraphBuilder go;
  go.output(go.one_hot(go.input("k", kI32, {2}), 3, kI8));
  Graph oh = go.finish();
  EXPECT_EQ(ints(eval(oh, {int_tensor({2, 0}, {2}, kI32)})),
            (std::vector<int64_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_THROW(eval(oh, {int_tensor({3, 0}, {2}, kI32)}), Error);
  EXPECT_THROW(eval(oh, {int_tensor({0, -1}, {2}, kI32)}), Error);
}

TEST(RefGolden, SoftmaxAndCrossEntropy) {
  Tensor logits = Tensor::from_vector<double>({0, std::log(2.0), std::log(5.0)}, {1, 3});
  GraphBuilder gb;
  gb.output(gb.softmax(gb.input("x", kF32, {1, 3})));
  std::vector<double> s = values(eval(gb.finish(), {logits}));
  EXPECT_NEAR(s[0], 0.125, 1e-7);
  EXPECT_NEAR(s[1], 0.25, 1e-7);
  EXPECT_NEAR(s[2], 0.625, 1e-7);
  GraphBuilder gc;
  ValueId x = gc.input("x", kF32, {1, 3}), y = gc.input("y", kI32, {1});
  gc.output(gc.cross_entropy(x, y));
  Graph ce = gc.finish();
  EXPECT_NEAR(values(eval(ce, {logits, int_tensor({1}, {1}, kI32)}))[0], std::log(4.0), 1e-6);
  EXPECT_THROW(eval(ce, {logits, int_tensor({3}, {1}, kI32)}), Error);
}

// A chain whose intermediates the memory planner may compute in place: results must not
// depend on it.
TEST(RefGolden, InPlaceChains) {
  GraphBuilder gb;
  ValueId x = gb.input("x", kF32, {4});
  ValueId a = gb.neg(x);
  ValueId b = gb.add(a, a);
  ValueId c = gb.mul(b, gb.exp(a));
  gb.output(gb.sub(c, b));
  std::vector<double> in = {0.5, -1, 2, 0};
  std::vector<double> got = values(eval(gb.finish(), {Tensor::from_vector<double>(in, {4})}));
  for (size_t i = 0; i < in.size(); ++i) {
    double bb = -2 * in[i];
    EXPECT_NEAR(got[i], bb * std::exp(-in[i]) - bb, 1e-5) << i;
  }
}

TEST(RefGolden, HalfTypesRoundOnce) {
  // Ties round to even: 1 + 2^-11 is half an f16 ulp above 1 (-> 1), 1 + 3·2^-11 is
  // halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
  GraphBuilder gb;
  ValueId a = gb.input("a", kF16, {2}), b = gb.input("b", kF16, {2});
  gb.output(gb.add(a, b));
  Tensor ta = Tensor::from_vector<double>({1.0, 1.0}, {2}, kF16);
  Tensor tb = Tensor::from_vector<double>({std::ldexp(1.0, -11), std::ldexp(3.0, -11)}, {2}, kF16);
  EXPECT_EQ(values(eval(gb.finish(), {ta, tb})),
            (std::vector<double>{1.0, 1.0 + std::ldexp(1.0, -9)}));
}

}  // namespace
}  // namespace tessera
