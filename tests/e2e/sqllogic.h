// A small runner for declarative SQL test files (tests/sql/*.test), executed over the Postgres wire
// protocol (libpq) against a real meta-node. Records are separated by blank lines:
//
//   # a comment
//   statement ok
//   CREATE TABLE t (a int)
//
//   statement error 42P07 already exists     <- SQLSTATE, then an optional message substring
//   CREATE TABLE t (a int)
//
//   query [rowsort]                          <- rowsort: compare rows sorted
//   SELECT name, id > 0 FROM rw_catalog.rw_tables
//   ----
//   t|t                                      <- columns joined by '|', NULL as NULL
//
//   restart                                  <- SIGTERM the node and start it again on the same
//                                               data
//   restart kill                             <- the same after SIGKILL (a crash)
//   connect user=bob password=secret db=dev  <- later records run as this user (new connection)
//
// `query` records run twice, through the simple and the extended protocol, and must agree.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace rwmeta::e2e {

struct SqlRecord {
  enum class Kind { kStatementOk, kStatementError, kQuery, kRestart, kConnect };
  Kind kind;
  int line = 0;
  std::string sql;
  std::string error_sqlstate;
  std::string error_substring;
  bool rowsort = false;
  std::vector<std::string> expected;
  std::string connect_user = "root";
  std::string connect_password;
  std::string connect_db = "dev";
  // `restart kill`: the node is killed with SIGKILL (a crash) instead of stopped with SIGTERM.
  bool kill = false;
};

// InvalidArgument naming the line for a malformed file.
Result<std::vector<SqlRecord>> ParseSqlTestFile(const std::string& text);

// Runs the records. `restart` is called for restart records and returns the (possibly new) port.
// Returns the first mismatch as FailedPrecondition naming the file line, expected and actual.
Status RunSqlRecords(const std::vector<SqlRecord>& records, int port,
                     const std::function<Result<int>(bool kill)>& restart);

}  // namespace rwmeta::e2e
