// Losses as IR, in Keras' forms. Cross-entropies on probabilities look through a final
// softmax/sigmoid node to its logits, so the usual `Dense(10, softmax)` + sparse CE model
// trains through the stable log-softmax form; otherwise probabilities are clipped to
// [1e-7, 1 - 1e-7] (Keras' epsilon) before the log.
#include "tessera/nn/losses.h"

#include <algorithm>

#include "nn_internal.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

constexpr double kEpsilon = 1e-7;

std::vector<int64_t> non_batch_axes(int rank) {
  std::vector<int64_t> axes;
  for (int i = 1; i < rank; ++i) axes.push_back(i);
  return axes;
}

// Mean over every non-batch axis: [N, ...] -> [N].
ValueId per_sample_mean(GraphBuilder& b, ValueId x) {
  int rank = b.shape(x).rank();
  return rank <= 1 ? x : b.reduce_mean(x, non_batch_axes(rank));
}

// The input of `y` when it is a node of `op` (over the last axis for softmax), else kNoValue.
ValueId logits_of(const GraphBuilder& b, ValueId y, OpKind op) {
  const Node& n = b.graph().node(y);
  if (n.op != op) return kNoValue;
  if (op == OpKind::kSoftmax) {
    int64_t axis = n.attrs.get_int("axis");
    int rank = n.type.shape.rank();
    if (axis != -1 && axis != rank - 1) return kNoValue;
  }
  return n.inputs[0];
}

ValueId clip(GraphBuilder& b, ValueId p) {
  DType t = b.dtype(p);
  return b.maximum(b.minimum(p, b.scalar(1.0 - kEpsilon, t)), b.scalar(kEpsilon, t));
}

// Targets in the predictions' dtype and shape: a cast where dtypes differ, a reshape where
// only the per-sample layout differs ([N] against [N, 1]).
ValueId match_targets(GraphBuilder& b, const std::string& loss, ValueId y_true,
                      ValueId y_pred) {
  const TensorType& pt = b.type(y_pred);
  if (b.dtype(y_true) != pt.dtype) y_true = b.cast(y_true, pt.dtype);
  const Shape& ts = b.shape(y_true);
  if (ts == pt.shape) return y_true;
  Shape tp = per_sample(ts), pp = per_sample(pt.shape);
  bool ok = ts.rank() >= 1 && pt.shape.rank() >= 1 && ts[0] == pt.shape[0] && tp.is_static() &&
            pp.is_static() && tp.numel() == pp.numel();
  TS_CHECK(ok, ErrorKind::kInvalidArgument,
           "loss '{}': targets {} do not match predictions {} (expected {})", loss,
           b.type(y_true).str(), pt.str(), TensorType{pt.dtype, pt.shape}.str());
  return b.reshape(y_true, pt.shape);
}

class SparseCategoricalCrossentropy final : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(LossOptions o) : o_(o) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }

  ValueId per_sample(GraphBuilder& b, ValueId y_pred, ValueId y_true) const override {
    const Shape& ps = b.shape(y_pred);
    TS_CHECK(ps.rank() >= 2, ErrorKind::kInvalidArgument,
             "loss '{}': predictions must be [N, ..., classes], got {}", name(),
             b.type(y_pred).str());
    ValueId labels = y_true;
    if (!b.dtype(labels).is_int()) labels = b.cast(labels, kI32);
    // [N, 1] labels (Keras accepts both) -> [N].
    Shape ls = b.shape(labels);
    if (ls.rank() == ps.rank() && ls[ls.rank() - 1] == 1) {
      Shape squeezed(std::span<const int64_t>(ls.begin(), ls.end() - 1));
      labels = b.reshape(labels, squeezed);
      ls = squeezed;
    }
    bool ok = ls.rank() == ps.rank() - 1;
    for (int i = 0; ok && i < ls.rank(); ++i) ok = ls[i] == ps[i];
    TS_CHECK(ok, ErrorKind::kInvalidArgument,
             "loss '{}': targets {} do not match predictions {} (expected integer class ids "
             "of shape {})",
             name(), b.type(y_true).str(), b.type(y_pred).str(), target_type(b.type(y_pred)).str());
    ValueId logits = o_.from_logits ? y_pred : logits_of(b, y_pred, OpKind::kSoftmax);
    if (logits != kNoValue) return per_sample_mean(b, b.cross_entropy(logits, labels));
    int64_t classes = ps[ps.rank() - 1];
    ValueId target = b.one_hot(labels, classes, b.dtype(y_pred));
    ValueId picked = b.reduce_sum(b.mul(target, b.log(clip(b, y_pred))), {-1});
    return per_sample_mean(b, b.neg(picked));
  }

  TensorType target_type(const TensorType& pred) const override {
    const Shape& s = pred.shape;
    Shape labels = s.rank() >= 1 ? Shape(std::span<const int64_t>(s.begin(), s.end() - 1))
                                 : Shape{};
    return {kI32, labels};
  }

 private:
  LossOptions o_;
};

class CategoricalCrossentropy final : public Loss {
 public:
  explicit CategoricalCrossentropy(LossOptions o) : o_(o) {}
  std::string name() const override { return "categorical_crossentropy"; }

  ValueId per_sample(GraphBuilder& b, ValueId y_pred, ValueId y_true) const override {
    TS_CHECK(b.shape(y_pred).rank() >= 2, ErrorKind::kInvalidArgument,
             "loss '{}': predictions must be [N, ..., classes], got {}", name(),
             b.type(y_pred).str());
    ValueId y = match_targets(b, name(), y_true, y_pred);
    ValueId logits = o_.from_logits ? y_pred : logits_of(b, y_pred, OpKind::kSoftmax);
    ValueId log_p;
    if (logits != kNoValue) {
      log_p = b.log_softmax(logits, -1);
    } else {
      // As Keras: rescale so each row sums to 1, then clip.
      ValueId p = b.div(y_pred, b.reduce_sum(y_pred, {-1}, /*keepdims=*/true));
      log_p = b.log(clip(b, p));
    }
    return per_sample_mean(b, b.neg(b.reduce_sum(b.mul(y, log_p), {-1})));
  }

  TensorType target_type(const TensorType& pred) const override { return pred; }

 private:
  LossOptions o_;
};

class BinaryCrossentropy final : public Loss {
 public:
  explicit BinaryCrossentropy(LossOptions o) : o_(o) {}
  std::string name() const override { return "binary_crossentropy"; }

  ValueId per_sample(GraphBuilder& b, ValueId y_pred, ValueId y_true) const override {
    ValueId y = match_targets(b, name(), y_true, y_pred);
    DType t = b.dtype(y_pred);
    ValueId x = o_.from_logits ? y_pred : logits_of(b, y_pred, OpKind::kSigmoid);
    ValueId elem;
    if (x != kNoValue) {
      // max(x, 0) − x·y + log(1 + e^−|x|): never exponentiates a positive number.
      ValueId softplus = b.log(b.add(b.scalar(1.0, t), b.exp(b.neg(b.abs(x)))));
      elem = b.add(b.sub(b.relu(x), b.mul(x, y)), softplus);
    } else {
      ValueId p = clip(b, y_pred);
      ValueId one = b.scalar(1.0, t);
      ValueId pos = b.mul(y, b.log(p));
      ValueId neg = b.mul(b.sub(one, y), b.log(b.sub(one, p)));
      elem = b.neg(b.add(pos, neg));
    }
    return per_sample_mean(b, elem);
  }

  TensorType target_type(const TensorType& pred) const override { return pred; }

 private:
  LossOptions o_;
};

class MeanError final : public Loss {
 public:
  explicit MeanError(bool squared) : squared_(squared) {}
  std::string name() const override { return squared_ ? "mse" : "mae"; }

  ValueId per_sample(GraphBuilder& b, ValueId y_pred, ValueId y_true) const override {
    ValueId d = b.sub(y_pred, match_targets(b, name(), y_true, y_pred));
    return per_sample_mean(b, squared_ ? b.mul(d, d) : b.abs(d));
  }

  TensorType target_type(const TensorType& pred) const override { return pred; }

 private:
  bool squared_;
};

}  // namespace

std::vector<std::string> loss_names() {
  return {"sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
          "mse", "mean_squared_error", "mae", "mean_absolute_error"};
}

std::unique_ptr<Loss> make_loss(const std::string& name, LossOptions options) {
  if (name == "sparse_categorical_crossentropy")
    return std::make_unique<SparseCategoricalCrossentropy>(options);
  if (name == "categorical_crossentropy") return std::make_unique<CategoricalCrossentropy>(options);
  if (name == "binary_crossentropy") return std::make_unique<BinaryCrossentropy>(options);
  if (name == "mse" || name == "mean_squared_error") return std::make_unique<MeanError>(true);
  if (name == "mae" || name == "mean_absolute_error") return std::make_unique<MeanError>(false);
  std::string known;
  for (const std::string& n : loss_names()) known += (known.empty() ? "" : ", ") + n;
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("unknown loss '{}' (known: {})", name, known));
}

}  // namespace tessera
