// SQL parsing: the real PostgreSQL grammar through libpg_query, with a thin layer in front for the
// statements RisingWave adds (BACKUP, FLUSH, DELETE META SNAPSHOT[S], CREATE SECRET ... AS ...,
// CREATE SOURCE/SINK ... WITH (...) ... ).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rwmeta::frontend::sql {

enum class StatementKind {
  kPostgres,             // `node` holds libpg_query's statement, e.g. {"SelectStmt": {...}}
  kBackup,               // BACKUP
  kFlush,                // FLUSH
  kDeleteMetaSnapshots,  // DELETE META SNAPSHOT[S] 1, 2 → `snapshot_ids`
  kCreateSecret,         // CREATE SECRET [IF NOT EXISTS] name WITH (k = v, ...) AS 'value'
  kShowParameters,       // SHOW PARAMETERS
  kDropSecret,      // DROP SECRET [IF EXISTS] [schema.]name → {"name", "schema", "if_exists"}
  kShowTablesFrom,  // SHOW TABLES FROM schema → {"schema"} (plain SHOW TABLES is kPostgres)
};

struct ParsedStatement {
  StatementKind kind = StatementKind::kPostgres;
  nlohmann::json node;  // kPostgres: the statement node; kCreateSecret: {"name", "schema",
                        //   "if_not_exists", "with": {k: v}, "value"}
  std::vector<uint64_t> snapshot_ids;
  std::string text;  // this statement's own SQL text, trimmed
};

// Splits `sql` into statements and parses each. An empty or all-comment string gives no statements.
// A syntax error is InvalidArgument with SQLSTATE 42601 and a message like PostgreSQL's:
// `syntax error at or near "FORM"` (with the position where libpg_query gives one).
Result<std::vector<ParsedStatement>> ParseSql(std::string_view sql);

}  // namespace rwmeta::frontend::sql
