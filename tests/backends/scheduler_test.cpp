// The scheduler: segments across backends, fallback to cpu, and clear errors.
#include <gtest/gtest.h>

#include "tessera/backends/kernel_executable.h"
#include "tessera/backends/ref/ref_backend.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/core/rng.h"
#include "tessera/ir/builder.h"

namespace tessera {
namespace {

// A backend that runs only matmul (with ref's kernel): forces a three-segment program.
class MatmulOnlyBackend final : public Backend {
 public:
  std::string_view name() const override { return "matmul-only"; }
  bool supports(const Graph& g, ValueId id) const override {
    return g.node(id).op == OpKind::kMatMul;
  }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    return compile_with_kernels(g, o, ref_kernel, name());
  }
};

void register_matmul_only() {
  if (backend_registry().find("matmul-only") == nullptr)
    backend_registry().add(std::make_unique<MatmulOnlyBackend>());
}

Graph two_layer_graph(Tensor w1, Tensor w2) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 8});
  ValueId h = b.tanh(b.matmul(x, b.parameter("w1", w1)));
  b.output(b.softmax(b.matmul(h, b.parameter("w2", w2)), -1));
  return b.finish();
}

TEST(Scheduler, SegmentsAcrossBackendsAgreeWithOneBackend) {
  register_matmul_only();
  Rng rng(1);
  Tensor w1 = Tensor::zeros(kF32, {8, 16}), w2 = Tensor::zeros(kF32, {16, 4});
  Tensor x = Tensor::zeros(kF32, {3, 8});
  rng.fill_normal(w1, 0, 0.5);
  rng.fill_normal(w2, 0, 0.5);
  rng.fill_normal(x, 0, 1);
  Graph g = two_layer_graph(w1, w2);

  Program mixed = compile_program(g, {.batch = 3, .backends = {"matmul-only"}});
  Program plain = compile_program(g, {.batch = 3, .backends = {"cpu"}});
  EXPECT_EQ(plain.num_segments(), 1);
  EXPECT_EQ(mixed.num_segments(), 4);  // matmul | tanh | matmul | softmax
  int on_matmul_only = 0;
  for (const std::string& a : mixed.assignment()) on_matmul_only += a == "matmul-only";
  EXPECT_EQ(on_matmul_only, 2);

  std::vector<float> a = mixed.run({&x, 1})[0].to_f32_vector();
  std::vector<float> b = plain.run({&x, 1})[0].to_f32_vector();
  ASSERT_EQ(a.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(Scheduler, UpdatesAcrossSegmentsAreApplied) {
  register_matmul_only();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 2});
  Tensor w = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  ValueId p = b.parameter("w", w);
  ValueId y = b.matmul(x, p);
  b.update(p, b.add(p, b.scalar(1.0)));
  b.output(y);
  Program prog = compile_program(b.finish(), {.batch = 2, .backends = {"matmul-only"}});
  Tensor in = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  EXPECT_EQ(prog.run({&in, 1})[0].to_f32_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(w.to_f32_vector(), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(prog.run({&in, 1})[0].to_f32_vector(), (std::vector<float>{2, 3, 4, 5}));
}

// A backend instance outside the registry: counts its compiles; runs matmul with ref's kernel.
class CountingMatmulBackend final : public Backend {
 public:
  explicit CountingMatmulBackend(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  bool supports(const Graph& g, ValueId id) const override {
    return g.node(id).op == OpKind::kMatMul;
  }
  std::unique_ptr<Executable> compile(const Graph& g, const CompileOptions& o) override {
    ++compiles;
    return compile_with_kernels(g, o, ref_kernel, name_);
  }
  int compiles = 0;

 private:
  std::string name_;
};

TEST(Scheduler, CustomBackendsAreTriedBeforeNamedOnes) {
  register_matmul_only();
  Rng rng(3);
  Tensor w1 = Tensor::zeros(kF32, {8, 16}), w2 = Tensor::zeros(kF32, {16, 4});
  Tensor x = Tensor::zeros(kF32, {3, 8});
  rng.fill_normal(w1, 0, 0.5);
  rng.fill_normal(w2, 0, 0.5);
  rng.fill_normal(x, 0, 1);
  Graph g = two_layer_graph(w1, w2);

  auto custom = std::make_shared<CountingMatmulBackend>("custom-matmul");
  // "matmul-only" would take the matmuls too: the custom instance comes first.
  Program mixed = compile_program(g, {.batch = 3, .backends = {"matmul-only"}, .custom = {custom}});
  EXPECT_EQ(custom->compiles, 2);
  EXPECT_EQ(mixed.num_segments(), 4);
  for (ValueId id = 0; id < mixed.graph().size(); ++id) {
    OpKind op = mixed.graph().node(id).op;
    if (op == OpKind::kMatMul) {
      EXPECT_EQ(mixed.assignment()[id], "custom-matmul");
    }
    if (op == OpKind::kTanh) {
      EXPECT_EQ(mixed.assignment()[id], "cpu");
    }
  }
  Program plain = compile_program(g, {.batch = 3});
  std::vector<float> a = mixed.run({&x, 1})[0].to_f32_vector();
  std::vector<float> b = plain.run({&x, 1})[0].to_f32_vector();
  ASSERT_EQ(a.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(Scheduler, CustomBackendSharingARegisteredNameIsToldApart) {
  // Named like the cpu backend but a different instance: its nodes form their own segments.
  auto impostor = std::make_shared<CountingMatmulBackend>("cpu");
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 2});
  b.output(b.relu(b.matmul(x, b.parameter("w", Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2})))));
  Program p = compile_program(b.finish(), {.batch = 2, .custom = {impostor}});
  EXPECT_EQ(impostor->compiles, 1);
  EXPECT_EQ(p.num_segments(), 2);
  Tensor in = Tensor::from_vector<float>({1, 0, 0, -1}, {2, 2});
  EXPECT_EQ(p.run({&in, 1})[0].to_f32_vector(), (std::vector<float>{1, 2, 0, 0}));
}

TEST(Scheduler, UnknownBackendIsAClearError) {
  GraphBuilder b;
  b.output(b.relu(b.input("x", kF32, {2})));
  try {
    compile_program(b.finish(), {.backends = {"tpu-v9"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("tpu-v9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();
  }
}

KernelFn no_kernels(const Graph&, ValueId) { return nullptr; }

TEST(Scheduler, UnsupportedNodeNamesBackendNodeAndTypes) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 3});
  b.output(b.emit(OpKind::kExp, {x}, {}, "my_exp"));
  try {
    compile_with_kernels(b.finish(), {}, no_kernels, "empty");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(m.find("'empty'"), std::string::npos) << m;
    EXPECT_NE(m.find("my_exp"), std::string::npos) << m;
    EXPECT_NE(m.find("f32[2, 3]"), std::string::npos) << m;
  }
}

TEST(Scheduler, WrongInputShapeIsAClearError) {
  GraphBuilder b;
  b.output(b.relu(b.input("pixels", kF32, {kDynamic, 4})));
  Program p = compile_program(b.finish(), {.batch = 2});
  Tensor bad = Tensor::zeros(kF32, {2, 5});
  try {
    p.run({&bad, 1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("pixels"), std::string::npos) << m;
    EXPECT_NE(m.find("f32[2, 4]"), std::string::npos) << m;
    EXPECT_NE(m.find("f32[2, 5]"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace tessera
