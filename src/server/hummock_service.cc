#include "server/hummock_service.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "hummock/version/version.h"
#include "rpc/meta_services.h"
#include "rpc/status_grpc.h"

namespace rwmeta::server {

grpc::Status HummockServiceImpl::GetCurrentVersion(
    grpc::ServerContext* context, const hummock::GetCurrentVersionRequest* /*request*/,
    hummock::GetCurrentVersionResponse* response) {
  rpc::MarkServedByMeta(context);
  *response->mutable_current_version() = *backend_.CurrentVersion();
  // Every table's epoch in its entry, for clients that read the entries as they are (risectl of
  // any version, RisingWave's tools).
  hummock::MaterializeCommittedEpochs(response->mutable_current_version());
  for (uint64_t id : backend_.StaleObjectIds()) response->add_stale_object_ids(id);
  return grpc::Status::OK;
}

grpc::Status HummockServiceImpl::TriggerFullGc(grpc::ServerContext* context,
                                               const hummock::TriggerFullGcRequest* request,
                                               hummock::TriggerFullGcResponse* response) {
  rpc::MarkServedByMeta(context);
  const int64_t secs = request->sst_retention_time_sec();
  // Refused before any work: TriggerFullGc would otherwise compact and vacuum, then fail.
  if (secs < 0) {
    return rpc::ToGrpcStatus(InvalidArgumentError(
        "sst retention time must be at least 0 seconds, got " + std::to_string(secs)));
  }
  if (secs > std::numeric_limits<int64_t>::max() / 1000) {
    return rpc::ToGrpcStatus(InvalidArgumentError("sst retention time " + std::to_string(secs) +
                                                  " seconds is too large"));
  }
  Result<hummock::FullGcReport> report = backend_.TriggerFullGc(std::chrono::seconds(secs));
  if (!report.ok()) return rpc::ToGrpcStatus(report.status());
  response->set_listed_sst_count(report->listed_sst_count);
  response->set_ignored_key_count(report->ignored_key_count);
  for (uint64_t id : report->deleted_object_ids) response->add_deleted_object_ids(id);
  response->set_deleted_bytes(report->deleted_bytes);
  for (uint64_t id : report->kept_referenced) response->add_kept_referenced_object_ids(id);
  for (uint64_t id : report->kept_too_young) response->add_kept_too_young_object_ids(id);
  return grpc::Status::OK;
}

grpc::Status HummockServiceImpl::TriggerCompaction(
    grpc::ServerContext* context, const hummock::TriggerCompactionRequest* /*request*/,
    hummock::TriggerCompactionResponse* response) {
  rpc::MarkServedByMeta(context);
  Result<int> compactions = backend_.TriggerCompaction();
  if (!compactions.ok()) return rpc::ToGrpcStatus(compactions.status());
  response->set_compactions(static_cast<uint32_t>(*compactions));
  return grpc::Status::OK;
}

}  // namespace rwmeta::server
