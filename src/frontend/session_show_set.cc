// FrontendSession: session variables (SET, SHOW, RESET, DISCARD ALL's reset), SHOW of catalog
// lists and system parameters, and ALTER SYSTEM.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "frontend/session.h"
#include "frontend/session_internal.h"
#include "frontend/sql/parse_tree.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend {

namespace {

// Reported as server_version, like RisingWave (psql picks its catalog queries from it).
constexpr const char* kServerVersion = "13.14.0";

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
    // A snapshot deleted later fails the reads instead (NotFound, 42704).
    RWMETA_RETURN_IF_ERROR(CheckQueryEpochHeld(std::strtoull(v.c_str(), nullptr, 10)));
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
  for (int64_t id : snap->ObjectsInSchema(s->id)) {
    const meta::TableInfo* t = snap->FindTableById(id);
    if (t != nullptr && t->table_type != meta::kMaterializedViewType) names.push_back(t->name);
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
    auto text = sql::ConstText(arg);
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

}  // namespace rwmeta::frontend
