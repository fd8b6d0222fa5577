#include "hummock/store/state_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "hummock/epoch.h"
#include "hummock/gc/object_protection.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/checkpoint.h"
#include "hummock/version/version.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/model.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

using Rows = std::vector<std::pair<std::string, std::string>>;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(meta_.Migrate());
    auto faulty = std::make_unique<objstore::FaultInjectionObjectStore>(
        std::make_unique<objstore::MemoryObjectStore>());
    faulty_ = faulty.get();
    objects_ = std::move(faulty);
    Reopen();
  }

  void Reopen(uint64_t checkpoint_every = 64) {
    store_.reset();
    manager_.reset();
    ASSERT_OK_AND_ASSIGN(manager_,
                         HummockManager::Open(meta_, *objects_,
                                              {.data_directory = "hummock_001",
                                               .checkpoint_every_deltas = checkpoint_every}));
    store_ = std::make_unique<StateStore>(
        *manager_, StateStoreOptions{.target_sst_bytes = 4096, .block_size_bytes = 512});
  }

  Rows Read(uint32_t table, bool uncommitted) {
    Rows rows;
    auto reader = store_->NewTableReader(table, uncommitted);
    EXPECT_OK(reader.status());
    if (!reader.ok()) return rows;
    EXPECT_OK((*reader)->Scan([&](std::string_view k, std::string_view v) {
      rows.emplace_back(std::string(k), std::string(v));
      return Status::Ok();
    }));
    return rows;
  }

  int64_t StoredDeltas() {
    auto view = meta_.BeginSnapshotRead();
    EXPECT_OK(view.status());
    auto n = (*view)->Count(metastore::Model::Get().Table("hummock_version_delta"));
    EXPECT_OK(n.status());
    return n.ok() ? *n : -1;
  }

  metastore::MemoryMetaStore meta_;
  objstore::FaultInjectionObjectStore* faulty_ = nullptr;
  std::unique_ptr<objstore::ObjectStore> objects_;
  std::unique_ptr<HummockManager> manager_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(StateStoreTest, FreshStoresGiveEmptyVersionZero) {
  EXPECT_EQ(manager_->current()->id(), 0u);
  EXPECT_EQ(SstCount(*manager_->current()), 0u);
  ASSERT_OK_AND_ASSIGN(CheckpointResult r, store_->Checkpoint());
  EXPECT_EQ(r.epoch, 0u);  // nothing to commit
}

TEST_F(StateStoreTest, WritesAreVisibleToCommittedReadsOnlyAfterCheckpoint) {
  ASSERT_OK(manager_->RegisterTables({7}));
  store_->Write(7, {{"b", "2"}, {"a", "1"}});
  EXPECT_THAT(Read(7, /*uncommitted=*/false), IsEmpty());
  EXPECT_THAT(Read(7, /*uncommitted=*/true), ElementsAre(Pair("a", "1"), Pair("b", "2")));
  ASSERT_OK_AND_ASSIGN(CheckpointResult r, store_->Checkpoint());
  EXPECT_GT(r.epoch, 0u);
  EXPECT_EQ(r.keys, 2u);
  EXPECT_EQ(manager_->current()->max_committed_epoch(), r.epoch);
  EXPECT_EQ(CommittedEpoch(*manager_->current(), 7), r.epoch);
  EXPECT_THAT(Read(7, false), ElementsAre(Pair("a", "1"), Pair("b", "2")));
  // A delete and an overwrite in the next epoch.
  store_->Write(7, {{"a", std::nullopt}, {"b", "22"}, {"c", "3"}});
  EXPECT_THAT(Read(7, false), ElementsAre(Pair("a", "1"), Pair("b", "2")));
  EXPECT_THAT(Read(7, true), ElementsAre(Pair("b", "22"), Pair("c", "3")));
  ASSERT_OK_AND_ASSIGN(CheckpointResult r2, store_->Checkpoint());
  EXPECT_GT(r2.epoch, r.epoch);
  EXPECT_THAT(Read(7, false), ElementsAre(Pair("b", "22"), Pair("c", "3")));
  ASSERT_OK_AND_ASSIGN(auto reader, store_->NewTableReader(7, false));
  ASSERT_OK_AND_ASSIGN(auto found, reader->Get("b"));
  EXPECT_EQ(found, std::optional<std::string>("22"));
  ASSERT_OK_AND_ASSIGN(auto missing, reader->Get("a"));
  EXPECT_EQ(missing, std::nullopt);
}

TEST_F(StateStoreTest, TablesAreSeparate) {
  ASSERT_OK(manager_->RegisterTables({1, 2}));
  store_->Write(1, {{"k", "one"}});
  store_->Write(2, {{"k", "two"}});
  ASSERT_OK(store_->Checkpoint().status());
  EXPECT_THAT(Read(1, false), ElementsAre(Pair("k", "one")));
  EXPECT_THAT(Read(2, false), ElementsAre(Pair("k", "two")));
  EXPECT_THAT(Read(3, false), IsEmpty());
}

TEST_F(StateStoreTest, VersionIsRebuiltFromDeltasAfterRestart) {
  ASSERT_OK(manager_->RegisterTables({5}));
  for (int i = 0; i < 5; ++i) {
    store_->Write(5, {{fmt::format("k{}", i), fmt::format("v{}", i)}});
    ASSERT_OK(store_->Checkpoint().status());
  }
  HummockVersion before = *manager_->current();
  Reopen();
  EXPECT_EQ(manager_->current()->SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(Read(5, false).size(), 5u);
}

TEST_F(StateStoreTest, CheckpointObjectTrimsDeltasAndRebuildUsesIt) {
  Reopen(/*checkpoint_every=*/3);
  ASSERT_OK(manager_->RegisterTables({5}));
  for (int i = 0; i < 10; ++i) {
    store_->Write(5, {{fmt::format("k{:02}", i), "v"}});
    ASSERT_OK(store_->Checkpoint().status());
  }
  // 11 deltas: checkpoints at 3, 6, 9; deltas 10 and 11 remain in the meta store.
  EXPECT_EQ(manager_->current()->id(), 11u);
  EXPECT_EQ(StoredDeltas(), 2);
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint cp, ReadCheckpoint(*objects_, "hummock_001"));
  EXPECT_EQ(cp.version().id(), 9u);
  HummockVersion before = *manager_->current();
  Reopen(3);
  // The same version; the checkpoint writes every table's epoch into its entry, so compare the
  // materialized bytes.
  EXPECT_EQ(SerializeMaterialized(*manager_->current()).value(),
            SerializeMaterialized(before).value());
  EXPECT_EQ(Read(5, false).size(), 10u);
}

TEST_F(StateStoreTest, MissingCheckpointObjectWithTrimmedDeltasIsDataLoss) {
  Reopen(3);
  ASSERT_OK(manager_->RegisterTables({5}));
  for (int i = 0; i < 4; ++i) {
    store_->Write(5, {{fmt::format("k{}", i), "v"}});
    ASSERT_OK(store_->Checkpoint().status());
  }
  store_.reset();
  manager_.reset();
  ASSERT_OK(objects_->Delete(CheckpointKey("hummock_001")));
  EXPECT_THAT(HummockManager::Open(meta_, *objects_, {.data_directory = "hummock_001"}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("hummock_001/checkpoint/0")));
}

TEST_F(StateStoreTest, LargeCheckpointSplitsIntoSeveralSsts) {
  ASSERT_OK(manager_->RegisterTables({9}));
  std::vector<KvWrite> writes;
  for (int i = 0; i < 500; ++i)
    writes.push_back({fmt::format("key{:05}", i), std::string(40, 'v')});
  store_->Write(9, writes);
  ASSERT_OK_AND_ASSIGN(CheckpointResult r, store_->Checkpoint());
  EXPECT_GT(r.ssts, 3u);
  EXPECT_EQ(SstCount(*manager_->current()), r.ssts);
  EXPECT_EQ(Read(9, false).size(), 500u);
}

TEST_F(StateStoreTest, FailedUploadKeepsTheEpochBufferedAndTheRetryCommitsIt) {
  ASSERT_OK(manager_->RegisterTables({3}));
  store_->Write(3, {{"a", "1"}});
  faulty_->InjectFault({.op = objstore::ObjectStoreOp::kWriterFinish});
  EXPECT_THAT(store_->Checkpoint(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Read(3, false), IsEmpty());
  EXPECT_THAT(Read(3, true), ElementsAre(Pair("a", "1")));
  EXPECT_EQ(manager_->current()->max_committed_epoch(), 0u);
  ASSERT_OK_AND_ASSIGN(CheckpointResult r, store_->Checkpoint());
  EXPECT_GT(r.epoch, 0u);
  EXPECT_THAT(Read(3, false), ElementsAre(Pair("a", "1")));
  EXPECT_EQ(store_->BufferedEntries(), 0u);
}

// SST objects are written once: an object that already has the next id (left by a superseded
// generation of the cluster) fails the checkpoint with the named error and stays as it was; the
// epoch stays buffered and the next checkpoint commits it under a new id.
TEST_F(StateStoreTest, CheckpointNeverOverwritesAnExistingObject) {
  ASSERT_OK(manager_->RegisterTables({3}));
  store_->Write(3, {{"a", "1"}});
  // The id the next checkpoint gets (the sequence starts at 1 and nothing was allocated yet).
  const std::string key = SstObjectKey("hummock_001", 1);
  ASSERT_OK(objects_->Put(key, "another generation's sst"));
  EXPECT_THAT(store_->Checkpoint(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("sst object 1 already exists in the state store (written by a "
                                 "superseded generation of the cluster or another meta node): "
                                 "nothing was overwritten")));
  ASSERT_OK_AND_ASSIGN(std::string intact, objects_->Get(key));
  EXPECT_EQ(intact, "another generation's sst");
  EXPECT_EQ(manager_->current()->max_committed_epoch(), 0u);
  EXPECT_THAT(Read(3, true), ElementsAre(Pair("a", "1")));
  ASSERT_OK_AND_ASSIGN(CheckpointResult r, store_->Checkpoint());
  EXPECT_EQ(r.ssts, 1u);
  EXPECT_THAT(Read(3, false), ElementsAre(Pair("a", "1")));
  EXPECT_EQ(ObjectIds(*manager_->current()), std::vector<uint64_t>{2});
  ASSERT_OK_AND_ASSIGN(intact, objects_->Get(key));
  EXPECT_EQ(intact, "another generation's sst");
}

TEST_F(StateStoreTest, CorruptSstIsDataLossNamingTheObjectAndMissingIsNotFound) {
  ASSERT_OK(manager_->RegisterTables({4}));
  std::vector<KvWrite> writes;
  for (int i = 0; i < 50; ++i) writes.push_back({fmt::format("key{:03}", i), std::string(30, 'x')});
  store_->Write(4, writes);
  ASSERT_OK(store_->Checkpoint().status());
  ASSERT_EQ(SstCount(*manager_->current()), 1u);
  uint64_t id = ObjectIds(*manager_->current()).front();
  std::string key = SstObjectKey("hummock_001", id);
  ASSERT_OK_AND_ASSIGN(std::string bytes, objects_->Get(key));
  bytes[bytes.size() - 3] ^= 0x11;  // the footer
  ASSERT_OK(objects_->Put(key, bytes, {}));
  Reopen();  // no cached reader
  EXPECT_THAT(store_->NewTableReader(4, false),
              StatusIs(StatusCode::kDataLoss, HasSubstr(fmt::format("sst {}.data", id))));
  ASSERT_OK(objects_->Delete(key));
  Reopen();
  EXPECT_THAT(store_->NewTableReader(4, false),
              StatusIs(StatusCode::kNotFound, HasSubstr(fmt::format("{}.data", id))));
}

TEST_F(StateStoreTest, ReferencedObjectsCoverPinsInFlightIdsAndTheProtectionSet) {
  ASSERT_OK(manager_->RegisterTables({1}));
  store_->Write(1, {{"a", "1"}});
  ASSERT_OK(store_->Checkpoint().status());
  std::vector<uint64_t> first = ObjectIds(*manager_->current());
  ASSERT_EQ(first.size(), 1u);
  auto pin = manager_->PinVersion();
  // A compaction-like delta that makes the first object stale.
  ASSERT_OK(manager_->CommitDelta([&](const HummockVersion& base) -> Result<HummockVersionDelta> {
    return VersionDeltaBuilder(base).Compact(kDefaultCompactionGroup, first, 1, {}).Build();
  }));
  EXPECT_THAT(manager_->StaleObjectIds(), ElementsAre(first[0]));
  ASSERT_OK_AND_ASSIGN(uint64_t in_flight, manager_->NewObjectIds(1));
  InMemoryObjectProtectionSet protection;
  protection.Protect(1, {424242});
  manager_->SetProtectionSet(&protection);
  ASSERT_OK_AND_ASSIGN(auto refs, manager_->ReferencedObjectIds());
  EXPECT_THAT(refs, ElementsAre(first[0], in_flight, 424242));
  pin.reset();
  manager_->ReleaseObjectIds({in_flight});
  ASSERT_OK_AND_ASSIGN(refs, manager_->ReferencedObjectIds());
  EXPECT_THAT(refs, ElementsAre(424242));
  protection.SetError(UnavailableError("backup manifest unreadable"));
  EXPECT_THAT(manager_->ReferencedObjectIds(), StatusIs(StatusCode::kUnavailable));
  manager_->SetProtectionSet(nullptr);
}

TEST_F(StateStoreTest, WriteFenceStopsCommitsAndGcButKeepsDataBuffered) {
  ASSERT_OK(manager_->RegisterTables({1}));
  bool lost = false;
  manager_->SetWriteFence([&]() -> Status {
    return lost ? FailedPreconditionError("lost the state store lease") : Status::Ok();
  });
  store_->Write(1, {{"a", "1"}});
  lost = true;
  EXPECT_THAT(store_->Checkpoint(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("lease")));
  EXPECT_THAT(manager_->ReferencedObjectIds(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(SstCount(*manager_->current()), 0u);
  ASSERT_OK_AND_ASSIGN(auto listed, objects_->List("hummock_001/"));
  EXPECT_THAT(listed, IsEmpty());  // nothing uploaded either
  EXPECT_THAT(Read(1, true), ElementsAre(Pair("a", "1")));
  lost = false;
  ASSERT_OK(store_->Checkpoint().status());
  EXPECT_THAT(Read(1, false), ElementsAre(Pair("a", "1")));
}

TEST_F(StateStoreTest, EpochCommitStoresADeltaListingOnlyNewTables) {
  auto last_stored_delta = [&]() {
    HummockVersionDelta d;
    auto view = meta_.BeginSnapshotRead();
    EXPECT_OK(view.status());
    auto row = (*view)->Get(metastore::Model::Get().Table("hummock_version_delta"),
                            metastore::Key{static_cast<int64_t>(manager_->current()->id())});
    EXPECT_OK(row.status());
    EXPECT_TRUE(row->has_value());
    EXPECT_TRUE(d.ParseFromString(std::get<std::string>((**row)[3])));
    return d;
  };
  ASSERT_OK(manager_->RegisterTables({1, 2, 3}));
  EXPECT_EQ(last_stored_delta().state_table_info_delta_size(), 3);
  const uint64_t e1 = NextEpoch(manager_->current()->max_committed_epoch());
  ASSERT_OK(manager_->CommitEpoch(e1, {}));
  HummockVersionDelta d1 = last_stored_delta();
  EXPECT_THAT(d1.state_table_info_delta(), IsEmpty());
  EXPECT_EQ(d1.all_tables_committed_epoch(), e1);
  const uint64_t e2 = NextEpoch(e1);
  ASSERT_OK(manager_->CommitEpoch(e2, {}, {4}));
  HummockVersionDelta d2 = last_stored_delta();
  ASSERT_EQ(d2.state_table_info_delta_size(), 1);
  EXPECT_EQ(d2.state_table_info_delta().at(4).committed_epoch(), e2);
  ASSERT_OK(manager_->DropTables({2}));
  EXPECT_THAT(last_stored_delta().removed_table_ids(), ElementsAre(2));
  auto expect_epochs = [&](const HummockVersion& v) {
    EXPECT_EQ(CommittedEpoch(v, 1), e2);
    EXPECT_EQ(CommittedEpoch(v, 2), std::nullopt);
    EXPECT_EQ(CommittedEpoch(v, 3), e2);
    EXPECT_EQ(CommittedEpoch(v, 4), e2);
  };
  expect_epochs(*manager_->current());
  Reopen();  // rebuilt from the deltas
  expect_epochs(*manager_->current());
  // The checkpoint names every table's epoch in its entry, for readers that take entries as they
  // are (rwmeta from before all_tables_committed_epoch).
  ASSERT_OK(manager_->WriteCheckpointNow());
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint cp, ReadCheckpoint(*objects_, "hummock_001"));
  for (uint32_t table : {1u, 3u, 4u}) {
    EXPECT_EQ(cp.version().state_table_info().at(table).committed_epoch(), e2) << table;
  }
  Reopen();  // rebuilt from the checkpoint
  expect_epochs(*manager_->current());
}

TEST_F(StateStoreTest, ACommitNeverChangesAVersionAReaderHolds) {
  ASSERT_OK(manager_->RegisterTables({1}));
  ASSERT_OK(manager_->CommitEpoch(NextEpoch(0), {}));
  std::shared_ptr<const HummockVersion> held = manager_->current();
  std::unique_ptr<PinnedVersion> pinned = manager_->PinVersion();
  const std::string held_bytes = SerializeDeterministic(*held).value();
  const uint64_t held_epoch = *CommittedEpoch(*held, 1);
  ASSERT_OK(manager_->CommitEpoch(NextEpoch(held->max_committed_epoch()), {}));
  ASSERT_OK(manager_->RegisterTables({2}));
  EXPECT_EQ(SerializeDeterministic(*held).value(), held_bytes);
  EXPECT_EQ(SerializeDeterministic(pinned->version()).value(), held_bytes);
  EXPECT_EQ(CommittedEpoch(pinned->version(), 1), held_epoch);
  EXPECT_GT(CommittedEpoch(*manager_->current(), 1), held_epoch);
  EXPECT_NE(manager_->current().get(), held.get());
  // Once nobody holds it, commits change the current version in place instead of copying it.
  held.reset();
  pinned.reset();
  const HummockVersion* before = manager_->current().get();
  const uint64_t epoch = NextEpoch(before->max_committed_epoch());
  ASSERT_OK(manager_->CommitEpoch(epoch, {}));
  EXPECT_EQ(manager_->current().get(), before);
  EXPECT_EQ(manager_->current()->id(), 5u);
}

TEST_F(StateStoreTest, ARefusedDeltaChangesNothingAndIsNotStored) {
  ASSERT_OK(manager_->RegisterTables({1}));
  ASSERT_OK(manager_->CommitEpoch(NextEpoch(0), {}));
  const std::string before = SerializeDeterministic(*manager_->current()).value();
  const int64_t stored = StoredDeltas();
  EXPECT_THAT(manager_->CommitDelta([](const HummockVersion& v) -> Result<HummockVersionDelta> {
    return VersionDeltaBuilder(v).Compact(kDefaultCompactionGroup, {999}, 1, {}).Build();
  }),
              StatusIs(StatusCode::kDataLoss, HasSubstr("removes object 999")));
  EXPECT_EQ(SerializeDeterministic(*manager_->current()).value(), before);
  EXPECT_EQ(StoredDeltas(), stored);
  // The manager's index is untouched too: the next delta applies.
  ASSERT_OK(manager_->CommitEpoch(NextEpoch(manager_->current()->max_committed_epoch()), {}));
  EXPECT_EQ(manager_->current()->id(), 3u);
}

TEST_F(StateStoreTest, DroppedTableLeavesTheVersion) {
  ASSERT_OK(manager_->RegisterTables({1, 2}));
  store_->Write(1, {{"a", "1"}});
  ASSERT_OK(store_->Checkpoint().status());
  ASSERT_OK(manager_->DropTables({1}));
  EXPECT_FALSE(CommittedEpoch(*manager_->current(), 1).has_value());
  EXPECT_TRUE(CommittedEpoch(*manager_->current(), 2).has_value());
}

TEST_F(StateStoreTest, PreCommitHookWritesIntoTheSameEpoch) {
  ASSERT_OK(manager_->RegisterTables({1, 2}));
  // Table 2 mirrors the row count of table 1, computed at every checkpoint.
  store_->SetPreCommitHook([&]() -> Status {
    RWMETA_ASSIGN_OR_RETURN(auto reader, store_->NewTableReader(1, true));
    int n = 0;
    RWMETA_RETURN_IF_ERROR(reader->Scan([&](std::string_view, std::string_view) {
      ++n;
      return Status::Ok();
    }));
    store_->Write(2, {{"count", std::to_string(n)}});
    return Status::Ok();
  });
  store_->Write(1, {{"a", "1"}, {"b", "2"}});
  ASSERT_OK(store_->Checkpoint().status());
  EXPECT_THAT(Read(2, false), ElementsAre(Pair("count", "2")));
  store_->Write(1, {{"c", "3"}});
  ASSERT_OK(store_->Checkpoint().status());
  EXPECT_THAT(Read(2, false), ElementsAre(Pair("count", "3")));
}

TEST_F(StateStoreTest, ReaderAtAnOlderVersionSeesExactlyThatVersionsRows) {
  ASSERT_OK(manager_->RegisterTables({7, 8}));
  store_->Write(7, {{"a", "1"}, {"b", "2"}});
  store_->Write(8, {{"x", "old"}});
  ASSERT_OK(store_->Checkpoint().status());
  std::shared_ptr<const HummockVersion> old_version = manager_->current();
  // Later epochs delete, overwrite and add; the old version's SSTs stay in the new version, so the
  // old reader must filter by its epoch, not by SST membership.
  store_->Write(7, {{"a", std::nullopt}, {"b", "22"}, {"c", "3"}});
  store_->Write(8, {{"x", "new"}});
  ASSERT_OK(store_->Checkpoint().status());
  EXPECT_THAT(Read(7, false), ElementsAre(Pair("b", "22"), Pair("c", "3")));

  ASSERT_OK_AND_ASSIGN(auto reader, store_->NewTableReaderAt(7, old_version));
  EXPECT_EQ(reader->read_epoch(), CommittedEpoch(*old_version, 7));
  Rows rows;
  ASSERT_OK(reader->Scan([&](std::string_view k, std::string_view v) {
    rows.emplace_back(std::string(k), std::string(v));
    return Status::Ok();
  }));
  EXPECT_THAT(rows, ElementsAre(Pair("a", "1"), Pair("b", "2")));
  ASSERT_OK_AND_ASSIGN(auto other, store_->NewTableReaderAt(8, old_version));
  ASSERT_OK_AND_ASSIGN(auto x, other->Get("x"));
  EXPECT_EQ(x, std::optional<std::string>("old"));
  // A table the old version does not hold reads empty.
  ASSERT_OK_AND_ASSIGN(auto none, store_->NewTableReaderAt(9, old_version));
  ASSERT_OK_AND_ASSIGN(auto missing, none->Get("a"));
  EXPECT_EQ(missing, std::nullopt);
}

TEST_F(StateStoreTest, ReaderAtAVersionWhoseSstIsGoneIsNotFoundNamingTheObject) {
  ASSERT_OK(manager_->RegisterTables({7}));
  store_->Write(7, {{"a", "1"}});
  ASSERT_OK(store_->Checkpoint().status());
  std::shared_ptr<const HummockVersion> version = manager_->current();
  ASSERT_EQ(SstCount(*version), 1u);
  uint64_t id = ObjectIds(*version).front();
  ASSERT_OK(objects_->Delete(SstObjectKey("hummock_001", id)));
  Reopen();  // a new store: no SST reader cached
  EXPECT_THAT(store_->NewTableReaderAt(7, version),
              StatusIs(StatusCode::kNotFound, HasSubstr(fmt::format("{}.data", id))));
}

}  // namespace
}  // namespace rwmeta::hummock
