// Status and Result<T>: how every fallible rwmeta function reports failure. Codes are numbered
// as gRPC's (and abseil's) canonical codes, so that a Status crosses the gRPC boundary unchanged.
// Choose the code the caller needs to decide what to do next:
// clang-format off
//   kNotFound            the named thing does not exist (snapshot 7, table t, object key)
//   kAlreadyExists       creating something that exists
//   kInvalidArgument     the request itself is malformed, whatever the state of the system
//   kFailedPrecondition  not in a state to do this (target not empty, backup storage unset)
//   kAborted             lost a compare-and-swap or a transaction conflict: redo read-modify-write
//   kUnavailable         a server is down or unreachable: retrying the same call may succeed
//   kDataLoss            stored bytes are corrupt or truncated (checksum mismatch, short object)
//   kUnimplemented       unknown format version, unsupported statement
//   kPermissionDenied    the caller may not do this (not a superuser)
//   kUnauthenticated     bad credentials
//   kInternal            a bug in rwmeta
// clang-format on
// Messages are lower case and name the thing: "snapshot 7: chunk 3 checksum mismatch".
//
// A Status may carry a SQLSTATE (five characters) for the Postgres wire protocol when the code
// alone is too coarse (duplicate table vs duplicate schema); the default is pgwire's table.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rwmeta {

// The numeric values reach the wire (gRPC status codes): never renumber.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", "DATA_LOSS", ...
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;
  // The SQLSTATE attached with WithSqlState, or empty.
  const std::string& sqlstate() const;

  // Returns a copy with `sqlstate` attached. REQUIRES: !ok().
  Status WithSqlState(std::string sqlstate) const;
  // Returns a copy whose message is "<context>: <message>". OK stays OK.
  Status WithContext(std::string_view context) const;

  // "NOT_FOUND: snapshot 7 not found"; "OK" for OK.
  std::string ToString() const;

  // Marks a deliberately ignored error. Say why at the call site.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::string sqlstate;
  };
  std::shared_ptr<const Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// Constructors for each code, so call sites read as the error they return.
Status CancelledError(std::string message);
Status UnknownError(std::string message);
Status InvalidArgumentError(std::string message);
Status DeadlineExceededError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnauthenticatedError(std::string message);

bool IsNotFound(const Status& s);
bool IsAborted(const Status& s);
bool IsUnavailable(const Status& s);

// A value or the Status saying why there is none. REQUIRES for value access: ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

  void IgnoreError() const {}

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace rwmeta

#define RWMETA_CONCAT_INNER_(a, b) a##b
#define RWMETA_CONCAT_(a, b) RWMETA_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status or Result) is not OK.
#define RWMETA_RETURN_IF_ERROR(expr)                                        \
  do {                                                                      \
    ::rwmeta::Status rwmeta_status_ = ::rwmeta::internal::AsStatus((expr)); \
    if (!rwmeta_status_.ok()) return rwmeta_status_;                        \
  } while (0)

// RWMETA_ASSIGN_OR_RETURN(auto x, FunctionReturningResult());
// Declares/assigns `lhs` from the Result's value, or returns its Status.
#define RWMETA_ASSIGN_OR_RETURN(lhs, expr) \
  RWMETA_ASSIGN_OR_RETURN_IMPL_(RWMETA_CONCAT_(rwmeta_result_, __LINE__), lhs, expr)
#define RWMETA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
