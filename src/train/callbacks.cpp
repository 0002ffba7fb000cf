// EarlyStopping, CSVLogger, LearningRateScheduler and TerminateOnNaN. The progress bar and
// ModelCheckpoint have files of their own.
#include "tessera/train/callbacks.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "monitor.h"
#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"
#include "tessera/train/model.h"

namespace tessera {
namespace {

class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions o)
      : options_(std::move(o)), monitor_(options_.monitor, options_.mode, "early_stopping") {
    TS_CHECK(options_.patience >= 0, ErrorKind::kInvalidArgument,
             "early_stopping: patience must be >= 0, got {}", options_.patience);
    options_.min_delta = std::abs(options_.min_delta);
  }

  void on_train_begin(Model&, const Logs&) override {
    wait_ = 0;
    stopped_epoch_ = -1;
    best_epoch_ = -1;
    monitor_.reset();
    best_weights_.clear();
  }

  void on_epoch_end(Model& model, int epoch, const Logs& logs) override {
    auto it = logs.find(options_.monitor);
    if (it == logs.end()) {
      if (!warned_) {
        std::string known;
        for (const auto& [k, v] : logs) known += (known.empty() ? "" : ", ") + k;
        fmt::print(stderr,
                   "warning: early_stopping monitors '{}', which is not in the logs "
                   "(available: {})\n",
                   options_.monitor, known);
        warned_ = true;
      }
      return;
    }
    double current = it->second;
    if (options_.restore_best_weights && best_weights_.empty()) best_weights_ = model.get_weights();
    ++wait_;
    if (std::isfinite(current) && monitor_.improves(current, options_.min_delta)) {
      monitor_.set_best(current);
      best_epoch_ = epoch;
      if (options_.restore_best_weights) best_weights_ = model.get_weights();
      wait_ = 0;
      return;
    }
    if (wait_ >= options_.patience && epoch > 0) {
      stopped_epoch_ = epoch;
      model.stop_training = true;
      if (options_.restore_best_weights && !best_weights_.empty()) model.set_weights(best_weights_);
    }
  }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
  bool warned_ = false;
  std::vector<Tensor> best_weights_;
};

// Rewrites the whole file atomically each epoch, so a crash never leaves a torn row.
class CsvLogger final : public Callback {
 public:
  CsvLogger(std::string path, bool append) : path_(std::move(path)), append_(append) {
    TS_CHECK(!path_.empty(), ErrorKind::kInvalidArgument, "csv_logger: empty path");
  }

  void on_train_begin(Model&, const Logs&) override {
    contents_.clear();
    keys_.clear();
    if (append_) {
      std::ifstream in(path_, std::ios::binary);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        contents_ = ss.str();
        if (!contents_.empty() && contents_.back() != '\n') contents_ += '\n';
        // Keep the existing columns so appended rows line up.
        std::string header = contents_.substr(0, contents_.find('\n'));
        std::stringstream hs(header);
        std::string key;
        bool first = true;
        while (std::getline(hs, key, ',')) {
          if (!first) keys_.push_back(key);
          first = false;
        }
      }
    }
  }

  void on_epoch_end(Model&, int epoch, const Logs& logs) override {
    if (keys_.empty()) {
      for (const auto& [k, v] : logs) keys_.push_back(k);  // sorted, as Keras does
      contents_ += "epoch";
      for (const std::string& k : keys_) contents_ += "," + k;
      contents_ += '\n';
    }
    contents_ += std::to_string(epoch);
    for (const std::string& k : keys_) {
      auto it = logs.find(k);
      contents_ += ',';
      contents_ += it == logs.end() ? std::string("NA") : fmt::format("{}", it->second);
    }
    contents_ += '\n';
    write_file_atomic(path_, contents_);
  }

 private:
  std::string path_;
  bool append_;
  std::string contents_;
  std::vector<std::string> keys_;
};

class LearningRateScheduler final : public Callback {
 public:
  explicit LearningRateScheduler(LearningRateSchedule s) : schedule_(std::move(s)) {
    TS_CHECK(static_cast<bool>(schedule_), ErrorKind::kInvalidArgument,
             "learning_rate_scheduler: the schedule is empty");
  }
  void on_epoch_begin(Model& model, int epoch, const Logs&) override {
    TS_CHECK(model.optimizer() != nullptr, ErrorKind::kInvalidArgument,
             "learning_rate_scheduler: the model is not compiled");
    double lr = schedule_(epoch);
    TS_CHECK(std::isfinite(lr) && lr >= 0, ErrorKind::kInvalidArgument,
             "learning_rate_scheduler: the schedule gave {} for epoch {}", lr, epoch);
    model.optimizer()->set_learning_rate(lr);
  }

 private:
  LearningRateSchedule schedule_;
};

class TerminateOnNaN final : public Callback {
 public:
  void on_epoch_begin(Model&, int epoch, const Logs&) override { epoch_ = epoch; }
  void on_batch_end(Model& model, int64_t batch, const Logs& logs) override {
    auto it = logs.find("loss");
    if (it == logs.end() || std::isfinite(it->second)) return;
    model.stop_training = true;
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("terminate_on_nan: the loss became {} at epoch {} batch {}", it->second,
                            epoch_ + 1, batch + 1));
  }

 private:
  int epoch_ = 0;
};

}  // namespace

CallbackPtr early_stopping(EarlyStoppingOptions options) {
  return std::make_shared<EarlyStopping>(std::move(options));
}
CallbackPtr csv_logger(std::string path, bool append) {
  return std::make_shared<CsvLogger>(std::move(path), append);
}
CallbackPtr learning_rate_scheduler(LearningRateSchedule per_epoch) {
  return std::make_shared<LearningRateScheduler>(std::move(per_epoch));
}
CallbackPtr terminate_on_nan() { return std::make_shared<TerminateOnNaN>(); }

}  // namespace tessera
