// Learning-rate schedules: pure host functions of the step, evaluated once per step.
#include "tessera/train/schedules.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tessera/core/error.h"

namespace tessera {

LearningRateSchedule constant_schedule(double lr) {
  return [lr](int64_t) { return lr; };
}

LearningRateSchedule step_decay(double lr, double factor, int64_t step_size) {
  TS_CHECK(step_size > 0, ErrorKind::kInvalidArgument, "step_decay: step_size must be > 0, got {}",
           step_size);
  return [=](int64_t step) {
    return lr * std::pow(factor, static_cast<double>(std::max<int64_t>(step, 0) / step_size));
  };
}

LearningRateSchedule exponential_decay(double lr, int64_t decay_steps, double rate,
                                       bool staircase) {
  TS_CHECK(decay_steps > 0, ErrorKind::kInvalidArgument,
           "exponential_decay: decay_steps must be > 0, got {}", decay_steps);
  return [=](int64_t step) {
    double p = static_cast<double>(step) / static_cast<double>(decay_steps);
    if (staircase) p = std::floor(p);
    return lr * std::pow(rate, p);
  };
}

LearningRateSchedule cosine_decay(double lr, int64_t decay_steps, double alpha) {
  TS_CHECK(decay_steps > 0, ErrorKind::kInvalidArgument,
           "cosine_decay: decay_steps must be > 0, got {}", decay_steps);
  return [=](int64_t step) {
    double s = static_cast<double>(std::clamp<int64_t>(step, 0, decay_steps));
    double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * s / static_cast<double>(decay_steps)));
    return lr * (alpha + (1.0 - alpha) * cosine);
  };
}

LearningRateSchedule with_warmup(LearningRateSchedule schedule, int64_t warmup_steps) {
  TS_CHECK(static_cast<bool>(schedule), ErrorKind::kInvalidArgument,
           "with_warmup: the schedule is empty");
  TS_CHECK(warmup_steps >= 0, ErrorKind::kInvalidArgument,
           "with_warmup: warmup_steps must be >= 0, got {}", warmup_steps);
  return [schedule = std::move(schedule), warmup_steps](int64_t step) {
    if (step < warmup_steps)
      return schedule(0) * static_cast<double>(step) / static_cast<double>(warmup_steps);
    return schedule(step - warmup_steps);
  };
}

}  // namespace tessera
