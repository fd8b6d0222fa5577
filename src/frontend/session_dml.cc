// FrontendSession: statements on table data (INSERT, UPDATE, DELETE, FLUSH). See table_data.h for
// how rows are stored and session.h for the session itself.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "frontend/session.h"
#include "frontend/session_internal.h"
#include "frontend/sql/executor.h"
#include "frontend/sql/sql_error.h"
#include "frontend/system_catalogs.h"
#include "frontend/table_data.h"

namespace rwmeta::frontend {

namespace {

// The position of column `name` of `table` (an INSERT or UPDATE target). 42703 if it has none.
Result<size_t> ColumnIndex(const meta::TableInfo& table, const std::string& name) {
  auto it = std::find_if(table.columns.begin(), table.columns.end(),
                         [&](const meta::ColumnInfo& col) { return col.name == name; });
  if (it == table.columns.end()) {
    return SqlError(
        StatusCode::kInvalidArgument, "42703",
        fmt::format("column \"{}\" of relation \"{}\" does not exist", name, table.name));
  }
  return static_cast<size_t>(it - table.columns.begin());
}

Status NoStateStore(const char* what) {
  return sql::NotSupported(
      fmt::format("{} needs the state store, which this session was opened without", what));
}

json ColumnRef(const std::string& name) {
  return {{"ColumnRef", {{"fields", json::array({{{"String", {{"sval", name}}}}})}}}};
}

json ResTarget(json val) { return {{"ResTarget", {{"val", std::move(val)}}}}; }

Status NotNullViolation(const meta::TableInfo& table, size_t column) {
  return SqlError(StatusCode::kInvalidArgument, "23502",
                  fmt::format("null value in column \"{}\" of relation \"{}\" violates not-null "
                              "constraint",
                              table.columns[column].name, table.name));
}

}  // namespace

Result<ResultSet> FrontendSession::ExecuteFlush() {
  if (data_ == nullptr) return NoStateStore("FLUSH");
  RWMETA_ASSIGN_OR_RETURN(hummock::CheckpointResult r, data_->store().Checkpoint());
  if (r.epoch != 0) {
    spdlog::info("FLUSH committed epoch {} ({} keys, {} SSTs)", r.epoch, r.keys, r.ssts);
  }
  return Tag("FLUSH");
}

Status FrontendSession::MaybeImplicitFlush() {
  std::string v = GetVariable("rw_implicit_flush").value_or("false");
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  if (v != "true" && v != "on" && v != "1") return Status::Ok();
  return data_->store().Checkpoint().status();
}

void FrontendSession::AfterDrop(const meta::DdlResult& ddl) {
  if (data_ == nullptr || ddl.dropped_ids.empty()) return;
  Status s = data_->OnDropped(ddl.dropped_ids);
  if (!s.ok()) spdlog::warn("dropping relations from hummock: {}", s.ToString());
}

Result<meta::TableInfo> FrontendSession::DmlTarget(const json& range_var, const char* verb) {
  std::string name = range_var.value("relname", "");
  std::string schema = range_var.value("schemaname", "");
  std::string db = range_var.value("catalogname", "");
  if (!db.empty() && db != database_) {
    return sql::NotSupported("cross-database references are not implemented");
  }
  if (schema.empty()) schema = SchemaForExisting(name, false);
  auto snap = catalog_.Snapshot();
  const meta::DatabaseInfo* d = snap->FindDatabase(database_);
  const meta::SchemaInfo* s = d ? snap->FindSchema(d->id, schema) : nullptr;
  const meta::TableInfo* t = s ? snap->FindTable(s->id, name) : nullptr;
  if (t == nullptr) {
    if (s != nullptr && snap->FindView(s->id, name) != nullptr) {
      return SqlError(StatusCode::kInvalidArgument, "42809",
                      fmt::format("cannot {} view \"{}\"", verb, name));
    }
    return SqlError(StatusCode::kNotFound, "42P01",
                    fmt::format("relation \"{}\" does not exist", name));
  }
  if (t->table_type == meta::kMaterializedViewType) {
    return SqlError(StatusCode::kInvalidArgument, "42809",
                    fmt::format("cannot {} materialized view \"{}\"", verb, name));
  }
  return *t;
}

Result<ResultSet> FrontendSession::ExecuteInsert(const json& stmt,
                                                 const std::vector<TextValue>& params) {
  if (data_ == nullptr) return NoStateStore("INSERT");
  if (stmt.contains("returningList")) return sql::NotSupported("INSERT ... RETURNING");
  if (stmt.contains("onConflictClause")) return sql::NotSupported("INSERT ... ON CONFLICT");
  RWMETA_ASSIGN_OR_RETURN(meta::TableInfo table,
                          DmlTarget(stmt.value("relation", json::object()), "insert into"));
  std::vector<size_t> targets;
  const bool explicit_columns = stmt.contains("cols");
  if (explicit_columns) {
    for (const auto& c : stmt["cols"]) {
      std::string name = c.contains("ResTarget") ? c["ResTarget"].value("name", "") : "";
      RWMETA_ASSIGN_OR_RETURN(size_t idx, ColumnIndex(table, name));
      if (std::find(targets.begin(), targets.end(), idx) != targets.end()) {
        return SqlError(StatusCode::kInvalidArgument, "42701",
                        fmt::format("column \"{}\" specified more than once", name));
      }
      targets.push_back(idx);
    }
  } else {
    for (size_t i = 0; i < table.columns.size(); ++i) targets.push_back(i);
  }
  std::vector<sql::ColumnDesc> types = ColumnDescsOf(table);
  std::vector<hummock::KvWrite> writes;
  {
    auto guard = data_->store().BeginDml();
    sql::QueryResult source;
    if (stmt.contains("selectStmt")) {
      auto values = params_.Values();
      CatalogSessionInfo info = SessionInfo(&values);
      info.uncommitted_reads = true;
      CatalogQueryContext ctx(catalog_.Snapshot(), info, params);
      const json& sel = stmt["selectStmt"];
      if (!sel.contains("SelectStmt")) return sql::NotSupported("INSERT source other than SELECT");
      RWMETA_ASSIGN_OR_RETURN(source, sql::ExecuteSelect(sel["SelectStmt"], ctx));
    } else {
      source.rows.push_back({});  // DEFAULT VALUES
    }
    if (source.columns.size() > targets.size()) {
      return SqlError(StatusCode::kInvalidArgument, "42601",
                      "INSERT has more expressions than target columns");
    }
    if (explicit_columns && source.columns.size() < targets.size() && !source.columns.empty()) {
      return SqlError(StatusCode::kInvalidArgument, "42601",
                      "INSERT has more target columns than expressions");
    }
    writes.reserve(source.rows.size());
    for (const sql::Tuple& in : source.rows) {
      sql::Tuple row(table.columns.size());
      for (size_t j = 0; j < in.size() && j < source.columns.size(); ++j) {
        size_t col = targets[j];
        RWMETA_ASSIGN_OR_RETURN(row[col], CoerceForAssignment(in[j], source.columns[j].type,
                                                              types[col].type, types[col].name));
      }
      for (size_t c = 0; c < row.size(); ++c) {
        if (!table.columns[c].nullable && row[c].is_null()) return NotNullViolation(table, c);
      }
      RWMETA_ASSIGN_OR_RETURN(std::string key, data_->KeyFor(table, row));
      RWMETA_ASSIGN_OR_RETURN(std::string value, TableData::EncodeRow(row));
      writes.push_back({std::move(key), std::move(value)});
    }
    data_->store().Write(static_cast<uint32_t>(table.id), writes);
  }
  RWMETA_RETURN_IF_ERROR(MaybeImplicitFlush());
  return Tag(fmt::format("INSERT 0 {}", writes.size()));
}

Result<ResultSet> FrontendSession::ExecuteUpdateOrDelete(const json& stmt, bool is_update,
                                                         const std::vector<TextValue>& params) {
  const char* verb = is_update ? "UPDATE" : "DELETE";
  if (data_ == nullptr) return NoStateStore(verb);
  if (stmt.contains("returningList"))
    return sql::NotSupported(fmt::format("{} ... RETURNING", verb));
  if (stmt.contains("fromClause") || stmt.contains("usingClause")) {
    return sql::NotSupported(fmt::format("{} with FROM or USING", verb));
  }
  const json& relation = stmt.value("relation", json::object());
  RWMETA_ASSIGN_OR_RETURN(meta::TableInfo table,
                          DmlTarget(relation, is_update ? "update" : "delete from"));
  // The rows to change, as a SELECT over the table with its keys: for UPDATE, the new values.
  json targets = json::array({ResTarget(ColumnRef("_rw_key"))});
  if (is_update) {
    std::vector<json> values(table.columns.size());
    for (const auto& t : stmt.value("targetList", json::array())) {
      const json& rt = t.value("ResTarget", json::object());
      std::string name = rt.value("name", "");
      if (rt.contains("indirection")) {
        return sql::NotSupported("UPDATE of a part of a column (subscripts, fields)");
      }
      RWMETA_ASSIGN_OR_RETURN(size_t idx, ColumnIndex(table, name));
      if (!values[idx].is_null()) {
        return SqlError(StatusCode::kInvalidArgument, "42601",
                        fmt::format("multiple assignments to same column \"{}\"", name));
      }
      if (rt.value("val", json::object()).contains("SetToDefault")) {
        values[idx] = {{"A_Const", {{"isnull", true}}}};
      } else {
        values[idx] = rt.value("val", json::object());
      }
    }
    for (size_t i = 0; i < table.columns.size(); ++i) {
      targets.push_back(
          ResTarget(values[i].is_null() ? ColumnRef(table.columns[i].name) : values[i]));
    }
  }
  json select = {{"targetList", targets},
                 {"fromClause", json::array({{{"RangeVar", relation}}})},
                 {"limitOption", "LIMIT_OPTION_DEFAULT"},
                 {"op", "SETOP_NONE"}};
  if (stmt.contains("whereClause")) select["whereClause"] = stmt["whereClause"];

  std::vector<hummock::KvWrite> deletes, puts;
  size_t changed = 0;
  {
    auto guard = data_->store().BeginDml();
    auto values = params_.Values();
    CatalogSessionInfo info = SessionInfo(&values);
    info.uncommitted_reads = true;
    info.dml_target_id = table.id;
    CatalogQueryContext ctx(catalog_.Snapshot(), info, params);
    RWMETA_ASSIGN_OR_RETURN(sql::QueryResult result, sql::ExecuteSelect(select, ctx));
    std::vector<sql::ColumnDesc> types = ColumnDescsOf(table);
    changed = result.rows.size();
    for (sql::Tuple& in : result.rows) {
      std::string key = std::get<std::string>(in[0].v);
      if (!is_update) {
        deletes.push_back({std::move(key), std::nullopt});
        continue;
      }
      sql::Tuple row(table.columns.size());
      for (size_t c = 0; c < row.size(); ++c) {
        RWMETA_ASSIGN_OR_RETURN(row[c], CoerceForAssignment(in[c + 1], result.columns[c + 1].type,
                                                            types[c].type, types[c].name));
        if (!table.columns[c].nullable && row[c].is_null()) return NotNullViolation(table, c);
      }
      std::string new_key = key;
      if (!table.pk.empty()) {
        RWMETA_ASSIGN_OR_RETURN(new_key, data_->KeyFor(table, row));
      }
      if (new_key != key) deletes.push_back({std::move(key), std::nullopt});
      RWMETA_ASSIGN_OR_RETURN(std::string value, TableData::EncodeRow(row));
      puts.push_back({std::move(new_key), std::move(value)});
    }
    // Deletes first: a row may move to the key another row just left (SET id = id + 1).
    data_->store().Write(static_cast<uint32_t>(table.id), deletes);
    data_->store().Write(static_cast<uint32_t>(table.id), puts);
  }
  RWMETA_RETURN_IF_ERROR(MaybeImplicitFlush());
  return Tag(fmt::format("{} {}", verb, changed));
}

}  // namespace rwmeta::frontend
