#include "frontend/sql_state.h"

#include <string>
#include <utility>

#include "pgwire/sql_state.h"

namespace rwmeta::frontend {

Status WithSqlStateOfCode(Status s) {
  if (s.ok() || !s.sqlstate().empty()) return s;
  return s.WithSqlState(std::string(pgwire::SqlStateForCode(s.code())));
}

}  // namespace rwmeta::frontend
