// Restore of a meta snapshot into a fresh meta store (`risectl meta restore-meta`) and creation of
// an empty meta-store schema (`risectl meta create-meta-store-schema`). Both work offline, straight
// on the stores: no meta node runs. docs/restore.md is the operator's page.
//
// RestoreMeta, in order (the first failure stops it; the target sees nothing before step 9's
// commit, and the state store nothing before step 9's generation):
//   1. flags: the three --overwrite-* options come together or not at all;
//   2. the manifest of the backup location lists the snapshot (NotFound naming the ids there);
//   3. the state store is not served: no unexpired `meta_lease` (a live meta node);
//   4. the snapshot is read ONCE, streaming: its first tables (cluster, system_parameter,
//      id_sequence, which every snapshot stores first) give the facts steps 5 to 8 decide on;
//      the state store's `cluster_id`, if any, is the snapshot's; after the decision the other
//      tables' rows stream into the target's bulk load (MetaStore::BeginBulkLoad) as they are
//      decoded, so memory does not grow with the snapshot; at the end the object is checked
//      against its manifest entry (size, checksum, version) before anything is committed;
//   5. the state store URL and directory equal the snapshot's `state_store` (without `hummock+`)
//      and `data_directory`, unless the overwrite options rewrite those parameters;
//   6. id sequences are carried forward (see RestoreSummary::sequences), so the restored cluster
//      never hands out an object id or snapshot id that a kept snapshot or an existing object uses:
//      from the newest snapshot (skipped with a warning if its object is missing or corrupt), and
//      at least past every manifest id and every object id of the manifest and the state store;
//   7. with validate_integrity, every object the snapshot references exists in the state store;
//   8. the target holds no row (or only a half-done restore of the same snapshot, see below);
//      the bulk load begins here (unless dry_run or completing), with the system parameters and
//      the carried-forward sequences;
//   9. unless dry_run, once the whole snapshot checked out: the state store's cluster generation
//      is raised by one (compare-and-swap on `<dir>/generation`, hummock/cluster/generation.h: of
//      two concurrent restores exactly one wins, and from here on the meta store the snapshot came
//      from never starts on this state store again); the cluster row carrying the new generation
//      and the marker hummock::kRestoreIncompleteMarker join the streamed rows, and all of them
//      commit at once (BulkLoader::Finish: one SQL transaction; etcd's loader hides a partial load
//      behind its own marker); then the generation's checkpoint `<dir>/checkpoint/<generation>`
//      with the snapshot's version, then the marker is deleted.
//
// All or nothing: a failure or kill before the commit leaves the target as it was (an empty
// database may have gained the empty schema, which a re-run accepts; an etcd target may hold a
// hidden unfinished load, which a re-run clears); a failure before the generation is raised
// (a corrupt snapshot, a refused row) leaves the state store and the old meta store as they were.
// A re-run raises the generation once more, so the state store always ends at the generation of
// the one restored meta store. After the commit the marker
// makes meta-node and HummockManager::Open refuse the store; running the same restore again finds
// the marker for the same snapshot, re-checks, writes the checkpoint and clears it.
//
// Thread-compatible: one restore per target at a time (the engine does not lock the target).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backup/backup_storage.h"
#include "common/clock.h"
#include "common/status.h"
#include "hummock/cluster/state_store_guard.h"
#include "hummock/names.h"
#include "metastore/meta_store.h"
#include "objstore/object_store.h"

namespace rwmeta::restore {

// The id sequences restore carries forward (metastore table id_sequence).
using backup::kSnapshotIdSequence;
using hummock::kObjectIdSequence;

// Rows and bytes of one table, as restored (or, in a dry run, as read).
struct TableProgress {
  std::string table;
  uint64_t rows = 0;
  // Sum of the values' sizes (text and bytes by length, numbers 8, booleans 1).
  uint64_t bytes = 0;
  // Rows the snapshot header announces for the table.
  uint64_t expected_rows = 0;
};

// Receives progress. Called from the restoring thread.
class RestoreProgress {
 public:
  virtual ~RestoreProgress() = default;
  // A step starts: "reading manifest", "verifying snapshot 3", "writing rows", ...
  virtual void OnStep(const std::string& /*step*/) {}
  // Every few thousand rows and at the end of each table while rows are written.
  virtual void OnTable(const TableProgress& /*table*/, bool /*done*/) {}
};

struct RestoreOptions {
  uint64_t snapshot_id = 0;
  // Where the state store is, as given to restore (without `hummock+`), and its data directory.
  std::string hummock_storage_url;
  std::string hummock_storage_directory = "hummock_001";
  // All checks, no writes.
  bool dry_run = false;
  // Check that every object the snapshot references exists under the data directory.
  bool validate_integrity = false;
  // Rewrite state_store, data_directory, backup_storage_url and backup_storage_directory in the
  // restored store instead of checking the first two against the state store given.
  bool overwrite_hummock_storage_endpoint = false;
  std::optional<std::string> overwrite_backup_storage_url;
  std::optional<std::string> overwrite_backup_storage_directory;
  // Go above every object id found in the state store too (one List of the data directory).
  bool list_state_store_object_ids = true;
  // Null: the wall clock (lease expiry).
  Clock* clock = nullptr;
  // Null: no progress reports.
  RestoreProgress* progress = nullptr;
};

struct RestoreSummary {
  uint64_t snapshot_id = 0;
  std::string cluster_id;
  uint64_t hummock_version_id = 0;
  std::vector<TableProgress> tables;  // snapshot order
  uint64_t rows = 0;
  uint64_t bytes = 0;
  // The id_sequence values written (name -> next_value), after carrying forward.
  std::map<std::string, int64_t> sequences;
  // The cluster generation the restored meta store is (hummock/cluster/generation.h): the state
  // store's generation raised by one (in a dry run: what it would be).
  uint64_t generation = 0;
  // True if the run only completed an earlier restore that had committed its rows.
  bool completed_earlier_restore = false;
  bool dry_run = false;
  // Objects the integrity check found (validate_integrity only).
  uint64_t objects_checked = 0;
};

// Restores snapshot `options.snapshot_id` from `backup` into `target`, writing the checkpoint into
// `state_store`. Errors (messages name the thing; nothing is written unless stated):
// - InvalidArgument: overwrite options incomplete; a target of another kind than this engine
//   knows.
// - NotFound: the snapshot is not in the manifest (the message lists the ids that are).
// - Aborted: another restore raised the state store's generation at the same time (this one lost;
//   nothing was written to the target).
// - FailedPrecondition: a live meta node holds the state store's lease; the state store belongs to
//   another cluster; the state store URL or directory differs from the snapshot's; objects are
//   missing (validate_integrity, naming them); the target is not empty (naming a table with rows);
//   the target holds an unfinished restore of another snapshot, or of a generation a later restore
//   superseded; a snapshot table does not fit this
//   build's model; the manifest's newest snapshot lacks a sequence or has it lower than the
//   restored one (the ids could collide).
// - DataLoss / Unimplemented: the snapshot object is corrupt or of an unknown format version.
// - The stores' errors (Unavailable, Unauthenticated, ...) pass through with context. A failure
//   after the commit (writing the checkpoint) leaves the marker: re-run to complete.
// REQUIRES: the stores outlive the call.
Result<RestoreSummary> RestoreMeta(backup::BackupStorage& backup, metastore::MetaStore& target,
                                   objstore::ObjectStore& state_store,
                                   const RestoreOptions& options);

// Creates this build's schema in `target`: OK for an empty store (created) or one already at this
// version with no rows (nothing to do). FailedPrecondition if the store has rows or a newer schema;
// the store's errors otherwise. Returns true if it created or migrated the schema.
Result<bool> CreateMetaStoreSchema(metastore::MetaStore& target);

// A one-line summary of a finished restore, for logs and the CLI.
std::string FormatSummary(const RestoreSummary& summary);

}  // namespace rwmeta::restore
