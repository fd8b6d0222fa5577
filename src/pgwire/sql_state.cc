#include "pgwire/sql_state.h"

namespace rwmeta::pgwire {

std::string_view SqlStateForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return "22023";
    case StatusCode::kNotFound:
      return "42704";
    case StatusCode::kAlreadyExists:
      return "42710";
    case StatusCode::kPermissionDenied:
      return "42501";
    case StatusCode::kFailedPrecondition:
      return "55000";
    case StatusCode::kResourceExhausted:
      return "53400";
    case StatusCode::kAborted:
      return "40001";
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return "58030";
    case StatusCode::kDataLoss:
      return "XX001";
    case StatusCode::kUnimplemented:
      return "0A000";
    case StatusCode::kUnauthenticated:
      return "28000";
    default:
      return "XX000";
  }
}

}  // namespace rwmeta::pgwire
