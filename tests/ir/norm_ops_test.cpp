// layer_norm, rms_norm and their fused backward ops in the IR: type inference errors name
// the node and the input at fault; the gradient rules (fused dx, column sums for gamma and
// beta) and the second-order rule through the decomposition agree with finite differences
// of the double interpreter; the decompositions give the ops' values.
#include <gtest/gtest.h>

#include <random>

#include "double_eval.h"
#include "grad_check.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

int count_op(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

TEST(NormOps, InferErrorsNameTheNodeAndInput) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 6});
  ValueId g6 = b.input("g", kF32, {6});
  ValueId g5 = b.input("g5", kF32, {5});
  ValueId h6 = b.input("h", kF16, {6});
  EXPECT_EQ(b.type(b.layer_norm(x, g6, g6)), b.type(x));
  EXPECT_EQ(b.type(b.rms_norm(x, g6)), b.type(x));
  try {
    b.layer_norm(x, g6, g5);
    FAIL() << "beta of the wrong shape accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(layer_norm): beta is f32[5], expected f32[6]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(b.rms_norm(x, h6), Error);  // gamma's dtype differs from x's
  EXPECT_THROW(b.rms_norm(x, g6, -1.0), Error);
  ValueId dy = b.input("dy", kF32, {kDynamic, 5});
  EXPECT_THROW(b.layer_norm_grad_input(x, g6, dy, 1e-5), Error);
  ValueId i = b.input("i", kI32, {2, 6});
  EXPECT_THROW(b.rms_norm(i, g6), Error);
}

TEST(NormOps, LayerNormGradientMatchesFiniteDifferences) {
  adtest::GradChecker c;
  ValueId x = c.param("x", {3, 2, 5});
  ValueId gamma = c.param("gamma", {5});
  ValueId beta = c.param("beta", {5});
  Gradients d = c.check(c.b.layer_norm(x, gamma, beta, 1e-3), {x, gamma, beta});
  // dx is one fused op, not the decomposition's gradient.
  EXPECT_EQ(count_op(d.graph, OpKind::kLayerNormGradInput), 1);
  EXPECT_EQ(count_op(d.graph, OpKind::kRsqrt), 0);
}

TEST(NormOps, RmsNormGradientMatchesFiniteDifferences) {
  adtest::GradChecker c;
  ValueId x = c.param("x", {4, 7});
  ValueId gamma = c.param("gamma", {7});
  Gradients d = c.check(c.b.rms_norm(x, gamma, 1e-3), {x, gamma});
  EXPECT_EQ(count_op(d.graph, OpKind::kRmsNormGradInput), 1);
}

TEST(NormOps, RankOneAndSymbolicBatch) {
  adtest::GradChecker one;
  ValueId x = one.param("x", {6});
  ValueId gamma = one.param("gamma", {6});
  ValueId beta = one.param("beta", {6});
  one.check(one.b.layer_norm(x, gamma, beta), {x, gamma, beta});

  adtest::GradChecker batched(/*batch=*/3);
  ValueId xb = batched.input("x", {kDynamic, 5});
  ValueId gb = batched.param("gamma", {5});
  batched.check(batched.b.rms_norm(batched.b.mul(xb, xb), gb), {gb});
}

// The backward ops are differentiated through their decompositions (second order).
TEST(NormOps, GradInputOpsDifferentiate) {
  for (OpKind op : {OpKind::kLayerNormGradInput, OpKind::kRmsNormGradInput}) {
    SCOPED_TRACE(op_name(op));
    adtest::GradChecker c;
    ValueId x = c.param("x", {3, 6});
    ValueId gamma = c.param("gamma", {6});
    ValueId dy = c.param("dy", {3, 6});
    ValueId y = c.b.emit(op, {x, gamma, dy}, Attrs().set("epsilon", 1e-3));
    c.check(y, {x, gamma, dy}, 1e-5);
  }
}

TEST(NormOps, DecompositionsGiveTheOpsValues) {
  std::mt19937 rng(3);
  for (OpKind op : {OpKind::kLayerNorm, OpKind::kRmsNorm, OpKind::kLayerNormGradInput,
                    OpKind::kRmsNormGradInput}) {
    SCOPED_TRACE(op_name(op));
    GraphBuilder b;
    ValueId x = b.input("x", kF32, {kDynamic, 9});
    ValueId gamma = b.input("gamma", kF32, {9});
    std::vector<ValueId> ins = {x, gamma};
    if (op == OpKind::kLayerNorm) ins.push_back(b.input("beta", kF32, {9}));
    if (op_info(op).max_inputs == 3 && op != OpKind::kLayerNorm)
      ins.push_back(b.input("dy", kF32, {kDynamic, 9}));
    ValueId y = b.emit(op, ins, Attrs().set("epsilon", 1e-4));
    b.output(y);
    Graph g = b.finish();
    Graph expanded = decompose(g, [op](const Node& n) { return n.op == op; });
    EXPECT_EQ(count_op(expanded, op), 0);
    std::map<ValueId, adtest::DTensor> feeds;
    for (ValueId in : g.inputs())
      feeds[in] = adtest::random_dtensor(g.type(in).shape.with_batch(4), rng, -3, 3);
    auto want = adtest::DoubleEvaluator(g, 4).run(feeds)[g.outputs()[0]];
    auto got = adtest::DoubleEvaluator(expanded, 4).run(feeds)[expanded.outputs()[0]];
    ASSERT_EQ(want.numel(), got.numel());
    // The decomposition holds epsilon as an f32 constant (1e-4 rounded), hence not 1e-15.
    for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(want.v[i], got.v[i], 1e-9) << i;
  }
}

}  // namespace
}  // namespace tessera
