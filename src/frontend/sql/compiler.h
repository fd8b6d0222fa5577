// Internal to the executor: the compiler that binds libpg_query's SelectStmt JSON into closures
// over in-memory rows, with its scopes, plans and aggregation state. Its methods are defined by
// part: expressions (compile_expr.cc), aggregates (compile_aggregate.cc), FROM and joins
// (compile_from.cc), SELECT, VALUES and set operations (compile_select.cc), and the type rules
// (type_rules.cc). Not a public API: callers use executor.h.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "frontend/sql/datum.h"
#include "frontend/sql/executor.h"
#include "frontend/sql/expr.h"
#include "frontend/sql/parse_tree.h"

namespace rwmeta::frontend::sql::internal {

// 0A000 "<what> is not supported".
Status Unsupported(const std::string& what);

// ---------------------------------------------------------------- scopes and plans

struct ScopeCol {
  std::string table;  // alias or relation name; empty for USING-merged and unnamed columns
  std::string name;
  TypeId type = TypeId::kVarchar;
  bool qualified_only = false;  // a join's USING input column: only `t.col` reaches it
  bool in_star = true;
};

struct Scope {
  std::vector<ScopeCol> cols;
  const Scope* outer = nullptr;
};

using RowsFn = std::function<Result<std::vector<Tuple>>(const RowCtx*)>;

struct Plan {
  std::vector<ColumnDesc> columns;
  RowsFn run;
};

struct Source {
  std::vector<ScopeCol> cols;
  RowsFn run;
};

struct SortKey {
  size_t index;  // into the row of outputs followed by hidden sort values
  bool desc = false;
  bool nulls_first = false;
};

// Aggregation in progress: the bound GROUP BY keys and the aggregate calls found so far. The row
// after aggregation is [key values..., aggregate results...].
struct AggCall {
  std::string name;
  bool star = false;
  bool distinct = false;
  std::vector<Expr> args;
  std::vector<Expr> order;  // ORDER BY inside the call (string_agg(x, ',' ORDER BY x))
  std::vector<SortKey> order_keys;
  std::optional<Expr> filter;  // FILTER (WHERE ...): rows where it is not true are skipped
  TypeId type = TypeId::kUnknown;
};

struct AggMode {
  std::vector<Json> key_nodes;   // without locations
  std::vector<int> key_columns;  // input column of a key that is a plain column reference, or -1
  std::vector<TypeId> key_types;
  std::vector<AggCall> calls;
  const Scope* input = nullptr;
};

// ---------------------------------------------------------------- the compiler

class Compiler {
 public:
  explicit Compiler(QueryContext& ctx) : ctx_(ctx) {}

  Result<Plan> CompileSelect(const Json& stmt, const Scope* outer);
  Result<Expr> CompileExpr(const Json& node, const Scope* scope, AggMode* agg);

 private:
  Result<Plan> CompileSetOp(const Json& stmt, const Scope* outer);
  Result<Plan> CompileValues(const Json& stmt, const Scope* outer);
  Result<Source> CompileFrom(const Json& from_list, const Scope* outer);
  Result<Source> CompileFromItem(const Json& item, const Scope* outer);
  Result<Source> CompileJoin(const Json& join, const Scope* outer);
  Result<Source> CompileRangeFunction(const Json& rf, const Scope* outer);
  Result<Expr> CompileColumnRef(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileAExpr(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileFuncCall(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileAggregate(const Json& body, const std::string& name, AggMode* agg);
  Result<Expr> CompileSubLink(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileTypeCast(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileCase(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileConst(const Json& body);
  Result<Expr> MakeBinary(const std::string& op, Expr l, Expr r);
  Result<Expr> MakeBool(Expr e, const char* where);
  Result<std::vector<Expr>> CompileList(const Json& list, const Scope* scope, AggMode* agg);
  // The common type of several expressions (CASE, COALESCE, VALUES, UNION); 42804 on conflict.
  Result<TypeId> CommonType(const std::vector<TypeId>& types, const char* context);
  // Applies ORDER BY (already bound to row indexes), DISTINCT, OFFSET and LIMIT.
  // `distinct_on` (row indexes) keeps the first row of each DISTINCT ON group after sorting.
  Result<std::vector<Tuple>> Finish(std::vector<Tuple> rows, size_t n_out, bool distinct,
                                    const std::vector<TypeId>& types,
                                    const std::vector<SortKey>& keys, const Expr* offset,
                                    const Expr* limit, const RowCtx* outer,
                                    const std::vector<size_t>& distinct_on = {});
  Result<std::pair<Expr*, Expr*>> CompileLimit(const Json& stmt, Expr* offset, Expr* limit);
  // `rows` sorted by `keys`, then cut by the OFFSET and LIMIT of `stmt`: the end of a VALUES list
  // or a set operation (no DISTINCT; all `n` columns are output).
  Result<RowsFn> SortAndLimit(const Json& stmt, RowsFn rows, std::vector<SortKey> keys,
                              std::vector<TypeId> types, size_t n);

  QueryContext& ctx_;
  int view_depth_ = 0;
  // WITH queries in scope, innermost last; a name in FROM looks here before the catalog.
  std::vector<std::pair<std::string, std::shared_ptr<Plan>>> ctes_;
};

// ---------------------------------------------------------------- shared by the parts

// type_rules.cc
Status NoOperator(const std::string& op, TypeId l, TypeId r);
// The type both sides of a comparison are brought to.
Result<TypeId> ComparisonType(const std::string& op, TypeId l, TypeId r);
TypeId ArithmeticType(TypeId l, TypeId r);
Result<Datum> Arithmetic(char op, const Datum& a, const Datum& b, TypeId t);

// compile_expr.cc
// The index in `scope` (not its outer scopes) a column reference names, or -1.
int ResolveLocalColumn(const Json& cref, const Scope& scope);

// compile_aggregate.cc
bool IsAggregateName(const std::string& n);
// Whether `node` contains an aggregate call outside any subquery.
bool HasAggregate(const Json& node);
// Computes one aggregate from the argument (and ORDER BY) values of its group's rows.
Result<Datum> FinishAggregate(const AggCall& call, std::vector<Tuple> inputs);

// compile_select.cc
// A byte string equal for rows that are equal as SQL values (DISTINCT, GROUP BY, hash joins).
std::string EncodeKey(const Tuple& t, const std::vector<TypeId>& types);
void SortRows(std::vector<Tuple>* rows, const std::vector<SortKey>& keys,
              const std::vector<TypeId>& types);
void ParseSortDirection(const Json& sort_by, SortKey* key);

}  // namespace rwmeta::frontend::sql::internal
