// Restore drill of a meta snapshot: proves, without touching any store, that the snapshot would
// restore into a consistent cluster. docs/restore.md ("Restore drills") is the operator's page.
//
// DrillSnapshot, in order:
//   1. the manifest lists the snapshot (else NotFound: the drill cannot run);
//   2. the snapshot is read whole (every chunk checksum, the trailer, each table's row count
//      against the header) and checked against its manifest entry (size, checksum, version);
//   3. every row is loaded into a fresh in-memory meta store of this build's model with the bulk
//      load restore uses (rows of an older model as restore widens them, `object` rows parents
//      first), and the load is committed;
//   4. every foreign key of the model is checked over the snapshot's rows, whatever the memory
//      store enforced on insert;
//   5. every id sequence is above every id it handed out: each model table's key against the
//      sequence the model declares for it (TableSchema::id_sequence, backup_job's included),
//      hummock::kObjectIdSequence against every object id of the snapshot's Hummock version, and
//      backup::kSnapshotIdSequence against the snapshot's own id (a job takes its id before the
//      cut, so the snapshot holds the sequence past it);
//   6. every object the Hummock version references exists under the state store's data directory
//      (one List).
// A check that finds something makes the drill fail (DrillReport::passed false) with a problem
// naming the table, row, sequence or object; the checks after a failed read (2) are skipped, since
// rows and version are incomplete.
//
// Cost: the whole snapshot is read once, and all its rows are held in memory (the memory store),
// plus the keys the foreign-key checks need (each referenced key, each child's reference). Nothing
// is written anywhere: the backup location and the state store are only read (the manifest, the
// snapshot object, one List of the data directory).
//
// Thread-compatible: a drill uses only its own memory store; several drills may run at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backup/backup_storage.h"
#include "common/clock.h"
#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::restore {

// Problems a report lists by default; more are counted (DrillReport::problem_count) and summed up
// in one last entry, "... and N more problems".
inline constexpr size_t kDefaultMaxDrillProblems = 10;
// The longest line FormatDrillReport returns, in bytes (it goes into logs and the manifest).
inline constexpr size_t kMaxDrillReportLineBytes = 1024;

struct DrillOptions {
  // Times the drill (started_at_ms, duration_ms). Null: the wall clock.
  Clock* clock = nullptr;
  // How many problems the report lists before summing up the rest.
  size_t max_problems = kDefaultMaxDrillProblems;
};

struct DrillReport {
  uint64_t snapshot_id = 0;
  // Clock time the drill started, and how long it took.
  int64_t started_at_ms = 0;
  int64_t duration_ms = 0;
  // True if every check passed (problems is empty).
  bool passed = false;
  // What failed, one line each naming the table/row/sequence/object, in the order found; at most
  // DrillOptions::max_problems, then one "... and N more problems".
  std::vector<std::string> problems;
  // Every problem found, listed or not.
  uint64_t problem_count = 0;

  // What was checked.
  uint64_t hummock_version_id = 0;
  uint64_t tables = 0;              // snapshot tables read
  uint64_t rows = 0;                // snapshot rows read
  uint64_t rows_loaded = 0;         // rows the in-memory meta store took
  uint64_t references_checked = 0;  // non-NULL foreign-key values checked
  uint64_t sequences_checked = 0;   // (sequence, what it numbers) pairs checked
  uint64_t objects_checked = 0;     // objects of the Hummock version looked for
};

// Drills snapshot `snapshot_id` of `backup` against the state store `state_store` whose data
// directory is `state_store_directory` (the cluster's `data_directory`). Never writes to either
// store.
// Returns a report (passed or not) when the drill ran: a corrupt or truncated snapshot object
// (DataLoss), an unknown format version (Unimplemented), rows that do not load, a broken foreign
// key, a sequence at or below an id, a missing object: each is a problem in the report.
// Errors, when the drill could not run (the snapshot's state is unknown):
// - NotFound: the manifest does not list the snapshot (the message lists the ids it does);
// - DataLoss: the manifest does not decode;
// - the stores' errors (Unavailable, PermissionDenied, ...) reading the manifest, the snapshot
//   object or listing the state store, with context.
// REQUIRES: the stores outlive the call.
Result<DrillReport> DrillSnapshot(backup::BackupStorage& backup, uint64_t snapshot_id,
                                  objstore::ObjectStore& state_store,
                                  std::string_view state_store_directory,
                                  const DrillOptions& options = {});

// One line for logs and the manifest, at most kMaxDrillReportLineBytes bytes of valid UTF-8:
// "meta snapshot 7 drill passed in 12 ms: ..." or "meta snapshot 7 drill failed in 12 ms (2
// problems): <problem>; <problem>".
std::string FormatDrillReport(const DrillReport& report);

}  // namespace rwmeta::restore
