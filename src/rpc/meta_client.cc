#include "rpc/meta_client.h"

#include "rpc/address.h"
#include "rpc/convert.h"
#include "rpc/meta_services.h"
#include "rpc/status_grpc.h"
#include "rpc/utf8.h"

namespace rwmeta::rpc {

Result<std::unique_ptr<MetaClient>> MetaClient::Connect(std::string_view addr,
                                                        MetaClientOptions options) {
  RWMETA_ASSIGN_OR_RETURN(HostPort host_port, ParseMetaAddress(addr));
  std::string target = host_port.ToString();
  grpc::ChannelArguments args;
  // A CLI makes a handful of calls: do not keep retrying a dead node in the background.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<MetaClient>(
      new MetaClient(std::move(target), options, std::move(channel)));
}

MetaClient::MetaClient(std::string target, MetaClientOptions options,
                       std::shared_ptr<grpc::Channel> channel)
    : target_(std::move(target)),
      options_(options),
      channel_(std::move(channel)),
      cluster_stub_(meta::ClusterService::NewStub(channel_)),
      system_params_stub_(meta::SystemParamsService::NewStub(channel_)) {}

Status MetaClient::MapCallStatus(std::string_view method, const grpc::ClientContext& context,
                                 const grpc::Status& status) const {
  if (status.ok()) return Status::Ok();
  // A status the meta node produced itself crosses unchanged, whatever its code.
  const auto& trailers = context.GetServerTrailingMetadata();
  auto origin =
      trailers.find(grpc::string_ref(kOriginMetadataKey.data(), kOriginMetadataKey.size()));
  if (origin != trailers.end() && origin->second == grpc::string_ref(kOriginMetadataValue.data(),
                                                                     kOriginMetadataValue.size())) {
    return FromGrpcStatus(status);
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return UnavailableError("cannot reach meta node at " + target_ + ": " +
                              status.error_message());
    case grpc::StatusCode::DEADLINE_EXCEEDED: {
      std::string timeout = std::to_string(options_.rpc_timeout.count()) + " ms";
      // GetState(false) does not start a connection attempt; it tells whether one ever succeeded.
      if (channel_->GetState(false) != GRPC_CHANNEL_READY) {
        return UnavailableError("cannot reach meta node at " + target_ + ": no connection within " +
                                timeout);
      }
      return DeadlineExceededError("meta node at " + target_ + " did not answer " +
                                   std::string(method) + " within " + timeout);
    }
    case grpc::StatusCode::CANCELLED:
      // This client never cancels its calls, so the server dropped it: it is going away.
      return UnavailableError("meta node at " + target_ + " dropped " + std::string(method) +
                              " (shutting down?): " + status.error_message());
    case grpc::StatusCode::UNIMPLEMENTED:
      return UnimplementedError("meta node at " + target_ + " does not serve " +
                                std::string(method) +
                                " (is it an rwmeta meta node?): " + status.error_message());
    default:
      return FromGrpcStatus(status).WithContext(std::string(method));
  }
}

Result<ClusterInfo> MetaClient::GetClusterInfo() {
  meta::GetClusterInfoResponse response;
  RWMETA_RETURN_IF_ERROR(Call("GetClusterInfo", [&](grpc::ClientContext* context) {
    return cluster_stub_->GetClusterInfo(context, meta::GetClusterInfoRequest(), &response);
  }));
  return ClusterInfoFromProto(response);
}

Result<std::vector<ParamInfo>> MetaClient::GetSystemParams() {
  meta::GetSystemParamsResponse response;
  RWMETA_RETURN_IF_ERROR(Call("GetSystemParams", [&](grpc::ClientContext* context) {
    return system_params_stub_->GetSystemParams(context, meta::GetSystemParamsRequest(), &response);
  }));
  std::vector<ParamInfo> params;
  params.reserve(response.params_size());
  for (const meta::SystemParamEntry& entry : response.params()) {
    params.push_back(ParamInfoFromProto(entry));
  }
  return params;
}

Result<SetParamResult> MetaClient::SetSystemParam(const std::string& name,
                                                  const std::string& value) {
  // Protobuf refuses to carry other bytes in a string field; say so instead of failing the call.
  if (!IsValidUtf8(name)) return InvalidArgumentError("system parameter name is not valid UTF-8");
  if (!IsValidUtf8(value)) return InvalidArgumentError("system parameter value is not valid UTF-8");
  meta::SetSystemParamRequest request;
  request.set_name(name);
  request.set_value(value);
  meta::SetSystemParamResponse response;
  RWMETA_RETURN_IF_ERROR(Call("SetSystemParam", [&](grpc::ClientContext* context) {
    return system_params_stub_->SetSystemParam(context, request, &response);
  }));
  return SetParamResult{ParamInfoFromProto(response.param()), response.notice()};
}

}  // namespace rwmeta::rpc
