// SqlMetaStore: the MetaStore skeleton the server SQL backends share (postgres/, mysql/): the
// connection pool, the schema-version checks, Inspect, Migrate, and transactions (Get, Scan,
// Count, Insert, Update, Upsert, Delete, Commit, and the rule that a failed statement can end the
// server's transaction) written once. Each backend supplies only a small seam:
//   - SqlConnection: the client-library calls on one connection, value encoding and decoding,
//     the mapping of server errors to Status codes, how a refused write is undone alone, how a
//     scan pages through a table, how a commit reports a rollback, how migrators take turns;
//   - SqlBackendSpec: the dialect (quoting, placeholders and DDL come from schema_sql.h), the
//     statements that open transactions, the catalog queries, and how to connect.
// SQLite (sqlite/) keeps its own store: one embedded writer, no pool, no network errors.
//
// Connections: a pool hands one connection to each live Transaction or ReadView and keeps up to
// SqlBackendSpec::max_idle_connections idle ones. A pooled connection the server closed meanwhile
// fails its first statement as Unavailable: it is dropped and the next one tried, down to a new
// connection, whose failure is returned. A broken connection, or one still inside a transaction,
// is never pooled again.
//
// Transactions: after a statement that ended the server's transaction (SqlConnection::
// EndsTransaction, or a write that reports it), every later call and Commit return Aborted
// (Unavailable if the connection was lost). Upsert is Get, then Update or Insert, never delete +
// insert (which would fire ON DELETE CASCADE); both dialects run writers SERIALIZABLE, so the row
// cannot appear in between without one of the two transactions aborting.
//
// Bulk load (BeginBulkLoad): one SERIALIZABLE transaction, as MetaStore's default (Migrate, the
// emptiness check inside it, Commit at Finish), but rows travel in bulk rather than one INSERT
// under a savepoint each: per table, through the connection's SqlTableLoad where it has one
// (PostgreSQL: COPY ... FROM STDIN in binary format), else as multi-row INSERTs of up to
// SqlBackendSpec::bulk_insert_rows rows and bulk_insert_max_bytes bytes, prepared once per batch
// size (MySQL). The server checks keys and foreign keys; a refused row ends the load (meta_store.h
// says why), reported by the Add that sent its batch or by Finish. Where the connection suspends
// checks for the load (SqlConnection::SuspendChecksForLoad; PostgreSQL: its foreign keys, as
// pg_restore adds them after the data), Finish puts them back before the commit, and a row they
// refuse fails Finish.
//
// Thread-safe as MetaStore requires; a SqlConnection is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "metastore/sql/schema_sql.h"

namespace rwmeta::metastore::sql {

// Rows per page of a Scan (one FETCH, one keyset page): bounds the memory a Scan holds.
inline constexpr int kScanPageRows = 256;

// One statement parameter: a value and the model type of the column it is compared with or goes
// into.
struct SqlParam {
  Value value;
  ColumnType type;
};

// How to decode the rows a statement returns: the model type and nullability of each leading
// result column (no columns: only the number of rows matters), and the table that DataLoss
// messages name.
struct RowShape {
  std::string_view table;
  std::span<const ColumnSchema> columns;
};

// All columns of `table`, in model order.
RowShape ShapeOf(const TableSchema& table);

// Pages of one table's rows in primary-key order (a server-side cursor, keyset pages, ...).
class SqlScan {
 public:
  virtual ~SqlScan() = default;
  // The next page: at most kScanPageRows rows; fewer means it was the last. DataLoss for a row
  // that does not decode; errors as SqlConnection::Run.
  virtual Result<std::vector<Row>> NextPage() = 0;
  // Releases what the scan holds on the server (after the last page, or early).
  virtual Status Close() = 0;
};

// One table's rows streamed into the open transaction of a connection (PostgreSQL's COPY), begun
// by SqlConnection::OpenTableLoad. Rows may reach the server after Add returns, so a refusal of any
// row (errors as SqlConnection::Run) may come from a later Add or from Close; after any error only
// the destructor may be called. Destroying a load that was not closed ends it on the server, so
// that the connection can roll back. Used by one thread at a time, with nothing else running on
// its connection until Close.
class SqlTableLoad {
 public:
  virtual ~SqlTableLoad() = default;
  // REQUIRES: `row` matches the table (ValidateRow).
  virtual Status Add(const Row& row) = 0;
  // Sends what is buffered, ends the stream and returns the server's verdict on every row.
  virtual Status Close() = 0;
};

// One connection of a client library: the seam a SQL backend implements. Error codes as
// meta_store.h (AlreadyExists, FailedPrecondition for foreign keys, InvalidArgument for bad
// values, Aborted, Unavailable, Unauthenticated, PermissionDenied, NotFound), messages naming
// the backend, the store's DisplayUrl and `context`. Used by one thread at a time.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // True once the connection is unusable (the pool drops it).
  virtual bool Broken() const = 0;
  // True while the server has a transaction open on this connection.
  virtual bool InTransaction() const = 0;

  // Runs `sql` (no parameters) and discards any result.
  virtual Status Exec(const std::string& sql, std::string_view context) = 0;
  // Runs `sql` (no parameters) once, unprepared, decoding its rows as `shape`.
  virtual Result<std::vector<Row>> Query(const std::string& sql, const RowShape& shape,
                                         std::string_view context) = 0;
  // Runs the one statement `sql` with `params`, prepared once per connection and reused, decoding
  // its rows as `shape` (DataLoss naming the table and column when a value does not fit).
  virtual Result<std::vector<Row>> Run(const std::string& sql, const std::vector<SqlParam>& params,
                                       const RowShape& shape, std::string_view context) = 0;
  // Whether `failed`, returned by Run or a scan, ended the server's transaction.
  virtual bool EndsTransaction(const Status& failed) const = 0;

  // Runs one INSERT, UPDATE or DELETE inside the open transaction so that a refused write
  // (duplicate key, foreign key, bad value) changes nothing and the transaction goes on. Returns
  // the rows it matched. A failure after which the server's transaction is over is also stored
  // in `*ended` (which stays OK otherwise).
  virtual Result<int64_t> Write(const std::string& sql, const std::vector<SqlParam>& params,
                                std::string_view context, Status* ended) = 0;

  // Starts reading `table` in primary-key order (dml: its statements from TableDmlSql).
  virtual Result<std::unique_ptr<SqlScan>> OpenScan(const TableSchema& table, const TableDml& dml,
                                                    std::string_view context) = 0;

  // Starts streaming rows of `table` into the open transaction (SqlTableLoad), or returns null
  // when the backend has no such path: the bulk load then sends multi-row INSERTs through Run.
  virtual Result<std::unique_ptr<SqlTableLoad>> OpenTableLoad(const TableSchema& /*table*/,
                                                              std::string_view /*context*/) {
    return std::unique_ptr<SqlTableLoad>();
  }

  // Called by a bulk load inside its transaction, after its emptiness check: drops the checks the
  // server makes faster once over every loaded row than row by row as rows arrive, and returns the
  // statements that put them back exactly as they were, which the load runs before its commit (a
  // refused row then fails that statement, errors as Run). Empty (the default): nothing dropped.
  // Nothing of it outlives the transaction: a rollback restores the checks with the rows.
  virtual Result<std::vector<std::string>> SuspendChecksForLoad(std::string_view /*context*/) {
    return std::vector<std::string>();
  }

  // Commits the open transaction. Aborted if the server rolled it back instead.
  virtual Status Commit(std::string_view context) = 0;

  // Makes concurrent migrators of one database take turns. With transactional DDL it is taken
  // inside each step's transaction and ends with it; otherwise it is held from the call until
  // UnlockMigrations (or until the connection closes). Aborted if it could not be had in time.
  virtual Status LockMigrations(std::string_view context) = 0;
  // Best effort; errors are ignored (the lock also ends with the connection).
  virtual void UnlockMigrations() = 0;
};

// What a SQL backend tells the skeleton besides its connections.
struct SqlBackendSpec {
  SqlDialect dialect = SqlDialect::kPostgres;
  // The store's URL without its password (RedactUrl).
  std::string display;
  size_t max_idle_connections = 8;
  // Opens a new connection (errors as SqlConnection).
  std::function<Result<std::unique_ptr<SqlConnection>>()> connect;

  // Statements run in order to open a SERIALIZABLE read-write transaction, and a read-only one
  // whose snapshot is taken by them or by the first read after them. The first statement of each
  // also tells a pooled connection the server closed meanwhile. Neither may be empty.
  std::vector<std::string> begin_transaction;
  std::vector<std::string> begin_snapshot;
  // A statement that does nothing (the first of Migrate's connection).
  std::string probe;
  // Returns one row: the number of tables called rwmeta_migrations in the store's schema.
  std::string migrations_table_exists;
  // Returns the names of the base tables in the store's schema, sorted.
  std::string list_tables;
  // Whether DDL is transactional: then each migration step, DDL included, runs in one
  // transaction (BEGIN ... COMMIT); otherwise DDL commits implicitly and a step is recorded after
  // its last statement.
  bool transactional_ddl = false;
  // A bulk load's multi-row INSERT (where the connection has no OpenTableLoad): at most this many
  // rows, and fewer parameters than the server's limit (MySQL's 65,535 placeholders) ...
  int bulk_insert_rows = 500;
  int bulk_insert_max_params = 65535;
  // ... and no more value bytes than this, which must stay below the server's packet limit
  // (MySQL's max_allowed_packet); a row larger than it travels alone.
  int64_t bulk_insert_max_bytes = 1 << 20;
};

class SqlMetaStore : public MetaStore {
 public:
  struct Shared;  // opaque: the pool and the per-table SQL, shared with live transactions

  ~SqlMetaStore() override;

  // "postgres", "mysql".
  std::string_view backend() const override;
  std::string DisplayUrl() const override;
  const Model& model() const override;

  // Version: the highest version recorded in rwmeta_migrations (0 without that table). Empty: no
  // table of the store's schema other than the bookkeeping table has a row (tables not in the
  // model count too, so another application's database is never taken for an empty target).
  // Version and emptiness come from one snapshot.
  Result<SchemaState> Inspect() override;
  // Applies the missing migration steps, recording each, while holding the migration lock.
  // FailedPrecondition naming both versions if the database's schema is newer than the model, or
  // if a database without rwmeta schema already holds tables (another application's).
  Status Migrate() override;
  // FailedPrecondition unless the schema is at exactly the model's version.
  Result<std::unique_ptr<Transaction>> BeginTransaction() override;
  // FailedPrecondition unless the schema is at exactly the model's version. The view is
  // read-only: its writes are FailedPrecondition.
  Result<std::unique_ptr<ReadView>> BeginSnapshotRead() override;
  // As MetaStore::BeginBulkLoad, loading in bulk (see "Bulk load" above).
  Result<std::unique_ptr<BulkLoader>> BeginBulkLoad() override;

 protected:
  // REQUIRES: `model` outlives the store and every transaction and view it hands out.
  SqlMetaStore(SqlBackendSpec spec, const Model& model);

  // Connects once (and pools the connection), so that a bad address or bad credentials fail in
  // Open and not later. Errors as SqlBackendSpec::connect.
  Status CheckConnection();

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace rwmeta::metastore::sql
