// PostgresMetaStore: the MetaStore on a PostgreSQL database (libpq), for clusters whose meta store
// lives on a database server.
//
// URL: postgres://USER:PASSWORD@HOST[:PORT]/DATABASE[?PARAM=VALUE&...] (postgresql:// too). The
// parameters are libpq connection keywords passed through as given (sslmode, sslrootcert,
// application_name, options, ...); connect_timeout defaults to PostgresOptions. The store works in
// the connection's current schema (normally "public").
//
// Storage: one table per model table, DDL from sql/schema_sql.h (text keys COLLATE "C" so that
// they sort bytewise); migrations recorded in rwmeta_migrations. Values travel in libpq's binary
// format both ways, so int64 extremes, every double bit pattern, bytes with NULs and UTF-8 text
// round-trip exactly. Text must be valid UTF-8 without NUL characters: PostgreSQL refuses
// anything else (InvalidArgument).
//
// Isolation:
// - BeginTransaction: one SERIALIZABLE transaction. Two transactions that read and write the same
//   rows cannot both commit: the loser's statement or Commit fails with a serialization failure
//   (SQLSTATE 40001) or a deadlock (40P01), surfaced as Aborted; RunTransaction redoes it. Each
//   write runs under a savepoint, so a refused write (duplicate key, foreign key) changes nothing
//   and the transaction goes on. Any other failed statement dooms the transaction: every later
//   call and Commit return Aborted.
// - BeginSnapshotRead: one REPEATABLE READ READ ONLY transaction; its snapshot is taken by its
//   first statement, so it sees exactly the commits before BeginSnapshotRead returned and never
//   blocks writers.
// - Scan streams through a server-side cursor, FETCHing a page at a time; reads inside the visitor
//   run on the same connection.
// - BeginBulkLoad: one SERIALIZABLE transaction; each run of one table's rows is one COPY ... FROM
//   STDIN in binary format (no savepoint, no round trip per row). The server checks keys as rows
//   arrive; the schema's foreign keys are dropped inside the transaction and added back before
//   its commit (as pg_restore does: one check over all rows instead of a query per row), so a row
//   without its parent fails Finish. A refusal fails the load; a rollback or a crash leaves the
//   constraints as they were. The load holds ACCESS EXCLUSIVE locks on the tables from
//   BeginBulkLoad to its end: other sessions' reads of them wait (lock_timeout) meanwhile.
//
// Migrate serializes concurrent migrators with a transaction-level advisory lock and runs each
// step, DDL included, in one transaction (PostgreSQL's DDL is transactional). On a database with no
// rwmeta schema it refuses (FailedPrecondition) if the schema already holds tables, which would be
// another application's.
//
// Error mapping (messages name DisplayUrl, never the password):
//   23505 unique violation                     AlreadyExists
//   23503 foreign-key violation                FailedPrecondition
//   other class 23, class 22 (bad data)        InvalidArgument
//   40001, 40P01, 55P03, 25P02                 Aborted (redo the transaction)
//   class 08, 57P0x, 53300, connection lost    Unavailable
//   class 28, pg_hba.conf refusal (bad password, no such role)   Unauthenticated
//   42501 insufficient privilege               PermissionDenied
//   3D000 no such database                     NotFound
//   anything else                              Internal
//
// Connections: a pool hands one connection to each live Transaction or ReadView and keeps up to
// PostgresOptions::max_idle_connections idle ones; a connection found broken is dropped. The store
// is thread-safe.
//
// Concurrency:
//   | operation                   | may run concurrently with                                   |
//   |-----------------------------|-------------------------------------------------------------|
//   | Inspect, BeginSnapshotRead  | everything                                                  |
//   | BeginTransaction            | everything; conflicting transactions abort at write/commit  |
//   | Migrate                     | everything; migrators take turns on an advisory lock        |
//   | BeginBulkLoad ... Finish    | nothing reading or writing the model's tables (they wait)   |
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "metastore/sql/sql_meta_store.h"

namespace rwmeta::metastore {

struct PostgresOptions {
  // How long a connection attempt may take (libpq connect_timeout, whole seconds, at least 2),
  // unless the URL sets connect_timeout.
  int connect_timeout_ms = 10000;
  // How long a statement waits for a row lock before its transaction is Aborted (lock_timeout).
  int lock_timeout_ms = 10000;
  size_t max_idle_connections = 8;
};

// The pool, transactions, Inspect and Migrate are sql::SqlMetaStore's (sql/sql_meta_store.h);
// this backend supplies libpq, the binary value format, the error table above, savepoints and
// cursors. Inspect's emptiness counts every table of the current schema.
class PostgresMetaStore final : public sql::SqlMetaStore {
 public:
  // Connects once to check the URL, the server and the credentials. Does not migrate.
  // InvalidArgument for a malformed URL (no host or no database, unknown libpq keyword);
  // Unavailable if the server cannot be reached; Unauthenticated for a wrong user or password;
  // NotFound if the database does not exist.
  // REQUIRES: `model` outlives the store and every transaction and view it hands out.
  static Result<std::unique_ptr<PostgresMetaStore>> Open(std::string_view url,
                                                         const Model& model = Model::Get(),
                                                         PostgresOptions options = {});

 private:
  using SqlMetaStore::SqlMetaStore;
};

}  // namespace rwmeta::metastore
