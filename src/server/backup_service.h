// BackupServiceImpl: the gRPC BackupService (proto/backup_service.proto) over the meta node's
// meta::BackupManager, for `risectl meta backup-meta`, `list-meta-snapshots`, ...
//
//   BackupMeta               BackupManager::StartBackup: returns the job id at once
//   GetBackupJobStatus       BackupManager::GetJob; an unknown job is OK with NOT_FOUND and the
//                            manager's "backup job N not found" message (as RisingWave answers)
//   ListBackupJobs           BackupManager::ListJobs (limit 0 means 100), newest first
//   DeleteMetaSnapshot       BackupManager::DeleteSnapshots
//   GetMetaSnapshotManifest  BackupManager::GetManifest and the current location (redacted URL)
//   VerifyMetaSnapshot       BackupManager::VerifySnapshot: the header facts of a verified snapshot
//   GetBackupMetrics         BackupManager::metrics
// Every other error of the manager crosses unchanged (code and message, rpc/status_grpc.h):
// FailedPrecondition for a second job while one runs, ResourceExhausted for a full location,
// NotFound naming unknown snapshot ids, DataLoss/Unimplemented from verification, and the backup
// location's or the meta store's errors.
//
// Thread-safe (handlers run concurrently on gRPC's threads; the manager is thread-safe). Every
// handler marks its response as served by the meta node (rpc::MarkServedByMeta).
#pragma once

#include <grpcpp/grpcpp.h>

#include "meta/backup_manager.h"
#include "proto/backup_service.grpc.pb.h"

namespace rwmeta::server {

class BackupServiceImpl final : public backup_service::BackupService::Service {
 public:
  // `manager` is not owned and must outlive the service (and the RpcServer serving it).
  explicit BackupServiceImpl(meta::BackupManager& manager) : manager_(manager) {}

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

 private:
  meta::BackupManager& manager_;
};

// The wire status of a job state (RUNNING, SUCCEEDED, FAILED).
backup_service::BackupJobStatus ToProtoJobStatus(meta::BackupJobState state);

}  // namespace rwmeta::server
