// The cuda backend and device selection. Without a GPU (or without CUDA in the build) the
// tests that need one skip; the rest check what must hold everywhere: "auto" is the cpu
// without a GPU, "cuda" fails clearly, supports() answers, the registry lists cuda exactly
// in CUDA builds.
#include "tessera/backends/cuda/cuda_backend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tessera/backends/device_select.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

bool have_gpu() { return !gpu_devices().empty(); }

#define REQUIRE_GPU()                                                                 \
  do {                                                                                \
    if (!kHaveCudaBackend) GTEST_SKIP() << "no GPU: this build has no CUDA backend";  \
    if (!have_gpu()) GTEST_SKIP() << "no GPU: the CUDA runtime finds no device here"; \
  } while (0)

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Model tiny_model() {
  return Sequential({Dense(4, {.activation = "relu", .input_shape = Shape{3}}), Dense(2)});
}

TEST(DeviceSelection, AutoIsCpuWithoutAGpu) {
  std::vector<std::string> b = backends_for_device("auto");
  if (have_gpu())
    EXPECT_EQ(b, (std::vector<std::string>{"cuda", "cpu"}));
  else
    EXPECT_EQ(b, std::vector<std::string>{"cpu"});
  EXPECT_EQ(backends_for_device("cpu"), std::vector<std::string>{"cpu"});
}

TEST(DeviceSelection, CudaWithoutAGpuIsAClearError) {
  if (kHaveCudaBackend && have_gpu()) GTEST_SKIP() << "this machine has a GPU";
  std::string msg = error_of([] { backends_for_device("cuda"); });
  EXPECT_NE(msg.find("device 'cuda'"), std::string::npos) << msg;
  EXPECT_TRUE(msg.find("no CUDA device") != std::string::npos ||
              msg.find("no CUDA backend") != std::string::npos)
      << msg;
}

TEST(DeviceSelection, UnknownDeviceListsTheNames) {
  std::string msg = error_of([] { backends_for_device("tpu"); });
  EXPECT_NE(msg.find("unknown device 'tpu'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cpu, cuda or auto"), std::string::npos) << msg;
}

TEST(DeviceSelection, CompileAppliesTheDevice) {
  Model m = tiny_model();
  m.compile({.loss = "mse", .device = "auto"});
  if (have_gpu())
    EXPECT_EQ(m.compile_config().backends, (std::vector<std::string>{"cuda", "cpu"}));
  else
    EXPECT_EQ(m.compile_config().backends, std::vector<std::string>{"cpu"});
  m.compile({.loss = "mse", .device = "cpu"});
  EXPECT_EQ(m.compile_config().backends, std::vector<std::string>{"cpu"});
  if (!have_gpu()) {
    std::string msg = error_of([&] { m.compile({.loss = "mse", .device = "cuda"}); });
    EXPECT_NE(msg.find("compile: device 'cuda'"), std::string::npos) << msg;
    EXPECT_EQ(m.compile_config().backends, std::vector<std::string>{"cpu"})
        << "a failed compile leaves the model as it was";
  }
}

TEST(CudaBackend, RegisteredExactlyInCudaBuilds) {
  std::vector<std::string> names = backend_registry().names();
  bool listed = std::find(names.begin(), names.end(), "cuda") != names.end();
  EXPECT_EQ(listed, kHaveCudaBackend);
}

TEST(CudaBackend, GpuDevicesDescribeTheirHardware) {
  for (const GpuDeviceInfo& d : gpu_devices()) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GE(d.compute_major, 7);
    EXPECT_GT(d.sm_count, 0);
    EXPECT_GT(d.memory_bytes, 0);
  }
}

#ifdef TESSERA_HAVE_CUDA

// supports() is a property of the graph: it answers on any machine.
TEST(CudaBackend, SupportsAnswersWithoutAGpu) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4, 8});
  ValueId w = b.input("w", kF32, {8, 3});
  ValueId i = b.input("i", kI32, {4});
  ValueId img = b.input("img", kF32, {1, 4, 4, 2});
  ValueId mm = b.matmul(x, w);
  ValueId sm = b.softmax(b.cast(mm, kBF16), -1);
  ValueId idiv = b.div(i, i);
  ValueId pool = b.max_pool2d(img, {2, 2}, {2, 2}, {0, 0, 0, 0});
  ValueId fx = b.cast(b.input("fx", kF32, {4}), kF32);
  b.output(sm);
  b.output(idiv);
  b.output(pool);
  b.output(fx);
  Graph g = b.finish();
  Backend& cuda = backend_registry().get("cuda");
  EXPECT_TRUE(cuda.supports(g, mm));
  EXPECT_TRUE(cuda.supports(g, sm));
  EXPECT_FALSE(cuda.supports(g, idiv)) << "integer division reports division by zero on the cpu";
  EXPECT_FALSE(cuda.supports(g, pool)) << "pooling runs on the cpu";
  EXPECT_FALSE(cuda.supports(g, x)) << "leaves are nobody's work";
}

TEST(CudaBackend, CompileWithoutAGpuSaysSo) {
  if (have_gpu()) GTEST_SKIP() << "this machine has a GPU";
  GraphBuilder b;
  b.output(b.relu(b.input("x", kF32, {4})));
  Graph g = b.finish();
  std::string msg = error_of([&] { backend_registry().get("cuda").compile(g, {}); });
  EXPECT_NE(msg.find("no CUDA device"), std::string::npos) << msg;
}

TEST(CudaBackend, BadMatmulOptionIsRejected) {
  std::string msg = error_of([] { make_cuda_backend({.matmul = "fp8"}); });
  EXPECT_NE(msg.find("matmul mode 'fp8'"), std::string::npos) << msg;
}

#endif  // TESSERA_HAVE_CUDA

// ---- on a GPU ---------------------------------------------------------------------------

// Inputs in, outputs out, at the graph's edges only; values match the cpu.
TEST(CudaExecutable, EdgesMatchTheCpu) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 5});
  ValueId w = b.parameter("w", Tensor::full(kF32, {5, 3}, 0.25));
  b.output(b.softmax(b.gelu(b.matmul(x, w)), -1));
  Graph g = b.finish();
  Tensor xv = Tensor::zeros(kF32, {7, 5});
  for (int64_t k = 0; k < xv.numel(); ++k) xv.set(k, std::sin(0.3 * static_cast<double>(k)));
  Program cpu = compile_program(g, {.batch = 7, .backends = {"cpu"}});
  Program gpu = compile_program(g, {.batch = 7, .backends = {"cuda"}});
  EXPECT_EQ(gpu.assignment()[g.outputs()[0]], "cuda");
  Tensor want = cpu.run(std::vector<Tensor>{xv})[0].clone();
  for (int rep = 0; rep < 2; ++rep) {
    const Tensor& got = gpu.run(std::vector<Tensor>{xv})[0];
    for (int64_t k = 0; k < want.numel(); ++k) EXPECT_NEAR(got.get(k), want.get(k), 1e-5);
  }
}

// Updates reach the host tensors when the step ends; host-side writes reach the device.
TEST(CudaExecutable, ParametersAreWrittenBackAndReuploaded) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {4});
  Tensor host = Tensor::full(kF32, {4}, 1.0);
  ValueId p = b.parameter("p", host);
  ValueId next = b.add(p, x);
  b.update(p, next);
  b.output(b.reduce_sum(next, {}));
  Graph g = b.finish();
  Program prog = compile_program(g, {.batch = 1, .backends = {"cuda"}});
  Tensor ones = Tensor::full(kF32, {4}, 1.0);
  EXPECT_FLOAT_EQ(prog.run(std::vector<Tensor>{ones})[0].get(0), 8.f);
  EXPECT_FLOAT_EQ(host.get(0), 2.f) << "the update is written into the host tensor";
  EXPECT_FLOAT_EQ(prog.run(std::vector<Tensor>{ones})[0].get(0), 12.f)
      << "the device copy stayed current";
  host.copy_from(Tensor::full(kF32, {4}, 10.0));  // set_weights, a checkpoint load, …
  EXPECT_FLOAT_EQ(prog.run(std::vector<Tensor>{ones})[0].get(0), 44.f)
      << "the host write was uploaded";
  EXPECT_FLOAT_EQ(host.get(3), 11.f);
}

TEST(CudaExecutable, BadIndexNamesTheNode) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId table = b.input("table", kF32, {5, 2});
  ValueId idx = b.input("idx", kI32, {3});
  b.output(b.gather(table, idx, 0));
  Graph g = b.finish();
  Program prog = compile_program(g, {.batch = 1, .backends = {"cuda"}});
  std::string msg = error_of([&] {
    prog.run(std::vector<Tensor>{Tensor::zeros(kF32, {5, 2}),
                                 Tensor::from_vector<int>({0, 9, 1}, {3}, kI32)});
  });
  EXPECT_NE(msg.find("index 9 at position 1"), std::string::npos) << msg;
}

TEST(CudaExecutable, OutOfDeviceMemoryNamesTheArena) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {1});
  // 2^45 floats: 128 TiB of intermediate, far past any GPU.
  ValueId big = b.broadcast(x, Shape{int64_t{1} << 25, int64_t{1} << 20});
  b.output(b.reduce_sum(b.exp(big), {}));
  Graph g = b.finish();
  try {
    compile_program(g, {.batch = 1, .backends = {"cuda"}});
    ADD_FAILURE() << "compiling a 128 TiB arena succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfMemory) << e.what();
    EXPECT_NE(std::string(e.what()).find("arena"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bytes"), std::string::npos) << e.what();
  }
}

TEST(CudaExecutable, ProfileTimesEveryNode) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {64, 64});
  b.output(b.tanh(b.matmul(x, x)));
  Graph g = b.finish();
  std::unique_ptr<Executable> exe = backend_registry().get("cuda").compile(g, {});
  std::vector<NodeTime> t = exe->profile(std::vector<Tensor>{Tensor::full(kF32, {64, 64}, 0.1)});
  ASSERT_NE(exe->compiled_graph(), nullptr);
  EXPECT_EQ(t.size(), 2u);
  for (const NodeTime& n : t) EXPECT_GE(n.seconds, 0.0);
  EXPECT_NEAR(exe->run(std::vector<Tensor>{Tensor::full(kF32, {64, 64}, 0.1)})[0].get(0),
              std::tanh(64 * 0.01), 1e-5);
}

// Each output on the cuda backend equals the cpu's bit for bit (exact cases only).
void expect_same_as_cpu(const Graph& g, const std::vector<Tensor>& inputs) {
  Program cpu = compile_program(g, {.batch = 1, .backends = {"cpu"}});
  Program gpu = compile_program(g, {.batch = 1, .backends = {"cuda"}});
  std::vector<Tensor> want;
  for (const Tensor& t : cpu.run(inputs)) want.push_back(t.clone());
  const std::vector<Tensor>& got = gpu.run(inputs);
  ASSERT_EQ(got.size(), want.size());
  for (size_t o = 0; o < want.size(); ++o) {
    ASSERT_EQ(got[o].nbytes(), want[o].nbytes());
    for (int64_t k = 0; k < want[o].numel(); ++k)
      EXPECT_EQ(got[o].get(k), want[o].get(k)) << "output " << o << ", element " << k;
  }
}

// i64 -> f32/bf16/f16 rounds once from the integer: 2^60 + 2^36 + 1 is just above the f32
// halfway point 2^60 + 2^36, which a detour through double would round onto (then to even).
TEST(CudaExecutable, WideIntegersCastWithOneRounding) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kI64, {4});
  b.output(b.cast(x, kF32));
  b.output(b.cast(x, kBF16));
  b.output(b.cast(x, kF16));
  Graph g = b.finish();
  const int64_t big = (int64_t{1} << 60) + (int64_t{1} << 36) + 1;
  const int64_t mid = (int64_t{1} << 40) + (int64_t{1} << 32) + 1;  // bf16's halfway, plus 1
  expect_same_as_cpu(g, {Tensor::from_vector<int64_t>({big, -big, mid, 65519}, {4}, kI64)});
}

TEST(CudaExecutable, PermuteTakesNegativeAxes) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {2, 3, 4});
  b.output(b.permute(x, {-1, 0, -2}));
  Graph g = b.finish();
  Tensor xv = Tensor::zeros(kF32, {2, 3, 4});
  for (int64_t k = 0; k < xv.numel(); ++k) xv.set(k, static_cast<double>(k));
  expect_same_as_cpu(g, {xv});
}

// K = 0: zeros, written on the executable's stream before the next node reads them.
TEST(CudaExecutable, EmptyMatmulIsZeros) {
  REQUIRE_GPU();
  GraphBuilder b;
  ValueId a = b.input("a", kF32, {3, 0});
  ValueId c = b.input("c", kF32, {0, 4});
  ValueId y = b.add(b.matmul(a, c), b.input("z", kF32, {3, 4}));
  b.output(y);
  Graph g = b.finish();
  for (int rep = 0; rep < 3; ++rep)
    expect_same_as_cpu(g, {Tensor::zeros(kF32, {3, 0}), Tensor::zeros(kF32, {0, 4}),
                           Tensor::full(kF32, {3, 4}, 1.5)});
}

// Every convolution call, with symmetric and asymmetric pads and groups: cuDNN's chosen
// algorithms run with the workspace asked for with our descriptors.
TEST(CudaExecutable, ConvolutionsMatchTheCpu) {
  REQUIRE_GPU();
  for (bool asym : {false, true}) {
    SCOPED_TRACE(asym ? "asymmetric pads" : "symmetric pads");
    const std::vector<int64_t> pads =
        asym ? std::vector<int64_t>{0, 1, 1, 0} : std::vector<int64_t>{1, 1, 1, 1};
    GraphBuilder b;
    ValueId x = b.input("x", kF32, {2, 6, 5, 4});
    ValueId w = b.input("w", kF32, {3, 3, 2, 6});
    ValueId y = b.conv2d(x, w, {1, 1}, pads, {1, 1}, 2);
    ValueId dy = b.input("dy", kF32, b.shape(y));
    b.output(y);
    b.output(b.conv2d_backprop_input(dy, w, Shape{6, 5, 4}, {1, 1}, pads, {1, 1}, 2));
    b.output(b.conv2d_backprop_filter(x, dy, Shape{3, 3, 2, 6}, {1, 1}, pads, {1, 1}, 2));
    Graph g = b.finish();
    std::vector<Tensor> in;
    for (ValueId id : g.inputs()) {
      Tensor t = Tensor::zeros(kF32, g.type(id).shape);
      // Small integers: every product and sum is exact in f32, whatever the order.
      for (int64_t k = 0; k < t.numel(); ++k) t.set(k, static_cast<double>((k * 7 + id) % 5) - 2);
      in.push_back(t);
    }
    Program cpu = compile_program(g, {.batch = 1, .backends = {"cpu"}});
    Program gpu = compile_program(g, {.batch = 1, .backends = {"cuda"}});
    std::vector<Tensor> want;
    for (const Tensor& t : cpu.run(in)) want.push_back(t.clone());
    const std::vector<Tensor>& got = gpu.run(in);
    for (size_t o = 0; o < want.size(); ++o)
      for (int64_t k = 0; k < want[o].numel(); ++k)
        EXPECT_EQ(got[o].get(k), want[o].get(k)) << "output " << o << ", element " << k;
  }
}

}  // namespace
}  // namespace tessera
