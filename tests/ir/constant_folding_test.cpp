#include <gtest/gtest.h>

#include "passes_test_util.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

using testing::eval_node;
using testing::eval_outputs;

int count_op(const Graph& g, OpKind op) {
  int c = 0;
  for (const Node& n : g.nodes()) c += n.op == op;
  return c;
}

TEST(ConstantFolding, FoldsConstantChainsAndDropsTheRest) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId c1 = b.constant(Tensor::from_vector<float>({1, 2, 3}, {3}), "c1");
  ValueId c2 = b.scalar(2.0);
  ValueId folded = b.exp(b.mul(c1, c2));  // all-constant: folds
  ValueId y = b.add(x, folded);
  b.output(y);
  Graph g = b.finish();
  int evaluations = 0;
  Graph f = fold_constants(g, [&](const Graph& gg, ValueId id, std::span<const Tensor> in) {
    ++evaluations;
    return eval_node(gg, id, in);
  });
  f.validate();
  EXPECT_EQ(evaluations, 2);
  EXPECT_EQ(count_op(f, OpKind::kMul), 0);
  EXPECT_EQ(count_op(f, OpKind::kExp), 0);
  EXPECT_EQ(f.size(), 3);  // x, the folded constant, add
  const Node& add = f.node(f.outputs()[0]);
  ASSERT_EQ(add.op, OpKind::kAdd);
  const Node& k = f.node(add.inputs[1]);
  ASSERT_EQ(k.op, OpKind::kConstant);
  EXPECT_EQ(k.name, g.node(folded).name);
  EXPECT_NEAR(k.value.get(2), std::exp(6.0), 1e-3);
  Tensor xv = Tensor::from_vector<float>({0.5f, -1.f, 2.f}, {3});
  testing::expect_close(eval_outputs(f, {xv})[0], eval_outputs(g, {xv})[0]);
}

TEST(ConstantFolding, NeverFoldsParametersOrInputs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2});
  ValueId p = b.parameter("p", Tensor::full(kF32, {2}, 3.0));
  ValueId c = b.constant(Tensor::full(kF32, {2}, 1.0));
  b.output(b.add(p, c));
  b.output(b.neg(x));
  b.output(c);
  Graph g = b.finish();
  Graph f = fold_constants(g, [](const Graph& gg, ValueId id, std::span<const Tensor> in) {
    return eval_node(gg, id, in);
  });
  EXPECT_EQ(f.str(), g.str());
}

TEST(ConstantFolding, RespectsMaxElements) {
  GraphBuilder b;
  ValueId small = b.constant(Tensor::full(kF32, {4}, 1.0));
  ValueId big = b.constant(Tensor::full(kF32, {100}, 1.0));
  b.output(b.exp(small));
  b.output(b.exp(big));
  Graph g = b.finish();
  auto eval = [](const Graph& gg, ValueId id, std::span<const Tensor> in) {
    return eval_node(gg, id, in);
  };
  Graph f = fold_constants(g, eval, /*max_elements=*/10);
  EXPECT_EQ(f.node(f.outputs()[0]).op, OpKind::kConstant);
  EXPECT_EQ(f.node(f.outputs()[1]).op, OpKind::kExp);
  Graph all = fold_constants(g, eval, /*max_elements=*/100);
  EXPECT_EQ(count_op(all, OpKind::kExp), 0);
  EXPECT_EQ(all.size(), 2);  // the source constants are dead once both are folded
}

TEST(ConstantFolding, LeavesUnsupportedNodesAndRethrowsRealErrors) {
  GraphBuilder b;
  ValueId c = b.constant(Tensor::full(kF32, {2}, 4.0));
  b.output(b.sqrt(c));
  Graph g = b.finish();
  Graph f = fold_constants(g, [](const Graph&, ValueId, std::span<const Tensor>) -> Tensor {
    throw_error(ErrorKind::kUnsupported, "no kernel");
  });
  EXPECT_EQ(f.node(f.outputs()[0]).op, OpKind::kSqrt);
  EXPECT_THROW(fold_constants(g,
                              [](const Graph&, ValueId, std::span<const Tensor>) -> Tensor {
                                throw_error(ErrorKind::kInvalidArgument, "broken");
                              }),
               Error);
  // An evaluator that returns the wrong type is a bug, caught naming the node.
  EXPECT_THROW(fold_constants(g, [](const Graph&, ValueId,
                                    std::span<const Tensor>) { return Tensor::zeros(kF32, {3}); }),
               Error);
}

TEST(ConstantFolding, KeepsUpdatesPointingAtTheirValues) {
  GraphBuilder b;
  ValueId w = b.parameter("w", Tensor::full(kF32, {2}, 1.0));
  ValueId lr = b.scalar(0.1);
  ValueId two = b.scalar(2.0);
  ValueId step = b.mul(lr, two);  // folds to a rank-0 constant
  b.update(w, b.sub(w, step));
  Graph g = b.finish();
  Graph f = fold_constants(g, [](const Graph& gg, ValueId id, std::span<const Tensor> in) {
    return eval_node(gg, id, in);
  });
  f.validate();
  ASSERT_EQ(f.updates().size(), 1u);
  const Node& sub = f.node(f.updates()[0].value);
  ASSERT_EQ(sub.op, OpKind::kSub);
  EXPECT_EQ(f.node(sub.inputs[1]).op, OpKind::kConstant);
  EXPECT_NEAR(f.node(sub.inputs[1]).value.get(0), 0.2, 1e-6);
  EXPECT_EQ(f.node(f.updates()[0].parameter).name, "w");
}

TEST(ConstantFolding, WithTheRefBackendsKernels) {
  GraphBuilder b;
  ValueId c = b.constant(Tensor::from_vector<float>({1, 4, 9}, {3}));
  ValueId y = b.add(b.sqrt(c), b.scalar(1.0));
  b.output(y);
  Graph g = b.finish();
  if (!testing::ref_supports(g)) GTEST_SKIP() << "the ref backend lacks a kernel here (yet)";
  Graph f = fold_constants(g, [](const Graph& gg, ValueId id, std::span<const Tensor> in) {
    return ref_evaluate(gg, id, in);
  });
  const Node& out = f.node(f.outputs()[0]);
  ASSERT_EQ(out.op, OpKind::kConstant);
  EXPECT_EQ(out.value.to_f32_vector(), (std::vector<float>{2, 3, 4}));
}

}  // namespace
}  // namespace tessera
