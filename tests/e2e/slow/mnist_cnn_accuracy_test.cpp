// mnist-cnn's quality goal: >= 90 % test accuracy on Fashion-MNIST after 2 epochs. The
// recipe: batch 32 (Keras' default), Adam with learning rate 0.002 decayed to 0 along a
// cosine over the 2 epochs' 3750 steps. (Keras' constant 0.001 lands at 89.9–90.5 % for
// seeds 0–2, too close to the bar; the decayed rate gives 91.1 %: docs/benchmarks.md.)
// About a minute on two cores, hence the `slow` label; bench/peers/tessera_bench.cpp
// --model cnn measures the same goal next to PyTorch.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tessera/cli/model_spec.h"
#include "tessera/data/loaders.h"
#include "tessera/train/model.h"
#include "tessera/train/schedules.h"

namespace tessera {
namespace {

TEST(SlowTraining, MnistCnnReaches90PercentInTwoEpochs) {
  Dataset train = load_fashion_mnist("train");
  Dataset test = load_fashion_mnist("test");
  cli::ModelSpec spec = cli::zoo_spec("mnist-cnn");
  Model m = cli::build_model(spec, 0);
  CompileConfig config = *spec.compile;
  config.optimizer_options.learning_rate = 0.002;
  config.optimizer_options.schedule = cosine_decay(0.002, /*decay_steps=*/2 * 1875);
  m.compile(config);
  auto t0 = std::chrono::steady_clock::now();
  m.fit(train, {.epochs = 2, .batch_size = 32, .seed = 1, .verbose = 2});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double acc = m.evaluate(test.x, test.y, 512).at("accuracy");
  std::printf("mnist-cnn: test accuracy %.4f after 2 epochs in %.1f s\n", acc, secs);
  EXPECT_GE(acc, 0.90);
}

}  // namespace
}  // namespace tessera
