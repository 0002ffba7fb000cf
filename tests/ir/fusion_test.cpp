#include "tessera/ir/fusion.h"

#include <gtest/gtest.h>

#include "passes_test_util.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

using testing::eval_outputs;
using testing::expect_close;
using testing::random_tensor;

std::vector<ValueId> fused_nodes(const Graph& g) {
  std::vector<ValueId> r;
  for (ValueId i = 0; i < g.size(); ++i)
    if (g.node(i).op == OpKind::kFusedElementwise) r.push_back(i);
  return r;
}

TEST(Fusion, FusibleOps) {
  for (OpKind k :
       {OpKind::kNeg, OpKind::kAbs, OpKind::kExp, OpKind::kLog, OpKind::kSqrt, OpKind::kRsqrt,
        OpKind::kTanh, OpKind::kSigmoid, OpKind::kRelu, OpKind::kGelu, OpKind::kErf, OpKind::kAdd,
        OpKind::kSub, OpKind::kMul, OpKind::kDiv, OpKind::kPow, OpKind::kMaximum, OpKind::kMinimum})
    EXPECT_TRUE(is_fusible(k)) << op_name(k);
  for (OpKind k : {OpKind::kInput, OpKind::kConstant, OpKind::kEqual, OpKind::kLess, OpKind::kWhere,
                   OpKind::kCast, OpKind::kMatMul, OpKind::kReduceSum, OpKind::kReshape,
                   OpKind::kSoftmax, OpKind::kFusedElementwise})
    EXPECT_FALSE(is_fusible(k)) << op_name(k);
}

TEST(Fusion, ProgramString) {
  FusedProgram p;
  p.num_inputs = 2;
  p.instrs = {{OpKind::kMul, 0, 1}, {OpKind::kRelu, 2, -1}};
  EXPECT_EQ(p.str(), "r2 = mul(r0, r1); r3 = relu(r2)");
  EXPECT_EQ(p.num_registers(), 4);
}

// matmul -> + bias -> gelu -> * scale: the three elementwise nodes become one.
TEST(Fusion, BiasGeluScaleBecomesOneNode) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4, 8});
  ValueId w = b.parameter("w", Tensor::full(kF32, {8, 6}, 0.1));
  ValueId bias = b.parameter("bias", Tensor::full(kF32, {6}, 0.2));
  ValueId scale = b.input("scale", kF32, {4, 6});
  ValueId mm = b.matmul(x, w);
  ValueId y = b.mul(b.gelu(b.add(mm, bias)), scale);
  b.output(y);
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  f.validate();
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 1u);
  const Node& n = f.node(fused[0]);
  EXPECT_EQ(f.outputs()[0], fused[0]);
  EXPECT_EQ(n.name, g.node(y).name);
  EXPECT_EQ(n.fused->str(), "r3 = add(r0, r1); r4 = gelu(r3); r5 = mul(r4, r2)");
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(f.node(n.inputs[0]).op, OpKind::kMatMul);
  EXPECT_EQ(f.node(n.inputs[1]).name, "bias");
  EXPECT_EQ(f.node(n.inputs[2]).name, "scale");
  EXPECT_EQ(f.size(), 6);  // x, w, bias, scale, matmul, fused
  // Cost: 3 flops per output element, and each input read once.
  OpCost c = op_info(OpKind::kFusedElementwise).cost(f, n);
  EXPECT_DOUBLE_EQ(c.flops, 3.0 * 24);
  EXPECT_DOUBLE_EQ(c.bytes_read, (24 + 6 + 24) * 4.0);
  EXPECT_DOUBLE_EQ(c.bytes_written, 24 * 4.0);

  Rng rng(1);
  std::vector<Tensor> in = {random_tensor(rng, {4, 8}), random_tensor(rng, {4, 6})};
  expect_close(eval_outputs(f, in)[0], eval_outputs(g, in)[0]);
}

TEST(Fusion, IntermediatesUsedOutsideStayMaterialized) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {5});
  ValueId e = b.exp(x);
  ValueId t = b.tanh(e);
  ValueId s = b.add(t, x);              // t and e feed only this group...
  ValueId other = b.reduce_sum(e, {});  // ...except e, which a reduction also reads
  b.output(s);
  b.output(other);
  Graph f = fuse_elementwise(b.finish());
  f.validate();
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(f.node(fused[0]).fused->str(), "r2 = tanh(r0); r3 = add(r2, r1)");
  EXPECT_EQ(f.node(f.node(fused[0]).inputs[0]).op, OpKind::kExp);
  (void)s;
  (void)other;
}

TEST(Fusion, OutputsAndUpdatesAreNotSwallowed) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId w = b.parameter("w", Tensor::zeros(kF32, {3}));
  ValueId a = b.neg(x);
  ValueId c = b.abs(a);
  ValueId d = b.add(c, w);
  ValueId e = b.sqrt(d);
  b.output(c);  // c is read after the step: it ends a group
  b.update(w, e);
  Graph f = fuse_elementwise(b.finish());
  f.validate();
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 2u);  // {neg, abs} and {add, sqrt}
  EXPECT_EQ(f.outputs()[0], fused[0]);
  EXPECT_EQ(f.updates()[0].value, fused[1]);
  EXPECT_EQ(f.node(f.updates()[0].parameter).name, "w");
  EXPECT_EQ(f.node(fused[1]).inputs[0], fused[0]);
  (void)a;
  (void)d;
  (void)e;
}

TEST(Fusion, BroadcastingOnlyAtGroupInputs) {
  GraphBuilder b;
  ValueId row = b.input("row", kF32, {4});
  ValueId m = b.input("m", kF32, {3, 4});
  ValueId er = b.exp(row);  // [4]: smaller than the group's [3, 4], so not a member
  ValueId y = b.relu(b.mul(b.add(m, er), er));
  b.output(y);
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  f.validate();
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 1u);
  const Node& n = f.node(fused[0]);
  EXPECT_EQ(n.fused->str(), "r2 = add(r0, r1); r3 = mul(r2, r1); r4 = relu(r3)");
  EXPECT_EQ(f.node(n.inputs[1]).op, OpKind::kExp);  // deduplicated: one register for er
  Rng rng(2);
  std::vector<Tensor> in = {random_tensor(rng, {4}), random_tensor(rng, {3, 4})};
  expect_close(eval_outputs(f, in)[0], eval_outputs(g, in)[0]);
  (void)er;
}

TEST(Fusion, RepeatedInputsShareOneRegister) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {6});
  ValueId y = b.add(b.mul(x, x), x);
  b.output(y);
  Graph f = fuse_elementwise(b.finish());
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(f.node(fused[0]).inputs.size(), 1u);
  EXPECT_EQ(f.node(fused[0]).fused->str(), "r1 = mul(r0, r0); r2 = add(r1, r0)");
}

TEST(Fusion, LeavesSingletonsNonFloatAndNonFusibleOpsAlone) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  ValueId h = b.input("h", kF16, {3});
  ValueId i = b.input("i", kI32, {3});
  b.output(b.exp(x));                        // a group of one
  b.output(b.relu(b.exp(h)));                // f16: not fusible
  b.output(b.neg(b.add(i, i)));              // integers: not fusible
  b.output(b.relu(b.cast(b.exp(x), kF32)));  // a cast breaks the chain
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  EXPECT_TRUE(fused_nodes(f).empty());
  EXPECT_EQ(f.str(), g.str());
}

TEST(Fusion, DiamondsFuseWholeAndFusionIsIdempotent) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 3});
  ValueId a = b.exp(x);
  ValueId t = b.tanh(a);
  ValueId n = b.neg(a);
  ValueId y = b.add(t, n);  // a has two users, both in the group
  b.output(y);
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  f.validate();
  auto fused = fused_nodes(f);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(f.node(fused[0]).fused->str(),
            "r1 = exp(r0); r2 = tanh(r1); r3 = neg(r1); r4 = add(r2, r3)");
  EXPECT_EQ(f.size(), 2);
  // Fusion reads x once and writes y once; unfused, every intermediate goes to memory.
  double unfused_bytes = 0;
  for (ValueId i = 0; i < g.size(); ++i) {
    OpCost c = op_info(g.node(i).op).cost(g, g.node(i));
    unfused_bytes += c.bytes_read + c.bytes_written;
  }
  OpCost c = op_info(OpKind::kFusedElementwise).cost(f, f.node(fused[0]));
  EXPECT_DOUBLE_EQ(c.bytes_read + c.bytes_written, 2 * 6 * 4.0);
  EXPECT_DOUBLE_EQ(unfused_bytes, (2 + 2 + 2 + 3) * 6 * 4.0);
  EXPECT_DOUBLE_EQ(c.flops, 4 * 6);
  EXPECT_EQ(fuse_elementwise(f).str(), f.str());
  Rng rng(6);
  Tensor xv = random_tensor(rng, {2, 3});
  expect_close(eval_outputs(f, {xv})[0], eval_outputs(g, {xv})[0]);
}

TEST(Fusion, InferRejectsBrokenPrograms) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3});
  Graph g = b.finish();
  auto p = std::make_shared<FusedProgram>();
  p->num_inputs = 1;
  p->instrs = {{OpKind::kExp, 0, -1}, {OpKind::kAdd, 1, 2}};  // reads r2 before it exists
  Node n;
  n.op = OpKind::kFusedElementwise;
  n.inputs = {x};
  n.name = "broken";
  n.fused = p;
  EXPECT_THROW(op_info(OpKind::kFusedElementwise).infer(g, n), Error);
  p->instrs = {{OpKind::kMatMul, 0, 0}};
  EXPECT_THROW(op_info(OpKind::kFusedElementwise).infer(g, n), Error);
  p->instrs = {{OpKind::kExp, 0, -1}};
  EXPECT_EQ(op_info(OpKind::kFusedElementwise).infer(g, n), (TensorType{kF32, {3}}));
  n.fused = nullptr;
  EXPECT_THROW(op_info(OpKind::kFusedElementwise).infer(g, n), Error);
}

// Random DAGs of fusible ops over inputs of broadcast-compatible shapes: fusion must give
// a valid graph with the same values, and decomposing it back must too.
TEST(Fusion, RandomGraphsComputeTheSameValues) {
  const std::vector<OpKind> unary = {OpKind::kNeg,     OpKind::kAbs,  OpKind::kExp,  OpKind::kTanh,
                                     OpKind::kSigmoid, OpKind::kRelu, OpKind::kGelu, OpKind::kErf};
  const std::vector<OpKind> binary = {OpKind::kAdd, OpKind::kSub, OpKind::kMul, OpKind::kMaximum,
                                      OpKind::kMinimum};
  const std::vector<Shape> shapes = {{3, 4}, {4}, {3, 1}, {}};
  Rng rng(7);
  int total_fused = 0;
  for (int trial = 0; trial < 60; ++trial) {
    GraphBuilder b;
    std::vector<ValueId> pool;
    for (int k = 0; k < 3; ++k)
      pool.push_back(b.input(fmt::format("in{}", k), kF32, shapes[rng.next_below(4)]));
    int nodes = 4 + static_cast<int>(rng.next_below(14));
    for (int k = 0; k < nodes; ++k) {
      ValueId a = pool[rng.next_below(pool.size())];
      double pick = rng.next_uniform();
      if (pick < 0.4) {
        pool.push_back(b.emit(unary[rng.next_below(unary.size())], {a}));
      } else if (pick < 0.9) {
        ValueId c = pool[rng.next_below(pool.size())];
        pool.push_back(b.emit(binary[rng.next_below(binary.size())], {a, c}));
      } else {
        pool.push_back(b.reduce_sum(a, {}, false));  // a non-fusible barrier
      }
    }
    for (int k = 0; k < 2; ++k) b.output(pool[pool.size() - 1 - rng.next_below(3)]);
    Graph g = b.finish();
    Graph f = fuse_elementwise(g);
    ASSERT_NO_THROW(f.validate()) << g.str() << "\n" << f.str();
    total_fused += static_cast<int>(fused_nodes(f).size());
    std::vector<Tensor> in;
    for (ValueId i : g.inputs()) in.push_back(random_tensor(rng, g.type(i).shape, 0.1, 1.0));
    auto want = eval_outputs(g, in);
    auto got = eval_outputs(f, in);
    for (size_t k = 0; k < want.size(); ++k) expect_close(got[k], want[k], 1e-4);
    Graph d = decompose(f, [](const Node&) { return true; });
    ASSERT_NO_THROW(d.validate());
    EXPECT_TRUE(fused_nodes(d).empty());
    auto back = eval_outputs(d, in);
    for (size_t k = 0; k < want.size(); ++k) expect_close(back[k], want[k], 1e-4);
  }
  EXPECT_GT(total_fused, 30);
}

// The same check through the ref backend, which runs fused nodes itself.
TEST(Fusion, RefBackendAgreesOnFusedGraphs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 5});
  ValueId bias = b.parameter("bias", Tensor::full(kF32, {5}, 0.25));
  ValueId y = b.mul(b.sigmoid(b.add(x, bias)), b.tanh(x));
  b.output(y);
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  ASSERT_EQ(fused_nodes(f).size(), 1u);
  if (!testing::ref_supports(f)) GTEST_SKIP() << "the ref backend lacks a kernel here (yet)";
  Rng rng(3);
  Tensor xv = random_tensor(rng, {2, 5});
  CompileOptions no_passes{false, false};
  auto exe = backend_registry().get("ref").compile(f, no_passes);
  Tensor got = exe->run(std::vector<Tensor>{xv})[0].clone();
  expect_close(got, eval_outputs(g, {xv})[0]);
}

}  // namespace
}  // namespace tessera
