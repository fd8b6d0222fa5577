#include "restore/restore.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backup/backup_storage.h"
#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "hummock/cluster/generation.h"
#include "hummock/cluster/state_store_guard.h"
#include "hummock/names.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/testing/placeholder_ssts.h"
#include "hummock/version/checkpoint.h"
#include "hummock/version/version.h"
#include "meta/bootstrap.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/model.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::restore {
namespace {

using metastore::Model;
using metastore::Row;
using ::rwmeta::testing::FakeClock;
using ::rwmeta::testing::IsOk;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDir[] = "hummock_001";

// Every row of every table of `store`, by table name.
std::map<std::string, std::vector<Row>> Dump(metastore::MetaStore& store) {
  std::map<std::string, std::vector<Row>> out;
  auto view = store.BeginSnapshotRead();
  EXPECT_OK(view.status());
  if (!view.ok()) return out;
  for (const auto& table : Model::Get().tables()) {
    EXPECT_OK((*view)->Scan(table, [&](const Row& row) {
      out[table.name].push_back(row);
      return Status::Ok();
    }));
  }
  return out;
}

bool IsFresh(metastore::MetaStore& store) {
  auto state = store.Inspect();
  return state.ok() && state->empty;
}

// A MemoryMetaStore whose transactions stop after `fail_after_inserts` inserts (the restore is
// "killed": the error ends it before commit), or whose commit fails.
class FailingMetaStore : public metastore::MetaStore {
 public:
  explicit FailingMetaStore(metastore::MetaStore* base) : base_(base) {}
  std::string_view backend() const override { return base_->backend(); }
  std::string DisplayUrl() const override { return base_->DisplayUrl(); }
  Result<metastore::SchemaState> Inspect() override { return base_->Inspect(); }
  Status Migrate() override { return base_->Migrate(); }
  Result<std::unique_ptr<metastore::ReadView>> BeginSnapshotRead() override {
    return base_->BeginSnapshotRead();
  }
  Result<std::unique_ptr<metastore::Transaction>> BeginTransaction() override;

  int64_t fail_after_inserts = -1;  // -1: never
  bool fail_commit = false;
  std::atomic<int64_t> inserts{0};

 private:
  metastore::MetaStore* base_;
};

class FailingTransaction : public metastore::Transaction {
 public:
  FailingTransaction(std::unique_ptr<metastore::Transaction> base, FailingMetaStore* owner)
      : base_(std::move(base)), owner_(owner) {}
  Result<std::optional<Row>> Get(const metastore::TableSchema& t,
                                 const metastore::Key& k) override {
    return base_->Get(t, k);
  }
  Status Scan(const metastore::TableSchema& t,
              const std::function<Status(const Row&)>& visit) override {
    return base_->Scan(t, visit);
  }
  Result<int64_t> Count(const metastore::TableSchema& t) override { return base_->Count(t); }
  Status Insert(const metastore::TableSchema& t, const Row& row) override {
    if (owner_->fail_after_inserts >= 0 && owner_->inserts.load() >= owner_->fail_after_inserts) {
      return UnavailableError("injected: the restore process died here");
    }
    ++owner_->inserts;
    return base_->Insert(t, row);
  }
  Status Update(const metastore::TableSchema& t, const Row& row) override {
    return base_->Update(t, row);
  }
  Status Delete(const metastore::TableSchema& t, const metastore::Key& k) override {
    return base_->Delete(t, k);
  }
  Status Commit() override {
    if (owner_->fail_commit) return UnavailableError("injected: connection lost at commit");
    return base_->Commit();
  }

 private:
  std::unique_ptr<metastore::Transaction> base_;
  FailingMetaStore* owner_;
};

Result<std::unique_ptr<metastore::Transaction>> FailingMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(auto txn, base_->BeginTransaction());
  return std::unique_ptr<metastore::Transaction>(new FailingTransaction(std::move(txn), this));
}

// A source cluster (bootstrapped meta store, state store with SSTs) and its backup location.
class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = meta::BootstrapCluster(source_, {.state_store = "hummock+memory",
                                                    .data_directory = kDir,
                                                    .backup_storage_url = "memory",
                                                    .backup_storage_directory = "backup"});
    ASSERT_OK(cluster.status());
    cluster_id_ = cluster->cluster_id;
    auto manager = hummock::HummockManager::Open(source_, state_, {.data_directory = kDir});
    ASSERT_OK(manager.status());
    manager_ = std::move(manager).value();
  }

  // Flushes `count` new SSTs into the source's version (objects put into the state store).
  void AddSsts(int count) {
    ASSERT_OK(
        hummock::testing::CommitPlaceholderSsts(*manager_, state_, kDir, count, &epoch_).status());
  }

  // Takes a snapshot the way the backup job does: id from `meta_backup`, then the cut.
  uint64_t TakeSnapshot(metastore::MetaStore* source = nullptr,
                        const hummock::HummockVersion* version = nullptr) {
    metastore::MetaStore& src = source ? *source : source_;
    int64_t id = 0;
    EXPECT_OK(metastore::RunTransaction(src, [&](metastore::Transaction& txn) -> Status {
      RWMETA_ASSIGN_OR_RETURN(id, metastore::NextId(txn, kSnapshotIdSequence));
      return Status::Ok();
    }));
    auto view = src.BeginSnapshotRead();
    EXPECT_OK(view.status());
    backup::SnapshotHeader header{
        .cluster_id = cluster_id_, .rwmeta_version = "0.1.0", .source_backend = "memory"};
    auto written = storage_.WriteSnapshot(static_cast<uint64_t>(id), **view,
                                          version ? *version : *manager_->current(), header);
    EXPECT_OK(written.status());
    return static_cast<uint64_t>(id);
  }

  RestoreOptions Options(uint64_t id) {
    RestoreOptions o;
    o.snapshot_id = id;
    o.hummock_storage_url = "memory";
    o.hummock_storage_directory = kDir;
    o.clock = &clock_;
    return o;
  }

  Result<RestoreSummary> Restore(const RestoreOptions& o, metastore::MetaStore* target = nullptr,
                                 objstore::ObjectStore* state = nullptr) {
    return RestoreMeta(storage_, target ? *target : target_, state ? *state : state_, o);
  }

  metastore::MemoryMetaStore source_;
  metastore::MemoryMetaStore target_;
  objstore::MemoryObjectStore state_;
  objstore::MemoryObjectStore backup_store_;
  backup::BackupStorage storage_{&backup_store_, "backup"};
  std::unique_ptr<hummock::HummockManager> manager_;
  std::string cluster_id_;
  uint64_t epoch_ = 0;
  FakeClock clock_;
};

TEST_F(RestoreTest, RestoresEveryRowAndTheVersionCheckpoint) {
  AddSsts(2);
  const auto at_snapshot_rows = Dump(source_);
  const uint64_t id = TakeSnapshot();
  const hummock::HummockVersion version = *manager_->current();
  // Changes after the snapshot must not come back.
  AddSsts(1);

  auto summary = Restore(Options(id));
  ASSERT_OK(summary.status());
  EXPECT_EQ(summary->snapshot_id, id);
  EXPECT_EQ(summary->cluster_id, cluster_id_);
  EXPECT_EQ(summary->hummock_version_id, version.id());
  EXPECT_FALSE(summary->completed_earlier_restore);

  auto restored = Dump(target_);
  // The source was the first generation; the restored store is the second.
  EXPECT_EQ(summary->generation, 2u);
  for (const auto& table : Model::Get().tables()) {
    if (table.name == "id_sequence" || !table.in_snapshot) continue;
    auto it = at_snapshot_rows.find(table.name);
    std::vector<Row> expected = it == at_snapshot_rows.end() ? std::vector<Row>{} : it->second;
    if (table.name == "cluster") {
      ASSERT_EQ(expected.size(), 1u);
      EXPECT_EQ(expected[0][table.ColumnIndex("generation")], metastore::Value(int64_t{1}));
      expected[0][table.ColumnIndex("generation")] = int64_t{2};
    }
    EXPECT_EQ(restored[table.name], expected) << table.name;
  }
  EXPECT_TRUE(restored["hummock_version_delta"].empty());
  // Sequences: the snapshot's own (meta_backup already id + 1), and object ids above every
  // object in the state store (the SST written after the snapshot included: it is garbage but
  // its id must not be reused).
  std::map<std::string, int64_t> sequences;
  for (const Row& row : restored["id_sequence"]) {
    sequences[std::get<std::string>(row[0])] = std::get<int64_t>(row[1]);
  }
  EXPECT_EQ(sequences[kSnapshotIdSequence], static_cast<int64_t>(id) + 1);
  const auto all_ids = hummock::ObjectIds(*manager_->current());
  EXPECT_EQ(sequences[kObjectIdSequence], static_cast<int64_t>(all_ids.back()) + 1);
  EXPECT_FALSE(sequences.contains(hummock::kRestoreIncompleteMarker));
  EXPECT_EQ(summary->sequences, sequences);

  // The generation object and the generation's own checkpoint; the first generation's is left
  // to the superseded meta store.
  ASSERT_OK_AND_ASSIGN(hummock::StoredGeneration generation, hummock::ReadGeneration(state_, kDir));
  EXPECT_EQ(generation.record.generation, 2u);
  EXPECT_EQ(generation.record.cluster_id, cluster_id_);
  EXPECT_EQ(generation.record.snapshot_id, id);
  EXPECT_EQ(generation.record.started_at_ms, clock_.NowMs());
  EXPECT_EQ(hummock::CheckpointKey(kDir, 2), "hummock_001/checkpoint/2");
  auto checkpoint = hummock::ReadCheckpoint(state_, kDir, 2);
  ASSERT_OK(checkpoint.status());
  EXPECT_EQ(checkpoint->version().SerializeAsString(), version.SerializeAsString());
  EXPECT_EQ(checkpoint->stale_object_ids_size(), 0);
  // The source's checkpoint (none was written: fewer than 64 deltas) is not the restored one.
  EXPECT_THAT(hummock::ReadCheckpoint(state_, kDir, 1).status(), StatusIs(StatusCode::kNotFound));

  // The restored store opens as the cluster at the snapshot.
  auto reopened =
      hummock::HummockManager::Open(target_, state_, {.data_directory = kDir, .generation = 2});
  ASSERT_OK(reopened.status());
  EXPECT_EQ((*reopened)->current()->id(), version.id());
  EXPECT_EQ(hummock::ObjectIds(*(*reopened)->current()), hummock::ObjectIds(version));
  EXPECT_OK(hummock::CheckNoIncompleteRestore(target_));

  uint64_t rows = 0;
  for (const auto& t : summary->tables) rows += t.rows;
  EXPECT_EQ(rows, summary->rows);
  EXPECT_THAT(FormatSummary(*summary),
              HasSubstr(fmt::format("restored meta snapshot {}: cluster {}", id, cluster_id_)));
  EXPECT_THAT(FormatSummary(*summary), ::testing::EndsWith(", generation 2"));
  // The source meta store is superseded; the restored one is the state store's generation.
  EXPECT_THAT(hummock::CheckGeneration(state_, kDir, cluster_id_, 1, "source", "state", clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("superseded")));
  EXPECT_OK(
      hummock::CheckGeneration(state_, kDir, cluster_id_, 2, "target", "state", clock_).status());
}

// Every restore is a new generation: restoring the same snapshot again supersedes the first
// restored store; a half-finished restore completed later keeps its generation; one that a later
// restore superseded cannot be completed.
TEST_F(RestoreTest, EachRestoreIsANewGenerationThatSupersedesTheLast) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  ASSERT_OK_AND_ASSIGN(RestoreSummary first, Restore(Options(id)));
  EXPECT_EQ(first.generation, 2u);
  metastore::MemoryMetaStore second_target;
  ASSERT_OK_AND_ASSIGN(RestoreSummary second, Restore(Options(id), &second_target));
  EXPECT_EQ(second.generation, 3u);
  EXPECT_THAT(hummock::CheckGeneration(state_, kDir, cluster_id_, 2, "first", "state", clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("holds generation 2")));
  EXPECT_OK(
      hummock::CheckGeneration(state_, kDir, cluster_id_, 3, "second", "state", clock_).status());
  auto reopened = hummock::HummockManager::Open(second_target, state_,
                                                {.data_directory = kDir, .generation = 3});
  ASSERT_OK(reopened.status());
  // A dry run says which generation it would make and writes nothing.
  metastore::MemoryMetaStore third_target;
  RestoreOptions dry = Options(id);
  dry.dry_run = true;
  ASSERT_OK_AND_ASSIGN(RestoreSummary dry_summary, Restore(dry, &third_target));
  EXPECT_EQ(dry_summary.generation, 4u);
  EXPECT_THAT(FormatSummary(dry_summary), HasSubstr("generation 4 (would be)"));
  ASSERT_OK_AND_ASSIGN(hummock::StoredGeneration now, hummock::ReadGeneration(state_, kDir));
  EXPECT_EQ(now.record.generation, 3u);
}

// The id floors: a restored cluster never allocates an object id or a snapshot id at or below one
// that exists in its state store or backup location, listed anywhere or not.
TEST_F(RestoreTest, IdsStartAboveEveryObjectOfTheStateStoreAndTheBackupLocation) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  // Left by the source after the snapshot: an SST and the object of a job that never published.
  ASSERT_OK(state_.Put(hummock::SstObjectKey(kDir, 500), "sst of a later epoch"));
  ASSERT_OK(backup_store_.Put("backup/40.snapshot", "a killed job's object"));
  ASSERT_OK_AND_ASSIGN(RestoreSummary summary, Restore(Options(id)));
  EXPECT_EQ(summary.sequences[kObjectIdSequence], 501);
  EXPECT_EQ(summary.sequences[kSnapshotIdSequence], 41);
  // The restored cluster's next SST id is above them.
  auto reopened =
      hummock::HummockManager::Open(target_, state_, {.data_directory = kDir, .generation = 2});
  ASSERT_OK(reopened.status());
  ASSERT_OK_AND_ASSIGN(uint64_t next, (*reopened)->NewObjectIds(1));
  EXPECT_EQ(next, 501u);
}

// Two restores that read the same generation: the one whose compare-and-swap loses writes nothing.
// One pass over the snapshot object: the checks and the rows come from the same read.
TEST_F(RestoreTest, ReadsTheSnapshotObjectOnce) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  objstore::FaultInjectionObjectStore counting(std::make_unique<objstore::MemoryObjectStore>());
  for (const std::string& key :
       {backup::SnapshotKey("backup", id), backup::ManifestKey("backup")}) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, backup_store_.Get(key));
    ASSERT_OK(counting.Put(key, bytes));
  }
  backup::BackupStorage storage(&counting, "backup");
  ASSERT_OK(RestoreMeta(storage, target_, state_, Options(id)).status());
  EXPECT_EQ(counting.CallCount(objstore::ObjectStoreOp::kOpenReader), 1);
  EXPECT_EQ(Dump(target_)["user"], Dump(source_)["user"]);
}

TEST_F(RestoreTest, RestoreThatLosesTheGenerationRaceWritesNothing) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  objstore::FaultInjectionObjectStore faulty(std::make_unique<objstore::MemoryObjectStore>());
  ASSERT_OK(
      faulty.Put(hummock::SstObjectKey(kDir, hummock::ObjectIds(*manager_->current())[0]), "sst"));
  // The other restore's write lands between our read and our compare-and-swap.
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kPut,
                      .after_effect = false,
                      .status = AbortedError("injected: precondition failed")});
  EXPECT_THAT(
      Restore(Options(id), &target_, &faulty).status(),
      StatusIs(StatusCode::kAborted, HasSubstr("another restore raised the cluster generation")));
  EXPECT_TRUE(IsFresh(target_));
}

// A table whose schema has a larger oid than the table itself (as after ALTER ... SET SCHEMA in
// RisingWave, #19791): snapshot rows come in oid order, the child first.
TEST_F(RestoreTest, ObjectRowsWhoseParentsHaveLargerIdsAreRestored) {
  const auto& object = Model::Get().Table("object");
  const auto& schema = Model::Get().Table("schema");
  ASSERT_OK(metastore::RunTransaction(source_, [&](metastore::Transaction& txn) -> Status {
    std::optional<int64_t> database_id;
    std::optional<int64_t> owner;
    RWMETA_RETURN_IF_ERROR(txn.Scan(object, [&](const Row& row) {
      if (std::get<std::string>(row[1]) == "database") {
        database_id = std::get<int64_t>(row[0]);
        owner = std::get<int64_t>(row[2]);
      }
      return Status::Ok();
    }));
    if (!database_id) return InternalError("no database");
    // Schema 900 in the database, then object 800 (a view) in schema 900, then one more level.
    RWMETA_RETURN_IF_ERROR(txn.Insert(object, Row{int64_t{900}, std::string("schema"), *owner,
                                                  *database_id, std::monostate{}, int64_t{1}}));
    RWMETA_RETURN_IF_ERROR(
        txn.Insert(schema, Row{int64_t{900}, *database_id, std::string("moved_to")}));
    RWMETA_RETURN_IF_ERROR(txn.Insert(object, Row{int64_t{800}, std::string("view"), *owner,
                                                  *database_id, int64_t{900}, int64_t{2}}));
    return Status::Ok();
  }));
  const auto expected = Dump(source_)["object"];
  const uint64_t id = TakeSnapshot();
  ASSERT_OK(Restore(Options(id)).status());
  EXPECT_EQ(Dump(target_)["object"], expected);
}

TEST_F(RestoreTest, UnknownSnapshotIdListsTheIdsThatExist) {
  const uint64_t a = TakeSnapshot();
  const uint64_t b = TakeSnapshot();
  EXPECT_THAT(Restore(Options(99)).status(),
              StatusIs(StatusCode::kNotFound,
                       HasSubstr(fmt::format("meta snapshot 99 not found in backup storage "
                                             "memory directory backup: it lists snapshots {}, {}",
                                             a, b))));
  EXPECT_TRUE(IsFresh(target_));
}

TEST_F(RestoreTest, EmptyBackupLocationSaysSo) {
  EXPECT_THAT(Restore(Options(1)).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("it lists no snapshots")));
}

TEST_F(RestoreTest, NonEmptyTargetIsRefusedAndUntouched) {
  const uint64_t id = TakeSnapshot();
  ASSERT_OK(target_.Migrate());
  ASSERT_OK(metastore::RunTransaction(target_, [](metastore::Transaction& txn) {
    return txn.Insert(Model::Get().Table("catalog_version"), Row{std::string("x"), int64_t{7}});
  }));
  const auto before = Dump(target_);
  EXPECT_THAT(Restore(Options(id)).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("is not empty (table catalog_version has 1 rows)")));
  EXPECT_EQ(Dump(target_), before);
  EXPECT_THAT(hummock::ReadCheckpoint(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
  // Refused before step 9: the generation was not raised.
  EXPECT_THAT(hummock::ReadGeneration(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(RestoreTest, SchemaWithoutRowsIsUsedAsIs) {
  const uint64_t id = TakeSnapshot();
  auto created = CreateMetaStoreSchema(target_);
  ASSERT_OK(created.status());
  EXPECT_TRUE(*created);
  auto again = CreateMetaStoreSchema(target_);
  ASSERT_OK(again.status());
  EXPECT_FALSE(*again);
  ASSERT_OK(Restore(Options(id)).status());
  EXPECT_EQ(Dump(target_)["cluster"].size(), 1u);
  // Now it has rows: the schema command refuses to touch it.
  EXPECT_THAT(CreateMetaStoreSchema(target_).status(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is not empty")));
}

TEST_F(RestoreTest, WrongStateStoreUrlOrDirectoryIsRefused) {
  const uint64_t id = TakeSnapshot();
  RestoreOptions o = Options(id);
  o.hummock_storage_url = "fs:///elsewhere";
  EXPECT_THAT(
      Restore(o).status(),
      StatusIs(StatusCode::kFailedPrecondition,
               HasSubstr("state store url mismatch: meta snapshot 1 was taken of a "
                         "cluster on memory but --hummock-storage-url is fs:///elsewhere")));
  o = Options(id);
  o.hummock_storage_directory = "other_dir";
  EXPECT_THAT(Restore(o).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("data_directory hummock_001 but --hummock-storage-directory is "
                                 "other_dir")));
  o = Options(id);
  o.hummock_storage_url = "hummock+memory";
  EXPECT_THAT(Restore(o).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("without the hummock+ prefix")));
  EXPECT_TRUE(IsFresh(target_));
}

TEST_F(RestoreTest, OverwriteNeedsAllThreeFlagsAndRewritesTheFourParameters) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  RestoreOptions o = Options(id);
  o.overwrite_hummock_storage_endpoint = true;
  o.overwrite_backup_storage_url = "fs:///new_backup";
  EXPECT_THAT(Restore(o).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must be given together")));

  // A copy of the state store under another URL and directory.
  objstore::MemoryObjectStore copy;
  for (uint64_t object_id : hummock::ObjectIds(*manager_->current())) {
    ASSERT_OK(copy.Put(hummock::SstObjectKey("moved", object_id), "sst bytes"));
  }
  o.hummock_storage_url = "fs:///new_state";
  o.hummock_storage_directory = "moved";
  o.overwrite_backup_storage_directory = "new_backup_dir";
  o.validate_integrity = true;
  ASSERT_OK(Restore(o, &target_, &copy).status());
  std::map<std::string, std::string> params;
  auto restored = Dump(target_);
  for (const Row& row : restored["system_parameter"]) {
    params[std::get<std::string>(row[0])] = std::get<std::string>(row[1]);
  }
  EXPECT_EQ(params["state_store"], "hummock+fs:///new_state");
  EXPECT_EQ(params["data_directory"], "moved");
  EXPECT_EQ(params["backup_storage_url"], "fs:///new_backup");
  EXPECT_EQ(params["backup_storage_directory"], "new_backup_dir");
  EXPECT_OK(hummock::ReadCheckpoint(copy, "moved", 2).status());
  // The generation is raised where the restored cluster will run.
  ASSERT_OK_AND_ASSIGN(hummock::StoredGeneration moved, hummock::ReadGeneration(copy, "moved"));
  EXPECT_EQ(moved.record.generation, 2u);
  EXPECT_THAT(hummock::ReadCheckpoint(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(RestoreTest, DryRunChecksEverythingAndWritesNothing) {
  AddSsts(2);
  const uint64_t id = TakeSnapshot();
  RestoreOptions o = Options(id);
  o.dry_run = true;
  o.validate_integrity = true;
  auto summary = Restore(o);
  ASSERT_OK(summary.status());
  EXPECT_TRUE(summary->dry_run);
  EXPECT_EQ(summary->objects_checked, 2u);
  EXPECT_GT(summary->rows, 0u);
  EXPECT_TRUE(IsFresh(target_));
  EXPECT_EQ(target_.Inspect()->version, 0);
  EXPECT_THAT(hummock::ReadCheckpoint(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(hummock::ReadGeneration(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
  // A dry run still fails on what a real run fails on.
  o.hummock_storage_directory = "nope";
  EXPECT_THAT(Restore(o).status(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(RestoreTest, ValidateIntegrityNamesMissingObjects) {
  AddSsts(3);
  const uint64_t id = TakeSnapshot();
  auto ids = hummock::ObjectIds(*manager_->current());
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_OK(state_.Delete(hummock::SstObjectKey(kDir, ids[0])));
  ASSERT_OK(state_.Delete(hummock::SstObjectKey(kDir, ids[2])));
  RestoreOptions o = Options(id);
  o.validate_integrity = true;
  EXPECT_THAT(Restore(o).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(fmt::format("references 2 objects missing from state store "
                                             "memory directory hummock_001: {}, {}",
                                             ids[0], ids[2]))));
  EXPECT_TRUE(IsFresh(target_));
  // Without the flag the restore does not look.
  EXPECT_OK(Restore(Options(id)).status());
}

TEST_F(RestoreTest, OlderSnapshotContinuesIdsOfTheNewest) {
  AddSsts(1);
  const uint64_t first = TakeSnapshot();
  AddSsts(2);
  const uint64_t second = TakeSnapshot();
  const auto newest_ids = hummock::ObjectIds(*manager_->current());
  // Objects of the newest snapshot stay; the listing is not what carries them here.
  RestoreOptions o = Options(first);
  o.list_state_store_object_ids = false;
  auto summary = Restore(o);
  ASSERT_OK(summary.status());
  EXPECT_EQ(summary->sequences[kSnapshotIdSequence], static_cast<int64_t>(second) + 1);
  EXPECT_EQ(summary->sequences[kObjectIdSequence], static_cast<int64_t>(newest_ids.back()) + 1);
  // The older snapshot's catalog came back, not the newer one's version.
  auto checkpoint = hummock::ReadCheckpoint(state_, kDir, summary->generation);
  ASSERT_OK(checkpoint.status());
  EXPECT_EQ(hummock::ObjectIds(checkpoint->version()).size(), 1u);
}

TEST_F(RestoreTest, DamagedNewestSnapshotDoesNotBlockAnOlderOne) {
  AddSsts(1);
  const uint64_t first = TakeSnapshot();
  AddSsts(2);
  const uint64_t second = TakeSnapshot();
  const auto newest_ids = hummock::ObjectIds(*manager_->current());
  ASSERT_OK(backup_store_.Delete(backup::SnapshotKey("backup", second)));
  RestoreOptions o = Options(first);
  o.list_state_store_object_ids = false;
  auto summary = Restore(o);
  ASSERT_OK(summary.status());
  // The manifest's ids still carry the sequences past everything the newest snapshot uses.
  EXPECT_EQ(summary->sequences[kSnapshotIdSequence], static_cast<int64_t>(second) + 1);
  EXPECT_EQ(summary->sequences[kObjectIdSequence], static_cast<int64_t>(newest_ids.back()) + 1);
}

TEST_F(RestoreTest, NewestSnapshotWithLowerSequencesIsAClearError) {
  AddSsts(2);
  const uint64_t first = TakeSnapshot();
  // A second "cluster" whose sequences are behind writes the newest snapshot into the same
  // location: its object ids could collide.
  metastore::MemoryMetaStore other;
  ASSERT_OK(meta::BootstrapCluster(other, {.state_store = "hummock+memory", .data_directory = kDir})
                .status());
  ASSERT_OK(metastore::RunTransaction(other, [&](metastore::Transaction& txn) {
    return txn.Upsert(Model::Get().Table("id_sequence"),
                      Row{std::string(kSnapshotIdSequence), static_cast<int64_t>(first) + 1});
  }));
  hummock::HummockVersion empty;
  TakeSnapshot(&other, &empty);
  EXPECT_THAT(Restore(Options(first)).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("has id sequence hummock_object_id at none but the older "
                                 "snapshot 1 has it at")));
  EXPECT_TRUE(IsFresh(target_));
}

TEST_F(RestoreTest, LiveMetaNodeLeaseRefusesAndExpiredLeaseDoesNot) {
  const uint64_t id = TakeSnapshot();
  auto guard = hummock::StateStoreGuard::Acquire(
      state_, kDir, {.ttl_ms = 6000, .clock = &clock_, .renew_in_background = false});
  ASSERT_OK(guard.status());
  EXPECT_THAT(Restore(Options(id)).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("holds the lease hummock_001/meta_lease for another 6000 ms: "
                                 "shut the meta service down before restoring")));
  EXPECT_TRUE(IsFresh(target_));
  clock_.now_ms += 6001;  // the node died without releasing: its lease ran out
  EXPECT_OK(Restore(Options(id)).status());
}

TEST_F(RestoreTest, StateStoreOfAnotherClusterIsRefused) {
  const uint64_t id = TakeSnapshot();
  ASSERT_OK(state_.Put(std::string(kDir) + "/cluster_id", "someone-else"));
  EXPECT_THAT(Restore(Options(id)).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("belongs to cluster someone-else, the snapshot to cluster " +
                                 cluster_id_)));
  EXPECT_TRUE(IsFresh(target_));
}

TEST_F(RestoreTest, CorruptSnapshotIsDataLossAndTargetUntouched) {
  const uint64_t id = TakeSnapshot();
  const std::string key = backup::SnapshotKey("backup", id);
  auto bytes = backup_store_.Get(key);
  ASSERT_OK(bytes.status());
  std::string corrupt = *bytes;
  corrupt[corrupt.size() / 2] ^= 0x40;
  ASSERT_OK(backup_store_.Put(key, corrupt));
  EXPECT_THAT(Restore(Options(id)).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr(fmt::format("meta snapshot {}", id))));
  EXPECT_TRUE(IsFresh(target_));
  EXPECT_THAT(hummock::ReadCheckpoint(state_, kDir).status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(RestoreTest, UnreachableBackupStorageIsUnavailable) {
  const uint64_t id = TakeSnapshot();
  auto faulty = std::make_unique<objstore::FaultInjectionObjectStore>(
      std::make_unique<objstore::MemoryObjectStore>());
  faulty->InjectFault({.op = objstore::ObjectStoreOp::kGet,
                       .sticky = true,
                       .status = UnavailableError("connection refused")});
  backup::BackupStorage unreachable(faulty.get(), "backup");
  EXPECT_THAT(
      RestoreMeta(unreachable, target_, state_, Options(id)).status(),
      StatusIs(StatusCode::kUnavailable, HasSubstr("backup storage memory directory backup")));
  EXPECT_TRUE(IsFresh(target_));
}

TEST_F(RestoreTest, KilledWhileWritingRowsLeavesTargetAsItWasAndRerunSucceeds) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  const auto expected = Dump(source_)["user"];
  for (int64_t killed_after : {0, 1, 5, 12}) {
    auto before = hummock::ReadGeneration(state_, kDir);
    const uint64_t generation_before =
        before.ok() ? before->record.generation : hummock::kFirstGeneration;
    metastore::MemoryMetaStore target;
    FailingMetaStore failing(&target);
    failing.fail_after_inserts = killed_after;
    EXPECT_THAT(Restore(Options(id), &failing).status(),
                StatusIs(StatusCode::kUnavailable, HasSubstr("the restore process died here")))
        << killed_after;
    EXPECT_TRUE(IsFresh(target)) << killed_after;
    // Killed while the rows streamed in, before the whole snapshot checked out: the generation is
    // not raised, so the meta store the snapshot came from still starts.
    auto after = hummock::ReadGeneration(state_, kDir);
    EXPECT_EQ(after.ok() ? after->record.generation : hummock::kFirstGeneration, generation_before)
        << killed_after;
    // The re-run raises it once and is the one generation a meta store holds.
    ASSERT_OK_AND_ASSIGN(RestoreSummary rerun, Restore(Options(id), &target));
    EXPECT_EQ(rerun.generation, generation_before + 1) << killed_after;
    EXPECT_EQ(Dump(target)["user"], expected);
    EXPECT_OK(
        hummock::CheckGeneration(state_, kDir, cluster_id_, rerun.generation, "t", "s", clock_)
            .status());
  }
  // The commit itself failing is the same.
  metastore::MemoryMetaStore target;
  FailingMetaStore failing(&target);
  failing.fail_commit = true;
  EXPECT_THAT(Restore(Options(id), &failing).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("commit")));
  EXPECT_TRUE(IsFresh(target));
}

TEST_F(RestoreTest, CheckpointFailureLeavesAMarkerThatBlocksStartsUntilARerunCompletes) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  const hummock::HummockVersion version = *manager_->current();
  objstore::FaultInjectionObjectStore faulty(std::make_unique<objstore::MemoryObjectStore>());
  ASSERT_OK(faulty.Put(hummock::SstObjectKey(kDir, hummock::ObjectIds(version)[0]), "sst"));
  // The first put raises the generation, the second writes the checkpoint.
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kPut,
                      .nth = 2,
                      .status = UnavailableError("state store went away")});
  EXPECT_THAT(Restore(Options(id), &target_, &faulty).status(),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("the rows are committed but the checkpoint is not; run the same "
                                 "restore-meta again")));
  // Rows are in, the marker with them: nothing may start on this store.
  EXPECT_EQ(Dump(target_)["cluster"].size(), 1u);
  EXPECT_THAT(hummock::CheckNoIncompleteRestore(target_),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(fmt::format("unfinished restore of meta snapshot {}", id))));
  EXPECT_THAT(
      hummock::HummockManager::Open(target_, faulty, {.data_directory = kDir, .generation = 2})
          .status(),
      StatusIs(StatusCode::kFailedPrecondition,
               HasSubstr(fmt::format("risectl meta restore-meta --meta-snapshot-id {}", id))));
  // Another snapshot cannot be restored over it.
  const uint64_t other = TakeSnapshot();
  EXPECT_THAT(
      Restore(Options(other), &target_, &faulty).status(),
      StatusIs(StatusCode::kFailedPrecondition,
               HasSubstr(fmt::format("holds an unfinished restore of meta snapshot {}", id))));
  // The same one completes it.
  auto summary = Restore(Options(id), &target_, &faulty);
  ASSERT_OK(summary.status());
  EXPECT_TRUE(summary->completed_earlier_restore);
  EXPECT_THAT(FormatSummary(*summary), HasSubstr("completed the restore of meta snapshot"));
  // Completing keeps the generation the unfinished restore raised.
  EXPECT_EQ(summary->generation, 2u);
  EXPECT_OK(hummock::CheckNoIncompleteRestore(target_));
  auto reopened =
      hummock::HummockManager::Open(target_, faulty, {.data_directory = kDir, .generation = 2});
  ASSERT_OK(reopened.status());
  EXPECT_EQ((*reopened)->current()->id(), version.id());
}

TEST_F(RestoreTest, UnfinishedRestoreThatALaterRestoreSupersededCannotBeCompleted) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  objstore::FaultInjectionObjectStore faulty(std::make_unique<objstore::MemoryObjectStore>());
  ASSERT_OK(
      faulty.Put(hummock::SstObjectKey(kDir, hummock::ObjectIds(*manager_->current())[0]), "sst"));
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kPut,
                      .nth = 2,
                      .status = UnavailableError("state store went away")});
  ASSERT_THAT(Restore(Options(id), &target_, &faulty).status(), StatusIs(StatusCode::kUnavailable));
  metastore::MemoryMetaStore other;
  ASSERT_OK_AND_ASSIGN(RestoreSummary later, Restore(Options(id), &other, &faulty));
  EXPECT_EQ(later.generation, 3u);
  EXPECT_THAT(Restore(Options(id), &target_, &faulty).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("holds an unfinished restore of generation 2, but state store")));
}

TEST_F(RestoreTest, ProgressReportsEveryTableWithRowsAndBytes) {
  const uint64_t id = TakeSnapshot();
  struct Recorder : RestoreProgress {
    void OnStep(const std::string& step) override { steps.push_back(step); }
    void OnTable(const TableProgress& t, bool done) override {
      if (done) tables.push_back(t);
    }
    std::vector<std::string> steps;
    std::vector<TableProgress> tables;
  } recorder;
  RestoreOptions o = Options(id);
  o.progress = &recorder;
  auto summary = Restore(o);
  ASSERT_OK(summary.status());
  ASSERT_EQ(recorder.tables.size(), summary->tables.size());
  const auto rows = Dump(source_);
  for (const TableProgress& t : recorder.tables) {
    if (t.table == "id_sequence") continue;
    auto it = rows.find(t.table);
    EXPECT_EQ(t.rows, it == rows.end() ? 0u : it->second.size()) << t.table;
    EXPECT_EQ(t.rows, t.expected_rows) << t.table;
  }
  auto user = std::find_if(recorder.tables.begin(), recorder.tables.end(),
                           [](const TableProgress& t) { return t.table == "user"; });
  ASSERT_NE(user, recorder.tables.end());
  EXPECT_EQ(user->rows, 1u);
  // root: id 8 + "root" 4 + 4 booleans + 2 NULLs + created_at 8.
  EXPECT_EQ(user->bytes, 8u + 4u + 4u + 8u);
  EXPECT_THAT(recorder.steps.back(), HasSubstr("writing the Hummock version"));
}

}  // namespace
}  // namespace rwmeta::restore
