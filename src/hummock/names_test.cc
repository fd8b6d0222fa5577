#include "hummock/names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace rwmeta::hummock {
namespace {

TEST(NamesTest, KeysOfEachKind) {
  EXPECT_EQ(SstObjectKey("hummock_001", 12), "hummock_001/12.data");
  EXPECT_EQ(SstObjectKey("hummock_001/", 0), "hummock_001/0.data");
  EXPECT_EQ(SstObjectKey("", 7), "7.data");
  EXPECT_EQ(CheckpointKey("hummock_001"), "hummock_001/checkpoint/0");
  EXPECT_EQ(CheckpointKey("hummock_001", 1), "hummock_001/checkpoint/0");
  EXPECT_EQ(CheckpointKey("hummock_001", 2), "hummock_001/checkpoint/2");
  EXPECT_EQ(CheckpointKey(""), "checkpoint/0");
  EXPECT_EQ(CheckpointKey("a/b/"), "a/b/checkpoint/0");
  EXPECT_EQ(ClusterIdKey("hummock_001"), "hummock_001/cluster_id");
  EXPECT_EQ(MetaLeaseKey("hummock_001"), "hummock_001/meta_lease");
  EXPECT_EQ(GenerationKey("hummock_001"), "hummock_001/generation");
  EXPECT_EQ(GenerationKey("a/b/"), "a/b/generation");
  EXPECT_EQ(GenerationKey(""), "generation");
}

TEST(NamesTest, EveryKeyParsesBackToWhatMadeIt) {
  for (std::string dir : {"hummock_001", "hummock_001/", "a/b", ""}) {
    for (uint64_t id : {uint64_t{0}, uint64_t{1}, uint64_t{12}, UINT64_MAX}) {
      EXPECT_EQ(ParseObjectKey(dir, SstObjectKey(dir, id)), (ObjectName{ObjectKind::kSst, id}));
      EXPECT_EQ(ParseSstObjectKey(dir, SstObjectKey(dir, id)), id);
    }
    for (uint64_t generation : {uint64_t{1}, uint64_t{2}, uint64_t{9}, UINT64_MAX}) {
      EXPECT_EQ(ParseObjectKey(dir, CheckpointKey(dir, generation)),
                (ObjectName{ObjectKind::kCheckpoint, generation}))
          << dir << " " << generation;
    }
    EXPECT_EQ(ParseObjectKey(dir, ClusterIdKey(dir)), ObjectName{ObjectKind::kClusterId});
    EXPECT_EQ(ParseObjectKey(dir, MetaLeaseKey(dir)), ObjectName{ObjectKind::kMetaLease});
    EXPECT_EQ(ParseObjectKey(dir, GenerationKey(dir)), ObjectName{ObjectKind::kGeneration});
  }
}

TEST(NamesTest, OtherKeysAreNotHummocks) {
  for (std::string_view key :
       {"d/007.data", "d/+7.data", "d/.data", "d/12.data.tmp", "d/18446744073709551616.data",
        "d/x/12.data", "dd/12.data", "e/12.data", "d/", "d", "d/checkpoint/1", "d/checkpoint/02",
        "d/checkpoint/", "d/checkpoint/0/x", "d/checkpoint", "d/cluster_id.tmp",
        "d/backup/1.snapshot", "d/manifest.json", "12.data"}) {
    EXPECT_EQ(ParseObjectKey("d", key), std::nullopt) << key;
  }
  EXPECT_EQ(ParseSstObjectKey("d", "d/checkpoint/0"), std::nullopt);
  EXPECT_EQ(ParseSstObjectKey("d", "d/cluster_id"), std::nullopt);
}

}  // namespace
}  // namespace rwmeta::hummock
