#include "hummock/compaction/compactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "hummock/compaction/picker.h"
#include "hummock/sst/key.h"
#include "hummock/sst/sst_reader.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/version/version.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr uint64_t kGroup = 2;
constexpr std::string_view kDir = "hummock_001";

// One entry as the tests write and read it: table 1 unless given.
struct E {
  std::string user_key;
  uint64_t epoch;
  std::optional<std::string> value;  // nullopt: tombstone
  uint32_t table = 1;
};

E Put(std::string k, uint64_t epoch, std::string v, uint32_t table = 1) {
  return {std::move(k), epoch, std::move(v), table};
}
E Del(std::string k, uint64_t epoch, uint32_t table = 1) {
  return {std::move(k), epoch, std::nullopt, table};
}

// "t1/a@5=v" or "t1/a@5 DEL".
std::string Show(uint32_t table, std::string_view user_key, uint64_t epoch, bool tombstone,
                 std::string_view value) {
  std::string s =
      "t" + std::to_string(table) + "/" + std::string(user_key) + "@" + std::to_string(epoch);
  return tombstone ? s + " DEL" : s + "=" + std::string(value);
}

class CompactorTest : public ::testing::Test {
 protected:
  CompactorTest() : store_(std::make_unique<objstore::MemoryObjectStore>()) {
    // Tables 1 and 2 exist; table 3 does not (dropped).
    (*base_.mutable_state_table_info())[1].set_compaction_group_id(kGroup);
    (*base_.mutable_state_table_info())[2].set_compaction_group_id(kGroup);
    base_.set_id(5);
    base_.set_max_committed_epoch(1000);
    CompactionGroup* g = base_.add_groups();
    g->set_group_id(kGroup);
    for (uint32_t i = 1; i <= kMaxLevel; ++i) g->add_levels()->set_level_idx(i);
    config_.target_file_size_bytes = 1 << 20;
    config_.output_sst_options.block_size_bytes = 256;
  }

  // Writes SST `id` holding `entries` (any order) and returns its info.
  SstableInfo WriteSst(uint64_t id, std::vector<E> entries) {
    std::sort(entries.begin(), entries.end(), [](const E& a, const E& b) {
      return CompareFullKeys(EncodeFullKey(a.table, a.user_key, a.epoch),
                             EncodeFullKey(b.table, b.user_key, b.epoch)) < 0;
    });
    auto out = store_->OpenWriter(SstObjectKey(kDir, id));
    EXPECT_OK(out);
    SstWriter writer(std::move(out).value(), {.object_id = id, .block_size_bytes = 128});
    for (const E& e : entries) {
      EXPECT_OK(writer.Add(e.table, e.user_key, e.epoch,
                           e.value ? Value::Put(*e.value) : Value::Delete()));
    }
    Result<SstInfo> info = writer.Finish();
    EXPECT_OK(info);
    return ToSstableInfo(*info);
  }

  // Adds `sst` as a new L0 sub-level (newest so far) of the base version.
  void AddL0(const SstableInfo& sst) {
    CompactionGroup* g = base_.mutable_groups(0);
    Level* sub = g->add_l0_sub_levels();
    sub->set_level_idx(0);
    sub->set_sub_level_id(++next_sub_level_);
    *sub->add_table_infos() = sst;
    for (int i = g->l0_sub_levels_size() - 1; i > 0; --i) {
      g->mutable_l0_sub_levels()->SwapElements(i, i - 1);
    }
  }
  void AddToLevel(uint32_t level_idx, const SstableInfo& sst) {
    *base_.mutable_groups(0)->mutable_levels(static_cast<int>(level_idx - 1))->add_table_infos() =
        sst;
  }

  // An L0 -> L1 task over every L0 sub-level and every L1 SST.
  CompactionTask L0Task() const {
    CompactionTask task;
    task.group_id = kGroup;
    task.target_level = 1;
    for (const Level& sub : base_.groups(0).l0_sub_levels()) {
      task.inputs.push_back(
          {0, sub.sub_level_id(), {sub.table_infos().begin(), sub.table_infos().end()}});
    }
    const Level& l1 = base_.groups(0).levels(0);
    task.inputs.push_back({1, 0, {l1.table_infos().begin(), l1.table_infos().end()}});
    return task;
  }

  NewObjectIdFn Ids() {
    return [this]() -> Result<uint64_t> { return next_object_id_++; };
  }

  // Every entry of the SSTs, in order, as Show() strings.
  std::vector<std::string> ReadAll(const std::vector<SstableInfo>& ssts) {
    std::vector<std::string> out;
    for (const SstableInfo& sst : ssts) {
      auto reader = SstReader::Open(*store_, SstObjectKey(kDir, sst.object_id()), 0);
      EXPECT_OK(reader);
      if (!reader.ok()) continue;
      auto it = (*reader)->NewIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        FullKeyView k = DecodeFullKey(it->key()).value();
        out.push_back(Show(k.table_id, k.user_key, k.epoch, it->tombstone(), it->value()));
      }
      EXPECT_OK(it->status());
    }
    return out;
  }

  std::vector<std::string> StoredKeys() {
    std::vector<std::string> keys;
    auto listed = store_->List("");
    EXPECT_OK(listed);
    if (!listed.ok()) return keys;
    for (const auto& meta : *listed) keys.push_back(meta.key);
    return keys;
  }

  std::unique_ptr<objstore::ObjectStore> store_;
  HummockVersion base_;
  CompactionConfig config_;
  uint64_t next_sub_level_ = 0;
  uint64_t next_object_id_ = 100;
};

TEST_F(CompactorTest, KeepsEveryVersionAboveTheSafeEpochAndTheNewestAtOrBelowIt) {
  base_.set_safe_epoch(8);
  AddL0(WriteSst(1, {Put("a", 3, "a3"), Put("b", 2, "b2"), Put("c", 9, "c9")}));
  AddL0(WriteSst(2, {Put("a", 5, "a5"), Put("a", 8, "a8"), Put("c", 7, "c7"), Put("c", 4, "c4")}));
  AddL0(WriteSst(3, {Put("a", 12, "a12")}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  EXPECT_THAT(ReadAll(r.new_ssts),
              ElementsAre("t1/a@12=a12", "t1/a@8=a8", "t1/b@2=b2", "t1/c@9=c9", "t1/c@7=c7"));
  EXPECT_EQ(r.stats, (CompactionStats{.input_keys = 8,
                                      .output_keys = 5,
                                      .dropped_table_keys = 0,
                                      .dropped_stale_versions = 3,
                                      .dropped_tombstones = 0}));
}

TEST_F(CompactorTest, DropsTombstonesAtOrBelowTheSafeEpochAtTheBottom) {
  base_.set_safe_epoch(8);
  AddL0(WriteSst(1, {Put("a", 4, "a4"), Put("b", 4, "b4"), Del("c", 5), Put("d", 2, "d2")}));
  AddL0(
      WriteSst(2, {Del("a", 6), Del("b", 9), Put("c", 7, "c7"), Del("d", 8), Put("d", 10, "d10")}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  // a: del@6 is the newest at or below 8 and nothing lies below L1: a is gone entirely.
  // b: del@9 is above the safe epoch (a reader at 8 still sees b4): both stay.
  // c: put@7 is the newest at or below 8; del@5 is an older version.
  // d: put@10 stays; del@8 at the safe epoch goes, and d2 below it.
  EXPECT_THAT(ReadAll(r.new_ssts),
              ElementsAre("t1/b@9 DEL", "t1/b@4=b4", "t1/c@7=c7", "t1/d@10=d10"));
  EXPECT_EQ(r.stats.dropped_tombstones, 2u);
  EXPECT_EQ(r.stats.dropped_stale_versions, 3u);  // a4, c del@5, d2
}

TEST_F(CompactorTest, KeepsTombstonesWhenALowerLevelHoldsTheKey) {
  base_.set_safe_epoch(8);
  // L3 holds "b".."c": a tombstone there must keep shadowing it.
  AddToLevel(3, WriteSst(50, {Put("b", 1, "old b"), Put("c", 1, "old c")}));
  AddToLevel(1, WriteSst(10, {Put("a", 2, "a2"), Put("b", 2, "b2")}));
  AddL0(WriteSst(1, {Del("a", 6), Del("b", 6), Put("b", 5, "b5")}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  EXPECT_THAT(ReadAll(r.new_ssts), ElementsAre("t1/b@6 DEL"));
  EXPECT_EQ(r.stats.dropped_tombstones, 1u);      // a
  EXPECT_EQ(r.stats.dropped_stale_versions, 3u);  // a2, b5, b2
  // The L3 object is not an input and stays untouched.
  EXPECT_THAT(r.delta.stale_object_ids(), ElementsAre(1, 10));
}

TEST_F(CompactorTest, DropsTheDataOfDroppedTables) {
  AddL0(WriteSst(1, {Put("a", 3, "x", 1), Put("a", 3, "y", 3), Put("b", 4, "z", 3)}));
  AddL0(WriteSst(2, {Put("a", 5, "w", 2), Del("c", 6, 3)}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  EXPECT_THAT(ReadAll(r.new_ssts), ElementsAre("t1/a@3=x", "t2/a@5=w"));
  EXPECT_EQ(r.stats.dropped_table_keys, 3u);
  ASSERT_EQ(r.new_ssts.size(), 1u);
  EXPECT_THAT(r.new_ssts[0].table_ids(), ElementsAre(1, 2));
}

TEST_F(CompactorTest, EverythingDroppedWritesNoOutput) {
  AddL0(WriteSst(1, {Put("a", 3, "y", 3)}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  EXPECT_THAT(r.new_ssts, IsEmpty());
  EXPECT_THAT(r.delta.stale_object_ids(), ElementsAre(1));
  EXPECT_THAT(StoredKeys(), ElementsAre("hummock_001/1.data"));
  ASSERT_OK(ApplyDelta(&base_, r.delta));
  EXPECT_EQ(SstCount(base_), 0u);
}

TEST_F(CompactorTest, TheEarlierInputWinsForTheSameFullKey) {
  AddL0(WriteSst(1, {Put("a", 3, "older sub-level")}));
  AddL0(WriteSst(2, {Put("a", 3, "newer sub-level")}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  EXPECT_THAT(ReadAll(r.new_ssts), ElementsAre("t1/a@3=newer sub-level"));
}

TEST_F(CompactorTest, SplitsAtTheTargetSizeButNeverWithinAUserKey) {
  std::vector<E> entries;
  for (int k = 0; k < 40; ++k) {
    char uk[8];
    snprintf(uk, sizeof(uk), "k%03d", k);
    // 1 to 4 versions per key, 20-byte values.
    for (int v = 0; v <= k % 4; ++v) {
      entries.push_back(Put(uk, 100 + v, std::string(20, static_cast<char>('a' + v))));
    }
  }
  AddL0(WriteSst(1, entries));
  config_.target_file_size_bytes = 300;
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  ASSERT_GT(r.new_ssts.size(), 3u);
  EXPECT_EQ(r.stats.output_keys, entries.size());
  std::set<std::string> seen_user_keys;
  for (size_t i = 0; i < r.new_ssts.size(); ++i) {
    const SstableInfo& sst = r.new_ssts[i];
    EXPECT_EQ(sst.object_id(), 100 + i);
    // Bytes counted the compactor's way: key + value + the flag byte, per entry.
    uint64_t bytes = 0;
    std::set<std::string> user_keys;
    auto reader = SstReader::Open(*store_, SstObjectKey(kDir, sst.object_id()), 0).value();
    auto it = reader->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->key().size() + it->value().size() + 1;
      user_keys.insert(std::string(TableUserKeyOf(it->key())));
    }
    // An entry is 4 (table) + 4 (user key) + 8 (epoch) + 21 (flag and value) = 37 bytes; a key
    // has at most 4 versions.
    if (i + 1 < r.new_ssts.size()) {
      EXPECT_GE(bytes, 300u) << "output " << i;
      EXPECT_LT(bytes, 300u + 4 * 37) << "output " << i;
    }
    for (const std::string& uk : user_keys) {
      EXPECT_TRUE(seen_user_keys.insert(uk).second) << "a user key in two outputs";
    }
    if (i > 0) {
      EXPECT_LT(TableUserKeyOf(r.new_ssts[i - 1].largest_key()),
                TableUserKeyOf(sst.smallest_key()));
    }
  }
  EXPECT_EQ(seen_user_keys.size(), 40u);
  // The outputs form a valid L1.
  ASSERT_OK(ApplyDelta(&base_, r.delta));
  EXPECT_EQ(base_.groups(0).levels(0).table_infos_size(), static_cast<int>(r.new_ssts.size()));
}

TEST_F(CompactorTest, DeltaRemovesInputsAndInsertsOutputsIntoTheTargetLevel) {
  AddToLevel(1, WriteSst(10, {Put("a", 2, "a2")}));
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  AddL0(WriteSst(2, {Put("b", 3, "b3")}));
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_));
  ASSERT_EQ(r.new_ssts.size(), 1u);
  EXPECT_EQ(r.delta.prev_id(), 5u);
  EXPECT_EQ(r.delta.id(), 6u);
  EXPECT_THAT(r.delta.stale_object_ids(), ElementsAre(2, 1, 10));
  EXPECT_THAT(r.delta.new_object_ids(), ElementsAre(100));
  EXPECT_FALSE(r.delta.trivial_move());
  ASSERT_OK(ApplyDelta(&base_, r.delta));
  EXPECT_EQ(base_.groups(0).l0_sub_levels_size(), 0);
  EXPECT_THAT(ObjectIds(base_), ElementsAre(100));
  EXPECT_EQ(base_.groups(0).levels(0).table_infos(0).object_id(), 100u);
}

TEST_F(CompactorTest, TrivialMoveRewritesNothing) {
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  AddL0(WriteSst(2, {Put("b", 3, "b3")}));
  std::optional<CompactionTask> task =
      PickCompaction(base_, {.l0_sub_level_trigger = 2, .l0_size_trigger_bytes = 1ull << 30});
  ASSERT_TRUE(task.has_value());
  ASSERT_TRUE(task->trivial_move);
  const std::vector<std::string> before = StoredKeys();
  int ids_taken = 0;
  ASSERT_OK_AND_ASSIGN(
      CompactionResult r,
      RunCompaction(
          *store_, kDir, base_, *task, [&]() -> Result<uint64_t> { return ++ids_taken; }, config_));
  EXPECT_EQ(ids_taken, 0);
  EXPECT_THAT(r.new_ssts, IsEmpty());
  EXPECT_TRUE(r.delta.trivial_move());
  EXPECT_THAT(r.delta.stale_object_ids(), IsEmpty());
  EXPECT_THAT(r.delta.new_object_ids(), IsEmpty());
  EXPECT_EQ(StoredKeys(), before);
  ASSERT_OK(ApplyDelta(&base_, r.delta));
  EXPECT_EQ(base_.groups(0).l0_sub_levels_size(), 0);
  ASSERT_EQ(base_.groups(0).levels(0).table_infos_size(), 2);
  EXPECT_EQ(base_.groups(0).levels(0).table_infos(0).object_id(), 1u);
  EXPECT_EQ(base_.groups(0).levels(0).table_infos(1).object_id(), 2u);
}

TEST_F(CompactorTest, RebasesOntoANewerVersionUnlessAnInputIsGone) {
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  AddL0(WriteSst(2, {Put("a", 4, "a4")}));
  const CompactionTask task = L0Task();
  ASSERT_OK_AND_ASSIGN(CompactionResult r,
                       RunCompaction(*store_, kDir, base_, task, Ids(), config_));
  // Meanwhile a commit adds a newer L0 sub-level and raises the safe epoch.
  HummockVersion current = base_;
  ASSERT_OK(
      ApplyDelta(&current, VersionDeltaBuilder(current)
                               .CommitEpoch(1001, kGroup, {WriteSst(3, {Put("a", 1001, "n")})}, {1})
                               .SetSafeEpoch(500)
                               .Build()));
  EXPECT_THAT(ApplyDelta(&current, r.delta), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(HummockVersionDelta rebased, RebaseCompactionDelta(current, task, r));
  EXPECT_EQ(rebased.prev_id(), current.id());
  EXPECT_THAT(rebased.stale_object_ids(), ElementsAre(2, 1));
  ASSERT_OK(ApplyDelta(&current, rebased));
  EXPECT_THAT(ObjectIds(current), ElementsAre(3, 100));
  EXPECT_EQ(current.groups(0).l0_sub_levels_size(), 1);
  EXPECT_EQ(current.safe_epoch(), 500u);

  // Once an input has left the version, the compaction lost: Aborted.
  EXPECT_THAT(RebaseCompactionDelta(current, task, r),
              StatusIs(StatusCode::kAborted, HasSubstr("input object 2 is no longer in version")));
}

TEST_F(CompactorTest, MissingInputIsNotFoundNamingTheObject) {
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  AddL0(WriteSst(2, {Put("b", 3, "b3")}));
  ASSERT_OK(store_->Delete(SstObjectKey(kDir, 2)));
  EXPECT_THAT(RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_),
              StatusIs(StatusCode::kNotFound, HasSubstr("2.data")));
  EXPECT_THAT(StoredKeys(), ElementsAre("hummock_001/1.data"));
}

TEST_F(CompactorTest, CorruptInputIsDataLossNamingTheObjectAndLeavesNoOutput) {
  std::vector<E> entries;
  for (int k = 0; k < 50; ++k) entries.push_back(Put("k" + std::to_string(100 + k), 3, "vvvv"));
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  SstableInfo big = WriteSst(2, entries);
  AddL0(big);
  // Flip one byte in the middle of a data block: the footer and index still read fine, so the
  // damage shows only once the merge reaches that block, after output has been written.
  std::string bytes = store_->Get(SstObjectKey(kDir, 2)).value();
  bytes[bytes.size() / 3] ^= 0x40;
  ASSERT_OK(store_->Put(SstObjectKey(kDir, 2), bytes));
  config_.target_file_size_bytes = 50;  // several outputs before the failure
  EXPECT_THAT(RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_),
              StatusIs(StatusCode::kDataLoss, HasSubstr("sst 2.data")));
  EXPECT_GT(next_object_id_, 101u);  // outputs were started ...
  EXPECT_THAT(StoredKeys(),          // ... and deleted again
              ElementsAre("hummock_001/1.data", "hummock_001/2.data"));
}

TEST_F(CompactorTest, WriteFailureDeletesEveryOutput) {
  auto faulty = std::make_unique<objstore::FaultInjectionObjectStore>(std::move(store_));
  objstore::FaultInjectionObjectStore* fault = faulty.get();
  store_ = std::move(faulty);
  std::vector<E> entries;
  for (int k = 0; k < 30; ++k) entries.push_back(Put("k" + std::to_string(100 + k), 3, "vvvv"));
  AddL0(WriteSst(1, entries));
  config_.target_file_size_bytes = 100;
  fault->InjectFault({.op = objstore::ObjectStoreOp::kWriterFinish,
                      .nth = 3,
                      .status = UnavailableError("injected finish failure")});
  EXPECT_THAT(RunCompaction(*store_, kDir, base_, L0Task(), Ids(), config_),
              StatusIs(StatusCode::kUnavailable, HasSubstr("injected finish failure")));
  EXPECT_EQ(next_object_id_, 103u);
  EXPECT_THAT(StoredKeys(), ElementsAre("hummock_001/1.data"));
}

TEST_F(CompactorTest, ObjectIdErrorIsReturned) {
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  EXPECT_THAT(RunCompaction(
                  *store_, kDir, base_, L0Task(),
                  []() -> Result<uint64_t> { return UnavailableError("meta down"); }, config_),
              StatusIs(StatusCode::kUnavailable, HasSubstr("meta down")));
  EXPECT_THAT(StoredKeys(), ElementsAre("hummock_001/1.data"));
}

TEST_F(CompactorTest, RefusesMalformedTasksAndTasksOfAnotherVersion) {
  AddL0(WriteSst(1, {Put("a", 3, "a3")}));
  CompactionTask task = L0Task();
  task.inputs[0].ssts[0].set_object_id(77);
  EXPECT_THAT(
      RunCompaction(*store_, kDir, base_, task, Ids(), config_),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("input object 77 is not in version 5")));
  task = L0Task();
  task.target_level = 7;
  EXPECT_THAT(RunCompaction(*store_, kDir, base_, task, Ids(), config_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("target level")));
  task = L0Task();
  task.group_id = 9;
  EXPECT_THAT(RunCompaction(*store_, kDir, base_, task, Ids(), config_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no group 9")));
  EXPECT_THAT(
      RunCompaction(*store_, kDir, base_, CompactionTask{.group_id = kGroup}, Ids(), config_),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("no inputs")));
}

// ---- randomized: compaction never changes what a reader at or above the safe epoch sees ----

using Model =
    std::map<std::pair<uint32_t, std::string>, std::map<uint64_t, std::optional<std::string>>>;

// What a reader at `epoch` sees for one key: the newest version <= epoch, nullopt if a tombstone
// or none.
std::optional<std::string> VisibleAt(const std::map<uint64_t, std::optional<std::string>>& versions,
                                     uint64_t epoch) {
  auto it = versions.upper_bound(epoch);
  if (it == versions.begin()) return std::nullopt;
  return std::prev(it)->second;
}

class CompactorRandomizedTest : public CompactorTest,
                                public ::testing::WithParamInterface<uint32_t> {};

// Random puts and deletes in tables 1..3 at increasing epochs, one L0 sub-level per epoch, table 3
// dropped half-way, the safe epoch trailing: after every compaction PickCompaction asks for, the
// newest visible value of every key at every epoch >= the safe epoch is what the model says.
TEST_P(CompactorRandomizedTest, ReadsAtOrAboveTheSafeEpochAreUnchanged) {
  std::mt19937 rng(GetParam());
  config_ = CompactionConfig{.l0_sub_level_trigger = 3,
                             .l0_size_trigger_bytes = 1ull << 30,
                             .target_file_size_bytes = 400,
                             .base_level_size_bytes = 1500,
                             .level_multiplier = 3};
  config_.output_sst_options.block_size_bytes = 256;
  Model model;  // everything ever written, tables 1..3
  (*base_.mutable_state_table_info())[3].set_compaction_group_id(kGroup);
  base_.set_max_committed_epoch(0);
  uint64_t epoch = 0;
  uint64_t next_sst = 1;
  int compactions = 0, trivial_moves = 0;
  CompactionStats total;
  std::set<uint32_t> deeper_levels_written;

  auto check = [&](const std::string& when) {
    // Every entry the version holds now, by key.
    Model stored;
    std::vector<SstableInfo> all;
    for (const Level& l : base_.groups(0).l0_sub_levels()) {
      all.insert(all.end(), l.table_infos().begin(), l.table_infos().end());
    }
    for (const Level& l : base_.groups(0).levels()) {
      all.insert(all.end(), l.table_infos().begin(), l.table_infos().end());
    }
    for (const SstableInfo& sst : all) {
      auto reader = SstReader::Open(*store_, SstObjectKey(kDir, sst.object_id()), 0).value();
      auto it = reader->NewIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        FullKeyView k = DecodeFullKey(it->key()).value();
        auto& versions = stored[{k.table_id, std::string(k.user_key)}];
        ASSERT_EQ(versions.count(k.epoch), 0u) << when << ": duplicate " << it->key();
        versions[k.epoch] =
            it->tombstone() ? std::nullopt : std::optional<std::string>(std::string(it->value()));
      }
      ASSERT_OK(it->status());
    }
    const uint64_t safe = base_.safe_epoch();
    for (const auto& [key, versions] : model) {
      // Nobody reads a dropped table; its data goes whenever compaction rewrites it.
      if (base_.state_table_info().count(key.first) == 0) continue;
      auto found = stored.find(key);
      for (uint64_t e = safe; e <= epoch; ++e) {
        std::optional<std::string> want = VisibleAt(versions, e);
        std::optional<std::string> got =
            found == stored.end() ? std::nullopt : VisibleAt(found->second, e);
        ASSERT_EQ(got, want) << when << ": table " << key.first << " key " << key.second
                             << " at epoch " << e << " (safe " << safe << ")";
      }
    }
  };

  for (int round = 0; round < 80; ++round) {
    // One commit: a few puts and deletes at a new epoch, as a new L0 sub-level.
    ++epoch;
    std::map<std::pair<uint32_t, std::string>, std::optional<std::string>> batch;
    const int writes = 3 + static_cast<int>(rng() % 10);
    for (int w = 0; w < writes; ++w) {
      uint32_t table = 1 + rng() % 3;
      char uk[8];
      snprintf(uk, sizeof(uk), "u%02u", static_cast<unsigned>(rng() % 25));
      std::optional<std::string> value;
      if (rng() % 4 != 0) value = "v" + std::to_string(epoch) + std::string(rng() % 30, 'x');
      batch[{table, uk}] = value;
    }
    std::vector<E> entries;
    for (const auto& [key, value] : batch) {
      entries.push_back({key.second, epoch, value, key.first});
      if (base_.state_table_info().count(key.first) > 0) model[key][epoch] = value;
    }
    // Only tables that exist are written (table 3 is dropped half-way).
    entries.erase(
        std::remove_if(entries.begin(), entries.end(),
                       [&](const E& e) { return base_.state_table_info().count(e.table) == 0; }),
        entries.end());
    if (!entries.empty()) {
      VersionDeltaBuilder b(base_);
      b.CommitEpoch(epoch, kGroup, {WriteSst(next_sst++, entries)}, {});
      ASSERT_OK(ApplyDelta(&base_, b.Build()));
    } else {
      base_.set_max_committed_epoch(epoch);
    }
    if (round == 40) {
      ASSERT_OK(ApplyDelta(&base_, VersionDeltaBuilder(base_).DropTables({3}).Build()));
    }
    // The safe epoch trails the newest epoch by a random amount.
    if (rng() % 3 == 0 && epoch > 3) {
      uint64_t safe = epoch - 1 - rng() % 3;
      if (safe > base_.safe_epoch()) {
        ASSERT_OK(ApplyDelta(&base_, VersionDeltaBuilder(base_).SetSafeEpoch(safe).Build()));
      }
    }
    // Compact until nothing is triggered, checking after each step.
    while (std::optional<CompactionTask> task = PickCompaction(base_, config_)) {
      ASSERT_OK_AND_ASSIGN(CompactionResult r,
                           RunCompaction(*store_, kDir, base_, *task, Ids(), config_));
      ASSERT_OK(ApplyDelta(&base_, r.delta)) << task->ToString();
      ++compactions;
      total.dropped_table_keys += r.stats.dropped_table_keys;
      total.dropped_stale_versions += r.stats.dropped_stale_versions;
      total.dropped_tombstones += r.stats.dropped_tombstones;
      trivial_moves += task->trivial_move ? 1 : 0;
      if (task->target_level > 1) deeper_levels_written.insert(task->target_level);
      check("after " + task->ToString() + " in round " + std::to_string(round));
      if (::testing::Test::HasFatalFailure()) return;
      // Levels below L0 stay sorted and disjoint by user key.
      for (const Level& level : base_.groups(0).levels()) {
        for (int i = 1; i < level.table_infos_size(); ++i) {
          ASSERT_FALSE(SstsOverlap(level.table_infos(i - 1), level.table_infos(i)))
              << "L" << level.level_idx() << " after " << task->ToString();
        }
      }
    }
  }
  // The run exercised what it is meant to.
  EXPECT_GE(compactions, 10);
  EXPECT_FALSE(deeper_levels_written.empty());
  EXPECT_GT(base_.safe_epoch(), 10u);
  EXPECT_GT(total.dropped_table_keys, 0u);
  EXPECT_GT(total.dropped_stale_versions, 0u);
  EXPECT_GT(total.dropped_tombstones, 0u);
  RecordProperty("compactions", compactions);
  RecordProperty("trivial_moves", trivial_moves);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CompactorRandomizedTest, ::testing::Values(1u, 2u, 3u, 20261125u));

}  // namespace
}  // namespace rwmeta::hummock
