#include "ctl/format.h"

#include <gtest/gtest.h>

namespace rwmeta::ctl {
namespace {

TEST(FormatDurationMsTest, PrintsFromLargestUnitDown) {
  EXPECT_EQ(FormatDurationMs(0), "0s");
  EXPECT_EQ(FormatDurationMs(999), "0s");
  EXPECT_EQ(FormatDurationMs(59'000), "59s");
  EXPECT_EQ(FormatDurationMs(300'000), "5m 0s");
  EXPECT_EQ(FormatDurationMs(7'205'000), "2h 0m 5s");
  EXPECT_EQ(FormatDurationMs(93'784'000), "1d 2h 3m 4s");
  EXPECT_EQ(FormatDurationMs(86'400'000), "1d 0h 0m 0s");
}

TEST(FormatUnixMsTest, PrintsUtcToTheSecond) {
  EXPECT_EQ(FormatUnixMs(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(FormatUnixMs(1764000000999), "2025-11-24 16:00:00 UTC");
  EXPECT_EQ(FormatUnixMs(-1), "1969-12-31 23:59:59 UTC");
}

TEST(FormatTableTest, AlignsColumnsWithoutTrailingSpaces) {
  EXPECT_EQ(FormatTable({"Name", "Value", "Mutable"},
                        {{"barrier_interval_ms", "1000", "true"}, {"state_store", "", "false"}}),
            "Name                 Value  Mutable\n"
            "barrier_interval_ms  1000   true\n"
            "state_store                 false\n");
}

TEST(FormatAlignedTest, PadsShortRowsAndHandlesNone) {
  EXPECT_EQ(FormatAligned({{"a:", "1"}, {"long key:", "2"}, {"x"}}),
            "a:         1\n"
            "long key:  2\n"
            "x\n");
  EXPECT_EQ(FormatAligned({}), "");
}

}  // namespace
}  // namespace rwmeta::ctl
