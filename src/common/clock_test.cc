#include "common/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace rwmeta {
namespace {

int64_t ChronoUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ClockTest, UnixNowMsIsTheSystemClockInMilliseconds) {
  const int64_t before = ChronoUnixMs();
  const int64_t now = UnixNowMs();
  const int64_t after = ChronoUnixMs();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  EXPECT_GT(now, int64_t{1'600'000'000'000});  // after 2020: milliseconds, not seconds
}

TEST(ClockTest, UnixNowMicrosIsTheSameClockInMicroseconds) {
  const int64_t before_ms = UnixNowMs();
  const int64_t us = UnixNowMicros();
  const int64_t after_ms = UnixNowMs();
  EXPECT_LE(before_ms, us / 1000);
  EXPECT_LE(us / 1000, after_ms);
}

TEST(ClockTest, SystemClockIsOneWallClock) {
  Clock* clock = SystemClock();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock, SystemClock());
  const int64_t before = UnixNowMs();
  const int64_t now = clock->NowMs();
  EXPECT_LE(before, now);
  EXPECT_LE(now, UnixNowMs());
}

TEST(ClockTest, SystemClockSleepsAtLeastAsLongAsAsked) {
  const auto start = std::chrono::steady_clock::now();
  SystemClock()->SleepMs(20);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

}  // namespace
}  // namespace rwmeta
