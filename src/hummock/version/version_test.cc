#include "hummock/version/version.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

SstableInfo Sst(uint64_t object_id, std::string smallest, std::string largest, uint64_t size = 100,
                std::vector<uint32_t> tables = {1}) {
  SstableInfo sst;
  sst.set_object_id(object_id);
  sst.set_sst_id(object_id);
  sst.set_smallest_key(std::move(smallest));
  sst.set_largest_key(std::move(largest));
  sst.set_file_size(size);
  for (uint32_t t : tables) sst.add_table_ids(t);
  return sst;
}

std::vector<uint64_t> LevelObjects(const Level& level) {
  std::vector<uint64_t> ids;
  for (const SstableInfo& s : level.table_infos()) ids.push_back(s.object_id());
  return ids;
}

// Version 2: group 2 with two L0 sub-levels (objects 10,11 at epoch 100; 12 at epoch 200).
HummockVersion TwoCommits() {
  HummockVersion v;
  EXPECT_OK(ApplyDelta(&v, VersionDeltaBuilder(v)
                               .CommitEpoch(100, 2, {Sst(10, "a", "f"), Sst(11, "g", "m")}, {1})
                               .Build()));
  EXPECT_OK(ApplyDelta(
      &v, VersionDeltaBuilder(v).CommitEpoch(200, 2, {Sst(12, "c", "z")}, {1, 2}).Build()));
  return v;
}

TEST(VersionTest, CommitEpochAddsNewestL0SubLevelFirstAndTableEpochs) {
  HummockVersion v = TwoCommits();
  EXPECT_EQ(v.id(), 2u);
  EXPECT_EQ(v.max_committed_epoch(), 200u);
  ASSERT_EQ(v.groups_size(), 1);
  const CompactionGroup& g = v.groups(0);
  EXPECT_EQ(g.group_id(), 2u);
  ASSERT_EQ(g.l0_sub_levels_size(), 2);
  EXPECT_EQ(g.l0_sub_levels(0).sub_level_id(), 2u);
  EXPECT_THAT(LevelObjects(g.l0_sub_levels(0)), ElementsAre(12));
  EXPECT_EQ(g.l0_sub_levels(1).sub_level_id(), 1u);
  EXPECT_THAT(LevelObjects(g.l0_sub_levels(1)), ElementsAre(10, 11));
  ASSERT_EQ(g.levels_size(), 6);
  EXPECT_EQ(g.levels(5).level_idx(), 6u);
  EXPECT_EQ(CommittedEpoch(v, 1), 200u);
  EXPECT_EQ(CommittedEpoch(v, 2), 200u);
  EXPECT_EQ(CommittedEpoch(v, 3), std::nullopt);
  EXPECT_EQ(v.state_table_info().at(2).compaction_group_id(), 2u);
  EXPECT_EQ(SstCount(v), 3u);
  EXPECT_THAT(ObjectIds(v), ElementsAre(10, 11, 12));
}

TEST(VersionTest, DeltaForAnotherVersionIsFailedPrecondition) {
  HummockVersion v = TwoCommits();
  HummockVersion old;
  old.set_id(1);
  HummockVersionDelta stale = VersionDeltaBuilder(old).SetSafeEpoch(0).Build();
  EXPECT_THAT(ApplyDelta(&v, stale), StatusIs(StatusCode::kFailedPrecondition,
                                              HasSubstr("follows version 1, not version 2")));
  EXPECT_EQ(v.id(), 2u);
}

TEST(VersionTest, CompactionReplacesInputsWithSortedOutputs) {
  HummockVersion v = TwoCommits();
  HummockVersionDelta d =
      VersionDeltaBuilder(v)
          .Compact(2, {10, 11, 12}, 1, {Sst(21, "n", "z", 70), Sst(20, "a", "m", 50)})
          .Build();
  EXPECT_THAT(d.stale_object_ids(), ElementsAre(10, 11, 12));
  EXPECT_THAT(d.new_object_ids(), ElementsAre(21, 20));
  ASSERT_OK(ApplyDelta(&v, d));
  const CompactionGroup& g = v.groups(0);
  EXPECT_THAT(g.l0_sub_levels(), IsEmpty());                    // emptied sub-levels are dropped
  EXPECT_THAT(LevelObjects(g.levels(0)), ElementsAre(20, 21));  // sorted by smallest key
  EXPECT_THAT(ObjectIds(v), ElementsAre(20, 21));
  EXPECT_EQ(SstCount(v), 2u);
  std::vector<LevelSize> sizes = LevelSizes(v);
  ASSERT_EQ(sizes.size(), 6u);
  EXPECT_EQ(sizes[0],
            (LevelSize{.group_id = 2, .level_idx = 1, .sst_count = 2, .size_bytes = 120}));
  EXPECT_EQ(sizes[1], (LevelSize{.group_id = 2, .level_idx = 2}));
  // Epochs are untouched by compaction.
  EXPECT_EQ(v.max_committed_epoch(), 200u);
  EXPECT_EQ(CommittedEpoch(v, 1), 200u);
}

TEST(VersionTest, TrivialMoveKeepsObjectsAndMarksDelta) {
  HummockVersion v = TwoCommits();
  HummockVersionDelta d = VersionDeltaBuilder(v)
                              .Compact(2, {12}, 3, {Sst(12, "c", "z")}, /*trivial_move=*/true)
                              .Build();
  EXPECT_TRUE(d.trivial_move());
  EXPECT_THAT(d.stale_object_ids(), IsEmpty());
  EXPECT_THAT(d.new_object_ids(), IsEmpty());
  ASSERT_OK(ApplyDelta(&v, d));
  EXPECT_THAT(LevelObjects(v.groups(0).levels(2)), ElementsAre(12));
  ASSERT_EQ(v.groups(0).l0_sub_levels_size(), 1);
  EXPECT_THAT(ObjectIds(v), ElementsAre(10, 11, 12));
}

TEST(VersionTest, RemovingAnAbsentSstIsDataLossAndLeavesVersionUnchanged) {
  HummockVersion v = TwoCommits();
  HummockVersion before = v;
  HummockVersionDelta d =
      VersionDeltaBuilder(v).Compact(2, {10, 99}, 1, {Sst(30, "a", "b")}).Build();
  EXPECT_THAT(ApplyDelta(&v, d), StatusIs(StatusCode::kDataLoss, HasSubstr("removes object 99")));
  // Compared field by field: map serialization order is not deterministic.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(v, before));
  // The same object in a group that does not hold it.
  HummockVersionDelta other = VersionDeltaBuilder(v).Compact(3, {10}, 1, {}).Build();
  EXPECT_THAT(ApplyDelta(&v, other),
              StatusIs(StatusCode::kDataLoss, HasSubstr("group 3: removes object 10")));
}

TEST(VersionTest, DropTablesRemovesStateTableInfo) {
  HummockVersion v = TwoCommits();
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).DropTables({2}).Build()));
  EXPECT_EQ(CommittedEpoch(v, 2), std::nullopt);
  EXPECT_EQ(CommittedEpoch(v, 1), 200u);
  EXPECT_EQ(SstCount(v), 3u);  // data stays until compaction
  EXPECT_THAT(ApplyDelta(&v, VersionDeltaBuilder(v).DropTables({2}).Build()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("removes table 2")));
}

TEST(VersionTest, SafeEpochRisesAndNeverPassesCommittedOrGoesBack) {
  HummockVersion v = TwoCommits();
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).SetSafeEpoch(150).Build()));
  EXPECT_EQ(v.safe_epoch(), 150u);
  EXPECT_THAT(ApplyDelta(&v, VersionDeltaBuilder(v).SetSafeEpoch(300).Build()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("above the max committed")));
  HummockVersionDelta back = VersionDeltaBuilder(v).Build();
  back.set_safe_epoch(100);
  EXPECT_THAT(ApplyDelta(&v, back),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("safe epoch goes back")));
  EXPECT_EQ(v.safe_epoch(), 150u);
}

TEST(VersionTest, InvalidDeltasAreRefused) {
  HummockVersion v = TwoCommits();
  // A table's committed epoch going back.
  EXPECT_THAT(
      ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpoch(150, 2, {Sst(40, "a", "b")}, {1}).Build()),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("committed epoch of table 1")));
  // Level above L6.
  EXPECT_THAT(ApplyDelta(&v, VersionDeltaBuilder(v).Compact(2, {}, 7, {Sst(41, "a", "b")}).Build()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("level 7")));
  // Inserting an object the group already holds.
  EXPECT_THAT(ApplyDelta(&v, VersionDeltaBuilder(v).Compact(2, {}, 1, {Sst(10, "a", "b")}).Build()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("object 10")));
  // An L0 sub-level that is not newer than the newest.
  HummockVersionDelta old_sub =
      VersionDeltaBuilder(v).CommitEpoch(300, 2, {Sst(42, "a", "b")}, {1}).Build();
  old_sub.mutable_group_deltas(0)->mutable_inserts(0)->set_sub_level_id(1);
  EXPECT_THAT(ApplyDelta(&v, old_sub),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not newer")));
  // id not above prev_id.
  HummockVersionDelta same_id = VersionDeltaBuilder(v).Build();
  same_id.set_id(2);
  EXPECT_THAT(ApplyDelta(&v, same_id), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(v.id(), 2u);
  EXPECT_EQ(SstCount(v), 3u);
}

TEST(VersionTest, MalformedStoredVersionIsDataLossNotACrash) {
  HummockVersion v = TwoCommits();
  v.mutable_groups(0)->mutable_levels()->RemoveLast();  // only L1..L5
  EXPECT_THAT(
      ApplyDelta(&v, VersionDeltaBuilder(v).Compact(2, {12}, 6, {Sst(12, "c", "z")}).Build()),
      StatusIs(StatusCode::kDataLoss, HasSubstr("5 levels below L0")));
}

TEST(VersionTest, GroupsStaySortedById) {
  HummockVersion v;
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v)
                               .CommitEpoch(10, 5, {Sst(1, "a", "b")}, {7})
                               .CommitEpoch(10, 3, {Sst(2, "a", "b")}, {8})
                               .Build()));
  ASSERT_OK(
      ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpoch(20, 4, {Sst(3, "a", "b")}, {9}).Build()));
  ASSERT_EQ(v.groups_size(), 3);
  EXPECT_EQ(v.groups(0).group_id(), 3u);
  EXPECT_EQ(v.groups(1).group_id(), 4u);
  EXPECT_EQ(v.groups(2).group_id(), 5u);
  EXPECT_THAT(ObjectIds(v), ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace rwmeta::hummock

namespace rwmeta::hummock {
namespace {

// A version big enough to need several pieces: 5,000 SSTs and 5,000 state tables (a map, whose
// order the deterministic form fixes).
HummockVersion BigVersion() {
  HummockVersion v;
  v.set_id(7);
  CompactionGroup* group = v.add_groups();
  group->set_group_id(2);
  Level* level = group->add_levels();
  level->set_level_idx(1);
  for (uint64_t i = 1; i <= 5000; ++i) {
    SstableInfo* sst = level->add_table_infos();
    sst->set_object_id(i);
    sst->set_sst_id(i);
    sst->set_smallest_key("key-" + std::to_string(i * 2));
    sst->set_largest_key("key-" + std::to_string(i * 2 + 1));
    (*v.mutable_state_table_info())[static_cast<uint32_t>(i)].set_committed_epoch(i << 16);
  }
  return v;
}

TEST(SerializeDeterministicToTest, GivesTheSameBytesInPiecesAfterTheirSize) {
  const HummockVersion v = BigVersion();
  ASSERT_OK_AND_ASSIGN(std::string whole, SerializeDeterministic(v));
  uint64_t size = 0;
  std::string joined;
  size_t pieces = 0, largest = 0;
  ASSERT_OK(SerializeDeterministicTo(
      v,
      [&](uint64_t s) {
        EXPECT_TRUE(joined.empty());  // the size comes first
        size = s;
        return Status::Ok();
      },
      [&](std::string_view piece) {
        joined.append(piece);
        ++pieces;
        largest = std::max(largest, piece.size());
        return Status::Ok();
      }));
  EXPECT_EQ(size, whole.size());
  EXPECT_EQ(joined, whole);
  EXPECT_GT(pieces, 1u);
  EXPECT_LE(largest, 64u * 1024);
}

TEST(SerializeDeterministicToTest, AnErrorOfEitherCallbackIsReturned) {
  const HummockVersion v = BigVersion();
  auto ok_size = [](uint64_t) { return Status::Ok(); };
  auto ok_sink = [](std::string_view) { return Status::Ok(); };
  EXPECT_THAT(SerializeDeterministicTo(
                  v, [](uint64_t) { return UnavailableError("size refused"); }, ok_sink),
              StatusIs(StatusCode::kUnavailable, HasSubstr("size refused")));
  int calls = 0;
  EXPECT_THAT(SerializeDeterministicTo(v, ok_size,
                                       [&](std::string_view) {
                                         return ++calls == 2 ? UnavailableError("store gone")
                                                             : Status::Ok();
                                       }),
              StatusIs(StatusCode::kUnavailable, HasSubstr("store gone")));
  EXPECT_EQ(calls, 2);  // nothing more after the error
}

}  // namespace
}  // namespace rwmeta::hummock
