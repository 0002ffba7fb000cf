// The cpu fused elementwise kernel: hand-built fused nodes against the same ops run one by
// one (bit-identical: both use the same array kernels), broadcast inputs, broadcast-only
// registers, in-place output and tile boundaries.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "cpu_test_util.h"
#include "tessera/backends/scheduler.h"
#include "tessera/ir/fusion.h"

namespace tessera {
namespace {
using namespace cpu_test;  // NOLINT

// A graph with inputs of the tensors' types and one fused node running `prog`.
Graph fused_graph(const std::vector<Tensor>& ins, const FusedProgram& prog, const Shape& out,
                  ValueId* id) {
  GraphBuilder b;
  Node n;
  n.op = OpKind::kFusedElementwise;
  for (size_t i = 0; i < ins.size(); ++i)
    n.inputs.push_back(b.input("in" + std::to_string(i), kF32, ins[i].shape()));
  n.name = "fused";
  n.type = {kF32, out};
  n.fused = std::make_shared<const FusedProgram>(prog);
  Graph g = b.finish();
  *id = g.add_node(std::move(n));
  return g;
}

Tensor run_fused(const std::vector<Tensor>& ins, const FusedProgram& prog, const Shape& out) {
  ValueId id;
  Graph g = fused_graph(ins, prog, out, &id);
  EXPECT_NE(cpu_kernel(g, id), nullptr);
  return evaluate_with_kernels(g, id, ins, cpu_kernel, "cpu");
}

void expect_same_bits(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_EQ(std::memcmp(a.data<float>() + i, b.data<float>() + i, 4), 0)
        << i << ": " << a.get(i) << " vs " << b.get(i);
}

// x * w + b -> gelu -> * scale
FusedProgram bias_gelu_scale() {
  FusedProgram p;
  p.num_inputs = 4;
  p.instrs = {{OpKind::kMul, 0, 1}, {OpKind::kAdd, 4, 2}, {OpKind::kGelu, 5}, {OpKind::kMul, 6, 3}};
  return p;
}

TEST(CpuFused, MatchesUnfusedBitForBit) {
  for (int64_t rows : {1, 3, 64}) {
    for (int64_t cols : {1, 7, 100, 513, 1500}) {
      Tensor x = random_tensor(kF32, {rows, cols}, 30);
      Tensor w = random_tensor(kF32, {cols}, 31);
      Tensor bias = random_tensor(kF32, {cols}, 32);
      Tensor scale = Tensor::scalar(0.7);
      both_paths([&] {
        SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
        Tensor want = run_op(OpKind::kMul, {x, w});
        want = run_op(OpKind::kAdd, {want, bias});
        want = run_op(OpKind::kGelu, {want});
        want = run_op(OpKind::kMul, {want, scale});
        expect_same_bits(run_fused({x, w, bias, scale}, bias_gelu_scale(), {rows, cols}), want);
      });
    }
  }
}

TEST(CpuFused, BroadcastOnlyRegistersAndColumnInputs) {
  // r3 = exp(r1) (a scalar), r4 = mul(r0, r3), r5 = sub(r4, r2) with r2 a column [R, 1].
  FusedProgram p;
  p.num_inputs = 3;
  p.instrs = {{OpKind::kExp, 1}, {OpKind::kMul, 0, 3}, {OpKind::kSub, 4, 2}};
  Tensor x = random_tensor(kF32, {5, 9}, 33);
  Tensor s = Tensor::scalar(0.25);
  Tensor col = random_tensor(kF32, {5, 1}, 34);
  both_paths([&] {
    Tensor want = run_op(OpKind::kMul, {x, run_op(OpKind::kExp, {s})});
    want = run_op(OpKind::kSub, {want, col});
    expect_same_bits(run_fused({x, s, col}, p, {5, 9}), want);
  });
  // A program whose result depends only on broadcast scalars fills the whole output.
  FusedProgram q;
  q.num_inputs = 2;
  q.instrs = {{OpKind::kAdd, 0, 1}, {OpKind::kTanh, 2}};
  Tensor y = run_fused({Tensor::scalar(0.5), Tensor::from_vector<float>({0.25f}, {1, 1})}, q,
                       {1, 1});
  EXPECT_FLOAT_EQ(static_cast<float>(y.get(0)), std::tanh(0.75f));
}

TEST(CpuFused, InPlaceOverAnInput) {
  Tensor x = random_tensor(kF32, {4, 1000}, 35);
  Tensor w = random_tensor(kF32, {1000}, 36);
  Tensor bias = random_tensor(kF32, {1000}, 37);
  Tensor scale = Tensor::scalar(1.5);
  ValueId id;
  Graph g = fused_graph({x, w, bias, scale}, bias_gelu_scale(), x.shape(), &id);
  Tensor want = evaluate_with_kernels(g, id, std::vector<Tensor>{x, w, bias, scale}, cpu_kernel,
                                      "cpu");
  Tensor buf = x.clone();
  std::vector<Tensor> ins = {buf, w, bias, scale};
  KernelArgs args{g, id, g.node(id), ins, buf};
  cpu_kernel(g, id)(args);
  expect_same_bits(buf, want);
}

TEST(CpuFused, ProgramWithFusionOnAndOffAgree) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 300});
  ValueId w = b.parameter("w", random_tensor(kF32, {300}, 38));
  ValueId bias = b.parameter("b", random_tensor(kF32, {300}, 39));
  ValueId y = b.mul(b.gelu(b.add(b.mul(x, w), bias)), b.scalar(0.5));
  b.output(b.tanh(y));
  Graph g = b.finish();
  Tensor in = random_tensor(kF32, {8, 300}, 40);
  ProgramOptions on{.batch = 8, .backends = {"cpu"}, .compile = {}};
  ProgramOptions off = on;
  off.compile.fuse_elementwise = false;
  Program p_on = compile_program(g, on), p_off = compile_program(g, off);
  Tensor a = p_on.run(std::vector<Tensor>{in})[0].clone();
  Tensor c = p_off.run(std::vector<Tensor>{in})[0].clone();
  expect_same_bits(a, c);
}

}  // namespace
}  // namespace tessera
