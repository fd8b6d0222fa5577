// Internal to the executor: compiled expressions, scopes and value helpers shared by the binder
// (executor.cc) and the built-in functions (functions.cc). Not a public API.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "frontend/sql/datum.h"
#include "frontend/sql/executor.h"

namespace rwmeta::frontend::sql::internal {

using Json = nlohmann::json;

// The row an expression is evaluated against, chained to the rows of enclosing queries (for
// correlated subqueries): depth 0 is `row`, depth 1 is `outer->row`, ...
struct RowCtx {
  const Tuple* row = nullptr;
  const RowCtx* outer = nullptr;
};

using EvalFn = std::function<Result<Datum>(const RowCtx*)>;

// A bound expression: its static type and how to compute it.
struct Expr {
  TypeId type = TypeId::kUnknown;
  EvalFn eval;
};

Expr ConstExpr(Datum d, TypeId type);

bool IsInteger(TypeId t);
bool IsNumeric(TypeId t);
// Converts a value between types (casts and implicit coercions). 22P02/22003 on bad values,
// 42846 when no cast exists.
Result<Datum> CastValue(const Datum& d, TypeId from, TypeId to);
// Wraps `e` so that it yields `to`; no-op when the types match.
Expr Coerce(Expr e, TypeId to);
// Orders two non-NULL values of type `t`.
int CompareValues(const Datum& a, const Datum& b, TypeId t);
// Text of a non-NULL value (for concat, string functions).
std::string AsText(const Datum& d, TypeId t);

// Compiles a call of built-in scalar function `name` (lower case, without pg_catalog.) on already
// bound arguments. NotFound (42883) "function name(types) does not exist" when there is none.
Result<Expr> CompileFunction(const std::string& name, std::vector<Expr> args, QueryContext& ctx);

}  // namespace rwmeta::frontend::sql::internal
