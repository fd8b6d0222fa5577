// The wall clock, read in one place, and the Clock interface that code whose timing tests must
// control takes instead of reading it (FoundationDB's lesson: an injected clock makes a failing run
// replayable; tests never sleep to wait for an event).
//
// Which to use: code that only stamps a time (created_at_ms, last_modified_ms) calls UnixNowMs();
// code whose behaviour depends on time passing (leases, waits, expiry) takes a Clock* so that a
// test can hand it a fake one. Durations measured inside one process use std::chrono::steady_clock,
// which never jumps.
#pragma once

#include <cstdint>

namespace rwmeta {

// Milliseconds since the Unix epoch by the system's real-time clock. It can jump (NTP, an operator
// setting the time): do not subtract two readings to measure a duration. Thread-safe.
int64_t UnixNowMs();
// Microseconds since the Unix epoch, same clock. Thread-safe.
int64_t UnixNowMicros();

// A time source. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() = 0;
  // Blocks the caller for `ms` (a fake clock just advances).
  virtual void SleepMs(int64_t ms) = 0;
};

// The wall clock: NowMs() is UnixNowMs(), SleepMs sleeps. Never null, lives forever (not owned).
Clock* SystemClock();

}  // namespace rwmeta
