#include "rpc/meta_services.h"

#include "rpc/convert.h"
#include "rpc/status_grpc.h"
#include "rpc/utf8.h"

namespace rwmeta::rpc {

void MarkServedByMeta(grpc::ServerContext* context) {
  context->AddTrailingMetadata(std::string(kOriginMetadataKey), std::string(kOriginMetadataValue));
}

namespace {

// The OK reply for a filled-in `response`, or Internal naming the field if it holds a string
// protobuf cannot send (invalid UTF-8 from the backend: a bug there or corrupt stored bytes).
grpc::Status Reply(std::string_view method, const google::protobuf::Message& response) {
  Status utf8 = CheckUtf8Fields(response);
  if (!utf8.ok()) {
    return ToGrpcStatus(InternalError(std::string(method) + " response: " + utf8.message()));
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ClusterServiceImpl::GetClusterInfo(grpc::ServerContext* context,
                                                const meta::GetClusterInfoRequest* /*request*/,
                                                meta::GetClusterInfoResponse* response) {
  MarkServedByMeta(context);
  Result<ClusterInfo> info = backend_->GetClusterInfo();
  if (!info.ok()) return ToGrpcStatus(info.status());
  ClusterInfoToProto(*info, response);
  return Reply("GetClusterInfo", *response);
}

grpc::Status SystemParamsServiceImpl::GetSystemParams(
    grpc::ServerContext* context, const meta::GetSystemParamsRequest* /*request*/,
    meta::GetSystemParamsResponse* response) {
  MarkServedByMeta(context);
  Result<std::vector<ParamInfo>> params = backend_->GetSystemParams();
  if (!params.ok()) return ToGrpcStatus(params.status());
  for (const ParamInfo& param : *params) ParamInfoToProto(param, response->add_params());
  return Reply("GetSystemParams", *response);
}

grpc::Status SystemParamsServiceImpl::SetSystemParam(grpc::ServerContext* context,
                                                     const meta::SetSystemParamRequest* request,
                                                     meta::SetSystemParamResponse* response) {
  MarkServedByMeta(context);
  if (request->name().empty()) {
    return ToGrpcStatus(InvalidArgumentError("system parameter name is empty"));
  }
  Result<SetParamResult> result = backend_->SetSystemParam(request->name(), request->value());
  if (!result.ok()) return ToGrpcStatus(result.status());
  ParamInfoToProto(result->param, response->mutable_param());
  response->set_notice(result->notice);
  return Reply("SetSystemParam", *response);
}

}  // namespace rwmeta::rpc
