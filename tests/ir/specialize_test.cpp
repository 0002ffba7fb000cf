#include <gtest/gtest.h>

#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

TEST(Specialize, ReplacesTheBatchEverywhere) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 784});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {784, 10}));
  ValueId bias = b.parameter("b", Tensor::zeros(kF32, {10}));
  ValueId y = b.add(b.matmul(x, w), bias);
  ValueId r = b.reshape(y, {kDynamic, 2, 5});
  ValueId bc = b.broadcast(bias, {kDynamic, 10});
  ValueId s = b.slice(x, {0, 0}, {INT32_MAX, 4});
  ValueId m = b.reduce_mean(y, {0});
  b.output(r);
  b.output(bc);
  b.output(s);
  b.output(m);
  Graph g = b.finish();
  Graph sg = specialize(g, 32);
  sg.validate();
  EXPECT_EQ(sg.type(x).shape, Shape({32, 784}));
  EXPECT_EQ(sg.type(y).shape, Shape({32, 10}));
  EXPECT_EQ(sg.type(r).shape, Shape({32, 2, 5}));
  EXPECT_EQ(sg.node(r).attrs.get_ints("shape"), (std::vector<int64_t>{32, 2, 5}));
  EXPECT_EQ(sg.type(bc).shape, Shape({32, 10}));
  EXPECT_EQ(sg.type(s).shape, Shape({32, 4}));
  EXPECT_EQ(sg.type(m).shape, Shape({10}));
  EXPECT_EQ(sg.type(w).shape, Shape({784, 10}));
  EXPECT_EQ(sg.node(w).value.raw_data(), g.node(w).value.raw_data());  // the same variable
  EXPECT_EQ(sg.outputs(), g.outputs());
  for (const Node& n : sg.nodes()) EXPECT_TRUE(n.type.shape.is_static()) << n.name;
  // The original is untouched.
  EXPECT_EQ(g.type(y).shape, Shape({kDynamic, 10}));
}

TEST(Specialize, KeepsUpdatesAndStaticGraphs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3}));
  b.update(w, b.add(w, x));
  Graph g = b.finish();
  Graph sg = specialize(g, 7);
  ASSERT_EQ(sg.updates().size(), 1u);
  EXPECT_EQ(sg.updates()[0].parameter, g.updates()[0].parameter);
  EXPECT_EQ(sg.updates()[0].value, g.updates()[0].value);
  EXPECT_EQ(sg.str(), g.str());
}

TEST(Specialize, RejectsABadBatch) {
  GraphBuilder b;
  b.output(b.input("x", kF32, {kDynamic}));
  Graph g = b.finish();
  EXPECT_THROW(specialize(g, 0), Error);
  EXPECT_THROW(specialize(g, -3), Error);
}

TEST(Specialize, NamesTheNodeWhoseTypeNoLongerFits) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  Graph g = b.finish();
  // A node recorded with a type that its inputs do not give (as a broken importer might).
  Node n;
  n.op = OpKind::kRelu;
  n.inputs = {x};
  n.type = {kF32, Shape({kDynamic, 5})};
  n.name = "bad_relu";
  g.outputs().push_back(g.add_node(n));
  try {
    specialize(g, 8);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_relu"), std::string::npos) << e.what();
  }
}

TEST(Specialize, ReportsInferenceErrorsWithTheBatch) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  ValueId y = b.input("y", kF32, {kDynamic, 4});
  Graph g = b.finish();
  // Broadcasting N with N is fine symbolically; an unrelated static 3 is not.
  Node n;
  n.op = OpKind::kAdd;
  n.inputs = {x, y};
  n.type = {kF32, Shape({kDynamic, 4})};
  n.name = "sum";
  g.add_node(n);
  g.mutable_node(y).type.shape = Shape({3, 4});  // not the batch: must fail at N = 8
  try {
    specialize(g, 8);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("sum"), std::string::npos) << msg;
    EXPECT_NE(msg.find("batch=8"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace tessera
