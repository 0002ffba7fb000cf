#include <gtest/gtest.h>

#include "passes_test_util.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/passes.h"

namespace tessera {
namespace {

using testing::eval_outputs;
using testing::expect_close;
using testing::random_tensor;

int count_op(const Graph& g, OpKind op) {
  int c = 0;
  for (const Node& n : g.nodes()) c += n.op == op;
  return c;
}

bool has_composites(const Graph& g) {
  for (const Node& n : g.nodes())
    if (op_info(n.op).op_class == OpClass::kComposite || n.op == OpKind::kFusedElementwise)
      return true;
  return false;
}

auto all_nodes = [](const Node&) { return true; };

TEST(Decompose, FusedNodesBecomeTheirPrimitives) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {3, 4});
  ValueId bias = b.parameter("bias", Tensor::full(kF32, {4}, 0.5));
  ValueId w = b.parameter("w", Tensor::full(kF32, {3, 4}, 1.0));
  ValueId y = b.mul(b.relu(b.add(x, bias)), x);
  b.output(y);
  b.update(w, b.sub(w, b.exp(y)));
  Graph g = b.finish();
  Graph f = fuse_elementwise(g);
  ASSERT_EQ(count_op(f, OpKind::kFusedElementwise), 2);
  Graph d = decompose(f, all_nodes);
  d.validate();
  EXPECT_EQ(count_op(d, OpKind::kFusedElementwise), 0);
  EXPECT_EQ(count_op(d, OpKind::kAdd), 1);
  EXPECT_EQ(count_op(d, OpKind::kRelu), 1);
  EXPECT_EQ(count_op(d, OpKind::kMul), 1);
  EXPECT_EQ(d.node(d.outputs()[0]).op, OpKind::kMul);
  ASSERT_EQ(d.updates().size(), 1u);
  EXPECT_EQ(d.node(d.updates()[0].parameter).name, "w");
  EXPECT_EQ(d.node(d.updates()[0].value).op, OpKind::kSub);
  // The parameter is the same variable, not a copy.
  EXPECT_EQ(d.node(d.updates()[0].parameter).value.raw_data(), g.node(w).value.raw_data());
  Rng rng(4);
  Tensor xv = random_tensor(rng, {3, 4});
  expect_close(eval_outputs(d, {xv})[0], eval_outputs(g, {xv})[0]);
}

TEST(Decompose, AFusedProgramWithAnUnreadInputStillBroadcasts) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4});
  ValueId m = b.input("m", kF32, {2, 4});
  Graph g = b.finish();
  auto p = std::make_shared<FusedProgram>();
  p->num_inputs = 2;
  p->instrs = {{OpKind::kExp, 0, -1}};  // m only shapes the result
  Node n;
  n.op = OpKind::kFusedElementwise;
  n.inputs = {x, m};
  n.name = "fused";
  n.fused = p;
  n.type = op_info(OpKind::kFusedElementwise).infer(g, n);
  g.outputs().push_back(g.add_node(n));
  Graph d = decompose(g, all_nodes);
  d.validate();
  EXPECT_EQ(d.type(d.outputs()[0]), (TensorType{kF32, {2, 4}}));
}

TEST(Decompose, PredicateSelectsNodes) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 5});
  ValueId labels = b.input("labels", kI32, {2});
  ValueId s = b.softmax(x, -1);
  ValueId ce = b.cross_entropy(x, labels);
  b.output(s);
  b.output(ce);
  Graph g = b.finish();
  Graph none = decompose(g, [](const Node&) { return false; });
  EXPECT_EQ(none.str(), g.str());
  if (op_info(OpKind::kSoftmax).decompose == nullptr)
    GTEST_SKIP() << "no softmax decomposition yet";
  Graph only_softmax = decompose(g, [](const Node& n) { return n.op == OpKind::kSoftmax; });
  only_softmax.validate();
  EXPECT_EQ(count_op(only_softmax, OpKind::kSoftmax), 0);
  EXPECT_EQ(count_op(only_softmax, OpKind::kCrossEntropy), 1);
  EXPECT_EQ(only_softmax.inputs().size(), 2u);
  EXPECT_EQ(only_softmax.type(only_softmax.outputs()[0]), g.type(s));
  EXPECT_EQ(only_softmax.node(only_softmax.outputs()[1]).op, OpKind::kCrossEntropy);
}

TEST(Decompose, EverythingDownToPrimitives) {
  for (OpKind k : {OpKind::kSoftmax, OpKind::kLogSoftmax, OpKind::kCrossEntropy})
    if (op_info(k).decompose == nullptr) GTEST_SKIP() << "no decomposition yet for " << op_name(k);
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 5});
  ValueId labels = b.input("labels", kI32, {kDynamic});
  ValueId h = b.tanh(b.add(x, b.scalar(1.0)));
  b.output(b.softmax(h, -1));
  b.output(b.log_softmax(h, 0));
  b.output(b.reduce_mean(b.cross_entropy(h, labels), {}));
  Graph g = specialize(b.finish(), 3);
  Graph f = fuse_elementwise(g);
  Graph d = decompose(f, all_nodes);
  d.validate();
  EXPECT_FALSE(has_composites(d)) << d.str();
  ASSERT_EQ(d.outputs().size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(d.type(d.outputs()[k]), g.type(g.outputs()[k]));

  if (!testing::ref_supports(d) || !testing::ref_supports(g))
    GTEST_SKIP() << "the ref backend lacks a kernel here (yet)";
  Rng rng(5);
  std::vector<Tensor> in = {random_tensor(rng, {3, 5}),
                            Tensor::from_vector<int>({0, 4, 2}, {3}, kI32)};
  CompileOptions no_passes{false, false};
  auto want_exe = backend_registry().get("ref").compile(g, no_passes);
  std::vector<Tensor> want;
  for (const Tensor& t : want_exe->run(in)) want.push_back(t.clone());
  auto got_exe = backend_registry().get("ref").compile(d, no_passes);
  const auto& got = got_exe->run(in);
  for (size_t k = 0; k < want.size(); ++k) expect_close(got[k], want[k], 1e-5);
}

}  // namespace
}  // namespace tessera
