#include "metastore/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace rwmeta::metastore {

namespace {

using T = ColumnType;

ColumnSchema Col(std::string name, ColumnType type) { return {std::move(name), type, false, 1}; }
ColumnSchema NullCol(std::string name, ColumnType type) { return {std::move(name), type, true, 1}; }
// A column added to an existing table in model version `version` (nullable, as the rules require).
ColumnSchema ColSince(std::string name, ColumnType type, int version) {
  return {std::move(name), type, true, version};
}

// Catalog objects share one id space and one parent row in `object`, as in RisingWave: `oid` is the
// id a user sees (rw_tables.id), and per-kind tables hang off it with ON DELETE CASCADE.
ForeignKey ObjectParent(std::string column) {
  return {{std::move(column)}, "object", {"oid"}, /*on_delete_cascade=*/true};
}

std::vector<TableSchema> BuildTables() {
  std::vector<TableSchema> t;

  // The cluster's identity. Exactly one row; its id ties the meta store to its state store.
  // `generation`: which generation of the cluster this meta store is (1 at the first start, NULL
  // in stores older than the column, read as 1); restore-meta writes the generation it raised the
  // state store to, and a meta store older than its state store's generation never starts
  // (src/hummock/cluster/generation.h).
  t.push_back({"cluster",
               {Col("cluster_id", T::kText), Col("created_at_ms", T::kInt64),
                Col("rwmeta_version", T::kText), ColSince("generation", T::kInt64, 2)},
               {"cluster_id"},
               {},
               {}});

  // System parameters (SHOW PARAMETERS / ALTER SYSTEM). `value` is the raw value, credentials
  // included.
  t.push_back({"system_parameter",
               {Col("name", T::kText), Col("value", T::kText), Col("is_mutable", T::kBool),
                NullCol("description", T::kText)},
               {"name"},
               {},
               {}});

  // Named monotonically increasing id sequences (object ids, SST object ids, snapshot ids, ...).
  // `next_value` is the next id to hand out. Ids are never reused.
  t.push_back(
      {"id_sequence", {Col("name", T::kText), Col("next_value", T::kInt64)}, {"name"}, {}, {}});

  // Per-session parameter defaults set with ALTER SYSTEM for sessions.
  t.push_back({"session_parameter",
               {Col("name", T::kText), Col("value", T::kText), NullCol("description", T::kText)},
               {"name"},
               {},
               {}});

  t.push_back({"worker",
               {Col("worker_id", T::kInt64), Col("worker_type", T::kText), Col("host", T::kText),
                Col("port", T::kInt64), Col("status", T::kText), NullCol("properties", T::kJson),
                Col("started_at_ms", T::kInt64)},
               {"worker_id"},
               {{"host", "port"}},
               {}});

  // Users. `auth_type` is NULL (no password) or "md5"; `auth_value` the "md5..." hash of
  // password+name as PostgreSQL stores it.
  t.push_back({"user",
               {Col("user_id", T::kInt64), Col("name", T::kText), Col("is_super", T::kBool),
                Col("can_create_db", T::kBool), Col("can_create_user", T::kBool),
                Col("can_login", T::kBool), NullCol("auth_type", T::kText),
                NullCol("auth_value", T::kText), Col("created_at_ms", T::kInt64)},
               {"user_id"},
               {{"name"}},
               {}});
  t.back().id_sequence = "user";

  // Every catalog object. obj_type: database, schema, table, materialized_view, view, index,
  // source, sink, secret. database_id/schema_id are NULL where they do not apply (a database has
  // neither).
  t.push_back({"object",
               {Col("oid", T::kInt64), Col("obj_type", T::kText), Col("owner_id", T::kInt64),
                NullCol("database_id", T::kInt64), NullCol("schema_id", T::kInt64),
                Col("created_at_ms", T::kInt64)},
               {"oid"},
               {},
               {{{"owner_id"}, "user", {"user_id"}, false},
                {{"database_id"}, "object", {"oid"}, false},
                {{"schema_id"}, "object", {"oid"}, false}}});
  t.back().id_sequence = "object";

  t.push_back({"database",
               {Col("database_id", T::kInt64), Col("name", T::kText)},
               {"database_id"},
               {{"name"}},
               {ObjectParent("database_id")}});

  t.push_back({"schema",
               {Col("schema_id", T::kInt64), Col("database_id", T::kInt64), Col("name", T::kText)},
               {"schema_id"},
               {{"database_id", "name"}},
               {ObjectParent("schema_id")}});

  // Tables and materialized views (and the storage tables of indexes). `columns` is a JSON array of
  // {"name", "type", "nullable"}; `pk` a JSON array of column positions; `definition` the SQL text.
  t.push_back({"table",
               {Col("table_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
                Col("table_type", T::kText), Col("columns", T::kJson), Col("pk", T::kJson),
                Col("definition", T::kText), Col("append_only", T::kBool)},
               {"table_id"},
               {{"schema_id", "name"}},
               {ObjectParent("table_id")}});

  t.push_back({"view",
               {Col("view_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
                Col("columns", T::kJson), Col("definition", T::kText)},
               {"view_id"},
               {{"schema_id", "name"}},
               {ObjectParent("view_id")}});

  t.push_back({"index",
               {Col("index_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
                Col("primary_table_id", T::kInt64), Col("index_columns", T::kJson),
                Col("definition", T::kText)},
               {"index_id"},
               {{"schema_id", "name"}},
               {ObjectParent("index_id"), {{"primary_table_id"}, "object", {"oid"}, true}}});

  // Sources and sinks: `with_properties` is the JSON object of the WITH (...) options.
  t.push_back(
      {"source",
       {Col("source_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
        Col("columns", T::kJson), Col("with_properties", T::kJson), Col("definition", T::kText)},
       {"source_id"},
       {{"schema_id", "name"}},
       {ObjectParent("source_id")}});

  t.push_back({"sink",
               {Col("sink_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
                NullCol("from_object_id", T::kInt64), Col("with_properties", T::kJson),
                Col("definition", T::kText)},
               {"sink_id"},
               {{"schema_id", "name"}},
               {ObjectParent("sink_id")}});

  // Secrets: `value` holds the secret's bytes as given.
  t.push_back({"secret",
               {Col("secret_id", T::kInt64), Col("schema_id", T::kInt64), Col("name", T::kText),
                Col("value", T::kBytes)},
               {"secret_id"},
               {{"schema_id", "name"}},
               {ObjectParent("secret_id")}});

  // `used_by` depends on `oid` (a view on a table): the catalog refuses to drop `oid` while it
  // exists.
  t.push_back({"object_dependency",
               {Col("id", T::kInt64), Col("oid", T::kInt64), Col("used_by", T::kInt64)},
               {"id"},
               {{"oid", "used_by"}},
               {{{"oid"}, "object", {"oid"}, true}, {{"used_by"}, "object", {"oid"}, true}}});
  t.back().id_sequence = "object_dependency";

  // GRANTs. action: SELECT, INSERT, UPDATE, DELETE, CREATE, CONNECT, USAGE.
  t.push_back(
      {"user_privilege",
       {Col("id", T::kInt64), Col("user_id", T::kInt64), Col("oid", T::kInt64),
        Col("granted_by", T::kInt64), Col("action", T::kText), Col("with_grant_option", T::kBool)},
       {"id"},
       {{"user_id", "oid", "action"}},
       {{{"user_id"}, "user", {"user_id"}, true},
        {{"oid"}, "object", {"oid"}, true},
        {{"granted_by"}, "user", {"user_id"}, false}}});
  t.back().id_sequence = "user_privilege";

  // Bumped on every catalog change, so that caches know when to refresh.
  t.push_back(
      {"catalog_version", {Col("name", T::kText), Col("version", T::kInt64)}, {"name"}, {}, {}});

  // Hummock: compaction groups and their configuration (JSON).
  t.push_back({"compaction_group",
               {Col("group_id", T::kInt64), Col("config", T::kJson)},
               {"group_id"},
               {},
               {}});

  // Hummock: statistics of the current version (JSON), keyed by version id.
  t.push_back({"hummock_version_stats",
               {Col("version_id", T::kInt64), Col("stats", T::kJson)},
               {"version_id"},
               {},
               {}});

  // Hummock: version deltas not yet folded into the checkpoint object. Not in snapshots: a snapshot
  // carries the full version they add up to, and restore writes that as the checkpoint.
  {
    TableSchema deltas{"hummock_version_delta",
                       {Col("id", T::kInt64), Col("prev_id", T::kInt64),
                        Col("max_committed_epoch", T::kInt64), Col("payload", T::kBytes)},
                       {"id"},
                       {},
                       {}};
    deltas.in_snapshot = false;
    t.push_back(std::move(deltas));
  }

  // Hummock: versions pinned by live readers. Not in snapshots: pins belong to processes of the
  // cluster that took the snapshot, which are gone after a restore.
  {
    TableSchema pins{"hummock_pinned_version",
                     {Col("context_id", T::kInt64), Col("min_pinned_id", T::kInt64)},
                     {"context_id"},
                     {},
                     {}};
    pins.in_snapshot = false;
    t.push_back(std::move(pins));
  }

  // Backup jobs, past and present (state RUNNING, SUCCEEDED, FAILED).
  t.push_back({"backup_job",
               {Col("job_id", T::kInt64), Col("state", T::kText), Col("message", T::kText),
                NullCol("remarks", T::kText), Col("started_at_ms", T::kInt64),
                NullCol("finished_at_ms", T::kInt64)},
               {"job_id"},
               {},
               {}});
  t.back().id_sequence = kSnapshotIdSequence;

  return t;
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kText:
      return "text";
    case ColumnType::kBytes:
      return "bytes";
    case ColumnType::kJson:
      return "json";
  }
  return "unknown";
}

int TableSchema::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> TableSchema::ColumnIndexes(const std::vector<std::string>& names) const {
  std::vector<int> out;
  out.reserve(names.size());
  for (const auto& name : names) out.push_back(ColumnIndex(name));
  return out;
}

namespace {
bool ValueHasType(const Value& v, ColumnType type) {
  switch (type) {
    case ColumnType::kInt64:
      return std::holds_alternative<int64_t>(v);
    case ColumnType::kDouble:
      return std::holds_alternative<double>(v);
    case ColumnType::kBool:
      return std::holds_alternative<bool>(v);
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson:
      return std::holds_alternative<std::string>(v);
  }
  return false;
}
}  // namespace

Status ValidateRow(const TableSchema& table, const Row& row) {
  if (row.size() != table.columns.size()) {
    return InvalidArgumentError(fmt::format("table {}: row has {} values, expected {}", table.name,
                                            row.size(), table.columns.size()));
  }
  for (size_t i = 0; i < row.size(); ++i) {
    const ColumnSchema& col = table.columns[i];
    if (IsNull(row[i])) {
      if (!col.nullable) {
        return InvalidArgumentError(
            fmt::format("table {}: column {} is not nullable", table.name, col.name));
      }
      continue;
    }
    if (!ValueHasType(row[i], col.type)) {
      return InvalidArgumentError(fmt::format("table {}: column {} expects {}", table.name,
                                              col.name, ColumnTypeName(col.type)));
    }
  }
  return Status::Ok();
}

Status ValidateKey(const TableSchema& table, const Key& key) {
  if (key.size() != table.primary_key.size()) {
    return InvalidArgumentError(fmt::format("table {}: key has {} values, primary key has {}",
                                            table.name, key.size(), table.primary_key.size()));
  }
  std::vector<int> idx = table.PrimaryKeyIndexes();
  for (size_t i = 0; i < key.size(); ++i) {
    const ColumnSchema& col = table.columns[idx[i]];
    if (IsNull(key[i])) {
      return InvalidArgumentError(
          fmt::format("table {}: key column {} is NULL", table.name, col.name));
    }
    if (!ValueHasType(key[i], col.type)) {
      return InvalidArgumentError(fmt::format("table {}: key column {} expects {}", table.name,
                                              col.name, ColumnTypeName(col.type)));
    }
  }
  return Status::Ok();
}

std::vector<Value> ValuesAt(const Row& row, const std::vector<int>& indexes) {
  std::vector<Value> out;
  out.reserve(indexes.size());
  for (int i : indexes) out.push_back(row[i]);
  return out;
}

bool AnyNull(const std::vector<Value>& values) {
  return std::any_of(values.begin(), values.end(), [](const Value& v) { return IsNull(v); });
}

Key KeyOf(const TableSchema& table, const Row& row) {
  return ValuesAt(row, table.PrimaryKeyIndexes());
}

std::string ValueToString(const Value& v, ColumnType type) {
  if (IsNull(v)) return "NULL";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  const auto& s = std::get<std::string>(v);
  if (type == ColumnType::kBytes) {
    std::string out = "x'";
    for (unsigned char c : s) out += fmt::format("{:02x}", c);
    return out + "'";
  }
  return "'" + s + "'";
}

const Model& Model::Get() {
  static const Model* const kModel = new Model(kModelVersion, BuildTables());
  return *kModel;
}

const TableSchema* Model::Find(std::string_view name) const {
  for (const auto& t : tables_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const TableSchema& Model::Table(std::string_view name) const {
  const TableSchema* t = Find(name);
  assert(t != nullptr && "unknown model table");
  return *t;
}

Status Model::Validate() const {
  std::set<std::string> seen;
  for (const auto& t : tables_) {
    auto fail = [&](const std::string& what) {
      return InternalError(fmt::format("model table {}: {}", t.name, what));
    };
    if (!seen.insert(t.name).second) return fail("listed twice");
    if (t.added_in_version < 1 || t.added_in_version > version_) {
      return fail("added_in_version out of range");
    }
    std::set<std::string> cols;
    int last_added = 0;
    for (const auto& c : t.columns) {
      if (!cols.insert(c.name).second) return fail("column " + c.name + " listed twice");
      if (c.added_in_version < t.added_in_version || c.added_in_version > version_) {
        return fail("column " + c.name + ": added_in_version out of range");
      }
      if (c.added_in_version > t.added_in_version && !c.nullable) {
        return fail("column " + c.name + " added after its table must be nullable");
      }
      // SQL backends append added columns: the model's column order must match.
      if (c.added_in_version < last_added) {
        return fail("column " + c.name + " is listed after a column added in a later version");
      }
      last_added = c.added_in_version;
    }
    if (t.primary_key.empty()) return fail("no primary key");
    for (const auto& k : t.primary_key) {
      if (!cols.count(k)) return fail("primary key column " + k + " does not exist");
    }
    for (const auto& uk : t.unique_keys) {
      for (const auto& k : uk) {
        if (!cols.count(k)) return fail("unique key column " + k + " does not exist");
      }
    }
    if (!t.id_sequence.empty()) {
      const int key = t.primary_key.size() == 1 ? t.ColumnIndex(t.primary_key[0]) : -1;
      if (key < 0 || t.columns[key].type != ColumnType::kInt64) {
        return fail("id_sequence " + t.id_sequence + " on a primary key that is not one int64");
      }
    }
    for (const auto& fk : t.foreign_keys) {
      const TableSchema* parent = Find(fk.ref_table);
      if (parent == nullptr) return fail("foreign key to unknown table " + fk.ref_table);
      if (parent != &t && !seen.count(fk.ref_table)) {
        return fail("listed before its parent " + fk.ref_table);
      }
      if (fk.columns.size() != fk.ref_columns.size()) return fail("foreign key arity mismatch");
      for (size_t i = 0; i < fk.columns.size(); ++i) {
        if (!cols.count(fk.columns[i])) return fail("foreign key column " + fk.columns[i]);
        if (parent->ColumnIndex(fk.ref_columns[i]) < 0) {
          return fail("foreign key to unknown column " + fk.ref_table + "." + fk.ref_columns[i]);
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace rwmeta::metastore
