// End to end: a training step built from the IR (forward, autodiff, SGD updates as graph
// nodes) trains a real model on the cpu backend, agrees with the ref oracle, and is
// deterministic across runs and thread counts.
#include <gtest/gtest.h>

#include "tessera/cli/demo_model.h"
#include "tessera/core/thread_pool.h"

namespace tessera {
namespace {

std::vector<float> weights(const DemoModel& m) {
  std::vector<float> all;
  for (const Tensor* t : {&m.w1, &m.b1, &m.w2, &m.b2}) {
    auto v = t->to_f32_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

TEST(DemoTraining, ReachesHighAccuracyOnCpu) {
  DemoData data = make_demo_data(7, 4096, 1024);
  DemoModel model(7, 64);
  DemoTrainer trainer(model, {.batch = 32, .learning_rate = 0.05});
  double first = trainer.train_epoch(data.train_x, data.train_y);
  double last = first;
  for (int epoch = 1; epoch < 5; ++epoch) last = trainer.train_epoch(data.train_x, data.train_y);
  EXPECT_LT(last, first);
  EXPECT_GE(trainer.accuracy(data.test_x, data.test_y), 0.95);
}

TEST(DemoTraining, CpuAgreesWithReference) {
  DemoData data = make_demo_data(3, 512, 64);
  DemoModel on_cpu(3, 16), on_ref(3, 16);
  DemoTrainer cpu(on_cpu, {.batch = 64, .backends = {"cpu"}});
  DemoTrainer ref(on_ref, {.batch = 64, .backends = {"ref"}});
  double loss_cpu = cpu.train_epoch(data.train_x, data.train_y);
  double loss_ref = ref.train_epoch(data.train_x, data.train_y);
  EXPECT_NEAR(loss_cpu, loss_ref, 1e-4 * std::abs(loss_ref));
  auto a = weights(on_cpu), b = weights(on_ref);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << "weight " << i;
}

TEST(DemoTraining, DeterministicAcrossRunsAndThreadCounts) {
  DemoData data = make_demo_data(5, 1000, 10);  // 1000 = 31 full batches + a partial one
  auto train = [&](int threads) {
    set_num_threads(threads);
    DemoModel m(5, 32);
    DemoTrainer t(m, {.batch = 32});
    t.train_epoch(data.train_x, data.train_y);
    return weights(m);
  };
  int saved = num_threads();
  auto one = train(1), two = train(2), again = train(2);
  set_num_threads(saved);
  EXPECT_EQ(two, again);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace tessera
