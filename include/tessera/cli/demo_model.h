// The demo's model: a two-layer perceptron on the seed's synthetic task (32 features,
// 10 classes), trained with SGD + momentum whose updates are graph nodes. It exercises the
// whole engine — builder, autodiff, passes, memory planner, scheduler, backends — until
// the Keras-style nn/train modules take over.
//
//   DemoData data = make_demo_data(/*seed=*/7, 4096, 1024);
//   DemoModel m(/*seed=*/7, /*hidden=*/64);
//   DemoTrainer t(m, {.batch = 32, .learning_rate = 0.05, .backends = {"cpu"}});
//   float loss = t.train_epoch(data.train_x, data.train_y, /*epoch=*/0);
//   double acc = t.accuracy(data.test_x, data.test_y);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/ir/graph.h"

namespace tessera {

struct DemoData {
  Tensor train_x, train_y, test_x, test_y;  // f32 [n, 32], i32 [n]
};

// Gaussian clusters around 10 random centres in 32 dimensions; deterministic in `seed`.
DemoData make_demo_data(uint64_t seed, int64_t train_size, int64_t test_size);

struct DemoModel {
  DemoModel(uint64_t seed, int64_t hidden);
  int64_t features = 32, classes = 10;
  Tensor w1, b1, w2, b2;        // weights (glorot-uniform kernels, zero biases)
  Tensor v_w1, v_b1, v_w2, v_b2;  // momentum buffers
};

struct DemoTrainerOptions {
  int64_t batch = 32;
  double learning_rate = 0.05;
  double momentum = 0.9;
  std::vector<std::string> backends = {"cpu"};
};

class DemoTrainer {
 public:
  DemoTrainer(DemoModel& model, DemoTrainerOptions options);

  // One pass over the data in order (the data is pre-shuffled); returns the mean loss.
  // Throws Error when the loss becomes NaN or infinite.
  double train_epoch(const Tensor& x, const Tensor& y);
  double accuracy(const Tensor& x, const Tensor& y);

  const Graph& train_graph() const { return train_graph_; }
  int64_t arena_bytes() const;

 private:
  Program& program(std::map<int64_t, Program>& cache, const Graph& g, int64_t batch);

  DemoModel& model_;
  DemoTrainerOptions options_;
  Graph train_graph_;  // inputs x, y; outputs loss; updates for weights and momenta
  Graph eval_graph_;   // input x; output logits
  std::map<int64_t, Program> train_programs_, eval_programs_;
};

}  // namespace tessera
