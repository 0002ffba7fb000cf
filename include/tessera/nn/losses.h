// Losses as IR: each emits the per-sample loss of a batch; the training step weights and
// averages it. Names and defaults follow Keras.
//
//   auto loss = make_loss("sparse_categorical_crossentropy");   // from probabilities
//   ValueId per_sample = loss->per_sample(b, y_pred, y_true);   // [N]
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tessera/ir/builder.h"

namespace tessera {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  // Per-sample loss, shape [N] (mean over any non-batch axes), dtype of y_pred.
  virtual ValueId per_sample(GraphBuilder& b, ValueId y_pred, ValueId y_true) const = 0;
  // The type the targets must have for predictions of `pred` type, with pred's batch dim
  // (sparse CE: i32 [N, ...] class ids, i64 and [N, 1] are accepted too; the others: pred's
  // type); used to check data before training (error names the expected shape).
  virtual TensorType target_type(const TensorType& pred) const = 0;
};

struct LossOptions {
  // For the cross-entropies: y_pred are logits. When false and y_pred is a softmax (or
  // sigmoid) node, the loss uses that node's input as logits, so it stays numerically stable.
  bool from_logits = false;
};

// sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mse
// (mean_squared_error), mae (mean_absolute_error). Throws Error naming the loss when unknown.
std::unique_ptr<Loss> make_loss(const std::string& name, LossOptions options = {});
std::vector<std::string> loss_names();

}  // namespace tessera
