#include "hummock/compaction/compaction_driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/testing/status_matchers.h"
#include "hummock/gc/object_protection.h"
#include "hummock/sst/key.h"
#include "hummock/sst/sst_reader.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/version.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kDir = "hummock_001";
constexpr int64_t kFarFutureMs = INT64_MAX / 2;

using Key = std::pair<uint32_t, std::string>;  // table, user key
using Writes = std::map<Key, std::optional<std::string>>;
using Rows = std::map<Key, std::string>;

class CompactionDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(meta_.Migrate());
    auto faulty = std::make_unique<objstore::FaultInjectionObjectStore>(
        std::make_unique<objstore::MemoryObjectStore>());
    faulty_ = faulty.get();
    objects_ = std::move(faulty);
    ASSERT_OK_AND_ASSIGN(manager_, HummockManager::Open(meta_, *objects_,
                                                        {.data_directory = std::string(kDir),
                                                         .checkpoint_every_deltas = 16}));
    config_.l0_sub_level_trigger = 3;
    config_.l0_size_trigger_bytes = 1ull << 30;
    config_.target_file_size_bytes = 600;
    config_.base_level_size_bytes = 2000;
    config_.level_multiplier = 4;
    config_.output_sst_options.block_size_bytes = 256;
  }

  // Uploads `writes` as one SST under a fresh id (left in flight) and returns its info.
  SstableInfo Upload(const Writes& writes, uint64_t epoch) {
    Result<uint64_t> id = manager_->NewObjectIds(1);
    EXPECT_OK(id);
    auto out = objects_->OpenWriter(SstObjectKey(kDir, *id));
    EXPECT_OK(out);
    SstWriter writer(std::move(out).value(), {.object_id = *id, .block_size_bytes = 256});
    for (const auto& [key, value] : writes) {
      EXPECT_OK(
          writer.Add(key.first, key.second, epoch, value ? Value::Put(*value) : Value::Delete()));
    }
    Result<SstInfo> info = writer.Finish();
    EXPECT_OK(info);
    return ToSstableInfo(*info);
  }

  // Commits `writes` at the next epoch, as one SST, and records them in the model.
  void Commit(const Writes& writes, const std::vector<uint32_t>& new_tables = {}) {
    const uint64_t epoch = manager_->current()->max_committed_epoch() + 1;
    ASSERT_OK(manager_->CommitEpoch(epoch, {Upload(writes, epoch)}, new_tables));
    for (const auto& [key, value] : writes) model_[key][epoch] = value;
  }

  // What the model says a reader at `epoch` sees in `tables`.
  Rows Expected(uint64_t epoch, const std::set<uint32_t>& tables) const {
    Rows rows;
    for (const auto& [key, versions] : model_) {
      if (tables.count(key.first) == 0) continue;
      auto it = versions.upper_bound(epoch);
      if (it == versions.begin()) continue;
      if (std::prev(it)->second) rows[key] = *std::prev(it)->second;
    }
    return rows;
  }

  // What a reader of `version` at `epoch` sees in `tables`, read from the SST objects.
  Rows Visible(const HummockVersion& version, uint64_t epoch, const std::set<uint32_t>& tables) {
    std::map<Key, std::map<uint64_t, std::optional<std::string>>> stored;
    for (uint64_t id : ObjectIds(version)) {
      auto reader = SstReader::Open(*objects_, SstObjectKey(kDir, id), 0);
      EXPECT_OK(reader);
      if (!reader.ok()) continue;
      auto it = (*reader)->NewIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        FullKeyView k = DecodeFullKey(it->key()).value();
        if (tables.count(k.table_id) == 0) continue;
        stored[{k.table_id, std::string(k.user_key)}][k.epoch] =
            it->tombstone() ? std::nullopt : std::optional<std::string>(std::string(it->value()));
      }
      EXPECT_OK(it->status());
    }
    Rows rows;
    for (const auto& [key, versions] : stored) {
      auto it = versions.upper_bound(epoch);
      if (it == versions.begin()) continue;
      if (std::prev(it)->second) rows[key] = *std::prev(it)->second;
    }
    return rows;
  }

  // Ids of the SST objects in the state store.
  std::vector<uint64_t> StoredSsts() {
    std::vector<uint64_t> ids;
    auto listed = objects_->List(std::string(kDir) + "/");
    EXPECT_OK(listed);
    if (!listed.ok()) return ids;
    for (const auto& meta : *listed) {
      if (auto id = ParseSstObjectKey(kDir, meta.key)) ids.push_back(*id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Runs CompactOnce until nothing is triggered; returns the rounds.
  std::vector<CompactionRound> CompactAll() {
    std::vector<CompactionRound> rounds;
    for (int i = 0; i < 100; ++i) {
      Result<std::optional<CompactionRound>> round = CompactOnce(*manager_, config_);
      EXPECT_OK(round);
      if (!round.ok() || !round->has_value()) break;
      rounds.push_back(std::move(**round));
    }
    return rounds;
  }

  metastore::MemoryMetaStore meta_;
  objstore::FaultInjectionObjectStore* faulty_ = nullptr;
  std::unique_ptr<objstore::ObjectStore> objects_;
  std::unique_ptr<HummockManager> manager_;
  CompactionConfig config_;
  std::map<Key, std::map<uint64_t, std::optional<std::string>>> model_;
};

// Random puts and deletes over many commits, with readers pinning versions on the way and one
// table dropped: after every compaction + vacuum round the current version reads as the model
// says, every pinned version still reads as it did when pinned, and once the pins are gone the
// state store holds exactly the current version's objects.
TEST_F(CompactionDriverTest, RandomizedWorkloadKeepsEveryRowAndLeavesNoGarbage) {
  std::mt19937 rng(42);
  struct Pin {
    std::unique_ptr<PinnedVersion> pin;
    uint64_t epoch;
    std::set<uint32_t> tables;
    Rows rows;
  };
  std::vector<Pin> pins;
  std::set<uint32_t> live = {1, 2};
  int compactions = 0;
  uint64_t stale_vacuumed = 0, kept_for_pins = 0;
  uint64_t commits = 0;
  for (int round = 0; round < 60; ++round) {
    Writes writes;
    for (int w = 0; w < 4 + static_cast<int>(rng() % 8); ++w) {
      char uk[8];
      snprintf(uk, sizeof(uk), "r%02u", static_cast<unsigned>(rng() % 30));
      const uint32_t table = *std::next(live.begin(), static_cast<long>(rng() % live.size()));
      writes[{table, uk}] = rng() % 4 == 0
                                ? std::nullopt
                                : std::optional<std::string>("v" + std::to_string(round) +
                                                             std::string(rng() % 40, 'x'));
    }
    Commit(writes, round == 0 ? std::vector<uint32_t>{1, 2} : std::vector<uint32_t>{});
    ++commits;
    if (::testing::Test::HasFatalFailure()) return;
    if (round == 40) {
      ASSERT_OK(manager_->DropTables({2}));
      live.erase(2);
    }
    if (round % 7 == 3) {
      auto pin = manager_->PinVersion();
      const uint64_t epoch = pin->version().max_committed_epoch();
      pins.push_back({std::move(pin), epoch, live, Expected(epoch, live)});
    }
    if (pins.size() > 2) pins.erase(pins.begin() + static_cast<long>(rng() % pins.size()));

    compactions += static_cast<int>(CompactAll().size());
    ASSERT_OK_AND_ASSIGN(VacuumReport vacuum, VacuumStaleObjects(*manager_));
    stale_vacuumed += vacuum.deleted_object_ids.size();
    kept_for_pins += vacuum.kept_referenced.size();

    std::shared_ptr<const HummockVersion> current = manager_->current();
    const uint64_t epoch = current->max_committed_epoch();
    ASSERT_EQ(Visible(*current, epoch, live), Expected(epoch, live)) << "round " << round;
    for (const Pin& p : pins) {
      ASSERT_EQ(Visible(p.pin->version(), p.epoch, p.tables), p.rows)
          << "round " << round << ", version " << p.pin->version().id() << " pinned";
    }
  }
  EXPECT_GE(compactions, 15);
  EXPECT_GT(stale_vacuumed, 0u);
  EXPECT_GT(kept_for_pins, 0u);  // some stale objects waited for a pin
  EXPECT_LT(SstCount(*manager_->current()), commits / 2);

  pins.clear();
  ASSERT_OK_AND_ASSIGN(VacuumReport vacuum, VacuumStaleObjects(*manager_));
  EXPECT_THAT(vacuum.kept_referenced, IsEmpty());
  EXPECT_THAT(manager_->StaleObjectIds(), IsEmpty());
  EXPECT_EQ(StoredSsts(), ObjectIds(*manager_->current()));
  // Nothing left for full GC either.
  ASSERT_OK_AND_ASSIGN(FullGcReport gc, RunFullGc(*manager_, 0, kFarFutureMs));
  EXPECT_THAT(gc.deleted_object_ids, IsEmpty());
  EXPECT_EQ(gc.kept_referenced, ObjectIds(*manager_->current()));
}

// A backup pins the version, protects its objects, unpins: compaction makes them stale, but
// vacuum and full GC keep them (the snapshot still reads whole) until the snapshot is deleted.
TEST_F(CompactionDriverTest, ProtectedObjectsOutliveCompactionUntilUnprotected) {
  InMemoryObjectProtectionSet protection;
  manager_->SetProtectionSet(&protection);
  Commit({{{1, "a"}, "1"}, {{1, "b"}, "1"}}, {1});
  Commit({{{1, "a"}, "2"}});
  std::unique_ptr<PinnedVersion> pin = manager_->PinVersion();
  const HummockVersion snapshot = pin->version();
  protection.Protect(/*owner_id=*/1, ObjectIds(snapshot));
  pin.reset();
  const std::vector<uint64_t> snapshot_objects = ObjectIds(snapshot);

  Commit({{{1, "b"}, std::nullopt}});  // third sub-level: triggers
  std::vector<CompactionRound> rounds = CompactAll();
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0].stats.dropped_tombstones, 1u);  // b is gone at the bottom
  EXPECT_EQ(rounds[0].ToString(),
            "group 2: L0 (3 sub-levels, 3 ssts) -> L1: 4 keys in, 1 out (2 old versions, 1 "
            "tombstones, 0 of dropped tables dropped), 1 new objects, 3 stale, version " +
                std::to_string(manager_->current()->id()));

  // The third commit's SST was never in the snapshot: vacuum deletes it and keeps the others.
  const uint64_t third = rounds[0].stale_object_ids[0];  // newest sub-level first
  ASSERT_OK_AND_ASSIGN(VacuumReport vacuum, VacuumStaleObjects(*manager_));
  EXPECT_THAT(vacuum.deleted_object_ids, ElementsAre(third));
  EXPECT_EQ(vacuum.kept_referenced, snapshot_objects);
  ASSERT_OK_AND_ASSIGN(FullGcReport gc, RunFullGc(*manager_, 0, kFarFutureMs));
  EXPECT_THAT(gc.deleted_object_ids, IsEmpty());
  // The snapshot still reads whole.
  EXPECT_EQ(Visible(snapshot, snapshot.max_committed_epoch(), {1}),
            (Rows{{{1, "a"}, "2"}, {{1, "b"}, "1"}}));

  protection.Unprotect(1);
  ASSERT_OK_AND_ASSIGN(vacuum, VacuumStaleObjects(*manager_));
  EXPECT_EQ(vacuum.deleted_object_ids, snapshot_objects);
  EXPECT_THAT(manager_->StaleObjectIds(), IsEmpty());
  EXPECT_EQ(StoredSsts(), ObjectIds(*manager_->current()));
}

TEST_F(CompactionDriverTest, FullGcRemovesAbandonedUploadsButNotInFlightOnes) {
  Commit({{{1, "a"}, "1"}}, {1});
  const SstableInfo abandoned = Upload({{{1, "x"}, "lost"}}, 99);
  manager_->ReleaseObjectIds({abandoned.object_id()});
  const SstableInfo in_flight = Upload({{{1, "y"}, "uploading"}}, 99);
  ASSERT_OK_AND_ASSIGN(FullGcReport gc, RunFullGc(*manager_, 0, kFarFutureMs));
  EXPECT_THAT(gc.deleted_object_ids, ElementsAre(abandoned.object_id()));
  std::vector<uint64_t> kept = ObjectIds(*manager_->current());
  kept.push_back(in_flight.object_id());
  EXPECT_EQ(gc.kept_referenced, kept);
  EXPECT_EQ(StoredSsts(), kept);
}

TEST_F(CompactionDriverTest, FailedCompactionReleasesItsIdsAndLeavesNoOutputs) {
  Writes big;
  for (int k = 0; k < 40; ++k) big[{1, "k" + std::to_string(100 + k)}] = std::string(30, 'v');
  Commit(big, {1});
  Commit(big);
  Commit(big);
  const std::vector<uint64_t> before = StoredSsts();
  faulty_->InjectFault({.op = objstore::ObjectStoreOp::kWriterFinish,
                        .nth = 2,
                        .status = UnavailableError("injected finish failure")});
  EXPECT_THAT(CompactOnce(*manager_, config_),
              StatusIs(StatusCode::kUnavailable, HasSubstr("injected finish failure")));
  faulty_->ClearFaults();
  EXPECT_EQ(StoredSsts(), before);
  // The released output ids are no longer referenced, the inputs still are.
  ASSERT_OK_AND_ASSIGN(std::set<uint64_t> referenced, manager_->ReferencedObjectIds());
  EXPECT_THAT(referenced, ElementsAreArray(before));
  // And the next round goes through.
  std::vector<CompactionRound> rounds = CompactAll();
  ASSERT_FALSE(rounds.empty());
  const uint64_t epoch = manager_->current()->max_committed_epoch();
  EXPECT_EQ(Visible(*manager_->current(), epoch, {1}), Expected(epoch, {1}));
}

TEST_F(CompactionDriverTest, NothingToDoIsNullopt) {
  Commit({{{1, "a"}, "1"}}, {1});
  ASSERT_OK_AND_ASSIGN(std::optional<CompactionRound> round, CompactOnce(*manager_, config_));
  EXPECT_EQ(round, std::nullopt);
  // The safe epoch was still advanced to the max committed epoch.
  EXPECT_EQ(manager_->current()->safe_epoch(), manager_->current()->max_committed_epoch());
  ASSERT_OK_AND_ASSIGN(round, CompactOnce(*manager_, config_, {.advance_safe_epoch = false}));
  EXPECT_EQ(round, std::nullopt);
}

}  // namespace
}  // namespace rwmeta::hummock
