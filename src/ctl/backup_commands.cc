#include "ctl/backup_commands.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ctl/format.h"
#include "ctl/hummock_commands.h"
#include "ctl/id_argument.h"
#include "proto/backup_service.grpc.pb.h"
#include "rpc/meta_client.h"
#include "rpc/status_grpc.h"

namespace rwmeta::ctl {
namespace {

namespace bs = ::rwmeta::backup_service;

std::string StatusName(bs::BackupJobStatus status) {
  switch (status) {
    case bs::RUNNING:
      return "RUNNING";
    case bs::SUCCEEDED:
      return "SUCCEEDED";
    case bs::NOT_FOUND:
      return "NOT_FOUND";
    case bs::FAILED:
      return "FAILED";
    default:
      return "UNSPECIFIED";
  }
}

std::string JoinIds(const std::vector<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

// "nightly", or "(none)" when a field is absent.
std::string OrNone(bool present, const std::string& value) {
  return present ? value : std::string("(none)");
}

std::string Location(const bs::BackupLocation& location) {
  return location.url() + " directory " + location.directory();
}

// The "J, <message>" tail of RisingWave's job lines ("J" alone for an empty message).
std::string JobAndMessage(uint64_t job_id, const std::string& message) {
  return message.empty() ? fmt::format("job {}", job_id)
                         : fmt::format("job {}, {}", job_id, message);
}

using BackupClient = rpc::ServiceClient<bs::BackupService>;
using Stub = bs::BackupService::Stub;

Result<bs::GetBackupJobStatusResponse> GetJobStatus(BackupClient& client, uint64_t job_id) {
  bs::GetBackupJobStatusRequest request;
  request.set_job_id(job_id);
  return client.Call("GetBackupJobStatus", &Stub::GetBackupJobStatus, request);
}

Result<bs::GetMetaSnapshotManifestResponse> GetManifest(BackupClient& client,
                                                        bool include_object_ids) {
  bs::GetMetaSnapshotManifestRequest request;
  request.set_include_object_ids(include_object_ids);
  return client.Call("GetMetaSnapshotManifest", &Stub::GetMetaSnapshotManifest, request);
}

Status RunDeleteMetaSnapshots(const CtlContext& ctx, const std::vector<uint64_t>& ids) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  bs::DeleteMetaSnapshotRequest request;
  for (uint64_t id : ids) request.add_snapshot_ids(id);
  RWMETA_RETURN_IF_ERROR(
      client.Call("DeleteMetaSnapshot", &Stub::DeleteMetaSnapshot, request).status());
  *ctx.out << "delete meta snapshots succeeded: [" << JoinIds(ids) << "]\n";
  return Status::Ok();
}

Status RunListMetaSnapshots(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  RWMETA_ASSIGN_OR_RETURN(bs::GetMetaSnapshotManifestResponse response,
                          GetManifest(client, /*include_object_ids=*/false));
  *ctx.out << RenderSnapshotList(response);
  return Status::Ok();
}

Status RunShowMetaSnapshot(const CtlContext& ctx, uint64_t id, bool verify, bool verbose) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  RWMETA_ASSIGN_OR_RETURN(bs::GetMetaSnapshotManifestResponse response,
                          GetManifest(client, verbose));
  const bs::MetaSnapshotMetadata* found = nullptr;
  for (const bs::MetaSnapshotMetadata& snapshot : response.manifest().snapshot_metadata()) {
    if (snapshot.id() == id) found = &snapshot;
  }
  if (found == nullptr) {
    return NotFoundError(fmt::format("meta snapshot {} not found at backup storage {}", id,
                                     Location(response.location())));
  }
  *ctx.out << RenderSnapshot(*found, response.location(), verbose);
  if (!verify) return Status::Ok();
  // Printed first, so a snapshot that fails verification still shows what the manifest says.
  ctx.out->flush();
  bs::VerifyMetaSnapshotRequest verify_request;
  verify_request.set_snapshot_id(id);
  RWMETA_ASSIGN_OR_RETURN(
      bs::VerifyMetaSnapshotResponse verified,
      client.Call("VerifyMetaSnapshot", &Stub::VerifyMetaSnapshot, verify_request));
  *ctx.out << "\n" << RenderVerification(verified);
  return Status::Ok();
}

Status RunDrillMetaSnapshot(const CtlContext& ctx, uint64_t id) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  bs::DrillMetaSnapshotRequest request;
  request.set_snapshot_id(id);
  RWMETA_ASSIGN_OR_RETURN(bs::DrillMetaSnapshotResponse report,
                          client.Call("DrillMetaSnapshot", &Stub::DrillMetaSnapshot, request));
  *ctx.out << RenderDrillReport(report);
  if (report.passed()) return Status::Ok();
  // The snapshot would not restore into a consistent cluster: its data is as good as lost.
  return DataLossError(fmt::format("restore drill of meta snapshot {} failed: {} problem(s)", id,
                                   report.problem_count()));
}

Status RunBackupJobStatus(const CtlContext& ctx, uint64_t job_id) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  RWMETA_ASSIGN_OR_RETURN(bs::GetBackupJobStatusResponse job, GetJobStatus(client, job_id));
  if (job.job_status() == bs::NOT_FOUND) {
    return NotFoundError("backup job status not found: " + JobAndMessage(job_id, job.message()));
  }
  *ctx.out << RenderJob(job);
  return Status::Ok();
}

Status RunListBackupJobs(const CtlContext& ctx, uint32_t limit) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  bs::ListBackupJobsRequest request;
  request.set_limit(limit);
  RWMETA_ASSIGN_OR_RETURN(bs::ListBackupJobsResponse response,
                          client.Call("ListBackupJobs", &Stub::ListBackupJobs, request));
  *ctx.out << RenderJobList(response);
  return Status::Ok();
}

Status RunBackupMetrics(const CtlContext& ctx) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  RWMETA_ASSIGN_OR_RETURN(bs::GetBackupMetricsResponse metrics,
                          client.Call("GetBackupMetrics", &Stub::GetBackupMetrics, {}));
  *ctx.out << RenderMetrics(metrics);
  return Status::Ok();
}

std::string FormatChecksum(uint64_t checksum) { return fmt::format("{:016x} (xxh64)", checksum); }

std::string FormatTime(int64_t unix_ms) { return unix_ms == 0 ? "" : FormatUnixMs(unix_ms); }

}  // namespace

Status FailedBackupJobError(const bs::GetBackupJobStatusResponse& job) {
  // A node older than error_code sends 0: the code is then only in the message.
  const StatusCode code = job.error_code() == 0
                              ? StatusCode::kUnknown
                              : rpc::FromGrpcCode(static_cast<grpc::StatusCode>(job.error_code()));
  return Status(code, "backup job failed: " + JobAndMessage(job.job_id(), job.message()));
}

Status RunBackupMeta(const CtlContext& ctx, const std::optional<std::string>& remarks,
                     int64_t poll_interval_ms) {
  RWMETA_ASSIGN_OR_RETURN(BackupClient client, ctx.Connect<bs::BackupService>());
  bs::BackupMetaRequest request;
  if (remarks) request.set_remarks(*remarks);
  RWMETA_ASSIGN_OR_RETURN(bs::BackupMetaResponse started,
                          client.Call("BackupMeta", &Stub::BackupMeta, request));
  const uint64_t job_id = started.job_id();
  while (true) {
    RWMETA_ASSIGN_OR_RETURN(bs::GetBackupJobStatusResponse job, GetJobStatus(client, job_id));
    switch (job.job_status()) {
      case bs::RUNNING:
        *ctx.err << "backup job is still running: " << JobAndMessage(job_id, job.message())
                 << std::endl;
        std::this_thread::sleep_for(std::chrono::milliseconds(poll_interval_ms));
        continue;
      case bs::SUCCEEDED:
        *ctx.err << "backup job succeeded: " << JobAndMessage(job_id, job.message()) << std::endl;
        // The job id is the snapshot id. Alone on stdout, so that scripts can capture it.
        *ctx.out << job_id << "\n";
        return Status::Ok();
      case bs::FAILED:
        return FailedBackupJobError(job);
      case bs::NOT_FOUND:
        return NotFoundError("backup job status not found: " +
                             JobAndMessage(job_id, job.message()));
      default:
        return UnknownError("backup job status unspecified: " +
                            JobAndMessage(job_id, job.message()));
    }
  }
}

std::string RenderSnapshotList(const bs::GetMetaSnapshotManifestResponse& response) {
  const bs::MetaSnapshotManifest& manifest = response.manifest();
  std::string out = FormatAligned({
      {"Backup storage:", Location(response.location())},
      {"Manifest ID:", std::to_string(manifest.manifest_id())},
  });
  if (manifest.snapshot_metadata().empty()) return out + "Meta snapshots: none\n";
  std::vector<std::vector<std::string>> rows;
  for (const bs::MetaSnapshotMetadata& s : manifest.snapshot_metadata()) {
    rows.push_back({std::to_string(s.id()), std::to_string(s.hummock_version_id()),
                    FormatEpoch(s.max_committed_epoch()), std::to_string(s.size_bytes()),
                    FormatTime(s.created_at_ms()), s.scheduled() ? "scheduled" : "on demand",
                    !s.has_drill() ? "" : (s.drill().passed() ? "passed" : "FAILED"),
                    s.has_remarks() ? s.remarks() : ""});
  }
  out += "Meta snapshots (" + std::to_string(rows.size()) + "):\n";
  out += FormatTable({"ID", "Hummock version", "Max committed epoch", "Size (bytes)", "Created",
                      "Kind", "Drill", "Remarks"},
                     rows);
  return out;
}

// "passed at <time> in N ms: <message>", "FAILED at ...", or "(never)".
static std::string RenderDrill(const bs::MetaSnapshotMetadata& s) {
  if (!s.has_drill()) return "(never)";
  const bs::MetaSnapshotDrill& d = s.drill();
  return fmt::format("{} at {} in {} ms: {}", d.passed() ? "passed" : "FAILED",
                     FormatTime(d.at_ms()), d.duration_ms(), d.message());
}

std::string RenderDrillReport(const bs::DrillMetaSnapshotResponse& r) {
  std::string out = fmt::format(
      "Meta snapshot {} restore drill: {} in {} ms\n"
      "Checked: hummock version {}, {} tables, {} rows, {} foreign-key references, {} id "
      "sequences, {} state-store objects\n",
      r.snapshot_id(), r.passed() ? "passed" : "FAILED", r.duration_ms(), r.hummock_version_id(),
      r.tables(), r.rows(), r.references_checked(), r.sequences_checked(), r.objects_checked());
  if (!r.passed()) {
    out += fmt::format("Problems ({}):\n", r.problem_count());
    for (const std::string& problem : r.problems()) out += "  " + problem + "\n";
  }
  return out;
}

std::string RenderSnapshot(const bs::MetaSnapshotMetadata& s, const bs::BackupLocation& location,
                           bool verbose) {
  std::string out = FormatAligned({
      {"Snapshot ID:", std::to_string(s.id())},
      {"Hummock version ID:", std::to_string(s.hummock_version_id())},
      {"Max committed epoch:", FormatEpoch(s.max_committed_epoch())},
      {"Safe epoch:", FormatEpoch(s.safe_epoch())},
      {"Format version:", s.has_format_version() ? std::to_string(s.format_version()) : "(none)"},
      {"Remarks:", OrNone(s.has_remarks(), s.remarks())},
      {"rwmeta version:", OrNone(s.has_rw_version(), s.rw_version())},
      {"Size (bytes):", std::to_string(s.size_bytes())},
      {"Checksum:", FormatChecksum(s.checksum())},
      {"Created:", FormatTime(s.created_at_ms())},
      {"Objects referenced:", std::to_string(s.object_count())},
      {"Kind:", s.scheduled() ? "scheduled" : "on demand"},
      {"Last drill:", RenderDrill(s)},
      {"Backup storage:", Location(location)},
  });
  if (verbose) {
    std::vector<uint64_t> ids(s.object_ids().begin(), s.object_ids().end());
    out += "Object IDs: " + (ids.empty() ? std::string("none") : JoinIds(ids)) + "\n";
  }
  // protobuf maps have no order: sort by table id.
  std::map<uint32_t, hummock::StateTableInfo> tables(s.state_table_info().begin(),
                                                     s.state_table_info().end());
  if (tables.empty()) return out + "\nState tables: none\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [table_id, info] : tables) {
    rows.push_back({std::to_string(table_id), std::to_string(info.compaction_group_id()),
                    FormatEpoch(info.committed_epoch())});
  }
  return out + "\nState tables:\n" +
         FormatTable({"Table ID", "Compaction group", "Committed epoch"}, rows);
}

std::string RenderVerification(const bs::VerifyMetaSnapshotResponse& v) {
  std::string out = FormatAligned({
      {"Verification:",
       "OK (read whole: every chunk checksum and the whole-object checksum "
       "match, size and version agree with the manifest)"},
      {"Format:", fmt::format("{}.{}", v.format_major_version(), v.format_minor_version())},
      {"Cluster ID:", v.cluster_id()},
      {"Written by rwmeta:", v.rwmeta_version()},
      {"Source backend:", v.source_backend()},
      {"Model version:", std::to_string(v.model_version())},
      {"Hummock version ID:", std::to_string(v.hummock_version_id())},
      {"Max committed epoch:", FormatEpoch(v.max_committed_epoch())},
      {"Safe epoch:", FormatEpoch(v.safe_epoch())},
      {"Size (bytes):", std::to_string(v.size_bytes())},
      {"Checksum:", FormatChecksum(v.checksum())},
      {"Created:", FormatTime(v.created_at_ms())},
  });
  std::map<std::string, uint64_t> counts(v.table_row_counts().begin(), v.table_row_counts().end());
  uint64_t total = 0;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [table, count] : counts) {
    rows.push_back({table, std::to_string(count)});
    total += count;
  }
  out += "\nMeta-store rows (" + std::to_string(total) + " in " + std::to_string(rows.size()) +
         " tables):\n";
  return out + FormatTable({"Table", "Rows"}, rows);
}

std::string RenderJob(const bs::GetBackupJobStatusResponse& job) {
  return FormatAligned({
      {"Job ID:", std::to_string(job.job_id())},
      {"Status:", StatusName(job.job_status())},
      {"Message:", job.message()},
      {"Remarks:", OrNone(job.has_remarks(), job.remarks())},
      {"Started:", FormatTime(job.started_at_ms())},
      {"Finished:", job.has_finished_at_ms() ? FormatTime(job.finished_at_ms()) : "(running)"},
  });
}

std::string RenderJobList(const bs::ListBackupJobsResponse& response) {
  if (response.jobs().empty()) return "Backup jobs: none\n";
  std::vector<std::vector<std::string>> rows;
  for (const bs::BackupJobInfo& job : response.jobs()) {
    rows.push_back({std::to_string(job.job_id()), StatusName(job.job_status()),
                    FormatTime(job.started_at_ms()),
                    job.has_finished_at_ms() ? FormatTime(job.finished_at_ms()) : "",
                    job.has_remarks() ? job.remarks() : "", job.message()});
  }
  return FormatTable({"Job ID", "Status", "Started", "Finished", "Remarks", "Message"}, rows);
}

std::string RenderMetrics(const bs::GetBackupMetricsResponse& m) {
  const uint64_t finished = m.jobs_succeeded() + m.jobs_failed();
  std::string schedule = "off (backup_schedule_interval_sec = 0)";
  if (m.schedule_interval_sec() > 0) {
    schedule = fmt::format("every {} s", m.schedule_interval_sec());
    if (m.has_next_scheduled_at_ms()) {
      schedule += ", next at " + FormatTime(m.next_scheduled_at_ms());
    }
  }
  std::string failing = std::to_string(m.schedule_consecutive_failures());
  if (!m.schedule_last_error().empty()) failing += " (last: " + m.schedule_last_error() + ")";
  return FormatAligned({
      {"Jobs started:", std::to_string(m.jobs_started())},
      {"Jobs succeeded:", std::to_string(m.jobs_succeeded())},
      {"Jobs failed:", std::to_string(m.jobs_failed())},
      {"Snapshots deleted:", std::to_string(m.snapshots_deleted())},
      {"Bytes written:", std::to_string(m.bytes_written())},
      {"Last job latency:", std::to_string(m.last_job_latency_ms()) + " ms"},
      {"Total job latency:", std::to_string(m.total_job_latency_ms()) + " ms"},
      {"Mean job latency:",
       finished == 0
           ? std::string("-")
           : std::to_string(m.total_job_latency_ms() / static_cast<int64_t>(finished)) + " ms"},
      {"Schedule:", schedule},
      {"Scheduled jobs started:", std::to_string(m.scheduled_jobs_started())},
      {"Scheduled jobs failed:", std::to_string(m.scheduled_jobs_failed())},
      {"Scheduled failing in a row:", failing},
      {"Deleted by retention:", std::to_string(m.snapshots_deleted_by_retention())},
      {"Drills run:", std::to_string(m.drills_run())},
      {"Drills failed:", std::to_string(m.drills_failed())},
  });
}

void AddBackupCommands(CLI::App& meta, CtlContext& ctx, CommandAction* action) {
  CLI::App* backup = meta.add_subcommand(
      "backup-meta",
      "Take a meta snapshot: start a backup job on the meta node and wait for it. Prints "
      "\"backup job is still running: job N\" on stderr while it runs, then \"backup job "
      "succeeded: job N, ...\" on stderr and the snapshot id alone on stdout. A failed job exits "
      "1 with its error. One job runs at a time.");
  auto remarks = std::make_shared<std::optional<std::string>>();
  backup->add_option("--remarks", *remarks,
                     "Free text kept with the snapshot (rw_meta_snapshot.remarks)");
  auto poll_ms = std::make_shared<int64_t>(1000);
  backup
      ->add_option("--poll-interval-ms", *poll_ms,
                   "How often to ask for the job's status, in milliseconds")
      ->check(CLI::Range(int64_t{1}, int64_t{3600} * 1000))
      ->capture_default_str();
  backup->callback([&ctx, action, remarks, poll_ms] {
    *action = [&ctx, remarks, poll_ms] { return RunBackupMeta(ctx, *remarks, *poll_ms); };
  });

  CLI::App* del = meta.add_subcommand(
      "delete-meta-snapshots",
      "Delete meta snapshots from the current backup location; the state-store objects only they "
      "referenced are released to the next garbage collection. An id that is not listed is an "
      "error naming it, and then nothing is deleted.");
  auto ids = std::make_shared<std::vector<uint64_t>>();
  del->add_option("--snapshot-ids", *ids,
                  "Snapshot ids, comma-separated (1,2); the flag may be repeated")
      ->required()
      ->delimiter(',')
      ->check(IdValidator());
  del->callback(
      [&ctx, action, ids] { *action = [&ctx, ids] { return RunDeleteMetaSnapshots(ctx, *ids); }; });

  CLI::App* list = meta.add_subcommand(
      "list-meta-snapshots",
      "Print the current backup location, its manifest id and one line per meta snapshot (id, "
      "Hummock version, max committed epoch, size, creation time, remarks), oldest first");
  list->callback([&ctx, action] { *action = [&ctx] { return RunListMetaSnapshots(ctx); }; });

  CLI::App* show = meta.add_subcommand(
      "show-meta-snapshot",
      "Print every manifest field of one meta snapshot, including the committed epoch and "
      "compaction group of each state table (what SET QUERY_EPOCH matches)");
  auto show_id = std::make_shared<uint64_t>(0);
  show->add_option("ID", *show_id, "Snapshot id")->required()->check(IdValidator());
  auto verify = std::make_shared<bool>(false);
  show->add_flag("--verify", *verify,
                 "Also read the snapshot object whole on the meta node, check every checksum "
                 "against the manifest, and print its header (cluster, source backend, row counts "
                 "per meta-store table); a snapshot that fails is an error");
  auto verbose = std::make_shared<bool>(false);
  show->add_flag("-v,--verbose", *verbose,
                 "Also list the ids of the state-store objects the snapshot references");
  show->callback([&ctx, action, show_id, verify, verbose] {
    *action = [&ctx, show_id, verify, verbose] {
      return RunShowMetaSnapshot(ctx, *show_id, *verify, *verbose);
    };
  });

  CLI::App* drill = meta.add_subcommand(
      "drill-meta-snapshot",
      "Prove a meta snapshot restorable without touching anything: the meta node restores it "
      "in-process into a scratch in-memory meta store and checks every foreign key, the row "
      "counts against the snapshot header, that every id sequence is above every id in use, and "
      "that every object its Hummock version references is in the state store. Prints what was "
      "checked (and the problems); the result is kept with the snapshot (list-meta-snapshots, "
      "rw_meta_snapshot). A failed drill exits 1. A large snapshot may need a longer "
      "--rpc-timeout-ms.");
  auto drill_id = std::make_shared<uint64_t>(0);
  drill->add_option("ID", *drill_id, "Snapshot id")->required()->check(IdValidator());
  drill->callback([&ctx, action, drill_id] {
    *action = [&ctx, drill_id] { return RunDrillMetaSnapshot(ctx, *drill_id); };
  });

  CLI::App* status = meta.add_subcommand(
      "backup-job-status",
      "Print one backup job: status (RUNNING, SUCCEEDED, FAILED), message, remarks, start and "
      "end time. An unknown job id is an error.");
  auto job_id = std::make_shared<uint64_t>(0);
  status->add_option("JOB_ID", *job_id, "Job id (the id of the snapshot it makes)")
      ->required()
      ->check(IdValidator());
  status->callback([&ctx, action, job_id] {
    *action = [&ctx, job_id] { return RunBackupJobStatus(ctx, *job_id); };
  });

  CLI::App* jobs = meta.add_subcommand(
      "list-backup-jobs",
      "Print the backup job history, newest first: id, status, start and end time, remarks, "
      "message");
  auto limit = std::make_shared<uint32_t>(100);
  jobs->add_option("--limit", *limit, "At most this many jobs")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000000}))
      ->capture_default_str();
  jobs->callback([&ctx, action, limit] {
    *action = [&ctx, limit] { return RunListBackupJobs(ctx, *limit); };
  });

  CLI::App* metrics = meta.add_subcommand(
      "backup-metrics",
      "Print the backup job counters since the meta node started: jobs started, succeeded and "
      "failed, snapshots deleted, bytes written, job latency");
  metrics->callback([&ctx, action] { *action = [&ctx] { return RunBackupMetrics(ctx); }; });
}

}  // namespace rwmeta::ctl
