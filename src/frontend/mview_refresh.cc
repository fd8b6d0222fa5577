#include "frontend/mview_refresh.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <string>
#include <vector>

#include "frontend/sql/executor.h"
#include "frontend/sql/parser.h"
#include "frontend/system_catalogs.h"
#include "frontend/table_data.h"
#include "hummock/sst/key.h"

namespace rwmeta::frontend {

Status RefreshMaterializedView(TableData& data, meta::CatalogManager& catalog,
                               const meta::TableInfo& mv) {
  auto snap = catalog.Snapshot();
  const meta::DatabaseInfo* db = snap->FindDatabaseById(mv.database_id);
  const meta::SchemaInfo* schema = snap->FindSchemaById(mv.schema_id);
  const meta::UserInfo* owner = snap->FindUserById(mv.owner_id);
  if (db == nullptr || schema == nullptr) {
    return NotFoundError(
        fmt::format("materialized view \"{}\" has no database or schema", mv.name));
  }
  RWMETA_ASSIGN_OR_RETURN(auto parsed, sql::ParseSql(mv.definition));
  if (parsed.size() != 1 || !parsed[0].node.contains("SelectStmt")) {
    return DataLossError(
        fmt::format("the stored query of materialized view \"{}\" is not a SELECT", mv.name));
  }
  CatalogSessionInfo info;
  info.user = owner ? owner->name : "root";
  info.database = db->name;
  info.search_path = {schema->name, "public"};
  info.table_data = &data;
  info.uncommitted_reads = true;
  std::vector<std::optional<std::string>> none;
  CatalogQueryContext ctx(snap, info, none);
  RWMETA_ASSIGN_OR_RETURN(sql::QueryResult result,
                          sql::ExecuteSelect(parsed[0].node["SelectStmt"], ctx));
  // What the view holds now, by position.
  std::vector<std::string> old_rows;
  RWMETA_ASSIGN_OR_RETURN(
      auto reader, data.store().NewTableReader(static_cast<uint32_t>(mv.id), /*uncommitted=*/true));
  RWMETA_RETURN_IF_ERROR(reader->Scan([&](std::string_view, std::string_view value) {
    old_rows.emplace_back(value);
    return Status::Ok();
  }));
  std::vector<hummock::KvWrite> writes;
  std::vector<sql::ColumnDesc> types = ColumnDescsOf(mv);
  for (size_t i = 0; i < result.rows.size(); ++i) {
    sql::Tuple row = std::move(result.rows[i]);
    row.resize(types.size());
    for (size_t c = 0; c < row.size() && c < result.columns.size(); ++c) {
      RWMETA_ASSIGN_OR_RETURN(row[c], CoerceForAssignment(row[c], result.columns[c].type,
                                                          types[c].type, types[c].name));
    }
    RWMETA_ASSIGN_OR_RETURN(std::string value, TableData::EncodeRow(row));
    if (i < old_rows.size() && old_rows[i] == value) continue;
    writes.push_back(
        {hummock::EncodeMemcomparable({hummock::Datum(static_cast<int64_t>(i))}), value});
  }
  for (size_t i = result.rows.size(); i < old_rows.size(); ++i) {
    writes.push_back(
        {hummock::EncodeMemcomparable({hummock::Datum(static_cast<int64_t>(i))}), std::nullopt});
  }
  data.store().Write(static_cast<uint32_t>(mv.id), writes);
  return Status::Ok();
}

Status RefreshChangedViews(TableData& data, meta::CatalogManager& catalog) {
  std::set<uint32_t> written = data.store().TablesWrittenInOpenEpoch();
  if (written.empty()) return Status::Ok();
  auto snap = catalog.Snapshot();
  // Views are refreshed in id order: a view only reads relations created before it.
  Status first_error;
  for (const auto& t : snap->tables) {
    if (t.table_type != meta::kMaterializedViewType) continue;
    // Inputs, transitively through views and other materialized views.
    std::set<int64_t> inputs;
    std::vector<int64_t> todo{t.id};
    while (!todo.empty()) {
      int64_t id = todo.back();
      todo.pop_back();
      for (int64_t input : snap->DependenciesOf(id)) {
        if (inputs.insert(input).second) todo.push_back(input);
      }
    }
    bool changed = false;
    for (int64_t id : inputs) changed = changed || written.contains(static_cast<uint32_t>(id));
    if (!changed) continue;
    Status s = RefreshMaterializedView(data, catalog, t);
    if (!s.ok()) {
      // One broken view must not stop the epoch from committing: it keeps its last contents.
      spdlog::error("materialized view \"{}\" was not refreshed: {}", t.name, s.ToString());
      if (first_error.ok()) first_error = s;
      continue;
    }
    written.insert(static_cast<uint32_t>(t.id));
  }
  return first_error;
}

void InstallMaterializedViewRefresh(TableData& data, meta::CatalogManager& catalog) {
  data.SetPreCommitWork([&data, &catalog] { return RefreshChangedViews(data, catalog); });
}

}  // namespace rwmeta::frontend
