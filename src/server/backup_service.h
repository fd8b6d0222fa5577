// BackupServiceImpl: the gRPC BackupService (proto/backup_service.proto) over a BackupBackend
// (backup_backend.h; on the meta node, its meta::BackupManager), for `risectl meta backup-meta`,
// `list-meta-snapshots`, ...
//
// clang-format off
//   BackupMeta               BackupBackend::StartBackup: returns the job id at once
//   GetBackupJobStatus       BackupBackend::GetJob; a FAILED job's error code in error_code; an
//                            unknown job is OK with NOT_FOUND and the backend's "backup job N not
//                            found" message (as RisingWave answers)
//   ListBackupJobs           BackupBackend::ListJobs (limit 0 means 100), newest first
//   DeleteMetaSnapshot       BackupBackend::DeleteSnapshots
//   GetMetaSnapshotManifest  BackupBackend::GetManifest and its location (redacted URL)
//   VerifyMetaSnapshot       BackupBackend::VerifySnapshot: the header facts of a verified snapshot
//   GetBackupMetrics         BackupBackend::Metrics and Schedule
//   DrillMetaSnapshot        BackupBackend::DrillSnapshot: a failed drill is an OK reply with
//                            passed false; errors mean it could not run
// clang-format on
// Every other error of the backend crosses unchanged (code and message, rpc/status_grpc.h):
// FailedPrecondition for a second job while one runs, ResourceExhausted for a full location,
// NotFound naming unknown snapshot ids, DataLoss/Unimplemented from verification, and the backup
// location's or the meta store's errors.
//
// Thread-safe (handlers run concurrently on gRPC's threads; the backend is thread-safe). Every
// handler marks its response as served by the meta node (rpc::MarkServedByMeta).
#pragma once

#include <grpcpp/grpcpp.h>

#include "meta/backup_manager.h"
#include "proto/backup_service.grpc.pb.h"
#include "server/backup_backend.h"

namespace rwmeta::server {

class BackupServiceImpl final : public backup_service::BackupService::Service {
 public:
  // `backend` is not owned and must outlive the service (and the RpcServer serving it).
  explicit BackupServiceImpl(BackupBackend& backend) : backend_(backend) {}

  grpc::Status BackupMeta(grpc::ServerContext* context,
                          const backup_service::BackupMetaRequest* request,
                          backup_service::BackupMetaResponse* response) override;
  grpc::Status GetBackupJobStatus(grpc::ServerContext* context,
                                  const backup_service::GetBackupJobStatusRequest* request,
                                  backup_service::GetBackupJobStatusResponse* response) override;
  grpc::Status ListBackupJobs(grpc::ServerContext* context,
                              const backup_service::ListBackupJobsRequest* request,
                              backup_service::ListBackupJobsResponse* response) override;
  grpc::Status DeleteMetaSnapshot(grpc::ServerContext* context,
                                  const backup_service::DeleteMetaSnapshotRequest* request,
                                  backup_service::DeleteMetaSnapshotResponse* response) override;
  grpc::Status GetMetaSnapshotManifest(
      grpc::ServerContext* context, const backup_service::GetMetaSnapshotManifestRequest* request,
      backup_service::GetMetaSnapshotManifestResponse* response) override;
  grpc::Status VerifyMetaSnapshot(grpc::ServerContext* context,
                                  const backup_service::VerifyMetaSnapshotRequest* request,
                                  backup_service::VerifyMetaSnapshotResponse* response) override;
  grpc::Status GetBackupMetrics(grpc::ServerContext* context,
                                const backup_service::GetBackupMetricsRequest* request,
                                backup_service::GetBackupMetricsResponse* response) override;
  grpc::Status DrillMetaSnapshot(grpc::ServerContext* context,
                                 const backup_service::DrillMetaSnapshotRequest* request,
                                 backup_service::DrillMetaSnapshotResponse* response) override;

 private:
  BackupBackend& backend_;
};

// The wire status of a job state (RUNNING, SUCCEEDED, FAILED).
backup_service::BackupJobStatus ToProtoJobStatus(meta::BackupJobState state);

}  // namespace rwmeta::server
