// Deleting SST objects nothing needs any more (design: docs/format/compaction.md).
//
//   Vacuum   deletes objects known to be stale (compaction inputs, named by version deltas'
//            stale_object_ids) unless something still references them. Cheap: no listing.
//   FullGc   lists `<data_directory>/` and deletes SST objects older than a retention that nothing
//            references: the orphans of failed uploads, crashed compactions and lost vacuums.
//
// Both take the referenced set from a callback, called AFTER the listing (FullGc) so that the
// protocol in object_protection.h holds: an object deleted can never be referenced again. The
// callback is typically CollectReferencedObjectIds over the version manager's state. If it fails,
// nothing is deleted and its error is returned.
//
// Only keys of the exact form `<data_directory>/<object id>.data` (the id in canonical decimal,
// as SstObjectKey writes it, hummock/names.h) are SST objects. Everything else in the directory
// (checkpoint/, cluster_id, meta_lease, backup files, "007.data", "12.data.tmp") is never touched.
//
// Functions are thread-safe as far as the store and the callback are; running two GC passes at
// once is safe (deletes are idempotent) but wasteful.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock {

// Returns every object id that must not be deleted (order and duplicates do not matter), or an
// error that aborts the pass.
using ReferencedObjectIdsFn = std::function<Result<std::vector<uint64_t>>()>;

struct FullGcReport {
  uint64_t listed_sst_count = 0;             // SST objects the listing found
  uint64_t ignored_key_count = 0;            // other keys under the directory, left alone
  std::vector<uint64_t> deleted_object_ids;  // ascending
  uint64_t deleted_bytes = 0;
  std::vector<uint64_t> kept_referenced;  // old enough, but referenced (ascending)
  std::vector<uint64_t> kept_too_young;   // not older than the retention (ascending)

  // "listed 5 SST objects: deleted 2 (8192 bytes: 3, 9), kept 2 referenced, 1 too young"
  std::string ToString() const;
};

// One full GC pass over `<data_directory>/`:
//   1. List the directory (only SST objects are candidates, see the file comment).
//   2. Call `referenced_after_listing` once.
//   3. Delete, one by one, each listed SST object with now_ms - last_modified_ms > retention_ms
//      whose id the callback's set does not hold.
// Errors: InvalidArgument if retention_ms < 0; the listing's error (nothing deleted); the
// callback's error with context "full gc" (nothing deleted); the first failed Delete with context
// naming the object (objects before it in the report's order are already deleted — all of them
// were garbage, so a later pass simply continues).
Result<FullGcReport> FullGc(objstore::ObjectStore& store, std::string_view data_directory,
                            int64_t retention_ms, int64_t now_ms,
                            const ReferencedObjectIdsFn& referenced_after_listing);

struct VacuumReport {
  // Deleted, or already missing (Delete of a missing object is OK): ascending.
  std::vector<uint64_t> deleted_object_ids;
  // Still referenced (pinned, protected, ...): a later vacuum or full GC retries them. Ascending.
  std::vector<uint64_t> kept_referenced;
};

// Deletes the SST objects `stale_object_ids` except those in the set `referenced` returns.
// Idempotent: a missing object counts as deleted. Errors: the callback's error with context
// "vacuum" (nothing deleted); the first failed Delete with context naming the object.
Result<VacuumReport> Vacuum(objstore::ObjectStore& store, std::string_view data_directory,
                            const std::vector<uint64_t>& stale_object_ids,
                            const ReferencedObjectIdsFn& referenced);

}  // namespace rwmeta::hummock
