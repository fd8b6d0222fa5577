// CatalogSnapshot: its lookups, and loading it from the meta store's rows (LoadCatalog).
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "meta/catalog_internal.h"
#include "meta/catalog_manager.h"

namespace rwmeta::meta {

namespace {

using catalog_internal::AsInt;
using metastore::Key;
using metastore::Model;
using metastore::Row;
using metastore::Value;

std::optional<int64_t> AsOptInt(const Value& v) {
  if (metastore::IsNull(v)) return std::nullopt;
  return std::get<int64_t>(v);
}
const std::string& AsText(const Value& v) { return std::get<std::string>(v); }
std::optional<std::string> AsOptText(const Value& v) {
  if (metastore::IsNull(v)) return std::nullopt;
  return std::get<std::string>(v);
}

Result<std::vector<ColumnInfo>> ColumnsFromJson(const std::string& text, int64_t oid) {
  try {
    std::vector<ColumnInfo> out;
    for (const auto& c : nlohmann::json::parse(text)) {
      out.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>(),
                     c.value("nullable", true)});
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(fmt::format("object {}: bad columns json: {}", oid, e.what()));
  }
}

Result<std::vector<int>> PkFromJson(const std::string& text, int64_t oid) {
  try {
    return nlohmann::json::parse(text).get<std::vector<int>>();
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(fmt::format("table {}: bad pk json: {}", oid, e.what()));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CatalogSnapshot lookups.

// The first element of `items` that satisfies `pred`, or nullptr. Catalogs are small: a scan
// is cheaper than keeping indexes in step with every DDL.
namespace {
template <typename T, typename Pred>
const T* FindFirst(const std::vector<T>& items, Pred pred) {
  for (const auto& item : items) {
    if (pred(item)) return &item;
  }
  return nullptr;
}
}  // namespace

const UserInfo* CatalogSnapshot::FindUser(std::string_view name) const {
  return FindFirst(users, [&](const auto& u) { return u.name == name; });
}
const UserInfo* CatalogSnapshot::FindUserById(int64_t id) const {
  return FindFirst(users, [&](const auto& u) { return u.id == id; });
}
const DatabaseInfo* CatalogSnapshot::FindDatabase(std::string_view name) const {
  return FindFirst(databases, [&](const auto& d) { return d.name == name; });
}
const DatabaseInfo* CatalogSnapshot::FindDatabaseById(int64_t id) const {
  return FindFirst(databases, [&](const auto& d) { return d.id == id; });
}
const SchemaInfo* CatalogSnapshot::FindSchema(int64_t database_id, std::string_view name) const {
  return FindFirst(schemas,
                   [&](const auto& s) { return s.database_id == database_id && s.name == name; });
}
const SchemaInfo* CatalogSnapshot::FindSchemaById(int64_t id) const {
  return FindFirst(schemas, [&](const auto& s) { return s.id == id; });
}
const TableInfo* CatalogSnapshot::FindTable(int64_t schema_id, std::string_view name) const {
  return FindFirst(tables,
                   [&](const auto& t) { return t.schema_id == schema_id && t.name == name; });
}
const TableInfo* CatalogSnapshot::FindTableById(int64_t id) const {
  return FindFirst(tables, [&](const auto& t) { return t.id == id; });
}
const ViewInfo* CatalogSnapshot::FindView(int64_t schema_id, std::string_view name) const {
  return FindFirst(views,
                   [&](const auto& v) { return v.schema_id == schema_id && v.name == name; });
}
const ViewInfo* CatalogSnapshot::FindViewById(int64_t id) const {
  return FindFirst(views, [&](const auto& v) { return v.id == id; });
}
const SecretInfo* CatalogSnapshot::FindSecret(int64_t schema_id, std::string_view name) const {
  return FindFirst(secrets,
                   [&](const auto& s) { return s.schema_id == schema_id && s.name == name; });
}
bool CatalogSnapshot::HasPrivilege(int64_t user_id, int64_t oid, std::string_view action) const {
  for (const auto& p : privileges) {
    if (p.user_id == user_id && p.oid == oid && p.action == action) return true;
  }
  return false;
}
std::optional<int64_t> CatalogSnapshot::OwnerOf(int64_t oid) const {
  for (const auto& d : databases)
    if (d.id == oid) return d.owner_id;
  for (const auto& s : schemas)
    if (s.id == oid) return s.owner_id;
  for (const auto& t : tables)
    if (t.id == oid) return t.owner_id;
  for (const auto& v : views)
    if (v.id == oid) return v.owner_id;
  for (const auto& s : secrets)
    if (s.id == oid) return s.owner_id;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Loading.

Result<std::shared_ptr<const CatalogSnapshot>> LoadCatalog(metastore::ReadView& view) {
  auto snap = std::make_shared<CatalogSnapshot>();
  const Model& m = Model::Get();
  struct ObjectRow {
    int64_t owner_id;
    std::optional<int64_t> database_id;
  };
  std::map<int64_t, ObjectRow> objects;
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("object"), [&](const Row& r) {
    objects[AsInt(r[0])] = {AsInt(r[2]), AsOptInt(r[3])};
    return Status::Ok();
  }));
  auto owner = [&](int64_t oid) {
    auto it = objects.find(oid);
    return it == objects.end() ? 0 : it->second.owner_id;
  };
  auto dbof = [&](int64_t oid) {
    auto it = objects.find(oid);
    return it == objects.end() ? 0 : it->second.database_id.value_or(0);
  };
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("user"), [&](const Row& r) {
    snap->users.push_back({AsInt(r[0]), AsText(r[1]), std::get<bool>(r[2]), std::get<bool>(r[3]),
                           std::get<bool>(r[4]), std::get<bool>(r[5]), AsOptText(r[6]),
                           AsOptText(r[7])});
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("database"), [&](const Row& r) {
    snap->databases.push_back({AsInt(r[0]), AsText(r[1]), owner(AsInt(r[0]))});
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("schema"), [&](const Row& r) {
    snap->schemas.push_back({AsInt(r[0]), AsInt(r[1]), AsText(r[2]), owner(AsInt(r[0]))});
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("table"), [&](const Row& r) -> Status {
    TableInfo t;
    t.id = AsInt(r[0]);
    t.schema_id = AsInt(r[1]);
    t.name = AsText(r[2]);
    t.table_type = AsText(r[3]);
    RWMETA_ASSIGN_OR_RETURN(t.columns, ColumnsFromJson(AsText(r[4]), t.id));
    RWMETA_ASSIGN_OR_RETURN(t.pk, PkFromJson(AsText(r[5]), t.id));
    t.definition = AsText(r[6]);
    t.append_only = std::get<bool>(r[7]);
    t.owner_id = owner(t.id);
    t.database_id = dbof(t.id);
    snap->tables.push_back(std::move(t));
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("view"), [&](const Row& r) -> Status {
    ViewInfo v;
    v.id = AsInt(r[0]);
    v.schema_id = AsInt(r[1]);
    v.name = AsText(r[2]);
    RWMETA_ASSIGN_OR_RETURN(v.columns, ColumnsFromJson(AsText(r[3]), v.id));
    v.definition = AsText(r[4]);
    v.owner_id = owner(v.id);
    v.database_id = dbof(v.id);
    snap->views.push_back(std::move(v));
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("index"), [&](const Row& r) -> Status {
    IndexInfo i;
    i.id = AsInt(r[0]);
    i.schema_id = AsInt(r[1]);
    i.name = AsText(r[2]);
    i.primary_table_id = AsInt(r[3]);
    auto cols = nlohmann::json::parse(AsText(r[4]), nullptr, /*allow_exceptions=*/false);
    if (!cols.is_array()) {
      return DataLossError(fmt::format("index {} has undecodable columns", i.id));
    }
    for (const auto& c : cols) {
      if (c.is_string()) i.columns.push_back(c.get<std::string>());
    }
    i.definition = AsText(r[5]);
    i.owner_id = owner(i.id);
    i.database_id = dbof(i.id);
    snap->indexes.push_back(std::move(i));
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("secret"), [&](const Row& r) {
    int64_t id = AsInt(r[0]);
    snap->secrets.push_back({id, dbof(id), AsInt(r[1]), AsText(r[2]), owner(id), AsText(r[3])});
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("user_privilege"), [&](const Row& r) {
    snap->privileges.push_back(
        {AsInt(r[0]), AsInt(r[1]), AsInt(r[2]), AsInt(r[3]), AsText(r[4]), std::get<bool>(r[5])});
    return Status::Ok();
  }));
  RWMETA_RETURN_IF_ERROR(view.Scan(m.Table("object_dependency"), [&](const Row& r) {
    snap->dependencies.push_back({AsInt(r[1]), AsInt(r[2])});
    return Status::Ok();
  }));
  RWMETA_ASSIGN_OR_RETURN(auto version,
                          view.Get(m.Table("catalog_version"), Key{std::string("catalog")}));
  snap->version = version ? AsInt((*version)[1]) : 0;
  return std::shared_ptr<const CatalogSnapshot>(std::move(snap));
}

}  // namespace rwmeta::meta
