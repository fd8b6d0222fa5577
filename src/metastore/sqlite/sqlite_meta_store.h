// SqliteMetaStore: the embedded default MetaStore, one SQLite database file (libsqlite3).
//
// Storage: one STRICT table per model table, DDL from sql/schema_sql.h; migrations recorded in
// rwmeta_migrations. Booleans are stored as 0/1, bytes as BLOB, JSON as TEXT; values read back with
// the model's types exactly (a stored value of another type is DataLoss).
//
// Connections: every connection runs in WAL mode with foreign_keys=ON and a busy timeout. A small
// pool hands one connection to each live Transaction or ReadView; idle connections are kept for
// reuse. Each connection caches its prepared statements.
//
// Isolation:
// - BeginTransaction starts `BEGIN IMMEDIATE`: write transactions are serialized by SQLite's write
//   lock and never conflict at Commit. A second writer waits up to busy_timeout_ms for the first,
//   then gets Aborted (RunTransaction redoes it). Do not hold two Transactions in one thread: the
//   second waits for the first, which cannot finish.
// - BeginSnapshotRead starts a read transaction and reads once, which fixes its WAL snapshot: it
//   sees exactly the commits before that point, whatever commits later, and never blocks writers.
//
// Error mapping (every message names the file):
//   PRIMARY KEY / UNIQUE violation         AlreadyExists
//   FOREIGN KEY violation (either side)    FailedPrecondition
//   SQLITE_BUSY / SQLITE_LOCKED after the busy timeout   Aborted (redo the transaction)
//   SQLITE_CORRUPT / SQLITE_NOTADB         DataLoss
//   SQLITE_FULL                            ResourceExhausted
//   SQLITE_CANTOPEN, I/O and other errors  Internal
//
// Concurrency:
//   | operation                  | may run concurrently with                                  |
//   |----------------------------|------------------------------------------------------------|
//   | Inspect, BeginSnapshotRead | everything                                                 |
//   | BeginTransaction           | everything; waits for a live write transaction (timeout)   |
//   | Migrate                    | everything; takes the write lock per migration step        |
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "metastore/meta_store.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

struct SqliteOptions {
  // How long a writer waits for another connection's write lock before giving up (Aborted).
  int busy_timeout_ms = 5000;
  // Create the file if it does not exist (the parent directory must exist).
  bool create = true;
};

class SqliteMetaStore final : public MetaStore {
 public:
  struct Shared;  // opaque: connection pool and per-table SQL, shared with live transactions

  // Opens the database at the absolute or relative file `path`. Does not migrate. Internal if the
  // file cannot be opened or created (message names it), DataLoss if it is not a SQLite database.
  // REQUIRES: `model` outlives the store and every transaction and view it hands out.
  static Result<std::unique_ptr<SqliteMetaStore>> Open(const std::string& path,
                                                       const Model& model = Model::Get(),
                                                       SqliteOptions options = {});
  ~SqliteMetaStore() override;

  std::string_view backend() const override { return "sqlite"; }
  // "sqlite:///abs/path.db" (or the path as given when relative).
  std::string DisplayUrl() const override;

  // Version: the highest version recorded in rwmeta_migrations (0 without that table). Empty: no
  // table other than the bookkeeping table has a row (tables not in the model count too, so a
  // foreign database is never taken for an empty target).
  Result<SchemaState> Inspect() override;
  // Applies the missing migration steps, each in its own write transaction, recording each.
  // FailedPrecondition naming both versions if the file's schema is newer than the model.
  Status Migrate() override;
  // FailedPrecondition unless the schema is at exactly the model's version. Aborted if the write
  // lock stays busy beyond the busy timeout.
  Result<std::unique_ptr<Transaction>> BeginTransaction() override;
  // FailedPrecondition unless the schema is at exactly the model's version.
  Result<std::unique_ptr<ReadView>> BeginSnapshotRead() override;
  const Model& model() const override;

 private:
  explicit SqliteMetaStore(std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
};

}  // namespace rwmeta::metastore
