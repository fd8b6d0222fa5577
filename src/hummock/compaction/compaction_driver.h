// Compaction, vacuum and full GC run against a HummockManager: the glue a background compactor
// thread or `risectl hummock trigger-full-gc` calls. Each function is one round; the caller decides
// when (a timer, a trigger) and must not run two CompactOnce calls at once on one manager (one
// compaction per group at a time is what makes rebasing a finished task safe, compactor.h).
// Vacuum and full GC may run concurrently with compaction and with each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "hummock/compaction/compactor.h"
#include "hummock/compaction/picker.h"
#include "hummock/gc/gc.h"
#include "hummock/store/hummock_manager.h"

namespace rwmeta::hummock {

struct CompactionRound {
  CompactionTask task;
  CompactionStats stats;
  uint64_t version_id = 0;               // the version the commit made
  std::vector<uint64_t> new_object_ids;  // outputs (none for a trivial move)
  std::vector<uint64_t> stale_object_ids;

  // "group 2: L0 (4 sub-levels, 4 ssts) -> L1: 120 keys in, 80 out (30 old versions, 10
  // tombstones, 0 of dropped tables dropped), 2 new objects, 4 stale, version 17"
  std::string ToString() const;
};

struct CompactOnceOptions {
  // Before picking, raise the version's safe epoch to its max committed epoch (a delta of its
  // own) when it is below. Right for readers that read each table at its committed epoch in the
  // version they pinned, as our read path does: a reader of an older version keeps reading that
  // version's objects, which compaction never changes, and a reader of a newer version reads at
  // epochs at or above its safe epoch. (A table's committed epoch may lag the max committed
  // epoch, but nothing of it was written in between, so its newest version at or below either
  // is the same.) Turn off to keep older epochs readable from the current version.
  bool advance_safe_epoch = true;
};

// One compaction: optionally advances the safe epoch, picks a task on the current version
// (PickCompaction), runs it with ids from manager.NewObjectIds, and commits its delta rebased
// onto whatever version is current by then (RebaseCompactionDelta). nullopt when nothing is
// triggered.
// Errors: those of RunCompaction (its outputs are deleted) and of the commit (Aborted if an input
// left the version meanwhile). In both cases the ids taken are released; the outputs of a failed
// commit are left for full GC, since a commit whose outcome is unknown may have succeeded.
Result<std::optional<CompactionRound>> CompactOnce(HummockManager& manager,
                                                   const CompactionConfig& config,
                                                   const CompactOnceOptions& options = {});

// Vacuums manager.StaleObjectIds() with manager.ReferencedObjectIds() as the referenced set, and
// forgets the deleted ids (manager.ForgetStaleObjectIds). Errors as Vacuum's (gc.h).
Result<VacuumReport> VacuumStaleObjects(HummockManager& manager);

// A full GC pass over the manager's data directory, referenced set from
// manager.ReferencedObjectIds() (taken after the listing). Errors as FullGc's (gc.h).
Result<FullGcReport> RunFullGc(HummockManager& manager, int64_t retention_ms, int64_t now_ms);

}  // namespace rwmeta::hummock
