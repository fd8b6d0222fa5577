// MetaStore: transactional storage of the rows of the model (model.h). Backends: SQLite (embedded
// default, sqlite/), PostgreSQL, MySQL, etcd (later), and memory (for tests and fault injection).
// Everything above this interface is backend-agnostic. Open one by URL with OpenMetaStore
// (factory.h).
//
// Threading: a MetaStore is thread-safe; each Transaction or ReadView is used by one thread at a
// time.
//
// Errors every backend maps to: Unavailable (server unreachable, connection lost: retry), Aborted
// (write conflict or lost compare-and-swap: redo the whole transaction, see RunTransaction),
// Unauthenticated (bad credentials), FailedPrecondition (schema missing or newer than this binary),
// DataLoss (a stored row cannot be decoded), InvalidArgument (row or key does not match the model,
// table not in the model).
//
// Models: a backend works with the Model it was constructed with (Model::Get() by default; tests
// pass their own). "The model" below means that one. Text and bytes keys sort bytewise on every
// backend. A failed write changes nothing; the transaction stays usable.
//
// The conformance suite (meta_store_conformance.h) is the executable form of this contract and runs
// over every backend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

// Reads over one consistent state.
class ReadView {
 public:
  virtual ~ReadView() = default;

  // The row with primary key `key`, or nullopt.
  virtual Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) = 0;

  // Calls `visit` for every row of `table`, ascending by primary key, stopping at the first non-OK
  // status from `visit` (which Scan then returns). Memory stays bounded: rows are streamed or
  // paged. `visit` may read through this view but must not write to `table` through it.
  virtual Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) = 0;

  // Number of rows in `table`.
  virtual Result<int64_t> Count(const TableSchema& table) = 0;

  // The row counts of `tables`, in their order, as Count gives them, in one round trip where the
  // backend can (one statement on the SQL servers): a backup counts every table of the model
  // before it writes the first row. The default calls Count for each.
  virtual Result<std::vector<int64_t>> CountEach(std::span<const TableSchema* const> tables);
};

// A read-write transaction. Reads see the transaction's own writes and the commits before it began;
// nobody else sees its writes before Commit. Destroying an uncommitted transaction rolls it back.
// After Commit (OK or not) only the destructor may be called. Do not hold two live transactions of
// one store in one thread: a backend that serializes writers (SQLite) makes the second wait.
class Transaction : public ReadView {
 public:
  // AlreadyExists if a row with the same primary key (or unique key) exists; FailedPrecondition if
  // a foreign key has no parent.
  virtual Status Insert(const TableSchema& table, const Row& row) = 0;
  // Replaces the row with the same primary key. NotFound if there is none.
  virtual Status Update(const TableSchema& table, const Row& row) = 0;
  // Inserts or replaces: an Update where the row's key exists, else an Insert. Never delete +
  // insert (SQL's REPLACE), which would fire ON DELETE CASCADE. The transaction's isolation keeps
  // the row from appearing between the read and the write (serializable SQL transactions abort or
  // wait; etcd and memory commits compare what was read). Errors as Get, Update and Insert.
  Status Upsert(const TableSchema& table, const Row& row);
  // NotFound if there is no such row; FailedPrecondition if a non-cascading foreign key refers to
  // it. Cascading children are deleted too.
  virtual Status Delete(const TableSchema& table, const Key& key) = 0;
  // Makes every write visible at once. Aborted on a conflict with a concurrent transaction.
  virtual Status Commit() = 0;
};

// Writes many rows into an EMPTY store, all or nothing (restore-meta uses it). Nothing it adds is
// visible to anyone until Finish returns OK. A loader destroyed, or one whose Add or Finish failed,
// leaves the store as it was before BeginBulkLoad (or, for etcd, hidden behind its own marker,
// which every other entry point refuses and the next BeginBulkLoad clears).
//
// Refused rows. A row that does not match the model is refused by Add itself (InvalidArgument):
// it changes nothing and the load goes on. A duplicate primary (or unique) key (AlreadyExists) or
// a foreign key without its parent (FailedPrecondition) is found where the backend checks it,
// which for a backend that streams or batches rows (PostgreSQL COPY, MySQL multi-row INSERT) is
// the server, later than the Add of that row: at a later Add or at Finish, and the server's
// message names the table and the key. Such a refusal ends the load: nothing of it becomes
// visible and only the destructor may be called. The loader that checks each row as it is added
// (the default below: SQLite, memory) refuses it at its own Add and goes on, which a caller may
// rely on only where it chose the backend (the restore drill, on MemoryMetaStore); restore stops
// at the first refusal, so it works the same on every backend. Why not go on everywhere: a COPY
// or a multi-row INSERT fails as one statement (PostgreSQL then fails the whole transaction), so
// going on would mean a savepoint and a retry row by row, the per-row round trips bulk loading
// exists to avoid, for a case (a snapshot that is not consistent) where restore must fail anyway.
// etcd's loader checks neither: the rows of a consistent snapshot need no check (a key loaded
// twice is still AlreadyExists).
//
// Rows of one table should come together: a loader that streams per table (COPY) ends one stream
// and starts another whenever the table changes. Parents must come before their children where
// foreign keys are checked row by row (SQLite, MySQL, memory); a COPY checks them at its end.
//
// Owned by the caller; REQUIRES: the store outlives it. Used by one thread at a time.
class BulkLoader {
 public:
  virtual ~BulkLoader() = default;
  // Adds `row` to `table`: InvalidArgument (the load goes on), or a refusal as above;
  // Unavailable or Aborted end the load: only the destructor may be called then.
  virtual Status Add(const TableSchema& table, const Row& row) = 0;
  // Makes every added row visible at once. AlreadyExists or FailedPrecondition for a refused row
  // the backend found only now; Aborted if the load lost a conflict (a concurrent writer, or for
  // etcd a newer BeginBulkLoad that took the store over): nothing is visible then.
  // After Finish (OK or not) only the destructor may be called.
  virtual Status Finish() = 0;
};

// What a store holds before Migrate.
struct SchemaState {
  // 0: no rwmeta schema at all (a fresh database).
  int version = 0;
  // True if no model table has a row (migration bookkeeping does not count).
  bool empty = true;
  // True while a bulk load that did not (yet) finish hides the store (backends whose loads are
  // not one transaction: etcd). Nothing of that load is visible; every entry point but Inspect and
  // BeginBulkLoad refuses the store, and BeginBulkLoad starts over.
  bool unfinished_bulk_load = false;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // "sqlite", "postgres", "mysql", "etcd", "memory".
  virtual std::string_view backend() const = 0;
  // The store's location without credentials, for logs and errors.
  virtual std::string DisplayUrl() const = 0;

  // Schema version and emptiness, without changing anything. Works on a store at any version and
  // on one hidden by an unfinished bulk load (SchemaState::unfinished_bulk_load).
  virtual Result<SchemaState> Inspect() = 0;

  // Creates the schema in an empty store or applies the migrations from the stored version up to
  // Model::Get().version(), each in its own transaction, recording each. FailedPrecondition if the
  // store's version is newer than this binary's model (the message names both). Idempotent.
  virtual Status Migrate() = 0;

  // FailedPrecondition unless the store is migrated to exactly the model's version (run Migrate);
  // Aborted if the backend could not start one in time (busy): RunTransaction retries.
  virtual Result<std::unique_ptr<Transaction>> BeginTransaction() = 0;

  // A read-only view of one consistent cut of the whole store (one read transaction, one etcd
  // revision), unaffected by later commits, never blocking writers. Used by backups.
  // FailedPrecondition unless the store is migrated to exactly the model's version.
  virtual Result<std::unique_ptr<ReadView>> BeginSnapshotRead() = 0;

  // Starts a bulk load (BulkLoader above) into this store, which must hold no row of the model.
  // Migrates the store first when it has no schema yet, as Migrate does. FailedPrecondition if a
  // table of the model has a row ("target meta store ... is not empty (table T has N rows ...)"),
  // or as Migrate; Unavailable, Aborted as BeginTransaction.
  // The default loads through one transaction (Migrate, BeginTransaction, then the emptiness
  // check inside it, so rows committed meanwhile are seen): Add is Insert, Finish is Commit. It
  // holds a write transaction for the whole load, so the thread holding a loader must not begin
  // a transaction of the same store, and a serializing backend (SQLite) makes other writers wait.
  // Backends override it where one transaction cannot hold a whole store (etcd) or a faster path
  // exists (PostgreSQL COPY, MySQL multi-row INSERT: sql/sql_meta_store.h).
  virtual Result<std::unique_ptr<BulkLoader>> BeginBulkLoad();

  // The model this store works with (see "Models" above). Backends opened with a model of their
  // own return it; the default is Model::Get().
  virtual const Model& model() const { return Model::Get(); }
};

// BeginBulkLoad's emptiness check, inside the load's own transaction `txn` of `store` (so that
// rows committed after the caller's own check are seen): FailedPrecondition naming the first model
// table with rows ("target meta store ... is not empty (table T has N rows ..."), the store's
// errors otherwise. The one home of that check and its message for every loader built on a
// transaction.
Status CheckEmptyForBulkLoad(const MetaStore& store, ReadView& txn);

// Runs `body` in a fresh transaction and commits it, retrying the whole thing (up to
// `max_attempts`) when the transaction or the commit returns Aborted. Returns body's first non-OK
// status otherwise.
Status RunTransaction(MetaStore& store, const std::function<Status(Transaction&)>& body,
                      int max_attempts = 10);

// Allocates `count` consecutive ids from the named sequence (table id_sequence; a missing sequence
// starts at 1) and returns the first. Part of `txn`: nothing is consumed unless it commits.
Result<int64_t> NextId(Transaction& txn, std::string_view sequence, int64_t count = 1);

// The next primary key of `table` from its own sequence (TableSchema::id_sequence), as NextId:
// the one place a model table's key is allocated, so the model's declaration is the truth about
// which sequence numbers which table. Internal if the table declares no sequence.
Result<int64_t> NextKey(Transaction& txn, const TableSchema& table);

}  // namespace rwmeta::metastore
