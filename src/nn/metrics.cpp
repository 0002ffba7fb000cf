// Host-side metrics: each update adds Σ w·value and Σ w over the batch's samples (or, for
// predictions [N, T, C], over every position, weighted by its sample's weight), so result()
// is the weighted mean Keras' MeanMetricWrapper reports.
#include "tessera/nn/metrics.h"

#include <cmath>
#include <regex>

#include "tessera/core/error.h"

namespace tessera {
namespace {

enum class Kind { kAuto, kSparse, kCategorical, kBinary, kTopK, kMse, kMae };

// f32 view of a tensor: the data itself when it already is contiguous f32.
struct F32View {
  Tensor holder;
  const float* p = nullptr;
  explicit F32View(const Tensor& t) {
    holder = t.dtype() == kF32 && t.is_contiguous() ? t : t.to(kF32).contiguous();
    p = holder.data<float>();
  }
};

// Element access to targets without a converted copy: integer labels are read as they are,
// so a training step's metric update allocates nothing.
struct Values {
  const Tensor& t;
  const float* f32 = nullptr;
  const int32_t* i32 = nullptr;
  explicit Values(const Tensor& tensor) : t(tensor) {
    if (t.is_contiguous() && t.dtype() == kF32) f32 = t.data<float>();
    if (t.is_contiguous() && t.dtype() == kI32) i32 = t.data<int32_t>();
  }
  double operator[](int64_t k) const { return f32 ? f32[k] : i32 ? i32[k] : t.get(k); }
};

// Index of the first maximum (tf.argmax's tie rule); NaN never wins.
template <typename Row>
int64_t argmax(const Row& x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x(i) > x(best) || (std::isnan(x(best)) && !std::isnan(x(i)))) best = i;
  return best;
}

class MeanMetric final : public Metric {
 public:
  MeanMetric(std::string name, Kind kind, int64_t k) : name_(std::move(name)), kind_(kind), k_(k) {}
  std::string name() const override { return name_; }
  double result() const override { return weight_ > 0 ? total_ / weight_ : 0.0; }
  void reset() override { total_ = weight_ = 0; }

  void update(const Tensor& y_pred, const Tensor& y_true, const Tensor* sample_weight) override {
    TS_CHECK(y_pred.rank() >= 1 && y_true.rank() >= 1, ErrorKind::kInvalidArgument,
             "metric '{}': predictions {} and targets {} need a batch dim", name_,
             y_pred.shape().str(), y_true.shape().str());
    const int64_t n = y_pred.shape()[0];
    TS_CHECK(y_true.shape()[0] == n, ErrorKind::kInvalidArgument,
             "metric '{}': {} predictions but {} targets", name_, n, y_true.shape()[0]);
    if (sample_weight)
      TS_CHECK(sample_weight->numel() == n, ErrorKind::kInvalidArgument,
               "metric '{}': {} sample weights for {} samples", name_, sample_weight->numel(), n);
    const int64_t pred_per = n ? y_pred.numel() / n : 0;
    const int64_t true_per = n ? y_true.numel() / n : 0;
    const int64_t classes = y_pred.rank() >= 2 ? y_pred.shape()[y_pred.rank() - 1] : 1;
    Kind kind = kind_;
    bool one_hot_targets = y_true.shape() == y_pred.shape() && classes > 1;
    if (kind == Kind::kAuto) {
      // Keras' choice for "accuracy" when the loss does not decide it: binary for one output
      // unit, categorical for one-hot targets, sparse otherwise.
      kind = classes == 1 ? Kind::kBinary : one_hot_targets ? Kind::kCategorical : Kind::kSparse;
    }
    F32View pred(y_pred);
    Values tgt(y_true);
    auto weight = [&](int64_t s) { return sample_weight ? sample_weight->get(s) : 1.0; };

    if (kind == Kind::kBinary || kind == Kind::kMse || kind == Kind::kMae) {
      TS_CHECK(true_per == pred_per, ErrorKind::kInvalidArgument,
               "metric '{}': targets {} do not match predictions {}", name_,
               y_true.shape().str(), y_pred.shape().str());
      for (int64_t s = 0; s < n; ++s) {
        double sum = 0;
        for (int64_t j = 0; j < pred_per; ++j) {
          double p = pred.p[s * pred_per + j], t = tgt[s * pred_per + j];
          if (kind == Kind::kBinary) sum += t == (p > 0.5 ? 1.0 : 0.0) ? 1.0 : 0.0;
          else if (kind == Kind::kMse) sum += (p - t) * (p - t);
          else sum += std::fabs(p - t);
        }
        add(weight(s), pred_per ? sum / static_cast<double>(pred_per) : 0.0);
      }
      return;
    }

    // Class-wise metrics: one row of `classes` scores per position.
    const int64_t positions = classes ? y_pred.numel() / classes : 0;
    const int64_t per_sample = n ? positions / n : 0;
    bool categorical = kind == Kind::kCategorical || (kind == Kind::kTopK && one_hot_targets);
    if (categorical) {
      TS_CHECK(y_true.shape() == y_pred.shape(), ErrorKind::kInvalidArgument,
               "metric '{}': one-hot targets {} do not match predictions {}", name_,
               y_true.shape().str(), y_pred.shape().str());
    } else {
      TS_CHECK(true_per == per_sample, ErrorKind::kInvalidArgument,
               "metric '{}': targets {} do not hold one class id per prediction row of {}",
               name_, y_true.shape().str(), y_pred.shape().str());
    }
    for (int64_t r = 0; r < positions; ++r) {
      const float* row = pred.p + r * classes;
      double label =
          categorical
              ? static_cast<double>(argmax([&](int64_t j) { return tgt[r * classes + j]; }, classes))
              : tgt[r];
      double hit = 0;
      if (kind == Kind::kTopK) {
        // As tf.math.in_top_k: a class whose score ties the k-th best counts as in the top
        // k (fewer than k scores are strictly greater); a non-finite score never does.
        if (label >= 0 && label < static_cast<double>(classes)) {
          float target = row[static_cast<int64_t>(label)];
          if (std::isfinite(target)) {
            int64_t greater = 0;
            for (int64_t j = 0; j < classes; ++j) greater += row[j] > target;
            hit = greater < k_ ? 1.0 : 0.0;
          }
        }
      } else {
        hit = static_cast<double>(argmax([&](int64_t j) { return row[j]; }, classes)) == label
                  ? 1.0
                  : 0.0;
      }
      add(weight(per_sample ? r / per_sample : 0), hit);
    }
  }

 private:
  void add(double w, double value) {
    total_ += w * value;
    weight_ += w;
  }

  std::string name_;
  Kind kind_;
  int64_t k_;
  double total_ = 0, weight_ = 0;
};

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& name, const std::string& loss_name) {
  auto make = [&](Kind kind, int64_t k = 0) {
    return std::make_unique<MeanMetric>(name, kind, k);
  };
  if (name == "accuracy" || name == "acc") {
    if (loss_name == "sparse_categorical_crossentropy") return make(Kind::kSparse);
    if (loss_name == "binary_crossentropy") return make(Kind::kBinary);
    if (loss_name == "categorical_crossentropy") return make(Kind::kCategorical);
    return make(Kind::kAuto);
  }
  if (name == "sparse_categorical_accuracy") return make(Kind::kSparse);
  if (name == "categorical_accuracy") return make(Kind::kCategorical);
  if (name == "binary_accuracy") return make(Kind::kBinary);
  if (name == "top_k_accuracy" || name == "sparse_top_k_categorical_accuracy" ||
      name == "top_k_categorical_accuracy")
    return make(Kind::kTopK, 5);
  static const std::regex top_n(R"(top_([1-9][0-9]*)_accuracy)");
  std::smatch m;
  if (std::regex_match(name, m, top_n)) return make(Kind::kTopK, std::stoll(m[1].str()));
  if (name == "mse" || name == "mean_squared_error") return make(Kind::kMse);
  if (name == "mae" || name == "mean_absolute_error") return make(Kind::kMae);
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("unknown metric '{}' (known: accuracy, sparse_categorical_accuracy, "
                          "categorical_accuracy, binary_accuracy, top_k_accuracy, "
                          "sparse_top_k_categorical_accuracy, top_<k>_accuracy, mse, mae)",
                          name));
}

}  // namespace tessera
