// Convolutional models end to end, quickly: mnist-cnn's loss falls on a slice of
// Fashion-MNIST, resnet-small trains and moves its BatchNormalization statistics, the cpu
// backend agrees with the ref oracle on a CNN with every conv and pool op, training is
// identical on 1 and 2 threads, and a CNN's training step allocates nothing. (The 90 %
// quality bar of mnist-cnn is tests/e2e/slow/.)
#include <gtest/gtest.h>

#include <cmath>

#include "../support/heap_allocations.h"
#include "tessera/cli/model_spec.h"
#include "tessera/core/thread_pool.h"
#include "tessera/data/loaders.h"
#include "tessera/nn/conv_layers.h"
#include "tessera/nn/layers.h"
#include "tessera/nn/normalization.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

Model zoo_model(const std::string& name) {
  cli::ModelSpec spec = cli::zoo_spec(name);
  Model m = cli::build_model(spec, 0);
  m.compile(*spec.compile);
  return m;
}

std::vector<float> weights(const Model& m) {
  std::vector<float> all;
  for (const Tensor& t : m.get_weights()) {
    auto v = t.to_f32_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

// Synthetic 8x8 images with 2 channels whose class is the quadrant holding a bright blob.
Dataset blobs(int64_t n, uint64_t seed) {
  Rng rng(seed);
  Tensor x = Tensor::zeros(kF32, {n, 8, 8, 2});
  Tensor y = Tensor::zeros(kI32, {n});
  for (int64_t i = 0; i < n; ++i) {
    int64_t cls = static_cast<int64_t>(rng.next_below(4));
    y.set(i, static_cast<double>(cls));
    for (int64_t p = 0; p < 128; ++p) {
      int64_t h = p / 16, w = (p / 2) % 8;
      bool inside = (h / 4) * 2 + (w / 4) == cls;
      x.set(i * 128 + p, (inside ? 1.0 : 0.0) + 0.3 * rng.next_uniform());
    }
  }
  return {x, y, "blobs"};
}

// Every conv and pool op and BatchNormalization, on 8x8x2 images.
Model small_cnn() {
  auto x = Input({8, 8, 2});
  auto h = Conv2D(6, {3}, {.padding = "same", .use_bias = false})(x);
  h = BatchNormalization()(h);
  h = Activation("relu")(h);
  h = DepthwiseConv2D({3}, {.strides = {2}, .padding = "same", .depth_multiplier = 2})(h);
  h = MaxPool2D({2, 2}, {.strides = {1, 1}, .padding = "same"})(h);
  h = Conv2D(8, {1}, {.groups = 2, .activation = "relu"})(h);
  h = AveragePool2D({2})(h);
  auto y = Dense(4, {.activation = "softmax"})(GlobalAveragePooling2D()(h));
  return Model({x}, {y}, "small_cnn");
}

TEST(ConvTraining, MnistCnnLossFallsOnASlice) {
  Dataset train = load_fashion_mnist("train").slice(0, 2048);
  Model m = zoo_model("mnist-cnn");
  History h = m.fit(train, {.epochs = 2, .batch_size = 64, .seed = 1, .verbose = 0});
  const auto& loss = h.history.at("loss");
  EXPECT_LT(loss.back(), 0.8 * loss.front());
  EXPECT_GT(h.history.at("accuracy").back(), 0.6);
}

TEST(ConvTraining, ResnetSmallTrainsAndMovesItsStatistics) {
  Dataset train = load_fashion_mnist("train").slice(0, 512);
  Model m = zoo_model("resnet-small");
  std::vector<float> before = weights(m);
  History h = m.fit(train, {.epochs = 2, .batch_size = 64, .seed = 1, .verbose = 0});
  const auto& loss = h.history.at("loss");
  EXPECT_LT(loss.back(), loss.front());
  // Every BatchNormalization's moving mean has left its zero start.
  int moved = 0, stats = 0;
  for (const VariablePtr& v : m.net().variables()) {
    if (v->name.find("moving_mean") == std::string::npos) continue;
    ++stats;
    moved += v->value.get(0) != 0.0;
  }
  EXPECT_EQ(stats, 9);
  EXPECT_EQ(moved, stats);
  Tensor p = m.predict(train.x.contiguous().reshape(Shape{512, 28, 28}), 128);
  EXPECT_EQ(p.shape(), (Shape{512, 10}));
  EXPECT_TRUE(std::isfinite(p.get(0)));
}

TEST(ConvTraining, CpuAgreesWithReference) {
  Dataset data = blobs(64, 3);
  auto train = [&](const std::string& backend) {
    Model m = small_cnn();
    m.compile({.optimizer = "adam",
               .loss = "sparse_categorical_crossentropy",
               .metrics = {"accuracy"},
               .backends = {backend}});
    double loss = m.fit(data, {.epochs = 2, .batch_size = 16, .seed = 2, .verbose = 0})
                      .history.at("loss")
                      .back();
    return std::pair{loss, weights(m)};
  };
  auto [loss_cpu, w_cpu] = train("cpu");
  auto [loss_ref, w_ref] = train("ref");
  EXPECT_NEAR(loss_cpu, loss_ref, 1e-4 * std::abs(loss_ref));
  ASSERT_EQ(w_cpu.size(), w_ref.size());
  for (size_t i = 0; i < w_cpu.size(); ++i) ASSERT_NEAR(w_cpu[i], w_ref[i], 2e-4) << "weight " << i;
}

TEST(ConvTraining, DeterministicAcrossThreadCounts) {
  Dataset train = load_fashion_mnist("train").slice(0, 512);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Model m = zoo_model("mnist-cnn");
    m.fit(train, {.epochs = 1, .batch_size = 128, .seed = 4, .verbose = 0});
    return weights(m);
  };
  int saved = num_threads();
  auto one = run(1), two = run(2), again = run(2);
  set_num_threads(saved);
  EXPECT_EQ(two, again);
  EXPECT_EQ(one, two);
}

TEST(ConvTraining, FitAllocatesNothingPerStep) {
  Model m = small_cnn();
  m.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  Dataset small = blobs(4 * 16, 1), large = blobs(16 * 16, 2);
  auto epoch = [&](const Dataset& d) {
    return [&m, &d] { m.fit(d, {.epochs = 1, .batch_size = 16, .seed = 3, .verbose = 0}); };
  };
  epoch(small)();  // compiles the step program for batch 16
  int64_t four_steps = 0, sixteen_steps = 0;
  EXPECT_TRUE(test_support::allocations_settle(epoch(small), epoch(large), &four_steps,
                                               &sixteen_steps))
      << "allocations grow with the number of steps: " << four_steps << " for 4 steps, "
      << sixteen_steps << " for 16";
}

}  // namespace
}  // namespace tessera
