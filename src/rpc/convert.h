// Conversions between the MetaBackend structs and the messages of proto/meta.proto.
//
// The *ToProto functions also redact: URLs in ClusterInfo pass through RedactUrl again, so a
// backend that forgot cannot leak a password over the wire. Parameter values are the backend's
// responsibility (see ParamInfo::value).
#pragma once

#include "proto/meta.pb.h"
#include "rpc/meta_backend.h"

namespace rwmeta::rpc {

void ClusterInfoToProto(const ClusterInfo& info, meta::GetClusterInfoResponse* out);
ClusterInfo ClusterInfoFromProto(const meta::GetClusterInfoResponse& in);

void ParamInfoToProto(const ParamInfo& param, meta::SystemParamEntry* out);
ParamInfo ParamInfoFromProto(const meta::SystemParamEntry& in);

}  // namespace rwmeta::rpc
