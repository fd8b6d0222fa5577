// `risectl meta ...` commands for meta snapshots, over the meta node's BackupService
// (proto/backup_service.proto). RisingWave's two (backup-meta, delete-meta-snapshots) as it spells
// them, and rwmeta's additions. docs/risectl-backup.md has every flag, output and error.
//
//   meta backup-meta [--remarks T] [--poll-interval-ms N]
//       starts a backup job and polls its status every N ms (1000): "backup job is still running:
//       job J" on stderr while it runs; when it succeeds "backup job succeeded: job J, <what it
//       did>" on stderr and the snapshot id ALONE on stdout (one line: `id=$(risectl meta
//       backup-meta)`); a failed job is an error "backup job failed: job J, <why>" (exit 1)
//       with the code the job failed with (FailedBackupJobError)
//   meta delete-meta-snapshots --snapshot-ids 1,2 [--snapshot-ids 3]
//       "delete meta snapshots succeeded: [1, 2, 3]"; an id the manifest does not list is an
//       error naming it, and then nothing is deleted (exit 1)
//   meta list-meta-snapshots       the backup location, manifest id, and a table of snapshots
//   meta show-meta-snapshot ID [--verify] [--verbose]
//                                  every manifest field of snapshot ID incl. its state tables;
//                                  --verify reads the snapshot whole and prints its header facts
//                                  (a corrupt snapshot is an error, exit 1); --verbose lists the
//                                  state-store objects it references
//   meta backup-job-status ID      one job's status, message, remarks and times
//   meta list-backup-jobs [--limit N]   the job history, newest first
//   meta backup-metrics            job counters since the meta node started
//
// Output goes to stdout, progress to stderr; errors are printed by the runner ("error: ...").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "ctl/ctl_context.h"
#include "proto/backup_service.pb.h"

namespace rwmeta::ctl {

// Adds the backup commands to the `meta` group. When one of them is parsed, its action is stored
// in `*action` (which must outlive parsing); it uses `ctx`, which must outlive the action.
void AddBackupCommands(CLI::App& meta, CtlContext& ctx, CommandAction* action);

// The action of backup-meta: starts a job, polls its status every `poll_interval_ms` until it
// ends, prints as described above. A FAILED job gives FailedBackupJobError; an error of the meta
// node or of the transport is returned as MetaClient reports it. Exposed for tests.
Status RunBackupMeta(const CtlContext& ctx, const std::optional<std::string>& remarks,
                     int64_t poll_interval_ms);

// The error of a job the meta node reports FAILED: the code it failed with (the reply's
// error_code: DataLoss for a corrupt location, Unavailable for an unreachable one; Unknown from a
// node that does not send it) and the message "backup job failed: job J, <the job's message>".
Status FailedBackupJobError(const backup_service::GetBackupJobStatusResponse& job);

// The text of list-meta-snapshots, show-meta-snapshot (the manifest part; `verbose` adds the
// object ids), the verification part of show-meta-snapshot --verify, backup-job-status,
// list-backup-jobs, backup-metrics and drill-meta-snapshot for the given responses. Exposed for
// tests.
std::string RenderSnapshotList(const backup_service::GetMetaSnapshotManifestResponse& response);
std::string RenderSnapshot(const backup_service::MetaSnapshotMetadata& snapshot,
                           const backup_service::BackupLocation& location, bool verbose);
std::string RenderVerification(const backup_service::VerifyMetaSnapshotResponse& verified);
std::string RenderJob(const backup_service::GetBackupJobStatusResponse& job);
std::string RenderJobList(const backup_service::ListBackupJobsResponse& response);
std::string RenderMetrics(const backup_service::GetBackupMetricsResponse& metrics);
std::string RenderDrillReport(const backup_service::DrillMetaSnapshotResponse& report);

}  // namespace rwmeta::ctl
