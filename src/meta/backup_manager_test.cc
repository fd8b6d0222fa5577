#include "meta/backup_manager.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "hummock/names.h"
#include "meta/bootstrap.h"
#include "meta/test_store.h"
#include "objstore/factory.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::meta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr auto kWait = std::chrono::seconds(30);

// A gate a job's before_cut waits on, so that tests can hold a job RUNNING.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  Status Wait() {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    if (!cv_.wait_for(lock, kWait, [&] { return open_; })) {
      return DeadlineExceededError("the test never opened the gate");
    }
    return Status::Ok();
  }
  bool WaitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return entered_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool entered_ = false;
};

class BackupManagerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backup_root_ =
        std::filesystem::path(::testing::TempDir()) /
        ("rwmeta_backup_manager_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(backup_root_);
    std::filesystem::create_directories(backup_root_);
    BootstrapOptions bootstrap;
    bootstrap.state_store = "hummock+memory";
    bootstrap.data_directory = "hummock_001";
    bootstrap.backup_storage_url = BackupUrl();
    bootstrap.backup_storage_directory = "backup";
    ASSERT_OK_AND_ASSIGN(ClusterInfo cluster, BootstrapCluster(store_, bootstrap));
    cluster_id_ = cluster.cluster_id;
    ASSERT_OK(params_.Reload());
    ASSERT_OK_AND_ASSIGN(hummock_, hummock::HummockManager::Open(
                                       store_, state_store_, {.data_directory = "hummock_001"}));
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(backup_root_);
  }

  std::string BackupUrl() const { return "fs://" + backup_root_.string(); }

  void OpenManager(BackupManagerOptions options = {}) {
    options.cluster_id = cluster_id_;
    options.rwmeta_version = "0.1.0-test";
    ASSERT_OK_AND_ASSIGN(manager_, BackupManager::Open(store_, *hummock_, params_, options));
  }

  // Runs one backup to the end and returns its id.
  uint64_t Backup(std::optional<std::string> remarks = std::nullopt) {
    auto id = manager_->StartBackup(remarks);
    EXPECT_OK(id.status());
    if (!id.ok()) return 0;
    auto job = manager_->WaitForJob(*id, kWait);
    EXPECT_OK(job.status());
    if (job.ok()) {
      EXPECT_EQ(job->state, BackupJobState::kSucceeded) << job->message;
    }
    return *id;
  }

  // Commits an epoch whose one new SST has a fresh object id; returns that id and the epoch.
  std::pair<uint64_t, uint64_t> CommitSst() {
    auto id = hummock_->NewObjectIds(1);
    EXPECT_OK(id.status());
    hummock::SstableInfo sst;
    sst.set_object_id(*id);
    sst.set_sst_id(*id);
    sst.set_smallest_key("a");
    sst.set_largest_key("b");
    sst.set_file_size(100);
    sst.add_table_ids(1001);
    const uint64_t epoch = hummock::NextEpoch(hummock_->current()->max_committed_epoch());
    sst.set_min_epoch(epoch);
    sst.set_max_epoch(epoch);
    EXPECT_OK(hummock_->CommitEpoch(epoch, {sst}, {1001}));
    return {*id, epoch};
  }

  std::vector<uint64_t> Ids(const backup::Manifest& manifest) {
    std::vector<uint64_t> ids;
    for (const auto& s : manifest.snapshots) ids.push_back(s.id);
    return ids;
  }

  static inline std::atomic<int> counter_{0};
  std::filesystem::path backup_root_;
  testing::TestStore store_{GetParam()};
  objstore::MemoryObjectStore state_store_;
  SystemParamsManager params_{store_};
  std::unique_ptr<hummock::HummockManager> hummock_;
  std::string cluster_id_;
  std::unique_ptr<BackupManager> manager_;
};

TEST_P(BackupManagerTest, SnapshotsOfAnEmptyClusterGetIdsFromOneAndAreListed) {
  OpenManager();
  EXPECT_EQ(Backup("first"), 1u);
  EXPECT_EQ(Backup(), 2u);
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  EXPECT_THAT(Ids(manifest), ElementsAre(1, 2));
  EXPECT_EQ(manifest.snapshots[0].remarks, "first");
  EXPECT_EQ(manifest.snapshots[1].remarks, std::nullopt);
  EXPECT_EQ(manifest.snapshots[0].rw_version, "0.1.0-test");
  EXPECT_TRUE(std::filesystem::exists(backup_root_ / "backup" / "1.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(backup_root_ / "backup" / "manifest.json"));

  ASSERT_OK_AND_ASSIGN(backup::SnapshotContents contents, manager_->VerifySnapshot(1));
  EXPECT_EQ(contents.header.cluster_id, cluster_id_);
  EXPECT_EQ(contents.header.source_backend, store_.get().backend());
  EXPECT_EQ(contents.header.table_row_counts.at("cluster"), 1u);

  ASSERT_OK_AND_ASSIGN(std::vector<BackupJobInfo> jobs, manager_->ListJobs());
  ASSERT_THAT(jobs, SizeIs(2));
  EXPECT_EQ(jobs[0].job_id, 2u);  // newest first
  EXPECT_EQ(jobs[1].job_id, 1u);
  EXPECT_EQ(jobs[1].remarks, "first");
  EXPECT_EQ(jobs[1].state, BackupJobState::kSucceeded);
  EXPECT_THAT(jobs[1].message, HasSubstr("snapshot 1 of hummock version"));
  EXPECT_TRUE(jobs[1].finished_at_ms.has_value());
  EXPECT_EQ(manager_->metrics().jobs_succeeded, 2u);
  EXPECT_EQ(manager_->metrics().bytes_written,
            manifest.snapshots[0].size_bytes + manifest.snapshots[1].size_bytes);

  // Ids are never reused: a deleted snapshot's id is not handed out again.
  ASSERT_OK(manager_->DeleteSnapshots({2}));
  EXPECT_EQ(Backup(), 3u);
}

TEST_P(BackupManagerTest, ASecondJobIsRefusedWhileOneRuns) {
  Gate gate;
  BackupManagerOptions options;
  options.before_cut = [&] { return gate.Wait(); };
  OpenManager(options);
  ASSERT_OK_AND_ASSIGN(uint64_t first, manager_->StartBackup(std::nullopt));
  ASSERT_TRUE(gate.WaitEntered());
  EXPECT_THAT(manager_->StartBackup(std::nullopt),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("a backup job is already running: job 1")));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo running, manager_->GetJob(first));
  EXPECT_EQ(running.state, BackupJobState::kRunning);
  ASSERT_OK_AND_ASSIGN(BackupJobInfo still,
                       manager_->WaitForJob(first, std::chrono::milliseconds(50)));
  EXPECT_EQ(still.state, BackupJobState::kRunning);
  gate.Open();
  ASSERT_OK_AND_ASSIGN(BackupJobInfo done, manager_->WaitForJob(first, kWait));
  EXPECT_EQ(done.state, BackupJobState::kSucceeded);
  // The refused request consumed no id.
  EXPECT_EQ(Backup(), 2u);
}

TEST_P(BackupManagerTest, AFailedJobIsRecordedWithItsMessageAndPublishesNothing) {
  std::atomic<bool> fail{true};
  BackupManagerOptions options;
  options.before_cut = [&] {
    return fail ? UnavailableError("checkpoint store unreachable") : Status::Ok();
  };
  OpenManager(options);
  ASSERT_OK_AND_ASSIGN(uint64_t id, manager_->StartBackup("doomed"));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo job, manager_->WaitForJob(id, kWait));
  EXPECT_EQ(job.state, BackupJobState::kFailed);
  EXPECT_EQ(job.message,
            "failed backup job 1: UNAVAILABLE: checkpoint before the snapshot: checkpoint store "
            "unreachable");
  // The code survives the trip through backup_job.
  EXPECT_THAT(job.error, StatusIs(StatusCode::kUnavailable,
                                  "checkpoint before the snapshot: checkpoint store unreachable"));
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  EXPECT_THAT(manifest.snapshots, IsEmpty());
  EXPECT_EQ(manager_->metrics().jobs_failed, 1u);
  fail = false;
  EXPECT_EQ(Backup(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<BackupJobInfo> jobs, manager_->ListJobs());
  ASSERT_THAT(jobs, SizeIs(2));
  EXPECT_EQ(jobs[0].state, BackupJobState::kSucceeded);
  EXPECT_OK(jobs[0].error);
  EXPECT_EQ(jobs[1].state, BackupJobState::kFailed);
  EXPECT_THAT(jobs[1].error, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(manager_->GetJob(7), StatusIs(StatusCode::kNotFound, "backup job 7 not found"));
}

// A manifest of garbage bytes: BACKUP fails DataLoss whether the corruption is found before the
// job starts or by the job itself, and the job's row keeps DataLoss.
TEST_P(BackupManagerTest, ACorruptManifestIsDataLossBeforeAndDuringAJob) {
  std::atomic<bool> corrupt_in_cut{false};
  const std::filesystem::path manifest = backup_root_ / "backup" / "manifest.json";
  auto write_garbage = [&] {
    std::ofstream(manifest, std::ios::binary | std::ios::trunc) << "\x93garbage{";
  };
  BackupManagerOptions options;
  options.before_cut = [&] {
    if (corrupt_in_cut) write_garbage();
    return Status::Ok();
  };
  OpenManager(options);
  EXPECT_EQ(Backup(), 1u);  // manifest.json exists from here on

  corrupt_in_cut = true;
  ASSERT_OK_AND_ASSIGN(uint64_t id, manager_->StartBackup(std::nullopt));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo job, manager_->WaitForJob(id, kWait));
  EXPECT_EQ(job.state, BackupJobState::kFailed);
  EXPECT_THAT(job.message, ::testing::StartsWith("failed backup job 2: DATA_LOSS: "));
  EXPECT_THAT(job.error, StatusIs(StatusCode::kDataLoss, HasSubstr("manifest")));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo again, manager_->GetJob(id));
  EXPECT_THAT(again.error, StatusIs(StatusCode::kDataLoss));

  // Found before a job starts: the request itself fails DataLoss, and no job is recorded.
  corrupt_in_cut = false;
  EXPECT_THAT(manager_->StartBackup(std::nullopt),
              StatusIs(StatusCode::kDataLoss, HasSubstr("manifest")));
  ASSERT_OK_AND_ASSIGN(std::vector<BackupJobInfo> jobs, manager_->ListJobs());
  EXPECT_THAT(jobs, SizeIs(2));
}

// A location whose store stops answering in the middle of a job: the job fails Unavailable.
TEST_P(BackupManagerTest, AnUnreachableLocationFailsTheJobUnavailable) {
  std::atomic<objstore::FaultInjectionObjectStore*> store{nullptr};
  BackupManagerOptions options;
  options.open_store = [&](std::string_view url) -> Result<std::unique_ptr<objstore::ObjectStore>> {
    RWMETA_ASSIGN_OR_RETURN(auto base, objstore::OpenObjectStore(url));
    auto faulty = std::make_unique<objstore::FaultInjectionObjectStore>(std::move(base));
    store = faulty.get();
    return std::unique_ptr<objstore::ObjectStore>(std::move(faulty));
  };
  // The store goes down after the job started: every call from then on fails.
  options.before_cut = [&] {
    for (auto op : {objstore::ObjectStoreOp::kPut, objstore::ObjectStoreOp::kOpenWriter,
                    objstore::ObjectStoreOp::kGet, objstore::ObjectStoreOp::kGetRange,
                    objstore::ObjectStoreOp::kOpenReader, objstore::ObjectStoreOp::kHead,
                    objstore::ObjectStoreOp::kList}) {
      store.load()->InjectFault(
          {.op = op, .sticky = true, .status = UnavailableError("connection refused")});
    }
    return Status::Ok();
  };
  OpenManager(options);
  ASSERT_OK_AND_ASSIGN(uint64_t id, manager_->StartBackup(std::nullopt));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo job, manager_->WaitForJob(id, kWait));
  EXPECT_EQ(job.state, BackupJobState::kFailed);
  EXPECT_THAT(job.message, ::testing::StartsWith("failed backup job 1: UNAVAILABLE: "));
  EXPECT_THAT(job.error, StatusIs(StatusCode::kUnavailable));
}

TEST(FailedJobMessageTest, KeepsTheCodeInTheStoredText) {
  EXPECT_EQ(FailedJobMessage(3, DataLossError("manifest.json: not a JSON object")),
            "failed backup job 3: DATA_LOSS: manifest.json: not a JSON object");
  for (const Status& error :
       {DataLossError("manifest.json: not a JSON object"), UnavailableError("connection refused"),
        InternalError(""), AbortedError("interrupted: a: b: c"), UnknownError("who knows")}) {
    EXPECT_EQ(FailedJobError(FailedJobMessage(42, error)), error) << error;
  }
  // An error quoting raw bytes (a manifest of garbage) is stored as valid UTF-8.
  EXPECT_EQ(FailedJobMessage(1, DataLossError("bad \x93 byte, \xc3\xa9 kept, \xe2\x82 cut")),
            "failed backup job 1: DATA_LOSS: bad \\x93 byte, \xc3\xa9 kept, \\xe2\\x82 cut");
  // Rows not of the shape: an interrupted job of an earlier version, a row edited by hand.
  EXPECT_THAT(FailedJobError("failed backup job 5: interrupted: the meta node stopped"),
              StatusIs(StatusCode::kUnknown, "interrupted: the meta node stopped"));
  EXPECT_THAT(FailedJobError("it broke"), StatusIs(StatusCode::kUnknown, "it broke"));
  EXPECT_THAT(FailedJobError(""), StatusIs(StatusCode::kUnknown, ""));
  EXPECT_THAT(FailedJobError("failed backup job x: DATA_LOSS: y"),
              StatusIs(StatusCode::kUnknown, "failed backup job x: DATA_LOSS: y"));
  EXPECT_THAT(FailedJobError("failed backup job 1: OK: fine"),
              StatusIs(StatusCode::kUnknown, "OK: fine"));  // a failure is never OK
  EXPECT_THAT(FailedJobError("failed backup job 1: data_loss: y"),
              StatusIs(StatusCode::kUnknown, "data_loss: y"));
}

TEST_P(BackupManagerTest, TheSnapshotLimitIsAClearError) {
  BackupManagerOptions options;
  options.max_snapshots = 2;
  OpenManager(options);
  Backup();
  Backup();
  EXPECT_THAT(manager_->StartBackup(std::nullopt),
              StatusIs(StatusCode::kResourceExhausted,
                       HasSubstr("too many meta snapshots at backup storage")));
  ASSERT_OK(manager_->DeleteSnapshots({1}));
  EXPECT_EQ(Backup(), 3u);
}

TEST_P(BackupManagerTest, SnapshotObjectsAreProtectedUntilTheSnapshotIsDeleted) {
  OpenManager();
  auto [first_object, first_epoch] = CommitSst();
  const uint64_t snapshot = Backup();
  auto [second_object, second_epoch] = CommitSst();
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> protected_ids, manager_->ProtectedObjectIds());
  EXPECT_THAT(protected_ids, ElementsAre(first_object));
  // GC's referenced set includes it through the manager.
  ASSERT_OK_AND_ASSIGN(std::set<uint64_t> referenced, hummock_->ReferencedObjectIds());
  EXPECT_TRUE(referenced.count(first_object));

  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  ASSERT_THAT(manifest.snapshots, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(auto details, manager_->SnapshotDetails(manifest.snapshots[0]));
  EXPECT_EQ(details->state_table_info.at(1001).committed_epoch, first_epoch);
  EXPECT_EQ(manifest.snapshots[0].max_committed_epoch, first_epoch);

  // Reads at the snapshot's epoch get the snapshot's version, not the current one.
  ASSERT_OK_AND_ASSIGN(auto version, manager_->VersionForEpoch(1001, first_epoch));
  EXPECT_EQ(version->id(), manifest.snapshots[0].hummock_version_id);
  EXPECT_LT(version->id(), hummock_->current()->id());
  EXPECT_THAT(
      manager_->VersionForEpoch(1001, second_epoch),
      StatusIs(StatusCode::kNotFound,
               fmt::format("Read backup error: backup include epoch {} not found", second_epoch)));
  EXPECT_THAT(manager_->VersionForEpoch(4242, first_epoch), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(manager_->DeleteSnapshots({snapshot}));
  ASSERT_OK_AND_ASSIGN(protected_ids, manager_->ProtectedObjectIds());
  EXPECT_THAT(protected_ids, IsEmpty());
  EXPECT_THAT(manager_->VersionForEpoch(1001, first_epoch), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(manager_->DeleteSnapshots({snapshot, 99}),
              StatusIs(StatusCode::kNotFound, HasSubstr("99")));
}

TEST_P(BackupManagerTest, ChangingTheLocationHidesSnapshotsAndSettingItBackShowsThem) {
  OpenManager();
  auto [object, epoch] = CommitSst();
  Backup();
  std::vector<std::string> notices;
  ASSERT_OK(params_.Set("backup_storage_directory", std::string("elsewhere"), &notices).status());
  ASSERT_THAT(notices, SizeIs(1));
  EXPECT_THAT(notices[0], HasSubstr("1 meta snapshot(s) at the previous backup location"));
  EXPECT_THAT(notices[0], HasSubstr("directory backup"));
  EXPECT_EQ(manager_->location().directory, "elsewhere");
  BackupLocation where;
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest(&where));
  EXPECT_EQ(where.directory, "elsewhere");
  EXPECT_EQ(where.url, BackupUrl());
  EXPECT_THAT(manifest.snapshots, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> protected_ids, manager_->ProtectedObjectIds());
  EXPECT_THAT(protected_ids, IsEmpty());
  EXPECT_THAT(manager_->VersionForEpoch(1001, epoch), StatusIs(StatusCode::kNotFound));

  // New snapshots go to the new location with ids from the same sequence.
  EXPECT_EQ(Backup(), 2u);
  EXPECT_TRUE(std::filesystem::exists(backup_root_ / "elsewhere" / "2.snapshot"));

  notices.clear();
  ASSERT_OK(params_.Set("backup_storage_directory", std::string("backup"), &notices).status());
  EXPECT_THAT(notices, ElementsAre(HasSubstr("1 meta snapshot(s) at the previous"),
                                   HasSubstr("holds 1 meta snapshot(s)")));
  ASSERT_OK_AND_ASSIGN(manifest, manager_->GetManifest());
  EXPECT_THAT(Ids(manifest), ElementsAre(1));
  ASSERT_OK_AND_ASSIGN(protected_ids, manager_->ProtectedObjectIds());
  EXPECT_THAT(protected_ids, ElementsAre(object));
}

TEST_P(BackupManagerTest, AnUnusableLocationFailsClearlyAndPausesGcUntilFixed) {
  OpenManager();
  std::vector<std::string> notices;
  ASSERT_OK(params_.Set("backup_storage_url", std::string("nosuch://bucket"), &notices).status());
  ASSERT_THAT(notices, SizeIs(1));
  EXPECT_THAT(notices[0], HasSubstr("the new backup location cannot be used yet"));
  EXPECT_THAT(manager_->StartBackup(std::nullopt),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("backup storage nosuch://bucket")));
  EXPECT_FALSE(manager_->location().status.ok());
  EXPECT_THAT(manager_->ProtectedObjectIds(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("nothing is garbage-collected")));
  EXPECT_THAT(hummock_->ReferencedObjectIds(), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(params_.Set("backup_storage_url", BackupUrl()).status());
  EXPECT_TRUE(manager_->location().status.ok());
  EXPECT_EQ(Backup(), 1u);
}

TEST_P(BackupManagerTest, JobsLeftRunningByAnEarlierProcessAreSettledAtOpen) {
  OpenManager();
  const uint64_t published = Backup();
  manager_.reset();
  // As if a node died mid-job (job 5) and as if this store were restored from snapshot 1, whose
  // own job row says RUNNING.
  const auto& table = metastore::Model::Get().Table("backup_job");
  ASSERT_OK(metastore::RunTransaction(store_, [&](metastore::Transaction& txn) -> Status {
    RWMETA_RETURN_IF_ERROR(txn.Upsert(table, {int64_t{1}, std::string("RUNNING"), std::string(),
                                              std::monostate{}, int64_t{10}, std::monostate{}}));
    return txn.Insert(table, {int64_t{5}, std::string("RUNNING"), std::string(), std::monostate{},
                              int64_t{20}, std::monostate{}});
  }));
  OpenManager();
  ASSERT_OK_AND_ASSIGN(BackupJobInfo one, manager_->GetJob(published));
  EXPECT_EQ(one.state, BackupJobState::kSucceeded);
  EXPECT_THAT(one.message, HasSubstr("snapshot 1 is in the manifest"));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo five, manager_->GetJob(5));
  EXPECT_EQ(five.state, BackupJobState::kFailed);
  EXPECT_THAT(five.message, HasSubstr("interrupted: the meta node stopped while the job ran"));
  // Nothing is wrong with the location: run the job again.
  EXPECT_THAT(five.error, StatusIs(StatusCode::kAborted, HasSubstr("interrupted")));
  ASSERT_OK_AND_ASSIGN(BackupJobInfo waited, manager_->WaitForJob(5, kWait));
  EXPECT_EQ(waited.state, BackupJobState::kFailed);
}

// Orphans: the upload of a job killed before it published, and unlisted snapshot objects older
// than orphan_min_age_ms, are deleted at open and after each job; nothing else is.
TEST_P(BackupManagerTest, OrphanedSnapshotObjectsAreDeletedAtOpenAndAfterEachJob) {
  OpenManager();
  const uint64_t listed = Backup();
  manager_.reset();
  // Job 5 died between upload and publish.
  const auto& table = metastore::Model::Get().Table("backup_job");
  ASSERT_OK(metastore::RunTransaction(store_, [&](metastore::Transaction& txn) -> Status {
    return txn.Insert(table, {int64_t{5}, std::string("RUNNING"), std::string(), std::monostate{},
                              int64_t{20}, std::monostate{}});
  }));
  const std::filesystem::path dir = backup_root_ / "backup";
  auto put = [&](const std::string& name, std::chrono::hours age) {
    const std::filesystem::path file = dir / name;
    std::ofstream(file) << "leftover";
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now() - age);
  };
  put("5.snapshot", std::chrono::hours(0));    // the interrupted job's own: deleted at any age
  put("8.snapshot", std::chrono::hours(0));    // young: maybe another writer's upload
  put("9.snapshot", std::chrono::hours(2));    // old and unlisted: an orphan
  put("007.snapshot", std::chrono::hours(2));  // not a snapshot name: never touched
  put("notes.txt", std::chrono::hours(2));
  OpenManager();
  EXPECT_FALSE(std::filesystem::exists(dir / "5.snapshot"));
  EXPECT_FALSE(std::filesystem::exists(dir / "9.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(dir / "8.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(dir / "007.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(dir / "notes.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / (std::to_string(listed) + ".snapshot")));
  // Once 8 is old, the next job's clean-up takes it.
  std::filesystem::last_write_time(
      dir / "8.snapshot", std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  const uint64_t next = Backup();
  EXPECT_FALSE(std::filesystem::exists(dir / "8.snapshot"));
  EXPECT_TRUE(std::filesystem::exists(dir / (std::to_string(next) + ".snapshot")));
  EXPECT_TRUE(std::filesystem::exists(dir / "007.snapshot"));
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  EXPECT_THAT(Ids(manifest), ElementsAre(listed, next));
}

// The rows and the Hummock version in a snapshot describe the same instant: a writer commits
// deltas that record their own version id in a meta-store row in the same transaction, and
// another adds catalog rows, while snapshots are taken.
TEST_P(BackupManagerTest, ASnapshotTakenDuringCommitsIsAConsistentCut) {
  OpenManager();
  const auto& catalog_version = metastore::Model::Get().Table("catalog_version");
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread writer([&] {
    while (!stop) {
      Status s = hummock_->CommitDelta(
          [](const hummock::HummockVersion& base) -> Result<hummock::HummockVersionDelta> {
            hummock::HummockVersionDelta delta;
            delta.set_id(base.id() + 1);
            delta.set_prev_id(base.id());
            delta.set_max_committed_epoch(base.max_committed_epoch());
            delta.set_safe_epoch(base.safe_epoch());
            return delta;
          },
          [&](metastore::Transaction& txn) -> Status {
            RWMETA_ASSIGN_OR_RETURN(auto row,
                                    txn.Get(catalog_version, {std::string("consistency")}));
            int64_t next = row ? std::get<int64_t>((*row)[1]) + 1 : 1;
            return txn.Upsert(catalog_version, {std::string("consistency"), next});
          });
      ASSERT_OK(s);
      ++commits;
      // Pace the writer so that job starts are not starved of the SQLite write lock.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) {
    while (commits < 3 * (i + 1)) std::this_thread::yield();
    ids.push_back(Backup());
  }
  stop = true;
  writer.join();

  // Each snapshot's row counts the deltas committed so far: the version id (deltas start at
  // version 0 here, one per commit) must equal it.
  ASSERT_OK_AND_ASSIGN(auto fs, objstore::OpenObjectStore(BackupUrl()));
  backup::BackupStorage reader(fs.get(), "backup");
  struct Visitor : backup::SnapshotVisitor {
    Status OnRow(const backup::SnapshotTable& table, const metastore::Row& row) override {
      if (table.name == "catalog_version" && std::get<std::string>(row[0]) == "consistency") {
        count = std::get<int64_t>(row[1]);
      }
      return Status::Ok();
    }
    int64_t count = 0;
  };
  for (uint64_t id : ids) {
    ASSERT_OK_AND_ASSIGN(auto snapshot, reader.OpenSnapshot(id));
    Visitor visitor;
    ASSERT_OK_AND_ASSIGN(backup::SnapshotContents contents, snapshot->ReadAll(&visitor));
    EXPECT_GT(visitor.count, 0) << "snapshot " << id;
    EXPECT_EQ(contents.version.id(), static_cast<uint64_t>(visitor.count)) << "snapshot " << id;
    EXPECT_EQ(contents.header.hummock_version_id, contents.version.id());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackupManagerTest, ::testing::Values("memory", "sqlite"));

// The schedule on a fake clock: the manager's thread is off and the test calls ScheduleTick.
class BackupScheduleTest : public BackupManagerTest {
 protected:
  void OpenScheduled(BackupManagerOptions options = {}) {
    options.clock = &clock_;
    options.run_schedule = false;
    OpenManager(std::move(options));
  }
  void SetSystemParam(const std::string& name, const std::string& value) {
    ASSERT_OK(params_.Set(name, value).status());
  }
  // Ticks; if a job starts, waits for it and returns its id.
  std::optional<uint64_t> TickAndWait() {
    std::optional<uint64_t> id = manager_->ScheduleTick();
    if (id) {
      auto job = manager_->WaitForJob(*id, kWait);
      EXPECT_OK(job.status());
    }
    return id;
  }
  // `count` times: advances the clock by `step_ms` and ticks; returns the ids of the jobs that
  // started (a tick that starts none fails the test).
  std::vector<uint64_t> RunScheduledJobs(int count, int64_t step_ms) {
    std::vector<uint64_t> ids;
    for (int i = 0; i < count; ++i) {
      clock_.AdvanceMs(step_ms);
      const std::optional<uint64_t> id = TickAndWait();
      EXPECT_TRUE(id.has_value()) << "tick " << i << " started no job";
      if (id) ids.push_back(*id);
    }
    return ids;
  }
  std::vector<uint64_t> ListedIds() {
    auto manifest = manager_->GetManifest();
    EXPECT_OK(manifest.status());
    return manifest.ok() ? Ids(*manifest) : std::vector<uint64_t>{};
  }

  ::rwmeta::testing::FakeClock clock_{1'700'000'000'000};
};

TEST_P(BackupScheduleTest, TheFirstScheduledSnapshotComesOneIntervalAfterStart) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  OpenScheduled();
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, clock_.NowMs() + 60'000);
  clock_.AdvanceMs(59'999);
  EXPECT_EQ(TickAndWait(), std::nullopt);
  clock_.AdvanceMs(1);
  const std::optional<uint64_t> started_id = TickAndWait();
  ASSERT_TRUE(started_id.has_value());
  const uint64_t id = *started_id;
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  ASSERT_THAT(manifest.snapshots, SizeIs(1));
  const backup::SnapshotMetadata& entry = manifest.snapshots[0];
  EXPECT_EQ(entry.id, id);
  EXPECT_EQ(entry.remarks, "scheduled");
  EXPECT_TRUE(IsScheduledSnapshot(entry));
  EXPECT_EQ(entry.created_at_ms, clock_.NowMs());
  ASSERT_OK_AND_ASSIGN(BackupJobInfo job, manager_->GetJob(id));
  EXPECT_EQ(job.remarks, "scheduled");
  EXPECT_EQ(manager_->metrics().scheduled_jobs_started, 1u);
  // The next one interval after this one.
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, entry.created_at_ms + 60'000);
}

TEST_P(BackupScheduleTest, AnySnapshotPushesTheScheduleBackAndZeroTurnsItOff) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  OpenScheduled();
  clock_.AdvanceMs(30'000);
  const uint64_t on_demand = Backup("before upgrade");
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, clock_.NowMs() + 60'000);
  EXPECT_FALSE(IsScheduledSnapshot(*manager_->GetManifest()->Find(on_demand)));

  SetSystemParam("backup_schedule_interval_sec", "0");
  clock_.AdvanceMs(24 * 3600 * 1000);
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, std::nullopt);
  EXPECT_EQ(manager_->schedule().interval_sec, 0u);
  EXPECT_THAT(ListedIds(), ElementsAre(on_demand));
  // Turned on again: overdue, so it runs at once.
  SetSystemParam("backup_schedule_interval_sec", "60");
  EXPECT_NE(TickAndWait(), std::nullopt);
  EXPECT_THAT(ListedIds(), SizeIs(2));
}

TEST_P(BackupScheduleTest, RetentionByCountDeletesTheOldestScheduledAndKeepsOnDemand) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  SetSystemParam("backup_retention_count", "2");
  OpenScheduled();
  const uint64_t on_demand = Backup("keep me");
  const std::vector<uint64_t> scheduled = RunScheduledJobs(4, 60'000);
  ASSERT_THAT(scheduled, SizeIs(4));
  EXPECT_THAT(ListedIds(), ElementsAre(on_demand, scheduled[2], scheduled[3]));
  EXPECT_EQ(manager_->metrics().snapshots_deleted_by_retention, 2u);
  // Lowering the count prunes at the next tick, without waiting for a job.
  SetSystemParam("backup_retention_count", "1");
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_THAT(ListedIds(), ElementsAre(on_demand, scheduled[3]));
  // 0: no count limit.
  SetSystemParam("backup_retention_count", "0");
  for (int i = 0; i < 3; ++i) {
    clock_.AdvanceMs(60'000);
    ASSERT_NE(TickAndWait(), std::nullopt);
  }
  EXPECT_THAT(ListedIds(), SizeIs(5));
}

TEST_P(BackupScheduleTest, RetentionByAgeNeverDeletesTheNewestScheduledSnapshot) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  SetSystemParam("backup_retention_count", "0");
  SetSystemParam("backup_retention_sec", "150");
  OpenScheduled();
  const std::vector<uint64_t> scheduled = RunScheduledJobs(4, 60'000);
  ASSERT_THAT(scheduled, SizeIs(4));
  // At the fourth, the first is 180 s old: deleted; the second 120 s: kept.
  EXPECT_THAT(ListedIds(), ElementsAre(scheduled[1], scheduled[2], scheduled[3]));
  // Schedule off, a day later: every one is too old, but the newest stays.
  SetSystemParam("backup_schedule_interval_sec", "0");
  clock_.AdvanceMs(24 * 3600 * 1000);
  SetSystemParam("backup_retention_sec", "100");
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_THAT(ListedIds(), ElementsAre(scheduled[3]));
}

TEST_P(BackupScheduleTest, AFailedScheduledJobIsRetriedWithBackoffAndCounted) {
  SetSystemParam("backup_schedule_interval_sec", "600");
  std::atomic<int> failures_left{2};
  BackupManagerOptions options;
  options.schedule_retry_min_ms = 10'000;
  options.before_cut = [&]() -> Status {
    if (failures_left.fetch_sub(1) > 0) return UnavailableError("the data plane is away");
    return Status::Ok();
  };
  OpenScheduled(options);
  clock_.AdvanceMs(600'000);
  const std::optional<uint64_t> started_first = TickAndWait();
  ASSERT_TRUE(started_first.has_value());
  const uint64_t first = *started_first;
  ASSERT_OK_AND_ASSIGN(BackupJobInfo job, manager_->GetJob(first));
  EXPECT_EQ(job.state, BackupJobState::kFailed);
  ScheduleState state = manager_->schedule();
  EXPECT_EQ(state.consecutive_failures, 1u);
  EXPECT_THAT(state.last_error, StatusIs(StatusCode::kUnavailable, HasSubstr("away")));
  // Retried 10 s later, then 20 s after the second failure.
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, clock_.NowMs() + 10'000);
  clock_.AdvanceMs(10'000);
  ASSERT_NE(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().consecutive_failures, 2u);
  EXPECT_EQ(TickAndWait(), std::nullopt);
  EXPECT_EQ(manager_->schedule().next_at_ms, clock_.NowMs() + 20'000);
  clock_.AdvanceMs(20'000);
  const std::optional<uint64_t> started_third = TickAndWait();
  ASSERT_TRUE(started_third.has_value());
  const uint64_t third = *started_third;
  ASSERT_OK_AND_ASSIGN(job, manager_->GetJob(third));
  EXPECT_EQ(job.state, BackupJobState::kSucceeded) << job.message;
  state = manager_->schedule();
  EXPECT_EQ(state.consecutive_failures, 0u);
  EXPECT_OK(state.last_error);
  BackupMetrics metrics = manager_->metrics();
  EXPECT_EQ(metrics.scheduled_jobs_started, 3u);
  EXPECT_EQ(metrics.scheduled_jobs_failed, 2u);
  EXPECT_THAT(ListedIds(), ElementsAre(third));
}

TEST_P(BackupScheduleTest, AScheduledJobDueWhileAnotherRunsStartsWhenItEnds) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  Gate gate;
  std::atomic<bool> hold{true};
  BackupManagerOptions options;
  options.before_cut = [&]() -> Status { return hold.exchange(false) ? gate.Wait() : Status(); };
  OpenScheduled(options);
  ASSERT_OK_AND_ASSIGN(uint64_t on_demand, manager_->StartBackup(std::nullopt));
  ASSERT_TRUE(gate.WaitEntered());
  clock_.AdvanceMs(120'000);
  EXPECT_EQ(manager_->ScheduleTick(), std::nullopt);
  EXPECT_EQ(manager_->schedule().consecutive_failures, 0u);
  gate.Open();
  ASSERT_OK(manager_->WaitForJob(on_demand, kWait).status());
  // The on-demand snapshot, taken at the same instant, pushed the schedule back.
  EXPECT_EQ(TickAndWait(), std::nullopt);
  clock_.AdvanceMs(60'000);
  EXPECT_NE(TickAndWait(), std::nullopt);
}

TEST_P(BackupScheduleTest, EachScheduledSnapshotIsDrilledAndAFailedDrillNamesTheMissingObject) {
  SetSystemParam("backup_schedule_interval_sec", "60");
  SetSystemParam("backup_retention_count", "1");
  OpenScheduled();
  const auto [object_id, epoch] = CommitSst();
  const std::string sst_key = hummock::SstObjectKey("hummock_001", object_id);
  ASSERT_OK(state_store_.Put(sst_key, "sst bytes"));

  clock_.AdvanceMs(60'000);
  const std::optional<uint64_t> first = TickAndWait();
  ASSERT_TRUE(first.has_value());
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, manager_->GetManifest());
  const backup::SnapshotMetadata* entry = manifest.Find(*first);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->scheduled);
  ASSERT_TRUE(entry->drill.has_value());
  EXPECT_TRUE(entry->drill->passed) << entry->drill->message;
  EXPECT_EQ(entry->drill->at_ms, clock_.NowMs());
  EXPECT_TRUE(IsVerifiedSnapshot(*entry));
  EXPECT_EQ(manager_->metrics().drills_run, 1u);

  // The SST goes missing: the next scheduled snapshot's drill fails naming it, and retention
  // (count 1) keeps the older snapshot, the newest verified one.
  ASSERT_OK(state_store_.Delete(sst_key));
  clock_.AdvanceMs(60'000);
  const std::optional<uint64_t> second = TickAndWait();
  ASSERT_TRUE(second.has_value());
  ASSERT_OK_AND_ASSIGN(manifest, manager_->GetManifest());
  EXPECT_THAT(Ids(manifest), ElementsAre(*first, *second));
  entry = manifest.Find(*second);
  ASSERT_NE(entry, nullptr);
  ASSERT_TRUE(entry->drill.has_value());
  EXPECT_FALSE(entry->drill->passed);
  EXPECT_THAT(entry->drill->message, HasSubstr(sst_key));
  EXPECT_FALSE(IsVerifiedSnapshot(*entry));
  BackupMetrics metrics = manager_->metrics();
  EXPECT_EQ(metrics.drills_run, 2u);
  EXPECT_EQ(metrics.drills_failed, 1u);

  // Asked for: the first snapshot's drill fails too now, and its result is replaced.
  ASSERT_OK_AND_ASSIGN(restore::DrillReport report, manager_->DrillSnapshot(*first));
  EXPECT_FALSE(report.passed);
  EXPECT_THAT(report.problems, ::testing::Contains(HasSubstr(sst_key)));
  ASSERT_OK_AND_ASSIGN(manifest, manager_->GetManifest());
  EXPECT_FALSE(manifest.Find(*first)->drill->passed);
  // An unknown snapshot cannot be drilled.
  EXPECT_THAT(manager_->DrillSnapshot(999), StatusIs(StatusCode::kNotFound));
}

TEST(SnapshotsPastRetentionTest, CountAgeAndTheNewestVerified) {
  backup::Manifest manifest;
  auto add = [&](uint64_t id, int64_t created, bool scheduled) {
    backup::SnapshotMetadata entry;
    entry.id = id;
    entry.created_at_ms = created;
    entry.scheduled = scheduled;
    manifest.snapshots.push_back(entry);
  };
  add(1, 1000, false);
  add(2, 2000, true);
  add(3, 3000, true);
  add(4, 4000, false);
  add(5, 5000, true);
  EXPECT_THAT(SnapshotsPastRetention(manifest, 3, 0, 10'000), IsEmpty());
  EXPECT_THAT(SnapshotsPastRetention(manifest, 1, 0, 10'000), ElementsAre(2, 3));
  EXPECT_THAT(SnapshotsPastRetention(manifest, 0, 0, 10'000), IsEmpty());
  // Older than 6 s at 10 s: created before 4 s.
  EXPECT_THAT(SnapshotsPastRetention(manifest, 0, 6, 10'000), ElementsAre(2, 3));
  // Everything too old: the newest scheduled stays.
  EXPECT_THAT(SnapshotsPastRetention(manifest, 0, 1, 100'000), ElementsAre(2, 3));
  EXPECT_THAT(SnapshotsPastRetention(manifest, 0, UINT64_MAX, 100'000), IsEmpty());
  // The newest scheduled snapshot's drill failed: the one before it is the newest verified.
  manifest.snapshots[4].drill = backup::DrillResult{.passed = false, .message = "broken"};
  EXPECT_THAT(SnapshotsPastRetention(manifest, 0, 1, 100'000), ElementsAre(2, 5));
  EXPECT_THAT(SnapshotsPastRetention(manifest, 1, 0, 100'000), ElementsAre(2));
  // A remark is only a remark: an on-demand snapshot remarked "scheduled" is not retention's.
  manifest.snapshots[0].remarks = "scheduled";
  EXPECT_THAT(SnapshotsPastRetention(manifest, 1, 0, 100'000), ElementsAre(2));
}

INSTANTIATE_TEST_SUITE_P(Backends, BackupScheduleTest, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace rwmeta::meta
