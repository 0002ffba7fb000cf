// Model's compiled state, shared by the files that implement Model (compile, fit,
// evaluate/predict). Not a public header.
#pragma once

#include <map>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/train/model.h"

namespace tessera {

struct Model::Compiled {
  TensorType input_type;    // [N, ...] (N = kDynamic)
  TensorType output_type;   // [N, ...]
  TensorType target_type;   // [N, ...], from the loss (set when compiled)
  int64_t num_classes = 0;  // integer targets: labels must lie in [0, num_classes)

  uint64_t train_seed = 0;  // the seed random layers (dropout) were emitted with
  Graph train_graph;        // x, y, sample_weight, step -> loss, y_pred; updates
  Graph eval_graph;         // x, y -> per-sample loss, y_pred
  Graph predict_graph;      // x -> y_pred
  // The split step of the strategies (built when strategy != "default" or deterministic):
  // x, y, sample_weight, step -> loss, y_pred, one f32 gradient per grad_variables entry;
  // and those gradients -> the optimizer's updates.
  Graph grad_graph;
  Graph apply_graph;
  std::vector<VariablePtr> grad_variables;
  std::vector<std::string> backends = {"cpu"};
  std::map<int64_t, Program> train_programs, eval_programs, predict_programs, apply_programs;

  // Host buffers reused across steps, per batch size.
  std::map<int64_t, Tensor> ones, class_weights;
  Tensor step = Tensor::scalar(0, kI64);

  Program& program(std::map<int64_t, Program>& cache, const Graph& g, int64_t batch) {
    auto it = cache.find(batch);
    if (it == cache.end())
      it = cache.emplace(batch, compile_program(g, {.batch = batch, .backends = backends})).first;
    return it->second;
  }
};

// Rows [begin, begin + n) of a contiguous tensor, as a view (no copy).
Tensor rows(const Tensor& t, int64_t begin, int64_t n);

// Keras' class_weight as per-sample weights: the class of each row of y (label, arg-max of a
// one-hot row, rounded binary target) mapped to its weight (1 when absent).
void fill_class_weights(const Tensor& y, const std::map<int64_t, double>& class_weight,
                        Tensor& out);

}  // namespace tessera
