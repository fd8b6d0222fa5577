#include "hummock/epoch.h"

#include <chrono>

namespace rwmeta::hummock {

uint64_t NextEpoch(uint64_t after) {
  constexpr auto kEpochBaseMs = static_cast<uint64_t>(kEpochBaseUnixMs);
  auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  uint64_t physical = now_ms > kEpochBaseMs ? now_ms - kEpochBaseMs : 0;
  uint64_t epoch = physical << kEpochPhysicalShift;
  if (epoch <= after) epoch = after + (uint64_t{1} << kEpochPhysicalShift);
  return epoch;
}

}  // namespace rwmeta::hummock
