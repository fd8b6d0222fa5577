// Runs the built risectl binary's backup commands (`meta backup-meta`, `delete-meta-snapshots`,
// `list-meta-snapshots`, `show-meta-snapshot`, `backup-job-status`, `list-backup-jobs`,
// `backup-metrics`) against the real BackupService over a BackupManager on memory stores
// (server::testing::BackupTestNode), and checks stdout, stderr and the exit code. The rendering of
// fixed responses is checked byte for byte.
#include "ctl/backup_commands.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "ctl/ctl_context.h"
#include "ctl/hummock_commands.h"
#include "ctl/testing/risectl_binary.h"
#include "hummock/names.h"
#include "meta/backup_manager.h"
#include "proto/backup_service.grpc.pb.h"
#include "rpc/rpc_server.h"
#include "rpc/testing/fake_meta_backend.h"
#include "server/backup_backend.h"
#include "server/testing/served_meta_node.h"

namespace rwmeta::ctl {
namespace {

namespace bs = ::rwmeta::backup_service;
using ::rwmeta::ctl::testing::RunRisectlBinary;
using ::rwmeta::testing::CommandResult;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// 2025-11-24 16:00:00 UTC and 15:59:00 UTC as RisingWave epochs, and 16:00:00 in Unix ms.
constexpr uint64_t kMaxCommittedEpoch = 10127985868800000;
constexpr uint64_t kSafeEpoch = 10127981936640000;
constexpr int64_t kCreatedMs = 1764000000000;

using ::rwmeta::server::testing::kTableId;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bs::MetaSnapshotMetadata SampleSnapshot() {
  bs::MetaSnapshotMetadata s;
  s.set_id(3);
  s.set_hummock_version_id(17);
  s.set_max_committed_epoch(kMaxCommittedEpoch);
  s.set_safe_epoch(kSafeEpoch);
  s.set_format_version(1);
  s.set_remarks("before upgrade");
  s.set_rw_version("0.1.0");
  (*s.mutable_state_table_info())[1002].set_committed_epoch(kMaxCommittedEpoch);
  (*s.mutable_state_table_info())[1002].set_compaction_group_id(2);
  (*s.mutable_state_table_info())[1001].set_committed_epoch(kSafeEpoch);
  (*s.mutable_state_table_info())[1001].set_compaction_group_id(3);
  s.set_size_bytes(4096);
  s.set_checksum(0x0123456789abcdefULL);
  s.set_created_at_ms(kCreatedMs);
  s.set_object_count(2);
  s.add_object_ids(11);
  s.add_object_ids(12);
  return s;
}

bs::BackupLocation SampleLocation() {
  bs::BackupLocation location;
  location.set_url("s3://backups");
  location.set_directory("meta");
  return location;
}

// The meta node's backend, counting GetJob calls (how many times risectl polled a job's status).
class CountingBackupBackend final : public server::BackupManagerBackend {
 public:
  using BackupManagerBackend::BackupManagerBackend;

  Result<meta::BackupJobInfo> GetJob(uint64_t job_id) override {
    Result<meta::BackupJobInfo> job = BackupManagerBackend::GetJob(job_id);
    std::lock_guard lock(mu_);
    ++status_calls_;
    polled_.notify_all();
    return job;
  }

  // Waits (bounded) until GetJob was called at least `n` times.
  bool WaitForStatusCalls(int n) {
    std::unique_lock lock(mu_);
    return polled_.wait_for(lock, std::chrono::seconds(30), [&] { return status_calls_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable polled_;
  int status_calls_ = 0;
};

class BackupCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(node_, server::testing::BackupTestNode::Open({.rwmeta_version = "0.1.0"}));
    backend_ = std::make_unique<CountingBackupBackend>(node_->manager());
    ASSERT_OK(node_->Serve(backend_.get()));
    meta_addr_ = "http://" + node_->address();
  }

  uint64_t CommitRows(int rows) {
    Result<uint64_t> id = node_->CommitRows(rows);
    EXPECT_OK(id);
    return id.ok() ? *id : 0;
  }
  // A snapshot taken through the manager (not risectl); returns its id.
  uint64_t Backup(std::optional<std::string> remarks = std::nullopt) {
    Result<uint64_t> id = node_->Backup(std::move(remarks));
    EXPECT_OK(id);
    return id.ok() ? *id : 0;
  }
  std::vector<uint64_t> ListedIds() {
    Result<std::vector<uint64_t>> ids = node_->ListedIds();
    EXPECT_OK(ids);
    return ids.ok() ? *ids : std::vector<uint64_t>{};
  }
  // A job started through the manager that fails with `error` before its cut; returns its id.
  uint64_t FailedJob(Status error) {
    node_->FailJobsWith(std::move(error));
    Result<uint64_t> id = node_->manager().StartBackup(std::nullopt);
    EXPECT_OK(id);
    if (!id.ok()) return 0;
    EXPECT_OK(node_->manager().WaitForJob(*id, std::chrono::seconds(30)).status());
    node_->FailJobsWith(Status::Ok());
    return *id;
  }

  CommandResult Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), "meta");
    return RunRisectlBinary(args, meta_addr_);
  }

  // Declared before the node: outlives its server.
  std::unique_ptr<CountingBackupBackend> backend_;
  std::unique_ptr<server::testing::BackupTestNode> node_;
  std::string meta_addr_;
};

// ------------------------------------------------------------------------------------------
// Rendering of fixed responses.

TEST(BackupRenderTest, SnapshotListIsATableUnderTheLocation) {
  bs::GetMetaSnapshotManifestResponse response;
  *response.mutable_location() = SampleLocation();
  response.mutable_manifest()->set_manifest_id(5);
  *response.mutable_manifest()->add_snapshot_metadata() = SampleSnapshot();
  bs::MetaSnapshotMetadata* bare = response.mutable_manifest()->add_snapshot_metadata();
  bare->set_id(4);
  bare->set_hummock_version_id(18);
  bare->set_size_bytes(100);
  bare->set_scheduled(true);
  bare->mutable_drill()->set_passed(false);
  EXPECT_EQ(RenderSnapshotList(response),
            "Backup storage:  s3://backups directory meta\n"
            "Manifest ID:     5\n"
            "Meta snapshots (2):\n"
            "ID  Hummock version  Max committed epoch                          Size (bytes)  "
            "Created                  Kind       Drill   Remarks\n"
            "3   17               10127985868800000 (2025-11-24 16:00:00 UTC)  4096          "
            "2025-11-24 16:00:00 UTC  on demand          before upgrade\n"
            "4   18               0                                            100           "
            "                         scheduled  FAILED\n");

  response.mutable_manifest()->clear_snapshot_metadata();
  response.mutable_manifest()->set_manifest_id(0);
  EXPECT_EQ(RenderSnapshotList(response),
            "Backup storage:  s3://backups directory meta\n"
            "Manifest ID:     0\n"
            "Meta snapshots: none\n");
}

TEST(BackupRenderTest, SnapshotShowsEveryManifestField) {
  EXPECT_EQ(RenderSnapshot(SampleSnapshot(), SampleLocation(), /*verbose=*/true),
            "Snapshot ID:          3\n"
            "Hummock version ID:   17\n"
            "Max committed epoch:  10127985868800000 (2025-11-24 16:00:00 UTC)\n"
            "Safe epoch:           10127981936640000 (2025-11-24 15:59:00 UTC)\n"
            "Format version:       1\n"
            "Remarks:              before upgrade\n"
            "rwmeta version:       0.1.0\n"
            "Size (bytes):         4096\n"
            "Checksum:             0123456789abcdef (xxh64)\n"
            "Created:              2025-11-24 16:00:00 UTC\n"
            "Objects referenced:   2\n"
            "Kind:                 on demand\n"
            "Last drill:           (never)\n"
            "Backup storage:       s3://backups directory meta\n"
            "Object IDs: 11, 12\n"
            "\n"
            "State tables:\n"
            "Table ID  Compaction group  Committed epoch\n"
            "1001      3                 10127981936640000 (2025-11-24 15:59:00 UTC)\n"
            "1002      2                 10127985868800000 (2025-11-24 16:00:00 UTC)\n");

  bs::MetaSnapshotMetadata bare;
  bare.set_id(1);
  bare.set_scheduled(true);
  bs::MetaSnapshotDrill* drill = bare.mutable_drill();
  drill->set_at_ms(1764000000000);
  drill->set_duration_ms(35);
  drill->set_passed(false);
  drill->set_message("object hummock_001/12.data is missing");
  EXPECT_EQ(RenderSnapshot(bare, SampleLocation(), /*verbose=*/false),
            "Snapshot ID:          1\n"
            "Hummock version ID:   0\n"
            "Max committed epoch:  0\n"
            "Safe epoch:           0\n"
            "Format version:       (none)\n"
            "Remarks:              (none)\n"
            "rwmeta version:       (none)\n"
            "Size (bytes):         0\n"
            "Checksum:             0000000000000000 (xxh64)\n"
            "Created:\n"
            "Objects referenced:   0\n"
            "Kind:                 scheduled\n"
            "Last drill:           FAILED at 2025-11-24 16:00:00 UTC in 35 ms: object "
            "hummock_001/12.data is missing\n"
            "Backup storage:       s3://backups directory meta\n"
            "\n"
            "State tables: none\n");
}

TEST(BackupRenderTest, DrillReportSaysWhatWasCheckedAndEveryProblem) {
  bs::DrillMetaSnapshotResponse r;
  r.set_snapshot_id(7);
  r.set_passed(true);
  r.set_duration_ms(120);
  r.set_hummock_version_id(40);
  r.set_tables(12);
  r.set_rows(1204);
  r.set_references_checked(33);
  r.set_sequences_checked(7);
  r.set_objects_checked(5);
  EXPECT_EQ(RenderDrillReport(r),
            "Meta snapshot 7 restore drill: passed in 120 ms\n"
            "Checked: hummock version 40, 12 tables, 1204 rows, 33 foreign-key references, 7 id "
            "sequences, 5 state-store objects\n");
  r.set_passed(false);
  r.set_problem_count(2);
  r.add_problems("object hummock_001/12.data of hummock version 40 is missing");
  r.add_problems("id sequence object is at 12, not above 14");
  EXPECT_EQ(RenderDrillReport(r),
            "Meta snapshot 7 restore drill: FAILED in 120 ms\n"
            "Checked: hummock version 40, 12 tables, 1204 rows, 33 foreign-key references, 7 id "
            "sequences, 5 state-store objects\n"
            "Problems (2):\n"
            "  object hummock_001/12.data of hummock version 40 is missing\n"
            "  id sequence object is at 12, not above 14\n");
}

TEST(BackupRenderTest, VerificationShowsTheHeaderAndRowCounts) {
  bs::VerifyMetaSnapshotResponse v;
  v.set_snapshot_id(3);
  v.set_format_major_version(1);
  v.set_format_minor_version(0);
  v.set_cluster_id("0b0e5a5c-3f0e-4c1b-9a5e-2f0f3c1e7d42");
  v.set_rwmeta_version("0.1.0");
  v.set_source_backend("sqlite");
  v.set_model_version(4);
  v.set_hummock_version_id(17);
  v.set_max_committed_epoch(kMaxCommittedEpoch);
  v.set_safe_epoch(kSafeEpoch);
  (*v.mutable_table_row_counts())["user"] = 2;
  (*v.mutable_table_row_counts())["cluster"] = 1;
  v.set_size_bytes(4096);
  v.set_checksum(0x0123456789abcdefULL);
  v.set_created_at_ms(kCreatedMs);
  EXPECT_EQ(RenderVerification(v),
            "Verification:         OK (read whole: every chunk checksum and the whole-object "
            "checksum match, size and version agree with the manifest)\n"
            "Format:               1.0\n"
            "Cluster ID:           0b0e5a5c-3f0e-4c1b-9a5e-2f0f3c1e7d42\n"
            "Written by rwmeta:    0.1.0\n"
            "Source backend:       sqlite\n"
            "Model version:        4\n"
            "Hummock version ID:   17\n"
            "Max committed epoch:  10127985868800000 (2025-11-24 16:00:00 UTC)\n"
            "Safe epoch:           10127981936640000 (2025-11-24 15:59:00 UTC)\n"
            "Size (bytes):         4096\n"
            "Checksum:             0123456789abcdef (xxh64)\n"
            "Created:              2025-11-24 16:00:00 UTC\n"
            "\n"
            "Meta-store rows (3 in 2 tables):\n"
            "Table    Rows\n"
            "cluster  1\n"
            "user     2\n");
}

TEST(BackupRenderTest, JobsAndMetrics) {
  bs::GetBackupJobStatusResponse job;
  job.set_job_id(7);
  job.set_job_status(bs::FAILED);
  job.set_message("failed backup job 7: UNAVAILABLE: connection refused");
  job.set_started_at_ms(kCreatedMs);
  job.set_finished_at_ms(kCreatedMs + 61'000);
  EXPECT_EQ(RenderJob(job),
            "Job ID:    7\n"
            "Status:    FAILED\n"
            "Message:   failed backup job 7: UNAVAILABLE: connection refused\n"
            "Remarks:   (none)\n"
            "Started:   2025-11-24 16:00:00 UTC\n"
            "Finished:  2025-11-24 16:01:01 UTC\n");

  bs::ListBackupJobsResponse jobs;
  EXPECT_EQ(RenderJobList(jobs), "Backup jobs: none\n");
  bs::BackupJobInfo* running = jobs.add_jobs();
  running->set_job_id(8);
  running->set_job_status(bs::RUNNING);
  running->set_remarks("nightly");
  running->set_started_at_ms(kCreatedMs + 120'000);
  bs::BackupJobInfo* failed = jobs.add_jobs();
  failed->set_job_id(7);
  failed->set_job_status(bs::FAILED);
  failed->set_message("failed backup job 7: down");
  failed->set_started_at_ms(kCreatedMs);
  failed->set_finished_at_ms(kCreatedMs + 61'000);
  EXPECT_EQ(RenderJobList(jobs),
            "Job ID  Status   Started                  Finished                 Remarks  Message\n"
            "8       RUNNING  2025-11-24 16:02:00 UTC                           nightly\n"
            "7       FAILED   2025-11-24 16:00:00 UTC  2025-11-24 16:01:01 UTC           failed "
            "backup job 7: down\n");

  bs::GetBackupMetricsResponse metrics;
  metrics.set_jobs_started(4);
  metrics.set_jobs_succeeded(2);
  metrics.set_jobs_failed(1);
  metrics.set_snapshots_deleted(1);
  metrics.set_bytes_written(8192);
  metrics.set_last_job_latency_ms(40);
  metrics.set_total_job_latency_ms(90);
  metrics.set_scheduled_jobs_started(3);
  metrics.set_scheduled_jobs_failed(1);
  metrics.set_snapshots_deleted_by_retention(1);
  metrics.set_schedule_interval_sec(1800);
  metrics.set_next_scheduled_at_ms(1764000000000);
  metrics.set_schedule_consecutive_failures(1);
  metrics.set_schedule_last_error("UNAVAILABLE: down");
  metrics.set_drills_run(3);
  metrics.set_drills_failed(1);
  EXPECT_EQ(RenderMetrics(metrics),
            "Jobs started:                4\n"
            "Jobs succeeded:              2\n"
            "Jobs failed:                 1\n"
            "Snapshots deleted:           1\n"
            "Bytes written:               8192\n"
            "Last job latency:            40 ms\n"
            "Total job latency:           90 ms\n"
            "Mean job latency:            30 ms\n"
            "Schedule:                    every 1800 s, next at 2025-11-24 16:00:00 UTC\n"
            "Scheduled jobs started:      3\n"
            "Scheduled jobs failed:       1\n"
            "Scheduled failing in a row:  1 (last: UNAVAILABLE: down)\n"
            "Deleted by retention:        1\n"
            "Drills run:                  3\n"
            "Drills failed:               1\n");
  bs::GetBackupMetricsResponse off;
  EXPECT_THAT(RenderMetrics(off),
              HasSubstr("Schedule:                    off (backup_schedule_interval_sec = 0)\n"));
}

TEST(FailedBackupJobErrorTest, KeepsTheReplysCodeAndNamesTheJob) {
  bs::GetBackupJobStatusResponse job;
  job.set_job_id(4);
  job.set_job_status(bs::FAILED);
  job.set_message("failed backup job 4: DATA_LOSS: backup/4.snapshot: chunk 2 checksum mismatch");
  job.set_error_code(static_cast<uint32_t>(StatusCode::kDataLoss));
  EXPECT_THAT(FailedBackupJobError(job),
              StatusIs(StatusCode::kDataLoss,
                       "backup job failed: job 4, failed backup job 4: DATA_LOSS: "
                       "backup/4.snapshot: chunk 2 checksum mismatch"));
  job.set_error_code(static_cast<uint32_t>(StatusCode::kUnavailable));
  EXPECT_THAT(FailedBackupJobError(job), StatusIs(StatusCode::kUnavailable));
  // A node older than error_code sends 0; a code past the canonical ones is not guessed at.
  job.set_error_code(0);
  EXPECT_THAT(FailedBackupJobError(job), StatusIs(StatusCode::kUnknown));
  job.set_error_code(99);
  EXPECT_THAT(FailedBackupJobError(job), StatusIs(StatusCode::kUnknown));
}

// ------------------------------------------------------------------------------------------
// The binary against the real service.

TEST_F(BackupCommandsTest, BackupMetaShowsProgressThenPrintsTheSnapshotIdAlone) {
  CommitRows(3);
  node_->HoldJobs();
  auto run = std::async(std::launch::async, [this] {
    return Risectl({"backup-meta", "--remarks", "before upgrade", "--poll-interval-ms", "20"});
  });
  // Held until risectl saw the job RUNNING at least twice.
  ASSERT_TRUE(backend_->WaitForStatusCalls(2));
  node_->ReleaseJobs();
  CommandResult r = run.get();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_GE(lines.size(), 3u) << r.err;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i], "backup job is still running: job 1");
  }
  EXPECT_THAT(lines.back(),
              StartsWith(fmt::format("backup job succeeded: job 1, snapshot 1 of hummock version "
                                     "{} (1 objects, max committed epoch {})",
                                     node_->hummock().current()->id(),
                                     node_->hummock().current()->max_committed_epoch())));

  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, node_->manager().GetManifest());
  ASSERT_EQ(manifest.snapshots.size(), 1u);
  EXPECT_EQ(manifest.snapshots[0].id, 1u);
  EXPECT_EQ(manifest.snapshots[0].remarks, "before upgrade");
}

TEST_F(BackupCommandsTest, BackupMetaOfAFailedJobExitsOneWithItsError) {
  node_->FailJobsWith(UnavailableError("state store unreachable"));
  CommandResult r = Risectl({"backup-meta", "--poll-interval-ms", "10"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  const std::vector<std::string> lines = Lines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.back(),
              AllOf(StartsWith("error: backup job failed: job 1, failed backup job 1: "),
                    EndsWith("state store unreachable")));
  EXPECT_TRUE(ListedIds().empty());
}

// The code the job failed with survives the job thread, the backup_job row and gRPC: a corrupt
// location is DataLoss and an unreachable one Unavailable in risectl too. The binary exits 1 for
// both (risectl.h) with the code's name in the message; the command's Status carries the code.
TEST_F(BackupCommandsTest, BackupMetaOfAFailedJobFailsWithTheCodeTheJobFailedWith) {
  struct Case {
    Status error;
    std::string code_name;
  };
  const std::vector<Case> cases = {
      {DataLossError("backup/manifest.json: checksum mismatch"), "DATA_LOSS"},
      {UnavailableError("s3://backups: connection refused"), "UNAVAILABLE"},
  };
  uint64_t job_id = 0;
  for (const Case& c : cases) {
    node_->FailJobsWith(c.error);
    CommandResult r = Risectl({"backup-meta", "--poll-interval-ms", "10"});
    ++job_id;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    const std::vector<std::string> lines = Lines(r.err);
    ASSERT_FALSE(lines.empty());
    EXPECT_THAT(
        lines.back(),
        AllOf(StartsWith(fmt::format("error: backup job failed: job {}, failed backup job {}: {}: ",
                                     job_id, job_id, c.code_name)),
              EndsWith(c.error.message())));

    CtlContext ctx;
    ctx.meta_addr = meta_addr_;
    std::ostringstream out, err;
    ctx.out = &out;
    ctx.err = &err;
    ++job_id;
    EXPECT_THAT(RunBackupMeta(ctx, std::nullopt, 10),
                StatusIs(c.error.code(),
                         AllOf(StartsWith(fmt::format(
                                   "backup job failed: job {}, failed backup job {}: {}: ", job_id,
                                   job_id, c.code_name)),
                               EndsWith(c.error.message()))));
    EXPECT_EQ(out.str(), "");
  }
  EXPECT_TRUE(ListedIds().empty());
}

// CLI11 alone reads "-1" into an unsigned id as 18446744073709551615 and "" as 0: both are usage
// errors (exit 2) that name the value, and nothing reaches the meta node.
TEST_F(BackupCommandsTest, NegativeEmptyAndOverflowingIdsAreUsageErrors) {
  Backup();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"show-meta-snapshot", "-1"}, "error: ID: an id cannot be negative: -1\n"},
      {{"show-meta-snapshot", "18446744073709551616"},
       "error: ID: not an id: \"18446744073709551616\" (ids are decimal numbers from 0 to "
       "18446744073709551615)\n"},
      {{"show-meta-snapshot", "0x1"}, "error: ID: not an id: \"0x1\""},
      {{"backup-job-status", "-1"}, "error: JOB_ID: an id cannot be negative: -1\n"},
      {{"delete-meta-snapshots", "--snapshot-ids", "-1"},
       "error: --snapshot-ids: an id cannot be negative: -1\n"},
      {{"delete-meta-snapshots", "--snapshot-ids", "1,-2"},
       "error: --snapshot-ids: an id cannot be negative: -2\n"},
      {{"delete-meta-snapshots", "--snapshot-ids=-1"},
       "error: --snapshot-ids: an id cannot be negative: -1\n"},
      {{"delete-meta-snapshots", "--snapshot-ids", ""},
       "error: --snapshot-ids: an empty value is not an id\n"},
  };
  for (const Case& c : cases) {
    CommandResult r = Risectl(c.args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(c.args) << "\n" << r.err;
    EXPECT_EQ(r.out, "") << ::testing::PrintToString(c.args);
    EXPECT_THAT(r.err, StartsWith(c.error)) << ::testing::PrintToString(c.args);
    EXPECT_THAT(r.err, HasSubstr("Usage:")) << ::testing::PrintToString(c.args);
  }
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{1}));
  // The largest id is an id (no such snapshot: exit 1), and so is 0.
  CommandResult max = Risectl({"show-meta-snapshot", "18446744073709551615"});
  EXPECT_EQ(max.exit_code, 1) << max.err;
  EXPECT_THAT(max.err, StartsWith("error: meta snapshot 18446744073709551615 not found"));
  CommandResult zero = Risectl({"backup-job-status", "0"});
  EXPECT_EQ(zero.exit_code, 1) << zero.err;
  EXPECT_THAT(zero.err, StartsWith("error: backup job status not found: job 0"));
}

TEST_F(BackupCommandsTest, BackupMetaWhileAJobRunsIsRefused) {
  node_->HoldJobs();
  ASSERT_OK_AND_ASSIGN(uint64_t running, node_->manager().StartBackup(std::nullopt));
  CommandResult r = Risectl({"backup-meta"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err,
              StartsWith(fmt::format("error: a backup job is already running: job {}; ", running)));
  node_->ReleaseJobs();
  ASSERT_OK(node_->manager().WaitForJob(running, std::chrono::seconds(30)).status());
}

TEST_F(BackupCommandsTest, DeleteMetaSnapshotsTakesACommaListAndRepeatedFlags) {
  for (int i = 0; i < 4; ++i) Backup();
  CommandResult r = Risectl({"delete-meta-snapshots", "--snapshot-ids", "1,3"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "delete meta snapshots succeeded: [1, 3]\n");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{2, 4}));

  CommandResult repeated =
      Risectl({"delete-meta-snapshots", "--snapshot-ids", "2", "--snapshot-ids", "4"});
  EXPECT_EQ(repeated.exit_code, 0) << repeated.err;
  EXPECT_EQ(repeated.out, "delete meta snapshots succeeded: [2, 4]\n");
  EXPECT_TRUE(ListedIds().empty());
}

TEST_F(BackupCommandsTest, DeleteMetaSnapshotsOfAnUnknownIdNamesItAndDeletesNothing) {
  Backup();
  Backup();
  CommandResult r = Risectl({"delete-meta-snapshots", "--snapshot-ids", "1,9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "error: snapshot 9 not found in manifest backup/manifest.json; nothing deleted\n");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{1, 2}));

  CommandResult missing = Risectl({"delete-meta-snapshots"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, StartsWith("error: --snapshot-ids is required"));
  CommandResult not_a_number = Risectl({"delete-meta-snapshots", "--snapshot-ids", "1,x"});
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_THAT(not_a_number.err, StartsWith("error: "));
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{1, 2}));
}

TEST_F(BackupCommandsTest, ListMetaSnapshotsShowsEachSnapshot) {
  CommandResult empty = Risectl({"list-meta-snapshots"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out,
            "Backup storage:  memory directory backup\n"
            "Manifest ID:     0\n"
            "Meta snapshots: none\n");

  CommitRows(2);
  Backup("first");
  CommitRows(2);
  Backup();
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, node_->manager().GetManifest());
  CommandResult r = Risectl({"list-meta-snapshots"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0], "Backup storage:  memory directory backup");
  EXPECT_EQ(lines[1], "Manifest ID:     " + std::to_string(manifest.manifest_id));
  EXPECT_EQ(lines[2], "Meta snapshots (2):");
  EXPECT_THAT(lines[3], StartsWith("ID  Hummock version  Max committed epoch"));
  for (int i = 0; i < 2; ++i) {
    const backup::SnapshotMetadata& s = manifest.snapshots[i];
    EXPECT_THAT(lines[4 + i],
                AllOf(StartsWith(fmt::format("{}   {}  ", s.id, s.hummock_version_id)),
                      HasSubstr(FormatEpoch(s.max_committed_epoch)),
                      HasSubstr(fmt::format("  {}  ", s.size_bytes))));
  }
  EXPECT_THAT(lines[4], EndsWith(" UTC  on demand         first"));
  EXPECT_THAT(lines[5], EndsWith(" UTC  on demand"));
}

TEST_F(BackupCommandsTest, ShowMetaSnapshotPrintsTheEntryAndVerifies) {
  const uint64_t sst = CommitRows(4);
  const uint64_t id = Backup("nightly");
  CommandResult r = Risectl({"show-meta-snapshot", std::to_string(id), "--verbose", "--verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto version = node_->hummock().current();
  EXPECT_THAT(r.out,
              AllOf(StartsWith("Snapshot ID:          1\n"
                               "Hummock version ID:   " +
                               std::to_string(version->id()) +
                               "\n"
                               "Max committed epoch:  " +
                               FormatEpoch(version->max_committed_epoch()) + "\n"),
                    HasSubstr("Remarks:              nightly\n"
                              "rwmeta version:       0.1.0\n"),
                    HasSubstr("Objects referenced:   1\n"
                              "Kind:                 on demand\n"
                              "Last drill:           (never)\n"
                              "Backup storage:       memory directory backup\n"
                              "Object IDs: " +
                              std::to_string(sst) + "\n"),
                    HasSubstr("\nState tables:\nTable ID  Compaction group  Committed epoch\n" +
                              std::to_string(kTableId) + "      2  "),
                    HasSubstr("\n\nVerification:         OK (read whole"),
                    HasSubstr("\nCluster ID:           " + node_->cluster_id() + "\n"),
                    HasSubstr("\nSource backend:       memory\n"), ContainsRegex("\ncluster +1\n"),
                    ContainsRegex("\nuser +1\n")));

  CommandResult unknown = Risectl({"show-meta-snapshot", "9"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err,
            "error: meta snapshot 9 not found at backup storage memory directory backup\n");

  // A bit flipped in the object: the manifest part still prints, verification fails.
  ASSERT_OK_AND_ASSIGN(std::string bytes, node_->backup_objects().Get("backup/1.snapshot"));
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_OK(node_->backup_objects().Put("backup/1.snapshot", bytes));
  CommandResult corrupt = Risectl({"show-meta-snapshot", "1", "--verify"});
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_THAT(corrupt.out, StartsWith("Snapshot ID:          1\n"));
  EXPECT_THAT(corrupt.out, Not(HasSubstr("Verification:")));
  EXPECT_THAT(corrupt.err, AllOf(StartsWith("error: "), HasSubstr("backup/1.snapshot")));
}

TEST_F(BackupCommandsTest, JobStatusAndHistory) {
  const uint64_t ok = Backup("a");
  const uint64_t failed = FailedJob(UnavailableError("down"));

  CommandResult status = Risectl({"backup-job-status", std::to_string(failed)});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  std::vector<std::string> lines = Lines(status.out);
  ASSERT_EQ(lines.size(), 6u) << status.out;
  EXPECT_EQ(lines[0], "Job ID:    2");
  EXPECT_EQ(lines[1], "Status:    FAILED");
  EXPECT_THAT(lines[2], AllOf(StartsWith("Message:   failed backup job 2: "), EndsWith("down")));
  EXPECT_EQ(lines[3], "Remarks:   (none)");
  EXPECT_THAT(lines[4], AllOf(StartsWith("Started:   "), EndsWith(" UTC")));
  EXPECT_THAT(lines[5], AllOf(StartsWith("Finished:  "), EndsWith(" UTC")));

  CommandResult unknown = Risectl({"backup-job-status", "42"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "error: backup job status not found: job 42, backup job 42 not found\n");

  CommandResult history = Risectl({"list-backup-jobs"});
  EXPECT_EQ(history.exit_code, 0) << history.err;
  lines = Lines(history.out);
  ASSERT_EQ(lines.size(), 3u) << history.out;
  EXPECT_EQ(lines[0],
            "Job ID  Status     Started                  Finished                 "
            "Remarks  Message");
  EXPECT_THAT(lines[1], AllOf(StartsWith("2       FAILED     "), HasSubstr("down")));
  EXPECT_THAT(lines[2], AllOf(StartsWith(std::to_string(ok) + "       SUCCEEDED  "),
                              HasSubstr(" UTC  a        snapshot 1 of hummock version ")));

  CommandResult limited = Risectl({"list-backup-jobs", "--limit", "1"});
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(Lines(limited.out).size(), 2u) << limited.out;
}

TEST_F(BackupCommandsTest, DrillMetaSnapshotPassesOrExitsOneNamingTheMissingObject) {
  const uint64_t sst = CommitRows(2);
  const std::string id = std::to_string(Backup());
  CommandResult passed = Risectl({"drill-meta-snapshot", id});
  EXPECT_EQ(passed.exit_code, 0) << passed.err;
  EXPECT_THAT(passed.out, StartsWith("Meta snapshot " + id + " restore drill: passed in "));
  EXPECT_THAT(Risectl({"list-meta-snapshots"}).out, HasSubstr("  on demand  passed\n"));

  const std::string key = hummock::SstObjectKey(node_->hummock().options().data_directory, sst);
  ASSERT_OK(node_->hummock().state_store().Delete(key));
  CommandResult failed = Risectl({"drill-meta-snapshot", id});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.out, AllOf(HasSubstr("restore drill: FAILED in "), HasSubstr(key)));
  EXPECT_THAT(failed.err,
              HasSubstr("restore drill of meta snapshot " + id + " failed: 1 problem(s)"));
  EXPECT_THAT(Risectl({"show-meta-snapshot", id}).out,
              AllOf(HasSubstr("Last drill:           FAILED at "), HasSubstr(key)));

  CommandResult unknown = Risectl({"drill-meta-snapshot", "99"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("99"));
}

TEST_F(BackupCommandsTest, BackupMetricsCountsJobs) {
  const uint64_t id = Backup();
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, node_->manager().GetManifest());
  FailedJob(UnavailableError("down"));
  ASSERT_OK(node_->manager().DeleteSnapshots({id}));
  CommandResult r = Risectl({"backup-metrics"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Jobs started:                2\n"
                                "Jobs succeeded:              1\n"
                                "Jobs failed:                 1\n"
                                "Snapshots deleted:           1\n"
                                "Bytes written:               " +
                                std::to_string(manifest.snapshots[0].size_bytes) +
                                "\n"
                                "Last job latency:            "));
  EXPECT_THAT(r.out, HasSubstr("\nSchedule:                    every 1800 s, next at "));
}

TEST(BackupCommandsNoServiceTest, NodeWithoutTheServiceIsUnimplemented) {
  rpc::testing::FakeMetaBackend backend;
  rpc::RpcServer server(&backend);
  ASSERT_OK(server.Start("127.0.0.1:0"));
  CommandResult r = RunRisectlBinary({"meta", "list-meta-snapshots"}, "http://" + server.address());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(StartsWith("error: meta node at 127.0.0.1:"),
                           HasSubstr(" does not serve GetMetaSnapshotManifest")));
}

TEST(BackupCommandsNoServiceTest, HelpExplainsEveryCommand) {
  CommandResult r = RunRisectlBinary({"meta", "--help"}, std::nullopt);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, AllOf(HasSubstr("backup-meta"), HasSubstr("delete-meta-snapshots"),
                           HasSubstr("list-meta-snapshots"), HasSubstr("show-meta-snapshot"),
                           HasSubstr("backup-job-status"), HasSubstr("list-backup-jobs"),
                           HasSubstr("backup-metrics")));
  CommandResult backup = RunRisectlBinary({"meta", "backup-meta", "--help"}, std::nullopt);
  EXPECT_EQ(backup.exit_code, 0);
  EXPECT_THAT(backup.out, AllOf(HasSubstr("--remarks"), HasSubstr("--poll-interval-ms"),
                                HasSubstr("snapshot id alone on stdout")));
  CommandResult show = RunRisectlBinary({"meta", "show-meta-snapshot", "--help"}, std::nullopt);
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_THAT(show.out, AllOf(HasSubstr("--verify"), HasSubstr("-v,--verbose")));
}

}  // namespace
}  // namespace rwmeta::ctl
