// CatalogSnapshot: its lookups, and building it from the meta store's rows: one decoder per row
// kind (ApplyCatalogRow) and the store's cascades (ApplyCatalogDelete), used both to load the
// whole catalog (LoadCatalog) and to apply what one DDL statement wrote.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>
#include <type_traits>

#include "meta/catalog_internal.h"
#include "meta/catalog_manager.h"

namespace rwmeta::meta {

namespace {

using catalog_internal::AsInt;
using catalog_internal::CatalogCascade;
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

namespace {

// The second members of the keys of `index` whose first member is `first`, ascending.
template <typename Map>
std::vector<int64_t> SecondsOf(const Map& index, int64_t first) {
  std::vector<int64_t> out;
  for (auto it = index.LowerBound({first, std::numeric_limits<int64_t>::min()});
       it != index.end() && it.key().first == first; ++it) {
    out.push_back(it.key().second);
  }
  return out;
}

template <typename Map>
bool AnyWithFirst(const Map& index, int64_t first) {
  auto it = index.LowerBound({first, std::numeric_limits<int64_t>::min()});
  return it != index.end() && it.key().first == first;
}

// The entry of `rows` whose id `names` holds under `key`, or nullptr.
template <typename V, typename NameMap, typename NameKey>
const V* ByName(const IdMap<V>& rows, const NameMap& names, const NameKey& key) {
  const int64_t* id = names.Find(key);
  return id == nullptr ? nullptr : rows.Find(*id);
}

}  // namespace

const UserInfo* CatalogSnapshot::FindUser(std::string_view name) const {
  return ByName(users, by.user_by_name, std::string(name));
}
const UserInfo* CatalogSnapshot::FindUserById(int64_t id) const { return users.Find(id); }
const DatabaseInfo* CatalogSnapshot::FindDatabase(std::string_view name) const {
  return ByName(databases, by.database_by_name, std::string(name));
}
const DatabaseInfo* CatalogSnapshot::FindDatabaseById(int64_t id) const {
  return databases.Find(id);
}
const SchemaInfo* CatalogSnapshot::FindSchema(int64_t database_id, std::string_view name) const {
  return ByName(schemas, by.schema_by_name, IdName(database_id, name));
}
const SchemaInfo* CatalogSnapshot::FindSchemaById(int64_t id) const { return schemas.Find(id); }
const TableInfo* CatalogSnapshot::FindTable(int64_t schema_id, std::string_view name) const {
  return ByName(tables, by.table_by_name, IdName(schema_id, name));
}
const TableInfo* CatalogSnapshot::FindTableById(int64_t id) const { return tables.Find(id); }
const ViewInfo* CatalogSnapshot::FindView(int64_t schema_id, std::string_view name) const {
  return ByName(views, by.view_by_name, IdName(schema_id, name));
}
const ViewInfo* CatalogSnapshot::FindViewById(int64_t id) const { return views.Find(id); }
const IndexInfo* CatalogSnapshot::FindIndex(int64_t schema_id, std::string_view name) const {
  return ByName(indexes, by.index_by_name, IdName(schema_id, name));
}
const SecretInfo* CatalogSnapshot::FindSecret(int64_t schema_id, std::string_view name) const {
  return ByName(secrets, by.secret_by_name, IdName(schema_id, name));
}
const PrivilegeInfo* CatalogSnapshot::FindPrivilege(int64_t user_id, int64_t oid,
                                                    std::string_view action) const {
  return ByName(privileges, by.privilege_by_key,
                std::make_tuple(user_id, oid, std::string(action)));
}
bool CatalogSnapshot::HasPrivilege(int64_t user_id, int64_t oid, std::string_view action) const {
  return FindPrivilege(user_id, oid, action) != nullptr;
}
std::optional<int64_t> CatalogSnapshot::OwnerOf(int64_t oid) const {
  const ObjectInfo* o = objects.Find(oid);
  if (o == nullptr) return std::nullopt;
  return o->owner_id;
}
std::vector<int64_t> CatalogSnapshot::SchemasOf(int64_t database_id) const {
  std::vector<int64_t> out;
  for (int64_t id : SecondsOf(by.object_by_database, database_id)) {
    if (schemas.Contains(id)) out.push_back(id);
  }
  return out;
}
std::vector<int64_t> CatalogSnapshot::ObjectsInSchema(int64_t schema_id) const {
  return SecondsOf(by.object_by_schema, schema_id);
}
std::vector<int64_t> CatalogSnapshot::DependentsOf(int64_t oid) const {
  std::vector<int64_t> out;
  for (int64_t row : SecondsOf(by.dependency_by_oid, oid))
    out.push_back(dependencies.Find(row)->used_by);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<int64_t> CatalogSnapshot::DependenciesOf(int64_t id) const {
  std::vector<int64_t> out;
  for (int64_t row : SecondsOf(by.dependency_by_user, id))
    out.push_back(dependencies.Find(row)->oid);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<int64_t> CatalogSnapshot::IndexesOn(int64_t table_id) const {
  return SecondsOf(by.index_by_table, table_id);
}
bool CatalogSnapshot::OwnsOrGranted(int64_t user_id) const {
  return AnyWithFirst(by.object_by_owner, user_id) ||
         AnyWithFirst(by.privilege_by_grantor, user_id);
}

// ---------------------------------------------------------------------------------------------
// Applying rows.

namespace {

// Removal of one entry of each kind with its indexes (what a delete of its row, or the
// replacement of the row by an update, takes away). Absent ids change nothing.

void RemoveUser(CatalogSnapshot& s, int64_t id) {
  const UserInfo* u = s.users.Find(id);
  if (u == nullptr) return;
  s.by.user_by_name.Erase(u->name);
  s.users.Erase(id);
}

void RemoveObject(CatalogSnapshot& s, int64_t id) {
  const ObjectInfo* o = s.objects.Find(id);
  if (o == nullptr) return;
  if (o->schema_id) s.by.object_by_schema.Erase({*o->schema_id, id});
  if (o->database_id) s.by.object_by_database.Erase({*o->database_id, id});
  s.by.object_by_owner.Erase({o->owner_id, id});
  s.objects.Erase(id);
}

void RemoveDatabase(CatalogSnapshot& s, int64_t id) {
  const DatabaseInfo* d = s.databases.Find(id);
  if (d == nullptr) return;
  s.by.database_by_name.Erase(d->name);
  s.databases.Erase(id);
}

void RemoveSchema(CatalogSnapshot& s, int64_t id) {
  const SchemaInfo* x = s.schemas.Find(id);
  if (x == nullptr) return;
  s.by.schema_by_name.Erase({x->database_id, x->name});
  s.schemas.Erase(id);
}

// Tables, views and secrets: named within their schema.
template <typename V, typename NameMap>
void RemoveNamed(IdMap<V>& rows, NameMap& names, int64_t id) {
  const V* x = rows.Find(id);
  if (x == nullptr) return;
  names.Erase({x->schema_id, x->name});
  rows.Erase(id);
}

void RemoveIndex(CatalogSnapshot& s, int64_t id) {
  const IndexInfo* i = s.indexes.Find(id);
  if (i == nullptr) return;
  s.by.index_by_table.Erase({i->primary_table_id, id});
  RemoveNamed(s.indexes, s.by.index_by_name, id);
}

void RemoveDependency(CatalogSnapshot& s, int64_t id) {
  const DependencyInfo* d = s.dependencies.Find(id);
  if (d == nullptr) return;
  s.by.dependency_by_oid.Erase({d->oid, id});
  s.by.dependency_by_user.Erase({d->used_by, id});
  s.dependencies.Erase(id);
}

void RemovePrivilege(CatalogSnapshot& s, int64_t id) {
  const PrivilegeInfo* p = s.privileges.Find(id);
  if (p == nullptr) return;
  s.by.privilege_by_key.Erase({p->user_id, p->oid, p->action});
  s.by.privilege_by_oid.Erase({p->oid, id});
  s.by.privilege_by_user.Erase({p->user_id, id});
  s.by.privilege_by_grantor.Erase({p->granted_by, id});
  s.privileges.Erase(id);
}

// Owner and database of a kind row come from its object row (0 if it has none).
int64_t OwnerOf(const CatalogSnapshot& s, int64_t id) {
  const ObjectInfo* o = s.objects.Find(id);
  return o == nullptr ? 0 : o->owner_id;
}
int64_t DatabaseOf(const CatalogSnapshot& s, int64_t id) {
  const ObjectInfo* o = s.objects.Find(id);
  return o == nullptr ? 0 : o->database_id.value_or(0);
}

// After an update of object row `o`: the kind entry keeps owner and database in step.
template <typename V>
void RefreshFromObject(IdMap<V>& rows, const ObjectInfo& o) {
  const V* x = rows.Find(o.id);
  if (x == nullptr) return;
  V copy = *x;
  copy.owner_id = o.owner_id;
  if constexpr (requires { copy.database_id; }) {
    if constexpr (!std::is_same_v<V, SchemaInfo>) copy.database_id = o.database_id.value_or(0);
  }
  if (!(copy == *x)) rows.Set(o.id, std::move(copy));
}

// The decoders: one per row kind. Each replaces the entry under the row's key.

Status PutUser(CatalogSnapshot& s, const Row& r) {
  UserInfo u{AsInt(r[0]),          AsText(r[1]),         std::get<bool>(r[2]), std::get<bool>(r[3]),
             std::get<bool>(r[4]), std::get<bool>(r[5]), AsOptText(r[6]),      AsOptText(r[7])};
  RemoveUser(s, u.id);
  s.by.user_by_name.Set(u.name, u.id);
  s.users.Set(u.id, std::move(u));
  return Status::Ok();
}

Status PutObject(CatalogSnapshot& s, const Row& r) {
  ObjectInfo o{AsInt(r[0]), AsText(r[1]), AsInt(r[2]), AsOptInt(r[3]), AsOptInt(r[4])};
  bool existed = s.objects.Contains(o.id);
  RemoveObject(s, o.id);
  if (o.schema_id) s.by.object_by_schema.Set({*o.schema_id, o.id}, true);
  if (o.database_id) s.by.object_by_database.Set({*o.database_id, o.id}, true);
  s.by.object_by_owner.Set({o.owner_id, o.id}, true);
  if (existed) {
    RefreshFromObject(s.databases, o);
    RefreshFromObject(s.schemas, o);
    RefreshFromObject(s.tables, o);
    RefreshFromObject(s.views, o);
    RefreshFromObject(s.indexes, o);
    RefreshFromObject(s.secrets, o);
  }
  s.objects.Set(o.id, std::move(o));
  return Status::Ok();
}

Status PutDatabase(CatalogSnapshot& s, const Row& r) {
  DatabaseInfo d{AsInt(r[0]), AsText(r[1]), OwnerOf(s, AsInt(r[0]))};
  RemoveDatabase(s, d.id);
  s.by.database_by_name.Set(d.name, d.id);
  s.databases.Set(d.id, std::move(d));
  return Status::Ok();
}

Status PutSchema(CatalogSnapshot& s, const Row& r) {
  SchemaInfo x{AsInt(r[0]), AsInt(r[1]), AsText(r[2]), OwnerOf(s, AsInt(r[0]))};
  RemoveSchema(s, x.id);
  s.by.schema_by_name.Set({x.database_id, x.name}, x.id);
  s.schemas.Set(x.id, std::move(x));
  return Status::Ok();
}

Status PutTable(CatalogSnapshot& s, const Row& r) {
  TableInfo t;
  t.id = AsInt(r[0]);
  t.schema_id = AsInt(r[1]);
  t.name = AsText(r[2]);
  t.table_type = AsText(r[3]);
  RWMETA_ASSIGN_OR_RETURN(t.columns, ColumnsFromJson(AsText(r[4]), t.id));
  RWMETA_ASSIGN_OR_RETURN(t.pk, PkFromJson(AsText(r[5]), t.id));
  t.definition = AsText(r[6]);
  t.append_only = std::get<bool>(r[7]);
  t.owner_id = OwnerOf(s, t.id);
  t.database_id = DatabaseOf(s, t.id);
  RemoveNamed(s.tables, s.by.table_by_name, t.id);
  s.by.table_by_name.Set({t.schema_id, t.name}, t.id);
  s.tables.Set(t.id, std::move(t));
  return Status::Ok();
}

Status PutView(CatalogSnapshot& s, const Row& r) {
  ViewInfo v;
  v.id = AsInt(r[0]);
  v.schema_id = AsInt(r[1]);
  v.name = AsText(r[2]);
  RWMETA_ASSIGN_OR_RETURN(v.columns, ColumnsFromJson(AsText(r[3]), v.id));
  v.definition = AsText(r[4]);
  v.owner_id = OwnerOf(s, v.id);
  v.database_id = DatabaseOf(s, v.id);
  RemoveNamed(s.views, s.by.view_by_name, v.id);
  s.by.view_by_name.Set({v.schema_id, v.name}, v.id);
  s.views.Set(v.id, std::move(v));
  return Status::Ok();
}

Status PutIndex(CatalogSnapshot& s, const Row& r) {
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
  i.owner_id = OwnerOf(s, i.id);
  i.database_id = DatabaseOf(s, i.id);
  RemoveIndex(s, i.id);
  s.by.index_by_name.Set({i.schema_id, i.name}, i.id);
  s.by.index_by_table.Set({i.primary_table_id, i.id}, true);
  s.indexes.Set(i.id, std::move(i));
  return Status::Ok();
}

Status PutSecret(CatalogSnapshot& s, const Row& r) {
  int64_t id = AsInt(r[0]);
  SecretInfo x{id, DatabaseOf(s, id), AsInt(r[1]), AsText(r[2]), OwnerOf(s, id), AsText(r[3])};
  RemoveNamed(s.secrets, s.by.secret_by_name, id);
  s.by.secret_by_name.Set({x.schema_id, x.name}, id);
  s.secrets.Set(id, std::move(x));
  return Status::Ok();
}

Status PutDependency(CatalogSnapshot& s, const Row& r) {
  DependencyInfo d{AsInt(r[0]), AsInt(r[1]), AsInt(r[2])};
  RemoveDependency(s, d.id);
  s.by.dependency_by_oid.Set({d.oid, d.id}, true);
  s.by.dependency_by_user.Set({d.used_by, d.id}, true);
  s.dependencies.Set(d.id, d);
  return Status::Ok();
}

Status PutPrivilege(CatalogSnapshot& s, const Row& r) {
  PrivilegeInfo p{AsInt(r[0]), AsInt(r[1]),  AsInt(r[2]),
                  AsInt(r[3]), AsText(r[4]), std::get<bool>(r[5])};
  RemovePrivilege(s, p.id);
  s.by.privilege_by_key.Set({p.user_id, p.oid, p.action}, p.id);
  s.by.privilege_by_oid.Set({p.oid, p.id}, true);
  s.by.privilege_by_user.Set({p.user_id, p.id}, true);
  s.by.privilege_by_grantor.Set({p.granted_by, p.id}, true);
  s.privileges.Set(p.id, std::move(p));
  return Status::Ok();
}

Status PutCatalogVersion(CatalogSnapshot& s, const Row& r) {
  if (AsText(r[0]) == "catalog") s.version = AsInt(r[1]);
  return Status::Ok();
}

struct RowKind {
  std::string_view table;
  Status (*put)(CatalogSnapshot&, const Row&);
  // Removes the entry with this id (for the kinds keyed by one id column).
  void (*remove)(CatalogSnapshot&, int64_t);
};

// Listed in the model's order (parents first).
const RowKind kRowKinds[] = {
    {"user", PutUser, RemoveUser},
    {"object", PutObject, RemoveObject},
    {"database", PutDatabase, RemoveDatabase},
    {"schema", PutSchema, RemoveSchema},
    {"table", PutTable,
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.tables, s.by.table_by_name, id); }},
    {"view", PutView,
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.views, s.by.view_by_name, id); }},
    {"index", PutIndex, RemoveIndex},
    {"secret", PutSecret,
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.secrets, s.by.secret_by_name, id); }},
    {"object_dependency", PutDependency, RemoveDependency},
    {"user_privilege", PutPrivilege, RemovePrivilege},
    {"catalog_version", PutCatalogVersion, nullptr},
};

const RowKind* KindOf(std::string_view table) {
  for (const RowKind& k : kRowKinds) {
    if (k.table == table) return &k;
  }
  return nullptr;
}

// The store's ON DELETE CASCADE between catalog tables: deleting `parent` row `id` removes the
// `child` rows whose `column` is `id`. (No cascading child is itself a cascading parent: the
// model test on CatalogCascades keeps it so.)
struct Cascade {
  CatalogCascade fk;
  void (*apply)(CatalogSnapshot&, int64_t parent_id);
};

const Cascade kCascades[] = {
    {{"database", "database_id", "object"}, RemoveDatabase},
    {{"schema", "schema_id", "object"}, RemoveSchema},
    {{"table", "table_id", "object"},
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.tables, s.by.table_by_name, id); }},
    {{"view", "view_id", "object"},
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.views, s.by.view_by_name, id); }},
    {{"index", "index_id", "object"}, RemoveIndex},
    {{"index", "primary_table_id", "object"},
     [](CatalogSnapshot& s, int64_t id) {
       for (int64_t index : SecondsOf(s.by.index_by_table, id)) RemoveIndex(s, index);
     }},
    {{"secret", "secret_id", "object"},
     [](CatalogSnapshot& s, int64_t id) { RemoveNamed(s.secrets, s.by.secret_by_name, id); }},
    {{"object_dependency", "oid", "object"},
     [](CatalogSnapshot& s, int64_t id) {
       for (int64_t row : SecondsOf(s.by.dependency_by_oid, id)) RemoveDependency(s, row);
     }},
    {{"object_dependency", "used_by", "object"},
     [](CatalogSnapshot& s, int64_t id) {
       for (int64_t row : SecondsOf(s.by.dependency_by_user, id)) RemoveDependency(s, row);
     }},
    {{"user_privilege", "oid", "object"},
     [](CatalogSnapshot& s, int64_t id) {
       for (int64_t row : SecondsOf(s.by.privilege_by_oid, id)) RemovePrivilege(s, row);
     }},
    {{"user_privilege", "user_id", "user"},
     [](CatalogSnapshot& s, int64_t id) {
       for (int64_t row : SecondsOf(s.by.privilege_by_user, id)) RemovePrivilege(s, row);
     }},
};

}  // namespace

namespace catalog_internal {

bool IsCatalogTable(std::string_view table) { return KindOf(table) != nullptr; }

Status ApplyCatalogRow(CatalogSnapshot& snap, const metastore::TableSchema& table, const Row& row) {
  const RowKind* kind = KindOf(table.name);
  if (kind == nullptr) return Status::Ok();
  return kind->put(snap, row);
}

void ApplyCatalogDelete(CatalogSnapshot& snap, const metastore::TableSchema& table,
                        const Key& key) {
  const RowKind* kind = KindOf(table.name);
  if (kind == nullptr || kind->remove == nullptr || key.size() != 1 ||
      !std::holds_alternative<int64_t>(key[0])) {
    return;
  }
  const int64_t id = AsInt(key[0]);
  kind->remove(snap, id);
  for (const Cascade& c : kCascades) {
    if (c.fk.parent == table.name) c.apply(snap, id);
  }
}

std::vector<CatalogCascade> CatalogCascades() {
  std::vector<CatalogCascade> out;
  for (const Cascade& c : kCascades) out.push_back(c.fk);
  return out;
}

}  // namespace catalog_internal

// ---------------------------------------------------------------------------------------------
// Loading.

Result<std::shared_ptr<const CatalogSnapshot>> LoadCatalog(metastore::ReadView& view) {
  auto snap = std::make_shared<CatalogSnapshot>();
  // The model lists parents first: object rows are in before the kind rows that take their owner
  // and database from them.
  for (const metastore::TableSchema& table : Model::Get().tables()) {
    if (!catalog_internal::IsCatalogTable(table.name)) continue;
    RWMETA_RETURN_IF_ERROR(view.Scan(
        table, [&](const Row& r) { return catalog_internal::ApplyCatalogRow(*snap, table, r); }));
  }
  return std::shared_ptr<const CatalogSnapshot>(std::move(snap));
}

}  // namespace rwmeta::meta
