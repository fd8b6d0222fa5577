// The query executor: binds and runs a parsed SELECT (libpg_query's JSON parse tree) over relations
// that a Catalog resolves. It knows nothing of where rows live: system catalogs hand it in-memory
// rows, user tables (later) hand it Hummock scans through the same Relation interface.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "frontend/sql/datum.h"

namespace rwmeta::frontend::sql {

// Rows of one table-like thing.
class Relation {
 public:
  virtual ~Relation() = default;
  virtual const std::vector<ColumnDesc>& columns() const = 0;
  // Calls `visit` for every row, stopping at (and returning) its first non-OK status.
  virtual Status Scan(const std::function<Status(const Tuple&)>& visit) = 0;
};

// A relation held in memory (system catalogs, VALUES, materialized results).
class MemoryRelation : public Relation {
 public:
  MemoryRelation(std::vector<ColumnDesc> columns, std::vector<Tuple> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}
  const std::vector<ColumnDesc>& columns() const override { return columns_; }
  Status Scan(const std::function<Status(const Tuple&)>& visit) override;

 private:
  std::vector<ColumnDesc> columns_;
  std::vector<Tuple> rows_;
};

// What a name in FROM resolves to: rows, or a view whose stored SELECT is expanded in place.
struct ResolvedRelation {
  std::shared_ptr<Relation> relation;          // set for tables and system catalogs
  std::optional<std::string> view_sql;         // set for views: the SELECT to expand
  std::vector<std::string> view_column_names;  // optional aliases for the view's columns
};

// Everything the executor needs from the session and the catalog. Implemented by the front end.
class QueryContext {
 public:
  virtual ~QueryContext() = default;
  // `name` is as written: 1 part (search path applies), 2 parts (schema.rel) or 3 (db.schema.rel).
  // NotFound with SQLSTATE 42P01 ("relation \"x\" does not exist") when nothing matches.
  virtual Result<ResolvedRelation> ResolveRelation(const std::vector<std::string>& name) = 0;
  // Session facts for built-in functions.
  virtual std::string CurrentUser() const = 0;
  virtual std::string CurrentDatabase() const = 0;
  virtual std::vector<std::string> SearchPath() const = 0;
  // pg_catalog.pg_get_userbyid(oid): the user's name, or "unknown (OID=n)" as PostgreSQL says.
  virtual std::string UserNameById(int64_t user_id) const = 0;
  // pg_catalog.pg_table_is_visible(oid): whether the relation is reachable through the search path.
  virtual bool TableIsVisible(int64_t oid) const = 0;
  // The value of $n (1-based) as text, or nullopt for NULL; InvalidArgument if there is no such
  // parameter. Parameters are typed by context, like PostgreSQL's unknown literals.
  virtual Result<std::optional<std::string>> Parameter(int n) const = 0;
  // Number of parameters bound (0 outside the extended protocol).
  virtual int ParameterCount() const = 0;
};

struct QueryResult {
  std::vector<ColumnDesc> columns;
  std::vector<Tuple> rows;
};

// Runs one SelectStmt (the object under "SelectStmt" in libpg_query's JSON). Errors carry
// SQLSTATEs: 42P01 unknown relation, 42703 unknown column, 42702 ambiguous column, 42883 unknown
// function, 42804/42846 type mismatch, 22012 division by zero, 0A000 unsupported constructs.
Result<QueryResult> ExecuteSelect(const nlohmann::json& select_stmt, QueryContext& ctx);

// The output columns ExecuteSelect would produce, without reading rows (for Describe).
Result<std::vector<ColumnDesc>> DescribeSelect(const nlohmann::json& select_stmt,
                                               QueryContext& ctx);

// Evaluates a constant expression node (DEFAULT values, ALTER SYSTEM values, SET values).
Result<Datum> EvaluateConstant(const nlohmann::json& expr, QueryContext& ctx, TypeId* type);

}  // namespace rwmeta::frontend::sql
