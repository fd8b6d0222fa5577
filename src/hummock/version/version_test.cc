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

TEST(VersionTest, CommitForAllTablesListsNoTableAndCommitsEveryOne) {
  HummockVersion v = TwoCommits();
  HummockVersionDelta d =
      VersionDeltaBuilder(v).CommitEpochForAllTables(300, 2, {Sst(13, "a", "b")}).Build();
  EXPECT_THAT(d.state_table_info_delta(), IsEmpty());
  EXPECT_EQ(d.all_tables_committed_epoch(), 300u);
  ASSERT_OK(ApplyDelta(&v, d));
  EXPECT_EQ(v.max_committed_epoch(), 300u);
  EXPECT_EQ(CommittedEpoch(v, 1), 300u);
  EXPECT_EQ(CommittedEpoch(v, 2), 300u);
  EXPECT_EQ(CommittedEpoch(v, 3), std::nullopt);  // the all-tables epoch adds no table
  // The entries are not rewritten; CommittedEpoch is how to read them.
  EXPECT_EQ(v.state_table_info().at(1).committed_epoch(), 200u);
  EXPECT_THAT(LevelObjects(v.groups(0).l0_sub_levels(0)), ElementsAre(13));
  // A table committed alone afterwards runs ahead of the others; a new table starts where it is
  // registered.
  ASSERT_OK(ApplyDelta(
      &v, VersionDeltaBuilder(v).CommitEpoch(400, 2, {Sst(14, "a", "b")}, {1, 5}).Build()));
  EXPECT_EQ(CommittedEpoch(v, 1), 400u);
  EXPECT_EQ(CommittedEpoch(v, 2), 300u);
  EXPECT_EQ(CommittedEpoch(v, 5), 400u);
  // A dropped table stays dropped whatever the all-tables epoch.
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).DropTables({2}).Build()));
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpochForAllTables(500, 2, {}).Build()));
  EXPECT_EQ(CommittedEpoch(v, 2), std::nullopt);
  EXPECT_EQ(CommittedEpoch(v, 1), 500u);
  EXPECT_EQ(CommittedEpoch(v, 5), 500u);
}

TEST(VersionTest, DeltasListingEveryTableStillApplyAfterAnAllTablesCommit) {
  // What rwmeta wrote before all_tables_committed_epoch: every table listed, the field 0.
  HummockVersion v = TwoCommits();
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpochForAllTables(300, 2, {}).Build()));
  HummockVersionDelta listing =
      VersionDeltaBuilder(v).CommitEpoch(400, 2, {Sst(20, "a", "b")}, {1, 2}).Build();
  ASSERT_EQ(listing.all_tables_committed_epoch(), 0u);
  ASSERT_OK(ApplyDelta(&v, listing));
  EXPECT_EQ(v.all_tables_committed_epoch(), 300u);  // 0 leaves it as it is
  EXPECT_EQ(CommittedEpoch(v, 1), 400u);
  EXPECT_EQ(CommittedEpoch(v, 2), 400u);
}

TEST(VersionTest, AllTablesEpochNeverGoesBackOrPassesTheMaxOrHidesATableEpoch) {
  HummockVersion v = TwoCommits();
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpochForAllTables(300, 2, {}).Build()));
  HummockVersionDelta back = VersionDeltaBuilder(v).Build();
  back.set_all_tables_committed_epoch(250);
  EXPECT_THAT(ApplyDelta(&v, back), StatusIs(StatusCode::kInvalidArgument,
                                             HasSubstr("every table is committed at goes back")));
  HummockVersionDelta ahead = VersionDeltaBuilder(v).Build();
  ahead.set_all_tables_committed_epoch(350);
  EXPECT_THAT(ApplyDelta(&v, ahead),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("above the max committed epoch")));
  // A table named below the all-tables epoch would read as another epoch than the delta says.
  HummockVersionDelta below = VersionDeltaBuilder(v).Build();
  (*below.mutable_state_table_info_delta())[9].set_committed_epoch(100);
  EXPECT_THAT(ApplyDelta(&v, below),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("committed epoch of table 9, 100, is below the epoch every table "
                                 "is committed at, 300")));
  // Going back is measured against the epoch CommittedEpoch gives, not the entry.
  HummockVersionDelta stale_entry = VersionDeltaBuilder(v).Build();
  (*stale_entry.mutable_state_table_info_delta())[1].set_committed_epoch(250);
  EXPECT_THAT(ApplyDelta(&v, stale_entry),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("committed epoch of table 1 goes back from 300 to 250")));
  EXPECT_EQ(v.id(), 3u);
}

TEST(VersionTest, MaterializedSerializationHoldsEveryTableEpochAndMatchesACopy) {
  HummockVersion v;
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v)
                               .CommitEpoch(100, 3, {Sst(1, "a", "b")}, {7, 8})
                               .CommitEpoch(100, 2, {Sst(2, "a", "b")}, {9})
                               .Build()));
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpochForAllTables(200, 2, {}).Build()));
  ASSERT_OK(ApplyDelta(&v, VersionDeltaBuilder(v).CommitEpoch(300, 3, {}, {8}).Build()));
  HummockVersion copy = v;
  MaterializeCommittedEpochs(&copy);
  EXPECT_EQ(copy.state_table_info().at(7).committed_epoch(), 200u);
  EXPECT_EQ(copy.state_table_info().at(8).committed_epoch(), 300u);
  EXPECT_EQ(copy.state_table_info().at(9).committed_epoch(), 200u);
  for (uint32_t table : {7u, 8u, 9u})
    EXPECT_EQ(CommittedEpoch(copy, table), CommittedEpoch(v, table));
  ASSERT_OK_AND_ASSIGN(std::string materialized, SerializeMaterialized(v));
  EXPECT_EQ(materialized, SerializeDeterministic(copy).value());
  // An empty version, and one with only groups.
  EXPECT_EQ(SerializeMaterialized(HummockVersion()).value(), "");
  HummockVersion groups_only;
  groups_only.add_groups()->set_group_id(2);
  EXPECT_EQ(SerializeMaterialized(groups_only).value(),
            SerializeDeterministic(groups_only).value());
}

// The index the caller keeps in step gives what an index built from the result gives.
void ExpectIndexDescribes(const VersionIndex& index, const HummockVersion& v,
                          const std::vector<std::pair<uint64_t, uint64_t>>& absent) {
  VersionIndex fresh(v);
  for (const CompactionGroup& g : v.groups()) {
    for (uint64_t id : ObjectIds(v)) {
      const VersionIndex::Location* want = fresh.Find(g.group_id(), id);
      const VersionIndex::Location* got = index.Find(g.group_id(), id);
      ASSERT_EQ(want == nullptr, got == nullptr) << "group " << g.group_id() << " object " << id;
      if (want == nullptr) continue;
      EXPECT_EQ(got->level_idx, want->level_idx) << "object " << id;
      EXPECT_EQ(got->sub_level_id, want->sub_level_id) << "object " << id;
    }
  }
  for (const auto& [group, id] : absent) EXPECT_EQ(index.Find(group, id), nullptr) << id;
}

TEST(VersionTest, AKeptIndexFollowsCommitsCompactionsAndMoves) {
  HummockVersion v;
  VersionIndex index(v);
  for (uint64_t e = 1; e <= 4; ++e) {
    ASSERT_OK(
        ApplyDelta(&v, &index,
                   VersionDeltaBuilder(v)
                       .CommitEpochForAllTables(e * 100, 2,
                                                {Sst(10 * e, "c" + std::to_string(e), "d"),
                                                 Sst(10 * e + 1, "a" + std::to_string(e), "b")})
                       .Build()));
  }
  // Objects 10, 11 (sub-level 1) and 20 (sub-level 2) into L1; sub-level 1 empties and goes.
  ASSERT_OK(ApplyDelta(&v, &index,
                       VersionDeltaBuilder(v)
                           .Compact(2, {10, 11, 20}, 1, {Sst(50, "m", "n"), Sst(51, "a", "b")})
                           .Build()));
  ASSERT_EQ(v.groups(0).l0_sub_levels_size(), 3);
  EXPECT_EQ(v.groups(0).l0_sub_levels(2).sub_level_id(), 2u);
  EXPECT_THAT(LevelObjects(v.groups(0).l0_sub_levels(2)), ElementsAre(21));
  // More into L1, merged into key order: "a" < "a3" < "c3" < "m".
  ASSERT_OK(ApplyDelta(&v, &index,
                       VersionDeltaBuilder(v)
                           .Compact(2, {30, 31}, 1, {Sst(30, "c3", "d"), Sst(31, "a3", "b")},
                                    /*trivial_move=*/true)
                           .Build()));
  EXPECT_THAT(LevelObjects(v.groups(0).levels(0)), ElementsAre(51, 31, 30, 50));
  // Into another group and down to L6.
  ASSERT_OK(ApplyDelta(&v, &index,
                       VersionDeltaBuilder(v)
                           .CommitEpoch(500, 3, {Sst(60, "x", "y")}, {4})
                           .Compact(2, {51}, 6, {Sst(51, "a", "b")}, true)
                           .Build()));
  ExpectIndexDescribes(index, v, {{2, 10}, {2, 11}, {2, 20}, {3, 51}});
  EXPECT_EQ(index.Find(2, 51)->level_idx, 6u);
  EXPECT_EQ(index.Find(3, 60)->sub_level_id, 7u);
}

TEST(VersionTest, AFailingDeltaLeavesVersionAndIndexUnchanged) {
  HummockVersion v = TwoCommits();
  VersionIndex index(v);
  const HummockVersion before = v;
  // The first group's changes are fine; the second group's removal is not.
  HummockVersionDelta d = VersionDeltaBuilder(v)
                              .Compact(2, {10, 11}, 1, {Sst(30, "a", "m")})
                              .Compact(3, {12}, 1, {})
                              .Build();
  EXPECT_THAT(ApplyDelta(&v, &index, d),
              StatusIs(StatusCode::kDataLoss, HasSubstr("group 3: removes object 12")));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(v, before));
  ExpectIndexDescribes(index, v, {{2, 30}});
  // An object inserted twice by one delta.
  HummockVersionDelta twice =
      VersionDeltaBuilder(v).Compact(2, {}, 1, {Sst(31, "a", "b"), Sst(31, "c", "d")}).Build();
  EXPECT_THAT(ApplyDelta(&v, &index, twice),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("inserts object 31")));
  // A new sub-level not newer than the newest left after removals: sub-level 2 empties and goes,
  // so a new sub-level 2 is newer than the newest (1) left.
  HummockVersionDelta reuse = VersionDeltaBuilder(v).Compact(2, {12}, 1, {}).Build();
  LevelInsert* l0 = reuse.mutable_group_deltas(0)->add_inserts();
  l0->set_sub_level_id(2);
  *l0->add_inserted() = Sst(32, "a", "b");
  ASSERT_OK(ApplyDelta(&v, &index, reuse));
  EXPECT_THAT(LevelObjects(v.groups(0).l0_sub_levels(0)), ElementsAre(32));
  EXPECT_EQ(v.groups(0).l0_sub_levels(0).sub_level_id(), 2u);
  ExpectIndexDescribes(index, v, {{2, 12}});
  HummockVersionDelta older = VersionDeltaBuilder(v).Build();
  LevelInsert* l0_old = older.add_group_deltas()->add_inserts();
  older.mutable_group_deltas(0)->set_group_id(2);
  l0_old->set_sub_level_id(2);
  *l0_old->add_inserted() = Sst(33, "a", "b");
  EXPECT_THAT(ApplyDelta(&v, &index, older),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("new L0 sub-level 2 is not newer than sub-level 2")));
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
  v.set_all_tables_committed_epoch(uint64_t{3000} << 16);  // half the entries are older
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

TEST(SerializeMaterializedToTest, GivesTheSameBytesInPiecesAfterTheirSize) {
  const HummockVersion v = BigVersion();
  ASSERT_OK_AND_ASSIGN(std::string whole, SerializeMaterialized(v));
  uint64_t size = 0;
  std::string joined;
  size_t pieces = 0, largest = 0;
  ASSERT_OK(SerializeMaterializedTo(
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

TEST(SerializeMaterializedToTest, AnErrorOfEitherCallbackIsReturned) {
  const HummockVersion v = BigVersion();
  auto ok_size = [](uint64_t) { return Status::Ok(); };
  auto ok_sink = [](std::string_view) { return Status::Ok(); };
  EXPECT_THAT(SerializeMaterializedTo(
                  v, [](uint64_t) { return UnavailableError("size refused"); }, ok_sink),
              StatusIs(StatusCode::kUnavailable, HasSubstr("size refused")));
  int calls = 0;
  EXPECT_THAT(SerializeMaterializedTo(v, ok_size,
                                      [&](std::string_view) {
                                        return ++calls == 2 ? UnavailableError("store gone")
                                                            : Status::Ok();
                                      }),
              StatusIs(StatusCode::kUnavailable, HasSubstr("store gone")));
  EXPECT_EQ(calls, 2);  // nothing more after the error
}

}  // namespace
}  // namespace rwmeta::hummock
