// Shared fixtures of the train tests: the seed model and its synthetic data.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/data/dataset.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera::train_test {

// The seed's model: Dense(64, relu, input 32) -> Dense(10, softmax).
inline Sequential seed_model(uint64_t seed = 1) {
  return Sequential({Dense(64, {.activation = "relu", .input_shape = Shape{32}}),
                     Dense(10, {.activation = "softmax"})},
                    "sequential", seed);
}

inline CompileConfig seed_config(std::string optimizer = "adam") {
  return {.optimizer = std::move(optimizer),
          .loss = "sparse_categorical_crossentropy",
          .metrics = {"accuracy"}};
}

inline std::vector<std::vector<float>> weights_of(const Model& m) {
  std::vector<std::vector<float>> out;
  for (const Tensor& t : m.get_weights()) out.push_back(t.to_f32_vector());
  return out;
}

// Runs `f` and returns the Error's message (fails the test when nothing is thrown).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return {};
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace tessera::train_test
