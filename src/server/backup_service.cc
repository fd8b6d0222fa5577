#include "server/backup_service.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "rpc/meta_services.h"
#include "rpc/status_grpc.h"

namespace rwmeta::server {
namespace {

// ListBackupJobs without a limit.
constexpr uint32_t kDefaultJobLimit = 100;

template <typename JobMessage>
void FillJob(const meta::BackupJobInfo& job, JobMessage* out) {
  out->set_job_id(job.job_id);
  out->set_job_status(ToProtoJobStatus(job.state));
  out->set_message(job.message);
  if (job.remarks) out->set_remarks(*job.remarks);
  out->set_started_at_ms(job.started_at_ms);
  if (job.finished_at_ms) out->set_finished_at_ms(*job.finished_at_ms);
  // OK unless the job failed; the wire's number for the code, by the one mapping.
  out->set_error_code(static_cast<uint32_t>(rpc::ToGrpcCode(job.error.code())));
}

void FillMetadata(const backup::SnapshotMetadata& entry, const backup::SnapshotDetails& details,
                  bool include_object_ids, backup_service::MetaSnapshotMetadata* out) {
  out->set_id(entry.id);
  out->set_hummock_version_id(entry.hummock_version_id);
  out->set_max_committed_epoch(entry.max_committed_epoch);
  out->set_safe_epoch(entry.safe_epoch);
  out->set_format_version(entry.format_version);
  if (entry.remarks) out->set_remarks(*entry.remarks);
  if (entry.rw_version) out->set_rw_version(*entry.rw_version);
  for (const auto& [table_id, info] : details.state_table_info) {
    hummock::StateTableInfo& table = (*out->mutable_state_table_info())[table_id];
    table.set_committed_epoch(info.committed_epoch);
    table.set_compaction_group_id(info.compaction_group_id);
  }
  out->set_size_bytes(entry.size_bytes);
  out->set_checksum(entry.checksum);
  out->set_created_at_ms(entry.created_at_ms);
  out->set_object_count(entry.object_count);
  out->set_scheduled(entry.scheduled);
  if (entry.drill) {
    backup_service::MetaSnapshotDrill* drill = out->mutable_drill();
    drill->set_at_ms(entry.drill->at_ms);
    drill->set_duration_ms(entry.drill->duration_ms);
    drill->set_passed(entry.drill->passed);
    drill->set_message(EscapeInvalidUtf8(entry.drill->message));
  }
  if (include_object_ids) {
    for (uint64_t id : details.object_ids) out->add_object_ids(id);
  }
}

}  // namespace

backup_service::BackupJobStatus ToProtoJobStatus(meta::BackupJobState state) {
  switch (state) {
    case meta::BackupJobState::kRunning:
      return backup_service::RUNNING;
    case meta::BackupJobState::kSucceeded:
      return backup_service::SUCCEEDED;
    case meta::BackupJobState::kFailed:
      return backup_service::FAILED;
  }
  return backup_service::UNSPECIFIED;
}

grpc::Status BackupServiceImpl::BackupMeta(grpc::ServerContext* context,
                                           const backup_service::BackupMetaRequest* request,
                                           backup_service::BackupMetaResponse* response) {
  rpc::MarkServedByMeta(context);
  std::optional<std::string> remarks;
  if (request->has_remarks()) remarks = request->remarks();
  Result<uint64_t> job_id = backend_.StartBackup(std::move(remarks));
  if (!job_id.ok()) return rpc::ToGrpcStatus(job_id.status());
  response->set_job_id(*job_id);
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::GetBackupJobStatus(
    grpc::ServerContext* context, const backup_service::GetBackupJobStatusRequest* request,
    backup_service::GetBackupJobStatusResponse* response) {
  rpc::MarkServedByMeta(context);
  Result<meta::BackupJobInfo> job = backend_.GetJob(request->job_id());
  if (!job.ok()) {
    // RisingWave's clients expect an unknown job as a status, not as a failed call.
    if (job.status().code() != StatusCode::kNotFound) return rpc::ToGrpcStatus(job.status());
    response->set_job_id(request->job_id());
    response->set_job_status(backup_service::NOT_FOUND);
    response->set_message(job.status().message());
    return grpc::Status::OK;
  }
  FillJob(*job, response);
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::ListBackupJobs(grpc::ServerContext* context,
                                               const backup_service::ListBackupJobsRequest* request,
                                               backup_service::ListBackupJobsResponse* response) {
  rpc::MarkServedByMeta(context);
  const uint32_t limit = request->limit() == 0 ? kDefaultJobLimit : request->limit();
  Result<std::vector<meta::BackupJobInfo>> jobs = backend_.ListJobs(limit);
  if (!jobs.ok()) return rpc::ToGrpcStatus(jobs.status());
  for (const meta::BackupJobInfo& job : *jobs) FillJob(job, response->add_jobs());
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::DeleteMetaSnapshot(
    grpc::ServerContext* context, const backup_service::DeleteMetaSnapshotRequest* request,
    backup_service::DeleteMetaSnapshotResponse* /*response*/) {
  rpc::MarkServedByMeta(context);
  std::vector<uint64_t> ids(request->snapshot_ids().begin(), request->snapshot_ids().end());
  return rpc::ToGrpcStatus(backend_.DeleteSnapshots(ids));
}

grpc::Status BackupServiceImpl::GetMetaSnapshotManifest(
    grpc::ServerContext* context, const backup_service::GetMetaSnapshotManifestRequest* request,
    backup_service::GetMetaSnapshotManifestResponse* response) {
  rpc::MarkServedByMeta(context);
  // The location the manifest was read from, whatever switch lands meanwhile.
  meta::BackupLocation location;
  Result<backup::Manifest> manifest = backend_.GetManifest(&location);
  if (!manifest.ok()) return rpc::ToGrpcStatus(manifest.status());
  backup_service::MetaSnapshotManifest* out = response->mutable_manifest();
  out->set_manifest_id(manifest->manifest_id);
  for (const backup::SnapshotMetadata& entry : manifest->snapshots) {
    // State table info and object ids: from the snapshot object's header (cached).
    Result<std::shared_ptr<const backup::SnapshotDetails>> details =
        backend_.SnapshotDetails(entry);
    if (!details.ok()) return rpc::ToGrpcStatus(details.status());
    FillMetadata(entry, **details, request->include_object_ids(), out->add_snapshot_metadata());
  }
  response->mutable_location()->set_url(location.url);
  response->mutable_location()->set_directory(location.directory);
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::VerifyMetaSnapshot(
    grpc::ServerContext* context, const backup_service::VerifyMetaSnapshotRequest* request,
    backup_service::VerifyMetaSnapshotResponse* response) {
  rpc::MarkServedByMeta(context);
  Result<backup::SnapshotContents> contents = backend_.VerifySnapshot(request->snapshot_id());
  if (!contents.ok()) return rpc::ToGrpcStatus(contents.status());
  const backup::SnapshotHeader& header = contents->header;
  response->set_snapshot_id(contents->snapshot_id);
  response->set_format_major_version(contents->major_version);
  response->set_format_minor_version(contents->minor_version);
  response->set_cluster_id(header.cluster_id);
  response->set_rwmeta_version(header.rwmeta_version);
  response->set_source_backend(header.source_backend);
  response->set_model_version(header.model_version);
  response->set_hummock_version_id(header.hummock_version_id);
  response->set_max_committed_epoch(header.max_committed_epoch);
  response->set_safe_epoch(header.safe_epoch);
  for (const auto& [table_id, epoch] : header.table_committed_epochs) {
    (*response->mutable_table_committed_epochs())[table_id] = epoch;
  }
  for (const auto& [table, rows] : header.table_row_counts) {
    (*response->mutable_table_row_counts())[table] = rows;
  }
  response->set_size_bytes(contents->size_bytes);
  response->set_checksum(contents->checksum);
  response->set_created_at_ms(header.created_at_ms);
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::GetBackupMetrics(
    grpc::ServerContext* context, const backup_service::GetBackupMetricsRequest* /*request*/,
    backup_service::GetBackupMetricsResponse* response) {
  rpc::MarkServedByMeta(context);
  const meta::BackupMetrics metrics = backend_.Metrics();
  response->set_jobs_started(metrics.jobs_started);
  response->set_jobs_succeeded(metrics.jobs_succeeded);
  response->set_jobs_failed(metrics.jobs_failed);
  response->set_snapshots_deleted(metrics.snapshots_deleted);
  response->set_bytes_written(metrics.bytes_written);
  response->set_last_job_latency_ms(metrics.last_job_latency_ms);
  response->set_total_job_latency_ms(metrics.total_job_latency_ms);
  response->set_scheduled_jobs_started(metrics.scheduled_jobs_started);
  response->set_scheduled_jobs_failed(metrics.scheduled_jobs_failed);
  response->set_snapshots_deleted_by_retention(metrics.snapshots_deleted_by_retention);
  const meta::ScheduleState schedule = backend_.Schedule();
  response->set_schedule_interval_sec(schedule.interval_sec);
  if (schedule.next_at_ms) response->set_next_scheduled_at_ms(*schedule.next_at_ms);
  response->set_schedule_consecutive_failures(schedule.consecutive_failures);
  response->set_drills_run(metrics.drills_run);
  response->set_drills_failed(metrics.drills_failed);
  if (!schedule.last_error.ok()) {
    response->set_schedule_last_error(EscapeInvalidUtf8(schedule.last_error.ToString()));
  }
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::DrillMetaSnapshot(
    grpc::ServerContext* context, const backup_service::DrillMetaSnapshotRequest* request,
    backup_service::DrillMetaSnapshotResponse* response) {
  rpc::MarkServedByMeta(context);
  Result<restore::DrillReport> report = backend_.DrillSnapshot(request->snapshot_id());
  if (!report.ok()) return rpc::ToGrpcStatus(report.status());
  response->set_snapshot_id(report->snapshot_id);
  response->set_passed(report->passed);
  for (const std::string& problem : report->problems) {
    response->add_problems(EscapeInvalidUtf8(problem));
  }
  response->set_problem_count(report->problem_count);
  response->set_started_at_ms(report->started_at_ms);
  response->set_duration_ms(report->duration_ms);
  response->set_hummock_version_id(report->hummock_version_id);
  response->set_tables(report->tables);
  response->set_rows(report->rows);
  response->set_references_checked(report->references_checked);
  response->set_sequences_checked(report->sequences_checked);
  response->set_objects_checked(report->objects_checked);
  return grpc::Status::OK;
}

}  // namespace rwmeta::server
