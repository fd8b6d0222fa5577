#include "hummock/compaction/picker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hummock/sst/key.h"
#include "hummock/version/version.h"

namespace rwmeta::hummock {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kGroup = 2;

// An SST of table 1 spanning user keys [from, to] with `bytes` bytes.
SstableInfo Sst(uint64_t id, const std::string& from, const std::string& to, uint64_t bytes = 100,
                uint32_t table = 1) {
  SstableInfo sst;
  sst.set_object_id(id);
  sst.set_sst_id(id);
  sst.set_smallest_key(EncodeFullKey(table, from, 9));
  sst.set_largest_key(EncodeFullKey(table, to, 1));
  sst.set_file_size(bytes);
  sst.add_table_ids(table);
  return sst;
}

// A version with group 2: `l0` sub-levels given newest first, then L1..L6.
HummockVersion MakeVersion(const std::vector<std::vector<SstableInfo>>& l0,
                           const std::vector<std::vector<SstableInfo>>& levels) {
  HummockVersion v;
  v.set_id(10);
  CompactionGroup* g = v.add_groups();
  g->set_group_id(kGroup);
  uint64_t sub_level_id = 100 + l0.size();
  for (const auto& ssts : l0) {
    Level* sub = g->add_l0_sub_levels();
    sub->set_level_idx(0);
    sub->set_sub_level_id(sub_level_id--);
    for (const SstableInfo& s : ssts) *sub->add_table_infos() = s;
  }
  for (uint32_t i = 1; i <= kMaxLevel; ++i) {
    Level* level = g->add_levels();
    level->set_level_idx(i);
    if (i - 1 < levels.size()) {
      for (const SstableInfo& s : levels[i - 1]) *level->add_table_infos() = s;
    }
  }
  return v;
}

CompactionConfig SmallConfig() {
  CompactionConfig config;
  config.l0_sub_level_trigger = 3;
  config.l0_size_trigger_bytes = 10'000;
  config.base_level_size_bytes = 1'000;
  config.level_multiplier = 10;
  return config;
}

std::vector<uint64_t> Ids(const CompactionInputLevel& in) {
  std::vector<uint64_t> ids;
  for (const SstableInfo& s : in.ssts) ids.push_back(s.object_id());
  return ids;
}

TEST(PickerTest, NothingBelowTheTriggers) {
  // Two sub-levels (< 3), 300 bytes of L0 (< 10000), L1 at 900 of 1000, L2 at 9000 of 10000.
  HummockVersion v = MakeVersion({{Sst(1, "a", "c")}, {Sst(2, "b", "d", 200)}},
                                 {{Sst(3, "a", "z", 900)}, {Sst(4, "a", "z", 9000)}});
  EXPECT_EQ(PickCompaction(v, SmallConfig()), std::nullopt);
  EXPECT_EQ(PickCompaction(HummockVersion(), SmallConfig()), std::nullopt);
}

TEST(PickerTest, L0SubLevelTriggerTakesAllSubLevelsAndEveryL1SstInTheirRange) {
  HummockVersion v = MakeVersion(
      {{Sst(11, "d", "f")}, {Sst(12, "m", "p")}, {Sst(13, "e", "g"), Sst(14, "q", "r")}},
      {{Sst(1, "a", "b"), Sst(2, "c", "d"), Sst(3, "h", "i"), Sst(4, "s", "t")}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->group_id, kGroup);
  EXPECT_EQ(task->target_level, 1u);
  EXPECT_FALSE(task->trivial_move);
  ASSERT_EQ(task->inputs.size(), 4u);
  // Newest sub-level first.
  EXPECT_EQ(task->inputs[0].sub_level_id, 103u);
  EXPECT_THAT(Ids(task->inputs[0]), ElementsAre(11));
  EXPECT_THAT(Ids(task->inputs[1]), ElementsAre(12));
  EXPECT_THAT(Ids(task->inputs[2]), ElementsAre(13, 14));
  EXPECT_EQ(task->inputs[3].level_idx, 1u);
  // "c".."d" touches "d"; "h".."i" lies between inputs (an output may span it); "a".."b" and
  // "s".."t" are outside [d, r].
  EXPECT_THAT(Ids(task->inputs[3]), ElementsAre(2, 3));
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(11, 12, 13, 14, 2, 3));
  EXPECT_EQ(task->ToString(), "group 2: L0 (3 sub-levels, 4 ssts) + L1 (2 ssts) -> L1");
}

TEST(PickerTest, L0SizeTrigger) {
  HummockVersion v = MakeVersion({{Sst(11, "a", "c", 6000)}, {Sst(12, "b", "d", 4000)}}, {});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_FALSE(task->trivial_move);  // the two sub-levels overlap
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(11, 12));
  ASSERT_EQ(task->inputs.size(), 3u);
  EXPECT_THAT(task->inputs[2].ssts, IsEmpty());  // nothing in L1
}

TEST(PickerTest, L0TrivialMoveWhenNothingOverlaps) {
  HummockVersion v = MakeVersion({{Sst(11, "a", "b")}, {Sst(12, "e", "f")}, {Sst(13, "c", "d")}},
                                 {{Sst(1, "g", "h")}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_TRUE(task->trivial_move);
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(11, 12, 13));
  EXPECT_EQ(task->ToString(), "group 2: L0 (3 sub-levels, 3 ssts) -> L1 (trivial move)");
}

TEST(PickerTest, SameUserKeyAtOtherEpochsOverlaps) {
  SstableInfo a = Sst(1, "a", "k");
  SstableInfo b = Sst(2, "k", "z");
  // a ends with (k, epoch 5), b starts with (k, epoch 3): the full keys are in order (newer
  // epochs first), but the user key k is in both.
  a.set_largest_key(EncodeFullKey(1, "k", 5));
  b.set_smallest_key(EncodeFullKey(1, "k", 3));
  ASSERT_LT(CompareFullKeys(a.largest_key(), b.smallest_key()), 0);
  EXPECT_TRUE(SstsOverlap(a, b));
  EXPECT_FALSE(SstsOverlap(Sst(1, "a", "j"), b));
  EXPECT_FALSE(SstsOverlap(Sst(1, "k", "k", 1, /*table=*/2), b));  // other table
  SstableInfo empty;
  EXPECT_FALSE(SstsOverlap(empty, b));
  // And so an L0 SST sharing one user key with L1 cannot be moved trivially.
  HummockVersion v =
      MakeVersion({{Sst(11, "k", "m")}, {Sst(12, "x", "y")}, {Sst(13, "n", "o")}}, {{a}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_FALSE(task->trivial_move);
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(11, 12, 13, 1));
}

TEST(PickerTest, DeeperLevelOverItsTargetPushesTheSstWithTheLeastOverlapRatio) {
  // L1 holds 1500 > 1000 bytes. Per byte of its own, SST 1 overlaps 800/500 in L2, SST 2
  // 100/500, SST 3 100/500 (tie with 2: the smaller key wins).
  HummockVersion v =
      MakeVersion({}, {{Sst(1, "a", "c", 500), Sst(2, "d", "f", 500), Sst(3, "g", "i", 500)},
                       {Sst(21, "b", "b", 800), Sst(22, "e", "e", 100), Sst(23, "h", "h", 100)}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->target_level, 2u);
  EXPECT_FALSE(task->trivial_move);
  ASSERT_EQ(task->inputs.size(), 2u);
  EXPECT_EQ(task->inputs[0].level_idx, 1u);
  EXPECT_THAT(Ids(task->inputs[0]), ElementsAre(2));
  EXPECT_EQ(task->inputs[1].level_idx, 2u);
  EXPECT_THAT(Ids(task->inputs[1]), ElementsAre(22));
  EXPECT_EQ(task->ToString(), "group 2: L1 (1 ssts) + L2 (1 ssts) -> L2");
}

TEST(PickerTest, DeeperLevelTrivialMoveAndTheHighestScoreWins) {
  // L1: 1100/1000 = 1.1; L2: 25000/10000 = 2.5 wins. Its SST 21 overlaps nothing in L3.
  HummockVersion v = MakeVersion({}, {{Sst(1, "a", "c", 1100)},
                                      {Sst(21, "a", "b", 20000), Sst(22, "c", "d", 5000)},
                                      {Sst(31, "c", "z", 100)}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->target_level, 3u);
  EXPECT_TRUE(task->trivial_move);
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(21));
}

TEST(PickerTest, L0ComesBeforeDeeperLevels) {
  HummockVersion v = MakeVersion({{Sst(11, "a", "b")}, {Sst(12, "a", "b")}, {Sst(13, "a", "b")}},
                                 {{Sst(1, "x", "y", 50'000)}});
  std::optional<CompactionTask> task = PickCompaction(v, SmallConfig());
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->target_level, 1u);
  EXPECT_THAT(task->InputObjectIds(), ElementsAre(11, 12, 13));
}

TEST(PickerTest, TheLastLevelIsNeverPushedDown) {
  HummockVersion v = MakeVersion({}, {{}, {}, {}, {}, {}, {Sst(61, "a", "b", 1ull << 50)}});
  EXPECT_EQ(PickCompaction(v, SmallConfig()), std::nullopt);
}

TEST(PickerTest, LevelTargets) {
  CompactionConfig config = SmallConfig();
  EXPECT_EQ(LevelTargetBytes(config, 1), 1'000u);
  EXPECT_EQ(LevelTargetBytes(config, 2), 10'000u);
  EXPECT_EQ(LevelTargetBytes(config, 6), 100'000'000u);
  config.base_level_size_bytes = UINT64_MAX / 2;
  EXPECT_EQ(LevelTargetBytes(config, 3), UINT64_MAX);  // saturates
}

}  // namespace
}  // namespace rwmeta::hummock
