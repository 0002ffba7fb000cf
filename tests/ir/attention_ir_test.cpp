// attention, update_slice and dynamic_slice in the IR: type inference and its errors, the
// decomposition against the double interpreter (masks, kv_len, rows that see no key), and the
// gradient rules against finite differences in double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "double_eval.h"
#include "grad_check.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/memory_plan.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

using adtest::DoubleEvaluator;
using adtest::DTensor;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AttentionIr, InfersShapes) {
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {kDynamic, 4, 3, 8});
  ValueId k = b.input("k", kF32, {kDynamic, 4, 5, 8});
  ValueId v = b.input("v", kF32, {kDynamic, 4, 5, 6});
  ValueId len = b.input("len", kI32, {});
  EXPECT_EQ(b.type(b.attention(q, k, v)), (TensorType{kF32, {kDynamic, 4, 3, 6}}));
  EXPECT_EQ(b.type(b.attention(q, k, v, true, 0.5, len)), (TensorType{kF32, {kDynamic, 4, 3, 6}}));
  ValueId cache = b.input("cache", kF16, {1, 4, 16, 8});
  ValueId row = b.input("row", kF16, {1, 4, 2, 8});
  EXPECT_EQ(b.type(b.update_slice(cache, row, len, 2)), b.type(cache));
  EXPECT_EQ(b.type(b.dynamic_slice(cache, len, -2, 5)), (TensorType{kF16, {1, 4, 5, 8}}));
}

TEST(AttentionIr, RejectsMismatchedInputsNamingTheNode) {
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {2, 3, 8});
  ValueId k = b.input("k", kF32, {2, 5, 7});
  ValueId v = b.input("v", kF32, {2, 5, 6});
  ValueId k8 = b.input("k8", kF32, {2, 5, 8});
  ValueId v4 = b.input("v4", kF32, {2, 4, 6});
  ValueId f = b.input("f", kF32, {});
  ValueId h = b.input("h", kF16, {2, 5, 8});
  EXPECT_NE(error_of([&] { b.attention(q, k, v); }).find("same feature size D"), std::string::npos);
  EXPECT_NE(error_of([&] { b.attention(q, k8, v4); }).find("number of keys"), std::string::npos);
  EXPECT_NE(error_of([&] { b.attention(q, k8, v, false, {}, f); }).find("kv_len"),
            std::string::npos);
  EXPECT_NE(error_of([&] { b.attention(q, h, v); }).find("one float dtype"), std::string::npos);
  ValueId x = b.input("x", kF32, {kDynamic, 4});
  ValueId i = b.input("i", kI64, {});
  EXPECT_NE(error_of([&] { b.dynamic_slice(x, i, 0, 1); }).find("symbolic batch"),
            std::string::npos);
  EXPECT_NE(error_of([&] { b.dynamic_slice(x, i, 1, 5); }).find("size 5"), std::string::npos);
  ValueId big = b.input("big", kF32, {kDynamic, 5});
  EXPECT_NE(error_of([&] { b.update_slice(x, big, i, 1); }).find("do not fit"), std::string::npos);
  std::string e = error_of([&] { b.update_slice(x, x, f, 1); });
  EXPECT_NE(e.find("start"), std::string::npos) << e;
  EXPECT_NE(e.find("update_slice"), std::string::npos) << e;
}

// The decomposition (primitives only) equals the op's semantics, evaluated in double.
void expect_decomposition_matches(bool causal, int64_t tq, int64_t tk, std::optional<int64_t> len) {
  SCOPED_TRACE(fmt::format("causal {} tq {} tk {} len {}", causal, tq, tk, len.value_or(-1)));
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {kDynamic, 2, tq, 4});
  ValueId k = b.input("k", kF32, {kDynamic, 2, tk, 4});
  ValueId v = b.input("v", kF32, {kDynamic, 2, tk, 3});
  ValueId kv = len ? b.input("len", kI64, {}) : kNoValue;
  ValueId y = b.attention(q, k, v, causal, 0.9, kv);
  Node node = b.graph().node(y);
  std::vector<ValueId> ins = node.inputs;
  ValueId z = op_info(OpKind::kAttention).decompose(b, node, ins);
  Graph g = b.finish();
  for (ValueId i = y + 1; i < g.size(); ++i)
    EXPECT_EQ(op_info(g.node(i).op).decompose, nullptr) << g.describe(i) << " is not a primitive";
  std::mt19937 rng(5);
  std::map<ValueId, DTensor> feeds;
  for (ValueId in : {q, k, v})
    feeds[in] = adtest::random_dtensor(g.type(in).shape.with_batch(2), rng, -2, 2);
  if (len) feeds[kv] = adtest::dtensor({}, static_cast<double>(*len));
  std::vector<DTensor> vals = DoubleEvaluator(g, 2).run(feeds);
  for (int64_t i = 0; i < vals[y].numel(); ++i) {
    EXPECT_TRUE(std::isfinite(vals[z].v[i])) << i;
    // 1e-6: the decomposition multiplies by the scale rounded to f32.
    EXPECT_NEAR(vals[z].v[i], vals[y].v[i], 1e-6) << i;
  }
}

TEST(AttentionIr, DecompositionMatchesTheSemantics) {
  expect_decomposition_matches(false, 3, 5, std::nullopt);
  expect_decomposition_matches(true, 5, 5, std::nullopt);
  expect_decomposition_matches(true, 3, 6, std::nullopt);
  expect_decomposition_matches(true, 6, 3, std::nullopt);  // three rows see nothing: zeros
  for (int64_t len : {-3, 0, 1, 4, 6, 40}) {
    expect_decomposition_matches(false, 2, 6, len);
    expect_decomposition_matches(true, 3, 6, len);
  }
}

TEST(AttentionIr, GradientsMatchFiniteDifferences) {
  for (bool causal : {false, true}) {
    SCOPED_TRACE(causal);
    adtest::GradChecker c;
    ValueId q = c.param("q", {2, 3, 4}, -1, 1);
    ValueId k = c.param("k", {2, 5, 4}, -1, 1);
    ValueId v = c.param("v", {2, 5, 3});
    c.check(c.b.attention(q, k, v, causal, 0.8), {q, k, v});
  }
  // A run-time kv_len and rows that see nothing.
  adtest::GradChecker c;
  ValueId q = c.param("q", {2, 4, 3}, -1, 1);
  ValueId k = c.param("k", {2, 6, 3}, -1, 1);
  ValueId v = c.param("v", {2, 6, 2});
  ValueId len = c.index_input("len", {}, {2});
  Gradients d = c.check(c.b.attention(q, k, v, true, std::nullopt, len), {q, k, v});
  // P is recomputed once per attention node: one q·kᵀ in the backward graph.
  int products = 0;
  for (ValueId i = 0; i < d.graph.size(); ++i) {
    const Node& n = d.graph.node(i);
    products += n.op == OpKind::kMatMul && n.attrs.get_int_or("transpose_b", 0) == 1 &&
                n.inputs[0] == q && n.inputs[1] == k;
  }
  EXPECT_EQ(products, 1);
}

// Starts inside the range and clamped from both sides.
TEST(AttentionIr, WindowGradientsMatchFiniteDifferences) {
  for (int64_t start : {-2, 2, 6}) {
    SCOPED_TRACE(start);
    adtest::GradChecker g;
    ValueId a = g.param("a", {4, 7, 2});
    ValueId b = g.param("b", {4, 3, 2});
    ValueId s = g.index_input("start", {}, {start});
    ValueId y = g.b.update_slice(a, b, s, 1);
    g.check(g.b.mul(y, y), {a, b});
    adtest::GradChecker h;
    ValueId x = h.param("x", {4, 7, 2});
    ValueId s2 = h.index_input("start", {}, {start});
    h.check(h.b.dynamic_slice(x, s2, -2, 3), {x});
  }
}

// A KV-cache write (update_slice of a parameter that is that parameter's update, nothing
// reading the parameter afterwards) gets no arena block: it is computed in the parameter.
TEST(AttentionIr, CacheWritesArePlannedIntoTheirParameter) {
  for (bool read_after : {false, true}) {
    SCOPED_TRACE(read_after);
    GraphBuilder b;
    ValueId rows = b.input("rows", kF32, {1, 2, 1, 4});
    ValueId pos = b.input("pos", kI32, {});
    ValueId cache = b.parameter("cache", Tensor::zeros(kF32, {1, 2, 8, 4}), false);
    ValueId grown = b.update_slice(cache, rows, pos, 2);
    b.update(cache, grown);
    ValueId out = b.reduce_sum(grown, {});
    if (read_after) out = b.add(out, b.reduce_sum(cache, {}));
    b.output(out);
    Graph g = b.finish();
    MemoryPlan plan = plan_memory(g);
    EXPECT_EQ(plan.writes_parameter[grown], read_after ? kNoValue : cache);
    EXPECT_EQ(plan.offsets[grown] < 0, !read_after);
  }
}

}  // namespace
}  // namespace tessera
