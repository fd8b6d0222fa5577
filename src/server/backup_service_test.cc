// BackupServiceImpl over a real BackupManager (memory meta store, memory state store, a shared
// in-memory backup location), called through gRPC as risectl calls it.
#include "server/backup_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/testing/status_matchers.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/version.h"
#include "meta/bootstrap.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/memory/memory_object_store.h"
#include "rpc/rpc_server.h"
#include "rpc/status_grpc.h"
#include "rpc/testing/fake_meta_backend.h"

namespace rwmeta::server {
namespace {

namespace bs = ::rwmeta::backup_service;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr std::string_view kDir = "hummock_001";
constexpr uint32_t kTable = 1001;
constexpr size_t kMaxSnapshots = 3;

// Holds backup jobs before their cut while closed: a job stays RUNNING until Open().
class Gate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Bounded: a test that forgets to open fails its job instead of hanging.
  Status Pass() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [this] { return open_; })) {
      return DeadlineExceededError("gate stayed closed");
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
};

class BackupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A backup location private to this test: every open of the same URL sees the same objects.
    static std::atomic<int> counter{0};
    const std::string prefix = fmt::format("backup-service-test-{}-{}/", getpid(), counter++);
    backup_objects_ = objstore::MemoryObjectStore::OpenShared(prefix + "memory");
    meta::BootstrapOptions bootstrap;
    bootstrap.state_store = "hummock+memory";
    bootstrap.data_directory = std::string(kDir);
    bootstrap.backup_storage_url = "memory";
    bootstrap.backup_storage_directory = "backup";
    ASSERT_OK_AND_ASSIGN(meta::ClusterInfo cluster, meta::BootstrapCluster(meta_, bootstrap));
    cluster_id_ = cluster.cluster_id;
    params_ = std::make_unique<meta::SystemParamsManager>(meta_);
    ASSERT_OK(params_->Reload());
    ASSERT_OK_AND_ASSIGN(hummock_, hummock::HummockManager::Open(
                                       meta_, objects_, {.data_directory = std::string(kDir)}));
    meta::BackupManagerOptions options;
    options.cluster_id = cluster_id_;
    options.rwmeta_version = "rwmeta-test";
    options.max_snapshots = kMaxSnapshots;
    options.before_cut = [this]() -> Status {
      RWMETA_RETURN_IF_ERROR(gate_.Pass());
      std::lock_guard lock(mu_);
      return before_cut_status_;
    };
    options.open_store =
        [prefix](std::string_view url) -> Result<std::unique_ptr<objstore::ObjectStore>> {
      return std::unique_ptr<objstore::ObjectStore>(
          objstore::MemoryObjectStore::OpenShared(prefix + std::string(url)));
    };
    ASSERT_OK_AND_ASSIGN(manager_,
                         meta::BackupManager::Open(meta_, *hummock_, *params_, std::move(options)));
    service_ = std::make_unique<BackupServiceImpl>(*manager_);
    server_.AddService(service_.get());
    ASSERT_OK(server_.Start("127.0.0.1:0"));
    stub_ = bs::BackupService::NewStub(
        grpc::CreateChannel(server_.address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    gate_.Open();
    server_.Stop();
  }

  // Commits one epoch with one SST holding `rows` keys of kTable; returns the SST's object id.
  uint64_t CommitRows(int rows) {
    const uint64_t epoch = hummock::NextEpoch(hummock_->current()->max_committed_epoch());
    Result<uint64_t> id = hummock_->NewObjectIds(1);
    EXPECT_OK(id);
    auto out = objects_.OpenWriter(hummock::SstObjectKey(kDir, *id));
    EXPECT_OK(out);
    hummock::SstWriter writer(std::move(out).value(), {.object_id = *id});
    for (int i = 0; i < rows; ++i) {
      EXPECT_OK(writer.Add(kTable, "key" + std::to_string(1000 + i), epoch,
                           hummock::Value::Put("value" + std::to_string(i))));
    }
    Result<hummock::SstInfo> info = writer.Finish();
    EXPECT_OK(info);
    EXPECT_OK(hummock_->CommitEpoch(epoch, {hummock::ToSstableInfo(*info)}, {kTable}));
    return *id;
  }

  Result<uint64_t> BackupMeta(std::optional<std::string> remarks = std::nullopt) {
    grpc::ClientContext context;
    bs::BackupMetaRequest request;
    if (remarks) request.set_remarks(*remarks);
    bs::BackupMetaResponse response;
    RWMETA_RETURN_IF_ERROR(rpc::FromGrpcStatus(stub_->BackupMeta(&context, request, &response)));
    return response.job_id();
  }
  Result<bs::GetBackupJobStatusResponse> JobStatus(uint64_t job_id) {
    grpc::ClientContext context;
    bs::GetBackupJobStatusRequest request;
    request.set_job_id(job_id);
    bs::GetBackupJobStatusResponse response;
    RWMETA_RETURN_IF_ERROR(
        rpc::FromGrpcStatus(stub_->GetBackupJobStatus(&context, request, &response)));
    return response;
  }
  // Polls the job's status (bounded) until it is no longer RUNNING.
  Result<bs::GetBackupJobStatusResponse> WaitForJob(uint64_t job_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      RWMETA_ASSIGN_OR_RETURN(bs::GetBackupJobStatusResponse status, JobStatus(job_id));
      if (status.job_status() != bs::RUNNING) return status;
      if (std::chrono::steady_clock::now() > deadline) {
        return DeadlineExceededError(fmt::format("job {} still running", job_id));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Starts a job and waits for it to succeed; returns its id.
  uint64_t Backup(std::optional<std::string> remarks = std::nullopt) {
    Result<uint64_t> id = BackupMeta(std::move(remarks));
    EXPECT_OK(id);
    if (!id.ok()) return 0;
    Result<bs::GetBackupJobStatusResponse> done = WaitForJob(*id);
    EXPECT_OK(done);
    if (done.ok()) {
      EXPECT_EQ(done->job_status(), bs::SUCCEEDED) << done->message();
    }
    return *id;
  }
  Result<bs::ListBackupJobsResponse> ListJobs(uint32_t limit) {
    grpc::ClientContext context;
    bs::ListBackupJobsRequest request;
    request.set_limit(limit);
    bs::ListBackupJobsResponse response;
    RWMETA_RETURN_IF_ERROR(
        rpc::FromGrpcStatus(stub_->ListBackupJobs(&context, request, &response)));
    return response;
  }
  Status Delete(const std::vector<uint64_t>& ids) {
    grpc::ClientContext context;
    bs::DeleteMetaSnapshotRequest request;
    for (uint64_t id : ids) request.add_snapshot_ids(id);
    bs::DeleteMetaSnapshotResponse response;
    return rpc::FromGrpcStatus(stub_->DeleteMetaSnapshot(&context, request, &response));
  }
  Result<bs::GetMetaSnapshotManifestResponse> Manifest(bool include_object_ids = false) {
    grpc::ClientContext context;
    bs::GetMetaSnapshotManifestRequest request;
    request.set_include_object_ids(include_object_ids);
    bs::GetMetaSnapshotManifestResponse response;
    RWMETA_RETURN_IF_ERROR(
        rpc::FromGrpcStatus(stub_->GetMetaSnapshotManifest(&context, request, &response)));
    return response;
  }
  std::vector<uint64_t> ListedIds() {
    Result<bs::GetMetaSnapshotManifestResponse> manifest = Manifest();
    EXPECT_OK(manifest);
    std::vector<uint64_t> ids;
    if (!manifest.ok()) return ids;
    for (const auto& s : manifest->manifest().snapshot_metadata()) ids.push_back(s.id());
    return ids;
  }
  Result<bs::VerifyMetaSnapshotResponse> Verify(uint64_t id) {
    grpc::ClientContext context;
    bs::VerifyMetaSnapshotRequest request;
    request.set_snapshot_id(id);
    bs::VerifyMetaSnapshotResponse response;
    RWMETA_RETURN_IF_ERROR(
        rpc::FromGrpcStatus(stub_->VerifyMetaSnapshot(&context, request, &response)));
    return response;
  }
  Result<bs::GetBackupMetricsResponse> Metrics() {
    grpc::ClientContext context;
    bs::GetBackupMetricsResponse response;
    RWMETA_RETURN_IF_ERROR(rpc::FromGrpcStatus(stub_->GetBackupMetrics(&context, {}, &response)));
    return response;
  }
  void FailBeforeCutWith(Status status) {
    std::lock_guard lock(mu_);
    before_cut_status_ = std::move(status);
  }

  metastore::MemoryMetaStore meta_;
  objstore::MemoryObjectStore objects_;
  // The backup location "memory" as the manager sees it.
  std::unique_ptr<objstore::MemoryObjectStore> backup_objects_;
  std::string cluster_id_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<hummock::HummockManager> hummock_;
  Gate gate_;
  std::mutex mu_;
  Status before_cut_status_;  // guarded by mu_
  std::unique_ptr<meta::BackupManager> manager_;
  std::unique_ptr<BackupServiceImpl> service_;
  rpc::testing::FakeMetaBackend backend_;
  // Declared last: stopped before the service and the managers go.
  rpc::RpcServer server_{&backend_};
  std::unique_ptr<bs::BackupService::Stub> stub_;
};

TEST_F(BackupServiceTest, BackupMetaRunsAJobWhoseSnapshotTheManifestLists) {
  const uint64_t first = CommitRows(3);
  const uint64_t second = CommitRows(5);
  const int64_t before_ms = UnixNowMs();
  ASSERT_OK_AND_ASSIGN(uint64_t job_id, BackupMeta("nightly"));
  EXPECT_EQ(job_id, 1u);
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse job, WaitForJob(job_id));
  const int64_t after_ms = UnixNowMs();
  EXPECT_EQ(job.job_id(), 1u);
  EXPECT_EQ(job.job_status(), bs::SUCCEEDED);
  EXPECT_THAT(job.message(),
              StartsWith(fmt::format("snapshot 1 of hummock version {} (2 objects, max committed "
                                     "epoch {})",
                                     hummock_->current()->id(),
                                     hummock_->current()->max_committed_epoch())));
  EXPECT_EQ(job.remarks(), "nightly");
  EXPECT_GE(job.started_at_ms(), before_ms);
  ASSERT_TRUE(job.has_finished_at_ms());
  EXPECT_GE(job.finished_at_ms(), job.started_at_ms());
  EXPECT_LE(job.finished_at_ms(), after_ms);

  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse response, Manifest());
  EXPECT_EQ(response.location().url(), "memory");
  EXPECT_EQ(response.location().directory(), "backup");
  EXPECT_EQ(response.manifest().manifest_id(), 1u);
  ASSERT_EQ(response.manifest().snapshot_metadata_size(), 1);
  const bs::MetaSnapshotMetadata& s = response.manifest().snapshot_metadata(0);
  const auto version = hummock_->current();
  EXPECT_EQ(s.id(), 1u);
  EXPECT_EQ(s.hummock_version_id(), version->id());
  EXPECT_EQ(s.max_committed_epoch(), version->max_committed_epoch());
  EXPECT_EQ(s.safe_epoch(), version->safe_epoch());
  EXPECT_EQ(s.format_version(), 1u);
  EXPECT_EQ(s.remarks(), "nightly");
  EXPECT_EQ(s.rw_version(), "rwmeta-test");
  ASSERT_EQ(s.state_table_info().size(), 1u);
  EXPECT_EQ(s.state_table_info().at(kTable).committed_epoch(), version->max_committed_epoch());
  EXPECT_EQ(s.state_table_info().at(kTable).compaction_group_id(),
            version->state_table_info().at(kTable).compaction_group_id());
  ASSERT_OK_AND_ASSIGN(objstore::ObjectMeta object, backup_objects_->Head("backup/1.snapshot"));
  EXPECT_EQ(s.size_bytes(), object.size_bytes);
  EXPECT_NE(s.checksum(), 0u);
  EXPECT_GE(s.created_at_ms(), before_ms);
  EXPECT_LE(s.created_at_ms(), after_ms);
  EXPECT_EQ(s.object_count(), 2u);
  // Object ids only when asked for.
  EXPECT_THAT(s.object_ids(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse with_ids, Manifest(true));
  EXPECT_THAT(with_ids.manifest().snapshot_metadata(0).object_ids(), ElementsAre(first, second));
}

TEST_F(BackupServiceTest, ASecondJobIsRefusedWhileOneRuns) {
  CommitRows(2);
  gate_.Close();
  ASSERT_OK_AND_ASSIGN(uint64_t running, BackupMeta("held"));
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, JobStatus(running));
  EXPECT_EQ(status.job_status(), bs::RUNNING);
  EXPECT_EQ(status.message(), "");
  EXPECT_FALSE(status.has_finished_at_ms());
  EXPECT_THAT(BackupMeta("second").status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(fmt::format("a backup job is already running: job {}", running))));
  ASSERT_OK_AND_ASSIGN(bs::ListBackupJobsResponse jobs, ListJobs(0));
  ASSERT_EQ(jobs.jobs_size(), 1);  // the refused one was not recorded
  EXPECT_EQ(jobs.jobs(0).job_status(), bs::RUNNING);

  gate_.Open();
  ASSERT_OK_AND_ASSIGN(status, WaitForJob(running));
  EXPECT_EQ(status.job_status(), bs::SUCCEEDED);
  // The next one runs, with the next id.
  EXPECT_EQ(Backup(), running + 1);
  EXPECT_THAT(ListedIds(), ElementsAre(running, running + 1));
}

TEST_F(BackupServiceTest, UnknownJobIsNotFoundInTheStatusAsRisingWaveAnswers) {
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, JobStatus(42));
  EXPECT_EQ(status.job_id(), 42u);
  EXPECT_EQ(status.job_status(), bs::NOT_FOUND);
  EXPECT_EQ(status.message(), "backup job 42 not found");
}

TEST_F(BackupServiceTest, AFailedJobReportsItsErrorAndListsNothing) {
  FailBeforeCutWith(UnavailableError("state store unreachable"));
  ASSERT_OK_AND_ASSIGN(uint64_t job_id, BackupMeta());
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, WaitForJob(job_id));
  EXPECT_EQ(status.job_status(), bs::FAILED);
  EXPECT_THAT(status.message(), StartsWith(fmt::format("failed backup job {}: ", job_id)));
  EXPECT_THAT(status.message(), HasSubstr("state store unreachable"));
  EXPECT_FALSE(status.has_remarks());
  EXPECT_TRUE(status.has_finished_at_ms());
  EXPECT_THAT(ListedIds(), IsEmpty());
}

TEST_F(BackupServiceTest, ListBackupJobsIsNewestFirstWithALimit) {
  const uint64_t a = Backup("a");
  FailBeforeCutWith(UnavailableError("down"));
  ASSERT_OK_AND_ASSIGN(uint64_t b, BackupMeta("b"));
  ASSERT_OK(WaitForJob(b).status());
  FailBeforeCutWith(Status::Ok());
  const uint64_t c = Backup();

  ASSERT_OK_AND_ASSIGN(bs::ListBackupJobsResponse all, ListJobs(0));
  ASSERT_EQ(all.jobs_size(), 3);
  EXPECT_EQ(all.jobs(0).job_id(), c);
  EXPECT_EQ(all.jobs(0).job_status(), bs::SUCCEEDED);
  EXPECT_FALSE(all.jobs(0).has_remarks());
  EXPECT_EQ(all.jobs(1).job_id(), b);
  EXPECT_EQ(all.jobs(1).job_status(), bs::FAILED);
  EXPECT_EQ(all.jobs(1).remarks(), "b");
  EXPECT_THAT(all.jobs(1).message(), HasSubstr("down"));
  EXPECT_EQ(all.jobs(2).job_id(), a);
  EXPECT_EQ(all.jobs(2).remarks(), "a");

  ASSERT_OK_AND_ASSIGN(bs::ListBackupJobsResponse two, ListJobs(2));
  ASSERT_EQ(two.jobs_size(), 2);
  EXPECT_EQ(two.jobs(0).job_id(), c);
  EXPECT_EQ(two.jobs(1).job_id(), b);
  // The failed job made no snapshot.
  EXPECT_THAT(ListedIds(), ElementsAre(a, c));
}

TEST_F(BackupServiceTest, DeleteNamesUnknownIdsAndThenDeletesNothing) {
  CommitRows(1);
  const uint64_t a = Backup();
  const uint64_t b = Backup();
  EXPECT_THAT(Delete({a, 7, 9}),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshots 7, 9 not found in manifest "
                                                        "backup/manifest.json; nothing deleted")));
  EXPECT_THAT(ListedIds(), ElementsAre(a, b));
  EXPECT_OK(backup_objects_->Head("backup/1.snapshot").status());

  EXPECT_OK(Delete({a}));
  EXPECT_THAT(ListedIds(), ElementsAre(b));
  EXPECT_THAT(backup_objects_->Head("backup/1.snapshot").status(), StatusIs(StatusCode::kNotFound));
  // Deleted already: unknown now.
  EXPECT_THAT(Delete({a}), StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 1 not found")));
  // Nothing to delete is fine.
  EXPECT_OK(Delete({}));
  EXPECT_THAT(ListedIds(), ElementsAre(b));
}

TEST_F(BackupServiceTest, VerifyReadsTheSnapshotWholeAndRefusesACorruptOne) {
  CommitRows(4);
  const uint64_t id = Backup();
  ASSERT_OK_AND_ASSIGN(bs::VerifyMetaSnapshotResponse v, Verify(id));
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse m, Manifest());
  const bs::MetaSnapshotMetadata& entry = m.manifest().snapshot_metadata(0);
  EXPECT_EQ(v.snapshot_id(), id);
  EXPECT_EQ(v.format_major_version(), 1u);
  EXPECT_EQ(v.format_minor_version(), 0u);
  EXPECT_EQ(v.cluster_id(), cluster_id_);
  EXPECT_EQ(v.rwmeta_version(), "rwmeta-test");
  EXPECT_EQ(v.source_backend(), std::string(meta_.backend()));
  EXPECT_GT(v.model_version(), 0);
  EXPECT_EQ(v.hummock_version_id(), entry.hummock_version_id());
  EXPECT_EQ(v.max_committed_epoch(), entry.max_committed_epoch());
  EXPECT_EQ(v.safe_epoch(), entry.safe_epoch());
  EXPECT_EQ(v.table_committed_epochs().at(kTable), entry.max_committed_epoch());
  // The bootstrap wrote one cluster row and one user (root).
  EXPECT_EQ(v.table_row_counts().at("cluster"), 1u);
  EXPECT_EQ(v.table_row_counts().at("user"), 1u);
  EXPECT_EQ(v.size_bytes(), entry.size_bytes());
  EXPECT_EQ(v.checksum(), entry.checksum());
  EXPECT_EQ(v.created_at_ms(), entry.created_at_ms());

  EXPECT_THAT(Verify(99).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 99 not found")));

  // One bit flipped in the middle of the object.
  ASSERT_OK_AND_ASSIGN(std::string bytes, backup_objects_->Get("backup/1.snapshot"));
  bytes[bytes.size() / 2] ^= 0x10;
  ASSERT_OK(backup_objects_->Put("backup/1.snapshot", bytes));
  EXPECT_THAT(Verify(id).status(), StatusIs(StatusCode::kDataLoss, HasSubstr("backup/1.snapshot")));
}

TEST_F(BackupServiceTest, MetricsCountJobsBytesAndDeletes) {
  ASSERT_OK_AND_ASSIGN(bs::GetBackupMetricsResponse none, Metrics());
  EXPECT_EQ(none.jobs_started(), 0u);
  EXPECT_EQ(none.bytes_written(), 0u);

  CommitRows(2);
  const uint64_t id = Backup();
  FailBeforeCutWith(UnavailableError("down"));
  ASSERT_OK_AND_ASSIGN(uint64_t failed, BackupMeta());
  ASSERT_OK(WaitForJob(failed).status());
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse manifest, Manifest());
  ASSERT_EQ(manifest.manifest().snapshot_metadata_size(), 1);
  const uint64_t size = manifest.manifest().snapshot_metadata(0).size_bytes();
  ASSERT_OK(Delete({id}));
  ASSERT_OK_AND_ASSIGN(bs::GetBackupMetricsResponse m, Metrics());
  EXPECT_EQ(m.jobs_started(), 2u);
  EXPECT_EQ(m.jobs_succeeded(), 1u);
  EXPECT_EQ(m.jobs_failed(), 1u);
  EXPECT_EQ(m.snapshots_deleted(), 1u);
  // The succeeded job's snapshot object is all the bytes written.
  EXPECT_EQ(m.bytes_written(), size);
  EXPECT_GE(m.total_job_latency_ms(), m.last_job_latency_ms());
}

TEST_F(BackupServiceTest, TooManySnapshotsIsResourceExhausted) {
  for (size_t i = 0; i < kMaxSnapshots; ++i) Backup();
  EXPECT_THAT(BackupMeta().status(),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("too many meta snapshots")));
  ASSERT_OK_AND_ASSIGN(bs::ListBackupJobsResponse jobs, ListJobs(0));
  EXPECT_EQ(jobs.jobs_size(), static_cast<int>(kMaxSnapshots));
}

TEST_F(BackupServiceTest, ChangingTheDirectoryHidesSnapshotsAndSettingItBackShowsThem) {
  const uint64_t id = Backup("before the switch");
  ASSERT_OK(params_->Set("backup_storage_directory", "elsewhere"));
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse elsewhere, Manifest());
  EXPECT_EQ(elsewhere.location().directory(), "elsewhere");
  EXPECT_EQ(elsewhere.manifest().manifest_id(), 0u);
  EXPECT_THAT(elsewhere.manifest().snapshot_metadata(), IsEmpty());
  EXPECT_THAT(Delete({id}), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(params_->Set("backup_storage_directory", "backup"));
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse back, Manifest());
  EXPECT_EQ(back.location().directory(), "backup");
  ASSERT_EQ(back.manifest().snapshot_metadata_size(), 1);
  EXPECT_EQ(back.manifest().snapshot_metadata(0).id(), id);
  EXPECT_EQ(back.manifest().snapshot_metadata(0).remarks(), "before the switch");
}

}  // namespace
}  // namespace rwmeta::server
