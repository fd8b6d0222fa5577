// FrontendSession: DDL on relations (CREATE TABLE, CREATE VIEW, CREATE MATERIALIZED VIEW, DROP).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "frontend/mview_refresh.h"
#include "frontend/session.h"
#include "frontend/session_internal.h"
#include "frontend/sql/executor.h"
#include "frontend/sql/parse_tree.h"
#include "frontend/sql/sql_error.h"
#include "frontend/table_data.h"

namespace rwmeta::frontend {

namespace {

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

}  // namespace

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
      const json* unused = nullptr;
      return NotSupported(
          fmt::format("table element {} is not supported yet", sql::NodeKind(elt, &unused)));
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

Result<FrontendSession::NewView> FrontendSession::DescribeNewView(const json& rel,
                                                                  const json& query,
                                                                  const json& aliases_node,
                                                                  bool materialized) {
  NewView out;
  out.schema = rel.value("schemaname", "");
  if (out.schema.empty()) {
    RWMETA_ASSIGN_OR_RETURN(out.schema, CreationSchema());
  }
  if (IsSystemSchema(out.schema)) {
    return SqlError(
        StatusCode::kPermissionDenied, "42501",
        fmt::format("permission denied to create \"{}.{}\"", out.schema, rel.value("relname", "")));
  }
  const char* kind = materialized ? "materialized view" : "view";
  if (!query.contains("SelectStmt")) {
    return NotSupported(fmt::format("a {}'s query must be a SELECT", kind));
  }
  auto values = params_.Values();
  CatalogSessionInfo info = SessionInfo(&values);
  std::vector<TextValue> none;
  CatalogQueryContext ctx(catalog_.Snapshot(), info, none);
  RWMETA_ASSIGN_OR_RETURN(auto cols, sql::DescribeSelect(query["SelectStmt"], ctx));
  std::vector<std::string> aliases = NameList(aliases_node);
  if (aliases.size() > cols.size()) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    fmt::format("CREATE {} specifies more column names than columns",
                                materialized ? "MATERIALIZED VIEW" : "VIEW"));
  }
  for (size_t i = 0; i < cols.size(); ++i) {
    // A materialized view stores its rows: a column of unknown type (a bare literal) is varchar.
    sql::TypeId type = materialized && cols[i].type == sql::TypeId::kUnknown ? sql::TypeId::kVarchar
                                                                             : cols[i].type;
    out.columns.push_back(
        {i < aliases.size() ? aliases[i] : cols[i].name, sql::TypeName(type), true});
  }
  out.dependencies = ctx.resolved_ids();
  return out;
}

Result<ResultSet> FrontendSession::ExecuteCreateView(const json& stmt, const std::string& text) {
  if (stmt.value("replace", false))
    return NotSupported("CREATE OR REPLACE VIEW is not supported yet");
  const json& rel = stmt.value("view", json::object());
  if (rel.value("relpersistence", "p") != "p")
    return NotSupported("temporary views are not supported");
  RWMETA_ASSIGN_OR_RETURN(NewView view,
                          DescribeNewView(rel, stmt.value("query", json::object()),
                                          stmt.value("aliases", json::array()), false));
  RWMETA_ASSIGN_OR_RETURN(
      auto ddl, catalog_.CreateView(Actor(), {view.schema, rel.value("relname", "")},
                                    std::move(view.columns), ViewQueryText(text), view.dependencies,
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
  RWMETA_ASSIGN_OR_RETURN(NewView view,
                          DescribeNewView(rel, stmt.value("query", json::object()),
                                          into.value("colNames", json::array()), true));
  RWMETA_ASSIGN_OR_RETURN(
      auto ddl, catalog_.CreateMaterializedView(
                    Actor(), {view.schema, rel.value("relname", "")}, std::move(view.columns),
                    ViewQueryText(text), view.dependencies, stmt.value("if_not_exists", false)));
  if (ddl.id == 0) return WithNotices("CREATE_MATERIALIZED_VIEW", ddl);
  RWMETA_RETURN_IF_ERROR(data_->OnCreated(ddl.id));
  auto snap = catalog_.Snapshot();
  const meta::TableInfo* mv = snap->FindTableById(ddl.id);
  if (mv == nullptr) return InternalError("the new materialized view is not in the catalog");
  {
    auto guard = data_->store().BeginDml();
    RWMETA_RETURN_IF_ERROR(RefreshMaterializedView(*data_, catalog_, *mv));
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
        // The first schema of the database (in id order) that has an index of that name.
        auto snap = catalog_.Snapshot();
        const meta::DatabaseInfo* db = snap->FindDatabase(database_);
        for (int64_t schema_id : db ? snap->SchemasOf(db->id) : std::vector<int64_t>{}) {
          if (snap->FindIndex(schema_id, name.name) != nullptr) {
            name.schema = snap->FindSchemaById(schema_id)->name;
            break;
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

}  // namespace rwmeta::frontend
