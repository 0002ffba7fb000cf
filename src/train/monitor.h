// The "monitor / mode" logic shared by EarlyStopping and ModelCheckpoint, as in Keras.
#pragma once

#include <limits>
#include <string>

#include "tessera/core/error.h"

namespace tessera {

class Monitor {
 public:
  // mode: min | max | auto (max when the name looks like an accuracy).
  Monitor(std::string name, const std::string& mode, const char* owner) : name_(std::move(name)) {
    TS_CHECK(mode == "min" || mode == "max" || mode == "auto", ErrorKind::kInvalidArgument,
             "{}: mode must be min, max or auto, got '{}'", owner, mode);
    maximize_ = mode == "max" ||
                (mode == "auto" && (name_.find("acc") != std::string::npos ||
                                    name_.rfind("auc", 0) == 0 || name_.rfind("val_auc", 0) == 0));
    reset();
  }
  void reset() {
    best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
  }
  // Better than the best by more than min_delta.
  bool improves(double current, double min_delta = 0.0) const {
    return maximize_ ? current - min_delta > best_ : current + min_delta < best_;
  }
  const std::string& name() const { return name_; }
  double best() const { return best_; }
  void set_best(double v) { best_ = v; }

 private:
  std::string name_;
  bool maximize_ = false;
  double best_ = 0;
};

}  // namespace tessera
