// Program::profile: every node that ran, with its backend, segment and compiled graph, in one
// segment and across several; the step's effects happen once; a backend that cannot time its
// nodes is named.
#include <gtest/gtest.h>

#include <set>

#include "tessera/backends/kernel_executable.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

// Runs matmuls only (ref's kernel): a graph with matmuls becomes several segments.
class MatmulBackend final : public Backend {
 public:
  std::string_view name() const override { return "profile-matmul"; }
  bool supports(const Graph& g, ValueId id) const override {
    return g.node(id).op == OpKind::kMatMul;
  }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return compile_with_kernels(g, o, ref_kernel, name());
  }
};

// Wraps an executable and hides its per-node timing.
class Untimed final : public Executable {
 public:
  explicit Untimed(std::unique_ptr<Executable> inner) : inner_(std::move(inner)) {}
  const std::vector<Tensor>& run(std::span<const Tensor> in) override { return inner_->run(in); }
  int64_t arena_bytes() const override { return inner_->arena_bytes(); }

 private:
  std::unique_ptr<Executable> inner_;
};

class UntimedBackend final : public Backend {
 public:
  std::string_view name() const override { return "untimed"; }
  bool supports(const Graph& g, ValueId id) const override {
    return g.node(id).op == OpKind::kMatMul;
  }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return std::make_unique<Untimed>(compile_with_kernels(g, o, ref_kernel, name()));
  }
};

// Times its nodes but keeps no outputs for others (Executable::outputs() not implemented):
// enough for a program that is one segment.
class TimedOnly final : public Executable {
 public:
  explicit TimedOnly(std::unique_ptr<Executable> inner) : inner_(std::move(inner)) {}
  const std::vector<Tensor>& run(std::span<const Tensor> in) override { return inner_->run(in); }
  int64_t arena_bytes() const override { return inner_->arena_bytes(); }
  const Graph* compiled_graph() const override { return inner_->compiled_graph(); }
  std::vector<NodeTime> profile(std::span<const Tensor> in) override { return inner_->profile(in); }

 private:
  std::unique_ptr<Executable> inner_;
};

class TimedOnlyBackend final : public Backend {
 public:
  std::string_view name() const override { return "timed-only"; }
  bool supports(const Graph&, ValueId) const override { return true; }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return std::make_unique<TimedOnly>(compile_with_kernels(g, o, ref_kernel, name()));
  }
};

// x·w1 -> tanh -> ·w2 -> softmax, and w2 += 1 when the step ends.
Graph graph_with_update(Tensor w1, Tensor w2) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 2});
  ValueId p2 = b.parameter("w2", w2);
  ValueId h = b.tanh(b.matmul(x, b.parameter("w1", w1)));
  b.output(b.softmax(b.matmul(h, p2), -1));
  b.update(p2, b.add(p2, b.scalar(1.0)));
  return b.finish();
}

TEST(ProgramProfile, OneSegmentListsEveryComputedNode) {
  Tensor w1 = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  Tensor w2 = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Program p = compile_program(graph_with_update(w1, w2), {.batch = 3});
  ASSERT_EQ(p.num_segments(), 1);
  Tensor x = Tensor::zeros(kF32, {3, 2});
  std::vector<ProfiledNode> nodes = p.profile({&x, 1});
  ASSERT_FALSE(nodes.empty());
  std::set<OpKind> ops;
  for (const ProfiledNode& n : nodes) {
    EXPECT_EQ(n.segment, 0);
    EXPECT_EQ(n.backend, "cpu");
    ASSERT_NE(n.graph, nullptr);
    ASSERT_LT(n.id, n.graph->size());
    EXPECT_NE(op_info(n.graph->node(n.id).op).op_class, OpClass::kLeaf);
    EXPECT_GE(n.seconds, 0.0);
    ops.insert(n.graph->node(n.id).op);
  }
  EXPECT_TRUE(ops.count(OpKind::kMatMul));
  EXPECT_TRUE(ops.count(OpKind::kSoftmax));
  // The update ran once, as in run().
  EXPECT_EQ(w2.to_f32_vector(), (std::vector<float>{2, 3, 4, 5}));
}

TEST(ProgramProfile, SegmentsAcrossBackendsInExecutionOrder) {
  Tensor w1 = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  Tensor w2 = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor v1 = w1.clone(), v2 = w2.clone();
  Program mixed = compile_program(graph_with_update(w1, w2),
                                  {.batch = 3, .custom = {std::make_shared<MatmulBackend>()}});
  Program plain = compile_program(graph_with_update(v1, v2), {.batch = 3});
  ASSERT_GE(mixed.num_segments(), 4);
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  std::vector<ProfiledNode> nodes = mixed.profile({&x, 1});
  int matmuls = 0, last_segment = 0;
  for (const ProfiledNode& n : nodes) {
    EXPECT_GE(n.segment, last_segment);  // segments in order
    last_segment = n.segment;
    ASSERT_NE(n.graph, nullptr);
    if (n.graph->node(n.id).op == OpKind::kMatMul) {
      EXPECT_EQ(n.backend, "profile-matmul");
      ++matmuls;
    } else {
      EXPECT_EQ(n.backend, "cpu");
    }
  }
  EXPECT_EQ(matmuls, 2);
  EXPECT_EQ(last_segment, mixed.num_segments() - 1);
  // Values crossed the segments: the next step's outputs agree with one backend's.
  plain.run({&x, 1});
  std::vector<float> a = mixed.run({&x, 1})[0].to_f32_vector();
  std::vector<float> b = plain.run({&x, 1})[0].to_f32_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
  EXPECT_EQ(w2.to_f32_vector(), v2.to_f32_vector());  // both updated twice
}

TEST(ProgramProfile, OneSegmentNeedsNoOutputsFromTheExecutable) {
  Tensor w1 = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  Tensor w2 = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Program p = compile_program(graph_with_update(w1, w2),
                              {.batch = 2, .custom = {std::make_shared<TimedOnlyBackend>()}});
  ASSERT_EQ(p.num_segments(), 1);
  Tensor x = Tensor::zeros(kF32, {2, 2});
  std::vector<ProfiledNode> nodes = p.profile({&x, 1});
  ASSERT_FALSE(nodes.empty());
  EXPECT_EQ(nodes[0].backend, "timed-only");
  EXPECT_EQ(w2.to_f32_vector(), (std::vector<float>{2, 3, 4, 5}));
}

TEST(ProgramProfile, ABackendThatCannotTimeItsNodesIsNamed) {
  Tensor w1 = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  Tensor w2 = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Program p = compile_program(graph_with_update(w1, w2),
                              {.batch = 1, .custom = {std::make_shared<UntimedBackend>()}});
  Tensor x = Tensor::zeros(kF32, {1, 2});
  try {
    p.profile({&x, 1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("untimed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera
