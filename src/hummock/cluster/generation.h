// Cluster generations: a restore is final.
//
// Every restore of a meta snapshot starts a new generation of the cluster on its state store. The
// object `<data_directory>/generation` of the state store names the current generation; the meta
// store that belongs to it records the same number in its `cluster` row (column `generation`, NULL
// read as 1). A meta store whose generation is older than the state store's was superseded by a
// restore and never starts on that state store again, so an old copy of a meta store (the original
// cluster after a restore, the first of two restores of one snapshot, a promoted replica) can never
// overwrite or delete the restored cluster's objects.
//
//   first start            meta store generation 1; the object is created at 1 if absent
//   restore-meta           raises the object to N+1 (compare-and-swap: of two concurrent restores
//                          exactly one wins) BEFORE it writes the target, which records N+1
//   meta-node start        equal: serve; meta store older: refuse (superseded); newer: refuse (the
//                          object was rolled back)
//   lease renewal          re-reads the object; a newer generation fences the running node
//
// The object is JSON (docs/format/generation.md):
//   {"generation": 2, "cluster_id": "...", "snapshot_id": 1, "started_at_ms": 1765000000000}
// `snapshot_id` and `started_at_ms` say which restore began the generation (0 and the first start's
// time for generation 1). Unknown fields are ignored.
//
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "hummock/names.h"
#include "metastore/model.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock {

// The generation of a meta store that predates generations (and of every first start).
inline constexpr uint64_t kFirstGeneration = 1;

struct GenerationRecord {
  uint64_t generation = kFirstGeneration;
  std::string cluster_id;
  // The meta snapshot whose restore began this generation; 0 for the first generation.
  uint64_t snapshot_id = 0;
  // When the generation began (ms since the Unix epoch).
  int64_t started_at_ms = 0;
};

// The generation a meta store's `cluster` row records: its `generation` column, or the first
// generation where the column is NULL (a store older than model 2).
uint64_t ClusterRowGeneration(const metastore::Row& cluster_row);

// The generation object is `<data_directory>/generation` (GenerationKey, hummock/names.h).

std::string EncodeGeneration(const GenerationRecord& record);
// DataLoss naming `object_name` unless `bytes` is a generation object (generation >= 1).
Result<GenerationRecord> DecodeGeneration(std::string_view bytes, std::string_view object_name);

// "generation 2 (the restore of meta snapshot 1 at 2026-12-06T01:02:03Z)" or "generation 1 (the
// first start at ...)".
std::string DescribeGeneration(const GenerationRecord& record);

struct StoredGeneration {
  GenerationRecord record;
  // Etag of the object the record was read from (for compare-and-swap).
  std::string etag;
};

// Reads the generation object. NotFound if there is none; DataLoss if it is not one; the store's
// errors otherwise.
Result<StoredGeneration> ReadGeneration(objstore::ObjectStore& store,
                                        std::string_view data_directory);

// Raises the state store's generation by one for a restore of `snapshot_id` (a missing object
// counts as the first generation, so the first restore makes generation 2). Compare-and-swap on
// the object (if_none_match / if_match) where the store honours conditional puts; elsewhere a plain
// Put, logged as a warning (two concurrent restores are then not told apart).
// Returns the new record. Aborted if another restore raised it at the same time (nothing written);
// FailedPrecondition if the object belongs to another cluster; ReadGeneration's errors otherwise.
Result<GenerationRecord> RaiseGeneration(objstore::ObjectStore& store,
                                         std::string_view data_directory,
                                         const std::string& cluster_id, uint64_t snapshot_id,
                                         Clock& clock);

// Checks, for a meta node starting on a meta store of generation `meta_store_generation`, that it
// is the state store's current generation:
//   object absent           -> created at `meta_store_generation` (if_none_match; a warning if
//                              that is not the first generation: the object was lost)
//   same generation         -> OK
//   object newer            -> FailedPrecondition: the meta store was superseded (names both
//                              generations, the restore's snapshot and time, and what to do)
//   object older            -> FailedPrecondition: the object was rolled back
// `meta_store_display` and `state_store_display` name the stores (no credentials).
// Returns the state store's record. The store's errors otherwise.
Result<GenerationRecord> CheckGeneration(objstore::ObjectStore& store,
                                         std::string_view data_directory,
                                         const std::string& cluster_id,
                                         uint64_t meta_store_generation,
                                         const std::string& meta_store_display,
                                         const std::string& state_store_display, Clock& clock);

// The message CheckGeneration and a running node's lease renewal give when generation
// `mine` finds the state store at `current`.
std::string SupersededMessage(uint64_t mine, const GenerationRecord& current,
                              const std::string& meta_store_display,
                              const std::string& state_store_display);

}  // namespace rwmeta::hummock
