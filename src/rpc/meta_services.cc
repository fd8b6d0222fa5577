#include "rpc/meta_services.h"

#include "rpc/convert.h"
#include "rpc/status_grpc.h"

namespace rwmeta::rpc {

void MarkServedByMeta(grpc::ServerContext* context) {
  context->AddTrailingMetadata(std::string(kOriginMetadataKey), std::string(kOriginMetadataValue));
}

grpc::Status ClusterServiceImpl::GetClusterInfo(grpc::ServerContext* context,
                                                const meta::GetClusterInfoRequest* /*request*/,
                                                meta::GetClusterInfoResponse* response) {
  MarkServedByMeta(context);
  Result<ClusterInfo> info = backend_->GetClusterInfo();
  if (!info.ok()) return ToGrpcStatus(info.status());
  ClusterInfoToProto(*info, response);
  return grpc::Status::OK;
}

grpc::Status SystemParamsServiceImpl::GetSystemParams(
    grpc::ServerContext* context, const meta::GetSystemParamsRequest* /*request*/,
    meta::GetSystemParamsResponse* response) {
  MarkServedByMeta(context);
  Result<std::vector<ParamInfo>> params = backend_->GetSystemParams();
  if (!params.ok()) return ToGrpcStatus(params.status());
  for (const ParamInfo& param : *params) ParamInfoToProto(param, response->add_params());
  return grpc::Status::OK;
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
  return grpc::Status::OK;
}

}  // namespace rwmeta::rpc
