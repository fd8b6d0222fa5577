// FrontendSession: the factory, the protocol entry points and statement dispatch. The handlers
// are by kind: DDL (session_ddl.cc), users and privileges (session_users.cc), SHOW, SET and
// session variables (session_show_set.cc), table data (session_dml.cc), meta snapshots
// (session_backup.cc).
#include "frontend/session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "frontend/mview_refresh.h"
#include "frontend/session_internal.h"
#include "frontend/sql/executor.h"
#include "frontend/sql/parse_tree.h"
#include "frontend/sql/sql_error.h"
#include "frontend/sql_state.h"

namespace rwmeta::frontend {

namespace {

// search_path text → names: `"$user", public` → {"$user", "public"}.
std::vector<std::string> ParseSearchPath(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  auto flush = [&]() {
    std::string t = was_quoted ? cur : Lower(Trim(cur));
    if (!t.empty()) out.push_back(t);
    cur.clear();
    was_quoted = false;
  };
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
      was_quoted = true;
    } else if (c == ',' && !quoted) {
      flush();
    } else if (quoted || !std::isspace(static_cast<unsigned char>(c))) {
      cur += c;
    }
  }
  flush();
  return out;
}

std::string CommandTagForTransaction(const std::string& kind) {
  if (kind == "TRANS_STMT_BEGIN") return "BEGIN";
  if (kind == "TRANS_STMT_START") return "START TRANSACTION";
  if (kind == "TRANS_STMT_COMMIT") return "COMMIT";
  if (kind == "TRANS_STMT_ROLLBACK") return "ROLLBACK";
  return "";
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Factory.

FrontendSessionFactory::FrontendSessionFactory(meta::CatalogManager& catalog,
                                               meta::SystemParamsManager& params, TableData* data,
                                               meta::BackupManager* backup)
    : catalog_(catalog), params_(params), data_(data), backup_(backup) {
  if (data_ != nullptr) InstallMaterializedViewRefresh(*data_, catalog_);
}

Result<pgwire::AuthRequirement> FrontendSessionFactory::Authenticate(std::string_view user,
                                                                     std::string_view) {
  auto snap = catalog_.Snapshot();
  const meta::UserInfo* u = snap->FindUser(user);
  if (u == nullptr) {
    return UnauthenticatedError(fmt::format("role \"{}\" does not exist", user))
        .WithSqlState("28000");
  }
  if (!u->can_login) {
    return UnauthenticatedError(fmt::format("role \"{}\" is not permitted to log in", user))
        .WithSqlState("28000");
  }
  pgwire::AuthRequirement req;
  if (u->auth_type && *u->auth_type == "md5" && u->auth_value) {
    req.password_required = true;
    req.md5_verifier = *u->auth_value;
  }
  return req;
}

Result<std::unique_ptr<pgwire::Session>> FrontendSessionFactory::OpenSession(
    std::string_view user, std::string_view database,
    const std::vector<std::pair<std::string, std::string>>& options) {
  auto snap = catalog_.Snapshot();
  if (snap->FindUser(user) == nullptr) {
    return UnauthenticatedError(fmt::format("role \"{}\" does not exist", user))
        .WithSqlState("28000");
  }
  if (snap->FindDatabase(database) == nullptr) {
    return NotFoundError(fmt::format("database \"{}\" does not exist", database))
        .WithSqlState("3D000");
  }
  auto session = std::make_unique<FrontendSession>(catalog_, params_, std::string(user),
                                                   std::string(database), data_, backup_);
  if (cluster_.has_value()) session->set_cluster(&*cluster_);
  for (const auto& [name, value] : options) {
    // Startup options that do not apply (or are read-only) are ignored rather than refusing the
    // connection, as drivers send things like "options" and "replication".
    session->SetVariable(name, value).IgnoreError();
  }
  return std::unique_ptr<pgwire::Session>(std::move(session));
}

// ------------------------------------------------------------------------------------------------
// The session: construction and what its statements share (user, search path, schemas).

FrontendSession::FrontendSession(meta::CatalogManager& catalog, meta::SystemParamsManager& params,
                                 std::string user, std::string database, TableData* data,
                                 meta::BackupManager* backup)
    : catalog_(catalog),
      params_(params),
      data_(data),
      backup_(backup),
      user_(std::move(user)),
      database_(std::move(database)) {
  ResetVariables();
}

bool FrontendSession::IsSuperuser() const {
  const meta::UserInfo* u = catalog_.Snapshot()->FindUser(user_);
  return u != nullptr && u->is_super;
}

CatalogSessionInfo FrontendSession::SessionInfo(const meta::ParamValues* params) const {
  CatalogSessionInfo info;
  info.user = user_;
  info.database = database_;
  info.search_path = ParseSearchPath(vars_.at("search_path").value);
  for (const auto& [key, var] : vars_) info.settings[var.display_name] = var.value;
  info.params = params;
  info.cluster = cluster_;
  info.table_data = data_;
  info.query_epoch = QueryEpoch();
  AddBackupSources(info);
  return info;
}

Result<std::string> FrontendSession::CreationSchema() const {
  auto snap = catalog_.Snapshot();
  const meta::DatabaseInfo* db = snap->FindDatabase(database_);
  if (db != nullptr) {
    for (const auto& entry : ParseSearchPath(vars_.at("search_path").value)) {
      std::string name = entry == "$user" ? user_ : entry;
      if (IsSystemSchema(name)) continue;
      if (snap->FindSchema(db->id, name) != nullptr) return name;
    }
  }
  return SqlError(StatusCode::kNotFound, "3F000", "no schema has been selected to create in");
}

std::string FrontendSession::SchemaForExisting(const std::string& name, bool secret) const {
  auto snap = catalog_.Snapshot();
  const meta::DatabaseInfo* db = snap->FindDatabase(database_);
  if (db != nullptr) {
    for (const auto& entry : ParseSearchPath(vars_.at("search_path").value)) {
      std::string schema = entry == "$user" ? user_ : entry;
      const meta::SchemaInfo* s = snap->FindSchema(db->id, schema);
      if (s == nullptr) continue;
      if (secret ? snap->FindSecret(s->id, name) != nullptr
                 : (snap->FindTable(s->id, name) != nullptr ||
                    snap->FindView(s->id, name) != nullptr)) {
        return schema;
      }
    }
  }
  return CreationSchema().value_or("public");
}

// ------------------------------------------------------------------------------------------------
// Protocol entry points.

Status FrontendSession::ExecuteSimple(std::string_view sql, std::vector<ResultSet>* results) {
  results->clear();
  auto parsed = sql::ParseSql(sql);
  if (!parsed.ok()) {
    if (txn_status_ == 'T') txn_status_ = 'E';
    return parsed.status();
  }
  for (const auto& stmt : *parsed) {
    if (stmt.kind == sql::StatementKind::kPostgres && stmt.node.is_null()) continue;
    RWMETA_ASSIGN_OR_RETURN(ResultSet r, Execute(stmt, {}));
    results->push_back(std::move(r));
  }
  return Status::Ok();
}

Result<pgwire::PreparedInfo> FrontendSession::Prepare(
    std::string_view sql, const std::vector<uint32_t>& param_type_oids) {
  RWMETA_ASSIGN_OR_RETURN(auto parsed, sql::ParseSql(sql));
  if (parsed.size() > 1) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    "cannot insert multiple commands into a prepared statement");
  }
  pgwire::PreparedInfo info;
  if (parsed.empty()) return info;
  const auto& stmt = parsed[0];
  int n_params = stmt.kind == sql::StatementKind::kPostgres ? sql::MaxParamRef(stmt.node) : 0;
  for (int i = 0; i < n_params; ++i) {
    uint32_t oid = i < static_cast<int>(param_type_oids.size()) ? param_type_oids[i] : 0;
    info.param_type_oids.push_back(oid == pgwire::kUnspecifiedOid ? pgwire::kVarcharOid : oid);
  }
  if (stmt.kind == sql::StatementKind::kPostgres && stmt.node.contains("SelectStmt")) {
    auto values = params_.Values();
    CatalogSessionInfo info_s = SessionInfo(&values);
    std::vector<TextValue> none(static_cast<size_t>(n_params));
    CatalogQueryContext ctx(catalog_.Snapshot(), info_s, none);
    auto cols = sql::DescribeSelect(stmt.node["SelectStmt"], ctx);
    if (!cols.ok()) return WithSqlStateOfCode(cols.status());
    info.returns_rows = true;
    for (const auto& c : *cols) {
      info.fields.push_back({c.name, sql::PgTypeOid(c.type), sql::PgTypeSize(c.type)});
    }
    return info;
  }
  if (stmt.kind == sql::StatementKind::kBackup) {
    // Described without running it: one bigint column.
    info.returns_rows = true;
    info.fields = {BackupResultField()};
    return info;
  }
  bool is_show =
      stmt.kind == sql::StatementKind::kShowParameters ||
      (stmt.kind == sql::StatementKind::kPostgres && stmt.node.contains("VariableShowStmt"));
  if (is_show) {
    // SHOW has no side effects: describe it by running it.
    RWMETA_ASSIGN_OR_RETURN(ResultSet r, Execute(stmt, {}));
    info.returns_rows = true;
    info.fields = r.fields;
  }
  return info;
}

Result<ResultSet> FrontendSession::ExecutePrepared(std::string_view sql,
                                                   const std::vector<uint32_t>&,
                                                   const std::vector<TextValue>& params) {
  RWMETA_ASSIGN_OR_RETURN(auto parsed, sql::ParseSql(sql));
  if (parsed.size() > 1) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    "cannot insert multiple commands into a prepared statement");
  }
  if (parsed.empty() ||
      (parsed[0].kind == sql::StatementKind::kPostgres && parsed[0].node.is_null())) {
    return ResultSet{};
  }
  return Execute(parsed[0], params);
}

// ------------------------------------------------------------------------------------------------
// Dispatch.

Result<ResultSet> FrontendSession::Execute(const sql::ParsedStatement& stmt,
                                           const std::vector<TextValue>& params) {
  std::string txn_kind;
  if (stmt.kind == sql::StatementKind::kPostgres && stmt.node.contains("TransactionStmt")) {
    txn_kind = stmt.node["TransactionStmt"].value("kind", "");
  }
  bool ends_block = txn_kind == "TRANS_STMT_COMMIT" || txn_kind == "TRANS_STMT_ROLLBACK";
  if (txn_status_ == 'E' && !ends_block) {
    return SqlError(StatusCode::kFailedPrecondition, "25P02",
                    "current transaction is aborted, commands ignored until end of transaction "
                    "block");
  }
  if (!txn_kind.empty()) {
    std::string tag = CommandTagForTransaction(txn_kind);
    if (tag.empty()) {
      return NotSupported(
          "transaction control other than BEGIN/COMMIT/ROLLBACK is not supported yet");
    }
    ResultSet r = Tag(tag);
    if (ends_block) {
      if (txn_status_ == 'I') r.notices.push_back("there is no transaction in progress");
      // PostgreSQL answers COMMIT of a failed block with ROLLBACK.
      if (txn_status_ == 'E') r.command_tag = "ROLLBACK";
      txn_status_ = 'I';
    } else {
      if (txn_status_ == 'T') r.notices.push_back("there is already a transaction in progress");
      txn_status_ = 'T';
    }
    return r;
  }
  if (txn_status_ == 'T' && stmt.kind == sql::StatementKind::kPostgres &&
      stmt.node.contains("DiscardStmt")) {
    txn_status_ = 'E';
    return SqlError(StatusCode::kFailedPrecondition, "25001",
                    "DISCARD ALL cannot run inside a transaction block");
  }
  Status writable = CheckWritableUnderQueryEpoch(stmt);
  if (!writable.ok()) {
    if (txn_status_ == 'T') txn_status_ = 'E';
    return writable;
  }
  auto result = ExecuteStatement(stmt, params);
  if (result.ok()) return result;
  if (txn_status_ == 'T') txn_status_ = 'E';
  // The SQL edge: an error from below the frontend gets its code's SQLSTATE here.
  return WithSqlStateOfCode(result.status());
}

Result<ResultSet> FrontendSession::ExecuteStatement(const sql::ParsedStatement& stmt,
                                                    const std::vector<TextValue>& params) {
  switch (stmt.kind) {
    case sql::StatementKind::kPostgres:
      return ExecutePostgres(stmt, params);
    case sql::StatementKind::kShowParameters:
      return ExecuteShowParameters();
    case sql::StatementKind::kCreateSecret: {
      const json& n = stmt.node;
      std::string schema = n.value("schema", "");
      if (schema.empty()) {
        RWMETA_ASSIGN_OR_RETURN(schema, CreationSchema());
      }
      RWMETA_ASSIGN_OR_RETURN(
          auto ddl, catalog_.CreateSecret(Actor(), {schema, n.value("name", "")},
                                          n.value("value", ""), n.value("if_not_exists", false)));
      return WithNotices("CREATE SECRET", ddl);
    }
    case sql::StatementKind::kDropSecret: {
      const json& n = stmt.node;
      meta::QualifiedName name{n.value("schema", ""), n.value("name", "")};
      if (name.schema.empty()) name.schema = SchemaForExisting(name.name, true);
      RWMETA_ASSIGN_OR_RETURN(auto ddl,
                              catalog_.DropSecret(Actor(), name, n.value("if_exists", false)));
      return WithNotices("DROP SECRET", ddl);
    }
    case sql::StatementKind::kShowTablesFrom:
      return ShowTables(stmt.node.value("schema", ""));
    case sql::StatementKind::kBackup:
      return ExecuteBackup();
    case sql::StatementKind::kFlush:
      return ExecuteFlush();
    case sql::StatementKind::kDeleteMetaSnapshots:
      return ExecuteDeleteMetaSnapshots(stmt.snapshot_ids);
  }
  return NotSupported("statement not supported yet");
}

Result<ResultSet> FrontendSession::ExecutePostgres(const sql::ParsedStatement& stmt,
                                                   const std::vector<TextValue>& params) {
  const json* body_node = nullptr;
  const std::string kind = sql::NodeKind(stmt.node, &body_node);
  const json& body = body_node != nullptr ? *body_node : stmt.node;
  auto ddl_tag = [&](const char* tag, Result<meta::DdlResult> r) -> Result<ResultSet> {
    if (!r.ok()) return r.status();
    return WithNotices(tag, *r);
  };

  if (kind == "SelectStmt") return ExecuteSelect(body, params);
  if (kind == "VariableShowStmt") return ExecuteShow(body.value("name", ""));
  if (kind == "VariableSetStmt") return ExecuteSet(body);
  if (kind == "AlterSystemStmt") return ExecuteAlterSystem(body);
  if (kind == "CreateStmt") return ExecuteCreateTable(body, stmt.text);
  if (kind == "ViewStmt") return ExecuteCreateView(body, stmt.text);
  if (kind == "DropStmt") return ExecuteDrop(body);
  if (kind == "CreateRoleStmt") return ExecuteCreateUser(body);
  if (kind == "AlterRoleStmt") return ExecuteAlterUser(body);
  if (kind == "GrantStmt") return ExecuteGrant(body);
  if (kind == "CreatedbStmt") {
    return ddl_tag("CREATE DATABASE", catalog_.CreateDatabase(Actor(), body.value("dbname", ""),
                                                              body.value("if_not_exists", false)));
  }
  if (kind == "DropdbStmt") {
    bool force = false;
    for (const auto& opt : body.value("options", json::array())) {
      if (opt.contains("DefElem") && opt["DefElem"].value("defname", "") == "force") force = true;
    }
    auto dropped = catalog_.DropDatabase(Actor(), body.value("dbname", ""),
                                         body.value("missing_ok", false), force);
    if (dropped.ok()) AfterDrop(*dropped);
    return ddl_tag("DROP DATABASE", std::move(dropped));
  }
  if (kind == "CreateSchemaStmt") {
    if (body.contains("authrole") || body.contains("schemaElts")) {
      return NotSupported(
          "CREATE SCHEMA with AUTHORIZATION or schema elements is not supported yet");
    }
    return ddl_tag("CREATE SCHEMA", catalog_.CreateSchema(Actor(), body.value("schemaname", ""),
                                                          body.value("if_not_exists", false)));
  }
  if (kind == "DropRoleStmt") {
    ResultSet r = Tag("DROP ROLE");
    for (const auto& role : body.value("roles", json::array())) {
      std::string name = role.contains("RoleSpec") ? role["RoleSpec"].value("rolename", "") : "";
      RWMETA_ASSIGN_OR_RETURN(auto ddl,
                              catalog_.DropUser(Actor(), name, body.value("missing_ok", false)));
      r.notices.insert(r.notices.end(), ddl.notices.begin(), ddl.notices.end());
    }
    return r;
  }
  if (kind == "DiscardStmt") {
    if (body.value("target", "") != "DISCARD_ALL")
      return NotSupported("only DISCARD ALL is supported");
    ResetVariables();
    return Tag("DISCARD ALL");
  }
  if (kind == "InsertStmt") return ExecuteInsert(body, params);
  if (kind == "UpdateStmt") return ExecuteUpdateOrDelete(body, /*is_update=*/true, params);
  if (kind == "DeleteStmt") return ExecuteUpdateOrDelete(body, /*is_update=*/false, params);
  if (kind == "IndexStmt") {
    if (body.value("unique", false) || body.contains("whereClause")) {
      return NotSupported("UNIQUE and partial indexes are not supported");
    }
    const json& rel = body.value("relation", json::object());
    meta::QualifiedName table{rel.value("schemaname", ""), rel.value("relname", "")};
    if (table.schema.empty()) table.schema = SchemaForExisting(table.name, false);
    std::vector<std::string> columns;
    for (const auto& p : body.value("indexParams", json::array())) {
      const json& elem = p.value("IndexElem", json::object());
      if (!elem.contains("name")) return NotSupported("indexes on expressions are not supported");
      columns.push_back(elem.value("name", ""));
    }
    std::string name = body.value("idxname", "");
    if (name.empty()) name = fmt::format("{}_{}_idx", table.name, fmt::join(columns, "_"));
    return ddl_tag("CREATE INDEX",
                   catalog_.CreateIndex(Actor(), {table.schema, name}, table, std::move(columns),
                                        stmt.text, body.value("if_not_exists", false)));
  }
  if (kind == "CreateTableAsStmt" && body.value("objtype", "") == "OBJECT_MATVIEW") {
    return ExecuteCreateMaterializedView(body, stmt.text);
  }
  return NotSupported(fmt::format("statement not supported yet: {}", kind));
}

Result<ResultSet> FrontendSession::ExecuteSelect(const json& select,
                                                 const std::vector<TextValue>& params) {
  auto values = params_.Values();
  CatalogSessionInfo info = SessionInfo(&values);
  CatalogQueryContext ctx(catalog_.Snapshot(), info, params);
  RWMETA_ASSIGN_OR_RETURN(sql::QueryResult result, sql::ExecuteSelect(select, ctx));
  ResultSet r;
  r.returns_rows = true;
  for (const auto& c : result.columns) {
    r.fields.push_back({c.name, sql::PgTypeOid(c.type), sql::PgTypeSize(c.type)});
  }
  for (const auto& row : result.rows) {
    std::vector<TextValue> out;
    out.reserve(row.size());
    for (size_t i = 0; i < row.size() && i < result.columns.size(); ++i) {
      out.push_back(sql::DatumToText(row[i], result.columns[i].type));
    }
    r.rows.push_back(std::move(out));
  }
  r.command_tag = fmt::format("SELECT {}", r.rows.size());
  return r;
}

}  // namespace rwmeta::frontend
