// BackupBackend: what the gRPC BackupService (backup_service.h) needs from the meta node's meta
// snapshots, so that the service is a thin adapter (request in, backend call, response out) and
// its tests can stand a small fake in for a whole BackupManager.
//
// The shape of rpc::MetaBackend (rpc/meta_backend.h), with the meta layer's own plain types
// (meta::BackupJobInfo, backup::Manifest, ...) since the service lives in src/server, which may
// depend on src/meta. The meta node serves BackupManagerBackend, which forwards to its
// meta::BackupManager.
//
// Thread-safety: implementations must be thread-safe; gRPC calls them concurrently from its worker
// threads. Every returned Status crosses the wire unchanged (code and message,
// rpc/status_grpc.h), so messages must be fit for an operator and free of secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backup/manifest.h"
#include "backup/snapshot_format.h"
#include "common/status.h"
#include "meta/backup_manager.h"

namespace rwmeta::server {

class BackupBackend {
 public:
  virtual ~BackupBackend() = default;

  // Starts a backup job and returns its id (also the id of the snapshot it makes) at once.
  // FailedPrecondition while another job runs, ResourceExhausted when the location is full, the
  // location's error if it is unusable, the meta store's errors.
  virtual Result<uint64_t> StartBackup(std::optional<std::string> remarks) = 0;
  // The job's row; a FAILED job's `error` holds the code it failed with. NotFound
  // ("backup job N not found") for an unknown id.
  virtual Result<meta::BackupJobInfo> GetJob(uint64_t job_id) = 0;
  // Up to `limit` jobs, newest first.
  virtual Result<std::vector<meta::BackupJobInfo>> ListJobs(size_t limit) = 0;
  // Deletes snapshots from the current location: NotFound naming every unlisted id, and then
  // nothing is deleted; OK for an empty list.
  virtual Status DeleteSnapshots(const std::vector<uint64_t>& ids) = 0;
  // The current location's manifest, and in `*location` (not null) the location it comes from.
  // The location's error if it cannot be read.
  virtual Result<backup::Manifest> GetManifest(meta::BackupLocation* location) = 0;
  // The details (object ids, state table info) of `entry`, an entry of the manifest GetManifest
  // returned: from the entry or its object's header. DataLoss if the object is missing or
  // damaged, Unimplemented (unknown format version), the location's errors.
  virtual Result<std::shared_ptr<const backup::SnapshotDetails>> SnapshotDetails(
      const backup::SnapshotMetadata& entry) = 0;
  // Reads snapshot `id` whole and checks it against its manifest entry: NotFound (not listed or
  // object missing), DataLoss (corrupt), Unimplemented (unknown format version).
  virtual Result<backup::SnapshotContents> VerifySnapshot(uint64_t id) = 0;
  // The job counters since the node started.
  virtual meta::BackupMetrics Metrics() = 0;
  // What the schedule of meta snapshots is doing.
  virtual meta::ScheduleState Schedule() = 0;
  // Runs a restore drill of snapshot `id` and records it: a report (passed or not), or NotFound
  // (not listed) and the stores' errors when the drill cannot run.
  virtual Result<restore::DrillReport> DrillSnapshot(uint64_t id) = 0;
};

// The meta node's BackupBackend: each method forwards to the same-named method of `manager`
// (metrics() for Metrics), whose contracts these are. Not final: a test may count or hold calls
// by overriding one method and calling this one.
class BackupManagerBackend : public BackupBackend {
 public:
  // `manager` is not owned and must outlive the backend.
  explicit BackupManagerBackend(meta::BackupManager& manager) : manager_(manager) {}

  Result<uint64_t> StartBackup(std::optional<std::string> remarks) override {
    return manager_.StartBackup(std::move(remarks));
  }
  Result<meta::BackupJobInfo> GetJob(uint64_t job_id) override { return manager_.GetJob(job_id); }
  Result<std::vector<meta::BackupJobInfo>> ListJobs(size_t limit) override {
    return manager_.ListJobs(limit);
  }
  Status DeleteSnapshots(const std::vector<uint64_t>& ids) override {
    return manager_.DeleteSnapshots(ids);
  }
  Result<backup::Manifest> GetManifest(meta::BackupLocation* location) override {
    return manager_.GetManifest(location);
  }
  Result<std::shared_ptr<const backup::SnapshotDetails>> SnapshotDetails(
      const backup::SnapshotMetadata& entry) override {
    return manager_.SnapshotDetails(entry);
  }
  Result<backup::SnapshotContents> VerifySnapshot(uint64_t id) override {
    return manager_.VerifySnapshot(id);
  }
  meta::BackupMetrics Metrics() override { return manager_.metrics(); }
  meta::ScheduleState Schedule() override { return manager_.schedule(); }
  Result<restore::DrillReport> DrillSnapshot(uint64_t id) override {
    return manager_.DrillSnapshot(id);
  }

 private:
  meta::BackupManager& manager_;
};

}  // namespace rwmeta::server
