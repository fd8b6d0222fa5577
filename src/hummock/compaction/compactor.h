// Running a compaction task (picker.h): merge the input SSTs, drop what no reader can see, write
// the outputs, and describe the result as a version delta. Rules and why they are safe:
// docs/format/compaction.md.
//
//   RWMETA_ASSIGN_OR_RETURN(CompactionResult r,
//       RunCompaction(store, dir, *version, task, [&] { return manager.NewObjectIds(1); },
//       config));
//   // commit r.delta (ApplyDelta on the version the task was picked from); on failure the
//   // outputs r.new_ssts are garbage (vacuum them, or leave them to full GC).
//
// Thread-safe as far as the store and the callback are (no shared state); one call is
// single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hummock/compaction/picker.h"
#include "objstore/object_store.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

// Allocates one new object id for an output (HummockManager::NewObjectIds): the id must stay "in
// flight" (referenced for GC) until the delta is committed or the output deleted.
using NewObjectIdFn = std::function<Result<uint64_t>()>;

struct CompactionStats {
  uint64_t input_keys = 0;              // entries read (after the merge dropped exact duplicates)
  uint64_t output_keys = 0;             // entries written
  uint64_t dropped_table_keys = 0;      // of tables not in the version's state_table_info
  uint64_t dropped_stale_versions = 0;  // older than the newest version at or below safe epoch
  uint64_t dropped_tombstones = 0;      // at or below safe epoch, nothing below holds the key
  friend bool operator==(const CompactionStats&, const CompactionStats&) = default;
};

struct CompactionResult {
  // Built with VersionDeltaBuilder(base).Compact(...): removes every input, inserts the outputs
  // into the target level; its stale_object_ids are the inputs (none for a trivial move).
  HummockVersionDelta delta;
  // The objects written, in key order (empty for a trivial move or when everything was dropped).
  std::vector<SstableInfo> new_ssts;
  CompactionStats stats;
};

// Runs `task` (picked from `base`) against the SST objects under `data_directory`:
// - Merges the inputs in CompareFullKeys order; for the same full key in two inputs the one in the
//   earlier CompactionInputLevel wins (newer data).
// - Drops (base.safe_epoch() is the safe epoch S):
//     * every entry of a table not in base.state_table_info (dropped tables);
//     * every version of a user key older than its newest version with epoch <= S;
//     * that newest version itself if it is a tombstone and no SST in a level below the target
//       level overlaps the key (the target is then the bottommost level holding it).
// - Cuts outputs once the key and value bytes of one reach config.target_file_size_bytes, only
//   between user keys (all versions of one user key stay in one output). Outputs are written with
//   SstWriter (config.output_sst_options) under ids from `new_object_id`.
// - A trivial-move task writes nothing: the delta moves the input SSTs as they are.
// Errors (nothing is left behind: written outputs are deleted, best effort):
//   InvalidArgument     the task is malformed (no inputs, target level not 1..6, trivial move with
//                       target-level inputs) or names a group the version lacks
//   FailedPrecondition  an input is not in `base` (the task is from another version)
//   NotFound / DataLoss an input object is missing / corrupt: the SstReader's error naming it
//   others              from `new_object_id` or the store, unchanged
Result<CompactionResult> RunCompaction(objstore::ObjectStore& store,
                                       std::string_view data_directory, const HummockVersion& base,
                                       const CompactionTask& task,
                                       const NewObjectIdFn& new_object_id,
                                       const CompactionConfig& config);

// The delta of a finished compaction rebuilt on `current`, a newer version than the one the task
// was picked from (HummockManager::CommitDelta hands its build callback the current version).
// Safe because the versions in between can only have added newer L0 sub-levels, dropped tables
// or raised the safe epoch — none of which makes a dropped entry visible again — as long as one
// compaction per group runs at a time (nothing was added below the target level).
// Aborted if an input is no longer in `current` (another change removed it: the outputs are
// garbage and the caller deletes them); FailedPrecondition if the group is gone.
Result<HummockVersionDelta> RebaseCompactionDelta(const HummockVersion& current,
                                                  const CompactionTask& task,
                                                  const CompactionResult& result);

}  // namespace rwmeta::hummock
