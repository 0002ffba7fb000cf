// Common-subexpression elimination: what merges, what must not, and that values are kept.
#include <gtest/gtest.h>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/autodiff.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

int count(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

TEST(CommonSubexpressions, MergesRepeatedComputationsAndRemapsOutputs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  ValueId a = b.softmax(x, -1), c = b.softmax(x, -1);
  ValueId s1 = b.scalar(2.0), s2 = b.scalar(2.0);
  b.output(b.add(b.mul(a, s1), b.mul(c, s2)));
  b.output(c);
  Graph g = eliminate_common_subexpressions(b.finish());
  g.validate();
  EXPECT_EQ(count(g, OpKind::kSoftmax), 1);
  EXPECT_EQ(count(g, OpKind::kConstant), 1);
  EXPECT_EQ(count(g, OpKind::kMul), 1);  // mul(a, s1) and mul(c, s2) become one
  EXPECT_EQ(g.node(g.outputs()[1]).op, OpKind::kSoftmax);
}

TEST(CommonSubexpressions, KeepsWhatDiffers) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3, 4});
  ValueId y = b.input("y", kF32, {3, 4});  // a second input is its own value
  ValueId p = b.parameter("p", Tensor::zeros(kF32, {3, 4}));
  ValueId q = b.parameter("q", Tensor::zeros(kF32, {3, 4}));  // equal bytes, other variable
  b.output(b.softmax(x, 0));
  b.output(b.softmax(x, 1));       // other attribute
  b.output(b.add(x, p));
  b.output(b.add(x, q));           // other parameter
  b.output(b.add(y, p));
  b.output(b.sub(x, p));           // other op
  b.output(b.add(b.scalar(1.0), x));
  b.output(b.add(b.scalar(1.5), x));  // other constant
  b.update(p, b.add(p, b.scalar(1.0)));
  b.update(q, b.add(q, b.scalar(1.0)));
  Graph before = b.finish();
  Graph g = eliminate_common_subexpressions(before);
  g.validate();
  EXPECT_EQ(count(g, OpKind::kInput), 2);
  EXPECT_EQ(count(g, OpKind::kParameter), 2);
  EXPECT_EQ(count(g, OpKind::kSoftmax), 2);
  EXPECT_EQ(count(g, OpKind::kAdd), count(before, OpKind::kAdd));
  EXPECT_EQ(count(g, OpKind::kConstant), 2);  // the two 1.0 scalars merge, 1.5 stays
  ASSERT_EQ(g.updates().size(), 2u);
  EXPECT_NE(g.updates()[0].parameter, g.updates()[1].parameter);
}

TEST(CommonSubexpressions, TrainingStepComputesSoftmaxOnceAndGivesTheSameValues) {
  // softmax output + cross-entropy loss: the gradient recomputes softmax(logits).
  auto build = [] {
    GraphBuilder b;
    ValueId x = b.input("x", kF32, {kDynamic, 5});
    ValueId y = b.input("y", kI32, {kDynamic});
    Tensor w0 = Tensor::zeros(kF32, {5, 3});
    for (int64_t i = 0; i < w0.numel(); ++i) w0.set(i, 0.1 * static_cast<double>(i % 7) - 0.3);
    ValueId w = b.parameter("w", w0);
    ValueId logits = b.matmul(x, w);
    b.output(b.softmax(logits, -1));
    ValueId loss = b.reduce_mean(b.cross_entropy(logits, y), {});
    b.output(loss);
    Gradients d = differentiate(b.finish(), loss, std::vector<ValueId>{w});
    d.graph.outputs().push_back(d.grads[0]);
    return d.graph;
  };
  Graph g = build();
  Graph merged = eliminate_common_subexpressions(decompose(g, [](const Node&) { return false; }));
  EXPECT_EQ(count(g, OpKind::kSoftmax), 2);
  EXPECT_EQ(count(merged, OpKind::kSoftmax), 1);

  Tensor x = Tensor::zeros(kF32, {4, 5}), y = Tensor::zeros(kI32, {4});
  for (int64_t i = 0; i < x.numel(); ++i) x.set(i, 0.05 * static_cast<double>(i) - 0.4);
  for (int64_t i = 0; i < 4; ++i) y.set(i, static_cast<double>(i % 3));
  Tensor in[] = {x, y};
  // The cpu backend runs every pass; the reference is ref without any.
  CompileOptions no_passes{.fuse_elementwise = false,
                           .fold_constants = false,
                           .eliminate_common_subexpressions = false};
  Program with = compile_program(g, {.batch = 4, .backends = {"cpu"}});
  Program ref = compile_program(g, {.batch = 4, .backends = {"ref"}, .compile = no_passes});
  const std::vector<Tensor>& a = with.run(in);
  std::vector<std::vector<float>> got;
  for (const Tensor& t : a) got.push_back(t.to_f32_vector());
  const std::vector<Tensor>& b = ref.run(in);
  ASSERT_EQ(got.size(), b.size());
  for (size_t k = 0; k < got.size(); ++k) {
    std::vector<float> want = b[k].to_f32_vector();
    ASSERT_EQ(got[k].size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[k][i], want[i], 1e-5) << k << "/" << i;
  }
}

}  // namespace
}  // namespace tessera
