// End to end through the Keras-style API: a model from the zoo trains to high accuracy, the
// cpu backend agrees with the ref oracle, and training is deterministic across runs and
// thread counts (shuffling and dropout included).
#include <gtest/gtest.h>

#include <chrono>

#include "tessera/cli/model_spec.h"
#include "tessera/core/thread_pool.h"
#include "tessera/data/loaders.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

CompileConfig adam_accuracy() { return {.optimizer = "adam", .metrics = {"accuracy"}}; }

std::vector<float> weights(const Model& m) {
  std::vector<float> all;
  for (const Tensor& t : m.get_weights()) {
    auto v = t.to_f32_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

Model zoo_model(const std::string& name, const std::vector<std::string>& backends = {"cpu"}) {
  cli::ModelSpec spec = cli::zoo_spec(name);
  Model m = cli::build_model(spec, 0);
  CompileConfig c = *spec.compile;
  c.backends = backends;
  m.compile(c);
  return m;
}

TEST(ModelTraining, SeedMlpReachesHighAccuracyOnSyntheticData) {
  Dataset all = synthetic_classification(7, 5000);
  auto [train, test] = all.split(0.8);
  Model m = zoo_model("seed-mlp");
  History h = m.fit(train, {.epochs = 5, .batch_size = 32, .seed = 1, .verbose = 0});
  ASSERT_EQ(h.history.at("loss").size(), 5u);
  EXPECT_LT(h.history.at("loss").back(), h.history.at("loss").front());
  EXPECT_GE(m.evaluate(test.x, test.y).at("accuracy"), 0.95);
}

TEST(ModelTraining, CpuAgreesWithReference) {
  Dataset data = synthetic_classification(3, 512);
  Model on_cpu = zoo_model("seed-mlp", {"cpu"});
  Model on_ref = zoo_model("seed-mlp", {"ref"});
  FitOptions fit{.epochs = 1, .batch_size = 64, .seed = 2, .verbose = 0};
  double loss_cpu = on_cpu.fit(data, fit).history.at("loss")[0];
  double loss_ref = on_ref.fit(data, fit).history.at("loss")[0];
  EXPECT_NEAR(loss_cpu, loss_ref, 1e-4 * std::abs(loss_ref));
  auto a = weights(on_cpu), b = weights(on_ref);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << "weight " << i;
}

TEST(ModelTraining, DeterministicAcrossRunsAndThreadCounts) {
  Dataset data = synthetic_classification(5, 1000);  // 31 full batches of 32 + a partial one
  auto train = [&](int threads) {
    set_num_threads(threads);
    Sequential m({Dense(64, {.activation = "relu", .input_shape = Shape{32}}), Dropout(0.3),
                  Dense(10, {.activation = "softmax"})});
    m.compile(adam_accuracy());
    m.fit(data, {.epochs = 2, .batch_size = 32, .seed = 4, .verbose = 0});
    return weights(m);
  };
  int saved = num_threads();
  auto one = train(1), two = train(2), again = train(2);
  set_num_threads(saved);
  EXPECT_EQ(two, again);
  EXPECT_EQ(one, two);
}

// The quality bar: mnist-mlp reaches 88 % test accuracy on Fashion-MNIST in 10
// epochs (about 30 s on two cores).
TEST(ModelTraining, MnistMlpReaches88PercentOnFashionMnist) {
  Dataset train = load_fashion_mnist("train");
  Dataset test = load_fashion_mnist("test");
  Model m = zoo_model("mnist-mlp");
  auto t0 = std::chrono::steady_clock::now();
  m.fit(train, {.epochs = 10, .batch_size = 128, .seed = 1, .verbose = 2});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double acc = m.evaluate(test.x, test.y, 512).at("accuracy");
  std::printf("mnist-mlp: test accuracy %.4f after 10 epochs in %.1f s\n", acc, secs);
  EXPECT_GE(acc, 0.88);
}

}  // namespace
}  // namespace tessera
