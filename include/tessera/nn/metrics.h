// Metrics, accumulated on the host from each batch's predictions, as Keras reports them.
//
//   auto acc = make_metric("accuracy", "sparse_categorical_crossentropy");
//   acc->update(y_pred, y_true, nullptr);
//   double a = acc->result();  acc->reset();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessera/core/tensor.h"

namespace tessera {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;  // "accuracy", "top_5_accuracy", "mse"
  // y_pred [N, …] f32; y_true as the loss expects; sample_weight [N] or nullptr.
  virtual void update(const Tensor& y_pred, const Tensor& y_true,
                      const Tensor* sample_weight) = 0;
  virtual double result() const = 0;
  virtual void reset() = 0;
};

// accuracy (sparse, categorical or binary, chosen from the loss name as Keras does),
// sparse_categorical_accuracy, categorical_accuracy, binary_accuracy,
// top_k_accuracy / sparse_top_k_categorical_accuracy (k = 5, or "top_3_accuracy"), mse, mae.
std::unique_ptr<Metric> make_metric(const std::string& name, const std::string& loss_name);

}  // namespace tessera
