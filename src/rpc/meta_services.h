// The gRPC services of proto/meta.proto, each a thin adapter over MetaBackend: convert the request,
// call the backend, convert the result or map its Status (status_grpc.h). A backend result with a
// string that is not valid UTF-8 (which protobuf cannot send) becomes Internal naming the field.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string_view>

#include "proto/meta.grpc.pb.h"
#include "rpc/meta_backend.h"

namespace rwmeta::rpc {

// Trailing-metadata key every rwmeta service sets on every response, OK or not. A client that
// sees it knows the status came from the meta node itself, not from the transport (so an
// UNAVAILABLE from the backend is not mistaken for "cannot reach the meta node").
inline constexpr std::string_view kOriginMetadataKey = "rwmeta-origin";
inline constexpr std::string_view kOriginMetadataValue = "meta-node";

// Marks `context`'s response as produced by an rwmeta service (see kOriginMetadataKey). Every
// service handler, including ones added later (BackupService), calls it first.
void MarkServedByMeta(grpc::ServerContext* context);

// Thread-safe if the backend is. `backend` is not owned and must outlive the service.
class ClusterServiceImpl final : public meta::ClusterService::Service {
 public:
  explicit ClusterServiceImpl(MetaBackend* backend) : backend_(backend) {}

  grpc::Status GetClusterInfo(grpc::ServerContext* context,
                              const meta::GetClusterInfoRequest* request,
                              meta::GetClusterInfoResponse* response) override;

 private:
  MetaBackend* backend_;
};

// Thread-safe if the backend is. `backend` is not owned and must outlive the service.
class SystemParamsServiceImpl final : public meta::SystemParamsService::Service {
 public:
  explicit SystemParamsServiceImpl(MetaBackend* backend) : backend_(backend) {}

  grpc::Status GetSystemParams(grpc::ServerContext* context,
                               const meta::GetSystemParamsRequest* request,
                               meta::GetSystemParamsResponse* response) override;
  // InvalidArgument for an empty name; otherwise whatever the backend returns.
  grpc::Status SetSystemParam(grpc::ServerContext* context,
                              const meta::SetSystemParamRequest* request,
                              meta::SetSystemParamResponse* response) override;

 private:
  MetaBackend* backend_;
};

}  // namespace rwmeta::rpc
