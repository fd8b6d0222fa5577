// MetaClient: calls the meta node's admin API (risectl's side of RpcServer).
//
// Every call carries a deadline (MetaClientOptions::rpc_timeout). Errors returned by the meta node
// keep their code and message. Errors of the transport become:
//   Unavailable  "cannot reach meta node at 127.0.0.1:5690: <why>": refused, down, unresolvable,
//                or no connection before the deadline
//   Unavailable  "meta node at 127.0.0.1:5690 dropped <Method> (shutting down?): ...": the node
//                cancelled the call, as it does to new calls while it stops
//   Unimplemented  the peer does not serve the method (not an rwmeta meta node, or an older one)
//   DeadlineExceeded  "meta node at 127.0.0.1:5690 did not answer <Method> within <n> ms":
//                connected but too slow
// Thread-safe: one MetaClient may be used from several threads at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "proto/meta.grpc.pb.h"
#include "rpc/meta_backend.h"

namespace rwmeta::rpc {

struct MetaClientOptions {
  // Deadline of each call, connection time included.
  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10);
};

class MetaClient {
 public:
  // Prepares a client for the meta node at `addr`: "http://127.0.0.1:5690" or "127.0.0.1:5690"
  // (see ParseMetaAddress). Does not contact the node; the first call connects.
  // Errors: InvalidArgument for an address ParseMetaAddress refuses.
  static Result<std::unique_ptr<MetaClient>> Connect(std::string_view addr,
                                                     MetaClientOptions options = {});

  // "127.0.0.1:5690", the host:port dialled (no scheme).
  const std::string& target() const { return target_; }
  // For clients of services added later (BackupService, ...) that share this connection.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // ClusterService.GetClusterInfo.
  Result<ClusterInfo> GetClusterInfo();
  // SystemParamsService.GetSystemParams: every parameter, in the node's display order.
  Result<std::vector<ParamInfo>> GetSystemParams();
  // SystemParamsService.SetSystemParam. InvalidArgument for an unknown name or bad value,
  // FailedPrecondition for an immutable parameter (as the node reports them); InvalidArgument
  // without calling the node if `name` or `value` is not valid UTF-8.
  Result<SetParamResult> SetSystemParam(const std::string& name, const std::string& value);

  // Runs one unary call `rpc(grpc::ClientContext*) -> grpc::Status` with this client's deadline
  // and maps its outcome as described at the top of this file. `method` names it in messages.
  // The building block for the methods above and for those of services added later.
  template <typename Rpc>
  Status Call(std::string_view method, Rpc&& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
    grpc::Status status = rpc(&context);
    return MapCallStatus(method, context, status);
  }

 private:
  MetaClient(std::string target, MetaClientOptions options, std::shared_ptr<grpc::Channel> channel);

  Status MapCallStatus(std::string_view method, const grpc::ClientContext& context,
                       const grpc::Status& status) const;

  std::string target_;
  MetaClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<meta::ClusterService::Stub> cluster_stub_;
  std::unique_ptr<meta::SystemParamsService::Stub> system_params_stub_;
};

// A client of one more service of the meta node (BackupService, HummockManagerService, ...) over
// a MetaClient's connection, with its deadline and its error mapping (top of this file):
//
//   ServiceClient<backup_service::BackupService> backup(std::move(meta));
//   Result<GetBackupMetricsResponse> m = backup.Call(
//       "GetBackupMetrics", &backup_service::BackupService::Stub::GetBackupMetrics, {});
//
// Thread-safe as MetaClient is.
template <typename Service>
class ServiceClient {
 public:
  using Stub = typename Service::Stub;

  explicit ServiceClient(std::unique_ptr<MetaClient> meta)
      : meta_(std::move(meta)), stub_(Service::NewStub(meta_->channel())) {}

  // Calls `rpc` of the service with `request`; `method` names it in messages ("BackupMeta").
  template <typename Request, typename Response>
  Result<Response> Call(std::string_view method,
                        grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                        const Request& request) {
    Response response;
    RWMETA_RETURN_IF_ERROR(meta_->Call(method, [&](grpc::ClientContext* context) {
      return (stub_.get()->*rpc)(context, request, &response);
    }));
    return response;
  }

 private:
  std::unique_ptr<MetaClient> meta_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace rwmeta::rpc
