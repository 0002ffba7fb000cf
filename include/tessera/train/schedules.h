// Learning-rate schedules (host functions of the step), as in keras.optimizers.schedules.
//
//   auto lr = cosine_decay(1e-3, /*decay_steps=*/10000);
//   auto warm = with_warmup(lr, /*warmup_steps=*/500);
#pragma once

#include <cstdint>

#include "tessera/train/optimizer.h"

namespace tessera {

LearningRateSchedule constant_schedule(double lr);
// lr · factor^floor(step / step_size)
LearningRateSchedule step_decay(double lr, double factor, int64_t step_size);
// lr · rate^(step / decay_steps)   (staircase: floor)
LearningRateSchedule exponential_decay(double lr, int64_t decay_steps, double rate,
                                       bool staircase = false);
// lr · (alpha + (1 − alpha) · ½(1 + cos(π · min(step, decay_steps) / decay_steps)))
LearningRateSchedule cosine_decay(double lr, int64_t decay_steps, double alpha = 0.0);
// Linear warm-up from 0 to the schedule's first value over warmup_steps, then the schedule
// shifted by warmup_steps (the decay starts after the warm-up, as in Keras' CosineDecay):
// step < w: schedule(0)·step/w; else schedule(step − w).
LearningRateSchedule with_warmup(LearningRateSchedule schedule, int64_t warmup_steps);

}  // namespace tessera
