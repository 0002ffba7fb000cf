// Learning-rate schedules against values computed by hand.
#include "tessera/train/schedules.h"

#include <gtest/gtest.h>

#include "tessera/core/error.h"

namespace tessera {
namespace {

TEST(Schedules, Constant) {
  auto s = constant_schedule(0.3);
  EXPECT_DOUBLE_EQ(s(0), 0.3);
  EXPECT_DOUBLE_EQ(s(12345), 0.3);
}

TEST(Schedules, StepDecay) {
  auto s = step_decay(0.1, 0.5, 10);
  EXPECT_DOUBLE_EQ(s(0), 0.1);
  EXPECT_DOUBLE_EQ(s(9), 0.1);
  EXPECT_DOUBLE_EQ(s(10), 0.05);
  EXPECT_DOUBLE_EQ(s(25), 0.025);
  EXPECT_THROW(step_decay(0.1, 0.5, 0), Error);
}

TEST(Schedules, ExponentialDecay) {
  auto s = exponential_decay(0.1, 100, 0.5);
  EXPECT_DOUBLE_EQ(s(0), 0.1);
  EXPECT_NEAR(s(50), 0.1 * 0.70710678118654752, 1e-15);  // 0.5^0.5
  EXPECT_NEAR(s(200), 0.025, 1e-15);
  auto stair = exponential_decay(0.1, 100, 0.5, /*staircase=*/true);
  EXPECT_DOUBLE_EQ(stair(99), 0.1);
  EXPECT_DOUBLE_EQ(stair(150), 0.05);
}

TEST(Schedules, CosineDecay) {
  auto s = cosine_decay(1.0, 100);
  EXPECT_DOUBLE_EQ(s(0), 1.0);
  EXPECT_NEAR(s(50), 0.5, 1e-12);
  EXPECT_NEAR(s(25), 0.5 * (1 + 0.70710678118654752), 1e-12);  // ½(1 + cos(π/4))
  EXPECT_NEAR(s(100), 0.0, 1e-12);
  EXPECT_NEAR(s(1000), 0.0, 1e-12);  // clamped
  auto floor = cosine_decay(2.0, 10, /*alpha=*/0.1);
  EXPECT_NEAR(floor(10), 0.2, 1e-12);
  EXPECT_NEAR(floor(5), 2.0 * (0.1 + 0.9 * 0.5), 1e-12);
}

TEST(Schedules, WarmupThenSchedule) {
  auto s = with_warmup(cosine_decay(1.0, 100), 10);
  EXPECT_DOUBLE_EQ(s(0), 0.0);
  EXPECT_DOUBLE_EQ(s(5), 0.5);
  EXPECT_DOUBLE_EQ(s(10), 1.0);    // the decay starts after the warm-up
  EXPECT_NEAR(s(60), 0.5, 1e-12);  // cosine at its step 50
  auto none = with_warmup(constant_schedule(0.2), 0);
  EXPECT_DOUBLE_EQ(none(0), 0.2);
}

}  // namespace
}  // namespace tessera
