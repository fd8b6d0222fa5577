#include "frontend/session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "frontend/sql/executor.h"
#include "frontend/sql/sql_error.h"
#include "frontend/table_data.h"

namespace rwmeta::frontend {

namespace {

using json = nlohmann::json;
using pgwire::ResultSet;
using pgwire::TextValue;
using sql::SqlError;

// Reported as server_version, like RisingWave (psql picks its catalog queries from it).
constexpr const char* kServerVersion = "13.14.0";

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

ResultSet Tag(std::string tag) {
  ResultSet r;
  r.command_tag = std::move(tag);
  return r;
}

ResultSet WithNotices(std::string tag, const meta::DdlResult& ddl) {
  ResultSet r = Tag(std::move(tag));
  r.notices = ddl.notices;
  return r;
}

// A text-column result set.
ResultSet TextRows(const std::vector<std::string>& names, std::vector<std::vector<TextValue>> rows,
                   std::string tag) {
  ResultSet r;
  r.command_tag = std::move(tag);
  r.returns_rows = true;
  for (const auto& n : names) r.fields.push_back({n, pgwire::kVarcharOid, -1});
  r.rows = std::move(rows);
  return r;
}

Status NotSupported(const std::string& what) { return sql::NotSupported(what); }

// The text of a libpg_query String node ({"String": {"sval": ...}}) or plain {"sval": ...}.
std::string StrOf(const json& node) {
  if (node.contains("String")) return node["String"].value("sval", "");
  return node.value("sval", "");
}

// Names of a List node or array of String nodes.
std::vector<std::string> NameList(const json& node) {
  std::vector<std::string> out;
  const json& items = node.contains("List") ? node["List"].value("items", json::array()) : node;
  if (!items.is_array()) return out;
  for (const auto& item : items) out.push_back(StrOf(item));
  return out;
}

// The value of a constant argument (A_Const, or a TypeCast of one) as text; nullopt if `node` is
// not a plain constant.
std::optional<std::string> ConstText(const json& node) {
  if (node.contains("TypeCast")) return ConstText(node["TypeCast"]["arg"]);
  if (!node.contains("A_Const")) return std::nullopt;
  const json& c = node["A_Const"];
  if (c.value("isnull", false)) return std::nullopt;
  // libpg_query omits zero values: {"ival": {}} is 0.
  if (c.contains("ival")) return std::to_string(c["ival"].value("ival", int64_t{0}));
  if (c.contains("fval")) return c["fval"].value("fval", std::string("0"));
  if (c.contains("sval")) return c["sval"].value("sval", std::string());
  if (c.contains("boolval"))
    return std::string(c["boolval"].value("boolval", false) ? "true" : "false");
  return std::nullopt;
}

// True if `s` is an identifier PostgreSQL prints without quotes.
bool IsPlainIdent(const std::string& s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

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

// Canonical SQL type name of a ColumnDef's typeName, checked against the executor's types.
Result<std::string> ColumnTypeName(const json& type_name) {
  std::vector<std::string> names = NameList(type_name.value("names", json::array()));
  if (names.empty()) return SqlError(StatusCode::kInvalidArgument, "42601", "missing column type");
  std::string name = names.back();
  bool is_array = type_name.contains("arrayBounds");
  if (is_array) name += "[]";
  RWMETA_ASSIGN_OR_RETURN(sql::TypeId type, sql::TypeFromName(name));
  return sql::TypeName(type);
}

// Finds the body of CREATE VIEW ... AS <query>: the text after the first top-level AS keyword.
std::string ViewQueryText(const std::string& text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'' || c == '"') {
      size_t j = text.find(c, i + 1);
      if (j == std::string::npos) break;
      i = j;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == 'a' || c == 'A') && i + 1 < text.size() &&
        (text[i + 1] == 's' || text[i + 1] == 'S') && i > 0 &&
        std::isspace(static_cast<unsigned char>(text[i - 1])) &&
        (i + 2 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 2])) ||
         text[i + 2] == '(')) {
      return Trim(text.substr(i + 2));
    }
  }
  return text;
}

// Collects the placeholders' count ($n) in a parse tree.
int MaxParamRef(const json& node) {
  int n = 0;
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "ParamRef") n = std::max(n, it.value().value("number", 0));
      n = std::max(n, MaxParamRef(it.value()));
    }
  } else if (node.is_array()) {
    for (const auto& v : node) n = std::max(n, MaxParamRef(v));
  }
  return n;
}

std::string NodeName(const json& node) {
  if (node.is_object() && !node.empty()) return node.begin().key();
  return "";
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Factory.

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
  for (const auto& [name, value] : options) {
    // Startup options that do not apply (or are read-only) are ignored rather than refusing the
    // connection, as drivers send things like "options" and "replication".
    session->SetVariable(name, value).IgnoreError();
  }
  return std::unique_ptr<pgwire::Session>(std::move(session));
}

// ------------------------------------------------------------------------------------------------
// Session variables.

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

namespace {

// Session variables and their defaults, keyed by the lower-cased name.
const std::map<std::string, FrontendSessionVariable>& DefaultVariables() {
  static const auto* const kDefaults = [] {
    auto* m = new std::map<std::string, FrontendSessionVariable>;
    auto add = [&](const char* name, const char* value, const char* description, bool ro = false) {
      (*m)[Lower(name)] = FrontendSessionVariable{name, value, description, ro};
    };
    add("search_path", "\"$user\", public",
        "Sets the schema search order for names that are not schema-qualified.");
    add("application_name", "", "Sets the application name to be reported in statistics and logs.");
    add("client_encoding", "UTF8", "Sets the client's character set encoding.");
    add("DateStyle", "ISO, MDY", "Sets the display format for date and time values.");
    add("TimeZone", "UTC", "Sets the time zone for displaying and interpreting time stamps.");
    add("extra_float_digits", "1",
        "Sets the number of digits displayed for floating-point values.");
    add("rw_implicit_flush", "false", "If true, flush after every DML statement.");
    add("query_epoch", "0", "Reads tables as of this committed epoch; 0 reads the latest.");
    add("server_version", kServerVersion, "Shows the server version.", true);
    add("server_encoding", "UTF8", "Shows the server (database) character set encoding.", true);
    add("integer_datetimes", "on", "Shows whether datetimes are integer based.", true);
    add("standard_conforming_strings", "on", "Causes '...' strings to treat backslashes literally.",
        true);
    return m;
  }();
  return *kDefaults;
}

}  // namespace

void FrontendSession::ResetVariables() { vars_ = DefaultVariables(); }

std::optional<std::string> FrontendSession::GetVariable(std::string_view name) const {
  std::string key = Lower(name);
  if (key == "is_superuser") return IsSuperuser() ? "on" : "off";
  if (key == "session_authorization") return user_;
  auto it = vars_.find(key);
  if (it == vars_.end()) return std::nullopt;
  return it->second.value;
}

Status FrontendSession::SetVariable(std::string_view name, const std::string& value) {
  std::string key = Lower(name);
  auto it = vars_.find(key);
  if (it == vars_.end()) {
    if (key == "is_superuser" || key == "session_authorization") {
      return SqlError(StatusCode::kFailedPrecondition, "55P02",
                      fmt::format("parameter \"{}\" cannot be changed", key));
    }
    return SqlError(StatusCode::kInvalidArgument, "42704",
                    fmt::format("unrecognized configuration parameter \"{}\"", key));
  }
  if (it->second.read_only) {
    return SqlError(StatusCode::kFailedPrecondition, "55P02",
                    fmt::format("parameter \"{}\" cannot be changed", key));
  }
  std::string v = value;
  auto bad = [&](const char* type) {
    return SqlError(
        StatusCode::kInvalidArgument, "22023",
        fmt::format("invalid value for parameter \"{}\": \"{}\" is not {}", key, value, type));
  };
  if (key == "query_epoch") {
    auto n = meta::NormalizeParamValue(
        {"query_epoch", meta::ParamType::kU64, std::nullopt, true, ""}, value);
    if (!n.ok()) return bad("an unsigned 64-bit integer");
    v = *n;
  } else if (key == "rw_implicit_flush") {
    auto n = meta::NormalizeParamValue(
        {"rw_implicit_flush", meta::ParamType::kBool, std::nullopt, true, ""}, value);
    if (!n.ok()) return bad("a boolean");
    v = *n;
  } else if (key == "extra_float_digits") {
    char* end = nullptr;
    long d = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || d < -15 || d > 3) return bad("an integer in -15..3");
    v = std::to_string(d);
  } else if (key == "client_encoding") {
    std::string up = Lower(value);
    if (up != "utf8" && up != "utf-8" && up != "unicode") {
      return SqlError(
          StatusCode::kInvalidArgument, "22023",
          fmt::format("invalid value for parameter \"client_encoding\": \"{}\"", value));
    }
    v = "UTF8";
  }
  it->second.value = v;
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> FrontendSession::ParameterStatuses() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"server_version", "server_encoding", "client_encoding", "DateStyle",
                           "TimeZone", "integer_datetimes", "standard_conforming_strings",
                           "is_superuser", "session_authorization", "application_name"}) {
    out.emplace_back(name, GetVariable(name).value_or(""));
  }
  return out;
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
  int n_params = stmt.kind == sql::StatementKind::kPostgres ? MaxParamRef(stmt.node) : 0;
  for (int i = 0; i < n_params; ++i) {
    uint32_t oid = i < static_cast<int>(param_type_oids.size()) ? param_type_oids[i] : 0;
    info.param_type_oids.push_back(oid == pgwire::kUnspecifiedOid ? pgwire::kVarcharOid : oid);
  }
  if (stmt.kind == sql::StatementKind::kPostgres && stmt.node.contains("SelectStmt")) {
    auto values = params_.Values();
    CatalogSessionInfo info_s = SessionInfo(&values);
    std::vector<TextValue> none(static_cast<size_t>(n_params));
    CatalogQueryContext ctx(catalog_.Snapshot(), info_s, none);
    RWMETA_ASSIGN_OR_RETURN(auto cols, sql::DescribeSelect(stmt.node["SelectStmt"], ctx));
    info.returns_rows = true;
    for (const auto& c : cols) {
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
  if (!result.ok() && txn_status_ == 'T') txn_status_ = 'E';
  return result;
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
  const json& node = stmt.node;
  const std::string kind = NodeName(node);
  const json& body = node.is_object() && !node.empty() ? node.begin().value() : node;
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

// ------------------------------------------------------------------------------------------------
// SHOW / SET / ALTER SYSTEM.

Result<ResultSet> FrontendSession::ExecuteShowParameters() {
  ResultSet r;
  r.command_tag = "SHOW";
  r.returns_rows = true;
  r.fields = {{"Name", pgwire::kVarcharOid, -1},
              {"Value", pgwire::kVarcharOid, -1},
              {"Description", pgwire::kVarcharOid, -1},
              {"Mutable", pgwire::kBoolOid, 1}};
  for (const auto& row : params_.Display()) {
    r.rows.push_back(
        {row.name, row.value, row.description, std::string(row.is_mutable ? "t" : "f")});
  }
  return r;
}

Result<ResultSet> FrontendSession::ShowTables(const std::string& schema_name) {
  auto snap = catalog_.Snapshot();
  const meta::DatabaseInfo* db = snap->FindDatabase(database_);
  std::string schema = schema_name.empty() ? CreationSchema().value_or("public") : schema_name;
  const meta::SchemaInfo* s = db ? snap->FindSchema(db->id, schema) : nullptr;
  if (s == nullptr) {
    return SqlError(StatusCode::kNotFound, "3F000",
                    fmt::format("schema \"{}\" does not exist", schema));
  }
  std::vector<std::string> names;
  for (const auto& t : snap->tables)
    if (t.schema_id == s->id && t.table_type != meta::kMaterializedViewType) {
      names.push_back(t.name);
    }
  std::sort(names.begin(), names.end());
  std::vector<std::vector<TextValue>> rows;
  for (auto& n : names) rows.push_back({n});
  return TextRows({"Name"}, std::move(rows), "SHOW");
}

Result<ResultSet> FrontendSession::ExecuteShow(const std::string& raw_name) {
  std::string name = Lower(raw_name);
  auto snap = catalog_.Snapshot();
  if (name == "tables") return ShowTables("");
  if (name == "databases") {
    std::vector<std::string> names;
    for (const auto& d : snap->databases) names.push_back(d.name);
    std::sort(names.begin(), names.end());
    std::vector<std::vector<TextValue>> rows;
    for (auto& n : names) rows.push_back({n});
    return TextRows({"Name"}, std::move(rows), "SHOW");
  }
  if (name == "schemas") {
    const meta::DatabaseInfo* db = snap->FindDatabase(database_);
    std::vector<std::string> names;
    for (const auto& s : snap->schemas)
      if (db && s.database_id == db->id) names.push_back(s.name);
    std::sort(names.begin(), names.end());
    std::vector<std::vector<TextValue>> rows;
    for (auto& n : names) rows.push_back({n});
    return TextRows({"Name"}, std::move(rows), "SHOW");
  }
  if (name == "parameters") return ExecuteShowParameters();
  if (name == "all") {
    std::vector<std::vector<TextValue>> rows;
    for (const auto& [key, var] : vars_) {
      rows.push_back({var.display_name, var.value, var.description});
    }
    return TextRows({"Name", "Setting", "Description"}, std::move(rows), "SHOW");
  }
  if (auto v = GetVariable(name)) {
    auto it = vars_.find(name);
    std::string column = it != vars_.end() ? Lower(it->second.display_name) : name;
    return TextRows({column}, {{*v}}, "SHOW");
  }
  if (const meta::ParamDef* def = meta::FindParamDef(name)) {
    RWMETA_ASSIGN_OR_RETURN(std::string value, params_.Get(name));
    return TextRows({name}, {{meta::DisplayParamValue(*def, value)}}, "SHOW");
  }
  return SqlError(StatusCode::kInvalidArgument, "42704",
                  fmt::format("unrecognized configuration parameter \"{}\"", name));
}

namespace {

// The value text of a VariableSetStmt's args: constants joined by ", " (search_path lists).
Result<std::string> SetArgsText(const json& stmt, bool quote_idents) {
  std::vector<std::string> parts;
  for (const auto& arg : stmt.value("args", json::array())) {
    auto text = ConstText(arg);
    if (!text) {
      return SqlError(StatusCode::kInvalidArgument, "22023",
                      fmt::format("invalid value for parameter \"{}\"", stmt.value("name", "")));
    }
    bool is_string = arg.contains("A_Const") && arg["A_Const"].contains("sval");
    if (quote_idents && is_string && !IsPlainIdent(*text)) {
      parts.push_back("\"" + *text + "\"");
    } else {
      parts.push_back(*text);
    }
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

}  // namespace

Result<ResultSet> FrontendSession::ExecuteSet(const json& stmt) {
  std::string kind = stmt.value("kind", "");
  std::string name = Lower(stmt.value("name", ""));
  if (kind == "VAR_SET_MULTI") return Tag("SET");  // SET TRANSACTION ...: nothing to do
  if (kind == "VAR_RESET_ALL") {
    ResetVariables();
    return Tag("RESET");
  }
  if (kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET") {
    auto it = vars_.find(name);
    if (it == vars_.end() || it->second.read_only) {
      // Let SetVariable produce the right error.
      RWMETA_RETURN_IF_ERROR(SetVariable(name, ""));
    }
    it->second.value = DefaultVariables().at(name).value;
    return Tag(kind == "VAR_RESET" ? "RESET" : "SET");
  }
  if (kind != "VAR_SET_VALUE")
    return NotSupported(fmt::format("SET form {} is not supported", kind));
  RWMETA_ASSIGN_OR_RETURN(std::string value, SetArgsText(stmt, name == "search_path"));
  RWMETA_RETURN_IF_ERROR(SetVariable(name, value));
  return Tag("SET");
}

Result<ResultSet> FrontendSession::ExecuteAlterSystem(const json& stmt) {
  if (!IsSuperuser()) {
    return SqlError(StatusCode::kPermissionDenied, "42501",
                    "must be superuser to execute ALTER SYSTEM command");
  }
  const json& set = stmt.value("setstmt", json::object());
  std::string name = Lower(set.value("name", ""));
  std::string kind = set.value("kind", "");
  std::optional<std::string> value;
  if (kind == "VAR_SET_VALUE") {
    RWMETA_ASSIGN_OR_RETURN(value, SetArgsText(set, false));
  } else if (kind != "VAR_SET_DEFAULT" && kind != "VAR_RESET") {
    return NotSupported(fmt::format("ALTER SYSTEM form {} is not supported", kind));
  }
  // Listeners (the backup manager switching location) say what the change did as NOTICEs.
  std::vector<std::string> notices;
  RWMETA_RETURN_IF_ERROR(params_.Set(name, value, &notices).status());
  ResultSet r = Tag("ALTER SYSTEM");
  r.notices = std::move(notices);
  return r;
}

// ------------------------------------------------------------------------------------------------
// DDL.

Result<ResultSet> FrontendSession::ExecuteCreateTable(const json& stmt, const std::string& text) {
  const json& rel = stmt.value("relation", json::object());
  if (rel.value("relpersistence", "p") != "p") {
    return NotSupported("temporary and unlogged tables are not supported");
  }
  if (stmt.contains("inhRelations") || stmt.contains("partspec") || stmt.contains("ofTypename")) {
    return NotSupported("CREATE TABLE with INHERITS, PARTITION BY or OF is not supported");
  }
  std::string schema = rel.value("schemaname", "");
  if (schema.empty()) {
    RWMETA_ASSIGN_OR_RETURN(schema, CreationSchema());
  }
  if (IsSystemSchema(schema)) {
    return SqlError(
        StatusCode::kPermissionDenied, "42501",
        fmt::format("permission denied to create \"{}.{}\"", schema, rel.value("relname", "")));
  }
  std::vector<meta::ColumnInfo> columns;
  std::vector<std::string> pk_names;
  for (const auto& elt : stmt.value("tableElts", json::array())) {
    if (elt.contains("ColumnDef")) {
      const json& col = elt["ColumnDef"];
      meta::ColumnInfo info;
      info.name = col.value("colname", "");
      RWMETA_ASSIGN_OR_RETURN(info.type, ColumnTypeName(col.value("typeName", json::object())));
      for (const auto& c : col.value("constraints", json::array())) {
        std::string type = c.contains("Constraint") ? c["Constraint"].value("contype", "") : "";
        if (type == "CONSTR_PRIMARY") {
          pk_names.push_back(info.name);
          info.nullable = false;
        } else if (type == "CONSTR_NOTNULL") {
          info.nullable = false;
        } else if (type == "CONSTR_NULL") {
          info.nullable = true;
        } else {
          return NotSupported(fmt::format("column constraint {} is not supported yet", type));
        }
      }
      columns.push_back(std::move(info));
    } else if (elt.contains("Constraint") &&
               elt["Constraint"].value("contype", "") == "CONSTR_PRIMARY") {
      if (!pk_names.empty()) {
        return SqlError(StatusCode::kInvalidArgument, "42P16",
                        fmt::format("multiple primary keys for table \"{}\" are not allowed",
                                    rel.value("relname", "")));
      }
      pk_names = NameList(elt["Constraint"].value("keys", json::array()));
    } else {
      return NotSupported(fmt::format("table element {} is not supported yet", NodeName(elt)));
    }
  }
  std::vector<int> pk;
  for (const auto& name : pk_names) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const meta::ColumnInfo& c) { return c.name == name; });
    if (it == columns.end()) {
      return SqlError(StatusCode::kInvalidArgument, "42703",
                      fmt::format("column \"{}\" named in key does not exist", name));
    }
    it->nullable = false;
    pk.push_back(static_cast<int>(it - columns.begin()));
  }
  bool append_only = false;
  for (const auto& opt : stmt.value("options", json::array())) {
    if (!opt.contains("DefElem")) continue;
    const json& d = opt["DefElem"];
    std::string key = Lower(d.value("defname", ""));
    if (key != "appendonly" && key != "append_only") {
      return NotSupported(fmt::format("table option \"{}\" is not supported", key));
    }
    auto v = d.contains("arg") ? ConstText(d["arg"]) : std::optional<std::string>("true");
    if (!v && d.contains("arg") && d["arg"].contains("String")) v = StrOf(d["arg"]);
    if (!v && d.contains("arg") && d["arg"].contains("Boolean")) {
      v = d["arg"]["Boolean"].value("boolval", false) ? "true" : "false";
    }
    append_only = v && (Lower(*v) == "true" || *v == "1" || Lower(*v) == "on");
  }
  RWMETA_ASSIGN_OR_RETURN(
      auto ddl,
      catalog_.CreateTable(Actor(), {schema, rel.value("relname", "")}, std::move(columns),
                           std::move(pk), text, append_only, stmt.value("if_not_exists", false)));
  if (data_ != nullptr && ddl.id != 0) {
    Status s = data_->OnCreated(ddl.id);
    if (!s.ok()) spdlog::warn("registering table {} in hummock: {}", ddl.id, s.ToString());
  }
  return WithNotices("CREATE TABLE", ddl);
}

Result<ResultSet> FrontendSession::ExecuteCreateView(const json& stmt, const std::string& text) {
  if (stmt.value("replace", false))
    return NotSupported("CREATE OR REPLACE VIEW is not supported yet");
  const json& rel = stmt.value("view", json::object());
  if (rel.value("relpersistence", "p") != "p")
    return NotSupported("temporary views are not supported");
  std::string schema = rel.value("schemaname", "");
  if (schema.empty()) {
    RWMETA_ASSIGN_OR_RETURN(schema, CreationSchema());
  }
  if (IsSystemSchema(schema)) {
    return SqlError(
        StatusCode::kPermissionDenied, "42501",
        fmt::format("permission denied to create \"{}.{}\"", schema, rel.value("relname", "")));
  }
  const json& query = stmt.value("query", json::object());
  if (!query.contains("SelectStmt")) return NotSupported("a view's query must be a SELECT");
  auto values = params_.Values();
  CatalogSessionInfo info = SessionInfo(&values);
  std::vector<TextValue> none;
  CatalogQueryContext ctx(catalog_.Snapshot(), info, none);
  RWMETA_ASSIGN_OR_RETURN(auto cols, sql::DescribeSelect(query["SelectStmt"], ctx));
  std::vector<std::string> aliases = NameList(stmt.value("aliases", json::array()));
  if (aliases.size() > cols.size()) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    "CREATE VIEW specifies more column names than columns");
  }
  std::vector<meta::ColumnInfo> columns;
  for (size_t i = 0; i < cols.size(); ++i) {
    columns.push_back(
        {i < aliases.size() ? aliases[i] : cols[i].name, sql::TypeName(cols[i].type), true});
  }
  RWMETA_ASSIGN_OR_RETURN(
      auto ddl, catalog_.CreateView(Actor(), {schema, rel.value("relname", "")}, std::move(columns),
                                    ViewQueryText(text), ctx.resolved_ids(),
                                    stmt.value("if_not_exists", false)));
  return WithNotices("CREATE VIEW", ddl);
}

Result<ResultSet> FrontendSession::ExecuteCreateMaterializedView(const json& stmt,
                                                                 const std::string& text) {
  if (data_ == nullptr) {
    return NotSupported(
        "CREATE MATERIALIZED VIEW needs the state store, which this session was "
        "opened without");
  }
  const json& into = stmt.value("into", json::object());
  const json& rel = into.value("rel", json::object());
  std::string schema = rel.value("schemaname", "");
  if (schema.empty()) {
    RWMETA_ASSIGN_OR_RETURN(schema, CreationSchema());
  }
  if (IsSystemSchema(schema)) {
    return SqlError(
        StatusCode::kPermissionDenied, "42501",
        fmt::format("permission denied to create \"{}.{}\"", schema, rel.value("relname", "")));
  }
  const json& query = stmt.value("query", json::object());
  if (!query.contains("SelectStmt")) {
    return NotSupported("a materialized view's query must be a SELECT");
  }
  auto values = params_.Values();
  CatalogSessionInfo info = SessionInfo(&values);
  std::vector<TextValue> none;
  CatalogQueryContext ctx(catalog_.Snapshot(), info, none);
  RWMETA_ASSIGN_OR_RETURN(auto cols, sql::DescribeSelect(query["SelectStmt"], ctx));
  std::vector<std::string> aliases = NameList(into.value("colNames", json::array()));
  if (aliases.size() > cols.size()) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    "CREATE MATERIALIZED VIEW specifies more column names than columns");
  }
  std::vector<meta::ColumnInfo> columns;
  for (size_t i = 0; i < cols.size(); ++i) {
    sql::TypeId type = cols[i].type == sql::TypeId::kUnknown ? sql::TypeId::kVarchar : cols[i].type;
    columns.push_back({i < aliases.size() ? aliases[i] : cols[i].name, sql::TypeName(type), true});
  }
  RWMETA_ASSIGN_OR_RETURN(
      auto ddl, catalog_.CreateMaterializedView(
                    Actor(), {schema, rel.value("relname", "")}, std::move(columns),
                    ViewQueryText(text), ctx.resolved_ids(), stmt.value("if_not_exists", false)));
  if (ddl.id == 0) return WithNotices("CREATE_MATERIALIZED_VIEW", ddl);
  RWMETA_RETURN_IF_ERROR(data_->OnCreated(ddl.id));
  auto snap = catalog_.Snapshot();
  const meta::TableInfo* mv = snap->FindTableById(ddl.id);
  if (mv == nullptr) return InternalError("the new materialized view is not in the catalog");
  {
    auto guard = data_->store().BeginDml();
    RWMETA_RETURN_IF_ERROR(data_->RefreshMaterializedView(*mv));
  }
  // Like RisingWave, the statement returns once the view's data is committed and readable.
  RWMETA_RETURN_IF_ERROR(data_->store().Checkpoint().status());
  return WithNotices("CREATE_MATERIALIZED_VIEW", ddl);
}

Result<ResultSet> FrontendSession::ExecuteDrop(const json& stmt) {
  std::string type = stmt.value("removeType", "");
  bool cascade = stmt.value("behavior", "") == "DROP_CASCADE";
  bool missing_ok = stmt.value("missing_ok", false);
  const json& objects = stmt.value("objects", json::array());
  ResultSet out;
  auto collect = [&](const meta::DdlResult& r) {
    out.notices.insert(out.notices.end(), r.notices.begin(), r.notices.end());
    AfterDrop(r);
  };
  if (type == "OBJECT_SCHEMA") {
    out.command_tag = "DROP SCHEMA";
    for (const auto& o : objects) {
      RWMETA_ASSIGN_OR_RETURN(auto r, catalog_.DropSchema(Actor(), StrOf(o), missing_ok, cascade));
      collect(r);
    }
    return out;
  }
  if (type == "OBJECT_TABLE" || type == "OBJECT_VIEW" || type == "OBJECT_MATVIEW") {
    bool is_view = type == "OBJECT_VIEW";
    bool materialized = type == "OBJECT_MATVIEW";
    out.command_tag = is_view        ? "DROP VIEW"
                      : materialized ? "DROP MATERIALIZED VIEW"
                                     : "DROP TABLE";
    for (const auto& o : objects) {
      std::vector<std::string> parts = NameList(o);
      if (parts.empty() || parts.size() > 3) {
        return SqlError(StatusCode::kInvalidArgument, "42601", "improper qualified name");
      }
      if (parts.size() == 3 && parts[0] != database_) {
        return NotSupported("cross-database references are not implemented");
      }
      meta::QualifiedName name;
      name.name = parts.back();
      name.schema =
          parts.size() >= 2 ? parts[parts.size() - 2] : SchemaForExisting(name.name, false);
      RWMETA_ASSIGN_OR_RETURN(
          auto r, catalog_.DropRelation(Actor(), name, is_view, missing_ok, cascade, materialized));
      collect(r);
    }
    return out;
  }
  if (type == "OBJECT_INDEX") {
    out.command_tag = "DROP INDEX";
    for (const auto& o : objects) {
      std::vector<std::string> parts = NameList(o);
      if (parts.empty() || parts.size() > 2) {
        return SqlError(StatusCode::kInvalidArgument, "42601", "improper qualified name");
      }
      meta::QualifiedName name{parts.size() == 2 ? parts[0] : "", parts.back()};
      if (name.schema.empty()) {
        // The first schema of the search path that has an index of that name.
        auto snap = catalog_.Snapshot();
        const meta::DatabaseInfo* db = snap->FindDatabase(database_);
        for (const auto& i : snap->indexes) {
          if (db == nullptr || i.database_id != db->id || i.name != name.name) continue;
          for (const auto& s : snap->schemas) {
            if (s.id == i.schema_id && name.schema.empty()) name.schema = s.name;
          }
        }
      }
      RWMETA_ASSIGN_OR_RETURN(auto r, catalog_.DropIndex(Actor(), name, missing_ok));
      collect(r);
    }
    return out;
  }
  return NotSupported(fmt::format("DROP of {} is not supported yet", type));
}

namespace {

Result<meta::CreateUserOptions> UserOptions(const json& options) {
  meta::CreateUserOptions o;
  for (const auto& opt : options) {
    if (!opt.contains("DefElem")) continue;
    const json& d = opt["DefElem"];
    std::string name = d.value("defname", "");
    bool flag = d.contains("arg") && d["arg"].contains("Boolean")
                    ? d["arg"]["Boolean"].value("boolval", false)
                    : true;
    if (name == "superuser") {
      o.superuser = flag;
    } else if (name == "createdb") {
      o.create_db = flag;
    } else if (name == "createrole") {
      o.create_user = flag;
    } else if (name == "canlogin") {
      o.login = flag;
    } else if (name == "password") {
      if (d.contains("arg") && d["arg"].contains("String")) {
        o.password = std::optional<std::string>(StrOf(d["arg"]));
      } else {
        o.password = std::optional<std::string>();
      }
    } else if (name == "inherit") {
      // Role inheritance is always on; nothing to store.
    } else {
      return sql::NotSupported(fmt::format("user option \"{}\" is not supported", name));
    }
  }
  return o;
}

}  // namespace

Result<ResultSet> FrontendSession::ExecuteCreateUser(const json& stmt) {
  RWMETA_ASSIGN_OR_RETURN(auto options, UserOptions(stmt.value("options", json::array())));
  // CREATE ROLE defaults to NOLOGIN, CREATE USER to LOGIN, as in PostgreSQL.
  if (!options.login) options.login = stmt.value("stmt_type", "") != "ROLESTMT_ROLE";
  if (stmt.value("stmt_type", "") == "ROLESTMT_GROUP")
    return NotSupported("CREATE GROUP is not supported");
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.CreateUser(Actor(), stmt.value("role", ""), options,
                                                        stmt.value("if_not_exists", false)));
  return WithNotices("CREATE ROLE", ddl);
}

Result<ResultSet> FrontendSession::ExecuteAlterUser(const json& stmt) {
  const json& role = stmt.value("role", json::object());
  std::string name;
  std::string roletype = role.value("roletype", "");
  if (roletype == "ROLESPEC_CSTRING") {
    name = role.value("rolename", "");
  } else if (roletype == "ROLESPEC_CURRENT_USER" || roletype == "ROLESPEC_SESSION_USER" ||
             roletype == "ROLESPEC_CURRENT_ROLE") {
    name = user_;
  } else {
    return NotSupported("ALTER USER of this role is not supported");
  }
  RWMETA_ASSIGN_OR_RETURN(auto options, UserOptions(stmt.value("options", json::array())));
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.AlterUser(Actor(), name, options));
  return WithNotices("ALTER ROLE", ddl);
}

Result<ResultSet> FrontendSession::ExecuteGrant(const json& stmt) {
  bool is_grant = stmt.value("is_grant", false);
  if (stmt.value("targtype", "") != "ACL_TARGET_OBJECT") {
    return NotSupported("GRANT ON ALL ... IN SCHEMA is not supported yet");
  }
  std::string objtype = stmt.value("objtype", "");
  meta::GrantTargetType type;
  if (objtype == "OBJECT_TABLE") {
    type = meta::GrantTargetType::kTable;
  } else if (objtype == "OBJECT_DATABASE") {
    type = meta::GrantTargetType::kDatabase;
  } else if (objtype == "OBJECT_SCHEMA") {
    type = meta::GrantTargetType::kSchema;
  } else {
    return NotSupported(fmt::format("GRANT on {} is not supported yet", objtype));
  }
  std::vector<meta::QualifiedName> objects;
  for (const auto& o : stmt.value("objects", json::array())) {
    if (o.contains("RangeVar")) {
      const json& rv = o["RangeVar"];
      std::string name = rv.value("relname", "");
      std::string schema = rv.value("schemaname", "");
      if (schema.empty()) schema = SchemaForExisting(name, false);
      objects.push_back({schema, name});
    } else {
      objects.push_back({"", StrOf(o)});
    }
  }
  std::vector<std::string> actions;
  for (const auto& p : stmt.value("privileges", json::array())) {
    if (!p.contains("AccessPriv")) continue;
    if (p["AccessPriv"].contains("cols"))
      return NotSupported("column privileges are not supported");
    actions.push_back(p["AccessPriv"].value("priv_name", ""));
  }
  std::vector<std::string> grantees;
  for (const auto& g : stmt.value("grantees", json::array())) {
    const json& spec = g.value("RoleSpec", json::object());
    if (spec.value("roletype", "") != "ROLESPEC_CSTRING") {
      return NotSupported("GRANT to PUBLIC or a role expression is not supported yet");
    }
    grantees.push_back(spec.value("rolename", ""));
  }
  if (is_grant) {
    RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.Grant(Actor(), type, objects, actions, grantees,
                                                     stmt.value("grant_option", false)));
    return WithNotices("GRANT", ddl);
  }
  RWMETA_ASSIGN_OR_RETURN(auto ddl, catalog_.Revoke(Actor(), type, objects, actions, grantees));
  return WithNotices("REVOKE", ddl);
}

}  // namespace rwmeta::frontend
