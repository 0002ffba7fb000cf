// GraphBuilder: node naming, leaves, shortcuts (no-op reshape/broadcast), sum_to_shape,
// updates, and the errors it raises.
#include "tessera/ir/builder.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "double_eval.h"
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Builder, NamesLeavesAndTypes) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 3});
  ValueId w = b.parameter("w", Tensor::zeros(kF16, {3, 2}), /*trainable=*/false);
  ValueId c = b.constant(Tensor::full(kI32, {2}, 7.0));
  ValueId s = b.scalar(2.5, kBF16);
  ValueId y = b.exp(x);
  ValueId z = b.emit(OpKind::kNeg, {x}, {}, "custom");
  const Graph& g = b.graph();
  EXPECT_EQ(g.node(x).op, OpKind::kInput);
  EXPECT_EQ(g.node(w).op, OpKind::kParameter);
  EXPECT_FALSE(g.node(w).trainable);
  EXPECT_EQ(b.type(w), (TensorType{kF16, {3, 2}}));
  EXPECT_EQ(g.node(c).name, "constant_2");
  EXPECT_EQ(g.node(c).value.get(1), 7.0);
  EXPECT_EQ(b.type(s), (TensorType{kBF16, {}}));
  EXPECT_EQ(g.node(s).value.get(0), 2.5);
  EXPECT_EQ(g.node(y).name, "exp_4");
  EXPECT_EQ(g.node(z).name, "custom");
  EXPECT_EQ(g.find("custom"), z);
  EXPECT_EQ(g.find("nope"), kNoValue);
  EXPECT_EQ(g.inputs(), (std::vector<ValueId>{x}));
  EXPECT_EQ(g.parameters(), (std::vector<ValueId>{w}));
  EXPECT_EQ(g.describe(z), "node 'custom' (neg)");
}

TEST(Builder, AttributesAreRecorded) {
  GraphBuilder b;
  ValueId a = b.input("a", kF32, {4, 3});
  ValueId m = b.matmul(a, a, true, false);
  ValueId r = b.reduce_max(a, {-1}, true);
  ValueId s = b.slice(a, {1, 0}, {3, 3});
  const Graph& g = b.graph();
  EXPECT_EQ(g.node(m).attrs.get_int("transpose_a"), 1);
  EXPECT_EQ(g.node(m).attrs.get_int("transpose_b"), 0);
  EXPECT_EQ(g.node(r).attrs.get_ints("axes"), (std::vector<int64_t>{-1}));
  EXPECT_EQ(g.node(r).attrs.get_int("keepdims"), 1);
  EXPECT_EQ(g.node(s).attrs.get_ints("steps"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(b.shape(m), (Shape{3, 3}));
}

TEST(Builder, NoOpReshapeAndBroadcastReturnTheInput) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 3});
  int before = b.graph().size();
  EXPECT_EQ(b.reshape(x, {kDynamic, 3}), x);
  EXPECT_EQ(b.broadcast(x, {kDynamic, 3}), x);
  EXPECT_EQ(b.sum_to_shape(x, {kDynamic, 3}), x);
  EXPECT_EQ(b.graph().size(), before);
}

TEST(Builder, SumToShapeUndoesBroadcasting) {
  GraphBuilder b;
  ValueId x =
      b.constant(Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3}));
  ValueId to_row = b.sum_to_shape(x, {3});
  ValueId to_col = b.sum_to_shape(x, {2, 1});
  ValueId to_mid = b.sum_to_shape(x, {2, 1, 3});
  ValueId to_scalar = b.sum_to_shape(x, {});
  Graph g = b.finish();
  g.validate();
  auto v = adtest::DoubleEvaluator(g, 1).run({});
  EXPECT_EQ(g.type(to_row).shape, (Shape{3}));
  EXPECT_EQ(v[to_row].v, (std::vector<double>{22, 26, 30}));
  EXPECT_EQ(v[to_col].v, (std::vector<double>{30, 48}));
  EXPECT_EQ(v[to_mid].v, (std::vector<double>{5, 7, 9, 17, 19, 21}));
  EXPECT_EQ(v[to_scalar].v, (std::vector<double>{78}));
}

TEST(Builder, SumToShapeWithSymbolicBatch) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4, 3});
  EXPECT_EQ(b.shape(b.sum_to_shape(x, {3})), (Shape{3}));
  EXPECT_EQ(b.shape(b.sum_to_shape(x, {1, 4, 1})), (Shape{1, 4, 1}));
  EXPECT_EQ(b.shape(b.sum_to_shape(x, {kDynamic, 1, 3})), (Shape{kDynamic, 1, 3}));
  b.graph().validate();
}

TEST(Builder, Updates) {
  GraphBuilder b;
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {2}));
  ValueId x = b.input("x", kF32, {2});
  ValueId nw = b.sub(w, x);
  b.update(w, nw);
  ASSERT_EQ(b.graph().updates().size(), 1u);
  EXPECT_EQ(b.graph().updates()[0].value, nw);
  std::string msg = error_of([&] { b.update(x, nw); });
  EXPECT_NE(msg.find("not a parameter"), std::string::npos) << msg;
  ValueId wrong = b.reduce_sum(nw, {});
  msg = error_of([&] { b.update(w, wrong); });
  EXPECT_NE(msg.find("types differ"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[2]"), std::string::npos) << msg;
}

TEST(Builder, Errors) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2});
  std::string msg = error_of([&] { b.compare(OpKind::kAdd, x, x); });
  EXPECT_NE(msg.find("add"), std::string::npos) << msg;
  msg = error_of([&] { b.parameter("ghost", Tensor()); });
  EXPECT_NE(msg.find("ghost"), std::string::npos) << msg;
  msg = error_of([&] { b.emit(OpKind::kExp, {-1}, {}, "neg_id"); });
  EXPECT_NE(msg.find("neg_id"), std::string::npos) << msg;
  // A failed emit leaves the graph untouched.
  int size = b.graph().size();
  error_of([&] { b.emit(OpKind::kMatMul, {x, x}); });
  EXPECT_EQ(b.graph().size(), size);
}

TEST(Builder, StrListsEveryNode) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 2});
  b.output(b.reduce_sum(x, {1}));
  std::string s = b.graph().str();
  EXPECT_NE(s.find("reduce_sum(%0)"), std::string::npos) << s;
  EXPECT_NE(s.find("f32[N]"), std::string::npos) << s;
  EXPECT_NE(s.find("output %1"), std::string::npos) << s;
}

}  // namespace
}  // namespace tessera
