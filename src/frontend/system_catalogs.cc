#include "frontend/system_catalogs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "frontend/sql/sql_error.h"
#include "frontend/table_data.h"
#include "hummock/epoch.h"

namespace rwmeta::frontend {

namespace {

using sql::ColumnDesc;
using sql::Datum;
using sql::Tuple;
using sql::TypeId;

Datum I(int64_t v) { return Datum{v}; }
Datum S(std::string v) { return Datum{std::move(v)}; }
Datum B(bool v) { return Datum{v}; }
Datum N() { return Datum::Null(); }

// Built-in oids of pg_catalog objects that psql joins against.
constexpr int64_t kHeapAmOid = 2;
constexpr int64_t kBtreeAmOid = 403;
constexpr int64_t kDefaultTablespaceOid = 1663;
constexpr int64_t kPgCatalogNamespaceOid = 11;

struct Env {
  const meta::CatalogSnapshot& snap;
  const CatalogSessionInfo& session;
  int64_t db_id;  // 0 if the session's database vanished
};

using Rows = std::vector<Tuple>;

// The columns of a catalog written "name type, name type, ..." with the SQL type names of DDL
// (sql::TypeFromName), except that "oid" is int4, as RisingWave's catalogs show oids. The lists
// are this file's constants: a name that does not parse is a bug here, and aborts at the first
// query that needs the catalogs.
std::vector<ColumnDesc> ParseColumns(std::string_view spec) {
  std::vector<ColumnDesc> out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view column = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    size_t space = column.find(' ');
    std::string name(column.substr(0, space));
    std::string type_name(space == std::string_view::npos ? "" : column.substr(space + 1));
    if (type_name == "oid") {
      out.push_back({std::move(name), TypeId::kInt32});
      continue;
    }
    Result<TypeId> type = sql::TypeFromName(type_name);
    if (!type.ok()) {
      std::fprintf(stderr, "system catalog column \"%.*s\": %s\n", static_cast<int>(column.size()),
                   column.data(), type.status().ToString().c_str());
      std::abort();
    }
    out.push_back({std::move(name), *type});
  }
  return out;
}

// A system catalog: its columns and where its rows come from. At most one of the two is set;
// neither: the catalog is always empty (psql joins against it).
struct SystemCatalog {
  std::vector<ColumnDesc> columns;
  // Rows computed when the relation is built, from the catalog snapshot and the session.
  std::function<Rows(const Env&)> rows;
  // Rows read when the relation is scanned, from a source that can fail (the query fails with its
  // error): the function `scan` returns for the session.
  std::function<std::function<Result<Rows>()>(const Env&)> scan;
};

std::string SchemaName(const Env& e, int64_t schema_id) {
  const auto* s = e.snap.FindSchemaById(schema_id);
  return s ? s->name : "";
}

std::string UserName(const Env& e, int64_t user_id) {
  const auto* u = e.snap.FindUserById(user_id);
  return u ? u->name : fmt::format("unknown (OID={})", user_id);
}

template <typename Fn>
void ForTables(const Env& e, Fn fn) {
  for (const auto& t : e.snap.tables)
    if (t.database_id == e.db_id) fn(t);
}
template <typename Fn>
void ForViews(const Env& e, Fn fn) {
  for (const auto& v : e.snap.views)
    if (v.database_id == e.db_id) fn(v);
}
template <typename Fn>
void ForSchemas(const Env& e, Fn fn) {
  for (const auto& s : e.snap.schemas)
    if (s.database_id == e.db_id) fn(s);
}

// A relation whose rows are computed when it is scanned, so that their source's error is the
// query's error.
class LazyRelation : public sql::Relation {
 public:
  LazyRelation(std::vector<ColumnDesc> columns, std::function<Result<Rows>()> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}
  const std::vector<ColumnDesc>& columns() const override { return columns_; }
  Status Scan(const std::function<Status(const Tuple&)>& visit) override {
    RWMETA_ASSIGN_OR_RETURN(Rows rows, rows_());
    for (const Tuple& row : rows) RWMETA_RETURN_IF_ERROR(visit(row));
    return Status::Ok();
  }

 private:
  std::vector<ColumnDesc> columns_;
  std::function<Result<Rows>()> rows_;
};

// ----- rw_catalog -----

// An epoch as bigint (epochs are below 2^63 until the year 6400).
Datum EpochDatum(uint64_t epoch) { return I(static_cast<int64_t>(epoch)); }

Datum EpochTs(uint64_t epoch) {
  auto us = EpochToUnixMicros(epoch);
  return us ? I(*us) : N();
}

// state_table_info as RisingWave shows it (pbjson of the protobuf map): table ids as keys,
// camelCase fields, 64-bit numbers as decimal strings.
std::string StateTableInfoJson(const std::map<uint32_t, backup::StateTableInfoEntry>& info) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [table_id, entry] : info) {
    j[std::to_string(table_id)] = {
        {"committedEpoch", std::to_string(entry.committed_epoch)},
        {"compactionGroupId", std::to_string(entry.compaction_group_id)}};
  }
  return j.dump();
}

// DESIGN.md section 3: RisingWave's old and new columns, then rwmeta's extras. Read from the
// backup location when scanned.
std::function<Result<Rows>()> RwMetaSnapshot(const Env& e) {
  auto source = e.session.meta_snapshots;
  auto details_of = e.session.meta_snapshot_details;
  return [source, details_of]() -> Result<Rows> {
    if (!source || !details_of) {
      return sql::NotSupported(
          "rw_meta_snapshot is not available: this session has no backup manager");
    }
    RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest, source());
    Rows rows;
    for (const auto& m : manifest.snapshots) {
      // From the snapshot object's header (cached by the backup storage): the manifest entry no
      // longer carries it.
      RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<const backup::SnapshotDetails> details,
                              details_of(m));
      rows.push_back({I(static_cast<int64_t>(m.id)), I(static_cast<int64_t>(m.hummock_version_id)),
                      EpochDatum(m.safe_epoch), EpochTs(m.safe_epoch),
                      EpochDatum(m.max_committed_epoch), EpochTs(m.max_committed_epoch),
                      m.remarks ? S(*m.remarks) : N(),
                      S(StateTableInfoJson(details->state_table_info)),
                      m.rw_version ? S(*m.rw_version) : N(), I(static_cast<int64_t>(m.size_bytes)),
                      I(m.created_at_ms * 1000), I(static_cast<int64_t>(m.format_version)),
                      B(m.scheduled), m.drill ? I(m.drill->at_ms * 1000) : N(),
                      m.drill ? B(m.drill->passed) : N(), m.drill ? S(m.drill->message) : N()});
    }
    return rows;
  };
}

Rows RwMaterializedViews(const Env& e) {
  Rows rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type != meta::kMaterializedViewType) return;
    rows.push_back({I(t.id), S(t.name), I(t.schema_id), I(t.owner_id), S(t.definition), N()});
  });
  return rows;
}

Rows RwIndexes(const Env& e) {
  Rows rows;
  for (const auto& i : e.snap.indexes) {
    if (i.database_id != e.db_id) continue;
    rows.push_back({I(i.id), S(i.name), I(i.schema_id), I(i.owner_id), I(i.primary_table_id),
                    S(fmt::format("{}", fmt::join(i.columns, ", "))), S(i.definition)});
  }
  return rows;
}

Rows RwTables(const Env& e) {
  Rows rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type == meta::kMaterializedViewType) return;
    rows.push_back({I(t.id), S(t.name), I(t.schema_id), I(t.owner_id), S(t.definition),
                    B(t.append_only), N()});
  });
  return rows;
}

Rows RwViews(const Env& e) {
  Rows rows;
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back({I(v.id), S(v.name), I(v.schema_id), I(v.owner_id), S(v.definition), N()});
  });
  return rows;
}

// rw_schemas and pg_namespace: the same rows.
Rows Schemas(const Env& e) {
  Rows rows;
  ForSchemas(e, [&](const meta::SchemaInfo& s) {
    rows.push_back({I(s.id), S(s.name), I(s.owner_id), N()});
  });
  return rows;
}

Rows RwDatabases(const Env& e) {
  Rows rows;
  for (const auto& d : e.snap.databases) rows.push_back({I(d.id), S(d.name), I(d.owner_id), N()});
  return rows;
}

Rows RwUsers(const Env& e) {
  Rows rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({I(u.id), S(u.name), B(u.is_super), B(u.can_create_db), B(u.can_create_user),
                    B(u.can_login)});
  }
  return rows;
}

// Never shows secret values.
Rows RwSecrets(const Env& e) {
  Rows rows;
  for (const auto& s : e.snap.secrets) {
    if (s.database_id == e.db_id) {
      rows.push_back({I(s.id), S(s.name), I(s.schema_id), I(s.owner_id), N()});
    }
  }
  return rows;
}

Rows RwColumns(const Env& e) {
  Rows rows;
  auto add = [&](int64_t id, const std::vector<meta::ColumnInfo>& cols,
                 const std::vector<int>* pk) {
    for (size_t i = 0; i < cols.size(); ++i) {
      bool is_pk = pk && std::find(pk->begin(), pk->end(), static_cast<int>(i)) != pk->end();
      rows.push_back({I(id), S(cols[i].name), I(static_cast<int64_t>(i + 1)), B(false), B(is_pk),
                      S(sql::TypeName(ColumnTypeOf(cols[i])))});
    }
  };
  ForTables(e, [&](const meta::TableInfo& t) { add(t.id, t.columns, &t.pk); });
  ForViews(e, [&](const meta::ViewInfo& v) { add(v.id, v.columns, nullptr); });
  return rows;
}

Rows RwSystemParameters(const Env& e) {
  Rows rows;
  if (e.session.params != nullptr) {
    for (const auto& def : meta::AllParamDefs()) {
      auto it = e.session.params->find(def.name);
      if (it == e.session.params->end()) continue;
      rows.push_back({S(std::string(def.name)), S(meta::DisplayParamValue(def, it->second)),
                      B(def.is_mutable), S(std::string(def.description))});
    }
  }
  return rows;
}

// One row: the cluster this meta node serves and which generation of it (risectl meta
// cluster-info).
Rows RwClusterInfo(const Env& e) {
  Rows rows;
  if (const ClusterIdentity* c = e.session.cluster; c != nullptr) {
    rows.push_back(
        {S(c->cluster_id), I(static_cast<int64_t>(c->generation)),
         I(c->generation_started_at_ms * 1000),
         c->restored_snapshot_id == 0 ? N() : I(static_cast<int64_t>(c->restored_snapshot_id)),
         I(c->created_at_ms * 1000), S(c->rwmeta_version), S(c->meta_store_backend),
         S(c->state_store)});
  }
  return rows;
}

// ----- pg_catalog -----

Rows PgClass(const Env& e) {
  Rows rows;
  auto add = [&](int64_t oid, const std::string& name, int64_t schema_id, int64_t owner,
                 const char* kind, size_t natts, bool has_index) {
    const int64_t am = std::string_view(kind) == "r" ? kHeapAmOid : 0;
    const int64_t relnatts = static_cast<int64_t>(natts);
    // One line per run of columns, first to last: oid .. relam; relfilenode .. reltoastrelid;
    // relhasindex .. relnatts; relchecks .. relispopulated; relreplident .. relpartbound.
    // clang-format off
    rows.push_back({I(oid), S(name), I(schema_id), I(0), I(0), I(owner), I(am),
                    I(oid), I(0), I(0), Datum{-1.0}, I(0), I(0),
                    B(has_index), B(false), S("p"), S(kind), I(relnatts),
                    I(0), B(false), B(false), B(false), B(false), B(false), B(true),
                    S("d"), B(false), I(0), N(), N(), N()});
    // clang-format on
  };
  ForTables(e, [&](const meta::TableInfo& t) {
    // relhasindex stays false until primary keys are listed in pg_index.
    add(t.id, t.name, t.schema_id, t.owner_id,
        t.table_type == meta::kMaterializedViewType ? "m" : "r", t.columns.size(), false);
  });
  ForViews(e, [&](const meta::ViewInfo& v) {
    add(v.id, v.name, v.schema_id, v.owner_id, "v", v.columns.size(), false);
  });
  return rows;
}

Rows PgDatabase(const Env& e) {
  Rows rows;
  for (const auto& d : e.snap.databases) {
    rows.push_back({I(d.id), S(d.name), I(d.owner_id), I(6), S("c"), B(false), B(true), I(-1),
                    I(kDefaultTablespaceOid), S("C"), S("C"), N(), N(), N()});
  }
  return rows;
}

Rows PgRoles(const Env& e) {
  Rows rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({I(u.id), S(u.name), B(u.is_super), B(true), B(u.can_create_user),
                    B(u.can_create_db), B(u.can_login), B(false), I(-1), S("********"), N(),
                    B(false), N()});
  }
  return rows;
}

Rows PgUser(const Env& e) {
  Rows rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({S(u.name), I(u.id), B(u.can_create_db), B(u.is_super), B(false), B(false),
                    S("********"), N(), N()});
  }
  return rows;
}

Rows PgAm(const Env&) {
  return {{I(kHeapAmOid), S("heap"), S("heap_tableam_handler"), S("t")},
          {I(kBtreeAmOid), S("btree"), S("bthandler"), S("i")}};
}

Rows PgType(const Env&) {
  struct T {
    int64_t oid;
    const char* name;
    int64_t len;
    const char* category;
    int64_t elem;
    int64_t array;
  };
  static const T kTypes[] = {
      {16, "bool", 1, "B", 0, 1000},        {17, "bytea", -1, "U", 0, 1001},
      {18, "char", 1, "Z", 0, 1002},        {19, "name", 64, "S", 0, 1003},
      {20, "int8", 8, "N", 0, 1016},        {21, "int2", 2, "N", 0, 1005},
      {23, "int4", 4, "N", 0, 1007},        {25, "text", -1, "S", 0, 1009},
      {26, "oid", 4, "N", 0, 1028},         {700, "float4", 4, "N", 0, 1021},
      {701, "float8", 8, "N", 0, 1022},     {1009, "_text", -1, "A", 25, 0},
      {1043, "varchar", -1, "S", 0, 1015},  {1082, "date", 4, "D", 0, 1182},
      {1114, "timestamp", 8, "D", 0, 1115}, {1184, "timestamptz", 8, "D", 0, 1185},
      {1700, "numeric", -1, "N", 0, 1231},  {3802, "jsonb", -1, "U", 0, 3807},
  };
  Rows rows;
  for (const auto& t : kTypes) {
    rows.push_back({I(t.oid), S(t.name), I(kPgCatalogNamespaceOid), I(1), I(t.len),
                    B(t.len > 0 && t.len <= 8), S("b"), S(t.category), B(true), S(","), I(0),
                    I(t.elem), I(t.array), B(false), I(0), I(-1), I(0), I(0), N()});
  }
  return rows;
}

Rows PgAttribute(const Env& e) {
  Rows rows;
  auto add = [&](int64_t rel, const std::vector<meta::ColumnInfo>& cols) {
    for (size_t i = 0; i < cols.size(); ++i) {
      TypeId type = ColumnTypeOf(cols[i]);
      rows.push_back({I(rel), S(cols[i].name), I(sql::PgTypeOid(type)), I(sql::PgTypeSize(type)),
                      I(static_cast<int64_t>(i + 1)), B(!cols[i].nullable), B(false), B(false),
                      I(-1), S(""), S(""), I(0), I(0), B(true)});
    }
  };
  ForTables(e, [&](const meta::TableInfo& t) { add(t.id, t.columns); });
  ForViews(e, [&](const meta::ViewInfo& v) { add(v.id, v.columns); });
  return rows;
}

Rows PgTablespace(const Env& e) {
  int64_t owner = e.snap.users.empty() ? 0 : e.snap.users.begin()->id;
  return {{I(kDefaultTablespaceOid), S("pg_default"), I(owner), N(), N()}};
}

Rows PgSettings(const Env& e) {
  Rows rows;
  for (const auto& [name, value] : e.session.settings) {
    rows.push_back({S(name), S(value), N(), S("Client Connection Defaults"), N(), S("user"),
                    S("string"), S("session"), S(value)});
  }
  return rows;
}

// ----- information_schema -----

Rows IsTables(const Env& e) {
  Rows rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type == meta::kMaterializedViewType) return;
    rows.push_back({S(e.session.database), S(SchemaName(e, t.schema_id)), S(t.name),
                    S("BASE TABLE"), S("YES")});
  });
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back(
        {S(e.session.database), S(SchemaName(e, v.schema_id)), S(v.name), S("VIEW"), S("NO")});
  });
  return rows;
}

Rows IsColumns(const Env& e) {
  Rows rows;
  auto add = [&](int64_t schema_id, const std::string& rel,
                 const std::vector<meta::ColumnInfo>& cols) {
    for (size_t i = 0; i < cols.size(); ++i) {
      TypeId type = ColumnTypeOf(cols[i]);
      rows.push_back({S(e.session.database), S(SchemaName(e, schema_id)), S(rel), S(cols[i].name),
                      I(static_cast<int64_t>(i + 1)), N(), S(cols[i].nullable ? "YES" : "NO"),
                      S(sql::TypeName(type)), N()});
    }
  };
  ForTables(e, [&](const meta::TableInfo& t) { add(t.schema_id, t.name, t.columns); });
  ForViews(e, [&](const meta::ViewInfo& v) { add(v.schema_id, v.name, v.columns); });
  return rows;
}

Rows IsSchemata(const Env& e) {
  Rows rows;
  ForSchemas(e, [&](const meta::SchemaInfo& s) {
    rows.push_back({S(e.session.database), S(s.name), S(UserName(e, s.owner_id))});
  });
  return rows;
}

Rows IsViews(const Env& e) {
  Rows rows;
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back(
        {S(e.session.database), S(SchemaName(e, v.schema_id)), S(v.name), S(v.definition)});
  });
  return rows;
}

// Every system catalog: schema, name, columns, rows. The column lists are what psql and
// RisingWave's tools read; a catalog without rows is one they join against.
const std::map<std::pair<std::string, std::string>, SystemCatalog>& Registry() {
  static const auto* const kRegistry = [] {
    auto* m = new std::map<std::pair<std::string, std::string>, SystemCatalog>;
    auto add = [m](const char* schema, const char* name, std::string_view columns,
                   std::function<Rows(const Env&)> rows = nullptr) {
      (*m)[{schema, name}] = SystemCatalog{ParseColumns(columns), std::move(rows), nullptr};
    };
    // rw_catalog
    add("rw_catalog", "rw_tables",
        "id int, name text, schema_id int, owner int, definition text, append_only bool, "
        "acl text[]",
        RwTables);
    add("rw_catalog", "rw_views",
        "id int, name text, schema_id int, owner int, definition text, acl text[]", RwViews);
    add("rw_catalog", "rw_materialized_views",
        "id int, name text, schema_id int, owner int, definition text, acl text[]",
        RwMaterializedViews);
    add("rw_catalog", "rw_indexes",
        "id int, name text, schema_id int, owner int, primary_table_id int, index_columns text, "
        "definition text",
        RwIndexes);
    add("rw_catalog", "rw_schemas", "id int, name text, owner int, acl text[]", Schemas);
    add("rw_catalog", "rw_databases", "id int, name text, owner int, acl text[]", RwDatabases);
    add("rw_catalog", "rw_users",
        "id int, name text, is_super bool, create_db bool, create_user bool, can_login bool",
        RwUsers);
    add("rw_catalog", "rw_secrets", "id int, name text, schema_id int, owner int, acl text[]",
        RwSecrets);
    add("rw_catalog", "rw_columns",
        "relation_id int, name text, position int, is_hidden bool, is_primary_key bool, "
        "data_type text",
        RwColumns);
    add("rw_catalog", "rw_system_parameters",
        "name text, value text, is_mutable bool, description text", RwSystemParameters);
    add("rw_catalog", "rw_meta_snapshot",
        "meta_snapshot_id int8, hummock_version_id int8, safe_epoch int8, "
        "safe_epoch_ts timestamp, max_committed_epoch int8, max_committed_epoch_ts timestamp, "
        "remarks text, state_table_info jsonb, rw_version text, size int8, "
        "created_at timestamp, format_version int, scheduled boolean, drilled_at timestamp, "
        "drill_passed boolean, drill_message text");
    (*m)[{"rw_catalog", "rw_meta_snapshot"}].scan = RwMetaSnapshot;
    add("rw_catalog", "rw_cluster_info",
        "cluster_id text, generation int8, generation_started_at timestamp, "
        "restored_from_snapshot_id int8, created_at timestamp, rwmeta_version text, "
        "meta_store_backend text, state_store text",
        RwClusterInfo);
    // pg_catalog
    add("pg_catalog", "pg_namespace", "oid oid, nspname text, nspowner oid, nspacl text[]",
        Schemas);
    add("pg_catalog", "pg_class",
        "oid oid, relname text, relnamespace oid, reltype oid, reloftype oid, relowner oid, "
        "relam oid, relfilenode oid, reltablespace oid, relpages int, reltuples float4, "
        "relallvisible int, reltoastrelid oid, relhasindex bool, relisshared bool, "
        "relpersistence text, relkind text, relnatts int2, relchecks int2, relhasrules bool, "
        "relhastriggers bool, relhassubclass bool, relrowsecurity bool, "
        "relforcerowsecurity bool, relispopulated bool, relreplident text, relispartition bool, "
        "relrewrite oid, relacl text[], reloptions text[], relpartbound text",
        PgClass);
    add("pg_catalog", "pg_database",
        "oid oid, datname text, datdba oid, encoding int, datlocprovider text, "
        "datistemplate bool, datallowconn bool, datconnlimit int, dattablespace oid, "
        "datcollate text, datctype text, daticulocale text, datcollversion text, datacl text[]",
        PgDatabase);
    add("pg_catalog", "pg_roles",
        "oid oid, rolname text, rolsuper bool, rolinherit bool, rolcreaterole bool, "
        "rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int, "
        "rolpassword text, rolvaliduntil timestamp, rolbypassrls bool, rolconfig text[]",
        PgRoles);
    add("pg_catalog", "pg_user",
        "usename text, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, "
        "usebypassrls bool, passwd text, valuntil timestamp, useconfig text[]",
        PgUser);
    add("pg_catalog", "pg_auth_members",
        "oid oid, roleid oid, member oid, grantor oid, admin_option bool");
    add("pg_catalog", "pg_am", "oid oid, amname text, amhandler text, amtype text", PgAm);
    add("pg_catalog", "pg_type",
        "oid oid, typname text, typnamespace oid, typowner oid, typlen int2, typbyval bool, "
        "typtype text, typcategory text, typisdefined bool, typdelim text, typrelid oid, "
        "typelem oid, typarray oid, typnotnull bool, typbasetype oid, typtypmod int, "
        "typndims int, typcollation oid, typdefault text",
        PgType);
    add("pg_catalog", "pg_attribute",
        "attrelid oid, attname text, atttypid oid, attlen int2, attnum int2, attnotnull bool, "
        "atthasdef bool, attisdropped bool, atttypmod int, attidentity text, "
        "attgenerated text, attcollation oid, attndims int2, attislocal bool",
        PgAttribute);
    add("pg_catalog", "pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin text");
    add("pg_catalog", "pg_index",
        "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, "
        "indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, "
        "indisvalid bool, indisreplident bool, indkey text[], indexprs text, indpred text");
    add("pg_catalog", "pg_constraint",
        "oid oid, conname text, connamespace oid, contype text, condeferrable bool, "
        "condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, "
        "conparentid oid, confrelid oid, conkey text[], confkey text[]");
    add("pg_catalog", "pg_description", "objoid oid, classoid oid, objsubid int, description text");
    add("pg_catalog", "pg_inherits",
        "inhrelid oid, inhparent oid, inhseqno int, inhdetachpending bool");
    add("pg_catalog", "pg_collation",
        "oid oid, collname text, collnamespace oid, collowner oid, collprovider text, "
        "collencoding int");
    add("pg_catalog", "pg_tablespace",
        "oid oid, spcname text, spcowner oid, spcacl text[], spcoptions text[]", PgTablespace);
    add("pg_catalog", "pg_settings",
        "name text, setting text, unit text, category text, short_desc text, context text, "
        "vartype text, source text, reset_val text",
        PgSettings);
    add("pg_catalog", "pg_policy",
        "oid oid, polname text, polrelid oid, polcmd text, polpermissive bool, "
        "polroles text[], polqual text, polwithcheck text");
    add("pg_catalog", "pg_statistic_ext",
        "oid oid, stxrelid oid, stxname text, stxnamespace oid, stxowner oid, "
        "stxstattarget int, stxkeys text[], stxkind text[]");
    add("pg_catalog", "pg_publication",
        "oid oid, pubname text, pubowner oid, puballtables bool, pubinsert bool, "
        "pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool");
    add("pg_catalog", "pg_publication_rel", "oid oid, prpubid oid, prrelid oid");
    add("pg_catalog", "pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid");
    add("pg_catalog", "pg_trigger",
        "oid oid, tgrelid oid, tgparentid oid, tgname text, tgfoid oid, tgtype int2, "
        "tgenabled text, tgisinternal bool");
    add("pg_catalog", "pg_rewrite",
        "oid oid, rulename text, ev_class oid, ev_type text, ev_enabled text, is_instead bool, "
        "ev_qual text, ev_action text");
    // information_schema
    add("information_schema", "tables",
        "table_catalog text, table_schema text, table_name text, table_type text, "
        "is_insertable_into text",
        IsTables);
    add("information_schema", "columns",
        "table_catalog text, table_schema text, table_name text, column_name text, "
        "ordinal_position int, column_default text, is_nullable text, data_type text, "
        "character_maximum_length int",
        IsColumns);
    add("information_schema", "schemata", "catalog_name text, schema_name text, schema_owner text",
        IsSchemata);
    add("information_schema", "views",
        "table_catalog text, table_schema text, table_name text, view_definition text", IsViews);
    return m;
  }();
  return *kRegistry;
}

}  // namespace

std::optional<int64_t> EpochToUnixMicros(uint64_t epoch) {
  if (epoch == 0) return std::nullopt;
  return hummock::EpochToUnixMs(epoch) * 1000;
}

bool IsSystemSchema(std::string_view schema) {
  return schema == "pg_catalog" || schema == "rw_catalog" || schema == "information_schema";
}

std::shared_ptr<sql::Relation> BuildSystemRelation(const meta::CatalogSnapshot& snapshot,
                                                   const CatalogSessionInfo& session,
                                                   std::string_view schema, std::string_view name) {
  auto it = Registry().find({std::string(schema), std::string(name)});
  if (it == Registry().end()) return nullptr;
  const SystemCatalog& catalog = it->second;
  const auto* db = snapshot.FindDatabase(session.database);
  Env env{snapshot, session, db ? db->id : 0};
  if (catalog.scan) return std::make_shared<LazyRelation>(catalog.columns, catalog.scan(env));
  return std::make_shared<sql::MemoryRelation>(catalog.columns,
                                               catalog.rows ? catalog.rows(env) : Rows{});
}

std::vector<std::string> EffectiveSearchPath(const meta::CatalogSnapshot& snapshot,
                                             const CatalogSessionInfo& session) {
  std::vector<std::string> out;
  auto listed = [&](const char* s) {
    return std::find(session.search_path.begin(), session.search_path.end(), s) !=
           session.search_path.end();
  };
  // As PostgreSQL: pg_catalog is searched first unless placed explicitly; rw_catalog likewise.
  if (!listed("pg_catalog")) out.push_back("pg_catalog");
  if (!listed("rw_catalog")) out.push_back("rw_catalog");
  const auto* db = snapshot.FindDatabase(session.database);
  for (const auto& entry : session.search_path) {
    std::string name = entry == "$user" ? session.user : entry;
    if (std::find(out.begin(), out.end(), name) != out.end()) continue;
    if (IsSystemSchema(name) || (db != nullptr && snapshot.FindSchema(db->id, name) != nullptr)) {
      out.push_back(name);
    }
  }
  return out;
}

std::optional<sql::ResolvedRelation> CatalogQueryContext::Lookup(const std::string& schema,
                                                                 const std::string& name) {
  if (IsSystemSchema(schema)) {
    auto rel = BuildSystemRelation(*snapshot_, session_, schema, name);
    if (rel == nullptr) return std::nullopt;
    sql::ResolvedRelation out;
    out.relation = std::move(rel);
    return out;
  }
  const auto* db = snapshot_->FindDatabase(session_.database);
  if (db == nullptr) return std::nullopt;
  const auto* s = snapshot_->FindSchema(db->id, schema);
  if (s == nullptr) return std::nullopt;
  if (const auto* t = snapshot_->FindTable(s->id, name)) {
    std::vector<ColumnDesc> cols;
    for (const auto& c : t->columns) cols.push_back({c.name, ColumnTypeOf(c)});
    sql::ResolvedRelation out;
    if (session_.table_data != nullptr && session_.query_epoch != 0) {
      auto source = session_.snapshot_version;
      auto table_id = static_cast<uint32_t>(t->id);
      uint64_t epoch = session_.query_epoch;
      out.relation = session_.table_data->NewSnapshotRelation(
          *t,
          [source, table_id, epoch]() -> Result<std::shared_ptr<const hummock::HummockVersion>> {
            if (!source) {
              return sql::NotSupported(
                  "QUERY_EPOCH needs the backup manager, which this session was opened without");
            }
            // The snapshot is chosen by an exact match of the table's committed epoch (no masking
            // of the epoch's low 16 bits, unlike RisingWave's frontend: our epochs' low bits are
            // always 0, and a user copies the value from rw_meta_snapshot.state_table_info).
            auto version = source(table_id, epoch);
            if (!version.ok()) {
              // RisingWave's wording: "Read backup error: backup include epoch <N> not found"
              // (the backup manager's NotFound says it already).
              constexpr std::string_view kPrefix = "Read backup error: ";
              const std::string& message = version.status().message();
              // No SQLSTATE here: the code's (sql_state.h), so a snapshot deleted since SET is
              // 42704 and a corrupt one XX001.
              return Status(version.status().code(), message.starts_with(kPrefix)
                                                         ? message
                                                         : std::string(kPrefix) + message);
            }
            return version;
          });
    } else if (session_.table_data != nullptr) {
      out.relation = session_.table_data->NewRelation(*t, session_.uncommitted_reads,
                                                      t->id == session_.dml_target_id);
    } else {
      out.relation = std::make_shared<sql::MemoryRelation>(std::move(cols), std::vector<Tuple>{});
    }
    resolved_ids_.push_back(t->id);
    return out;
  }
  if (const auto* v = snapshot_->FindView(s->id, name)) {
    sql::ResolvedRelation out;
    out.view_sql = v->definition;
    for (const auto& c : v->columns) out.view_column_names.push_back(c.name);
    resolved_ids_.push_back(v->id);
    return out;
  }
  return std::nullopt;
}

Result<sql::ResolvedRelation> CatalogQueryContext::ResolveRelation(
    const std::vector<std::string>& name) {
  auto not_found = [&](const std::string& shown) {
    return sql::SqlError(StatusCode::kNotFound, "42P01",
                         fmt::format("relation \"{}\" does not exist", shown));
  };
  if (name.empty() || name.size() > 3) return not_found(fmt::format("{}", fmt::join(name, ".")));
  if (name.size() == 3 && name[0] != session_.database) {
    return sql::NotSupported(
        fmt::format("cross-database references are not implemented: {}", fmt::join(name, ".")));
  }
  if (name.size() >= 2) {
    const std::string& schema = name[name.size() - 2];
    const std::string& rel = name.back();
    if (auto r = Lookup(schema, rel)) return *r;
    const auto* db = snapshot_->FindDatabase(session_.database);
    if (!IsSystemSchema(schema) &&
        (db == nullptr || snapshot_->FindSchema(db->id, schema) == nullptr)) {
      return sql::SqlError(StatusCode::kNotFound, "3F000",
                           fmt::format("schema \"{}\" does not exist", schema));
    }
    return not_found(fmt::format("{}.{}", schema, rel));
  }
  for (const auto& schema : EffectiveSearchPath(*snapshot_, session_)) {
    if (auto r = Lookup(schema, name[0])) return *r;
  }
  return not_found(name[0]);
}

std::vector<std::string> CatalogQueryContext::SearchPath() const {
  return EffectiveSearchPath(*snapshot_, session_);
}

std::string CatalogQueryContext::UserNameById(int64_t user_id) const {
  const auto* u = snapshot_->FindUserById(user_id);
  return u ? u->name : fmt::format("unknown (OID={})", user_id);
}

bool CatalogQueryContext::TableIsVisible(int64_t oid) const {
  const meta::TableInfo* t = snapshot_->FindTableById(oid);
  const meta::ViewInfo* v = snapshot_->FindViewById(oid);
  if (t == nullptr && v == nullptr) return false;
  const std::string& name = t ? t->name : v->name;
  const auto* db = snapshot_->FindDatabase(session_.database);
  if (db == nullptr) return false;
  // Visible if it is the first relation of that name along the search path.
  for (const auto& schema : EffectiveSearchPath(*snapshot_, session_)) {
    if (IsSystemSchema(schema)) {
      if (Registry().count({schema, name})) return false;
      continue;
    }
    const auto* s = snapshot_->FindSchema(db->id, schema);
    if (s == nullptr) continue;
    if (const auto* found = snapshot_->FindTable(s->id, name)) return found->id == oid;
    if (const auto* found = snapshot_->FindView(s->id, name)) return found->id == oid;
  }
  return false;
}

Result<std::optional<std::string>> CatalogQueryContext::Parameter(int n) const {
  if (n < 1 || n > static_cast<int>(params_.size())) {
    return sql::SqlError(StatusCode::kInvalidArgument, "42P02",
                         fmt::format("there is no parameter ${}", n));
  }
  return params_[static_cast<size_t>(n - 1)];
}

}  // namespace rwmeta::frontend
