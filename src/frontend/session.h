// The SQL session front end: pgwire::SessionFactory and pgwire::Session over the catalog manager
// and the system parameters. Statements are parsed with sql::ParseSql and dispatched here: DDL to
// meta::CatalogManager, ALTER SYSTEM / SHOW PARAMETERS to meta::SystemParamsManager, SELECT to
// sql::ExecuteSelect over the system catalogs (system_catalogs.h), SET/SHOW to session variables,
// BACKUP / DELETE META SNAPSHOT[S] / rw_catalog.rw_meta_snapshot / SET QUERY_EPOCH to
// meta::BackupManager (session_backup.cc).
//
// Errors are Status values with SQLSTATEs; a failed statement leaves the session usable. Anything
// not handled yet is Unimplemented with SQLSTATE 0A000 and a message naming it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "frontend/sql/parser.h"
#include "frontend/system_catalogs.h"
#include "meta/backup_manager.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "pgwire/session.h"

namespace rwmeta::frontend {

class TableData;

// Opens FrontendSessions. Thread-safe (the managers are).
class FrontendSessionFactory : public pgwire::SessionFactory {
 public:
  // REQUIRES: both managers (and `data` and `backup`, if given) outlive the factory and every
  // session it opens. Without `data` tables have no rows and DML, FLUSH and materialized views are
  // refused; with it, every checkpoint of its state store refreshes the materialized views
  // (InstallMaterializedViewRefresh, mview_refresh.h). Without `backup` BACKUP, DELETE META
  // SNAPSHOT[S], rw_catalog.rw_meta_snapshot and reads under SET QUERY_EPOCH answer 0A000.
  FrontendSessionFactory(meta::CatalogManager& catalog, meta::SystemParamsManager& params,
                         TableData* data = nullptr, meta::BackupManager* backup = nullptr);

  // Unauthenticated (28000) if the user does not exist or may not log in. A user with a password
  // needs the md5 exchange; one without is trusted.
  Result<pgwire::AuthRequirement> Authenticate(std::string_view user,
                                               std::string_view database) override;
  // NotFound (3D000) for an unknown database, Unauthenticated (28000) for an unknown user.
  // `options` may set session variables (application_name, client_encoding, DateStyle, ...);
  // unknown ones are ignored, as PostgreSQL ignores unknown startup options it cannot apply.
  Result<std::unique_ptr<pgwire::Session>> OpenSession(
      std::string_view user, std::string_view database,
      const std::vector<std::pair<std::string, std::string>>& options) override;

  // What rw_catalog.rw_cluster_info shows (no rows until set). Call before serving.
  void SetClusterIdentity(ClusterIdentity cluster) { cluster_ = std::move(cluster); }

 private:
  meta::CatalogManager& catalog_;
  meta::SystemParamsManager& params_;
  TableData* data_;
  meta::BackupManager* backup_;
  std::optional<ClusterIdentity> cluster_;
};

// The one column BACKUP returns: `snapshot_id` bigint.
pgwire::Field BackupResultField();

// A session variable (SET/SHOW).
struct FrontendSessionVariable {
  std::string display_name;  // as SHOW ALL prints it: "DateStyle", "search_path"
  std::string value;
  std::string description;
  bool read_only = false;
};

// One client's session. Calls never overlap (pgwire's rule).
class FrontendSession : public pgwire::Session {
 public:
  FrontendSession(meta::CatalogManager& catalog, meta::SystemParamsManager& params,
                  std::string user, std::string database, TableData* data = nullptr,
                  meta::BackupManager* backup = nullptr);

  Status ExecuteSimple(std::string_view sql, std::vector<pgwire::ResultSet>* results) override;
  Result<pgwire::PreparedInfo> Prepare(std::string_view sql,
                                       const std::vector<uint32_t>& param_type_oids) override;
  Result<pgwire::ResultSet> ExecutePrepared(std::string_view sql,
                                            const std::vector<uint32_t>& param_type_oids,
                                            const std::vector<pgwire::TextValue>& params) override;
  std::vector<std::pair<std::string, std::string>> ParameterStatuses() const override;
  // 'I' idle, 'T' inside BEGIN ... COMMIT, 'E' inside a block after an error (every statement but
  // COMMIT/ROLLBACK then fails with 25P02). Statements still take effect immediately: BEGIN does
  // not make DDL transactional yet.
  char TransactionStatus() const override { return txn_status_; }

  // Sets a session variable as SET does. InvalidArgument 42704 for unknown names, 55P02 for
  // read-only ones, 22023 for bad values.
  Status SetVariable(std::string_view name, const std::string& value);
  // The current value of a session variable, nullopt if there is none by that name.
  std::optional<std::string> GetVariable(std::string_view name) const;

  const std::string& user() const { return user_; }
  const std::string& database() const { return database_; }
  // For rw_catalog.rw_cluster_info; null: no rows. Must outlive the session.
  void set_cluster(const ClusterIdentity* cluster) { cluster_ = cluster; }

 private:
  using Variable = FrontendSessionVariable;

  // Runs one statement with the given bound parameters, keeping the transaction status.
  Result<pgwire::ResultSet> Execute(const sql::ParsedStatement& stmt,
                                    const std::vector<pgwire::TextValue>& params);
  Result<pgwire::ResultSet> ExecuteStatement(const sql::ParsedStatement& stmt,
                                             const std::vector<pgwire::TextValue>& params);
  Result<pgwire::ResultSet> ExecutePostgres(const sql::ParsedStatement& stmt,
                                            const std::vector<pgwire::TextValue>& params);
  Result<pgwire::ResultSet> ExecuteSelect(const nlohmann::json& select,
                                          const std::vector<pgwire::TextValue>& params);
  // session_show_set.cc: SHOW, SET, ALTER SYSTEM.
  Result<pgwire::ResultSet> ExecuteShow(const std::string& name);
  Result<pgwire::ResultSet> ExecuteShowParameters();
  Result<pgwire::ResultSet> ExecuteSet(const nlohmann::json& stmt);
  Result<pgwire::ResultSet> ExecuteAlterSystem(const nlohmann::json& stmt);
  Result<pgwire::ResultSet> ShowTables(const std::string& schema);
  // session_ddl.cc: relations.
  Result<pgwire::ResultSet> ExecuteCreateTable(const nlohmann::json& stmt, const std::string& text);
  Result<pgwire::ResultSet> ExecuteCreateView(const nlohmann::json& stmt, const std::string& text);
  Result<pgwire::ResultSet> ExecuteCreateMaterializedView(const nlohmann::json& stmt,
                                                          const std::string& text);
  Result<pgwire::ResultSet> ExecuteDrop(const nlohmann::json& stmt);
  // What CREATE VIEW and CREATE MATERIALIZED VIEW share: the new relation's schema (`rel`'s, else
  // the creation schema; 42501 for a system schema), the columns `query` returns (0A000 unless it
  // is a SELECT) named by `aliases` where given (42601 for more aliases than columns), and the
  // relations it reads.
  struct NewView {
    std::string schema;
    std::vector<meta::ColumnInfo> columns;
    std::vector<int64_t> dependencies;
  };
  Result<NewView> DescribeNewView(const nlohmann::json& rel, const nlohmann::json& query,
                                  const nlohmann::json& aliases, bool materialized);
  // session_users.cc: users and privileges.
  Result<pgwire::ResultSet> ExecuteCreateUser(const nlohmann::json& stmt);
  Result<pgwire::ResultSet> ExecuteAlterUser(const nlohmann::json& stmt);
  Result<pgwire::ResultSet> ExecuteGrant(const nlohmann::json& stmt);
  // session_dml.cc: table data.
  Result<pgwire::ResultSet> ExecuteFlush();
  Result<pgwire::ResultSet> ExecuteInsert(const nlohmann::json& stmt,
                                          const std::vector<pgwire::TextValue>& params);
  Result<pgwire::ResultSet> ExecuteUpdateOrDelete(const nlohmann::json& stmt, bool is_update,
                                                  const std::vector<pgwire::TextValue>& params);
  // session_backup.cc: meta snapshots.
  Result<pgwire::ResultSet> ExecuteBackup();
  Result<pgwire::ResultSet> ExecuteDeleteMetaSnapshots(const std::vector<uint64_t>& ids);
  // Sets the catalog's meta-snapshot sources (rw_meta_snapshot rows, QUERY_EPOCH versions) from
  // the backup manager, if the session has one.
  void AddBackupSources(CatalogSessionInfo& info) const;
  // The QUERY_EPOCH session variable (0: off).
  uint64_t QueryEpoch() const;
  // For SET QUERY_EPOCH: OK if `epoch` is 0, if the session has no backup manager (reads then
  // answer 0A000), or if a snapshot of the current manifest holds it (as its max_committed_epoch
  // or a table's committed epoch). InvalidArgument 22023 naming the epoch and where the valid ones
  // are listed otherwise; the manifest's read error if it cannot be read.
  Status CheckQueryEpochHeld(uint64_t epoch) const;
  // FailedPrecondition 25006 if QUERY_EPOCH is set and `stmt` writes (DML, DDL, FLUSH): a session
  // reading a meta snapshot is read-only.
  Status CheckWritableUnderQueryEpoch(const sql::ParsedStatement& stmt) const;
  // The user table a DML statement names (not a view or materialized view).
  Result<meta::TableInfo> DmlTarget(const nlohmann::json& range_var, const char* verb);
  // SET RW_IMPLICIT_FLUSH: commits the epoch after a DML statement.
  Status MaybeImplicitFlush();
  // Hummock bookkeeping after a DROP (logged, not failed: Reconcile repairs it at the next start).
  void AfterDrop(const meta::DdlResult& ddl);

  CatalogSessionInfo SessionInfo(const meta::ParamValues* params) const;
  meta::CatalogActor Actor() const { return {user_, database_}; }
  // The schema a new object without an explicit schema goes to: the first existing, non-system
  // schema of the search path. 3F000 when there is none.
  Result<std::string> CreationSchema() const;
  // For a one-part name of an existing relation (or secret): the first search-path schema that
  // holds it; else the creation schema.
  std::string SchemaForExisting(const std::string& name, bool secret) const;
  bool IsSuperuser() const;
  void ResetVariables();

  meta::CatalogManager& catalog_;
  meta::SystemParamsManager& params_;
  TableData* data_;
  meta::BackupManager* backup_;
  const ClusterIdentity* cluster_ = nullptr;
  std::string user_;
  std::string database_;
  // Keyed by the lower-cased name.
  std::map<std::string, Variable> vars_;
  char txn_status_ = 'I';
};

}  // namespace rwmeta::frontend
