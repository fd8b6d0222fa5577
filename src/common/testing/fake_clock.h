// A Clock for tests: time moves only when the test advances it or someone sleeps. `on_sleep` lets
// a test act while the code under test waits (another meta node renewing a lease, a job ending).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "common/clock.h"

namespace rwmeta::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000) : now_ms(start_ms) {}

  int64_t NowMs() override { return now_ms.load(); }
  void SleepMs(int64_t ms) override {
    now_ms += ms;
    ++sleeps;
    if (on_sleep) on_sleep();
  }
  void AdvanceMs(int64_t ms) { now_ms += ms; }

  std::atomic<int64_t> now_ms;
  std::atomic<int> sleeps{0};
  // Set before the clock is shared between threads.
  std::function<void()> on_sleep;
};

}  // namespace rwmeta::testing
