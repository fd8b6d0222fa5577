// TableData: the rows of user tables and materialized views, stored in the Hummock state store.
//
// Row layout (one Hummock entry per row, under the relation's id as table id):
//   key    the memcomparable encoding (hummock/sst/key.h) of the primary-key columns; for a table
//          without a primary key, of a hidden 64-bit row id (time-based, unique across restarts,
//          like RisingWave's _row_id); for a materialized view, of the row's position in the
//          view's result
//   value  the memcomparable encoding of all columns in order (self-describing, so a row decodes
//          without the schema; the schema says which int64 is a date or a timestamp)
// Inserting a row whose primary key exists replaces it (RisingWave's overwrite-on-conflict).
//
// Materialized views are stored like tables; mview_refresh.h recomputes them at every checkpoint,
// as this class's pre-commit work (SetPreCommitWork).
//
// Thread-safe (the state store and the catalog are).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "frontend/sql/executor.h"
#include "hummock/store/state_store.h"
#include "meta/catalog_manager.h"

namespace rwmeta::frontend {

class TableData {
 public:
  // REQUIRES: both outlive this. Installs itself as the state store's pre-commit hook, which runs
  // the pre-commit work (none until SetPreCommitWork).
  TableData(hummock::StateStore& store, meta::CatalogManager& catalog);

  hummock::StateStore& store() { return store_; }

  // The rows of `table` as a relation: committed data only, or with the write buffers
  // (`uncommitted`, for DML). `with_key` prepends a bytea column "_rw_key" with each row's key.
  std::shared_ptr<sql::Relation> NewRelation(const meta::TableInfo& table, bool uncommitted,
                                             bool with_key);
  // The rows of `table` as of a meta snapshot (SET QUERY_EPOCH): each scan calls `version` for
  // the snapshot's Hummock version (its error is the scan's) and reads the table's SSTs in it
  // (StateStore::NewTableReaderAt).
  using VersionSource = std::function<Result<std::shared_ptr<const hummock::HummockVersion>>()>;
  std::shared_ptr<sql::Relation> NewSnapshotRelation(const meta::TableInfo& table,
                                                     VersionSource version);

  // The key of `row` in `table`: its primary key, or a fresh row id. InvalidArgument 23502 for a
  // NULL primary-key column.
  Result<std::string> KeyFor(const meta::TableInfo& table, const sql::Tuple& row);
  // Encodes a row (all columns). InvalidArgument 0A000 for values a table cannot hold (arrays).
  static Result<std::string> EncodeRow(const sql::Tuple& row);
  // Decodes a row of `table` (DataLoss naming the table if it does not match its columns).
  static Result<sql::Tuple> DecodeRow(const meta::TableInfo& table, std::string_view bytes);

  // Hummock bookkeeping after DDL: new relations are registered (their data is kept), dropped
  // ones leave the version (their data goes at the next compaction).
  Status OnCreated(int64_t id);
  Status OnDropped(const std::vector<int64_t>& ids);
  // Makes the version's tables match the catalog (after a crash between a DDL commit and the
  // Hummock bookkeeping). Called at start.
  Status Reconcile();

  // What every checkpoint runs before it seals the epoch, writing into that epoch (the
  // materialized views' refresh: InstallMaterializedViewRefresh in mview_refresh.h). Replaces any
  // earlier work. Thread-safe: may be set while checkpoints run.
  void SetPreCommitWork(std::function<Status()> work);

 private:
  hummock::StateStore& store_;
  meta::CatalogManager& catalog_;
  std::mutex pre_commit_mu_;
  std::function<Status()> pre_commit_work_;  // guarded by pre_commit_mu_
};

// The SQL type of a stored column type name; kVarchar when the name is unknown (a newer binary
// wrote it).
sql::TypeId ColumnTypeOf(const meta::ColumnInfo& column);

// The SQL types of a table's columns.
std::vector<sql::ColumnDesc> ColumnDescsOf(const meta::TableInfo& table);

// Converts `d` of type `from` to `to` as an assignment does (INSERT, UPDATE): numeric widening and
// narrowing with range checks (22003), text and unknown literals parsed (22P02), anything else via
// its text form. NULL stays NULL.
Result<sql::Datum> CoerceForAssignment(const sql::Datum& d, sql::TypeId from, sql::TypeId to,
                                       const std::string& column);

}  // namespace rwmeta::frontend
