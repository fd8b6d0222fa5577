#include "backup/names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace rwmeta::backup {
namespace {

TEST(BackupNamesTest, KeysOfEachKind) {
  EXPECT_EQ(SnapshotKey("backup", 1), "backup/1.snapshot");
  EXPECT_EQ(SnapshotKey("backup/", 12), "backup/12.snapshot");
  EXPECT_EQ(SnapshotKey("", 0), "0.snapshot");
  EXPECT_EQ(ManifestKey("backup"), "backup/manifest.json");
  EXPECT_EQ(ManifestKey("a/b/"), "a/b/manifest.json");
  EXPECT_EQ(ManifestKey(""), "manifest.json");
  EXPECT_EQ(ManifestLockPrefix("backup"), "backup/manifest.lock.");
  EXPECT_EQ(ManifestLockKey("backup/", "t0k"), "backup/manifest.lock.t0k");
}

TEST(BackupNamesTest, SnapshotKeysParseBackToTheirIds) {
  for (std::string dir : {"backup", "backup/", "a/b", ""}) {
    for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{40}, UINT64_MAX}) {
      EXPECT_EQ(ParseSnapshotKey(dir, SnapshotKey(dir, id)), id) << dir << " " << id;
    }
  }
}

TEST(BackupNamesTest, OtherKeysAreNotSnapshots) {
  for (std::string_view key :
       {"backup/01.snapshot", "backup/x7.snapshot", "backup/+7.snapshot", "backup/.snapshot",
        "backup/7.snapshot.tmp", "backup/sub/8.snapshot", "backup2/9.snapshot", "9.snapshot",
        "backup/manifest.json", "backup/manifest.lock.7", "backup/18446744073709551616.snapshot",
        "backup/", "backup"}) {
    EXPECT_EQ(ParseSnapshotKey("backup", key), std::nullopt) << key;
  }
}

}  // namespace
}  // namespace rwmeta::backup
