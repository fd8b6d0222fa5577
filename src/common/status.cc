#include "common/status.h"

namespace rwmeta {

namespace {
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
}  // namespace

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnknown:
      return "UNKNOWN";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), {}});
  }
}

const std::string& Status::message() const { return rep_ ? rep_->message : EmptyString(); }
const std::string& Status::sqlstate() const { return rep_ ? rep_->sqlstate : EmptyString(); }

Status Status::WithSqlState(std::string sqlstate) const {
  assert(!ok());
  Status s;
  s.rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, std::move(sqlstate)});
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status s;
  std::string msg(context);
  msg += ": ";
  msg += rep_->message;
  s.rep_ = std::make_shared<const Rep>(Rep{rep_->code, std::move(msg), rep_->sqlstate});
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

#define RWMETA_DEFINE_ERROR_(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }
RWMETA_DEFINE_ERROR_(CancelledError, kCancelled)
RWMETA_DEFINE_ERROR_(UnknownError, kUnknown)
RWMETA_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
RWMETA_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
RWMETA_DEFINE_ERROR_(NotFoundError, kNotFound)
RWMETA_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
RWMETA_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
RWMETA_DEFINE_ERROR_(ResourceExhaustedError, kResourceExhausted)
RWMETA_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
RWMETA_DEFINE_ERROR_(AbortedError, kAborted)
RWMETA_DEFINE_ERROR_(OutOfRangeError, kOutOfRange)
RWMETA_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
RWMETA_DEFINE_ERROR_(InternalError, kInternal)
RWMETA_DEFINE_ERROR_(UnavailableError, kUnavailable)
RWMETA_DEFINE_ERROR_(DataLossError, kDataLoss)
RWMETA_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
#undef RWMETA_DEFINE_ERROR_

bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
bool IsAborted(const Status& s) { return s.code() == StatusCode::kAborted; }
bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

}  // namespace rwmeta
