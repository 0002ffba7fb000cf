// Autodiff: every gradient rule against central finite differences (with a double-precision
// interpreter, so tolerances are tight), plus the structure of the backward graph, tie and
// kink conventions, symbolic batch shapes and the error paths.
#include "tessera/ir/autodiff.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "double_eval.h"
#include "grad_check.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

using adtest::DoubleEvaluator;
using adtest::DTensor;
using adtest::GradChecker;

// ---- numeric checks, one op family at a time ------------------------------------------

class UnaryGradTest : public ::testing::TestWithParam<OpKind> {};

TEST_P(UnaryGradTest, MatchesFiniteDifferences) {
  OpKind op = GetParam();
  GradChecker c;
  bool positive = op == OpKind::kLog || op == OpKind::kSqrt || op == OpKind::kRsqrt;
  ValueId x = positive ? c.param("x", {2, 3}, 0.5, 2.0) : c.param_away_from_zero("x", {2, 3});
  c.check(c.b.emit(op, {x}), {x});
}

INSTANTIATE_TEST_SUITE_P(AllUnary, UnaryGradTest,
                         ::testing::Values(OpKind::kNeg, OpKind::kAbs, OpKind::kExp, OpKind::kLog,
                                           OpKind::kSqrt, OpKind::kRsqrt, OpKind::kTanh,
                                           OpKind::kSigmoid, OpKind::kRelu, OpKind::kGelu,
                                           OpKind::kErf),
                         [](const auto& info) { return std::string(op_name(info.param)); });

struct BinaryCase {
  OpKind op;
  Shape a, b;
};

class BinaryGradTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryGradTest, MatchesFiniteDifferencesWithBroadcasting) {
  const BinaryCase& p = GetParam();
  GradChecker c;
  // pow needs a positive base; div a divisor away from zero.
  ValueId a = p.op == OpKind::kPow ? c.param("a", p.a, 0.5, 2.0) : c.param("a", p.a);
  ValueId b = p.op == OpKind::kPow   ? c.param("b", p.b, -1.5, 1.5)
              : p.op == OpKind::kDiv ? c.param("b", p.b, 0.5, 2.0)
                                     : c.param("b", p.b);
  c.check(c.b.emit(p.op, {a, b}), {a, b});
}

std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> r;
  for (OpKind op : {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kPow,
                    OpKind::kMaximum, OpKind::kMinimum}) {
    r.push_back({op, {2, 3}, {2, 3}});
    r.push_back({op, {2, 3}, {3}});        // rank broadcast
    r.push_back({op, {2, 1, 3}, {4, 1}});  // both sides stretch
    r.push_back({op, {}, {2, 2}});         // scalar
  }
  return r;
}

INSTANTIATE_TEST_SUITE_P(AllBinary, BinaryGradTest, ::testing::ValuesIn(binary_cases()),
                         [](const auto& info) {
                           return std::string(op_name(info.param.op)) + "_" +
                                  std::to_string(info.index);
                         });

TEST(AutodiffGrad, Where) {
  GradChecker c;
  ValueId p = c.param("p", {2, 3});
  ValueId q = c.param("q", {2, 3});
  ValueId cond = c.b.compare(OpKind::kGreater, p, q);  // fixed: only a and b are perturbed
  ValueId a = c.param("a", {2, 3});
  ValueId b = c.param("b", {3});
  Gradients d = c.check(c.b.where(cond, a, b), {a, b});
  (void)d;
}

TEST(AutodiffGrad, CastFloatToFloat) {
  GradChecker c;
  ValueId x = c.param("x", {2, 3});
  ValueId y = c.b.cast(c.b.mul(x, x), kF16);
  Gradients d = c.check(c.b.cast(y, kF32), {x}, 1e-5);
  (void)d;
}

struct MatMulCase {
  Shape a, b;
  bool ta, tb;
};

class MatMulGradTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulGradTest, MatchesFiniteDifferences) {
  const MatMulCase& p = GetParam();
  GradChecker c;
  ValueId a = c.param("a", p.a);
  ValueId b = c.param("b", p.b);
  c.check(c.b.matmul(a, b, p.ta, p.tb), {a, b});
}

INSTANTIATE_TEST_SUITE_P(
    AllTransposes, MatMulGradTest,
    ::testing::Values(MatMulCase{{3, 4}, {4, 2}, false, false},
                      MatMulCase{{3, 4}, {2, 4}, false, true},
                      MatMulCase{{4, 3}, {4, 2}, true, false},
                      MatMulCase{{4, 3}, {2, 4}, true, true},
                      MatMulCase{{2, 3, 4}, {4, 2}, false, false},    // batched x shared
                      MatMulCase{{3, 4}, {2, 2, 4}, false, true},     // shared x batched
                      MatMulCase{{1, 4, 3}, {2, 4, 2}, true, false},  // batch dim of 1
                      MatMulCase{{2, 1, 4, 3}, {3, 2, 4}, true, true}));

TEST(AutodiffGrad, Reductions) {
  struct Case {
    OpKind op;
    std::vector<int64_t> axes;
    bool keepdims;
  };
  for (const Case& k :
       {Case{OpKind::kReduceSum, {-1}, false}, Case{OpKind::kReduceSum, {0, 2}, true},
        Case{OpKind::kReduceSum, {}, false}, Case{OpKind::kReduceMean, {1}, false},
        Case{OpKind::kReduceMean, {-3, -1}, true}, Case{OpKind::kReduceMean, {}, false},
        Case{OpKind::kReduceMax, {1}, false}, Case{OpKind::kReduceMax, {0, 2}, true},
        Case{OpKind::kReduceMax, {}, false}}) {
    SCOPED_TRACE(fmt::format("{} axes={} keepdims={}", op_name(k.op), k.axes.size(), k.keepdims));
    GradChecker c;
    ValueId x = c.param("x", {2, 3, 4});
    c.check(c.b.emit(k.op, {x}, Attrs().set("axes", k.axes).set("keepdims", int64_t{k.keepdims})),
            {x});
  }
}

TEST(AutodiffGrad, ReshapePermuteBroadcast) {
  GradChecker c;
  ValueId x = c.param("x", {2, 3, 4});
  ValueId r = c.b.reshape(x, {6, 4});
  ValueId p = c.b.permute(x, {2, 0, 1});
  ValueId s = c.param("s", {3, 1});
  ValueId bc = c.b.broadcast(s, {2, 3, 4});
  ValueId v = c.param("v", {4});
  ValueId bv = c.b.broadcast(v, {3, 4});
  ValueId y =
      c.b.add(c.b.add(c.b.reshape(r, {2, 3, 4}), c.b.permute(p, {1, 2, 0})), c.b.mul(bc, bv));
  c.check(y, {x, s, v});
}

TEST(AutodiffGrad, SliceUnitAndStrided) {
  GradChecker c;
  ValueId x = c.param("x", {5, 7});
  // Unit steps with a negative start; strided with clamped ends; both kinds on one node.
  ValueId a = c.b.slice(x, {1, -4}, {4, 100});
  ValueId b = c.b.slice(x, {0, 1}, {5, 100}, {2, 3});
  ValueId d = c.b.slice(x, {1, 0}, {5, 6}, {1, 2});
  ValueId y = c.b.add(c.b.reduce_sum(a, {}), c.b.add(c.b.reduce_sum(b, {}), c.b.reduce_sum(d, {})));
  ValueId z = c.b.add(y, c.b.reduce_sum(c.b.mul(b, b), {}));
  c.check(z, {x});
}

TEST(AutodiffGrad, SliceRankThreeStrided) {
  GradChecker c;
  ValueId x = c.param("x", {4, 3, 6});
  c.check(c.b.slice(x, {1, 0, 5}, {4, 3, 0}, {2, 1, 2}), {x});  // last axis empty
  GradChecker c2;
  ValueId x2 = c2.param("x", {4, 3, 6});
  c2.check(c2.b.slice(x2, {-3, 1, 1}, {4, 3, 6}, {2, 1, 2}), {x2});
}

TEST(AutodiffGrad, ConcatWithRepeatedInput) {
  GradChecker c;
  ValueId x = c.param("x", {2, 3});
  ValueId y = c.param("y", {2, 1});
  std::vector<ValueId> parts = {x, y, x};
  c.check(c.b.concat(parts, -1), {x, y});
}

TEST(AutodiffGrad, Pad) {
  GradChecker c;
  ValueId x = c.param("x", {2, 3});
  c.check(c.b.pad(x, {1, 0}, {2, 3}, 1.5), {x});
}

TEST(AutodiffGrad, GatherWithDuplicateAndNegativeIndices) {
  GradChecker c;
  ValueId data = c.param("data", {5, 3});
  ValueId idx = c.indices({0, 3, 3, -1}, {4});
  ValueId y0 = c.b.gather(data, idx, 0);
  ValueId idx2 = c.indices({2, 0, 2, 1}, {2, 2});
  ValueId y1 = c.b.gather(data, idx2, 1);  // [5, 2, 2]
  Gradients d =
      c.check(c.b.add(c.b.reduce_sum(y0, {}), c.b.reduce_sum(c.b.mul(y1, y1), {})), {data});
  (void)d;
}

TEST(AutodiffGrad, ScatterAdd) {
  GradChecker c;
  ValueId upd = c.param("upd", {2, 4, 3});
  ValueId idx = c.indices({1, 0, 1, 4}, {4});
  c.check(c.b.scatter_add(upd, idx, 1, 5), {upd});
}

TEST(AutodiffGrad, SoftmaxAndLogSoftmax) {
  for (int64_t axis : {0, -1}) {
    GradChecker c;
    ValueId x = c.param("x", {3, 4});
    c.check(c.b.softmax(x, axis), {x});
    GradChecker c2;
    ValueId x2 = c2.param("x", {3, 4});
    c2.check(c2.b.log_softmax(x2, axis), {x2});
  }
}

TEST(AutodiffGrad, CrossEntropy) {
  GradChecker c;
  ValueId logits = c.param("logits", {2, 3, 5});
  ValueId labels = c.indices({0, 4, 2, 1, 1, 3}, {2, 3});
  c.check(c.b.cross_entropy(logits, labels), {logits});
}

TEST(AutodiffGrad, ReusedValuesAccumulate) {
  GradChecker c;
  ValueId x = c.param("x", {3});
  ValueId y = c.b.add(c.b.mul(x, x), c.b.mul(c.b.exp(x), c.b.tanh(x)));
  c.check(c.b.mul(y, x), {x});
}

// A two-layer classifier on a symbolic batch, evaluated with N = 3: the whole chain,
// including reduce_mean over the batch axis (whose count is only known at run time).
TEST(AutodiffGrad, MlpWithSymbolicBatch) {
  GradChecker c(/*batch=*/3);
  ValueId x = c.input("x", {kDynamic, 4});
  ValueId labels = c.index_input("labels", {kDynamic}, {0, 2, 1});
  ValueId w1 = c.param("w1", {4, 5}, -1, 1);
  ValueId b1 = c.param("b1", {5}, -1, 1);
  ValueId w2 = c.param("w2", {5, 3}, -1, 1);
  ValueId h = c.b.gelu(c.b.add(c.b.matmul(x, w1), b1));
  ValueId z = c.b.matmul(h, w2);
  ValueId loss = c.b.reduce_mean(c.b.cross_entropy(z, labels), {0});
  Gradients d = c.check(loss, {w1, b1, w2, x});
  EXPECT_EQ(d.graph.type(d.grads[3]).shape, (Shape{kDynamic, 4}));
}

TEST(AutodiffGrad, SymbolicBatchDataMovement) {
  GradChecker c(/*batch=*/2);
  ValueId x = c.input("x", {kDynamic, 2, 3});
  ValueId s = c.param("s", {1, 3});
  ValueId r = c.b.reshape(c.b.mul(x, s), {kDynamic, 6});
  ValueId p = c.b.pad(c.b.slice(r, {0, 1}, {INT64_MAX, 6}, {1, 2}), {0, 1}, {0, 0});
  ValueId m =
      c.b.reduce_max(c.b.broadcast(c.b.reshape(p, {kDynamic, 1, 4}), {kDynamic, 2, 4}), {0}, true);
  ValueId q = c.b.reduce_mean(c.b.permute(x, {2, 1, 0}), {-1, 0});
  c.check(c.b.add(c.b.reduce_sum(m, {}), c.b.reduce_sum(q, {})), {x, s});
}

// ---- structure ----------------------------------------------------------------------

TEST(Autodiff, KeepsForwardGraphAndPrunesUnneededBackwardWork) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 3});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3, 2}));
  ValueId y = b.matmul(x, w);
  ValueId loss = b.reduce_sum(y, {});
  b.output(y);
  ValueId w2 = b.parameter("w2", Tensor::zeros(kF32, {3, 2}));
  b.update(w2, b.add(w2, w2));
  Graph g = b.finish();
  std::vector<ValueId> wrt = {w};
  Gradients d = differentiate(g, loss, wrt);
  ASSERT_EQ(d.grads.size(), 1u);
  EXPECT_EQ(d.graph.outputs(), g.outputs());
  ASSERT_EQ(d.graph.updates().size(), 1u);
  EXPECT_EQ(d.graph.updates()[0].parameter, w2);
  d.graph.validate();
  // Only dW = xᵀ·dy: no matmul computing dx, which nobody asked for.
  int backward_matmuls = 0;
  for (ValueId i = g.size(); i < d.graph.size(); ++i)
    backward_matmuls += d.graph.node(i).op == OpKind::kMatMul;
  EXPECT_EQ(backward_matmuls, 1);
  EXPECT_EQ(d.graph.type(d.grads[0]), g.type(w));
}

TEST(Autodiff, UnreachableAndNonFloatWrtGetNoGradient) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::full(kF32, {2}, 1.0));
  ValueId unused = b.parameter("unused", Tensor::full(kF32, {2}, 1.0));
  ValueId idx = b.constant(Tensor::from_vector<int64_t>({1, 0}, {2}, kI64));
  ValueId loss = b.reduce_sum(b.gather(x, idx, 0), {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {unused, idx, x, loss};
  Gradients d = differentiate(g, loss, wrt);
  EXPECT_EQ(d.grads[0], kNoValue);
  EXPECT_EQ(d.grads[1], kNoValue);
  EXPECT_NE(d.grads[2], kNoValue);
  ASSERT_NE(d.grads[3], kNoValue);  // d loss / d loss: the seed, ones
  EXPECT_EQ(d.graph.node(d.grads[3]).op, OpKind::kConstant);
  EXPECT_EQ(d.graph.node(d.grads[3]).value.get(0), 1.0);
}

TEST(Autodiff, GradientOfIntToFloatCastStopsAtTheCast) {
  GraphBuilder b;
  ValueId i = b.input("i", kI32, {3});
  ValueId x = b.parameter("x", Tensor::full(kF32, {3}, 2.0));
  ValueId loss = b.reduce_sum(b.mul(b.cast(i, kF32), x), {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {i, x};
  Gradients d = differentiate(g, loss, wrt);
  EXPECT_EQ(d.grads[0], kNoValue);
  EXPECT_NE(d.grads[1], kNoValue);
}

TEST(Autodiff, ExplicitSeedForNonScalarLoss) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::from_vector<float>({1, 2, 3}, {3}));
  ValueId y = b.mul(x, x);
  ValueId dy = b.constant(Tensor::from_vector<float>({1, 10, 100}, {3}));
  Graph g = b.finish();
  std::vector<ValueId> wrt = {x};
  Gradients d = differentiate(g, y, dy, wrt);
  std::vector<DTensor> v = DoubleEvaluator(d.graph, 1).run({});
  EXPECT_EQ(v[d.grads[0]].v, (std::vector<double>{2, 40, 600}));
}

TEST(Autodiff, TiesSplitEvenly) {
  GraphBuilder b;
  ValueId a = b.parameter("a", Tensor::from_vector<float>({1, 2, 3}, {3}));
  ValueId c = b.parameter("c", Tensor::from_vector<float>({1, 5, 0}, {3}));
  ValueId r = b.parameter("r", Tensor::from_vector<float>({1, 3, 3, 0}, {4}));
  ValueId sum_mx = b.reduce_sum(b.maximum(a, c), {});
  ValueId sum_mn = b.reduce_sum(b.minimum(a, c), {});
  ValueId rm = b.reduce_max(r, {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {a, c, r};
  auto grads = [&](ValueId loss) {
    Gradients d = differentiate(g, loss, wrt);
    std::vector<DTensor> v = DoubleEvaluator(d.graph, 1).run({});
    std::vector<std::vector<double>> out;
    for (ValueId id : d.grads) out.push_back(id == kNoValue ? std::vector<double>{} : v[id].v);
    return out;
  };
  auto gmx = grads(sum_mx);
  EXPECT_EQ(gmx[0], (std::vector<double>{0.5, 0, 1}));
  EXPECT_EQ(gmx[1], (std::vector<double>{0.5, 1, 0}));
  auto gmn = grads(sum_mn);
  EXPECT_EQ(gmn[0], (std::vector<double>{0.5, 1, 0}));
  EXPECT_EQ(gmn[1], (std::vector<double>{0.5, 0, 1}));
  auto grm = grads(rm);
  EXPECT_EQ(grm[2], (std::vector<double>{0, 0.5, 0.5, 0}));
}

TEST(Autodiff, KinksTakeZeroSubgradient) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::from_vector<float>({-1, 0, 2}, {3}));
  ValueId loss = b.reduce_sum(b.add(b.relu(x), b.abs(x)), {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {x};
  Gradients d = differentiate(g, loss, wrt);
  std::vector<DTensor> v = DoubleEvaluator(d.graph, 1).run({});
  EXPECT_EQ(v[d.grads[0]].v, (std::vector<double>{-1, 0, 2}));
}

TEST(Autodiff, StridedSliceUsesScatterAddUnitSliceUsesPad) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::zeros(kF32, {6, 4}));
  ValueId s1 = b.reduce_sum(b.slice(x, {1, 0}, {3, 4}), {});
  ValueId s2 = b.reduce_sum(b.slice(x, {0, 0}, {6, 4}, {2, 1}), {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {x};
  auto count = [](const Gradients& d, int from, OpKind op) {
    int n = 0;
    for (ValueId i = from; i < d.graph.size(); ++i) n += d.graph.node(i).op == op;
    return n;
  };
  Gradients d1 = differentiate(g, s1, wrt);
  EXPECT_EQ(count(d1, g.size(), OpKind::kPad), 1);
  EXPECT_EQ(count(d1, g.size(), OpKind::kScatterAdd), 0);
  Gradients d2 = differentiate(g, s2, wrt);
  EXPECT_EQ(count(d2, g.size(), OpKind::kScatterAdd), 1);
  EXPECT_EQ(count(d2, g.size(), OpKind::kPad), 0);
}

TEST(Autodiff, HalfPrecisionGraphStaysInHalf) {
  GraphBuilder b;
  ValueId x = b.input("x", kBF16, {kDynamic, 4});
  ValueId w = b.parameter("w", Tensor::zeros(kBF16, {4, 3}));
  ValueId labels = b.input("labels", kI32, {kDynamic});
  ValueId h = b.log_softmax(b.tanh(b.matmul(x, w)), -1);
  ValueId loss = b.reduce_mean(b.cross_entropy(b.mul(h, b.sigmoid(h)), labels), {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {w};
  Gradients d = differentiate(g, loss, wrt);
  d.graph.validate();
  for (ValueId i = g.size(); i < d.graph.size(); ++i) {
    DType t = d.graph.type(i).dtype;
    EXPECT_TRUE(t == kBF16 || t == kBool || t.is_int())
        << d.graph.describe(i) << " is " << t.name();
  }
}

// ---- errors -------------------------------------------------------------------------

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(AutodiffErrors, NonScalarLossWithoutSeed) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::zeros(kF32, {2}));
  ValueId y = b.emit(OpKind::kExp, {x}, {}, "my_loss");
  Graph g = b.finish();
  std::vector<ValueId> wrt = {x};
  std::string msg = error_of([&] { differentiate(g, y, wrt); });
  EXPECT_NE(msg.find("my_loss"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dloss"), std::string::npos) << msg;
}

TEST(AutodiffErrors, NonFloatLossAndBadIds) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::zeros(kF32, {2}));
  ValueId i = b.emit(OpKind::kReduceSum, {b.cast(x, kI32)},
                     Attrs().set("axes", std::vector<int64_t>{}), "int_loss");
  ValueId loss = b.reduce_sum(x, {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {x};
  std::string msg = error_of([&] { differentiate(g, i, wrt); });
  EXPECT_NE(msg.find("int_loss"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float"), std::string::npos) << msg;
  std::vector<ValueId> bad = {x, 99};
  msg = error_of([&] { differentiate(g, loss, bad); });
  EXPECT_NE(msg.find("99"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { differentiate(g, 1234, wrt); }), "<no error>");
  // A seed whose type differs from the loss's.
  msg = error_of([&] { differentiate(g, loss, x, wrt); });
  EXPECT_NE(msg.find("dloss"), std::string::npos) << msg;
}

TEST(AutodiffErrors, FusedGraphIsRejected) {
  GraphBuilder b;
  ValueId x = b.parameter("x", Tensor::zeros(kF32, {2}));
  Graph g = b.finish();
  Node fused;
  fused.op = OpKind::kFusedElementwise;
  fused.inputs = {x};
  fused.type = g.type(x);
  fused.name = "fused_blob";
  ValueId f = g.add_node(fused);
  GraphBuilder b2(std::move(g));
  ValueId loss = b2.reduce_sum(f, {});
  g = b2.finish();
  std::vector<ValueId> wrt = {x};
  std::string msg = error_of([&] { differentiate(g, loss, wrt); });
  EXPECT_NE(msg.find("fused_blob"), std::string::npos) << msg;
  EXPECT_NE(msg.find("before"), std::string::npos) << msg;
}

TEST(AutodiffErrors, GatherAlongBatchAxisNamesTheNode) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 3});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3}));
  ValueId idx = b.constant(Tensor::from_vector<int64_t>({0}, {1}, kI64));
  ValueId gth =
      b.emit(OpKind::kGather, {b.mul(x, w), idx}, Attrs().set("axis", int64_t{0}), "batch_gather");
  ValueId loss = b.reduce_sum(gth, {});
  Graph g = b.finish();
  std::vector<ValueId> wrt = {w};
  std::string msg = error_of([&] { differentiate(g, loss, wrt); });
  EXPECT_NE(msg.find("batch_gather"), std::string::npos) << msg;
}

// ---- the reference backend ------------------------------------------------------------

// Runs a differentiated graph node by node on `ref` (f32) and compares with the double
// interpreter. Skips while ref does not implement every op of the graph.
TEST(AutodiffOnRef, BackwardGraphRunsOnRefBackend) {
  GradChecker c;
  ValueId x = c.param("x", {3, 4}, -1, 1);
  ValueId w = c.param("w", {4, 5}, -1, 1);
  ValueId labels = c.indices({0, 4, 2}, {3});
  ValueId h = c.b.maximum(c.b.matmul(x, w), c.b.scalar(0.1));
  ValueId s = c.b.slice(c.b.pad(h, {0, 1}, {0, 0}), {0, 0}, {3, 6}, {1, 2});
  ValueId loss =
      c.b.reduce_mean(c.b.cross_entropy(c.b.concat(std::vector<ValueId>{s, h}, 1), labels), {});
  Graph g = c.b.finish();
  std::vector<ValueId> wrt = {x, w};
  Gradients d = differentiate(g, loss, wrt);
  for (ValueId i = 0; i < d.graph.size(); ++i)
    if (op_info(d.graph.node(i).op).op_class != OpClass::kLeaf && ref_kernel(d.graph, i) == nullptr)
      GTEST_SKIP() << "ref does not run " << d.graph.describe(i) << " yet";
  std::vector<Tensor> vals(d.graph.size());
  for (ValueId i = 0; i < d.graph.size(); ++i) {
    const Node& n = d.graph.node(i);
    if (n.op == OpKind::kParameter || n.op == OpKind::kConstant) {
      vals[i] = n.value;
      continue;
    }
    std::vector<Tensor> ins;
    for (ValueId in : n.inputs) ins.push_back(vals[in]);
    vals[i] = ref_evaluate(d.graph, i, ins);
  }
  std::vector<DTensor> want = DoubleEvaluator(d.graph, 1).run(c.feeds);
  for (ValueId gid : d.grads) {
    ASSERT_NE(gid, kNoValue);
    for (int64_t k = 0; k < want[gid].numel(); ++k)
      EXPECT_NEAR(vals[gid].get(k), want[gid].v[k], 1e-5) << d.graph.describe(gid) << " " << k;
  }
}

// The symbolic-batch training graph, specialized to N = 3 and compiled as a whole on ref:
// the gradients agree with the double interpreter on the unspecialized graph.
TEST(AutodiffOnRef, SpecializedMlpGradientsCompileAndRun) {
  GradChecker c(/*batch=*/3);
  ValueId x = c.input("x", {kDynamic, 4});
  ValueId labels = c.index_input("labels", {kDynamic}, {0, 2, 1});
  ValueId w1 = c.param("w1", {4, 5}, -1, 1);
  ValueId w2 = c.param("w2", {5, 3}, -1, 1);
  ValueId h = c.b.tanh(c.b.matmul(x, w1));
  ValueId loss = c.b.reduce_mean(c.b.cross_entropy(c.b.matmul(h, w2), labels), {});
  Graph g = c.b.finish();
  std::vector<ValueId> wrt = {w1, w2};
  Gradients d = differentiate(g, loss, wrt);
  for (ValueId gid : d.grads) d.graph.outputs().push_back(gid);
  Graph s = specialize(d.graph, 3);
  for (ValueId i = 0; i < s.size(); ++i)
    if (op_info(s.node(i).op).op_class != OpClass::kLeaf && ref_kernel(s, i) == nullptr)
      GTEST_SKIP() << "ref does not run " << s.describe(i) << " yet";
  std::vector<Tensor> feeds = {Tensor::from_vector(c.feeds[x].v, {3, 4}, kF32),
                               Tensor::from_vector(c.feeds[labels].v, {3}, kI64)};
  std::unique_ptr<Executable> exe = backend_registry().get("ref").compile(s, {});
  const std::vector<Tensor>& out = exe->run(feeds);
  std::vector<DTensor> want = DoubleEvaluator(d.graph, 3).run(c.feeds);
  ASSERT_EQ(out.size(), 2u);
  for (size_t k = 0; k < 2; ++k)
    for (int64_t i = 0; i < want[d.grads[k]].numel(); ++i)
      EXPECT_NEAR(out[k].get(i), want[d.grads[k]].v[i], 1e-5) << k << " " << i;
}

}  // namespace
}  // namespace tessera
