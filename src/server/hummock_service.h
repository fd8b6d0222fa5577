// HummockServiceImpl: the gRPC HummockManagerService (proto/hummock_service.proto) over a
// HummockBackend (hummock_backend.h; on the meta node, its HummockManager and
// HummockMaintenance), for `risectl hummock ...`.
//
// clang-format off
//   GetCurrentVersion  HummockBackend::CurrentVersion (one whole version) and the stale object
//                      ids, read just after it
//   TriggerFullGc      HummockBackend::TriggerFullGc: a compaction and vacuum round, then a full
//                      GC pass; returns when the pass is done. InvalidArgument, before any work,
//                      for a negative retention or one that overflows milliseconds
//   TriggerCompaction  HummockBackend::TriggerCompaction: one compaction and vacuum round
// clang-format on
// Errors of the backend cross unchanged (rpc/status_grpc.h).
//
// Thread-safe (handlers run concurrently on gRPC's threads; the backend is thread-safe).
// Every handler marks its response as served by the meta node (rpc::MarkServedByMeta).
#pragma once

#include <grpcpp/grpcpp.h>

#include "proto/hummock_service.grpc.pb.h"
#include "server/hummock_backend.h"

namespace rwmeta::server {

class HummockServiceImpl final : public hummock::HummockManagerService::Service {
 public:
  // `backend` is not owned and must outlive the service (and the RpcServer serving it).
  explicit HummockServiceImpl(HummockBackend& backend) : backend_(backend) {}

  grpc::Status GetCurrentVersion(grpc::ServerContext* context,
                                 const hummock::GetCurrentVersionRequest* request,
                                 hummock::GetCurrentVersionResponse* response) override;
  grpc::Status TriggerFullGc(grpc::ServerContext* context,
                             const hummock::TriggerFullGcRequest* request,
                             hummock::TriggerFullGcResponse* response) override;
  grpc::Status TriggerCompaction(grpc::ServerContext* context,
                                 const hummock::TriggerCompactionRequest* request,
                                 hummock::TriggerCompactionResponse* response) override;

 private:
  HummockBackend& backend_;
};

}  // namespace rwmeta::server
