// SQL text derived from the model (model.h) for each SQL dialect: DDL (CREATE TABLE with types,
// NOT NULL, PRIMARY KEY, UNIQUE, FOREIGN KEY ... ON DELETE CASCADE | NO ACTION), versioned
// migration steps, the migration bookkeeping table, and the per-table DML the SQL backends prepare.
//
// Identifiers are always quoted: model tables are called "user", "table", "index", "schema".
//
// Type mapping (values read back with exactly the model's types):
//   model    sqlite (STRICT tables)   postgres                 mysql
//   int64    INTEGER                  BIGINT                   BIGINT
//   double   REAL                     DOUBLE PRECISION         DOUBLE
//   bool     INTEGER (0/1)            BOOLEAN                  BOOLEAN
//   text     TEXT                     TEXT COLLATE "C"         LONGTEXT / VARCHAR(255) in keys
//   bytes    BLOB                     BYTEA                    LONGBLOB / VARBINARY(255) in keys
//   json     TEXT                     TEXT COLLATE "C"         LONGTEXT
// Text compares bytewise everywhere (SQLite BINARY, Postgres "C", MySQL utf8mb4_bin), so a Scan
// returns rows in the same order on every backend.
//
// Non-cascading foreign keys are NO ACTION rather than RESTRICT: the check runs at the end of the
// statement, so a delete that cascades to the referencing row as well is not refused (the memory
// backend behaves the same way).
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metastore/model.h"

namespace rwmeta::metastore::sql {

enum class SqlDialect { kSqlite, kPostgres, kMysql };

std::string_view DialectName(SqlDialect dialect);

// The bookkeeping table: one row per applied migration step. Not part of the model, never counted
// for emptiness, never in snapshots. Reaches disk: never renamed.
inline constexpr std::string_view kMigrationsTable = "rwmeta_migrations";

// `"name"` (sqlite, postgres) or `` `name` `` (mysql), with embedded quotes doubled.
std::string QuoteIdentifier(SqlDialect dialect, std::string_view name);

// The column type for `column` of `table` (keys get bounded types on MySQL).
std::string ColumnSqlType(SqlDialect dialect, const TableSchema& table, const ColumnSchema& column);

// CREATE TABLE for `table` with the columns that exist at schema `version`, followed by CREATE
// INDEX statements for foreign-key columns that no key already indexes.
std::vector<std::string> CreateTableSql(SqlDialect dialect, const TableSchema& table, int version);

// CREATE TABLE IF NOT EXISTS for the bookkeeping table (version, applied_at_ms, description).
std::string CreateMigrationsTableSql(SqlDialect dialect);

// INSERT of one bookkeeping row; parameters: version, applied_at_ms, description.
std::string RecordMigrationSql(SqlDialect dialect);

// SELECT MAX(version) FROM the bookkeeping table (NULL when empty).
std::string CurrentVersionSql(SqlDialect dialect);

// One step of the schema's history: everything needed to go from version - 1 to version.
struct MigrationStep {
  int version = 0;
  // "create 23 tables", "add table foo; add column bar.baz"
  std::string description;
  std::vector<std::string> statements;
};

// The step to `version`: CREATE TABLE for the tables added in `version`, ALTER TABLE ... ADD COLUMN
// for columns added in `version` to older tables. InvalidArgument unless 1 <= version <=
// model.version().
Result<MigrationStep> MigrationStepSql(SqlDialect dialect, const Model& model, int version);

// Per-table DML with the dialect's placeholders (? or $n). Column lists are in model order; key
// parameters in primary-key order.
struct TableDml {
  std::string select_by_key;  // params: key; returns all columns
  std::string scan;           // returns all columns ordered by primary key
  std::string count;          // returns COUNT(*)
  std::string exists_any;     // returns 1 row if the table has any row
  std::string insert;         // params: all columns
  std::string update;         // params: non-key columns, then key; empty if every column is a key
  std::string delete_by_key;  // params: key
};
TableDml TableDmlSql(SqlDialect dialect, const TableSchema& table);

// INSERT of `rows` rows (at least 1) in one statement, the bulk load's batches: params are every
// column of the first row in model order, then of the second, and so on.
std::string MultiRowInsertSql(SqlDialect dialect, const TableSchema& table, int rows);

// PostgreSQL's COPY of every column of `table` (model order) from the client in binary format.
std::string CopyInSql(const TableSchema& table);

}  // namespace rwmeta::metastore::sql
