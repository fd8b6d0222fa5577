#include "common/clock.h"

#include <chrono>
#include <thread>

namespace rwmeta {

namespace {

template <typename Unit>
int64_t UnixNow() {
  return std::chrono::duration_cast<Unit>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class WallClock : public Clock {
 public:
  int64_t NowMs() override { return UnixNowMs(); }
  void SleepMs(int64_t ms) override { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
};

}  // namespace

int64_t UnixNowMs() { return UnixNow<std::chrono::milliseconds>(); }
int64_t UnixNowMicros() { return UnixNow<std::chrono::microseconds>(); }

Clock* SystemClock() {
  // Leaked on purpose: callers may use it during static destruction.
  static Clock* const clock = new WallClock();
  return clock;
}

}  // namespace rwmeta
