// The SQLSTATE of each Status code: the one table the SQL edge uses (STYLE "Errors": one mapping
// table per way out). Layers below report Status codes; a statement handler that knows a more
// precise condition attaches its SQLSTATE itself (Status::WithSqlState, sql::SqlError), and every
// other error gets the state of its code from this table: the frontend when a statement ends
// (frontend/sql_state.h), and the ErrorResponse for the protocol's own errors (SqlStateFor).
//
// clang-format off
//   code                 SQLSTATE  condition: the error that typically carries it
//   InvalidArgument      22023     invalid_parameter_value: a malformed backup URL
//   NotFound             42704     undefined_object: unknown snapshot or job ids, an epoch no
//                                  snapshot holds any more
//   AlreadyExists        42710     duplicate_object
//   PermissionDenied     42501     insufficient_privilege
//   FailedPrecondition   55000     object_not_in_prerequisite_state
//   ResourceExhausted    53400     configuration_limit_exceeded: the location holds max_snapshots
//   Aborted              40001     serialization_failure: lost a conflict, run it again
//   Unavailable          58030     io_error: the backup location or meta store cannot be reached
//   DeadlineExceeded     58030     io_error
//   DataLoss             XX001     data_corrupted: a corrupt manifest, snapshot object or SST
//   Unimplemented        0A000     feature_not_supported: a newer snapshot format
//   Unauthenticated      28000     invalid_authorization_specification
//   anything else        XX000     internal_error: a bug in rwmeta (Internal, Unknown)
// clang-format on
// A user's or the environment's error is never XX000: give it a code above.
#pragma once

#include <string_view>

#include "common/status.h"

namespace rwmeta::pgwire {

// The SQLSTATE of `code` in the table above. REQUIRES: code != kOk.
std::string_view SqlStateForCode(StatusCode code);

}  // namespace rwmeta::pgwire
