#include "rpc/status_grpc.h"

#include <array>
#include <utility>

namespace rwmeta::rpc {
namespace {

struct CodePair {
  StatusCode ours;
  grpc::StatusCode grpc;
};

// Index i holds the code numbered i on both sides.
constexpr std::array<CodePair, 17> kCodeTable = {{
    {StatusCode::kOk, grpc::StatusCode::OK},
    {StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
    {StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
    {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
    {StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
    {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
    {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
    {StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
    {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
    {StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
    {StatusCode::kAborted, grpc::StatusCode::ABORTED},
    {StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
    {StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
    {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
    {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
    {StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
    {StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
}};

constexpr bool TableIsIdentity() {
  for (std::size_t i = 0; i < kCodeTable.size(); ++i) {
    if (static_cast<std::size_t>(kCodeTable[i].ours) != i ||
        static_cast<std::size_t>(kCodeTable[i].grpc) != i) {
      return false;
    }
  }
  return true;
}
static_assert(TableIsIdentity(), "rwmeta::StatusCode must be numbered as gRPC's status codes");

}  // namespace

grpc::StatusCode ToGrpcCode(StatusCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kCodeTable.size() ? kCodeTable[i].grpc : grpc::StatusCode::UNKNOWN;
}

StatusCode FromGrpcCode(grpc::StatusCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kCodeTable.size() ? kCodeTable[i].ours : StatusCode::kUnknown;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), status.message());
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  return Status(FromGrpcCode(status.error_code()), status.error_message());
}

}  // namespace rwmeta::rpc
