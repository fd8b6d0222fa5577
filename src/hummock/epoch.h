// Epochs: Hummock's timestamps. An epoch is (milliseconds since 2021-01-01T00:00:00Z) << 16,
// RisingWave's layout with our own base (RisingWave counts from 2021-04-01); the low 16 bits order
// epochs of the same millisecond. Epochs reach disk (SST keys, versions, meta snapshots): never
// change the layout.
#pragma once

#include <cstdint>

namespace rwmeta::hummock {

inline constexpr int64_t kEpochBaseUnixMs = 1609459200000;  // 2021-01-01T00:00:00Z
inline constexpr int kEpochPhysicalShift = 16;

// The Unix time in milliseconds of `epoch`'s physical part.
inline int64_t EpochToUnixMs(uint64_t epoch) {
  return kEpochBaseUnixMs + static_cast<int64_t>(epoch >> kEpochPhysicalShift);
}

// The epoch for "now" (the system clock), raised to above `after` if the clock is behind it.
uint64_t NextEpoch(uint64_t after);

}  // namespace rwmeta::hummock
