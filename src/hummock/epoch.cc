#include "hummock/epoch.h"

#include "common/clock.h"

namespace rwmeta::hummock {

uint64_t NextEpoch(uint64_t after) {
  constexpr auto kEpochBaseMs = static_cast<uint64_t>(kEpochBaseUnixMs);
  auto now_ms = static_cast<uint64_t>(UnixNowMs());
  uint64_t physical = now_ms > kEpochBaseMs ? now_ms - kEpochBaseMs : 0;
  uint64_t epoch = physical << kEpochPhysicalShift;
  if (epoch <= after) epoch = after + (uint64_t{1} << kEpochPhysicalShift);
  return epoch;
}

}  // namespace rwmeta::hummock
