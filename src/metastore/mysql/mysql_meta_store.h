// MysqlMetaStore: the MetaStore on a MySQL or MariaDB database (MariaDB Connector/C), for clusters
// whose meta store lives on a database server.
//
// URL: mysql://USER:PASSWORD@HOST[:PORT]/DATABASE[?connect_timeout=SECONDS]. Always TCP (also for
// "localhost"). The database must exist; the store works only inside it.
//
// Storage: one InnoDB table per model table, utf8mb4_bin, DDL from sql/schema_sql.h; migrations
// recorded in rwmeta_migrations. Values travel through prepared statements in the binary protocol,
// so int64 extremes, every double, bytes with NULs and UTF-8 text round-trip exactly. Key columns
// of type text or bytes hold at most 255 characters or bytes (longer: InvalidArgument); utf8mb4_bin
// ignores trailing spaces when comparing, so two text keys differing only in trailing spaces
// collide (AlreadyExists).
//
// Isolation:
// - BeginTransaction: one SERIALIZABLE InnoDB transaction, where every read takes a shared lock.
//   Two transactions that read and then write the same rows deadlock; InnoDB rolls one back
//   (error 1213), surfaced as Aborted, and RunTransaction redoes it. A lock wait longer than
//   MysqlOptions::lock_wait_timeout_s is Aborted too. After an Aborted (or Unavailable) statement
//   the transaction is doomed: every later call and Commit return Aborted. A refused write
//   (duplicate key, foreign key) is undone alone (InnoDB rolls back the statement) and the
//   transaction goes on.
// - BeginSnapshotRead: START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY at REPEATABLE READ:
//   plain reads of one snapshot taken when BeginSnapshotRead returns, no locks, never blocking
//   writers.
// - Scan pages through the table by primary key (LIMIT per page), so memory stays bounded and reads
//   inside the visitor can use the connection between pages.
// - BeginBulkLoad: one SERIALIZABLE transaction of multi-row INSERTs (sql_meta_store.h's batches:
//   500 rows or 1 MiB of values, below the smallest default max_allowed_packet of the servers we
//   support, 4 MiB in MySQL 5.7). InnoDB checks keys and foreign keys row by row; a refused row
//   fails its statement and ends the load.
//
// Migrate takes a named lock (GET_LOCK) so that migrators take turns. MySQL commits DDL
// implicitly, so a step is not atomic: a Migrate killed in the middle of a step leaves tables
// without a recorded version, and the next Migrate refuses (FailedPrecondition); drop the tables
// and run it again. On a database with no rwmeta schema Migrate refuses if tables already exist.
//
// Error mapping (messages name DisplayUrl, never the password):
//   1062/1586 duplicate key                       AlreadyExists
//   1451/1452 foreign key, 1050 table exists      FailedPrecondition
//   1406/1048/1264/1366 bad value                 InvalidArgument
//   1213 deadlock, 1205 lock wait timeout, 1020   Aborted (redo the transaction)
//   2002/2003/2005/2006/2013 client errors, 1040, 1053   Unavailable
//   1045 access denied                            Unauthenticated
//   1044/1142/1143/1227 not allowed               PermissionDenied
//   1049 unknown database                         NotFound
//   anything else                                 Internal
//
// Connections: a pool hands one connection to each live Transaction or ReadView and keeps up to
// MysqlOptions::max_idle_connections idle ones; a broken connection is dropped. Thread-safe.
//
// Concurrency:
//   | operation                   | may run concurrently with                                   |
//   |-----------------------------|-------------------------------------------------------------|
//   | Inspect, BeginSnapshotRead  | everything                                                  |
//   | BeginTransaction            | everything; conflicting transactions deadlock, one aborts   |
//   | Migrate                     | everything; migrators take turns on a named lock            |
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "metastore/sql/sql_meta_store.h"

namespace rwmeta::metastore {

struct MysqlOptions {
  // How long a connection attempt may take (whole seconds, at least 1), unless the URL sets
  // connect_timeout.
  int connect_timeout_ms = 10000;
  // innodb_lock_wait_timeout of every connection: a longer wait for a row lock is Aborted.
  int lock_wait_timeout_s = 10;
  size_t max_idle_connections = 8;
};

// The pool, transactions, Inspect and Migrate are sql::SqlMetaStore's (sql/sql_meta_store.h);
// this backend supplies MariaDB Connector/C, the binary protocol, the error table above, keyset
// paging and the named migration lock. Inspect's emptiness counts every table of the database.
class MysqlMetaStore final : public sql::SqlMetaStore {
 public:
  // Connects once to check the URL, the server and the credentials. Does not migrate.
  // InvalidArgument for a malformed URL (no host, no database, unknown parameter); Unavailable if
  // the server cannot be reached; Unauthenticated for a wrong user or password; NotFound if the
  // database does not exist; PermissionDenied if the user may not use it.
  // REQUIRES: `model` outlives the store and every transaction and view it hands out.
  static Result<std::unique_ptr<MysqlMetaStore>> Open(std::string_view url,
                                                      const Model& model = Model::Get(),
                                                      MysqlOptions options = {});

 private:
  using SqlMetaStore::SqlMetaStore;
};

}  // namespace rwmeta::metastore
