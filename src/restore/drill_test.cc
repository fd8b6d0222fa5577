#include "restore/drill.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backup/backup_storage.h"
#include "backup/manifest.h"
#include "backup/names.h"
#include "backup/snapshot_format.h"
#include "common/testing/status_matchers.h"
#include "common/utf8.h"
#include "hummock/names.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/testing/placeholder_ssts.h"
#include "hummock/version/version.h"
#include "meta/bootstrap.h"
#include "meta/catalog_manager.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/model.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::restore {
namespace {

using metastore::Model;
using metastore::Row;
using objstore::FaultInjectionObjectStore;
using objstore::ObjectStoreOp;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kDir[] = "hummock_001";
constexpr char kBackupDir[] = "backup";

// Every call of NowMs advances 7 ms, so a drill lasts exactly 7 ms.
class StepClock : public Clock {
 public:
  int64_t NowMs() override {
    const int64_t t = now_ms;
    now_ms += 7;
    return t;
  }
  void SleepMs(int64_t ms) override { now_ms += ms; }
  int64_t now_ms = 1'000'000;
};

// This build's model without foreign and unique keys: a source store that takes rows the real
// model refuses, to write snapshots that break them.
const Model& LooseModel() {
  static const Model* const kModel = [] {
    std::vector<metastore::TableSchema> tables = Model::Get().tables();
    for (auto& t : tables) {
      t.foreign_keys.clear();
      t.unique_keys.clear();
    }
    return new Model(Model::Get().version(), std::move(tables));
  }();
  return *kModel;
}

// Model version 1: cluster without `generation` (added in 2).
const Model& ModelVersion1() {
  static const Model* const kModel = [] {
    std::vector<metastore::TableSchema> tables = Model::Get().tables();
    for (auto& t : tables) {
      std::erase_if(t.columns,
                    [](const metastore::ColumnSchema& c) { return c.added_in_version > 1; });
    }
    return new Model(1, std::move(tables));
  }();
  return *kModel;
}

// Keys and etags: what "nothing was written" compares.
std::vector<std::pair<std::string, std::string>> Listing(objstore::ObjectStore& store) {
  auto objects = store.List("");
  EXPECT_OK(objects.status());
  std::vector<std::pair<std::string, std::string>> out;
  if (!objects.ok()) return out;
  for (const auto& o : *objects) out.emplace_back(o.key, o.etag);
  return out;
}

int64_t Writes(const FaultInjectionObjectStore& store) {
  return store.CallCount(ObjectStoreOp::kPut) + store.CallCount(ObjectStoreOp::kOpenWriter) +
         store.CallCount(ObjectStoreOp::kDelete) + store.CallCount(ObjectStoreOp::kDeleteMany);
}

// A source cluster (bootstrapped meta store, state store with SSTs) and its backup location.
class DrillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Bootstrap(source_);
    auto manager = hummock::HummockManager::Open(source_, state_, {.data_directory = kDir});
    ASSERT_OK(manager.status());
    manager_ = std::move(manager).value();
  }

  void Bootstrap(metastore::MetaStore& store) {
    auto cluster = meta::BootstrapCluster(store, {.state_store = "hummock+memory",
                                                  .data_directory = kDir,
                                                  .backup_storage_url = "memory",
                                                  .backup_storage_directory = kBackupDir});
    ASSERT_OK(cluster.status());
    cluster_id_ = cluster->cluster_id;
  }

  // Flushes `count` new SSTs into the source's version (objects put into the state store).
  std::vector<uint64_t> AddSsts(int count) {
    auto ids = hummock::testing::CommitPlaceholderSsts(*manager_, state_, kDir, count, &epoch_);
    EXPECT_OK(ids.status());
    return ids.ok() ? *ids : std::vector<uint64_t>{};
  }

  // Takes a snapshot of `source` the way the backup job does: the id from `meta_backup`, then the
  // cut, written as `model`. `after_id` runs between the two (to break the cut).
  uint64_t TakeSnapshot(metastore::MetaStore* source = nullptr, const Model& model = Model::Get(),
                        const std::function<void(int64_t id)>& after_id = nullptr) {
    metastore::MetaStore& src = source ? *source : source_;
    int64_t id = 0;
    EXPECT_OK(metastore::RunTransaction(src, [&](metastore::Transaction& txn) -> Status {
      RWMETA_ASSIGN_OR_RETURN(id, metastore::NextId(txn, backup::kSnapshotIdSequence));
      return Status::Ok();
    }));
    if (after_id) after_id(id);
    auto view = src.BeginSnapshotRead();
    EXPECT_OK(view.status());
    backup::SnapshotHeader header{
        .cluster_id = cluster_id_, .rwmeta_version = "0.1.0", .source_backend = "memory"};
    auto written = storage_.WriteSnapshot(static_cast<uint64_t>(id), **view, *manager_->current(),
                                          header, std::nullopt, model);
    EXPECT_OK(written.status());
    return static_cast<uint64_t>(id);
  }

  void SetSequence(metastore::MetaStore& store, const std::string& name, int64_t next) {
    ASSERT_OK(metastore::RunTransaction(store, [&](metastore::Transaction& txn) {
      return txn.Upsert(Model::Get().Table("id_sequence"), Row{name, next});
    }));
  }

  int64_t MaxKey(metastore::MetaStore& store, const std::string& table) {
    int64_t max = 0;
    auto view = store.BeginSnapshotRead();
    EXPECT_OK(view.status());
    EXPECT_OK((*view)->Scan(Model::Get().Table(table), [&](const Row& row) {
      max = std::max(max, std::get<int64_t>(row[0]));
      return Status::Ok();
    }));
    return max;
  }

  Result<DrillReport> Drill(uint64_t id) {
    return DrillSnapshot(storage_, id, state_, kDir, {.clock = &clock_});
  }

  metastore::MemoryMetaStore source_;
  FaultInjectionObjectStore state_{std::make_unique<objstore::MemoryObjectStore>()};
  FaultInjectionObjectStore backup_store_{std::make_unique<objstore::MemoryObjectStore>()};
  backup::BackupStorage storage_{&backup_store_, kBackupDir};
  std::unique_ptr<hummock::HummockManager> manager_;
  std::string cluster_id_;
  uint64_t epoch_ = 0;
  StepClock clock_;
};

TEST_F(DrillTest, PassesARealisticSnapshotAndWritesNothing) {
  ASSERT_OK_AND_ASSIGN(auto catalog, meta::CatalogManager::Open(source_));
  const meta::CatalogActor root{"root", "dev"};
  ASSERT_OK(catalog->CreateUser(root, "alice", {}, false).status());
  ASSERT_OK(catalog->CreateUser(root, "bob", {}, false).status());
  ASSERT_OK(catalog->CreateSchema(root, "sales", false).status());
  std::vector<meta::ColumnInfo> columns{{"id", "integer", false}, {"name", "text", true}};
  ASSERT_OK_AND_ASSIGN(auto t1, catalog->CreateTable(root, {"", "t1"}, columns, {0},
                                                     "CREATE TABLE t1", false, false));
  ASSERT_OK(
      catalog
          ->CreateTable(root, {"sales", "t2"}, columns, {0}, "CREATE TABLE sales.t2", false, false)
          .status());
  ASSERT_OK(
      catalog->CreateView(root, {"", "v1"}, columns, "SELECT * FROM t1", {t1.id}, false).status());
  ASSERT_OK(catalog
                ->Grant(root, meta::GrantTargetType::kTable, {{"", "t1"}}, {"SELECT"},
                        {"alice", "bob"}, false)
                .status());
  AddSsts(2);
  AddSsts(3);
  const uint64_t id = TakeSnapshot();
  const uint64_t version_id = manager_->current()->id();

  const auto state_before = Listing(state_);
  const auto backup_before = Listing(backup_store_);
  const int64_t state_writes = Writes(state_);
  const int64_t backup_writes = Writes(backup_store_);
  const int64_t state_lists = state_.CallCount(ObjectStoreOp::kList);

  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  // One List of the state store, whatever the number of objects.
  EXPECT_EQ(state_.CallCount(ObjectStoreOp::kList), state_lists + 1);
  EXPECT_TRUE(report.passed);
  EXPECT_THAT(report.problems, ElementsAre());
  EXPECT_EQ(report.problem_count, 0u);
  EXPECT_EQ(report.snapshot_id, id);
  EXPECT_EQ(report.started_at_ms, 1'000'000);
  EXPECT_EQ(report.duration_ms, 7);
  EXPECT_EQ(report.hummock_version_id, version_id);
  EXPECT_EQ(report.objects_checked, 5u);
  // Every row read was loaded; the catalog's rows reference users and objects.
  EXPECT_GT(report.rows, 20u);
  EXPECT_EQ(report.rows_loaded, report.rows);
  EXPECT_GT(report.references_checked, 20u);
  size_t in_snapshot = 0;
  for (const auto& t : Model::Get().tables()) in_snapshot += t.in_snapshot ? 1 : 0;
  EXPECT_EQ(report.tables, in_snapshot);
  // object, user, object_dependency, user_privilege; hummock_object_id; meta_backup.
  EXPECT_EQ(report.sequences_checked, 6u);
  EXPECT_EQ(FormatDrillReport(report),
            fmt::format("meta snapshot {} drill passed in 7 ms: {} tables, {} rows, {} references, "
                        "6 sequences, 5 objects of hummock version {} checked",
                        id, report.tables, report.rows, report.references_checked, version_id));

  // Only read: nothing written, deleted or replaced in either store.
  EXPECT_EQ(Listing(state_), state_before);
  EXPECT_EQ(Listing(backup_store_), backup_before);
  EXPECT_EQ(Writes(state_), state_writes);
  EXPECT_EQ(Writes(backup_store_), backup_writes);
}

TEST_F(DrillTest, MissingSstFailsNamingTheObject) {
  const std::vector<uint64_t> ids = AddSsts(3);
  const uint64_t id = TakeSnapshot();
  ASSERT_OK(state_.Delete(hummock::SstObjectKey(kDir, ids[1])));
  const auto state_before = Listing(state_);
  const auto backup_before = Listing(backup_store_);

  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("object hummock_001/{}.data of hummock version {} is "
                                      "missing from state store memory",
                                      ids[1], manager_->current()->id())));
  EXPECT_EQ(report.objects_checked, 3u);
  EXPECT_EQ(
      FormatDrillReport(report),
      fmt::format("meta snapshot {} drill failed in 7 ms (1 problem): {}", id, report.problems[0]));
  EXPECT_EQ(Listing(state_), state_before);
  EXPECT_EQ(Listing(backup_store_), backup_before);
}

TEST_F(DrillTest, CorruptByteIsAFailedDrillNotAnError) {
  AddSsts(1);
  const uint64_t id = TakeSnapshot();
  const std::string key = backup::SnapshotKey(kBackupDir, id);
  ASSERT_OK_AND_ASSIGN(std::string bytes, backup_store_.Get(key));
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_OK(backup_store_.Put(key, bytes));

  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  ASSERT_EQ(report.problems.size(), 1u) << FormatDrillReport(report);
  // (The header ends its own chunk since format 1.1: the middle byte is in a later one.)
  EXPECT_THAT(report.problems[0], StartsWith("snapshot object " + key + ": chunk "));
  EXPECT_THAT(report.problems[0], HasSubstr("checksum mismatch"));
}

TEST_F(DrillTest, MissingSnapshotObjectIsAFailedDrill) {
  const uint64_t id = TakeSnapshot();
  ASSERT_OK(backup_store_.Delete(backup::SnapshotKey(kBackupDir, id)));
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr(backup::SnapshotKey(kBackupDir, id)));
}

// A snapshot written by hand (SnapshotWriter) and listed in the manifest: the header says the
// `user` table has 2 rows, but the snapshot has no such table.
TEST_F(DrillTest, HeaderRowCountThatLiesIsAProblem) {
  const uint64_t id = 40;
  const std::string key = backup::SnapshotKey(kBackupDir, id);
  ASSERT_OK_AND_ASSIGN(auto out, backup_store_.OpenWriter(key, {}));
  ASSERT_OK_AND_ASSIGN(auto writer, backup::SnapshotWriter::Create(std::move(out), id));
  backup::SnapshotHeader header{.cluster_id = cluster_id_, .rwmeta_version = "0.1.0"};
  header.model_version = Model::Get().version();
  header.table_row_counts = {{"cluster", 1}, {"user", 2}};
  ASSERT_OK(writer->WriteHeader(header));
  ASSERT_OK(writer->BeginTable(Model::Get().Table("cluster")));
  ASSERT_OK(writer->AddRow(Row{cluster_id_, int64_t{1}, std::string("0.1.0"), int64_t{1}}));
  ASSERT_OK(writer->EndTable());
  const hummock::HummockVersion version = *manager_->current();
  ASSERT_OK(writer->WriteHummockVersion(version));
  ASSERT_OK_AND_ASSIGN(backup::WrittenSnapshot written, writer->Finish());
  backup::ManifestStore manifest(&backup_store_, kBackupDir);
  ASSERT_OK(manifest
                .Update([&](backup::Manifest& m) {
                  backup::SnapshotMetadata entry;
                  entry.id = id;
                  entry.hummock_version_id = version.id();
                  entry.format_version = backup::kSnapshotFormatVersion;
                  entry.size_bytes = written.size_bytes;
                  entry.checksum = written.checksum;
                  m.snapshots.push_back(entry);
                  return Status::Ok();
                })
                .status());

  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.problems, ElementsAre("snapshot object " + key +
                                           ": header lists table user (2 rows) but the "
                                           "snapshot has no such table"));
}

TEST_F(DrillTest, ChildWithoutParentNamesTableKeyAndParent) {
  // A source whose store does not enforce foreign keys holds a grant to a user that is gone.
  metastore::MemoryMetaStore loose(LooseModel());
  Bootstrap(loose);
  const int64_t root_id = MaxKey(loose, "user");
  const int64_t database_id = MaxKey(loose, "database");
  int64_t grant_id = 0;
  ASSERT_OK(metastore::RunTransaction(loose, [&](metastore::Transaction& txn) -> Status {
    const auto& grants = Model::Get().Table("user_privilege");
    RWMETA_ASSIGN_OR_RETURN(grant_id, metastore::NextKey(txn, grants));
    return txn.Insert(
        grants, Row{grant_id, int64_t{99}, database_id, root_id, std::string("SELECT"), false});
  }));
  const uint64_t id = TakeSnapshot(&loose);

  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  // Named once, by the explicit check: the memory store's refusal of the same row is not repeated.
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("table user_privilege row id = {}: user_id = 99 has no "
                                      "parent row in table user (user_id)",
                                      grant_id)));
  EXPECT_EQ(report.rows_loaded + 1, report.rows);
}

TEST_F(DrillTest, RowTheStoreRefusesIsAProblem) {
  // Two users with one name: no foreign key is broken, but the unique key refuses the second.
  metastore::MemoryMetaStore loose(LooseModel());
  Bootstrap(loose);
  const auto& users = Model::Get().Table("user");
  int64_t user_id = 0;
  ASSERT_OK(metastore::RunTransaction(loose, [&](metastore::Transaction& txn) -> Status {
    RWMETA_ASSIGN_OR_RETURN(user_id, metastore::NextKey(txn, users));
    return txn.Insert(users, Row{user_id, std::string("root"), false, false, false, true,
                                 std::monostate{}, std::monostate{}, int64_t{0}});
  }));
  const uint64_t id = TakeSnapshot(&loose);
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  ASSERT_EQ(report.problems.size(), 1u) << FormatDrillReport(report);
  EXPECT_THAT(report.problems[0],
              StartsWith(fmt::format("table user row user_id = {} does not load into a meta "
                                     "store: ",
                                     user_id)));
  EXPECT_THAT(report.problems[0], HasSubstr("unique key (name) = ('root') already exists"));
}

TEST_F(DrillTest, SequenceAtOrBelowAnIdInUseIsAProblem) {
  const int64_t max_oid = MaxKey(source_, "object");
  SetSequence(source_, "object", max_oid);
  const uint64_t id = TakeSnapshot();
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("id sequence object is at {0}, not above {0} (the largest "
                                      "object.oid): ids would be reused",
                                      max_oid)));
}

TEST_F(DrillTest, MissingSequenceIsAProblem) {
  ASSERT_OK(metastore::RunTransaction(source_, [&](metastore::Transaction& txn) {
    return txn.Delete(Model::Get().Table("id_sequence"), metastore::Key{std::string("user")});
  }));
  const uint64_t id = TakeSnapshot();
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("id sequence user is missing, but {} (the largest "
                                      "user.user_id) is in use: the next id would be 1",
                                      MaxKey(source_, "user"))));
}

TEST_F(DrillTest, ObjectIdSequenceBelowAnObjectOfTheVersionIsAProblem) {
  const std::vector<uint64_t> ids = AddSsts(3);
  SetSequence(source_, hummock::kObjectIdSequence, static_cast<int64_t>(ids[1]));
  const uint64_t id = TakeSnapshot();
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("id sequence hummock_object_id is at {}, not above {} (the "
                                      "largest object id of hummock version {}): ids would be "
                                      "reused",
                                      ids[1], ids[2], manager_->current()->id())));
}

TEST_F(DrillTest, SnapshotIdSequenceNotAboveTheSnapshotIsAProblem) {
  // The cut sees the sequence as it was before the job took its id.
  const uint64_t id = TakeSnapshot(nullptr, Model::Get(), [&](int64_t taken) {
    SetSequence(source_, backup::kSnapshotIdSequence, taken);
  });
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_THAT(report.problems,
              ElementsAre(fmt::format("id sequence meta_backup is at {0}, not above {0} (the "
                                      "snapshot's own id): ids would be reused",
                                      id)));
}

TEST_F(DrillTest, SnapshotOfAnOlderModelLoadsAsRestoreLoadsIt) {
  AddSsts(1);
  // A version-1 store: the cluster row has no `generation`.
  metastore::MemoryMetaStore old_store(ModelVersion1());
  ASSERT_OK(old_store.Migrate());
  {
    auto view = source_.BeginSnapshotRead();
    ASSERT_OK(view.status());
    ASSERT_OK(metastore::RunTransaction(old_store, [&](metastore::Transaction& txn) -> Status {
      for (const auto& table : ModelVersion1().tables()) {
        RWMETA_RETURN_IF_ERROR((*view)->Scan(Model::Get().Table(table.name), [&](const Row& r) {
          Row row = r;
          row.resize(table.columns.size());
          return txn.Insert(table, row);
        }));
      }
      return Status::Ok();
    }));
  }
  const uint64_t id = TakeSnapshot(&old_store, ModelVersion1());
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_TRUE(report.passed) << FormatDrillReport(report);
  EXPECT_EQ(report.rows_loaded, report.rows);
}

TEST_F(DrillTest, ListsTenProblemsAndCountsTheRest) {
  const std::vector<uint64_t> ids = AddSsts(12);
  const uint64_t id = TakeSnapshot();
  for (uint64_t object_id : ids) ASSERT_OK(state_.Delete(hummock::SstObjectKey(kDir, object_id)));
  ASSERT_OK_AND_ASSIGN(DrillReport report, Drill(id));
  EXPECT_EQ(report.problem_count, 12u);
  ASSERT_EQ(report.problems.size(), kDefaultMaxDrillProblems + 1);
  EXPECT_THAT(report.problems[0], HasSubstr(hummock::SstObjectKey(kDir, ids[0])));
  EXPECT_EQ(report.problems.back(), "... and 2 more problems");
  const std::string line = FormatDrillReport(report);
  EXPECT_THAT(line, StartsWith(fmt::format("meta snapshot {} drill failed in 7 ms (12 problems): "
                                           "object hummock_001/",
                                           id)));
  EXPECT_LE(line.size(), kMaxDrillReportLineBytes);
}

TEST(FormatDrillReportTest, CutsLongLinesOnACharacterBoundary) {
  DrillReport report;
  report.snapshot_id = 3;
  report.problem_count = 1;
  report.problems = {std::string(2000, 'x') + "\xc3\xa9"};
  std::string line = FormatDrillReport(report);
  EXPECT_EQ(line.size(), kMaxDrillReportLineBytes);
  EXPECT_THAT(line, StartsWith("meta snapshot 3 drill failed in 0 ms (1 problem): xxx"));
  EXPECT_EQ(line.substr(line.size() - 3), "...");
  // A cut inside a two-byte character drops the whole character.
  const std::string prefix = "meta snapshot 3 drill failed in 0 ms (1 problem): ";
  const size_t cut = kMaxDrillReportLineBytes - 3;  // room for "..."
  report.problems = {std::string(cut - 1 - prefix.size(), 'x') + "\xc3\xa9" + "tail"};
  line = FormatDrillReport(report);
  EXPECT_TRUE(IsValidUtf8(line));
  EXPECT_EQ(line.size(), cut - 1 + 3);
  EXPECT_EQ(line.substr(line.size() - 4), "x...");
}

TEST_F(DrillTest, ErrorsWhenTheDrillCannotRun) {
  const uint64_t id = TakeSnapshot();
  EXPECT_THAT(
      Drill(id + 10),
      StatusIs(StatusCode::kNotFound,
               HasSubstr(fmt::format("meta snapshot {} not found in backup storage", id + 10))));
  state_.InjectFault({.op = ObjectStoreOp::kList, .status = UnavailableError("state store down")});
  EXPECT_THAT(Drill(id), StatusIs(StatusCode::kUnavailable, HasSubstr("state store down")));
  backup_store_.InjectFault(
      {.op = ObjectStoreOp::kOpenReader, .sticky = true, .status = UnavailableError("s3 down")});
  EXPECT_THAT(Drill(id), StatusIs(StatusCode::kUnavailable, HasSubstr("s3 down")));
}

}  // namespace
}  // namespace rwmeta::restore
