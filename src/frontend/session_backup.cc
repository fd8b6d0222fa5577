// Meta snapshots in SQL: BACKUP, DELETE META SNAPSHOT[S] and the read-only rule of SET QUERY_EPOCH
// (rw_catalog.rw_meta_snapshot and the snapshot reads themselves are in system_catalogs.cc).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <chrono>
#include <climits>

#include "frontend/session.h"
#include "frontend/session_internal.h"
#include "frontend/sql/datum.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend {

namespace {

// The statements a session may run while QUERY_EPOCH is set: reads, session settings and
// cluster administration (which never touches table data).
bool AllowedUnderQueryEpoch(const sql::ParsedStatement& stmt) {
  switch (stmt.kind) {
    case sql::StatementKind::kBackup:
    case sql::StatementKind::kDeleteMetaSnapshots:
    case sql::StatementKind::kShowParameters:
    case sql::StatementKind::kShowTablesFrom:
      return true;
    case sql::StatementKind::kFlush:
    case sql::StatementKind::kCreateSecret:
    case sql::StatementKind::kDropSecret:
      return false;
    case sql::StatementKind::kPostgres:
      break;
  }
  if (!stmt.node.is_object() || stmt.node.empty()) return true;
  const std::string kind = stmt.node.begin().key();
  return kind == "SelectStmt" || kind == "VariableShowStmt" || kind == "VariableSetStmt" ||
         kind == "AlterSystemStmt" || kind == "TransactionStmt" || kind == "DiscardStmt";
}

// The statement's leading keyword, upper case ("INSERT", "CREATE"), for messages.
std::string LeadingKeyword(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (!out.empty()) {
      break;
    }
  }
  return out.empty() ? "this statement" : out;
}

}  // namespace

pgwire::Field BackupResultField() {
  return {"snapshot_id", sql::PgTypeOid(sql::TypeId::kInt64), sql::PgTypeSize(sql::TypeId::kInt64)};
}

void FrontendSession::AddBackupSources(CatalogSessionInfo& info) const {
  if (backup_ == nullptr) return;
  meta::BackupManager* backup = backup_;
  info.meta_snapshots = [backup]() -> Result<backup::Manifest> {
    meta::BackupLocation where;
    auto manifest = backup->GetManifest(&where);
    if (manifest.ok()) return manifest;
    // Name the location the manifest could not be read from, unless the error does.
    if (manifest.status().message().find(where.url) != std::string::npos) {
      return manifest.status();
    }
    return Status(manifest.status().code(),
                  fmt::format("meta snapshots at backup location {} (directory {}): {}", where.url,
                              where.directory, manifest.status().message()));
  };
  info.meta_snapshot_details = [backup](const backup::SnapshotMetadata& entry) {
    return backup->SnapshotDetails(entry);
  };
  info.snapshot_version = [backup](uint32_t table_id, uint64_t epoch) {
    return backup->VersionForEpoch(table_id, epoch);
  };
}

uint64_t FrontendSession::QueryEpoch() const {
  auto it = vars_.find("query_epoch");
  if (it == vars_.end()) return 0;
  // SetVariable stored it normalized (a u64 in decimal).
  return std::strtoull(it->second.value.c_str(), nullptr, 10);
}

Status FrontendSession::CheckQueryEpochHeld(uint64_t epoch) const {
  if (epoch == 0 || backup_ == nullptr) return Status::Ok();
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest, backup_->GetManifest());
  // The entries first (no reads), then each snapshot's state table info (its object's header,
  // cached by the backup storage).
  for (const auto& snapshot : manifest.snapshots) {
    if (snapshot.max_committed_epoch == epoch) return Status::Ok();
  }
  for (const auto& snapshot : manifest.snapshots) {
    RWMETA_ASSIGN_OR_RETURN(auto details, backup_->SnapshotDetails(snapshot));
    for (const auto& [table_id, info] : details->state_table_info) {
      if (info.committed_epoch == epoch) return Status::Ok();
    }
  }
  return SqlError(StatusCode::kInvalidArgument, "22023",
                  fmt::format("invalid value for parameter \"query_epoch\": no meta snapshot holds "
                              "epoch {}; the epochs that can be read are the max_committed_epoch "
                              "and state_table_info committed epochs of "
                              "rw_catalog.rw_meta_snapshot",
                              epoch));
}

Status FrontendSession::CheckWritableUnderQueryEpoch(const sql::ParsedStatement& stmt) const {
  uint64_t epoch = QueryEpoch();
  if (epoch == 0 || AllowedUnderQueryEpoch(stmt)) return Status::Ok();
  return SqlError(StatusCode::kFailedPrecondition, "25006",
                  fmt::format("cannot execute {} while QUERY_EPOCH is set ({}): the session reads "
                              "a meta snapshot; run SET QUERY_EPOCH = 0 first",
                              LeadingKeyword(stmt.text), epoch));
}

Result<ResultSet> FrontendSession::ExecuteBackup() {
  if (backup_ == nullptr) {
    return sql::NotSupported(
        "BACKUP is not supported by this session: it was opened without the backup manager");
  }
  if (!IsSuperuser()) {
    return SqlError(StatusCode::kPermissionDenied, "42501",
                    "only superusers can trigger adhoc backup");
  }
  auto started = backup_->StartBackup(/*remarks=*/std::nullopt);
  if (!started.ok()) {
    // The manager's only FailedPrecondition: a job is already running (object_in_use). Every
    // other error's state is its code's (sql_state.h).
    if (started.status().code() == StatusCode::kFailedPrecondition) {
      return started.status().WithSqlState("55006");
    }
    return started.status();
  }
  const uint64_t job_id = *started;
  // The job runs on the manager's thread; wait for it in bounded steps (WaitForJob returns as
  // soon as the job ends, the step only bounds each wait).
  meta::BackupJobInfo job;
  do {
    auto waited = backup_->WaitForJob(job_id, std::chrono::seconds(1));
    if (!waited.ok()) {
      return Status(waited.status().code(), fmt::format("backup job status not found: job {}: {}",
                                                        job_id, waited.status().message()));
    }
    job = std::move(*waited);
  } while (job.state == meta::BackupJobState::kRunning);
  if (job.state == meta::BackupJobState::kFailed) {
    // The job's own code (BackupJobInfo::error), so a corrupt location is DataLoss and an
    // unreachable one Unavailable here as they are when BACKUP fails before the job starts.
    const StatusCode code = job.error.ok() ? StatusCode::kInternal : job.error.code();
    return Status(code, fmt::format("backup job failed: job {}, {}", job_id, job.message));
  }
  if (job_id > static_cast<uint64_t>(INT64_MAX)) {
    return SqlError(StatusCode::kOutOfRange, "22003",
                    fmt::format("snapshot id {} exceeds i64 range", job_id));
  }
  ResultSet r;
  r.command_tag = "BACKUP";
  r.returns_rows = true;
  r.fields = {BackupResultField()};
  r.rows = {{std::to_string(job_id)}};
  return r;
}

Result<ResultSet> FrontendSession::ExecuteDeleteMetaSnapshots(const std::vector<uint64_t>& ids) {
  if (backup_ == nullptr) {
    return sql::NotSupported(
        "DELETE META SNAPSHOT is not supported by this session: it was opened without the backup "
        "manager");
  }
  if (!IsSuperuser()) {
    return SqlError(StatusCode::kPermissionDenied, "42501",
                    "only superusers can delete meta snapshots");
  }
  // The manager deletes all or nothing: unknown ids are NotFound naming every one of them.
  RWMETA_RETURN_IF_ERROR(backup_->DeleteSnapshots(ids));
  ResultSet r;
  r.command_tag = "DELETE_META_SNAPSHOTS";
  return r;
}

}  // namespace rwmeta::frontend
