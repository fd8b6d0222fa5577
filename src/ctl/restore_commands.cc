#include "ctl/restore_commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "backup/backup_storage.h"
#include "common/logging.h"
#include "common/url.h"
#include "ctl/id_argument.h"
#include "metastore/factory.h"
#include "objstore/factory.h"
#include "objstore/retrying_read_object_store.h"
#include "restore/restore.h"
#include "restore/target_url.h"

namespace rwmeta::ctl {
namespace {

// The flags of restore-meta: what restore::RestoreMeta takes (bound straight to its options, so
// their defaults are restore's), and where the snapshots are read from and how.
struct RestoreFlags {
  restore::MetaStoreFlags target;
  restore::RestoreOptions restore;
  std::string backup_storage_url;
  std::string backup_storage_directory = "backup";
  int64_t read_attempt_timeout_ms = 600'000;
  int64_t read_retry_attempts = 3;
};

void EnsureLogging() {
  // One stderr logger per process (risectl may be run in-process by tests).
  if (spdlog::get("rwmeta") == nullptr) InitLogging("info").IgnoreError();
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

// The test hook of restore-meta: with RWMETA_TEST_KILL_AT=<text> in the environment, risectl kills
// itself with SIGKILL when a step whose description contains <text> starts, or when table <name>
// has been written for "table:<name>": kill -9 at a named point, for crash tests.
constexpr const char* kKillAtEnv = "RWMETA_TEST_KILL_AT";

// Per-table progress on a terminal (one line per table, rewritten in place while it grows), and
// the kill hook.
class CliProgress : public restore::RestoreProgress {
 public:
  CliProgress(std::ostream& err, bool draw) : err_(err), draw_(draw) {
    if (const char* kill_at = std::getenv(kKillAtEnv)) kill_at_ = kill_at;
  }
  void OnStep(const std::string& step) override {
    if (!kill_at_.empty() && step.find(kill_at_) != std::string::npos) raise(SIGKILL);
  }
  void OnTable(const restore::TableProgress& t, bool done) override {
    if (draw_) {
      err_ << fmt::format("\r  {:<24} {:>9}/{:<9} rows  {:>10}", t.table, t.rows, t.expected_rows,
                          HumanBytes(t.bytes))
           << (done ? "\n" : "") << std::flush;
    }
    if (done && !kill_at_.empty() && kill_at_ == "table:" + t.table) raise(SIGKILL);
  }

 private:
  std::ostream& err_;
  const bool draw_;
  std::string kill_at_;
};

void AddTargetFlags(CLI::App& cmd, restore::MetaStoreFlags& f) {
  cmd.add_option("--meta-store-type", f.type,
                 "Kind of the target meta store: sql (a full URL in --sql-endpoint), sqlite (a "
                 "file path in --sql-endpoint), postgres, mysql (host[:port] in --sql-endpoint), "
                 "etcd (--etcd-endpoints)")
      ->required()
      ->check(CLI::IsMember({"sql", "sqlite", "postgres", "mysql", "etcd"}));
  cmd.add_option("--sql-endpoint", f.sql_endpoint,
                 "sql: sqlite:///abs/path.db, postgres://u:p@h:5432/db, mysql://...; sqlite: a "
                 "file path; postgres/mysql: host[:port]");
  cmd.add_option("--sql-username", f.sql_username, "postgres/mysql: user name");
  cmd.add_option("--sql-password", f.sql_password, "postgres/mysql: password");
  cmd.add_option("--sql-database", f.sql_database, "postgres/mysql: database name");
  cmd.add_option("--sql-url-params", f.sql_url_params,
                 "postgres/mysql: URL parameters appended after '?', e.g. sslmode=disable");
  cmd.add_option("--etcd-endpoints", f.etcd_endpoints, "etcd: host:port[,host:port...]");
  cmd.add_flag("--etcd-auth", f.etcd_auth, "etcd: authenticate with the user name and password");
  cmd.add_option("--etcd-username", f.etcd_username, "etcd: user name (with --etcd-auth)");
  cmd.add_option("--etcd-password", f.etcd_password, "etcd: password (with --etcd-auth)");
}

Result<std::unique_ptr<metastore::MetaStore>> OpenTarget(const restore::MetaStoreFlags& flags) {
  RWMETA_ASSIGN_OR_RETURN(std::string url, restore::MetaStoreUrl(flags));
  auto store = metastore::OpenMetaStore(url);
  if (!store.ok()) return store.status().WithContext("target meta store " + RedactUrl(url));
  return store;
}

Status RunRestoreMeta(const CtlContext& ctx, const RestoreFlags& f) {
  EnsureLogging();
  spdlog::info(
      "restore-meta: snapshot {}, meta store type {}, backup storage {} directory {}, hummock "
      "storage {} directory {}{}{}",
      f.restore.snapshot_id, f.target.type, RedactUrl(f.backup_storage_url),
      f.backup_storage_directory, RedactUrl(f.restore.hummock_storage_url),
      f.restore.hummock_storage_directory, f.restore.dry_run ? ", dry run" : "",
      f.restore.validate_integrity ? ", validate integrity" : "");
  RWMETA_ASSIGN_OR_RETURN(auto target, OpenTarget(f.target));

  auto backup_base = objstore::OpenObjectStore(f.backup_storage_url);
  if (!backup_base.ok()) return backup_base.status().WithContext("--backup-storage-url");
  objstore::RetryingReadObjectStore backup_store(
      std::shared_ptr<objstore::ObjectStore>(std::move(backup_base).value()),
      {.attempt_timeout_ms = f.read_attempt_timeout_ms, .retry_attempts = f.read_retry_attempts});
  backup::BackupStorage backup(&backup_store, f.backup_storage_directory);

  auto state_store = objstore::OpenObjectStore(f.restore.hummock_storage_url);
  if (!state_store.ok()) return state_store.status().WithContext("--hummock-storage-url");

  restore::RestoreOptions options = f.restore;
  CliProgress progress(*ctx.err, /*draw=*/isatty(STDERR_FILENO) == 1);
  options.progress = &progress;
  auto summary = restore::RestoreMeta(backup, *target, **state_store, options);
  if (!summary.ok()) {
    spdlog::warn("restore-meta failed: {}", summary.status().message());
    return summary.status();
  }
  for (const restore::TableProgress& t : summary->tables) {
    spdlog::info("restore-meta: table {}: {} rows, {} bytes", t.table, t.rows, t.bytes);
  }
  spdlog::info("restore-meta: command succeeded");
  *ctx.out << restore::FormatSummary(*summary) << "\n";
  return Status::Ok();
}

Status RunCreateSchema(const CtlContext& ctx, const restore::MetaStoreFlags& f) {
  EnsureLogging();
  RWMETA_ASSIGN_OR_RETURN(auto target, OpenTarget(f));
  RWMETA_ASSIGN_OR_RETURN(bool created, restore::CreateMetaStoreSchema(*target));
  *ctx.out << (created ? "created" : "already present:") << " meta store schema version "
           << metastore::Model::Get().version() << " in " << target->DisplayUrl()
           << " (no rows: ready for restore-meta)\n";
  return Status::Ok();
}

}  // namespace

void AddRestoreCommands(CLI::App& meta, CtlContext& ctx, CommandAction* action) {
  auto f = std::make_shared<RestoreFlags>();
  CLI::App* cmd = meta.add_subcommand(
      "restore-meta",
      "Restore a meta snapshot from backup storage into an empty meta store and write its "
      "Hummock version checkpoint into the state store. Offline: stop the meta node first. All "
      "or nothing: a failed or interrupted restore leaves the target as it was, or (after the "
      "rows are committed) is completed by running it again.");
  cmd->add_option("--meta-snapshot-id", f->restore.snapshot_id, "Id of the snapshot to restore")
      ->required()
      ->check(IdValidator());
  AddTargetFlags(*cmd, f->target);
  cmd->add_option("--backup-storage-url", f->backup_storage_url,
                  "Where the snapshots are: s3://bucket, minio://..., fs:///dir")
      ->required();
  cmd->add_option("--backup-storage-directory", f->backup_storage_directory,
                  "Directory of the snapshots and manifest.json in backup storage")
      ->capture_default_str();
  cmd->add_option("--hummock-storage-url", f->restore.hummock_storage_url,
                  "State store URL without the hummock+ prefix (s3://state_bucket)")
      ->required();
  cmd->add_option("--hummock-storage-directory", f->restore.hummock_storage_directory,
                  "The state store's data directory")
      ->capture_default_str();
  cmd->add_flag("--dry-run", f->restore.dry_run, "Run every check and write nothing");
  cmd->add_flag("--validate-integrity", f->restore.validate_integrity,
                "Check that every object the snapshot references exists in the state store");
  cmd->add_flag("--overwrite-hummock-storage-endpoint",
                f->restore.overwrite_hummock_storage_endpoint,
                "Restore onto a state store at another place: rewrite state_store and "
                "data_directory to the --hummock-storage-* values, and the backup parameters to "
                "the two --overwrite-backup-storage-* values (all three needed)");
  cmd->add_option("--overwrite-backup-storage-url", f->restore.overwrite_backup_storage_url,
                  "New backup_storage_url (with --overwrite-hummock-storage-endpoint)");
  cmd->add_option("--overwrite-backup-storage-directory",
                  f->restore.overwrite_backup_storage_directory,
                  "New backup_storage_directory (with --overwrite-hummock-storage-endpoint)");
  cmd->add_option("--read-attempt-timeout-ms", f->read_attempt_timeout_ms,
                  "Time limit of each read attempt from backup storage")
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000))
      ->capture_default_str();
  cmd->add_option("--read-retry-attempts", f->read_retry_attempts,
                  "Retries of a backup-storage read that timed out or found the store unavailable")
      ->check(CLI::Range(int64_t{0}, int64_t{100}))
      ->capture_default_str();
  cmd->callback([&ctx, action, f] { *action = [&ctx, f] { return RunRestoreMeta(ctx, *f); }; });

  auto s = std::make_shared<restore::MetaStoreFlags>();
  CLI::App* schema = meta.add_subcommand(
      "create-meta-store-schema",
      "Create this version's meta-store schema, with no rows, in an empty database or etcd "
      "(then run restore-meta). Offline.");
  AddTargetFlags(*schema, *s);
  schema->callback([&ctx, action, s] { *action = [&ctx, s] { return RunCreateSchema(ctx, *s); }; });
}

}  // namespace rwmeta::ctl
