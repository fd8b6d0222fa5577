// The executor's entry points (executor.h): compile a SelectStmt (compiler.h), then run it.
// Everything is materialized; relations are small (catalogs) or scanned once.
#include "frontend/sql/executor.h"

#include "frontend/sql/compiler.h"

namespace rwmeta::frontend::sql {

Status MemoryRelation::Scan(const std::function<Status(const Tuple&)>& visit) {
  for (const Tuple& row : rows_) {
    RWMETA_RETURN_IF_ERROR(visit(row));
  }
  return Status::Ok();
}

namespace {

using internal::Compiler;
using internal::Expr;
using internal::Plan;
using internal::RowCtx;
using internal::Scope;

// The entry points run the compiler inside one try: nlohmann::json and the standard library may
// throw on malformed trees, and no exception may leave the executor.
template <typename F>
auto Guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return InternalError(std::string("executor: ") + e.what());
  }
}

}  // namespace

Result<QueryResult> ExecuteSelect(const nlohmann::json& select_stmt, QueryContext& ctx) {
  return Guarded([&]() -> Result<QueryResult> {
    Compiler compiler(ctx);
    RWMETA_ASSIGN_OR_RETURN(Plan plan, compiler.CompileSelect(select_stmt, nullptr));
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, plan.run(nullptr));
    return QueryResult{std::move(plan.columns), std::move(rows)};
  });
}

Result<std::vector<ColumnDesc>> DescribeSelect(const nlohmann::json& select_stmt,
                                               QueryContext& ctx) {
  return Guarded([&]() -> Result<std::vector<ColumnDesc>> {
    Compiler compiler(ctx);
    RWMETA_ASSIGN_OR_RETURN(Plan plan, compiler.CompileSelect(select_stmt, nullptr));
    return plan.columns;
  });
}

Result<Datum> EvaluateConstant(const nlohmann::json& expr, QueryContext& ctx, TypeId* type) {
  return Guarded([&]() -> Result<Datum> {
    Compiler compiler(ctx);
    Scope empty;
    RWMETA_ASSIGN_OR_RETURN(Expr e, compiler.CompileExpr(expr, &empty, nullptr));
    RowCtx row;
    RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&row));
    if (type != nullptr) *type = e.type;
    return d;
  });
}

}  // namespace rwmeta::frontend::sql
