#include <gtest/gtest.h>

#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

TEST(DeadCode, DropsUnusedNodesAndRenumbers) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4});
  ValueId unused_in = b.input("unused", kF32, {3});
  ValueId dead = b.exp(x);
  b.relu(dead);  // dead chain
  ValueId y = b.neg(x);
  ValueId z = b.add(y, x);
  b.output(z);
  Graph g = b.finish();
  Graph d = eliminate_dead_code(g);
  d.validate();
  ASSERT_EQ(d.size(), 4);
  EXPECT_EQ(d.inputs(), (std::vector<ValueId>{0, 1}));
  EXPECT_EQ(d.node(0).name, "x");
  EXPECT_EQ(d.node(1).name, "unused");  // inputs define the calling convention
  EXPECT_EQ(d.node(2).op, OpKind::kNeg);
  EXPECT_EQ(d.node(3).op, OpKind::kAdd);
  EXPECT_EQ(d.node(3).inputs, (std::vector<ValueId>{2, 0}));
  ASSERT_EQ(d.outputs().size(), 1u);
  EXPECT_EQ(d.outputs()[0], 3);
  (void)unused_in;
}

TEST(DeadCode, KeepsUpdatesAndTheirParameters) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2});
  ValueId unused_p = b.parameter("unused_p", Tensor::zeros(kF32, {2}));
  ValueId w = b.parameter("w", Tensor::full(kF32, {2}, 1.0));
  ValueId c = b.constant(Tensor::full(kF32, {2}, 0.5), "lr");
  ValueId loss = b.mul(x, w);
  ValueId new_w = b.sub(w, b.mul(c, x));
  b.output(loss);
  b.update(w, new_w);
  Graph d = eliminate_dead_code(b.finish());
  d.validate();
  EXPECT_EQ(d.find("unused_p"), kNoValue);
  ASSERT_EQ(d.updates().size(), 1u);
  EXPECT_EQ(d.node(d.updates()[0].parameter).name, "w");
  EXPECT_EQ(d.node(d.updates()[0].value).op, OpKind::kSub);
  EXPECT_EQ(d.node(d.outputs()[0]).op, OpKind::kMul);
  EXPECT_EQ(d.size(), 6);  // x, w, lr, loss, mul, sub; unused_p gone
  (void)unused_p;
}

TEST(DeadCode, KeepsDuplicatedOutputsAndIsIdempotent) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2});
  ValueId y = b.exp(x);
  b.sqrt(x);
  b.output(y);
  b.output(y);
  b.output(x);
  Graph d = eliminate_dead_code(b.finish());
  EXPECT_EQ(d.outputs(), (std::vector<ValueId>{1, 1, 0}));
  Graph d2 = eliminate_dead_code(d);
  EXPECT_EQ(d2.str(), d.str());
}

TEST(DeadCode, EmptyOutputsKeepOnlyInputs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2});
  b.exp(b.parameter("p", Tensor::zeros(kF32, {2})));
  b.neg(x);
  Graph d = eliminate_dead_code(b.finish());
  EXPECT_EQ(d.size(), 1);
  EXPECT_EQ(d.node(0).op, OpKind::kInput);
}

}  // namespace
}  // namespace tessera
