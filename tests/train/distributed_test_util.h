// Shared by the strategy tests (tests/train, tests/mpi): a small model trained a few steps
// under a given strategy, and comparisons of the resulting weights.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera::testing_distributed {

struct RunOptions {
  std::string strategy = "default";
  int replicas = 2;
  bool deterministic = false;
  std::string optimizer = "adam";
  int64_t batch_size = 16;
  int epochs = 2;
  int64_t samples = 120;  // 120 / 16: a last batch of 8
  bool dropout = false;
  int64_t accumulation = 0;
  double global_clipnorm = 0;
  double timeout = 30;
};

inline Sequential distributed_model(bool dropout) {
  std::vector<LayerPtr> layers = {Dense(24, {.activation = "relu", .input_shape = Shape{12}})};
  if (dropout) layers.push_back(Dropout(0.2));
  layers.push_back(Dense(5, {.activation = "softmax"}));
  return Sequential(layers, "dp", /*seed=*/3);
}

inline CompileConfig distributed_config(const RunOptions& o) {
  CompileConfig c{.optimizer = o.optimizer,
                  .optimizer_options = {.learning_rate = 0.01},
                  .loss = "sparse_categorical_crossentropy",
                  .metrics = {"accuracy"}};
  c.optimizer_options.gradient_accumulation_steps = o.accumulation;
  c.optimizer_options.global_clipnorm = o.global_clipnorm;
  c.strategy = o.strategy;
  c.replicas = o.replicas;
  c.deterministic = o.deterministic;
  c.timeout_seconds = o.timeout;
  return c;
}

// The weights (model and optimizer state) after training.
inline std::vector<Tensor> train_weights(const RunOptions& o, History* history = nullptr) {
  Sequential model = distributed_model(o.dropout);
  model.compile(distributed_config(o));
  Dataset data = synthetic_classification(11, o.samples, 12, 5);
  History h =
      model.fit(data, {.epochs = o.epochs, .batch_size = o.batch_size, .seed = 4, .verbose = 0});
  if (history) *history = h;
  std::vector<Tensor> out = model.get_weights();
  for (const VariablePtr& v : model.optimizer()->variables()) out.push_back(v->value.clone());
  return out;
}

inline void expect_bit_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].nbytes(), b[i].nbytes());
    EXPECT_EQ(std::memcmp(a[i].raw_data(), b[i].raw_data(), a[i].nbytes()), 0)
        << "tensor " << i << " differs";
  }
}

inline void expect_close(const std::vector<Tensor>& a, const std::vector<Tensor>& b,
                         double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].numel(), b[i].numel());
    double worst = 0;
    for (int64_t k = 0; k < a[i].numel(); ++k)
      worst = std::max(worst,
                       std::abs(a[i].get(k) - b[i].get(k)) / std::max(1.0, std::abs(b[i].get(k))));
    EXPECT_LE(worst, tolerance) << "tensor " << i;
  }
}

}  // namespace tessera::testing_distributed
