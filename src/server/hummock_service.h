// HummockServiceImpl: the gRPC HummockManagerService (proto/hummock_service.proto) over the meta
// node's HummockManager and HummockMaintenance, for `risectl hummock ...`.
//
//   GetCurrentVersion  the current version (one whole version: a commit landing meanwhile is
//                      wholly in it or not at all) and the stale object ids, read just after it
//   TriggerFullGc      HummockMaintenance::TriggerFullGc: a compaction and vacuum round, then a
//                      full GC pass; returns when the pass is done. InvalidArgument, before any
//                      work, for a negative retention or one that overflows milliseconds
//   TriggerCompaction  HummockMaintenance::RunRoundNow: one compaction and vacuum round
// Errors of the manager and maintenance cross unchanged (rpc/status_grpc.h).
//
// Thread-safe (handlers run concurrently on gRPC's threads; maintenance serializes its rounds).
// Every handler marks its response as served by the meta node (rpc::MarkServedByMeta).
#pragma once

#include <grpcpp/grpcpp.h>

#include "hummock/store/hummock_manager.h"
#include "hummock/store/maintenance.h"
#include "proto/hummock_service.grpc.pb.h"

namespace rwmeta::server {

class HummockServiceImpl final : public hummock::HummockManagerService::Service {
 public:
  // Neither is owned; both must outlive the service (and the RpcServer serving it).
  HummockServiceImpl(hummock::HummockManager& manager, hummock::HummockMaintenance& maintenance)
      : manager_(manager), maintenance_(maintenance) {}

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
  hummock::HummockManager& manager_;
  hummock::HummockMaintenance& maintenance_;
};

}  // namespace rwmeta::server
