// BackupManager: the meta node's meta snapshots. It owns the current backup location (the object
// store and directory named by the system parameters backup_storage_url and
// backup_storage_directory), runs backup jobs one at a time, keeps their history in the model
// table `backup_job`, deletes snapshots, serves the manifest to SQL and risectl, loads snapshot
// versions for `SET QUERY_EPOCH` reads, and is the Hummock protection set: every object a snapshot
// in the current manifest references is kept by vacuum and full GC.
//
// A backup job:
//   1. allocates its id from the meta-store sequence `meta_backup` (ids start at 1 and are never
//      reused, whatever location they go to) and records the job RUNNING, in one transaction;
//   2. runs `before_cut` (the meta node checkpoints the data plane, so every statement that
//      completed before BACKUP is in the snapshot);
//   3. takes the consistent cut: one meta-store snapshot read opened while Hummock commits are held
//      off, with the Hummock version current at that instant pinned
//      (HummockManager::BeginConsistentCut): the rows and the version describe the same moment,
//      while DDL and DML go on;
//   4. streams the snapshot object to `<dir>/<id>.snapshot` and publishes its manifest entry
//      (backup::BackupStorage::WriteSnapshot); the entry protects its objects from then on;
//   5. unpins the version and records the job SUCCEEDED or FAILED with its message (a failure's
//      code included: FailedJobMessage).
// So every object of a snapshot is pinned or protected at every instant (see
// hummock/gc/object_protection.h).
//
// Switching location: when either parameter changes, the manager opens the new location and reads
// its manifest; snapshots at the old location stop being listed and protected (they are not
// touched) and come back when the parameters are set back. A job already running finishes at the
// location it started at. A location that cannot be opened or read is remembered with its error:
// BACKUP, listing and deleting fail with it, and the protection set reports it (GC then deletes
// nothing) until it works or the parameters change.
//
// The schedule (rwmeta's own; RisingWave has none in its kernel): while the system parameter
// backup_schedule_interval_sec is above 0, a job with the remark "scheduled" starts one interval
// after the newest snapshot of the current location (any snapshot: a BACKUP pushes the next
// scheduled one back), or one interval after the manager opened when the location has none. Its
// manifest entry is marked scheduled (IsScheduledSnapshot). A scheduled job that fails is counted
// (BackupMetrics::scheduled_jobs_failed) and retried after a backoff that starts at
// schedule_retry_min_ms and doubles up to the interval; a scheduled job due while an on-demand job
// runs starts when that one ends.
// Drills: after each scheduled job that succeeded (before retention) and on DrillSnapshot, the
// snapshot is restored in-process into an in-memory meta store and checked (restore/drill.h);
// the result is recorded in its manifest entry, a failed drill is logged as an error naming the
// problems, and a snapshot whose latest drill failed is not "verified".
// Retention, after each scheduled job that succeeded and when a retention parameter changes,
// deletes scheduled snapshots beyond the newest backup_retention_count (0: no count limit) and
// those older than backup_retention_sec (0: no age limit), oldest first, but never the newest
// verified scheduled snapshot (IsVerifiedSnapshot) and never an on-demand one.
//
// Errors (codes the SQL and gRPC layers map):
// clang-format off
//   FailedPrecondition  a job is already running ("a backup job is already running: job N ...")
//   ResourceExhausted   the location already holds max_snapshots snapshots
//   NotFound            unknown job id; unknown snapshot ids (all named); no snapshot holds the
//                       epoch
//   others              the backup location's or the meta store's errors, with context (a corrupt
//                       manifest DataLoss, an unreachable location Unavailable)
// clang-format on
// A job that fails keeps the code it failed with: BackupJobInfo::error, kept in the job's message
// (see FailedJobMessage), so the SQL and gRPC layers map it as they map a direct error.
//
// Concurrency: every method is thread-safe. Jobs run on a thread of their own; DeleteSnapshots and
// reads may run while a job runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backup/backup_storage.h"
#include "common/clock.h"
#include "common/status.h"
#include "hummock/gc/object_protection.h"
#include "hummock/store/hummock_manager.h"
#include "meta/system_params.h"
#include "metastore/meta_store.h"
#include "objstore/object_store.h"
#include "restore/drill.h"

namespace rwmeta::meta {

enum class BackupJobState { kRunning, kSucceeded, kFailed };
// "RUNNING", "SUCCEEDED", "FAILED" (as stored in backup_job.state).
std::string_view BackupJobStateName(BackupJobState state);

// One row of backup_job. A job's id is the id of the snapshot it makes.
struct BackupJobInfo {
  uint64_t job_id = 0;
  BackupJobState state = BackupJobState::kRunning;
  // Empty while running; what happened when finished ("snapshot 3: 1204 rows, 48.1 KiB, ..." or
  // FailedJobMessage: "failed backup job 3: DATA_LOSS: <error>").
  std::string message;
  // OK unless FAILED; then the error the job failed with, its code kept (decoded from `message`
  // by FailedJobError).
  Status error;
  std::optional<std::string> remarks;
  int64_t started_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  friend bool operator==(const BackupJobInfo&, const BackupJobInfo&) = default;
};

// How a failed job's error is kept in backup_job.message, whose text is stored and shown to users:
//   failed backup job <job id>: <CODE_NAME>: <error message>
// CODE_NAME is StatusCodeName(error.code()) ("DATA_LOSS", "UNAVAILABLE"): the rest is
// error.ToString(), which is what jobs of earlier versions stored too, so their rows decode the
// same. Bytes that are not valid UTF-8 are written \xNN. This text reaches the meta store: never
// change its shape.
std::string FailedJobMessage(uint64_t job_id, const Status& error);
// The error FailedJobMessage encoded in `message`: its code and its own message. A message not of
// that shape (a row written by hand, an interrupted job of an earlier version) gives Unknown with
// the text after "failed backup job <id>: ", or the whole message. Never OK.
Status FailedJobError(std::string_view message);

// Counters since the manager started (the job metrics).
struct BackupMetrics {
  uint64_t jobs_started = 0;
  uint64_t jobs_succeeded = 0;
  uint64_t jobs_failed = 0;
  uint64_t snapshots_deleted = 0;  // by anyone (retention included)
  // The schedule's share of the above.
  uint64_t scheduled_jobs_started = 0;
  uint64_t scheduled_jobs_failed = 0;
  uint64_t snapshots_deleted_by_retention = 0;
  // Restore drills run (scheduled and asked for) and how many of them failed.
  uint64_t drills_run = 0;
  uint64_t drills_failed = 0;
  uint64_t bytes_written = 0;  // snapshot objects of succeeded jobs
  int64_t last_job_latency_ms = 0;
  int64_t total_job_latency_ms = 0;  // over finished jobs
};

// The remark of scheduled jobs and their snapshots.
inline constexpr char kScheduledRemark[] = "scheduled";

// True if the schedule made the snapshot (its manifest entry says so).
bool IsScheduledSnapshot(const backup::SnapshotMetadata& entry);
// True unless the snapshot's latest restore drill failed: every snapshot was read back whole
// before it was listed, and a drill that passed proves more.
bool IsVerifiedSnapshot(const backup::SnapshotMetadata& entry);

// Which scheduled snapshots retention deletes from `manifest` at `now_ms` (ascending ids): see
// "Retention" above. `retention_count` 0 and `retention_sec` 0 mean no limit of that kind.
std::vector<uint64_t> SnapshotsPastRetention(const backup::Manifest& manifest,
                                             uint64_t retention_count, uint64_t retention_sec,
                                             int64_t now_ms);

// What the schedule is doing.
struct ScheduleState {
  // backup_schedule_interval_sec; 0: the schedule is off.
  uint64_t interval_sec = 0;
  // When the next scheduled job starts (ms since the Unix epoch by the manager's clock); unset
  // when the schedule is off.
  std::optional<int64_t> next_at_ms;
  // Scheduled jobs that failed in a row (0 after one succeeds), and the last one's error.
  uint64_t consecutive_failures = 0;
  Status last_error;
};

// Where snapshots currently go.
struct BackupLocation {
  std::string url;  // redacted (no credentials)
  std::string directory;
  // OK, or why the location cannot be used now.
  Status status;
};

// Opens an object store by URL (objstore::OpenObjectStore by default; tests inject faults).
using ObjectStoreOpener =
    std::function<Result<std::unique_ptr<objstore::ObjectStore>>(std::string_view url)>;

struct BackupManagerOptions {
  // Written into each snapshot's header.
  std::string cluster_id;
  std::string rwmeta_version;
  // A job is refused while the current location holds this many snapshots. 1,000: an entry of the
  // manifest costs about 400 bytes whatever the catalog (details are in each object's header), so
  // the manifest every BACKUP rewrites and GC re-reads stays under 0.5 MB; what grows with the
  // count is GC's cached object ids (a few KiB per snapshot) and, after a restart, one header read
  // per snapshot before GC can run (bench/backup/manifest_bench). It was 100 when every entry
  // carried its details.
  size_t max_snapshots = 1000;
  // Run by each job before its cut; a non-OK status fails the job with it. May be empty.
  std::function<Status()> before_cut;
  // Empty: objstore::OpenObjectStore.
  ObjectStoreOpener open_store;
  backup::BackupStorageOptions storage;
  // Snapshot versions kept in memory for QUERY_EPOCH reads.
  size_t cached_versions = 4;
  // Unlisted snapshot objects (the leftovers of jobs killed between upload and publish) older than
  // this are deleted at start and after each job. Longer than any job takes, so that an object
  // another writer is still uploading is never taken for an orphan.
  int64_t orphan_min_age_ms = 3'600'000;
  // The schedule's time, retention's "now" and the jobs' timestamps. Null: SystemClock().
  Clock* clock = nullptr;
  // Run the schedule on a thread of the manager, which calls ScheduleTick about every second.
  // False: only calls of ScheduleTick run it (tests on a fake clock).
  bool run_schedule = true;
  // The first retry of a failed scheduled job waits this long; each further failure doubles it, up
  // to the interval.
  int64_t schedule_retry_min_ms = 10'000;
};

class BackupManager : public hummock::ObjectProtectionSet, public ParamChangeListener {
 public:
  // Opens the location the parameters name (a location that fails to open is not an error here:
  // see "Switching location"), marks jobs a previous process left RUNNING (SUCCEEDED if the
  // location's manifest lists their snapshot, else FAILED with Aborted "interrupted: the meta node
  // stopped while the job ran", its unlisted object deleted), deletes the location's orphans
  // (orphan_min_age_ms), and registers itself with `hummock` (SetProtectionSet) and
  // `params` (AddListener). Errors of the meta store pass through.
  // REQUIRES: the three arguments outlive the manager; `params` is loaded.
  static Result<std::unique_ptr<BackupManager>> Open(metastore::MetaStore& meta_store,
                                                     hummock::HummockManager& hummock,
                                                     SystemParamsManager& params,
                                                     BackupManagerOptions options);
  // Waits for a running job to finish and unregisters from `hummock`.
  ~BackupManager() override;

  // Starts a job and returns its id at once (the job runs in the background). FailedPrecondition if
  // a job is running; ResourceExhausted if the location is full; the location's error if it is
  // unusable; meta-store errors.
  Result<uint64_t> StartBackup(std::optional<std::string> remarks);

  // Waits until job `job_id` is no longer RUNNING or `timeout` passes, and returns its row (still
  // RUNNING on timeout). NotFound for an unknown job.
  Result<BackupJobInfo> WaitForJob(uint64_t job_id, std::chrono::milliseconds timeout);
  // The row of `job_id`. NotFound for an unknown job.
  Result<BackupJobInfo> GetJob(uint64_t job_id);
  // Up to `limit` jobs, newest first.
  Result<std::vector<BackupJobInfo>> ListJobs(size_t limit = 100);

  // Deletes snapshots from the current location: NotFound naming every id it does not list (and
  // nothing is deleted); OK for an empty list. Their objects are protected no more.
  Status DeleteSnapshots(const std::vector<uint64_t>& ids);

  // The current location's manifest, read now (an unusable location is opened again first). If
  // `location` is not null it receives the location this manifest (or error) comes from, even when
  // a switch lands at the same moment.
  Result<backup::Manifest> GetManifest(BackupLocation* location = nullptr);

  // The details (object ids, state table info) of `entry`, a snapshot of the current location's
  // manifest: backup::BackupStorage::Details (read from the snapshot object's header, cached).
  Result<std::shared_ptr<const backup::SnapshotDetails>> SnapshotDetails(
      const backup::SnapshotMetadata& entry);

  // Reads snapshot `id` of the current location whole and checks it against its manifest entry
  // (backup::BackupStorage::VerifySnapshot).
  Result<backup::SnapshotContents> VerifySnapshot(uint64_t id);

  // Runs a restore drill of snapshot `id` of the current location against the Hummock state store
  // (restore::DrillSnapshot; one drill at a time), records its result in the manifest entry and
  // logs it (a failed drill as an error). A failed drill is a report with passed false, not an
  // error; errors: NotFound (not listed), the location's or state store's errors.
  Result<restore::DrillReport> DrillSnapshot(uint64_t id);

  // For `SET QUERY_EPOCH`: the Hummock version of the first snapshot of the current manifest whose
  // state_table_info has `table_id` committed at exactly `epoch`. NotFound "backup include epoch
  // <epoch> not found" if none; the snapshot's read errors otherwise (a snapshot before the one
  // found whose details cannot be read included). Cached; the search reads the details of the
  // snapshots before the one found (SnapshotDetails, cached too).
  Result<std::shared_ptr<const hummock::HummockVersion>> VersionForEpoch(uint32_t table_id,
                                                                         uint64_t epoch);

  // One step of the schedule, now by the clock: applies retention if a retention parameter
  // changed, and starts a scheduled job if one is due and none runs. Returns the id of the job it
  // started, if any. The schedule thread calls this; tests on a fake clock call it directly.
  std::optional<uint64_t> ScheduleTick();
  // Now, as the next ScheduleTick would see it.
  ScheduleState schedule();

  BackupLocation location() const;
  BackupMetrics metrics() const;

  // hummock::ObjectProtectionSet: the current manifest's objects (an unusable location's error).
  Result<std::vector<uint64_t>> ProtectedObjectIds() override;

  // ParamChangeListener: switches location when backup_storage_url or backup_storage_directory
  // changed; wakes the schedule when one of its parameters changed. Notices: how many snapshots
  // stop being listed at the old location, how many the new one has, or why the new one cannot be
  // used.
  void OnParamChanged(const std::string& name, const ParamValues& old_values,
                      const ParamValues& new_values, std::vector<std::string>* notices) override;

 private:
  struct Location;
  BackupManager(metastore::MetaStore& meta_store, hummock::HummockManager& hummock,
                SystemParamsManager& params, BackupManagerOptions options);

  // The current location, opened again (and its manifest read) if it was not usable, unless the
  // last attempt is younger than `min_retry_interval_ms`.
  Result<std::shared_ptr<Location>> UsableLocation(int64_t min_retry_interval_ms = 0);
  std::shared_ptr<Location> CurrentLocation() const;
  std::shared_ptr<Location> OpenLocation(const std::string& url, const std::string& directory);
  Result<uint64_t> StartJob(std::optional<std::string> remarks, bool scheduled);
  // The creation time of the newest snapshot of the current location, from the manifest cache
  // (read again if older than kProtectionRefreshMs: another writer's BACKUP pushes the schedule
  // too; a job's own entry lands there when it succeeds); nullopt if none or unreadable.
  std::optional<int64_t> NewestSnapshotAtMs();
  // When the next scheduled job is due, `newest` being NewestSnapshotAtMs() (nullopt: the
  // schedule is off). REQUIRES: schedule_mu_.
  std::optional<int64_t> NextScheduledAtLocked(uint64_t interval_sec,
                                               std::optional<int64_t> newest);
  // Deletes what SnapshotsPastRetention names at the current location; logs what it deleted and
  // a failure (retention is tried again after the next job).
  void ApplyRetention();
  void ScheduleLoop();
  Status RecoverInterruptedJobs();
  // Deletes the unlisted snapshot objects of `location` older than orphan_min_age_ms; logs what it
  // deleted, and a failure as a warning (orphans cost space, never correctness).
  void DeleteOrphans(Location& location);
  // The current location's manifest from its cache, read again if older than `max_age_ms`.
  Result<backup::Manifest> CachedManifest(Location& location, int64_t max_age_ms);
  void RunJob(uint64_t job_id, std::optional<std::string> remarks, bool scheduled,
              std::shared_ptr<Location> location);
  Status FinishJob(uint64_t job_id, BackupJobState state, const std::string& message);

  metastore::MetaStore& meta_store_;
  hummock::HummockManager& hummock_;
  SystemParamsManager& params_;
  const BackupManagerOptions options_;
  Clock* const clock_;

  std::mutex start_mu_;   // serializes StartBackup
  std::mutex switch_mu_;  // serializes location switches
  mutable std::mutex mu_;
  std::condition_variable job_done_;
  std::shared_ptr<Location> location_;   // guarded by mu_
  std::optional<uint64_t> running_job_;  // guarded by mu_
  std::thread job_thread_;               // guarded by mu_
  BackupMetrics metrics_;                // guarded by mu_
  // snapshot id -> its version (QUERY_EPOCH), guarded by mu_; at most cached_versions entries.
  std::map<uint64_t, std::shared_ptr<const hummock::HummockVersion>> version_cache_;
  std::mutex version_load_mu_;  // one snapshot load at a time

  // The schedule. schedule_mu_ is taken before mu_, never after.
  mutable std::mutex schedule_mu_;
  int64_t opened_at_ms_ = 0;               // by clock_
  ScheduleState schedule_;                 // guarded by schedule_mu_ (next_at_ms computed)
  int64_t failed_at_ms_ = 0;               // guarded by schedule_mu_; the last failure
  bool retention_changed_ = false;         // guarded by schedule_mu_
  bool stopping_ = false;                  // guarded by mu_
  bool schedule_woken_ = false;            // guarded by mu_: a schedule parameter changed
  std::condition_variable schedule_wake_;  // with mu_
  std::mutex retention_mu_;                // one retention pass at a time
  std::mutex drill_mu_;                    // one drill at a time (it holds a snapshot's rows)
  std::thread schedule_thread_;
};

}  // namespace rwmeta::meta
