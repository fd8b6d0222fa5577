#include "frontend/system_catalogs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
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

constexpr TypeId kOid = TypeId::kInt32;
constexpr TypeId kText = TypeId::kVarchar;
constexpr TypeId kInt = TypeId::kInt32;
constexpr TypeId kSmall = TypeId::kInt16;
constexpr TypeId kBool = TypeId::kBoolean;
constexpr TypeId kArr = TypeId::kTextArray;

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

using Builder = std::function<std::shared_ptr<sql::Relation>(const Env&)>;

std::shared_ptr<sql::Relation> Make(std::vector<ColumnDesc> cols, std::vector<Tuple> rows) {
  return std::make_shared<sql::MemoryRelation>(std::move(cols), std::move(rows));
}

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
// query's error (a Builder cannot fail).
class LazyRelation : public sql::Relation {
 public:
  LazyRelation(std::vector<ColumnDesc> columns, std::function<Result<std::vector<Tuple>>()> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}
  const std::vector<ColumnDesc>& columns() const override { return columns_; }
  Status Scan(const std::function<Status(const Tuple&)>& visit) override {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, rows_());
    for (const Tuple& row : rows) RWMETA_RETURN_IF_ERROR(visit(row));
    return Status::Ok();
  }

 private:
  std::vector<ColumnDesc> columns_;
  std::function<Result<std::vector<Tuple>>()> rows_;
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

// DESIGN.md section 3: RisingWave's old and new columns, then rwmeta's extras.
std::shared_ptr<sql::Relation> RwMetaSnapshot(const Env& e) {
  std::vector<ColumnDesc> cols = {{"meta_snapshot_id", TypeId::kInt64},
                                  {"hummock_version_id", TypeId::kInt64},
                                  {"safe_epoch", TypeId::kInt64},
                                  {"safe_epoch_ts", TypeId::kTimestamp},
                                  {"max_committed_epoch", TypeId::kInt64},
                                  {"max_committed_epoch_ts", TypeId::kTimestamp},
                                  {"remarks", kText},
                                  {"state_table_info", TypeId::kJsonb},
                                  {"rw_version", kText},
                                  {"size", TypeId::kInt64},
                                  {"created_at", TypeId::kTimestamp},
                                  {"format_version", kInt}};
  auto source = e.session.meta_snapshots;
  return std::make_shared<LazyRelation>(std::move(cols), [source]() -> Result<std::vector<Tuple>> {
    if (!source) {
      return sql::NotSupported(
          "rw_meta_snapshot is not available: this session has no backup manager");
    }
    RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest, source());
    std::vector<Tuple> rows;
    for (const auto& m : manifest.snapshots) {
      rows.push_back({I(static_cast<int64_t>(m.id)), I(static_cast<int64_t>(m.hummock_version_id)),
                      EpochDatum(m.safe_epoch), EpochTs(m.safe_epoch),
                      EpochDatum(m.max_committed_epoch), EpochTs(m.max_committed_epoch),
                      m.remarks ? S(*m.remarks) : N(), S(StateTableInfoJson(m.state_table_info)),
                      m.rw_version ? S(*m.rw_version) : N(), I(static_cast<int64_t>(m.size_bytes)),
                      I(m.created_at_ms * 1000), I(static_cast<int64_t>(m.format_version))});
    }
    return rows;
  });
}

std::shared_ptr<sql::Relation> RwMaterializedViews(const Env& e) {
  std::vector<Tuple> rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type != meta::kMaterializedViewType) return;
    rows.push_back({I(t.id), S(t.name), I(t.schema_id), I(t.owner_id), S(t.definition), N()});
  });
  return Make({{"id", kInt},
               {"name", kText},
               {"schema_id", kInt},
               {"owner", kInt},
               {"definition", kText},
               {"acl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwIndexes(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& i : e.snap.indexes) {
    if (i.database_id != e.db_id) continue;
    rows.push_back({I(i.id), S(i.name), I(i.schema_id), I(i.owner_id), I(i.primary_table_id),
                    S(fmt::format("{}", fmt::join(i.columns, ", "))), S(i.definition)});
  }
  return Make({{"id", kInt},
               {"name", kText},
               {"schema_id", kInt},
               {"owner", kInt},
               {"primary_table_id", kInt},
               {"index_columns", kText},
               {"definition", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwTables(const Env& e) {
  std::vector<Tuple> rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type == meta::kMaterializedViewType) return;
    rows.push_back({I(t.id), S(t.name), I(t.schema_id), I(t.owner_id), S(t.definition),
                    B(t.append_only), N()});
  });
  return Make({{"id", kInt},
               {"name", kText},
               {"schema_id", kInt},
               {"owner", kInt},
               {"definition", kText},
               {"append_only", kBool},
               {"acl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwViews(const Env& e) {
  std::vector<Tuple> rows;
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back({I(v.id), S(v.name), I(v.schema_id), I(v.owner_id), S(v.definition), N()});
  });
  return Make({{"id", kInt},
               {"name", kText},
               {"schema_id", kInt},
               {"owner", kInt},
               {"definition", kText},
               {"acl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwSchemas(const Env& e) {
  std::vector<Tuple> rows;
  ForSchemas(e, [&](const meta::SchemaInfo& s) {
    rows.push_back({I(s.id), S(s.name), I(s.owner_id), N()});
  });
  return Make({{"id", kInt}, {"name", kText}, {"owner", kInt}, {"acl", kArr}}, std::move(rows));
}

std::shared_ptr<sql::Relation> RwDatabases(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& d : e.snap.databases) rows.push_back({I(d.id), S(d.name), I(d.owner_id), N()});
  return Make({{"id", kInt}, {"name", kText}, {"owner", kInt}, {"acl", kArr}}, std::move(rows));
}

std::shared_ptr<sql::Relation> RwUsers(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({I(u.id), S(u.name), B(u.is_super), B(u.can_create_db), B(u.can_create_user),
                    B(u.can_login)});
  }
  return Make({{"id", kInt},
               {"name", kText},
               {"is_super", kBool},
               {"create_db", kBool},
               {"create_user", kBool},
               {"can_login", kBool}},
              std::move(rows));
}

// Never shows secret values.
std::shared_ptr<sql::Relation> RwSecrets(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& s : e.snap.secrets) {
    if (s.database_id == e.db_id) {
      rows.push_back({I(s.id), S(s.name), I(s.schema_id), I(s.owner_id), N()});
    }
  }
  return Make({{"id", kInt}, {"name", kText}, {"schema_id", kInt}, {"owner", kInt}, {"acl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwColumns(const Env& e) {
  std::vector<Tuple> rows;
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
  return Make({{"relation_id", kInt},
               {"name", kText},
               {"position", kInt},
               {"is_hidden", kBool},
               {"is_primary_key", kBool},
               {"data_type", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> RwSystemParameters(const Env& e) {
  std::vector<Tuple> rows;
  if (e.session.params != nullptr) {
    for (const auto& def : meta::AllParamDefs()) {
      auto it = e.session.params->find(def.name);
      if (it == e.session.params->end()) continue;
      rows.push_back({S(std::string(def.name)), S(meta::DisplayParamValue(def, it->second)),
                      B(def.is_mutable), S(std::string(def.description))});
    }
  }
  return Make({{"name", kText}, {"value", kText}, {"is_mutable", kBool}, {"description", kText}},
              std::move(rows));
}

// One row: the cluster this meta node serves and which generation of it (risectl meta
// cluster-info).
std::shared_ptr<sql::Relation> RwClusterInfo(const Env& e) {
  std::vector<Tuple> rows;
  if (const ClusterIdentity* c = e.session.cluster; c != nullptr) {
    rows.push_back(
        {S(c->cluster_id), I(static_cast<int64_t>(c->generation)),
         I(c->generation_started_at_ms * 1000),
         c->restored_snapshot_id == 0 ? N() : I(static_cast<int64_t>(c->restored_snapshot_id)),
         I(c->created_at_ms * 1000), S(c->rwmeta_version), S(c->meta_store_backend),
         S(c->state_store)});
  }
  return Make({{"cluster_id", kText},
               {"generation", TypeId::kInt64},
               {"generation_started_at", TypeId::kTimestamp},
               {"restored_from_snapshot_id", TypeId::kInt64},
               {"created_at", TypeId::kTimestamp},
               {"rwmeta_version", kText},
               {"meta_store_backend", kText},
               {"state_store", kText}},
              std::move(rows));
}

// ----- pg_catalog -----

std::shared_ptr<sql::Relation> PgNamespace(const Env& e) {
  std::vector<Tuple> rows;
  ForSchemas(e, [&](const meta::SchemaInfo& s) {
    rows.push_back({I(s.id), S(s.name), I(s.owner_id), N()});
  });
  return Make({{"oid", kOid}, {"nspname", kText}, {"nspowner", kOid}, {"nspacl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgClass(const Env& e) {
  std::vector<Tuple> rows;
  auto add = [&](int64_t oid, const std::string& name, int64_t schema_id, int64_t owner,
                 const char* kind, size_t natts, bool has_index) {
    rows.push_back({I(oid),
                    S(name),
                    I(schema_id),
                    I(0),
                    I(0),
                    I(owner),
                    I(std::string_view(kind) == "r" ? kHeapAmOid : 0),
                    I(oid),
                    I(0),
                    I(0),
                    Datum{-1.0},
                    I(0),
                    I(0),
                    B(has_index),
                    B(false),
                    S("p"),
                    S(kind),
                    I(static_cast<int64_t>(natts)),
                    I(0),
                    B(false),
                    B(false),
                    B(false),
                    B(false),
                    B(false),
                    B(true),
                    S("d"),
                    B(false),
                    I(0),
                    N(),
                    N(),
                    N()});
  };
  ForTables(e, [&](const meta::TableInfo& t) {
    // relhasindex stays false until primary keys are listed in pg_index.
    add(t.id, t.name, t.schema_id, t.owner_id,
        t.table_type == meta::kMaterializedViewType ? "m" : "r", t.columns.size(), false);
  });
  ForViews(e, [&](const meta::ViewInfo& v) {
    add(v.id, v.name, v.schema_id, v.owner_id, "v", v.columns.size(), false);
  });
  return Make({{"oid", kOid},
               {"relname", kText},
               {"relnamespace", kOid},
               {"reltype", kOid},
               {"reloftype", kOid},
               {"relowner", kOid},
               {"relam", kOid},
               {"relfilenode", kOid},
               {"reltablespace", kOid},
               {"relpages", kInt},
               {"reltuples", TypeId::kFloat32},
               {"relallvisible", kInt},
               {"reltoastrelid", kOid},
               {"relhasindex", kBool},
               {"relisshared", kBool},
               {"relpersistence", kText},
               {"relkind", kText},
               {"relnatts", kSmall},
               {"relchecks", kSmall},
               {"relhasrules", kBool},
               {"relhastriggers", kBool},
               {"relhassubclass", kBool},
               {"relrowsecurity", kBool},
               {"relforcerowsecurity", kBool},
               {"relispopulated", kBool},
               {"relreplident", kText},
               {"relispartition", kBool},
               {"relrewrite", kOid},
               {"relacl", kArr},
               {"reloptions", kArr},
               {"relpartbound", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgDatabase(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& d : e.snap.databases) {
    rows.push_back({I(d.id), S(d.name), I(d.owner_id), I(6), S("c"), B(false), B(true), I(-1),
                    I(kDefaultTablespaceOid), S("C"), S("C"), N(), N(), N()});
  }
  return Make({{"oid", kOid},
               {"datname", kText},
               {"datdba", kOid},
               {"encoding", kInt},
               {"datlocprovider", kText},
               {"datistemplate", kBool},
               {"datallowconn", kBool},
               {"datconnlimit", kInt},
               {"dattablespace", kOid},
               {"datcollate", kText},
               {"datctype", kText},
               {"daticulocale", kText},
               {"datcollversion", kText},
               {"datacl", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgRoles(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({I(u.id), S(u.name), B(u.is_super), B(true), B(u.can_create_user),
                    B(u.can_create_db), B(u.can_login), B(false), I(-1), S("********"), N(),
                    B(false), N()});
  }
  return Make({{"oid", kOid},
               {"rolname", kText},
               {"rolsuper", kBool},
               {"rolinherit", kBool},
               {"rolcreaterole", kBool},
               {"rolcreatedb", kBool},
               {"rolcanlogin", kBool},
               {"rolreplication", kBool},
               {"rolconnlimit", kInt},
               {"rolpassword", kText},
               {"rolvaliduntil", TypeId::kTimestamp},
               {"rolbypassrls", kBool},
               {"rolconfig", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgUser(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& u : e.snap.users) {
    rows.push_back({S(u.name), I(u.id), B(u.can_create_db), B(u.is_super), B(false), B(false),
                    S("********"), N(), N()});
  }
  return Make({{"usename", kText},
               {"usesysid", kOid},
               {"usecreatedb", kBool},
               {"usesuper", kBool},
               {"userepl", kBool},
               {"usebypassrls", kBool},
               {"passwd", kText},
               {"valuntil", TypeId::kTimestamp},
               {"useconfig", kArr}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgAuthMembers(const Env&) {
  return Make({{"oid", kOid},
               {"roleid", kOid},
               {"member", kOid},
               {"grantor", kOid},
               {"admin_option", kBool}},
              {});
}

std::shared_ptr<sql::Relation> PgAm(const Env&) {
  return Make({{"oid", kOid}, {"amname", kText}, {"amhandler", kText}, {"amtype", kText}},
              {{I(kHeapAmOid), S("heap"), S("heap_tableam_handler"), S("t")},
               {I(kBtreeAmOid), S("btree"), S("bthandler"), S("i")}});
}

std::shared_ptr<sql::Relation> PgType(const Env&) {
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
  std::vector<Tuple> rows;
  for (const auto& t : kTypes) {
    rows.push_back({I(t.oid), S(t.name), I(kPgCatalogNamespaceOid), I(1), I(t.len),
                    B(t.len > 0 && t.len <= 8), S("b"), S(t.category), B(true), S(","), I(0),
                    I(t.elem), I(t.array), B(false), I(0), I(-1), I(0), I(0), N()});
  }
  return Make({{"oid", kOid},
               {"typname", kText},
               {"typnamespace", kOid},
               {"typowner", kOid},
               {"typlen", kSmall},
               {"typbyval", kBool},
               {"typtype", kText},
               {"typcategory", kText},
               {"typisdefined", kBool},
               {"typdelim", kText},
               {"typrelid", kOid},
               {"typelem", kOid},
               {"typarray", kOid},
               {"typnotnull", kBool},
               {"typbasetype", kOid},
               {"typtypmod", kInt},
               {"typndims", kInt},
               {"typcollation", kOid},
               {"typdefault", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgAttribute(const Env& e) {
  std::vector<Tuple> rows;
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
  return Make({{"attrelid", kOid},
               {"attname", kText},
               {"atttypid", kOid},
               {"attlen", kSmall},
               {"attnum", kSmall},
               {"attnotnull", kBool},
               {"atthasdef", kBool},
               {"attisdropped", kBool},
               {"atttypmod", kInt},
               {"attidentity", kText},
               {"attgenerated", kText},
               {"attcollation", kOid},
               {"attndims", kSmall},
               {"attislocal", kBool}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgAttrdef(const Env&) {
  return Make({{"oid", kOid}, {"adrelid", kOid}, {"adnum", kSmall}, {"adbin", kText}}, {});
}

std::shared_ptr<sql::Relation> PgIndex(const Env&) {
  return Make({{"indexrelid", kOid},
               {"indrelid", kOid},
               {"indnatts", kSmall},
               {"indnkeyatts", kSmall},
               {"indisunique", kBool},
               {"indisprimary", kBool},
               {"indisexclusion", kBool},
               {"indimmediate", kBool},
               {"indisclustered", kBool},
               {"indisvalid", kBool},
               {"indisreplident", kBool},
               {"indkey", kArr},
               {"indexprs", kText},
               {"indpred", kText}},
              {});
}

std::shared_ptr<sql::Relation> PgConstraint(const Env&) {
  return Make({{"oid", kOid},
               {"conname", kText},
               {"connamespace", kOid},
               {"contype", kText},
               {"condeferrable", kBool},
               {"condeferred", kBool},
               {"convalidated", kBool},
               {"conrelid", kOid},
               {"contypid", kOid},
               {"conindid", kOid},
               {"conparentid", kOid},
               {"confrelid", kOid},
               {"conkey", kArr},
               {"confkey", kArr}},
              {});
}

std::shared_ptr<sql::Relation> PgDescription(const Env&) {
  return Make({{"objoid", kOid}, {"classoid", kOid}, {"objsubid", kInt}, {"description", kText}},
              {});
}

std::shared_ptr<sql::Relation> PgInherits(const Env&) {
  return Make(
      {{"inhrelid", kOid}, {"inhparent", kOid}, {"inhseqno", kInt}, {"inhdetachpending", kBool}},
      {});
}

std::shared_ptr<sql::Relation> PgCollation(const Env&) {
  return Make({{"oid", kOid},
               {"collname", kText},
               {"collnamespace", kOid},
               {"collowner", kOid},
               {"collprovider", kText},
               {"collencoding", kInt}},
              {});
}

std::shared_ptr<sql::Relation> PgTablespace(const Env& e) {
  int64_t owner = e.snap.users.empty() ? 0 : e.snap.users.front().id;
  return Make({{"oid", kOid},
               {"spcname", kText},
               {"spcowner", kOid},
               {"spcacl", kArr},
               {"spcoptions", kArr}},
              {{I(kDefaultTablespaceOid), S("pg_default"), I(owner), N(), N()}});
}

std::shared_ptr<sql::Relation> PgSettings(const Env& e) {
  std::vector<Tuple> rows;
  for (const auto& [name, value] : e.session.settings) {
    rows.push_back({S(name), S(value), N(), S("Client Connection Defaults"), N(), S("user"),
                    S("string"), S("session"), S(value)});
  }
  return Make({{"name", kText},
               {"setting", kText},
               {"unit", kText},
               {"category", kText},
               {"short_desc", kText},
               {"context", kText},
               {"vartype", kText},
               {"source", kText},
               {"reset_val", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> PgPolicy(const Env&) {
  return Make({{"oid", kOid},
               {"polname", kText},
               {"polrelid", kOid},
               {"polcmd", kText},
               {"polpermissive", kBool},
               {"polroles", kArr},
               {"polqual", kText},
               {"polwithcheck", kText}},
              {});
}

std::shared_ptr<sql::Relation> PgStatisticExt(const Env&) {
  return Make({{"oid", kOid},
               {"stxrelid", kOid},
               {"stxname", kText},
               {"stxnamespace", kOid},
               {"stxowner", kOid},
               {"stxstattarget", kInt},
               {"stxkeys", kArr},
               {"stxkind", kArr}},
              {});
}

std::shared_ptr<sql::Relation> PgPublication(const Env&) {
  return Make({{"oid", kOid},
               {"pubname", kText},
               {"pubowner", kOid},
               {"puballtables", kBool},
               {"pubinsert", kBool},
               {"pubupdate", kBool},
               {"pubdelete", kBool},
               {"pubtruncate", kBool},
               {"pubviaroot", kBool}},
              {});
}

std::shared_ptr<sql::Relation> PgPublicationRel(const Env&) {
  return Make({{"oid", kOid}, {"prpubid", kOid}, {"prrelid", kOid}}, {});
}

std::shared_ptr<sql::Relation> PgPublicationNamespace(const Env&) {
  return Make({{"oid", kOid}, {"pnpubid", kOid}, {"pnnspid", kOid}}, {});
}

std::shared_ptr<sql::Relation> PgTrigger(const Env&) {
  return Make({{"oid", kOid},
               {"tgrelid", kOid},
               {"tgparentid", kOid},
               {"tgname", kText},
               {"tgfoid", kOid},
               {"tgtype", kSmall},
               {"tgenabled", kText},
               {"tgisinternal", kBool}},
              {});
}

std::shared_ptr<sql::Relation> PgRewrite(const Env&) {
  return Make({{"oid", kOid},
               {"rulename", kText},
               {"ev_class", kOid},
               {"ev_type", kText},
               {"ev_enabled", kText},
               {"is_instead", kBool},
               {"ev_qual", kText},
               {"ev_action", kText}},
              {});
}

// ----- information_schema -----

std::shared_ptr<sql::Relation> IsTables(const Env& e) {
  std::vector<Tuple> rows;
  ForTables(e, [&](const meta::TableInfo& t) {
    if (t.table_type == meta::kMaterializedViewType) return;
    rows.push_back({S(e.session.database), S(SchemaName(e, t.schema_id)), S(t.name),
                    S("BASE TABLE"), S("YES")});
  });
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back(
        {S(e.session.database), S(SchemaName(e, v.schema_id)), S(v.name), S("VIEW"), S("NO")});
  });
  return Make({{"table_catalog", kText},
               {"table_schema", kText},
               {"table_name", kText},
               {"table_type", kText},
               {"is_insertable_into", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> IsColumns(const Env& e) {
  std::vector<Tuple> rows;
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
  return Make({{"table_catalog", kText},
               {"table_schema", kText},
               {"table_name", kText},
               {"column_name", kText},
               {"ordinal_position", kInt},
               {"column_default", kText},
               {"is_nullable", kText},
               {"data_type", kText},
               {"character_maximum_length", kInt}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> IsSchemata(const Env& e) {
  std::vector<Tuple> rows;
  ForSchemas(e, [&](const meta::SchemaInfo& s) {
    rows.push_back({S(e.session.database), S(s.name), S(UserName(e, s.owner_id))});
  });
  return Make({{"catalog_name", kText}, {"schema_name", kText}, {"schema_owner", kText}},
              std::move(rows));
}

std::shared_ptr<sql::Relation> IsViews(const Env& e) {
  std::vector<Tuple> rows;
  ForViews(e, [&](const meta::ViewInfo& v) {
    rows.push_back(
        {S(e.session.database), S(SchemaName(e, v.schema_id)), S(v.name), S(v.definition)});
  });
  return Make({{"table_catalog", kText},
               {"table_schema", kText},
               {"table_name", kText},
               {"view_definition", kText}},
              std::move(rows));
}

const std::map<std::pair<std::string, std::string>, Builder>& Registry() {
  static const auto* const kRegistry = new std::map<std::pair<std::string, std::string>, Builder>{
      {{"rw_catalog", "rw_tables"}, RwTables},
      {{"rw_catalog", "rw_views"}, RwViews},
      {{"rw_catalog", "rw_materialized_views"}, RwMaterializedViews},
      {{"rw_catalog", "rw_indexes"}, RwIndexes},
      {{"rw_catalog", "rw_schemas"}, RwSchemas},
      {{"rw_catalog", "rw_databases"}, RwDatabases},
      {{"rw_catalog", "rw_users"}, RwUsers},
      {{"rw_catalog", "rw_secrets"}, RwSecrets},
      {{"rw_catalog", "rw_columns"}, RwColumns},
      {{"rw_catalog", "rw_system_parameters"}, RwSystemParameters},
      {{"rw_catalog", "rw_meta_snapshot"}, RwMetaSnapshot},
      {{"rw_catalog", "rw_cluster_info"}, RwClusterInfo},
      {{"pg_catalog", "pg_namespace"}, PgNamespace},
      {{"pg_catalog", "pg_class"}, PgClass},
      {{"pg_catalog", "pg_database"}, PgDatabase},
      {{"pg_catalog", "pg_roles"}, PgRoles},
      {{"pg_catalog", "pg_user"}, PgUser},
      {{"pg_catalog", "pg_auth_members"}, PgAuthMembers},
      {{"pg_catalog", "pg_am"}, PgAm},
      {{"pg_catalog", "pg_type"}, PgType},
      {{"pg_catalog", "pg_attribute"}, PgAttribute},
      {{"pg_catalog", "pg_attrdef"}, PgAttrdef},
      {{"pg_catalog", "pg_index"}, PgIndex},
      {{"pg_catalog", "pg_constraint"}, PgConstraint},
      {{"pg_catalog", "pg_description"}, PgDescription},
      {{"pg_catalog", "pg_inherits"}, PgInherits},
      {{"pg_catalog", "pg_collation"}, PgCollation},
      {{"pg_catalog", "pg_tablespace"}, PgTablespace},
      {{"pg_catalog", "pg_settings"}, PgSettings},
      {{"pg_catalog", "pg_policy"}, PgPolicy},
      {{"pg_catalog", "pg_statistic_ext"}, PgStatisticExt},
      {{"pg_catalog", "pg_publication"}, PgPublication},
      {{"pg_catalog", "pg_publication_rel"}, PgPublicationRel},
      {{"pg_catalog", "pg_publication_namespace"}, PgPublicationNamespace},
      {{"pg_catalog", "pg_trigger"}, PgTrigger},
      {{"pg_catalog", "pg_rewrite"}, PgRewrite},
      {{"information_schema", "tables"}, IsTables},
      {{"information_schema", "columns"}, IsColumns},
      {{"information_schema", "schemata"}, IsSchemata},
      {{"information_schema", "views"}, IsViews},
  };
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
  const auto* db = snapshot.FindDatabase(session.database);
  Env env{snapshot, session, db ? db->id : 0};
  return it->second(env);
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
              return Status(version.status().code(),
                            message.starts_with(kPrefix) ? message : std::string(kPrefix) + message)
                  .WithSqlState("XX000");
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
