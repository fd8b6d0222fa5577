#include "meta/backup_manager.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/clock.h"
#include "common/url.h"
#include "common/utf8.h"
#include "metastore/system_param_names.h"
#include "objstore/factory.h"

namespace rwmeta::meta {

namespace {

using metastore::params::kBackupRetentionCount;
using metastore::params::kBackupRetentionSec;
using metastore::params::kBackupScheduleIntervalSec;
using metastore::params::kBackupStorageDirectory;
using metastore::params::kBackupStorageUrl;
// ProtectedObjectIds re-reads the manifest at most this often (another process may have changed
// it: a restore tool, an operator's risectl against a second node).
constexpr int64_t kProtectionRefreshMs = 30'000;

const metastore::TableSchema& JobTable() { return metastore::Model::Get().Table("backup_job"); }

metastore::Row JobRow(const BackupJobInfo& job) {
  metastore::Row row;
  row.emplace_back(static_cast<int64_t>(job.job_id));
  row.emplace_back(std::string(BackupJobStateName(job.state)));
  row.emplace_back(job.message);
  if (job.remarks) {
    row.emplace_back(*job.remarks);
  } else {
    row.emplace_back(std::monostate{});
  }
  row.emplace_back(job.started_at_ms);
  if (job.finished_at_ms) {
    row.emplace_back(*job.finished_at_ms);
  } else {
    row.emplace_back(std::monostate{});
  }
  return row;
}

Result<BackupJobInfo> JobFromRow(const metastore::Row& row) {
  if (row.size() < 6) return DataLossError("backup_job row has too few columns");
  BackupJobInfo job;
  job.job_id = static_cast<uint64_t>(std::get<int64_t>(row[0]));
  const std::string& state = std::get<std::string>(row[1]);
  if (state == "RUNNING") {
    job.state = BackupJobState::kRunning;
  } else if (state == "SUCCEEDED") {
    job.state = BackupJobState::kSucceeded;
  } else if (state == "FAILED") {
    job.state = BackupJobState::kFailed;
  } else {
    return DataLossError(fmt::format("backup_job {}: unknown state \"{}\"", job.job_id, state));
  }
  job.message = std::get<std::string>(row[2]);
  if (job.state == BackupJobState::kFailed) job.error = FailedJobError(job.message);
  if (!metastore::IsNull(row[3])) job.remarks = std::get<std::string>(row[3]);
  job.started_at_ms = std::get<int64_t>(row[4]);
  if (!metastore::IsNull(row[5])) job.finished_at_ms = std::get<int64_t>(row[5]);
  return job;
}

constexpr std::string_view kFailedJobPrefix = "failed backup job ";

// The inverse of StatusCodeName (which stays the one spelling of each name).
std::optional<StatusCode> StatusCodeFromName(std::string_view name) {
  for (int i = static_cast<int>(StatusCode::kOk);
       i <= static_cast<int>(StatusCode::kUnauthenticated); ++i) {
    const auto code = static_cast<StatusCode>(i);
    if (StatusCodeName(code) == name) return code;
  }
  return std::nullopt;
}

// A parameter's value as a number (values are normalized when set; a default fills a missing one).
uint64_t ParamNumber(const SystemParamsManager& params, std::string_view name) {
  Result<std::string> text = params.Get(name);
  uint64_t value = 0;
  if (text.ok()) {
    std::from_chars(text->data(), text->data() + text->size(), value);
  }
  return value;
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  if (bytes < 1024ull * 1024 * 1024) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
  }
  return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
}

}  // namespace

// A failed job's code goes into the message text rather than a column of its own: the history
// outlives the process (backup-job-status after a restart must still say DataLoss), so memory
// alone would not do, and backup_job's columns belong to the model, whose version moves with other
// work. The message already carried Status::ToString(), so "<CODE_NAME>: " after the job prefix is
// a stable encoding that rows of earlier versions share.
// An error may quote stored bytes (a manifest of garbage), and the message goes into a text column
// (PostgreSQL refuses invalid UTF-8), a protobuf string and pgwire: escape what is not UTF-8.
std::string FailedJobMessage(uint64_t job_id, const Status& error) {
  return fmt::format("{}{}: {}", kFailedJobPrefix, job_id, EscapeInvalidUtf8(error.ToString()));
}

Status FailedJobError(std::string_view message) {
  std::string_view rest = message;
  if (rest.starts_with(kFailedJobPrefix)) {
    rest.remove_prefix(kFailedJobPrefix.size());
    const size_t id_end = rest.find(": ");
    const std::string_view id = rest.substr(0, id_end);
    if (id_end != std::string_view::npos && !id.empty() &&
        id.find_first_not_of("0123456789") == std::string_view::npos) {
      rest.remove_prefix(id_end + 2);
    } else {
      rest = message;
    }
  }
  const size_t name_end = rest.find(": ");
  std::optional<StatusCode> code;
  if (name_end != std::string_view::npos) code = StatusCodeFromName(rest.substr(0, name_end));
  if (!code || *code == StatusCode::kOk) return UnknownError(std::string(rest));
  return Status(*code, std::string(rest.substr(name_end + 2)));
}

bool IsScheduledSnapshot(const backup::SnapshotMetadata& entry) { return entry.scheduled; }

bool IsVerifiedSnapshot(const backup::SnapshotMetadata& entry) {
  return !entry.drill || entry.drill->passed;
}

std::vector<uint64_t> SnapshotsPastRetention(const backup::Manifest& manifest,
                                             uint64_t retention_count, uint64_t retention_sec,
                                             int64_t now_ms) {
  std::vector<const backup::SnapshotMetadata*> scheduled;
  for (const auto& entry : manifest.snapshots) {
    if (IsScheduledSnapshot(entry)) scheduled.push_back(&entry);
  }
  std::sort(scheduled.begin(), scheduled.end(),
            [](const auto* a, const auto* b) { return a->id < b->id; });
  const backup::SnapshotMetadata* newest_verified = nullptr;
  for (auto it = scheduled.rbegin(); it != scheduled.rend(); ++it) {
    if (IsVerifiedSnapshot(**it)) {
      newest_verified = *it;
      break;
    }
  }
  // Ages beyond what a millisecond count holds are no limit.
  const bool age_limited =
      retention_sec > 0 && retention_sec < static_cast<uint64_t>(INT64_MAX / 1000);
  std::vector<uint64_t> past;
  for (size_t i = 0; i < scheduled.size(); ++i) {
    const backup::SnapshotMetadata& entry = *scheduled[i];
    const bool beyond_count = retention_count > 0 && scheduled.size() - i > retention_count;
    const bool too_old =
        age_limited && now_ms - entry.created_at_ms > static_cast<int64_t>(retention_sec) * 1000;
    if ((beyond_count || too_old) && &entry != newest_verified) past.push_back(entry.id);
  }
  return past;
}

std::string_view BackupJobStateName(BackupJobState state) {
  switch (state) {
    case BackupJobState::kRunning:
      return "RUNNING";
    case BackupJobState::kSucceeded:
      return "SUCCEEDED";
    case BackupJobState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

// One backup location, opened. Immutable after OpenLocation except the manifest cache.
struct BackupManager::Location {
  std::string url;  // raw (may hold credentials): never logged
  std::string directory;
  std::unique_ptr<objstore::ObjectStore> store;
  std::unique_ptr<backup::BackupStorage> storage;
  // OK, or why the location cannot be used (then store/storage may be null).
  Status status;

  int64_t opened_at_ms = 0;

  std::mutex cache_mu;
  backup::Manifest manifest;  // guarded by cache_mu
  int64_t manifest_read_at_ms = 0;

  std::string Display() const { return fmt::format("{} directory {}", RedactUrl(url), directory); }
};

BackupManager::BackupManager(metastore::MetaStore& meta_store, hummock::HummockManager& hummock,
                             SystemParamsManager& params, BackupManagerOptions options)
    : meta_store_(meta_store),
      hummock_(hummock),
      params_(params),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock()) {}

Result<std::unique_ptr<BackupManager>> BackupManager::Open(metastore::MetaStore& meta_store,
                                                           hummock::HummockManager& hummock,
                                                           SystemParamsManager& params,
                                                           BackupManagerOptions options) {
  std::unique_ptr<BackupManager> m(
      new BackupManager(meta_store, hummock, params, std::move(options)));
  ParamValues values = params.Values();
  m->location_ = m->OpenLocation(values[kBackupStorageUrl], values[kBackupStorageDirectory]);
  if (m->location_->status.ok()) {
    std::lock_guard lock(m->location_->cache_mu);
    spdlog::info("backup: location {} holds {} meta snapshot(s)", m->location_->Display(),
                 m->location_->manifest.snapshots.size());
  } else {
    spdlog::warn("backup: location {} cannot be used (BACKUP fails until it can): {}",
                 m->location_->Display(), m->location_->status.ToString());
  }
  RWMETA_RETURN_IF_ERROR(m->RecoverInterruptedJobs());
  if (m->location_->status.ok()) m->DeleteOrphans(*m->location_);
  hummock.SetProtectionSet(m.get());
  params.AddListener(m.get());
  m->opened_at_ms_ = m->clock_->NowMs();
  const uint64_t interval = ParamNumber(params, kBackupScheduleIntervalSec);
  if (interval == 0) {
    spdlog::info("backup: the schedule is off ({} = 0): snapshots are taken only on demand",
                 kBackupScheduleIntervalSec);
  } else {
    spdlog::info(
        "backup: a scheduled meta snapshot every {} s after the newest one ({}), keeping {} "
        "scheduled ({}, 0 = all){}",
        interval, kBackupScheduleIntervalSec, ParamNumber(params, kBackupRetentionCount),
        kBackupRetentionCount,
        ParamNumber(params, kBackupRetentionSec) > 0
            ? fmt::format(" for at most {} s ({})", ParamNumber(params, kBackupRetentionSec),
                          kBackupRetentionSec)
            : "");
  }
  if (m->options_.run_schedule) {
    BackupManager* manager = m.get();
    m->schedule_thread_ = std::thread([manager] { manager->ScheduleLoop(); });
  }
  return m;
}

BackupManager::~BackupManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  schedule_wake_.notify_all();
  if (schedule_thread_.joinable()) schedule_thread_.join();
  std::thread job;
  {
    std::lock_guard lock(mu_);
    job = std::move(job_thread_);
  }
  if (job.joinable()) job.join();
  hummock_.SetProtectionSet(nullptr);
  params_.RemoveListener(this);
}

std::shared_ptr<BackupManager::Location> BackupManager::OpenLocation(const std::string& url,
                                                                     const std::string& directory) {
  auto location = std::make_shared<Location>();
  location->url = url;
  location->directory = directory;
  location->opened_at_ms = UnixNowMs();
  Result<std::unique_ptr<objstore::ObjectStore>> store =
      options_.open_store ? options_.open_store(url) : objstore::OpenObjectStore(url);
  if (!store.ok()) {
    location->status = store.status().WithContext("backup storage " + location->Display());
    return location;
  }
  location->store = std::move(store).value();
  location->storage =
      std::make_unique<backup::BackupStorage>(location->store.get(), directory, options_.storage);
  Result<backup::Manifest> manifest = location->storage->ReadManifest();
  if (!manifest.ok()) {
    location->status = manifest.status().WithContext("backup storage " + location->Display());
    return location;
  }
  location->manifest = std::move(manifest).value();
  location->manifest_read_at_ms = UnixNowMs();
  return location;
}

std::shared_ptr<BackupManager::Location> BackupManager::CurrentLocation() const {
  std::lock_guard lock(mu_);
  return location_;
}

Result<std::shared_ptr<BackupManager::Location>> BackupManager::UsableLocation(
    int64_t min_retry_interval_ms) {
  std::shared_ptr<Location> location = CurrentLocation();
  if (location->status.ok()) return location;
  if (UnixNowMs() - location->opened_at_ms < min_retry_interval_ms) return location->status;
  // Unusable until now: try again (the server may be back, the bucket created).
  std::lock_guard switching(switch_mu_);
  location = CurrentLocation();  // switched meanwhile, perhaps
  if (location->status.ok()) return location;
  std::shared_ptr<Location> reopened = OpenLocation(location->url, location->directory);
  if (!reopened->status.ok()) return reopened->status;
  std::lock_guard lock(mu_);
  if (location_ == location) {
    location_ = reopened;
    spdlog::info("backup: location {} is usable now", reopened->Display());
  }
  return reopened;
}

Result<backup::Manifest> BackupManager::CachedManifest(Location& location, int64_t max_age_ms) {
  std::lock_guard lock(location.cache_mu);
  if (UnixNowMs() - location.manifest_read_at_ms > max_age_ms) {
    RWMETA_ASSIGN_OR_RETURN(location.manifest, location.storage->ReadManifest());
    location.manifest_read_at_ms = UnixNowMs();
  }
  return location.manifest;
}

Status BackupManager::RecoverInterruptedJobs() {
  std::vector<BackupJobInfo> running;
  {
    RWMETA_ASSIGN_OR_RETURN(auto view, meta_store_.BeginSnapshotRead());
    RWMETA_RETURN_IF_ERROR(view->Scan(JobTable(), [&](const metastore::Row& row) -> Status {
      RWMETA_ASSIGN_OR_RETURN(BackupJobInfo job, JobFromRow(row));
      if (job.state == BackupJobState::kRunning) running.push_back(std::move(job));
      return Status::Ok();
    }));
  }
  if (running.empty()) return Status::Ok();
  std::optional<backup::Manifest> manifest;
  if (location_->status.ok()) {
    std::lock_guard lock(location_->cache_mu);
    manifest = location_->manifest;
  }
  for (BackupJobInfo& job : running) {
    if (manifest && manifest->Find(job.job_id) != nullptr) {
      job.state = BackupJobState::kSucceeded;
      job.message = fmt::format(
          "snapshot {} is in the manifest; the job's end was not recorded (the meta node stopped "
          "just after it, or this meta store was restored from that snapshot)",
          job.job_id);
    } else {
      job.state = BackupJobState::kFailed;
      // Aborted: nothing is wrong with the location or the data; running the job again is the
      // remedy.
      job.error = AbortedError(
          fmt::format("interrupted: the meta node stopped while the job ran{}",
                      manifest ? "" : " (the backup location cannot be read to check)"));
      job.message = FailedJobMessage(job.job_id, job.error);
      if (manifest) {
        // The snapshot id was this job's alone (a sequence hands it out once) and the manifest
        // does not list it: an object under that name is the job's upload, cut short.
        const std::string key = backup::SnapshotKey(location_->directory, job.job_id);
        Status deleted = location_->store->Delete(key);
        if (!deleted.ok() && !IsNotFound(deleted)) {
          spdlog::warn("backup: deleting {}, left by interrupted job {}: {}", key, job.job_id,
                       deleted.ToString());
        }
      }
    }
    job.finished_at_ms = clock_->NowMs();
    spdlog::info("backup: job {} was left RUNNING by an earlier meta node: now {}: {}", job.job_id,
                 BackupJobStateName(job.state), job.message);
    RWMETA_RETURN_IF_ERROR(metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) {
      return txn.Update(JobTable(), JobRow(job));
    }));
  }
  return Status::Ok();
}

Result<uint64_t> BackupManager::StartBackup(std::optional<std::string> remarks) {
  return StartJob(std::move(remarks), /*scheduled=*/false);
}

Result<uint64_t> BackupManager::StartJob(std::optional<std::string> remarks, bool scheduled) {
  std::lock_guard starting(start_mu_);
  std::thread previous;
  {
    std::lock_guard lock(mu_);
    if (running_job_) {
      return FailedPreconditionError(fmt::format(
          "a backup job is already running: job {}; only one runs at a time: wait for it "
          "(risectl meta backup-job-status {}) and try again",
          *running_job_, *running_job_));
    }
    previous = std::move(job_thread_);
  }
  if (previous.joinable()) previous.join();

  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest, CachedManifest(*location, 0));
  if (manifest.snapshots.size() >= options_.max_snapshots) {
    return ResourceExhaustedError(fmt::format(
        "too many meta snapshots at backup storage {}: {} exist, at most {}; delete some first "
        "(DELETE META SNAPSHOT <id> or risectl meta delete-meta-snapshots --snapshot-ids <ids>)",
        location->Display(), manifest.snapshots.size(), options_.max_snapshots));
  }

  BackupJobInfo job;
  job.state = BackupJobState::kRunning;
  job.remarks = remarks;
  job.started_at_ms = clock_->NowMs();
  RWMETA_RETURN_IF_ERROR(
      metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) -> Status {
        RWMETA_ASSIGN_OR_RETURN(int64_t id, metastore::NextId(txn, backup::kSnapshotIdSequence));
        job.job_id = static_cast<uint64_t>(id);
        return txn.Insert(JobTable(), JobRow(job));
      }).WithContext("recording the backup job"));

  spdlog::info("backup: job {} started{} -> {}", job.job_id,
               remarks ? fmt::format(" (remarks \"{}\")", *remarks) : "", location->Display());
  std::lock_guard lock(mu_);
  running_job_ = job.job_id;
  ++metrics_.jobs_started;
  if (scheduled) ++metrics_.scheduled_jobs_started;
  job_thread_ = std::thread([this, id = job.job_id, remarks = std::move(remarks), scheduled,
                             location] { RunJob(id, remarks, scheduled, location); });
  return job.job_id;
}

void BackupManager::RunJob(uint64_t job_id, std::optional<std::string> remarks, bool scheduled,
                           std::shared_ptr<Location> location) {
  const auto started = std::chrono::steady_clock::now();
  // The cut pins its version until the new entry is in the location's cached manifest, which is
  // what GC asks (ProtectedObjectIds): unpinned earlier, a GC round in between could find the
  // snapshot's objects neither pinned nor protected.
  std::optional<hummock::ConsistentCut> pinned;
  Result<backup::SnapshotMetadata> written = [&]() -> Result<backup::SnapshotMetadata> {
    if (options_.before_cut) {
      RWMETA_RETURN_IF_ERROR(options_.before_cut().WithContext("checkpoint before the snapshot"));
    }
    RWMETA_ASSIGN_OR_RETURN(hummock::ConsistentCut taken, hummock_.BeginConsistentCut());
    const hummock::ConsistentCut& cut = pinned.emplace(std::move(taken));
    backup::SnapshotHeader header;
    header.cluster_id = options_.cluster_id;
    header.rwmeta_version = options_.rwmeta_version;
    header.source_backend = std::string(meta_store_.backend());
    header.created_at_ms = clock_->NowMs();
    return location->storage->WriteSnapshot(job_id, *cut.view, cut.version->version(), header,
                                            remarks, metastore::Model::Get(), scheduled);
  }();
  const int64_t latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count();

  BackupJobState state;
  std::string message;
  if (written.ok()) {
    {
      std::lock_guard lock(location->cache_mu);
      location->manifest.snapshots.push_back(*written);
      // The published manifest id is not known here: force a re-read on the next use.
      location->manifest_read_at_ms = 0;
    }
    pinned.reset();  // protected from here on
    state = BackupJobState::kSucceeded;
    message = fmt::format(
        "snapshot {} of hummock version {} ({} objects, max committed epoch {}): {} in {} ms at "
        "{}",
        job_id, written->hummock_version_id, written->object_count, written->max_committed_epoch,
        HumanBytes(written->size_bytes), latency_ms, location->Display());
    std::lock_guard lock(mu_);
    if (location_ != location) {
      message +=
          "; the backup location changed while the job ran, so this snapshot is at the "
          "previous location";
    }
  } else {
    pinned.reset();
    state = BackupJobState::kFailed;
    message = FailedJobMessage(job_id, written.status());
  }
  if (state == BackupJobState::kSucceeded) {
    spdlog::info("backup: job {} succeeded: {}", job_id, message);
  } else {
    spdlog::error("backup: job {} failed after {} ms: {}", job_id, latency_ms, message);
  }
  Status recorded = FinishJob(job_id, state, message);
  if (!recorded.ok()) {
    spdlog::error(
        "backup: recording the end of job {} failed (it stays RUNNING in backup_job "
        "until the next meta node start): {}",
        job_id, recorded.ToString());
  }
  if (scheduled) {
    std::lock_guard lock(schedule_mu_);
    if (state == BackupJobState::kSucceeded) {
      schedule_.consecutive_failures = 0;
      schedule_.last_error = Status::Ok();
    } else {
      ++schedule_.consecutive_failures;
      schedule_.last_error = written.status();
      failed_at_ms_ = clock_->NowMs();
    }
  }
  // Before the job counts as ended, so that whoever waits for it sees the drill and retention
  // done. The drill first: retention keeps the newest verified snapshot.
  if (scheduled && state == BackupJobState::kSucceeded) {
    Result<restore::DrillReport> drill = DrillSnapshot(job_id);
    if (!drill.ok()) {
      spdlog::error("backup: the restore drill of scheduled meta snapshot {} could not run: {}",
                    job_id, drill.status().ToString());
    }
    ApplyRetention();
  }
  DeleteOrphans(*location);
  std::lock_guard lock(mu_);
  if (state == BackupJobState::kSucceeded) {
    ++metrics_.jobs_succeeded;
    metrics_.bytes_written += written->size_bytes;
  } else {
    ++metrics_.jobs_failed;
    if (scheduled) ++metrics_.scheduled_jobs_failed;
  }
  metrics_.last_job_latency_ms = latency_ms;
  metrics_.total_job_latency_ms += latency_ms;
  running_job_.reset();
  job_done_.notify_all();
}

void BackupManager::DeleteOrphans(Location& location) {
  Result<std::vector<std::string>> deleted =
      location.storage->CleanUpUnlisted(options_.orphan_min_age_ms);
  if (!deleted.ok()) {
    spdlog::warn("backup: looking for orphaned snapshot objects at {}: {}", location.Display(),
                 deleted.status().ToString());
  } else if (!deleted->empty()) {
    spdlog::info(
        "backup: deleted {} orphaned snapshot object(s) at {} (uploads no manifest "
        "lists, older than {} s): {}",
        deleted->size(), location.Display(), options_.orphan_min_age_ms / 1000,
        fmt::join(*deleted, ", "));
  }
}

Status BackupManager::FinishJob(uint64_t job_id, BackupJobState state, const std::string& message) {
  return metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) -> Status {
    RWMETA_ASSIGN_OR_RETURN(auto row,
                            txn.Get(JobTable(), metastore::Key{static_cast<int64_t>(job_id)}));
    if (!row) return NotFoundError(fmt::format("backup job {} vanished from backup_job", job_id));
    RWMETA_ASSIGN_OR_RETURN(BackupJobInfo job, JobFromRow(*row));
    job.state = state;
    job.message = message;
    job.finished_at_ms = clock_->NowMs();
    return txn.Update(JobTable(), JobRow(job));
  });
}

Result<BackupJobInfo> BackupManager::GetJob(uint64_t job_id) {
  RWMETA_ASSIGN_OR_RETURN(auto view, meta_store_.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(auto row,
                          view->Get(JobTable(), metastore::Key{static_cast<int64_t>(job_id)}));
  if (!row) return NotFoundError(fmt::format("backup job {} not found", job_id));
  return JobFromRow(*row);
}

Result<BackupJobInfo> BackupManager::WaitForJob(uint64_t job_id,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    RWMETA_ASSIGN_OR_RETURN(BackupJobInfo job, GetJob(job_id));
    std::unique_lock lock(mu_);
    if (job.state != BackupJobState::kRunning) {
      // The row is final before the job thread lets go of running_job_ (and updates the
      // metrics): wait for that too, so a StartBackup right after this is not refused as
      // "already running".
      job_done_.wait_until(lock, deadline, [&] { return running_job_ != job_id; });
      return job;
    }
    if (running_job_ != job_id) {
      // Finished between the read and the lock (or run by nobody: a row left RUNNING whose end
      // could not be recorded): read once more.
      lock.unlock();
      RWMETA_ASSIGN_OR_RETURN(job, GetJob(job_id));
      return job;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return job;
    job_done_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
  }
}

Result<std::vector<BackupJobInfo>> BackupManager::ListJobs(size_t limit) {
  std::vector<BackupJobInfo> jobs;
  RWMETA_ASSIGN_OR_RETURN(auto view, meta_store_.BeginSnapshotRead());
  RWMETA_RETURN_IF_ERROR(view->Scan(JobTable(), [&](const metastore::Row& row) -> Status {
    RWMETA_ASSIGN_OR_RETURN(BackupJobInfo job, JobFromRow(row));
    jobs.push_back(std::move(job));
    return Status::Ok();
  }));
  std::reverse(jobs.begin(), jobs.end());
  if (jobs.size() > limit) jobs.resize(limit);
  return jobs;
}

Status BackupManager::DeleteSnapshots(const std::vector<uint64_t>& ids) {
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  Status deleted = location->storage->DeleteSnapshots(ids);
  {
    std::lock_guard lock(location->cache_mu);
    location->manifest_read_at_ms = 0;
  }
  if (!deleted.ok()) return deleted;
  if (!ids.empty()) {
    spdlog::info(
        "backup: deleted meta snapshot(s) {} at {}; their objects are released to the "
        "next garbage collection",
        fmt::join(ids, ", "), location->Display());
  }
  std::lock_guard lock(mu_);
  metrics_.snapshots_deleted += ids.size();
  for (uint64_t id : ids) version_cache_.erase(id);
  return Status::Ok();
}

Result<backup::Manifest> BackupManager::GetManifest(BackupLocation* where) {
  Result<std::shared_ptr<Location>> location = UsableLocation();
  if (!location.ok()) {
    if (where != nullptr) *where = this->location();
    return location.status();
  }
  if (where != nullptr) {
    *where = {RedactUrl((*location)->url), (*location)->directory, (*location)->status};
  }
  return CachedManifest(**location, 0);
}

Result<backup::SnapshotContents> BackupManager::VerifySnapshot(uint64_t id) {
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  return location->storage->VerifySnapshot(id);
}

Result<restore::DrillReport> BackupManager::DrillSnapshot(uint64_t id) {
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  std::lock_guard drilling(drill_mu_);
  restore::DrillOptions options;
  options.clock = clock_;
  RWMETA_ASSIGN_OR_RETURN(restore::DrillReport report,
                          restore::DrillSnapshot(*location->storage, id, hummock_.state_store(),
                                                 hummock_.options().data_directory, options));
  const std::string line = restore::FormatDrillReport(report);
  if (report.passed) {
    spdlog::info("backup: restore drill of meta snapshot {} passed: {}", id, line);
  } else {
    spdlog::error("backup: restore drill of meta snapshot {} FAILED: {}", id, line);
  }
  Status recorded = location->storage
                        ->RecordDrill(id, backup::DrillResult{.at_ms = report.started_at_ms,
                                                              .duration_ms = report.duration_ms,
                                                              .passed = report.passed,
                                                              .message = line})
                        .status();
  {
    std::lock_guard lock(location->cache_mu);
    location->manifest_read_at_ms = 0;
  }
  if (!recorded.ok()) {
    spdlog::warn("backup: recording the drill of meta snapshot {} in the manifest: {}", id,
                 recorded.ToString());
  }
  std::lock_guard lock(mu_);
  ++metrics_.drills_run;
  if (!report.passed) ++metrics_.drills_failed;
  return report;
}

Result<std::shared_ptr<const hummock::HummockVersion>> BackupManager::VersionForEpoch(
    uint32_t table_id, uint64_t epoch) {
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  // Each snapshot's state table info comes from its object's header (cached): a snapshot whose
  // details cannot be read fails the search rather than being skipped, so an epoch is never
  // reported missing while a snapshot that may hold it is unreadable.
  auto find = [&](const backup::Manifest& manifest) -> Result<std::optional<uint64_t>> {
    for (const auto& entry : manifest.snapshots) {
      RWMETA_ASSIGN_OR_RETURN(auto details, location->storage->Details(entry));
      auto it = details->state_table_info.find(table_id);
      if (it != details->state_table_info.end() && it->second.committed_epoch == epoch) {
        return std::optional<uint64_t>(entry.id);
      }
    }
    return std::optional<uint64_t>();
  };
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest,
                          CachedManifest(*location, kProtectionRefreshMs));
  RWMETA_ASSIGN_OR_RETURN(std::optional<uint64_t> snapshot_id, find(manifest));
  if (!snapshot_id) {
    RWMETA_ASSIGN_OR_RETURN(manifest, CachedManifest(*location, 0));
    RWMETA_ASSIGN_OR_RETURN(snapshot_id, find(manifest));
  }
  if (!snapshot_id) {
    return NotFoundError(
        fmt::format("Read backup error: backup include epoch {} not found", epoch));
  }
  {
    std::lock_guard lock(mu_);
    auto it = version_cache_.find(*snapshot_id);
    if (it != version_cache_.end()) return it->second;
  }
  // One load at a time: concurrent readers of the same snapshot wait for the first one's load.
  std::lock_guard loading(version_load_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = version_cache_.find(*snapshot_id);
    if (it != version_cache_.end()) return it->second;
  }
  RWMETA_ASSIGN_OR_RETURN(auto reader, location->storage->OpenSnapshot(*snapshot_id));
  RWMETA_ASSIGN_OR_RETURN(backup::SnapshotContents contents, reader->ReadAll(nullptr));
  auto version = std::make_shared<const hummock::HummockVersion>(std::move(contents.version));
  spdlog::info("backup: loaded the hummock version {} of meta snapshot {} for reads at epoch {}",
               version->id(), *snapshot_id, epoch);
  std::lock_guard lock(mu_);
  if (location_ == location) {
    while (!version_cache_.empty() && version_cache_.size() >= options_.cached_versions) {
      version_cache_.erase(version_cache_.begin());  // the oldest snapshot
    }
    if (options_.cached_versions > 0) version_cache_[*snapshot_id] = version;
  }
  return version;
}

std::optional<int64_t> BackupManager::NewestSnapshotAtMs() {
  std::shared_ptr<Location> location = CurrentLocation();
  if (!location->status.ok()) return std::nullopt;
  Result<backup::Manifest> manifest = CachedManifest(*location, kProtectionRefreshMs);
  if (!manifest.ok()) return std::nullopt;
  std::optional<int64_t> newest;
  for (const auto& entry : manifest->snapshots) {
    newest = std::max(newest.value_or(entry.created_at_ms), entry.created_at_ms);
  }
  return newest;
}

std::optional<int64_t> BackupManager::NextScheduledAtLocked(uint64_t interval_sec,
                                                            std::optional<int64_t> newest) {
  if (interval_sec == 0) return std::nullopt;
  const int64_t interval_ms =
      static_cast<int64_t>(std::min<uint64_t>(interval_sec, INT64_MAX / 4000) * 1000);
  const int64_t due = newest.value_or(opened_at_ms_) + interval_ms;
  // After failures, the retry's backoff, unless a snapshot was taken since the last failure.
  if (schedule_.consecutive_failures > 0 && newest.value_or(0) < failed_at_ms_) {
    const uint64_t shift = std::min<uint64_t>(schedule_.consecutive_failures - 1, 30);
    const int64_t backoff =
        std::min(interval_ms, options_.schedule_retry_min_ms * (int64_t{1} << shift));
    return failed_at_ms_ + backoff;
  }
  return due;
}

std::optional<uint64_t> BackupManager::ScheduleTick() {
  bool retention = false;
  {
    std::lock_guard lock(schedule_mu_);
    std::swap(retention, retention_changed_);
  }
  if (retention) ApplyRetention();

  const uint64_t interval = ParamNumber(params_, kBackupScheduleIntervalSec);
  const std::optional<int64_t> newest = NewestSnapshotAtMs();
  const int64_t now = clock_->NowMs();
  {
    std::lock_guard lock(schedule_mu_);
    schedule_.interval_sec = interval;
    schedule_.next_at_ms = NextScheduledAtLocked(interval, newest);
    if (!schedule_.next_at_ms || now < *schedule_.next_at_ms) return std::nullopt;
  }
  {
    std::lock_guard lock(mu_);
    if (running_job_) return std::nullopt;  // due: starts when that job ends
  }
  Result<uint64_t> id = StartJob(std::string(kScheduledRemark), /*scheduled=*/true);
  if (id.ok()) return *id;
  if (id.status().code() == StatusCode::kFailedPrecondition) return std::nullopt;  // a job began
  uint64_t failures = 0;
  {
    std::lock_guard lock(schedule_mu_);
    failures = ++schedule_.consecutive_failures;
    schedule_.last_error = id.status();
    failed_at_ms_ = now;
  }
  {
    std::lock_guard lock(mu_);
    ++metrics_.scheduled_jobs_failed;
  }
  spdlog::error("backup: a scheduled job could not start ({} failure(s) in a row): {}", failures,
                id.status().ToString());
  return std::nullopt;
}

void BackupManager::ApplyRetention() {
  std::lock_guard retaining(retention_mu_);
  Result<backup::Manifest> manifest = GetManifest();
  if (!manifest.ok()) {
    spdlog::warn("backup: retention skipped: {}", manifest.status().ToString());
    return;
  }
  const uint64_t count = ParamNumber(params_, kBackupRetentionCount);
  const uint64_t seconds = ParamNumber(params_, kBackupRetentionSec);
  std::vector<uint64_t> past = SnapshotsPastRetention(*manifest, count, seconds, clock_->NowMs());
  if (past.empty()) return;
  Status deleted = DeleteSnapshots(past);
  if (!deleted.ok()) {
    spdlog::warn("backup: retention could not delete scheduled snapshot(s) {}: {}",
                 fmt::join(past, ", "), deleted.ToString());
    return;
  }
  spdlog::info("backup: retention deleted scheduled meta snapshot(s) {} ({} = {}, {} = {})",
               fmt::join(past, ", "), kBackupRetentionCount, count, kBackupRetentionSec, seconds);
  std::lock_guard lock(mu_);
  metrics_.snapshots_deleted_by_retention += past.size();
}

void BackupManager::ScheduleLoop() {
  while (true) {
    ScheduleTick();
    std::unique_lock lock(mu_);
    schedule_wake_.wait_for(lock, std::chrono::seconds(1),
                            [&] { return stopping_ || schedule_woken_; });
    if (stopping_) return;
    schedule_woken_ = false;
  }
}

ScheduleState BackupManager::schedule() {
  const uint64_t interval = ParamNumber(params_, kBackupScheduleIntervalSec);
  const std::optional<int64_t> newest = NewestSnapshotAtMs();
  std::lock_guard lock(schedule_mu_);
  schedule_.interval_sec = interval;
  schedule_.next_at_ms = NextScheduledAtLocked(interval, newest);
  return schedule_;
}

BackupLocation BackupManager::location() const {
  std::lock_guard lock(mu_);
  return {RedactUrl(location_->url), location_->directory, location_->status};
}

BackupMetrics BackupManager::metrics() const {
  std::lock_guard lock(mu_);
  return metrics_;
}

Result<std::vector<uint64_t>> BackupManager::ProtectedObjectIds() {
  // Vacuum asks every round: an unreachable location is not retried at that pace.
  auto location = UsableLocation(kProtectionRefreshMs);
  if (!location.ok()) {
    return location.status().WithContext(
        "the backup location's snapshots cannot be read, so nothing is garbage-collected");
  }
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest,
                          CachedManifest(**location, kProtectionRefreshMs));
  // Exact: every listed snapshot's object ids (cached by the storage), or its error.
  return (*location)->storage->ProtectedObjectIds(manifest);
}

Result<std::shared_ptr<const backup::SnapshotDetails>> BackupManager::SnapshotDetails(
    const backup::SnapshotMetadata& entry) {
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<Location> location, UsableLocation());
  return location->storage->Details(entry);
}

void BackupManager::OnParamChanged(const std::string& name, const ParamValues& /*old_values*/,
                                   const ParamValues& /*new_values*/,
                                   std::vector<std::string>* notices) {
  if (name == kBackupRetentionCount || name == kBackupRetentionSec) {
    std::lock_guard lock(schedule_mu_);
    retention_changed_ = true;
  }
  if (name == kBackupScheduleIntervalSec || name == kBackupRetentionCount ||
      name == kBackupRetentionSec) {
    {
      std::lock_guard lock(mu_);
      schedule_woken_ = true;
    }
    schedule_wake_.notify_all();
    return;
  }
  if (name != kBackupStorageUrl && name != kBackupStorageDirectory) return;
  std::lock_guard switching(switch_mu_);
  // The latest values, not the ones of this change: two changes racing must end at the last.
  ParamValues values = params_.Values();
  const std::string& url = values[kBackupStorageUrl];
  const std::string& directory = values[kBackupStorageDirectory];
  std::shared_ptr<Location> old = CurrentLocation();
  if (old->url == url && old->directory == directory) return;

  std::shared_ptr<Location> next = OpenLocation(url, directory);
  {
    std::lock_guard lock(mu_);
    location_ = next;
    version_cache_.clear();
  }
  size_t old_count = 0;
  if (old->status.ok()) {
    std::lock_guard lock(old->cache_mu);
    old_count = old->manifest.snapshots.size();
  }
  if (old_count > 0) {
    notices->push_back(fmt::format(
        "{} meta snapshot(s) at the previous backup location ({}) are no longer listed or "
        "protected from garbage collection; they are not deleted and come back if the backup "
        "location is set back",
        old_count, old->Display()));
  }
  if (!next->status.ok()) {
    notices->push_back(
        fmt::format("the new backup location cannot be used yet: {}; BACKUP fails "
                    "and garbage collection pauses until it can",
                    next->status.ToString()));
    spdlog::warn("backup: switched to {}, which cannot be used yet: {}", next->Display(),
                 next->status.ToString());
    return;
  }
  size_t new_count = 0;
  {
    std::lock_guard lock(next->cache_mu);
    new_count = next->manifest.snapshots.size();
  }
  if (new_count > 0) {
    notices->push_back(fmt::format("the backup location {} holds {} meta snapshot(s)",
                                   next->Display(), new_count));
  }
  spdlog::info("backup: switched from {} ({} snapshots) to {} ({} snapshots)", old->Display(),
               old_count, next->Display(), new_count);
}

}  // namespace rwmeta::meta
