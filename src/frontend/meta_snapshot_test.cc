// Meta snapshots through SQL sessions with a real BackupManager over in-memory stores: BACKUP,
// DELETE META SNAPSHOT[S], rw_catalog.rw_meta_snapshot, SET QUERY_EPOCH, and the NOTICE of
// ALTER SYSTEM SET backup_storage_directory through psql.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/testing/status_matchers.h"
#include "frontend/session.h"
#include "frontend/table_data.h"
#include "frontend/testing/session_test_util.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/store/maintenance.h"
#include "hummock/version/version.h"
#include "meta/backup_manager.h"
#include "meta/bootstrap.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/memory/memory_object_store.h"
#include "pgwire/server.h"
#include "testing/subprocess.h"

namespace rwmeta::frontend {
namespace {

using ::rwmeta::testing::StatusIs;
using test_util::PgResult;
using test_util::Rows;
using test_util::RowsOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class MetaSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Backup locations are shared in-memory stores private to this test: every open of the same
    // URL sees the same objects (as "memory" does in a meta node), and no other test sees them.
    static std::atomic<int> counter{0};
    store_prefix_ = fmt::format("meta-snapshot-test-{}-{}/", getpid(), counter++);
    meta::BootstrapOptions o;
    o.state_store = "hummock+memory";
    o.data_directory = "hummock_001";
    o.backup_storage_url = "memory";
    o.backup_storage_directory = "backup";
    ASSERT_OK_AND_ASSIGN(auto cluster, meta::BootstrapCluster(meta_, o));
    cluster_id_ = cluster.cluster_id;
    ASSERT_OK_AND_ASSIGN(test_util::Managers managers, test_util::OpenManagers(meta_));
    catalog_ = std::move(managers.catalog);
    params_ = std::move(managers.params);
    ASSERT_OK_AND_ASSIGN(hummock_, hummock::HummockManager::Open(
                                       meta_, objects_, {.data_directory = "hummock_001"}));
    store_ = std::make_unique<hummock::StateStore>(
        *hummock_, hummock::StateStoreOptions{.target_sst_bytes = 2048, .block_size_bytes = 256});
    data_ = std::make_unique<TableData>(*store_, *catalog_);
    ASSERT_OK(data_->Reconcile());
    meta::BackupManagerOptions b;
    b.cluster_id = cluster_id_;
    b.rwmeta_version = "rwmeta-test";
    b.max_snapshots = 3;
    // As the meta node does: every statement that finished before BACKUP is in the snapshot.
    b.before_cut = [this]() -> Status {
      if (cut_hook_) RWMETA_RETURN_IF_ERROR(cut_hook_());
      return store_->Checkpoint().status();
    };
    std::string prefix = store_prefix_;
    b.open_store =
        [prefix](std::string_view url) -> Result<std::unique_ptr<objstore::ObjectStore>> {
      if (url.starts_with("broken")) return UnavailableError("connection refused");
      return std::unique_ptr<objstore::ObjectStore>(
          objstore::MemoryObjectStore::OpenShared(prefix + std::string(url)));
    };
    ASSERT_OK_AND_ASSIGN(backup_,
                         meta::BackupManager::Open(meta_, *hummock_, *params_, std::move(b)));
    hummock::MaintenanceOptions m;
    m.interval = std::chrono::hours(1);  // rounds run when the test says
    m.full_gc_interval = std::chrono::hours(1);
    m.compaction.l0_sub_level_trigger = 3;
    m.compaction.target_file_size_bytes = 4096;
    m.compaction.output_sst_options.block_size_bytes = 256;
    maintenance_ = std::make_unique<hummock::HummockMaintenance>(*hummock_, m);
    factory_ =
        std::make_shared<FrontendSessionFactory>(*catalog_, *params_, data_.get(), backup_.get());
    ASSERT_OK_AND_ASSIGN(root_, factory_->OpenSession("root", "dev", {}));
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    root_.reset();
    factory_.reset();
    backup_.reset();
    maintenance_.reset();
  }

  Result<pgwire::ResultSet> Run(pgwire::Session& s, std::string_view sql) {
    return test_util::RunOne(s, sql);
  }
  Result<pgwire::ResultSet> Run(std::string_view sql) { return Run(*root_, sql); }
  Rows Ok(pgwire::Session& s, std::string_view sql, const std::string& tag) {
    return test_util::ExpectOk(s, sql, tag);
  }
  Rows Ok(std::string_view sql, const std::string& tag) { return Ok(*root_, sql, tag); }
  Rows Select(std::string_view sql) { return test_util::ExpectRows(*root_, sql); }
  void Fails(pgwire::Session& s, std::string_view sql, StatusCode code, const std::string& state,
             const std::string& message) {
    test_util::ExpectFails(s, sql, code, state, message);
  }
  void Fails(std::string_view sql, StatusCode code, const std::string& state,
             const std::string& message) {
    Fails(*root_, sql, code, state, message);
  }

  // Starts server_ over the factory and connects to it as root through libpq (check the
  // connection's status).
  test_util::Conn ServeAndConnectAsRoot() {
    pgwire::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<pgwire::Server>(options, factory_);
    EXPECT_OK(server_->Start());
    std::string info = fmt::format("host=127.0.0.1 port={} dbname=dev user=root connect_timeout=10",
                                   server_->port());
    test_util::Conn conn(PQconnectdb(info.c_str()));
    EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    return conn;
  }

  int64_t TableId(const std::string& name) {
    auto snap = catalog_->Snapshot();
    const auto* pub = snap->FindSchema(snap->FindDatabase("dev")->id, "public");
    const auto* t = snap->FindTable(pub->id, name);
    return t ? t->id : -1;
  }

  // Run by each backup job before its cut (set before the job starts).
  std::function<Status()> cut_hook_;
  std::string store_prefix_;
  std::string cluster_id_;
  metastore::MemoryMetaStore meta_;
  objstore::MemoryObjectStore objects_;
  std::unique_ptr<meta::CatalogManager> catalog_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<hummock::HummockManager> hummock_;
  std::unique_ptr<hummock::StateStore> store_;
  std::unique_ptr<TableData> data_;
  std::unique_ptr<meta::BackupManager> backup_;
  std::unique_ptr<hummock::HummockMaintenance> maintenance_;
  std::shared_ptr<FrontendSessionFactory> factory_;
  std::unique_ptr<pgwire::Session> root_;
  std::unique_ptr<pgwire::Server> server_;
};

TEST_F(MetaSnapshotTest, BackupReturnsNewSnapshotIdsListedInRwMetaSnapshot) {
  auto r = Run("BACKUP");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->command_tag, "BACKUP");
  EXPECT_TRUE(r->returns_rows);
  ASSERT_EQ(r->fields.size(), 1u);
  EXPECT_EQ(r->fields[0].name, "snapshot_id");
  EXPECT_EQ(r->fields[0].type_oid, 20u);  // int8
  EXPECT_EQ(RowsOf(*r), (Rows{{"1"}}));
  Ok("CREATE TABLE t (k int PRIMARY KEY, v varchar)", "CREATE TABLE");
  Ok("INSERT INTO t VALUES (1, 'a')", "INSERT 0 1");
  EXPECT_EQ(Ok("BACKUP;", "BACKUP"), (Rows{{"2"}}));

  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, backup_->GetManifest());
  ASSERT_EQ(manifest.snapshots.size(), 2u);
  Rows expected;
  for (const auto& m : manifest.snapshots) {
    expected.push_back({std::to_string(m.id), std::to_string(m.hummock_version_id),
                        std::to_string(m.max_committed_epoch), std::to_string(m.size_bytes),
                        std::to_string(m.format_version), "NULL", "rwmeta-test"});
  }
  EXPECT_EQ(Select("SELECT meta_snapshot_id, hummock_version_id, max_committed_epoch, size, "
                   "format_version, remarks, rw_version FROM rw_catalog.rw_meta_snapshot"),
            expected);
  EXPECT_EQ(expected[0][0], "1");
  EXPECT_EQ(expected[1][0], "2");
  // The second snapshot holds t's committed epoch, shown as RisingWave shows it.
  std::string tid = std::to_string(TableId("t"));
  auto committed =
      hummock::CommittedEpoch(*hummock_->current(), static_cast<uint32_t>(TableId("t")));
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(
      Select(fmt::format("SELECT meta_snapshot_id, state_table_info->'{0}'->>'committedEpoch', "
                         "state_table_info->'{0}'->>'compactionGroupId' "
                         "FROM rw_meta_snapshot ORDER BY meta_snapshot_id",
                         tid)),
      (Rows{{"1", "NULL", "NULL"}, {"2", std::to_string(*committed), "2"}}));
  // The same through a join, without knowing the table id.
  EXPECT_EQ(Select("SELECT s.meta_snapshot_id, "
                   "s.state_table_info->(t.id::varchar)->>'compactionGroupId', "
                   "(s.state_table_info->(t.id::varchar)->>'committedEpoch')::bigint = "
                   "s.max_committed_epoch, s.max_committed_epoch_ts IS NOT NULL "
                   "FROM rw_meta_snapshot s, rw_tables t WHERE t.name = 't' ORDER BY 1"),
            (Rows{{"1", "NULL", "NULL", "f"}, {"2", "2", "t", "t"}}));
  // The job history has both jobs, succeeded.
  ASSERT_OK_AND_ASSIGN(auto jobs, backup_->ListJobs());
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].state, meta::BackupJobState::kSucceeded);
  EXPECT_EQ(jobs[1].state, meta::BackupJobState::kSucceeded);
}

TEST_F(MetaSnapshotTest, OnlySuperusersBackUpOrDelete) {
  Ok("CREATE USER bob", "CREATE ROLE");
  ASSERT_OK_AND_ASSIGN(auto bob, factory_->OpenSession("bob", "dev", {}));
  Fails(*bob, "BACKUP", StatusCode::kPermissionDenied, "42501",
        "only superusers can trigger adhoc backup");
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  Fails(*bob, "DELETE META SNAPSHOT 1", StatusCode::kPermissionDenied, "42501",
        "only superusers can delete meta snapshots");
  // Nothing was started or deleted by bob.
  ASSERT_OK_AND_ASSIGN(auto jobs, backup_->ListJobs());
  EXPECT_EQ(jobs.size(), 1u);
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"1"}}));
}

TEST_F(MetaSnapshotTest, DeleteKnownAndUnknownSnapshotsAndTheSnapshotLimit) {
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"2"}}));
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"3"}}));
  // max_snapshots is 3.
  Fails("BACKUP", StatusCode::kResourceExhausted, "53400", "too many meta snapshots");
  EXPECT_EQ(Ok("DELETE META SNAPSHOTS 1, 3", "DELETE_META_SNAPSHOTS"), Rows{});
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"2"}}));
  // An unknown id: an error naming it, and nothing is deleted.
  Fails("DELETE META SNAPSHOT 2, 9", StatusCode::kNotFound, "42704", "9");
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"2"}}));
  Fails("DELETE META SNAPSHOT 1", StatusCode::kNotFound, "42704", "1");
  Fails("DELETE META x 1", StatusCode::kInvalidArgument, "42601", "expected SNAPSHOT or SNAPSHOTS");
  // Ids are never reused (the refused BACKUP took none).
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"4"}}));
  EXPECT_EQ(Ok("DELETE META SNAPSHOT 2", "DELETE_META_SNAPSHOTS"), Rows{});
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"4"}}));
}

TEST_F(MetaSnapshotTest, RunningAndFailedJobsAreClearErrors) {
  // A job that waits in its cut until released.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  cut_hook_ = [&]() -> Status {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return Status::Ok();
  };
  ASSERT_OK_AND_ASSIGN(auto first, factory_->OpenSession("root", "dev", {}));
  Result<pgwire::ResultSet> first_result = InternalError("not run");
  std::thread t([&] { first_result = Run(*first, "BACKUP"); });
  // Wait (bounded) until the first job runs.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool running = false;
  while (!running && std::chrono::steady_clock::now() < deadline) {
    auto jobs = backup_->ListJobs();
    running = jobs.ok() && !jobs->empty() && jobs->front().state == meta::BackupJobState::kRunning;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(running);
  Fails("BACKUP", StatusCode::kFailedPrecondition, "55006",
        "a backup job is already running: job 1");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  t.join();
  ASSERT_OK(first_result.status());
  EXPECT_EQ(RowsOf(*first_result), (Rows{{"1"}}));

  // A job that fails: its message is the statement's error, with the code the job failed with
  // and that code's SQLSTATE (an unreachable dependency is io_error, never internal_error).
  cut_hook_ = [] { return UnavailableError("data plane checkpoint refused"); };
  Fails("BACKUP", StatusCode::kUnavailable, "58030", "backup job failed: job 2, ");
  Fails("BACKUP", StatusCode::kUnavailable, "58030", "data plane checkpoint refused");
  cut_hook_ = nullptr;
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"4"}}));
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"1"}, {"4"}}));
}

// The code a failed job stored (BackupJobInfo::error) decides the statement's SQLSTATE: DataLoss
// is data_corrupted, Unavailable io_error, and the message is the job's.
TEST_F(MetaSnapshotTest, FailedJobKeepsItsCodeAndSqlState) {
  cut_hook_ = [] { return DataLossError("sst 12: block 3 checksum mismatch"); };
  auto r = Run("BACKUP");
  EXPECT_THAT(
      r, StatusIs(StatusCode::kDataLoss,
                  "backup job failed: job 1, failed backup job 1: DATA_LOSS: checkpoint before the "
                  "snapshot: sst 12: block 3 checksum mismatch"));
  EXPECT_EQ(r.status().sqlstate(), "XX001");
  cut_hook_ = [] { return UnavailableError("checkpoint store: connection refused"); };
  r = Run("BACKUP");
  EXPECT_THAT(
      r,
      StatusIs(StatusCode::kUnavailable,
               "backup job failed: job 2, failed backup job 2: UNAVAILABLE: checkpoint before the "
               "snapshot: checkpoint store: connection refused"));
  EXPECT_EQ(r.status().sqlstate(), "58030");
  ASSERT_OK_AND_ASSIGN(auto jobs, backup_->ListJobs());
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].state, meta::BackupJobState::kFailed);
  EXPECT_EQ(jobs[1].state, meta::BackupJobState::kFailed);
}

// A backup location whose manifest is corrupt: BACKUP, rw_meta_snapshot and SET QUERY_EPOCH all
// fail with DataLoss and data_corrupted (XX001), naming the manifest.
TEST_F(MetaSnapshotTest, CorruptManifestIsDataLossEverywhere) {
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  std::unique_ptr<objstore::ObjectStore> location(
      objstore::MemoryObjectStore::OpenShared(store_prefix_ + "memory"));
  ASSERT_OK(location->Put("backup/manifest.json", "{not a manifest"));
  auto backup = Run("BACKUP");
  EXPECT_THAT(backup, StatusIs(StatusCode::kDataLoss, HasSubstr("manifest.json")));
  EXPECT_EQ(backup.status().sqlstate(), "XX001");
  auto listing = Run("SELECT * FROM rw_meta_snapshot");
  EXPECT_THAT(listing, StatusIs(StatusCode::kDataLoss, HasSubstr("manifest.json")));
  EXPECT_EQ(listing.status().sqlstate(), "XX001");
  auto set = Run("SET QUERY_EPOCH = 65536");
  EXPECT_THAT(set, StatusIs(StatusCode::kDataLoss, HasSubstr("manifest.json")));
  EXPECT_EQ(set.status().sqlstate(), "XX001");
  EXPECT_EQ(Ok("SHOW QUERY_EPOCH", "SHOW"), (Rows{{"0"}}));
}

TEST_F(MetaSnapshotTest, QueryEpochReadsTheSnapshotAfterTheLiveTablesChanged) {
  Ok("CREATE TABLE t (k int PRIMARY KEY, v varchar)", "CREATE TABLE");
  Ok("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", "INSERT 0 3");
  Ok("CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM t", "CREATE_MATERIALIZED_VIEW");
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  Rows epoch_rows = Select(fmt::format(
      "SELECT state_table_info->'{}'->>'committedEpoch' FROM rw_meta_snapshot", TableId("t")));
  ASSERT_EQ(epoch_rows.size(), 1u);
  const std::string epoch = epoch_rows[0][0];
  ASSERT_NE(epoch, "NULL");

  // The live tables move on.
  Ok("DELETE FROM t WHERE k = 1", "DELETE 1");
  Ok("UPDATE t SET v = 'B' WHERE k = 2", "UPDATE 1");
  Ok("INSERT INTO t VALUES (4, 'd')", "INSERT 0 1");
  Ok("FLUSH", "FLUSH");
  Ok("CREATE TABLE later (a int)", "CREATE TABLE");
  EXPECT_EQ(Select("SELECT k, v FROM t ORDER BY k"), (Rows{{"2", "B"}, {"3", "c"}, {"4", "d"}}));

  Ok(fmt::format("SET QUERY_EPOCH = {}", epoch), "SET");
  EXPECT_EQ(Ok("SHOW QUERY_EPOCH", "SHOW"), (Rows{{epoch}}));
  EXPECT_EQ(Select("SELECT k, v FROM t ORDER BY k"), (Rows{{"1", "a"}, {"2", "b"}, {"3", "c"}}));
  EXPECT_EQ(Select("SELECT n FROM mv"), (Rows{{"3"}}));
  // System catalogs stay live: `later` is listed, but it is in no snapshot.
  EXPECT_EQ(Select("SELECT name FROM rw_tables ORDER BY name"), (Rows{{"later"}, {"t"}}));
  auto later = Run("SELECT * FROM later");
  EXPECT_THAT(later,
              StatusIs(StatusCode::kNotFound,
                       fmt::format("Read backup error: backup include epoch {} not found", epoch)));
  EXPECT_EQ(later.status().sqlstate(), "42704");
  // Reads only.
  Fails("INSERT INTO t VALUES (9, 'z')", StatusCode::kFailedPrecondition, "25006",
        "cannot execute INSERT while QUERY_EPOCH is set");
  Fails("UPDATE t SET v = 'x'", StatusCode::kFailedPrecondition, "25006", "UPDATE");
  Fails("DELETE FROM t", StatusCode::kFailedPrecondition, "25006", "DELETE");
  Fails("CREATE TABLE u (a int)", StatusCode::kFailedPrecondition, "25006", "CREATE");
  Fails("DROP TABLE later", StatusCode::kFailedPrecondition, "25006", "DROP");
  Fails("FLUSH", StatusCode::kFailedPrecondition, "25006", "FLUSH");

  // An epoch no snapshot holds: the SET is refused and the session keeps reading `epoch`.
  Fails("SET query_epoch TO 12345", StatusCode::kInvalidArgument, "22023",
        "invalid value for parameter \"query_epoch\": no meta snapshot holds epoch 12345; the "
        "epochs that can be read are the max_committed_epoch and state_table_info committed "
        "epochs of rw_catalog.rw_meta_snapshot");
  EXPECT_EQ(Ok("SHOW QUERY_EPOCH", "SHOW"), (Rows{{epoch}}));
  EXPECT_EQ(Select("SELECT n FROM mv"), (Rows{{"3"}}));
  // 0 returns to now, and writes work again.
  Ok("SET query_epoch TO 0", "SET");
  EXPECT_EQ(Select("SELECT k, v FROM t ORDER BY k"), (Rows{{"2", "B"}, {"3", "c"}, {"4", "d"}}));
  Ok("INSERT INTO t VALUES (5, 'e')", "INSERT 0 1");
  Ok("FLUSH", "FLUSH");
  // Other sessions never saw the setting.
  Ok(fmt::format("SET QUERY_EPOCH = {}", epoch), "SET");
  ASSERT_OK_AND_ASSIGN(auto other, factory_->OpenSession("root", "dev", {}));
  EXPECT_EQ(Ok(*other, "SELECT count(*) FROM t", "SELECT 1"), (Rows{{"4"}}));
}

// The snapshot's objects are protected: compaction, vacuum and full GC leave them, so QUERY_EPOCH
// still reads the old rows; once the snapshot is deleted its epoch is no longer readable.
TEST_F(MetaSnapshotTest, QueryEpochReadsSurviveCompactionAndFullGc) {
  Ok("CREATE TABLE t (k int PRIMARY KEY, v varchar)", "CREATE TABLE");
  Rows old_rows;
  for (int i = 0; i < 4; ++i) {
    std::string sql = "INSERT INTO t VALUES ";
    for (int k = i * 20; k < i * 20 + 20; ++k) {
      sql += fmt::format("{}({}, 'value-{}')", k == i * 20 ? "" : ", ", k, k);
    }
    Ok(sql, "INSERT 0 20");
    Ok("FLUSH", "FLUSH");
  }
  for (int k = 0; k < 80; ++k) old_rows.push_back({std::to_string(k), fmt::format("value-{}", k)});
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  Rows epoch_rows = Select(fmt::format(
      "SELECT state_table_info->'{}'->>'committedEpoch' FROM rw_meta_snapshot", TableId("t")));
  ASSERT_EQ(epoch_rows.size(), 1u);
  const std::string epoch = epoch_rows[0][0];
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, backup_->GetManifest());
  ASSERT_EQ(manifest.snapshots.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto details, backup_->SnapshotDetails(manifest.snapshots[0]));
  const std::vector<uint64_t> snapshot_objects = details->object_ids;
  ASSERT_FALSE(snapshot_objects.empty());

  // The live table is rewritten; compaction makes old SSTs stale.
  Ok("DELETE FROM t WHERE k < 70", "DELETE 70");
  Ok("FLUSH", "FLUSH");
  Ok("UPDATE t SET v = 'new'", "UPDATE 10");
  Ok("FLUSH", "FLUSH");
  int compactions = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(int n, maintenance_->RunRoundNow());
    compactions += n;
  }
  EXPECT_GT(compactions, 0);
  // Objects must be older than the retention (0 ms) to be collected.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_OK(maintenance_->TriggerFullGc(std::chrono::milliseconds(0)).status());
  auto live = hummock::ObjectIds(*hummock_->current());
  bool all_in_live = true;
  for (uint64_t id : snapshot_objects) {
    all_in_live = all_in_live && std::find(live.begin(), live.end(), id) != live.end();
    EXPECT_OK(objects_.Head(hummock::SstObjectKey("hummock_001", id)).status()) << id;
  }
  EXPECT_FALSE(all_in_live) << "compaction rewrote none of the snapshot's SSTs";

  Ok(fmt::format("SET QUERY_EPOCH = {}", epoch), "SET");
  EXPECT_EQ(Select("SELECT k, v FROM t ORDER BY k"), old_rows);
  Ok("SET QUERY_EPOCH = 0", "SET");
  EXPECT_EQ(Select("SELECT count(*) FROM t WHERE v = 'new'"), (Rows{{"10"}}));

  // Deleted while a session reads it: the epoch is gone, for its reads (undefined_object) and
  // for a new SET (invalid_parameter_value).
  Ok(fmt::format("SET QUERY_EPOCH = {}", epoch), "SET");
  ASSERT_OK_AND_ASSIGN(auto other, factory_->OpenSession("root", "dev", {}));
  Ok(*other, "DELETE META SNAPSHOT 1", "DELETE_META_SNAPSHOTS");
  Fails("SELECT * FROM t", StatusCode::kNotFound, "42704",
        fmt::format("Read backup error: backup include epoch {} not found", epoch));
  Ok("SET QUERY_EPOCH = 0", "SET");
  Fails(fmt::format("SET QUERY_EPOCH = {}", epoch), StatusCode::kInvalidArgument, "22023",
        fmt::format("no meta snapshot holds epoch {}", epoch));
}

TEST_F(MetaSnapshotTest, SwitchingBackupDirectoryHidesAndShowsSnapshotsWithNotices) {
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  auto r = Run("ALTER SYSTEM SET backup_storage_directory = 'elsewhere'");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->command_tag, "ALTER SYSTEM");
  EXPECT_THAT(r->notices,
              ElementsAre(HasSubstr("1 meta snapshot(s) at the previous backup location (memory "
                                    "directory backup) are no longer listed")));
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), Rows{});
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"2"}}));
  r = Run("ALTER SYSTEM SET backup_storage_directory = 'backup'");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->notices,
              ElementsAre(HasSubstr("1 meta snapshot(s) at the previous backup location (memory "
                                    "directory elsewhere)"),
                          "the backup location memory directory backup holds 1 meta snapshot(s)"));
  // A location that cannot be opened: the switch says so, and listing and BACKUP fail naming it.
  r = Run("ALTER SYSTEM SET backup_storage_url = 'broken://store'");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->notices, ::testing::Contains(HasSubstr(
                              "the new backup location cannot be used yet: UNAVAILABLE: backup "
                              "storage broken://store directory backup: connection refused")));
  auto listing = Run("SELECT * FROM rw_meta_snapshot");
  EXPECT_THAT(listing, StatusIs(StatusCode::kUnavailable, HasSubstr("broken://store")));
  EXPECT_EQ(listing.status().sqlstate(), "58030");
  auto backup = Run("BACKUP");
  EXPECT_THAT(backup, StatusIs(StatusCode::kUnavailable, HasSubstr("connection refused")));
  EXPECT_EQ(backup.status().sqlstate(), "58030");
  ASSERT_OK(Run("ALTER SYSTEM SET backup_storage_url = 'memory'").status());
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"1"}}));
  // Setting a parameter to its current value changes nothing and says nothing.
  r = Run("ALTER SYSTEM SET backup_storage_directory = 'backup'");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->notices, ::testing::IsEmpty());
  EXPECT_EQ(Select("SELECT meta_snapshot_id FROM rw_meta_snapshot"), (Rows{{"1"}}));
}

// psql prints the NOTICE the backup manager gives when the backup location changes.
TEST_F(MetaSnapshotTest, PsqlShowsTheNoticeOfAlterSystem) {
  const std::string psql = "/usr/bin/psql";
  if (!std::filesystem::exists(psql)) RWMETA_SKIP_OR_FAIL("psql is not installed at " + psql);
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  pgwire::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  server_ = std::make_unique<pgwire::Server>(options, factory_);
  ASSERT_OK(server_->Start());
  ASSERT_OK_AND_ASSIGN(auto out, ::rwmeta::testing::RunCommand(
                                     {psql, "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                                      std::to_string(server_->port()), "-U", "root", "-d", "dev",
                                      "-c", "ALTER SYSTEM SET backup_storage_directory = 'other'",
                                      "-c", "SELECT count(*) FROM rw_meta_snapshot"},
                                     {{"PGCONNECT_TIMEOUT", "10"}}));
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_THAT(out.err, HasSubstr("NOTICE:  1 meta snapshot(s) at the previous backup location "
                                 "(memory directory backup) are no longer listed"));
  EXPECT_THAT(out.out, HasSubstr("ALTER SYSTEM"));
  EXPECT_THAT(out.out, HasSubstr("     0\n"));
}

// Drivers prepare statements: BACKUP is described as one bigint column without running a job,
// and runs when executed.
TEST_F(MetaSnapshotTest, BackupThroughTheExtendedProtocol) {
  test_util::Conn conn = ServeAndConnectAsRoot();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
  PgResult prepared(PQprepare(conn.get(), "b", "BACKUP", 0, nullptr));
  ASSERT_EQ(PQresultStatus(prepared.get()), PGRES_COMMAND_OK)
      << PQresultErrorMessage(prepared.get());
  PgResult described(PQdescribePrepared(conn.get(), "b"));
  ASSERT_EQ(PQresultStatus(described.get()), PGRES_COMMAND_OK);
  ASSERT_EQ(PQnfields(described.get()), 1);
  EXPECT_STREQ(PQfname(described.get(), 0), "snapshot_id");
  EXPECT_EQ(PQftype(described.get(), 0), 20u);
  ASSERT_OK_AND_ASSIGN(auto jobs, backup_->ListJobs());
  EXPECT_TRUE(jobs.empty()) << "describing BACKUP ran it";
  for (const char* expected : {"1", "2"}) {
    PgResult run(PQexecPrepared(conn.get(), "b", 0, nullptr, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(run.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(run.get());
    ASSERT_EQ(PQntuples(run.get()), 1);
    EXPECT_STREQ(PQgetvalue(run.get(), 0, 0), expected);
  }
  PgResult denied(PQexec(conn.get(), "DELETE META SNAPSHOTS 1, 7"));
  ASSERT_EQ(PQresultStatus(denied.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(denied.get(), PG_DIAG_SQLSTATE), "42704");
  PgResult deleted(PQexec(conn.get(), "DELETE META SNAPSHOTS 1, 2"));
  ASSERT_EQ(PQresultStatus(deleted.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(deleted.get());
  EXPECT_STREQ(PQcmdStatus(deleted.get()), "DELETE_META_SNAPSHOTS");
}

// SET QUERY_EPOCH over the wire: an unknown epoch is 22023, a held one makes the session
// read-only (25006) while system catalogs stay live. (Moved from tests/sql/meta_snapshots.test,
// which cannot carry a snapshot's epoch from one statement to the next.)
TEST_F(MetaSnapshotTest, QueryEpochErrorsThroughTheWire) {
  Ok("CREATE TABLE t (k int PRIMARY KEY, v varchar)", "CREATE TABLE");
  Ok("INSERT INTO t VALUES (1, 'a')", "INSERT 0 1");
  EXPECT_EQ(Ok("BACKUP", "BACKUP"), (Rows{{"1"}}));
  Rows epoch_rows = Select("SELECT max_committed_epoch FROM rw_meta_snapshot");
  ASSERT_EQ(epoch_rows.size(), 1u);
  const std::string epoch = epoch_rows[0][0];
  test_util::Conn conn = ServeAndConnectAsRoot();
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK);
  auto state_of = [&](const std::string& sql) {
    PgResult res(PQexec(conn.get(), sql.c_str()));
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    return std::string(state == nullptr ? "" : state);
  };
  EXPECT_EQ(state_of("SET QUERY_EPOCH = 65536"), "22023");
  EXPECT_EQ(state_of("SET QUERY_EPOCH = " + epoch), "");
  EXPECT_EQ(state_of("INSERT INTO t VALUES (3, 'c')"), "25006");
  EXPECT_EQ(state_of("CREATE TABLE u (a int)"), "25006");
  // System catalogs are still read live.
  PgResult tables(PQexec(conn.get(), "SELECT name FROM rw_tables"));
  ASSERT_EQ(PQresultStatus(tables.get()), PGRES_TUPLES_OK);
  ASSERT_EQ(PQntuples(tables.get()), 1);
  EXPECT_STREQ(PQgetvalue(tables.get(), 0, 0), "t");
  EXPECT_EQ(state_of("SET query_epoch TO 0"), "");
  EXPECT_EQ(state_of("INSERT INTO t VALUES (3, 'c')"), "");
}

}  // namespace
}  // namespace rwmeta::frontend
