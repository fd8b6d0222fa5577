#include "common/time_format.h"

#include <ctime>

namespace rwmeta {

std::string FormatUnixMsUtc(int64_t unix_ms, const char* format) {
  // Floor division: a time before 1970 prints the second it falls in.
  const int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0);
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_ms) + " ms since epoch";
  char buf[128];
  const std::size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

}  // namespace rwmeta
