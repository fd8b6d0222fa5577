// HummockManager: the meta node's owner of the Hummock version.
//
// Where the version lives:
// - every change is a HummockVersionDelta, stored as a row of the meta store table
//   `hummock_version_delta` in the same meta-store transaction as the bookkeeping that goes with it
//   (object ids come from the meta-store sequence `hummock_object_id`);
// - every `checkpoint_every_deltas` deltas the full version (with the stale object ids) is written
//   as the generation's checkpoint object (`<data_directory>/checkpoint/0` for the first
//   generation, version/checkpoint.h) and the deltas it covers are deleted from the meta store
//   (object first, rows after: a crash in between leaves deltas that the rebuild skips);
// - Open rebuilds the version from the checkpoint object plus the stored deltas.
//
// Readers pin a version (PinVersion): the objects of every pinned version are referenced, so
// vacuum and GC never delete them. Object ids handed out by NewObjectIds are "in flight" (also
// referenced) until a delta commits them or the caller releases them.
//
// What a commit costs: the delta is checked against the current version (ValidateDelta, with the
// manager's VersionIndex) and stored; then it is applied in place when no reader holds the current
// version, or to a copy when one does (PinVersion, current(): O(SSTs + tables), once per version
// a reader held). A commit of every table lists none of them (all_tables_committed_epoch), so
// CommitEpoch, RegisterTables and DropTables cost what they change, whatever the number of tables
// and SSTs. The checkpoint, written every checkpoint_every_deltas deltas inside the commit that
// reaches it, costs O(SSTs + tables): amortized over those deltas.
//
// Thread-safe. Commits are serialized; reads of the current version never wait for a commit's I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "hummock/epoch.h"
#include "hummock/names.h"
#include "hummock/version/version.h"
#include "metastore/meta_store.h"
#include "objstore/object_store.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

class ObjectProtectionSet;

// The compaction group every table's data lives in (RisingWave's default group id).
inline constexpr uint64_t kDefaultCompactionGroup = 2;

struct HummockManagerOptions {
  // Where SSTs and the checkpoint live inside the state store (RisingWave's data_directory).
  std::string data_directory = "hummock_001";
  // Write the checkpoint object and trim the deltas after this many deltas.
  uint64_t checkpoint_every_deltas = 64;
  // The cluster generation (src/hummock/cluster/generation.h): which checkpoint object is this
  // meta store's (CheckpointKey). A later generation's checkpoint must exist (restore wrote it).
  uint64_t generation = 1;
};

// A version held for a reader: while it lives, no object it references is deleted.
class PinnedVersion {
 public:
  ~PinnedVersion();
  PinnedVersion(const PinnedVersion&) = delete;
  PinnedVersion& operator=(const PinnedVersion&) = delete;
  const HummockVersion& version() const { return *version_; }
  std::shared_ptr<const HummockVersion> shared() const { return version_; }

 private:
  friend class HummockManager;
  PinnedVersion(class HummockManager* manager, uint64_t pin_id,
                std::shared_ptr<const HummockVersion> version)
      : manager_(manager), pin_id_(pin_id), version_(std::move(version)) {}
  class HummockManager* manager_;
  uint64_t pin_id_;
  std::shared_ptr<const HummockVersion> version_;
};

// A read of the whole meta store and the Hummock version of the same instant (BeginConsistentCut).
struct ConsistentCut {
  std::unique_ptr<metastore::ReadView> view;
  // The version the view's rows go with, pinned until this is destroyed.
  std::unique_ptr<PinnedVersion> version;
};

// FailedPrecondition naming the snapshot and the command that completes it if `meta_store` holds
// the restore marker (kRestoreIncompleteMarker, hummock/names.h); OK for a store that has none or
// is not migrated to this model yet. The meta node calls it before bootstrap, and Open calls it.
// The store's errors otherwise.
Status CheckNoIncompleteRestore(metastore::MetaStore& meta_store);

class HummockManager {
 public:
  // Rebuilds the version (checkpoint object + deltas). A state store without a checkpoint and a
  // meta store without deltas give the empty version 0. DataLoss (naming what is missing) when the
  // deltas do not continue the checkpoint, or the checkpoint is corrupt; the stores' errors
  // otherwise. REQUIRES: both stores outlive the manager; the meta store is migrated.
  static Result<std::unique_ptr<HummockManager>> Open(metastore::MetaStore& meta_store,
                                                      objstore::ObjectStore& state_store,
                                                      HummockManagerOptions options);
  ~HummockManager();

  const HummockManagerOptions& options() const { return options_; }
  objstore::ObjectStore& state_store() { return state_store_; }

  // The current version. Immutable while the caller holds it (a commit then applies its delta to a
  // copy), so hold it only as long as needed: a held version costs the next commit a copy.
  std::shared_ptr<const HummockVersion> current() const;
  // Pins the current version.
  std::unique_ptr<PinnedVersion> PinVersion();

  // Opens a snapshot read of the meta store (MetaStore::BeginSnapshotRead) while no delta commits,
  // and pins the version current at that instant: the view's rows and the version describe the
  // same moment (a delta commits in one meta-store transaction with its bookkeeping). Commits wait
  // only while the read is opened, not while it is read. BeginSnapshotRead's errors pass through.
  Result<ConsistentCut> BeginConsistentCut();

  // Allocates `count` consecutive object ids (one meta-store transaction) and marks them in flight.
  Result<uint64_t> NewObjectIds(uint64_t count = 1);
  // Gives back in-flight ids whose objects were abandoned (their objects may be garbage: full GC
  // removes them once old enough).
  void ReleaseObjectIds(const std::vector<uint64_t>& ids);

  // Commits the delta `build` makes from the current version: checks it (ValidateDelta's errors),
  // stores it in the meta store (with `extra` in the same transaction, if given) and applies it to
  // the current version. The new objects it names stop being in flight; its stale objects wait
  // for Vacuum. On error nothing changes. `build` may be called more than once (meta-store
  // retries), must not block on this manager and must not keep the version it is given. May write
  // the checkpoint afterwards (see options).
  Status CommitDelta(const std::function<Result<HummockVersionDelta>(const HummockVersion&)>& build,
                     const std::function<Status(metastore::Transaction&)>& extra = {});

  // Commits `epoch` for every table of the version plus `new_table_ids`, with `ssts` (which may be
  // empty) as a new L0 sub-level of the default group. FailedPrecondition if `epoch` is not above
  // the max committed epoch. The delta lists `new_table_ids` only (all_tables_committed_epoch).
  Status CommitEpoch(uint64_t epoch, const std::vector<SstableInfo>& ssts,
                     const std::vector<uint32_t>& new_table_ids = {});
  // Registers tables (committed epoch = the max committed epoch) so their data is kept.
  Status RegisterTables(const std::vector<uint32_t>& table_ids);
  // Drops tables: their data goes at the next compaction of the SSTs holding it.
  Status DropTables(const std::vector<uint32_t>& table_ids);

  // Writes the checkpoint object for the current version and deletes the deltas it covers.
  Status WriteCheckpointNow();

  // Every object id that must not be deleted: the current version's, every pinned version's, the
  // in-flight ids and the protection set's. An error from the protection set is returned (callers
  // must then delete nothing).
  Result<std::set<uint64_t>> ReferencedObjectIds();
  // Object ids that no version references any more and vacuum has not deleted yet.
  std::vector<uint64_t> StaleObjectIds() const;
  // Forgets stale ids that vacuum has deleted.
  void ForgetStaleObjectIds(const std::vector<uint64_t>& ids);

  // Objects referenced by meta snapshots (the backup manager's). Not owned; nullptr for none.
  void SetProtectionSet(ObjectProtectionSet* protection);

  // A check run before anything that writes or deletes state-store data (NewObjectIds,
  // CommitDelta, ReferencedObjectIds — which vacuum and GC need before deleting): the meta node
  // fences on its state-store lease, so a node that lost the lease to another stops writing and
  // never deletes what the new owner may reference. Set once, before use.
  void SetWriteFence(std::function<Status()> fence) { fence_ = std::move(fence); }

  // Number of deltas stored since the checkpoint (for tests and logs).
  uint64_t DeltasSinceCheckpoint() const;

 private:
  friend class PinnedVersion;
  HummockManager(metastore::MetaStore& meta_store, objstore::ObjectStore& state_store,
                 HummockManagerOptions options);
  void Unpin(uint64_t pin_id);
  // Applies a delta that ValidateDelta accepted and the meta store holds; REQUIRES commit_mu_.
  void ApplyCommitted(const HummockVersionDelta& delta);
  Status MaybeCheckpointLocked();
  Status WriteCheckpointLocked();

  metastore::MetaStore& meta_store_;
  objstore::ObjectStore& state_store_;
  const HummockManagerOptions options_;

  // Serializes commits and checkpoints (held across their I/O).
  std::mutex commit_mu_;
  uint64_t checkpoint_version_id_ = 0;  // guarded by commit_mu_
  VersionIndex index_;                  // of *current_; guarded by commit_mu_

  // Guards the fields below; never held across I/O. Only commits (holding commit_mu_) change
  // current_, so they may read it without mu_; every copy of it is taken under mu_, so under mu_
  // `current_.use_count() == 1` means no reader holds the version.
  mutable std::mutex mu_;
  std::shared_ptr<HummockVersion> current_;
  uint64_t next_pin_id_ = 1;
  std::map<uint64_t, std::shared_ptr<const HummockVersion>> pins_;
  std::set<uint64_t> in_flight_;
  std::set<uint64_t> stale_;
  ObjectProtectionSet* protection_ = nullptr;
  std::function<Status()> fence_;
};

// The SST info a version keeps for an SST written by SstWriter.
SstableInfo ToSstableInfo(const struct SstInfo& info);

}  // namespace rwmeta::hummock
