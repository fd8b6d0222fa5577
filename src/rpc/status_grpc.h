// The one mapping between rwmeta::Status and grpc::Status.
//
// StatusCode is numbered as gRPC's canonical codes, so the mapping is the identity on codes (a
// table below makes that explicit and is checked at compile time); messages cross unchanged in
// both directions. A Status's SQLSTATE does not cross the wire (it is for pgwire only).
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace rwmeta::rpc {

grpc::StatusCode ToGrpcCode(StatusCode code);
// Codes outside gRPC's canonical range map to kUnknown.
StatusCode FromGrpcCode(grpc::StatusCode code);

// OK maps to OK; an error keeps its code and message.
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

}  // namespace rwmeta::rpc
