// BackupServiceImpl over a real BackupManager (testing::BackupTestNode: memory meta store, memory
// state store, a private in-memory backup location), called through gRPC as risectl calls it; and
// over a fake BackupBackend where the outcome is the service's own mapping.
#include "server/backup_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/testing/status_matchers.h"
#include "server/testing/served_meta_node.h"

namespace rwmeta::server {
namespace {

namespace bs = ::rwmeta::backup_service;
using Stub = bs::BackupService::Stub;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using testing::kTableId;
constexpr size_t kMaxSnapshots = 3;

class BackupServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(node_, testing::BackupTestNode::Open({.max_snapshots = kMaxSnapshots}));
    ASSERT_OK(node_->Serve());
    ASSERT_OK_AND_ASSIGN(client_, node_->Connect());
  }

  uint64_t CommitRows(int rows) {
    Result<uint64_t> id = node_->CommitRows(rows);
    EXPECT_OK(id);
    return id.ok() ? *id : 0;
  }

  Result<uint64_t> BackupMeta(std::optional<std::string> remarks = std::nullopt) {
    bs::BackupMetaRequest request;
    if (remarks) request.set_remarks(*remarks);
    RWMETA_ASSIGN_OR_RETURN(bs::BackupMetaResponse response,
                            client_->Call("BackupMeta", &Stub::BackupMeta, request));
    return response.job_id();
  }
  Result<bs::GetBackupJobStatusResponse> JobStatus(uint64_t job_id) {
    bs::GetBackupJobStatusRequest request;
    request.set_job_id(job_id);
    return client_->Call("GetBackupJobStatus", &Stub::GetBackupJobStatus, request);
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
    bs::ListBackupJobsRequest request;
    request.set_limit(limit);
    return client_->Call("ListBackupJobs", &Stub::ListBackupJobs, request);
  }
  Status Delete(const std::vector<uint64_t>& ids) {
    bs::DeleteMetaSnapshotRequest request;
    for (uint64_t id : ids) request.add_snapshot_ids(id);
    return client_->Call("DeleteMetaSnapshot", &Stub::DeleteMetaSnapshot, request).status();
  }
  Result<bs::GetMetaSnapshotManifestResponse> Manifest(bool include_object_ids = false) {
    bs::GetMetaSnapshotManifestRequest request;
    request.set_include_object_ids(include_object_ids);
    return client_->Call("GetMetaSnapshotManifest", &Stub::GetMetaSnapshotManifest, request);
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
    bs::VerifyMetaSnapshotRequest request;
    request.set_snapshot_id(id);
    return client_->Call("VerifyMetaSnapshot", &Stub::VerifyMetaSnapshot, request);
  }
  Result<bs::GetBackupMetricsResponse> Metrics() {
    return client_->Call("GetBackupMetrics", &Stub::GetBackupMetrics, {});
  }

  std::unique_ptr<testing::BackupTestNode> node_;
  std::optional<rpc::ServiceClient<bs::BackupService>> client_;
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
                                     node_->hummock().current()->id(),
                                     node_->hummock().current()->max_committed_epoch())));
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
  const auto version = node_->hummock().current();
  EXPECT_EQ(s.id(), 1u);
  EXPECT_EQ(s.hummock_version_id(), version->id());
  EXPECT_EQ(s.max_committed_epoch(), version->max_committed_epoch());
  EXPECT_EQ(s.safe_epoch(), version->safe_epoch());
  EXPECT_EQ(s.format_version(), 1u);
  EXPECT_EQ(s.remarks(), "nightly");
  EXPECT_EQ(s.rw_version(), "rwmeta-test");
  ASSERT_EQ(s.state_table_info().size(), 1u);
  EXPECT_EQ(s.state_table_info().at(kTableId).committed_epoch(), version->max_committed_epoch());
  EXPECT_EQ(s.state_table_info().at(kTableId).compaction_group_id(),
            version->state_table_info().at(kTableId).compaction_group_id());
  ASSERT_OK_AND_ASSIGN(objstore::ObjectMeta object,
                       node_->backup_objects().Head("backup/1.snapshot"));
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
  node_->HoldJobs();
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

  node_->ReleaseJobs();
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
  node_->FailJobsWith(UnavailableError("state store unreachable"));
  ASSERT_OK_AND_ASSIGN(uint64_t job_id, BackupMeta());
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, WaitForJob(job_id));
  EXPECT_EQ(status.job_status(), bs::FAILED);
  EXPECT_THAT(status.message(), StartsWith(fmt::format("failed backup job {}: ", job_id)));
  EXPECT_THAT(status.message(), HasSubstr("state store unreachable"));
  EXPECT_FALSE(status.has_remarks());
  EXPECT_TRUE(status.has_finished_at_ms());
  EXPECT_THAT(ListedIds(), IsEmpty());
}

// The code a job failed with crosses the wire beside its message: DataLoss stays DataLoss after
// the job thread, the backup_job row and gRPC.
TEST_F(BackupServiceTest, AFailedJobsReplyCarriesTheCodeItFailedWith) {
  const uint64_t ok = Backup();
  node_->FailJobsWith(DataLossError("backup/manifest.json: checksum mismatch"));
  ASSERT_OK_AND_ASSIGN(uint64_t corrupt, BackupMeta());
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, WaitForJob(corrupt));
  EXPECT_EQ(status.job_status(), bs::FAILED);
  EXPECT_EQ(status.error_code(), static_cast<uint32_t>(StatusCode::kDataLoss));
  EXPECT_THAT(status.message(),
              AllOf(StartsWith(fmt::format("failed backup job {}: DATA_LOSS: ", corrupt)),
                    EndsWith("backup/manifest.json: checksum mismatch")));

  node_->FailJobsWith(UnavailableError("s3 endpoint unreachable"));
  ASSERT_OK_AND_ASSIGN(uint64_t unreachable, BackupMeta());
  ASSERT_OK_AND_ASSIGN(status, WaitForJob(unreachable));
  EXPECT_EQ(status.error_code(), static_cast<uint32_t>(StatusCode::kUnavailable));

  ASSERT_OK_AND_ASSIGN(status, JobStatus(ok));
  EXPECT_EQ(status.job_status(), bs::SUCCEEDED);
  EXPECT_EQ(status.error_code(), 0u);
  // The history carries the same codes.
  ASSERT_OK_AND_ASSIGN(bs::ListBackupJobsResponse jobs, ListJobs(0));
  ASSERT_EQ(jobs.jobs_size(), 3);
  EXPECT_EQ(jobs.jobs(0).error_code(), static_cast<uint32_t>(StatusCode::kUnavailable));
  EXPECT_EQ(jobs.jobs(1).error_code(), static_cast<uint32_t>(StatusCode::kDataLoss));
  EXPECT_EQ(jobs.jobs(2).error_code(), 0u);
}

TEST_F(BackupServiceTest, ListBackupJobsIsNewestFirstWithALimit) {
  const uint64_t a = Backup("a");
  node_->FailJobsWith(UnavailableError("down"));
  ASSERT_OK_AND_ASSIGN(uint64_t b, BackupMeta("b"));
  ASSERT_OK(WaitForJob(b).status());
  node_->FailJobsWith(Status::Ok());
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
  EXPECT_OK(node_->backup_objects().Head("backup/1.snapshot").status());

  EXPECT_OK(Delete({a}));
  EXPECT_THAT(ListedIds(), ElementsAre(b));
  EXPECT_THAT(node_->backup_objects().Head("backup/1.snapshot").status(),
              StatusIs(StatusCode::kNotFound));
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
  EXPECT_EQ(v.format_minor_version(), backup::kSnapshotMinorVersion);
  EXPECT_EQ(v.cluster_id(), node_->cluster_id());
  EXPECT_EQ(v.rwmeta_version(), "rwmeta-test");
  EXPECT_EQ(v.source_backend(), std::string(node_->meta_store().backend()));
  EXPECT_GT(v.model_version(), 0);
  EXPECT_EQ(v.hummock_version_id(), entry.hummock_version_id());
  EXPECT_EQ(v.max_committed_epoch(), entry.max_committed_epoch());
  EXPECT_EQ(v.safe_epoch(), entry.safe_epoch());
  EXPECT_EQ(v.table_committed_epochs().at(kTableId), entry.max_committed_epoch());
  // The bootstrap wrote one cluster row and one user (root).
  EXPECT_EQ(v.table_row_counts().at("cluster"), 1u);
  EXPECT_EQ(v.table_row_counts().at("user"), 1u);
  EXPECT_EQ(v.size_bytes(), entry.size_bytes());
  EXPECT_EQ(v.checksum(), entry.checksum());
  EXPECT_EQ(v.created_at_ms(), entry.created_at_ms());

  EXPECT_THAT(Verify(99).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 99 not found")));

  // One bit flipped in the middle of the object.
  ASSERT_OK_AND_ASSIGN(std::string bytes, node_->backup_objects().Get("backup/1.snapshot"));
  bytes[bytes.size() / 2] ^= 0x10;
  ASSERT_OK(node_->backup_objects().Put("backup/1.snapshot", bytes));
  EXPECT_THAT(Verify(id).status(), StatusIs(StatusCode::kDataLoss, HasSubstr("backup/1.snapshot")));
}

TEST_F(BackupServiceTest, MetricsCountJobsBytesAndDeletes) {
  ASSERT_OK_AND_ASSIGN(bs::GetBackupMetricsResponse none, Metrics());
  EXPECT_EQ(none.jobs_started(), 0u);
  EXPECT_EQ(none.bytes_written(), 0u);

  CommitRows(2);
  const uint64_t id = Backup();
  node_->FailJobsWith(UnavailableError("down"));
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
  // The schedule, on its defaults: the next scheduled job half an hour after the newest snapshot
  // (the failed job made none; the deleted one no longer counts).
  EXPECT_EQ(m.schedule_interval_sec(), 1800u);
  EXPECT_TRUE(m.has_next_scheduled_at_ms());
  EXPECT_EQ(m.scheduled_jobs_started(), 0u);
  EXPECT_EQ(m.schedule_consecutive_failures(), 0u);
  EXPECT_EQ(m.schedule_last_error(), "");
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
  ASSERT_OK(node_->params().Set("backup_storage_directory", "elsewhere"));
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse elsewhere, Manifest());
  EXPECT_EQ(elsewhere.location().directory(), "elsewhere");
  EXPECT_EQ(elsewhere.manifest().manifest_id(), 0u);
  EXPECT_THAT(elsewhere.manifest().snapshot_metadata(), IsEmpty());
  EXPECT_THAT(Delete({id}), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(node_->params().Set("backup_storage_directory", "backup"));
  ASSERT_OK_AND_ASSIGN(bs::GetMetaSnapshotManifestResponse back, Manifest());
  EXPECT_EQ(back.location().directory(), "backup");
  ASSERT_EQ(back.manifest().snapshot_metadata_size(), 1);
  EXPECT_EQ(back.manifest().snapshot_metadata(0).id(), id);
  EXPECT_EQ(back.manifest().snapshot_metadata(0).remarks(), "before the switch");
}

// ------------------------------------------------------------------------------------------
// The service's own mapping, over a fake backend.

// Answers from fixed rows; `error` (when not OK) fails every call. Set up before the calls.
class FakeBackupBackend final : public BackupBackend {
 public:
  Result<uint64_t> StartBackup(std::optional<std::string> /*remarks*/) override {
    if (!error.ok()) return error;
    return 1;
  }
  Result<meta::BackupJobInfo> GetJob(uint64_t job_id) override {
    if (!error.ok()) return error;
    for (const meta::BackupJobInfo& job : jobs) {
      if (job.job_id == job_id) return job;
    }
    return NotFoundError(fmt::format("backup job {} not found", job_id));
  }
  Result<std::vector<meta::BackupJobInfo>> ListJobs(size_t limit) override {
    last_limit = limit;
    if (!error.ok()) return error;
    return jobs;
  }
  Status DeleteSnapshots(const std::vector<uint64_t>& /*ids*/) override { return error; }
  Result<backup::Manifest> GetManifest(meta::BackupLocation* location) override {
    if (!error.ok()) return error;
    location->url = "memory";
    location->directory = "backup";
    return backup::Manifest{};
  }
  Result<std::shared_ptr<const backup::SnapshotDetails>> SnapshotDetails(
      const backup::SnapshotMetadata& /*entry*/) override {
    if (!error.ok()) return error;
    return std::make_shared<const backup::SnapshotDetails>();
  }
  Result<backup::SnapshotContents> VerifySnapshot(uint64_t id) override {
    if (!error.ok()) return error;
    return NotFoundError(fmt::format("snapshot {} not found", id));
  }
  meta::BackupMetrics Metrics() override { return {}; }
  meta::ScheduleState Schedule() override { return {}; }
  Result<restore::DrillReport> DrillSnapshot(uint64_t id) override {
    if (!error.ok()) return error;
    return NotFoundError(fmt::format("meta snapshot {} not found", id));
  }

  std::vector<meta::BackupJobInfo> jobs;
  Status error;
  size_t last_limit = 0;
};

class BackupServiceFakeBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(served_.Start({&service_}));
    ASSERT_OK_AND_ASSIGN(client_, served_.Connect<bs::BackupService>());
  }

  Result<bs::GetBackupJobStatusResponse> JobStatus(uint64_t job_id) {
    bs::GetBackupJobStatusRequest request;
    request.set_job_id(job_id);
    return client_->Call("GetBackupJobStatus", &Stub::GetBackupJobStatus, request);
  }

  FakeBackupBackend backend_;
  BackupServiceImpl service_{backend_};
  // Declared after the service: stops serving before it goes.
  testing::ServedServices served_;
  std::optional<rpc::ServiceClient<bs::BackupService>> client_;
};

TEST_F(BackupServiceFakeBackendTest, EachFailedJobCodeCrossesInErrorCode) {
  for (StatusCode code : {StatusCode::kDataLoss, StatusCode::kUnavailable, StatusCode::kAborted,
                          StatusCode::kUnknown}) {
    const Status error(code, "what went wrong");
    backend_.jobs = {{.job_id = 7,
                      .state = meta::BackupJobState::kFailed,
                      .message = meta::FailedJobMessage(7, error),
                      .error = error,
                      .started_at_ms = 1,
                      .finished_at_ms = 2}};
    ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, JobStatus(7));
    EXPECT_EQ(status.job_status(), bs::FAILED);
    EXPECT_EQ(status.error_code(), static_cast<uint32_t>(code)) << StatusCodeName(code);
    EXPECT_EQ(status.message(), "failed backup job 7: " + error.ToString());
  }
}

TEST_F(BackupServiceFakeBackendTest, AnUnknownJobIsAStatusAndOtherErrorsFailTheCall) {
  ASSERT_OK_AND_ASSIGN(bs::GetBackupJobStatusResponse status, JobStatus(42));
  EXPECT_EQ(status.job_status(), bs::NOT_FOUND);
  EXPECT_EQ(status.message(), "backup job 42 not found");
  EXPECT_EQ(status.error_code(), 0u);

  backend_.error = UnavailableError("meta store unreachable");
  EXPECT_THAT(JobStatus(42).status(), StatusIs(StatusCode::kUnavailable, "meta store unreachable"));
}

TEST_F(BackupServiceFakeBackendTest, ListBackupJobsWithoutALimitAsksForOneHundred) {
  bs::ListBackupJobsRequest request;
  ASSERT_OK(client_->Call("ListBackupJobs", &Stub::ListBackupJobs, request).status());
  EXPECT_EQ(backend_.last_limit, 100u);
  request.set_limit(3);
  ASSERT_OK(client_->Call("ListBackupJobs", &Stub::ListBackupJobs, request).status());
  EXPECT_EQ(backend_.last_limit, 3u);
}

}  // namespace
}  // namespace rwmeta::server
