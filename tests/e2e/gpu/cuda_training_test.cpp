// Training on the GPU reaches what the cpu reaches (label gpu; skipped without a GPU):
//   mnist-mlp on Fashion-MNIST (3 epochs): test accuracy within 1 point of the cpu's and at
//     least 85 %;
//   a small GPT on a learnable sequence: final training loss within 0.05 nats of the cpu's
//     and below 0.1 (chance is ln 16 = 2.77).
// The two runs start from the same weights and see the same batches; they differ only by
// floating-point order (cuBLAS, reductions, atomics in the embedding gradient).
#include <gtest/gtest.h>

#include <cmath>

#include "../e2e_test_util.h"
#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/backends/gpu_devices.h"
#include "tessera/cli/model_spec.h"
#include "tessera/nn/gpt.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

#define REQUIRE_GPU()                                                                      \
  do {                                                                                     \
    if (!kHaveCudaBackend) GTEST_SKIP() << "no GPU: this build has no CUDA backend";       \
    if (gpu_devices().empty()) GTEST_SKIP() << "no GPU: the CUDA runtime finds no device"; \
  } while (0)

double mnist_accuracy(const std::string& device, const Dataset& train, const Dataset& test) {
  cli::ModelSpec spec = cli::zoo_spec("mnist-mlp");
  Model m = cli::build_model(spec, 7);
  CompileConfig c = spec.compile.value_or(CompileConfig{});
  c.device = device;
  m.compile(c);
  m.fit(train, {.epochs = 3, .batch_size = 128, .seed = 1, .verbose = 0});
  return m.evaluate(test.x, test.y, 512).at("accuracy");
}

TEST(CudaTraining, MnistMlpMatchesTheCpuOnFashionMnist) {
  REQUIRE_GPU();
  std::optional<Dataset> train = e2e::fashion_mnist_if_installed("train");
  std::optional<Dataset> test = e2e::fashion_mnist_if_installed("test");
  if (!train || !test) GTEST_SKIP() << "Fashion-MNIST is not installed (see data/loaders.h)";
  const double cpu = mnist_accuracy("cpu", *train, *test);
  const double gpu = mnist_accuracy("cuda", *train, *test);
  std::printf("mnist-mlp, 3 epochs: cpu %.4f, cuda %.4f\n", cpu, gpu);
  EXPECT_GE(gpu, 0.85);
  EXPECT_NEAR(gpu, cpu, 0.01);
}

Dataset cycle_windows(int64_t n, int64_t t) {
  Tensor x = Tensor::zeros(kI32, {n, t}), y = Tensor::zeros(kI32, {n, t});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < t; ++k) {
      x.set(i * t + k, static_cast<double>((3 * (i + k)) % 16));
      y.set(i * t + k, static_cast<double>((3 * (i + k + 1)) % 16));
    }
  return {x, y, "cycle"};
}

double gpt_final_loss(const std::string& device) {
  GptConfig g;
  g.vocab_size = 16;
  g.context = 16;
  g.d_model = 32;
  g.num_heads = 4;
  g.num_layers = 2;
  g.dropout = 0.1;  // random_uniform on the device: the ref's values
  set_random_seed(3);
  Model m(make_gpt(g));
  CompileConfig c{.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"};
  c.optimizer_options.learning_rate = 3e-3;
  c.loss_options.from_logits = true;
  c.device = device;
  m.compile(c);
  History h =
      m.fit(cycle_windows(64, 16), {.epochs = 15, .batch_size = 16, .seed = 2, .verbose = 0});
  return h.history["loss"].back();
}

TEST(CudaTraining, SmallGptMatchesTheCpu) {
  REQUIRE_GPU();
  const double cpu = gpt_final_loss("cpu");
  const double gpu = gpt_final_loss("cuda");
  std::printf("gpt, 15 epochs: final loss cpu %.4f, cuda %.4f\n", cpu, gpu);
  EXPECT_LT(gpu, 0.1);
  EXPECT_NEAR(gpu, cpu, 0.05);
}

}  // namespace
}  // namespace tessera
