// The op table: one row per op with a unique name, and type inference for every op —
// broadcasting, batched matmul, reductions, slicing, symbolic batch dims — plus the errors a
// malformed graph gives (naming the node, the op and the shapes) and Graph::validate.
#include "tessera/ir/op_table.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "tessera/core/error.h"
#include "tessera/ir/builder.h"

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

void expect_mentions(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
}

TEST(OpTable, EveryKindHasAUniqueRowThatRoundTrips) {
  std::set<std::string> names;
  for (int i = 0; i < kOpKindCount; ++i) {
    OpKind k = static_cast<OpKind>(i);
    const OpInfo& info = op_info(k);
    EXPECT_EQ(info.kind, k) << i;
    ASSERT_NE(info.name, nullptr) << i;
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name " << info.name;
    EXPECT_EQ(op_kind_from_name(info.name), k) << info.name;
    EXPECT_NE(info.infer, nullptr) << info.name;
    EXPECT_NE(info.cost, nullptr) << info.name;
    EXPECT_FALSE(op_dtypes(k).empty()) << info.name;
  }
  EXPECT_EQ(op_kind_from_name("no_such_op"), std::nullopt);
  EXPECT_EQ(op_kind_from_name(""), std::nullopt);
}

TEST(OpTable, GradientAndDecompositionCoverage) {
  for (int i = 0; i < kOpKindCount; ++i) {
    OpKind k = static_cast<OpKind>(i);
    const OpInfo& info = op_info(k);
    bool no_grad = info.op_class == OpClass::kLeaf || info.op_class == OpClass::kCompare ||
                   k == OpKind::kOneHot || k == OpKind::kRandomUniform ||
                   k == OpKind::kFusedElementwise;
    EXPECT_EQ(info.grad == nullptr, no_grad) << info.name;
    bool composite = info.op_class == OpClass::kComposite || info.op_class == OpClass::kFused;
    EXPECT_EQ(info.decompose != nullptr, composite) << info.name;
  }
}

class InferTest : public ::testing::Test {
 protected:
  TensorType t(ValueId v) { return b.type(v); }
  GraphBuilder b;
};

TEST_F(InferTest, ElementwiseBroadcastingAndDtypes) {
  ValueId a = b.input("a", kF32, {kDynamic, 1, 3});
  ValueId c = b.input("c", kF32, {4, 1});
  ValueId i = b.input("i", kI32, {3});
  EXPECT_EQ(t(b.add(a, c)), (TensorType{kF32, {kDynamic, 4, 3}}));
  EXPECT_EQ(t(b.tanh(a)), t(a));
  EXPECT_EQ(t(b.neg(i)), (TensorType{kI32, {3}}));
  EXPECT_EQ(t(b.relu(i)), (TensorType{kI32, {3}}));
  EXPECT_EQ(t(b.compare(OpKind::kLess, a, c)), (TensorType{kBool, {kDynamic, 4, 3}}));
  ValueId cond = b.compare(OpKind::kEqual, i, i);
  EXPECT_EQ(t(b.where(cond, a, c)), (TensorType{kF32, {kDynamic, 4, 3}}));
  EXPECT_EQ(t(b.cast(a, kF16)), (TensorType{kF16, {kDynamic, 1, 3}}));
  EXPECT_EQ(t(b.pow(a, b.scalar(2.0))), t(a));
  for (OpKind op : {OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kMaximum, OpKind::kMinimum})
    EXPECT_EQ(t(b.emit(op, {i, i})), (TensorType{kI32, {3}})) << op_name(op);
  for (OpKind op : {OpKind::kExp, OpKind::kLog, OpKind::kSqrt, OpKind::kRsqrt, OpKind::kSigmoid,
                    OpKind::kGelu, OpKind::kErf, OpKind::kAbs})
    EXPECT_EQ(t(b.emit(op, {c})), t(c)) << op_name(op);
}

TEST_F(InferTest, MatMulTransposesAndBatches) {
  ValueId a = b.input("a", kF32, {2, 3, 4});
  ValueId w = b.input("w", kF32, {4, 5});
  ValueId wt = b.input("wt", kF32, {5, 4});
  ValueId at = b.input("at", kF32, {7, 1, 4, 3});
  EXPECT_EQ(t(b.matmul(a, w)).shape, (Shape{2, 3, 5}));
  EXPECT_EQ(t(b.matmul(a, wt, false, true)).shape, (Shape{2, 3, 5}));
  EXPECT_EQ(t(b.matmul(at, w, true, false)).shape, (Shape{7, 1, 3, 5}));
  EXPECT_EQ(t(b.matmul(at, a, true, true)).shape, (Shape{7, 2, 3, 3}));
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  ValueId dy = b.input("dy", kF32, {kDynamic, 5});
  EXPECT_EQ(t(b.matmul(x, w)).shape, (Shape{kDynamic, 5}));
  // Contracting over the batch (weight gradients): K is symbolic on both sides.
  EXPECT_EQ(t(b.matmul(x, dy, true, false)).shape, (Shape{4, 5}));
}

TEST_F(InferTest, ReductionsWithKeepdimsAndNegativeAxes) {
  ValueId x = b.input("x", kF32, {kDynamic, 3, 4});
  EXPECT_EQ(t(b.reduce_sum(x, {-1})).shape, (Shape{kDynamic, 3}));
  EXPECT_EQ(t(b.reduce_sum(x, {0, -1}, true)).shape, (Shape{1, 3, 1}));
  EXPECT_EQ(t(b.reduce_mean(x, {})).shape, Shape{});
  EXPECT_EQ(t(b.reduce_max(x, {}, true)).shape, (Shape{1, 1, 1}));
  EXPECT_EQ(t(b.reduce_max(x, {1})).shape, (Shape{kDynamic, 4}));
}

TEST_F(InferTest, DataMovement) {
  ValueId x = b.input("x", kF32, {kDynamic, 2, 6});
  EXPECT_EQ(t(b.reshape(x, {kDynamic, 12})).shape, (Shape{kDynamic, 12}));
  EXPECT_EQ(t(b.permute(x, {2, 0, 1})).shape, (Shape{6, kDynamic, 2}));
  EXPECT_EQ(t(b.permute(x, {-1, 0, 1})).shape, (Shape{6, kDynamic, 2}));
  ValueId v = b.input("v", kF32, {6});
  EXPECT_EQ(t(b.broadcast(v, {kDynamic, 2, 6})).shape, (Shape{kDynamic, 2, 6}));
  // Python slicing: negative starts wrap, ends clamp, steps round up.
  ValueId s = b.input("s", kF32, {5, 7});
  EXPECT_EQ(t(b.slice(s, {-2, 0}, {100, 7}, {1, 3})).shape, (Shape{2, 3}));
  EXPECT_EQ(t(b.slice(s, {-100, 5}, {2, 3})).shape, (Shape{2, 0}));
  EXPECT_EQ(t(b.slice(x, {0, 1, 1}, {INT64_MAX, 2, -1}, {1, 1, 2})).shape, (Shape{kDynamic, 1, 2}));
  std::vector<ValueId> parts = {x, x, b.input("y", kF32, {kDynamic, 2, 1})};
  EXPECT_EQ(t(b.concat(parts, -1)).shape, (Shape{kDynamic, 2, 13}));
  EXPECT_EQ(t(b.pad(x, {0, 1, 2}, {0, 0, 3})).shape, (Shape{kDynamic, 3, 11}));
}

TEST_F(InferTest, IndexingAndComposites) {
  ValueId data = b.input("data", kF32, {10, 4});
  ValueId idx = b.input("idx", kI64, {kDynamic, 3});
  EXPECT_EQ(t(b.gather(data, idx, 0)).shape, (Shape{kDynamic, 3, 4}));
  EXPECT_EQ(t(b.gather(data, idx, -1)).shape, (Shape{10, kDynamic, 3}));
  ValueId upd = b.input("upd", kF32, {kDynamic, 3, 4});
  EXPECT_EQ(t(b.scatter_add(upd, idx, 0, 10)).shape, (Shape{10, 4}));
  ValueId lab = b.input("lab", kI32, {kDynamic});
  EXPECT_EQ(t(b.one_hot(lab, 5, kF16)), (TensorType{kF16, {kDynamic, 5}}));
  ValueId logits = b.input("logits", kBF16, {kDynamic, 5});
  EXPECT_EQ(t(b.softmax(logits, 0)), t(logits));
  EXPECT_EQ(t(b.log_softmax(logits)), t(logits));
  EXPECT_EQ(t(b.cross_entropy(logits, lab)), (TensorType{kBF16, {kDynamic}}));
}

TEST(OpTableCost, MatMulAndElementwise) {
  GraphBuilder b;
  ValueId a = b.input("a", kF32, {3, 4});
  ValueId w = b.input("w", kF32, {4, 5});
  ValueId y = b.matmul(a, w);
  const Graph& g = b.graph();
  OpCost c = op_info(OpKind::kMatMul).cost(g, g.node(y));
  EXPECT_EQ(c.flops, 2.0 * 3 * 4 * 5);
  EXPECT_EQ(c.bytes_read, 4.0 * (12 + 20));
  EXPECT_EQ(c.bytes_written, 4.0 * 15);
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  ValueId dy = b.input("dy", kF32, {kDynamic, 5});
  ValueId dw = b.matmul(x, dy, true, false);
  EXPECT_GE(op_info(OpKind::kMatMul).cost(b.graph(), b.graph().node(dw)).flops, 0);
}

// ---- bad input ---------------------------------------------------------------------

TEST(OpTableErrors, ShapeMismatchNamesNodeOpAndShapes) {
  GraphBuilder b;
  ValueId a = b.input("a", kF32, {2, 3});
  ValueId c = b.input("c", kF32, {4});
  expect_mentions(error_of([&] {
                    b.emit(OpKind::kAdd, {a, c}, {}, "bad_add");
                  }),
                  {"bad_add", "add", "f32[2, 3]", "f32[4]", "broadcast"});
  ValueId w = b.input("w", kF32, {4, 5});
  expect_mentions(error_of([&] {
                    b.emit(OpKind::kMatMul, {a, w}, {}, "bad_mm");
                  }),
                  {"bad_mm", "matmul", "f32[2, 3]", "f32[4, 5]", "inner"});
  expect_mentions(error_of([&] { b.reshape(a, {4, 2}); }), {"reshape", "[2, 3]", "[4, 2]"});
  expect_mentions(error_of([&] { b.broadcast(c, {4, 3}); }), {"broadcast", "[4]", "[4, 3]"});
  expect_mentions(error_of([&] { b.reduce_sum(a, {2}); }), {"reduce_sum", "axis 2", "rank 2"});
  expect_mentions(error_of([&] { b.reduce_sum(a, {1, -1}); }), {"repeated"});
  expect_mentions(error_of([&] { b.permute(a, {0}); }), {"permute", "perm"});
  expect_mentions(error_of([&] { b.permute(a, {0, 0}); }), {"permute", "repeated"});
  expect_mentions(error_of([&] { b.slice(a, {0}, {1}); }), {"slice", "[2, 3]"});
  expect_mentions(error_of([&] { b.slice(a, {0, 0}, {1, 1}, {1, 0}); }), {"slice", "step"});
  std::vector<ValueId> parts = {a, w};
  expect_mentions(error_of([&] { b.concat(parts, 0); }), {"concat", "f32[2, 3]", "f32[4, 5]"});
  expect_mentions(error_of([&] { b.pad(a, {0, -1}, {0, 0}); }), {"pad", ">= 0"});
}

TEST(OpTableErrors, DtypeMismatchNamesNodeOpAndTypes) {
  GraphBuilder b;
  ValueId f = b.input("f", kF32, {3});
  ValueId h = b.input("h", kF16, {3});
  ValueId i = b.input("i", kI32, {3});
  expect_mentions(error_of([&] {
                    b.emit(OpKind::kMul, {f, h}, {}, "mixed");
                  }),
                  {"mixed", "mul", "f32[3]", "f16[3]", "same dtype"});
  expect_mentions(error_of([&] { b.emit(OpKind::kExp, {i}, {}, "int_exp"); }),
                  {"int_exp", "exp", "i32", "float"});
  expect_mentions(error_of([&] {
                    b.emit(OpKind::kWhere, {f, f, f}, {}, "w");
                  }),
                  {"'w'", "where", "bool"});
  expect_mentions(error_of([&] { b.gather(f, f, 0); }), {"gather", "f32", "indices"});
  expect_mentions(error_of([&] { b.one_hot(f, 3); }), {"one_hot", "f32"});
  expect_mentions(error_of([&] { b.reduce_mean(i, {}); }), {"reduce_mean", "i32"});
  ValueId logits = b.input("logits", kF32, {2, 5});
  ValueId lab = b.input("lab", kI64, {3});
  expect_mentions(error_of([&] { b.cross_entropy(logits, lab); }),
                  {"cross_entropy", "[3]", "[2, 5]"});
  expect_mentions(error_of([&] { b.cross_entropy(logits, logits); }), {"cross_entropy", "labels"});
}

TEST(OpTableErrors, SymbolicBatchRules) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  expect_mentions(error_of([&] { b.slice(x, {1, 0}, {INT64_MAX, 4}); }), {"slice", "batch"});
  expect_mentions(error_of([&] { b.pad(x, {1, 0}, {0, 0}); }), {"pad", "batch"});
  std::vector<ValueId> parts = {x, x};
  expect_mentions(error_of([&] { b.concat(parts, 0); }), {"concat", "batch"});
  expect_mentions(error_of([&] { b.reshape(x, {4, 4}); }), {"reshape", "[N, 4]"});
}

TEST(OpTableErrors, ArityAndMissingInputs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  expect_mentions(error_of([&] { b.emit(OpKind::kAdd, {x}, {}, "lonely"); }),
                  {"lonely", "add", "1 inputs"});
  expect_mentions(error_of([&] { b.emit(OpKind::kNeg, {x + 5}, {}, "dangling"); }),
                  {"dangling", "neg", "input id 5"});
}

// ---- Graph::validate ---------------------------------------------------------------

TEST(GraphValidate, DetectsCycleAndForwardReference) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId a = b.exp(x);
  ValueId c = b.emit(OpKind::kTanh, {a}, {}, "later");
  b.output(c);
  Graph g = b.finish();
  g.validate();
  Graph cyc = g;
  cyc.mutable_node(a).inputs = {c};  // exp now reads tanh, which reads exp: a cycle
  expect_mentions(error_of([&] { cyc.validate(); }), {"exp", "later", "cycle"});
  Graph self_loop = g;
  self_loop.mutable_node(a).inputs = {a};
  expect_mentions(error_of([&] { self_loop.validate(); }), {"exp", "cycle"});
}

TEST(GraphValidate, DetectsTypeDriftAndBadReferences) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId y = b.emit(OpKind::kExp, {x}, {}, "drift");
  Graph g = b.finish();
  Graph drift = g;
  drift.mutable_node(y).type = {kF32, {4}};
  expect_mentions(error_of([&] { drift.validate(); }), {"drift", "f32[4]", "f32[3]"});
  Graph bad_out = g;
  bad_out.outputs().push_back(42);
  expect_mentions(error_of([&] { bad_out.validate(); }), {"output", "42"});
  Graph bad_update = g;
  bad_update.updates().push_back({y, x});
  expect_mentions(error_of([&] { bad_update.validate(); }), {"drift", "not a parameter"});
  Graph arity = g;
  arity.mutable_node(y).inputs = {x, x};
  expect_mentions(error_of([&] { arity.validate(); }), {"drift", "2 inputs"});
}

}  // namespace
}  // namespace tessera
