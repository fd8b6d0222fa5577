// Errors of the SQL layer: a Status code plus the SQLSTATE that psql shows.
#pragma once

#include <string>

#include "common/status.h"

namespace rwmeta::frontend::sql {

inline Status SqlError(StatusCode code, const char* sqlstate, std::string message) {
  return Status(code, std::move(message)).WithSqlState(sqlstate);
}
// 42601
inline Status SyntaxError(std::string m) {
  return SqlError(StatusCode::kInvalidArgument, "42601", std::move(m));
}
// 22003
inline Status OutOfRange(std::string m) {
  return SqlError(StatusCode::kOutOfRange, "22003", std::move(m));
}
// 22P02
inline Status BadText(std::string m) {
  return SqlError(StatusCode::kInvalidArgument, "22P02", std::move(m));
}
// 0A000
inline Status NotSupported(std::string m) {
  return SqlError(StatusCode::kUnimplemented, "0A000", std::move(m));
}

}  // namespace rwmeta::frontend::sql
