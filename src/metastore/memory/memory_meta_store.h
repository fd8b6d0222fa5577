// MemoryMetaStore: the MetaStore contract held in process memory. For tests, for fault injection
// and for `memory` URLs. Nothing survives the process.
//
// Isolation: snapshot isolation with first-committer-wins on a global commit version. A transaction
// reads the committed state as of BeginTransaction plus its own writes (tables are copied on first
// write). Commit of a transaction that wrote anything returns Aborted if any other commit (or a
// Migrate) happened since it began; read-only transactions always commit. This is stricter than
// needed (two writers of unrelated rows conflict too) but simple and never wrong: RunTransaction
// redoes the loser.
//
// Cost: Get, and every key check of Insert, Update and Delete (primary, unique and foreign keys,
// rows a delete cascades to or is refused by), is O(log n) in the rows of the tables involved, so a
// bulk load of n rows is O(n log n): each table keeps an index per unique key, per foreign key and
// per column set a foreign key refers to other than the primary key. The first write of a
// transaction to a table copies that table's keys and index entries (O(rows); rows themselves are
// shared, never copied); reads and snapshot views copy nothing.
//
// Concurrency:
//   | operation                     | may run concurrently with           |
//   |-------------------------------|-------------------------------------|
//   | BeginTransaction / Snapshot   | everything                          |
//   | Transaction reads and writes  | everything (private copy)           |
//   | Commit, Migrate               | everything; serialized by one mutex |
// One Transaction or ReadView is used by one thread at a time (meta_store.h).
//
// Several MemoryMetaStore objects may share one MemoryMetaStore::State (NewState), each with its
// own model: this is how tests "reopen" a memory store with a newer model to test migrations.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "metastore/meta_store.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

class MemoryMetaStore final : public MetaStore {
 public:
  // The stored data, shareable between MemoryMetaStore objects. Opaque.
  struct State;
  static std::shared_ptr<State> NewState();

  // A fresh, empty store (schema version 0) for `model`.
  // REQUIRES: `model` outlives the store and every transaction and view it hands out.
  explicit MemoryMetaStore(const Model& model = Model::Get());
  // A store over existing `state` (possibly migrated by another model version).
  MemoryMetaStore(const Model& model, std::shared_ptr<State> state);
  ~MemoryMetaStore() override;

  std::string_view backend() const override { return "memory"; }
  std::string DisplayUrl() const override { return "memory"; }

  // Never fails.
  Result<SchemaState> Inspect() override;
  // FailedPrecondition if the state was migrated by a newer model. Adds the model's tables and
  // columns (new columns read as NULL in existing rows). Idempotent.
  Status Migrate() override;
  // FailedPrecondition unless the state is migrated to exactly this model's version.
  Result<std::unique_ptr<Transaction>> BeginTransaction() override;
  // FailedPrecondition unless the state is migrated to exactly this model's version.
  Result<std::unique_ptr<ReadView>> BeginSnapshotRead() override;
  const Model& model() const override { return *model_; }

 private:
  Status CheckVersion() const;

  const Model* model_;
  std::shared_ptr<State> state_;
};

}  // namespace rwmeta::metastore
