// Decompositions of the composite ops: only primitives come out, the values match the
// composite's semantics (docs/ops.md), they stay finite on large logits (the max is
// subtracted), symbolic batch shapes survive, and the decomposed graphs differentiate to the
// same gradients as the composites' own rules.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "double_eval.h"
#include "grad_check.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

using adtest::DoubleEvaluator;
using adtest::DTensor;

struct Decomposed {
  Graph graph;
  ValueId composite;  // the composite node
  ValueId expanded;   // its decomposition's result
};

// Builds `op` over fresh inputs, then decomposes that node in place (appending primitives).
Decomposed build(OpKind op, const Shape& x_shape, Attrs attrs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, x_shape);
  std::vector<ValueId> ins = {x};
  if (op == OpKind::kCrossEntropy) {
    Shape ls(std::span<const int64_t>(x_shape.begin(), x_shape.rank() - 1));
    ins.push_back(b.input("labels", kI64, ls));
  }
  ValueId y = b.emit(op, ins, std::move(attrs), "composite");
  Node node = b.graph().node(y);
  const OpInfo& info = op_info(op);
  EXPECT_NE(info.decompose, nullptr);
  ValueId z = info.decompose(b, node, ins);
  return {b.finish(), y, z};
}

std::map<ValueId, DTensor> feeds(const Graph& g, int64_t batch, double scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::map<ValueId, DTensor> f;
  for (ValueId in : g.inputs()) {
    Shape s = g.type(in).shape.with_batch(batch);
    if (g.type(in).dtype.is_float()) {
      f[in] = adtest::random_dtensor(s, rng, -scale, scale);
    } else {
      const Shape& xs = g.type(g.inputs()[0]).shape;
      int64_t classes = xs[xs.rank() - 1];
      f[in] = adtest::dtensor(s);
      for (double& v : f[in].v) v = static_cast<double>(rng() % classes);
    }
  }
  return f;
}

void expect_matches(OpKind op, const Shape& shape, Attrs attrs, double scale) {
  SCOPED_TRACE(fmt::format("{} {} scale {}", op_name(op), shape.str(), scale));
  Decomposed d = build(op, shape, std::move(attrs));
  EXPECT_NO_THROW(d.graph.validate());
  EXPECT_EQ(d.graph.type(d.expanded), d.graph.type(d.composite));
  for (ValueId i = d.composite + 1; i < d.graph.size(); ++i)
    EXPECT_EQ(op_info(d.graph.node(i).op).decompose, nullptr)
        << d.graph.describe(i) << " is not a primitive";
  const int64_t batch = 3;
  std::vector<DTensor> v = DoubleEvaluator(d.graph, batch).run(feeds(d.graph, batch, scale, 11));
  const DTensor& want = v[d.composite];
  const DTensor& got = v[d.expanded];
  ASSERT_EQ(want.numel(), got.numel());
  for (int64_t i = 0; i < want.numel(); ++i) {
    EXPECT_TRUE(std::isfinite(got.v[i])) << i;
    EXPECT_NEAR(got.v[i], want.v[i], 1e-9 * std::max(1.0, std::fabs(want.v[i]))) << i;
  }
}

TEST(Decompositions, SoftmaxEveryAxis) {
  for (int64_t axis : {0, 1, -1})
    expect_matches(OpKind::kSoftmax, {2, 3, 4}, Attrs().set("axis", axis), 3);
}

TEST(Decompositions, LogSoftmaxEveryAxis) {
  for (int64_t axis : {0, -2, 2})
    expect_matches(OpKind::kLogSoftmax, {2, 3, 4}, Attrs().set("axis", axis), 3);
}

TEST(Decompositions, CrossEntropy) {
  expect_matches(OpKind::kCrossEntropy, {4, 5}, {}, 3);
  expect_matches(OpKind::kCrossEntropy, {2, 3, 6}, {}, 3);
}

// exp(1000) overflows in any precision: the decomposition must subtract the maximum.
TEST(Decompositions, StableOnLargeLogits) {
  expect_matches(OpKind::kSoftmax, {4, 5}, Attrs().set("axis", int64_t{-1}), 1000);
  expect_matches(OpKind::kLogSoftmax, {4, 5}, Attrs().set("axis", int64_t{-1}), 1000);
  expect_matches(OpKind::kCrossEntropy, {4, 5}, {}, 1000);
}

TEST(Decompositions, SymbolicBatch) {
  expect_matches(OpKind::kSoftmax, {kDynamic, 5}, Attrs().set("axis", int64_t{-1}), 3);
  expect_matches(OpKind::kLogSoftmax, {kDynamic, 5}, Attrs().set("axis", int64_t{0}), 3);
  expect_matches(OpKind::kCrossEntropy, {kDynamic, 5}, {}, 3);
}

TEST(Decompositions, PrimitivesHaveNoneCompositesHaveOne) {
  for (int i = 0; i < kOpKindCount; ++i) {
    OpKind k = static_cast<OpKind>(i);
    bool composite = k == OpKind::kSoftmax || k == OpKind::kLogSoftmax ||
                     k == OpKind::kCrossEntropy || k == OpKind::kFusedElementwise;
    // Convolution and pooling (NHWC)
    composite = composite || k == OpKind::kConv2D || k == OpKind::kConv2DBackpropInput ||
                k == OpKind::kConv2DBackpropFilter || k == OpKind::kMaxPool2D ||
                k == OpKind::kMaxPool2DGrad || k == OpKind::kAvgPool2D ||
                k == OpKind::kAvgPool2DGrad;
    EXPECT_EQ(op_info(k).decompose != nullptr, composite) << op_name(k);
  }
}

// The decomposed form is made of primitives with their own gradient rules; its gradient
// must agree with finite differences and with the composite's rule.
TEST(Decompositions, DecomposedGraphsDifferentiateLikeTheComposite) {
  for (OpKind op : {OpKind::kSoftmax, OpKind::kLogSoftmax, OpKind::kCrossEntropy}) {
    SCOPED_TRACE(op_name(op));
    adtest::GradChecker c;
    ValueId x = c.param("x", {3, 4});
    std::vector<ValueId> ins = {x};
    Attrs attrs;
    if (op == OpKind::kCrossEntropy)
      ins.push_back(c.indices({1, 3, 0}, {3}));
    else
      attrs.set("axis", int64_t{-1});
    ValueId y = c.b.emit(op, ins, attrs);
    Node node = c.b.graph().node(y);
    ValueId z = op_info(op).decompose(c.b, node, ins);
    // Loss through both forms: gradients add, so check each separately.
    GraphBuilder base = c.b;
    c.check(z, {x});
    adtest::GradChecker c2;
    c2.b = base;
    c2.feeds = c.feeds;
    c2.check(y, {x});
  }
}

}  // namespace
}  // namespace tessera
