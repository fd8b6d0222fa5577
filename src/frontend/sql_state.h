// The SQLSTATE of a statement's error, decided at the SQL edge: when a statement ends
// (FrontendSession's Execute and Prepare), an error that carries no SQLSTATE gets the state of its
// code from pgwire's table (pgwire/sql_state.h). A user's or the environment's error is never
// XX000.
#pragma once

#include "common/status.h"

namespace rwmeta::frontend {

// `s` with the SQLSTATE of its code attached, unless it is OK or carries one already.
Status WithSqlStateOfCode(Status s);

}  // namespace rwmeta::frontend
