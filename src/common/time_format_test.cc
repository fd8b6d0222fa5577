#include "common/time_format.h"

#include <gtest/gtest.h>

#include <limits>

namespace rwmeta {
namespace {

TEST(FormatUnixMsUtcTest, Iso8601) {
  EXPECT_EQ(FormatUnixMsUtc(0, kUtcIso8601Format), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUnixMsUtc(1796518800000, kUtcIso8601Format), "2026-12-06T01:00:00Z");
}

TEST(FormatUnixMsUtcTest, Readable) {
  EXPECT_EQ(FormatUnixMsUtc(1764000000999, kUtcReadableFormat), "2025-11-24 16:00:00 UTC");
}

TEST(FormatUnixMsUtcTest, DropsMillisecondsTowardThePast) {
  EXPECT_EQ(FormatUnixMsUtc(999, kUtcIso8601Format), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUnixMsUtc(-1, kUtcIso8601Format), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatUnixMsUtc(-1000, kUtcIso8601Format), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatUnixMsUtc(-1001, kUtcIso8601Format), "1969-12-31T23:59:58Z");
}

TEST(FormatUnixMsUtcTest, AnyStrftimePattern) {
  EXPECT_EQ(FormatUnixMsUtc(1764000000999, "%Y%m%dT%H%M%SZ"), "20251124T160000Z");
  EXPECT_EQ(FormatUnixMsUtc(1764000000999, "%Y%m%d"), "20251124");
}

TEST(FormatUnixMsUtcTest, WholeInt64RangeFormats) {
  EXPECT_EQ(FormatUnixMsUtc(std::numeric_limits<int64_t>::max(), kUtcIso8601Format),
            "292278994-08-17T07:12:55Z");
  EXPECT_EQ(FormatUnixMsUtc(std::numeric_limits<int64_t>::min(), kUtcIso8601Format),
            "-292275055-05-16T16:47:04Z");
}

}  // namespace
}  // namespace rwmeta
