// Text of a Unix time for people and logs, in UTC. One conversion for every caller; each caller
// picks its pattern (and its text for "no time").
#pragma once

#include <cstdint>
#include <string>

namespace rwmeta {

// strftime(3) patterns in use. Messages and command output are asserted by tests: never change one.
// "2026-12-06T01:00:00Z": messages and JSON (ISO 8601).
inline constexpr char kUtcIso8601Format[] = "%Y-%m-%dT%H:%M:%SZ";
// "2025-11-24 16:00:00 UTC": risectl's tables.
inline constexpr char kUtcReadableFormat[] = "%Y-%m-%d %H:%M:%S UTC";

// `unix_ms` (milliseconds since the Unix epoch) as UTC through the strftime(3) `format`. Sub-second
// parts are dropped toward the past (floor), so -1 is 1969-12-31T23:59:59Z. Returns
// "<unix_ms> ms since epoch" if the calendar cannot represent the time, and the empty string if
// the text would exceed 128 bytes. Thread-safe.
std::string FormatUnixMsUtc(int64_t unix_ms, const char* format);

}  // namespace rwmeta
