// Meta snapshots in SQL: BACKUP, DELETE META SNAPSHOT[S] and the read-only rule of SET QUERY_EPOCH
// (rw_catalog.rw_meta_snapshot and the snapshot reads themselves are in system_catalogs.cc).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <chrono>
#include <climits>

#include "frontend/session.h"
#include "frontend/sql/datum.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend {

namespace {

using pgwire::ResultSet;
using sql::SqlError;

// The SQLSTATE of a backup manager error (the one mapping table, STYLE "Errors"):
//   FailedPrecondition  55006 object_in_use: a backup job is already running
//   ResourceExhausted   53400 configuration_limit_exceeded: the location holds max_snapshots
//   NotFound            42704 undefined_object: unknown snapshot or job ids
//   InvalidArgument     22023 invalid_parameter_value: e.g. a malformed backup URL
//   Unavailable         58030 io_error: the backup location cannot be reached
//   DeadlineExceeded    58030 io_error
//   DataLoss            XX001 data_corrupted: a corrupt manifest or snapshot object
//   Unimplemented       0A000 feature_not_supported: e.g. a newer snapshot format
//   anything else       XX000 internal_error
// A status that already carries a SQLSTATE keeps it.
Status WithBackupSqlState(Status s) {
  if (s.ok() || !s.sqlstate().empty()) return s;
  const char* state = "XX000";
  switch (s.code()) {
    case StatusCode::kFailedPrecondition:
      state = "55006";
      break;
    case StatusCode::kResourceExhausted:
      state = "53400";
      break;
    case StatusCode::kNotFound:
      state = "42704";
      break;
    case StatusCode::kInvalidArgument:
      state = "22023";
      break;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      state = "58030";
      break;
    case StatusCode::kDataLoss:
      state = "XX001";
      break;
    case StatusCode::kUnimplemented:
      state = "0A000";
      break;
    default:
      break;
  }
  return std::move(s).WithSqlState(state);
}

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
      return WithBackupSqlState(manifest.status());
    }
    return WithBackupSqlState(
        Status(manifest.status().code(),
               fmt::format("meta snapshots at backup location {} (directory {}): {}", where.url,
                           where.directory, manifest.status().message())));
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
  if (!started.ok()) return WithBackupSqlState(started.status());
  const uint64_t job_id = *started;
  // The job runs on the manager's thread; wait for it in bounded steps (WaitForJob returns as
  // soon as the job ends, the step only bounds each wait).
  meta::BackupJobInfo job;
  do {
    auto waited = backup_->WaitForJob(job_id, std::chrono::seconds(1));
    if (!waited.ok()) {
      return WithBackupSqlState(
          Status(waited.status().code(), fmt::format("backup job status not found: job {}: {}",
                                                     job_id, waited.status().message())));
    }
    job = std::move(*waited);
  } while (job.state == meta::BackupJobState::kRunning);
  if (job.state == meta::BackupJobState::kFailed) {
    return SqlError(StatusCode::kInternal, "XX000",
                    fmt::format("backup job failed: job {}, {}", job_id, job.message));
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
  RWMETA_RETURN_IF_ERROR(WithBackupSqlState(backup_->DeleteSnapshots(ids)));
  ResultSet r;
  r.command_tag = "DELETE_META_SNAPSHOTS";
  return r;
}

}  // namespace rwmeta::frontend
