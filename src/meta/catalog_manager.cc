#include "meta/catalog_manager.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/clock.h"
#include "meta/catalog_internal.h"

namespace rwmeta::meta {

namespace {

using catalog_internal::AsInt;
using catalog_internal::DenyError;
using catalog_internal::WithState;
using metastore::Key;
using metastore::Model;
using metastore::Row;
using metastore::Transaction;
using metastore::Value;

Value OptText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

std::string ColumnsToJson(const std::vector<ColumnInfo>& columns) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& c : columns) {
    arr.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
  }
  return arr.dump();
}

// Object kinds as stored in object.obj_type (they reach disk: never change).
constexpr const char* kObjDatabase = "database";
constexpr const char* kObjSchema = "schema";
constexpr const char* kObjTable = "table";
constexpr const char* kObjView = "view";
constexpr const char* kObjSecret = "secret";

Result<int64_t> InsertObjectRow(Transaction& txn, const char* type, int64_t owner_id,
                                std::optional<int64_t> database_id,
                                std::optional<int64_t> schema_id) {
  RWMETA_ASSIGN_OR_RETURN(int64_t oid, metastore::NextKey(txn, Model::Get().Table("object")));
  Row row{oid,
          std::string(type),
          owner_id,
          database_id ? Value(*database_id) : Value(),
          schema_id ? Value(*schema_id) : Value(),
          UnixNowMs()};
  RWMETA_RETURN_IF_ERROR(txn.Insert(Model::Get().Table("object"), row));
  return oid;
}

Result<int64_t> InsertSchemaRows(Transaction& txn, int64_t database_id, std::string_view name,
                                 int64_t owner_id) {
  RWMETA_ASSIGN_OR_RETURN(int64_t oid,
                          InsertObjectRow(txn, kObjSchema, owner_id, database_id, std::nullopt));
  RWMETA_RETURN_IF_ERROR(
      txn.Insert(Model::Get().Table("schema"), Row{oid, database_id, std::string(name)}));
  return oid;
}

// Bumps the "catalog" entry of catalog_version so caches elsewhere know to refresh.
Status BumpCatalogVersion(Transaction& txn, int64_t current) {
  return txn.Upsert(Model::Get().Table("catalog_version"),
                    Row{std::string("catalog"), current + 1});
}

// One row a statement wrote: the whole row (kPut, an insert or an update) or the key of a
// deleted one (kDelete), in the order the statement wrote them.
struct CatalogChange {
  enum class Kind { kPut, kDelete };
  Kind kind;
  const metastore::TableSchema* table;
  Row row;
};

// A Transaction that records the writes that succeeded (a failed write changes nothing, see
// meta_store.h) into `changes`, so that after the commit they can be applied to the cached
// snapshot. Reads and the commit pass through.
class RecordingTransaction : public Transaction {
 public:
  RecordingTransaction(Transaction& txn, std::vector<CatalogChange>& changes)
      : txn_(txn), changes_(changes) {}

  Result<std::optional<Row>> Get(const metastore::TableSchema& table, const Key& key) override {
    return txn_.Get(table, key);
  }
  Status Scan(const metastore::TableSchema& table,
              const std::function<Status(const Row&)>& visit) override {
    return txn_.Scan(table, visit);
  }
  Result<int64_t> Count(const metastore::TableSchema& table) override { return txn_.Count(table); }
  Status Insert(const metastore::TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(txn_.Insert(table, row));
    Record(CatalogChange::Kind::kPut, table, row);
    return Status::Ok();
  }
  Status Update(const metastore::TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(txn_.Update(table, row));
    Record(CatalogChange::Kind::kPut, table, row);
    return Status::Ok();
  }
  Status Delete(const metastore::TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(txn_.Delete(table, key));
    Record(CatalogChange::Kind::kDelete, table, key);
    return Status::Ok();
  }
  Status Commit() override { return txn_.Commit(); }

 private:
  void Record(CatalogChange::Kind kind, const metastore::TableSchema& table, const Row& row) {
    // Only the catalog's own rows (not id_sequence's, say) change the snapshot.
    if (catalog_internal::IsCatalogTable(table.name)) changes_.push_back({kind, &table, row});
  }

  Transaction& txn_;
  std::vector<CatalogChange>& changes_;
};

bool IsDefaultSchema(std::string_view name) {
  const auto& d = DefaultSchemaNames();
  return std::find(d.begin(), d.end(), name) != d.end();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Row writers (shared with bootstrap).

std::string Md5Verifier(std::string_view password, std::string_view user_name) {
  std::string input = std::string(password) + std::string(user_name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_md5(), nullptr);
  std::string out = "md5";
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

const std::vector<std::string>& DefaultSchemaNames() {
  static const std::vector<std::string>* const kNames =
      new std::vector<std::string>{"public", "pg_catalog", "rw_catalog", "information_schema"};
  return *kNames;
}

Result<int64_t> InsertUserRows(Transaction& txn, const UserInfo& user) {
  RWMETA_ASSIGN_OR_RETURN(int64_t id, metastore::NextKey(txn, Model::Get().Table("user")));
  Row row{id,
          user.name,
          user.is_super,
          user.can_create_db,
          user.can_create_user,
          user.can_login,
          OptText(user.auth_type),
          OptText(user.auth_value),
          UnixNowMs()};
  RWMETA_RETURN_IF_ERROR(txn.Insert(Model::Get().Table("user"), row));
  return id;
}

Result<int64_t> InsertDatabaseRows(Transaction& txn, std::string_view name, int64_t owner_id) {
  RWMETA_ASSIGN_OR_RETURN(int64_t db_id,
                          InsertObjectRow(txn, kObjDatabase, owner_id, std::nullopt, std::nullopt));
  RWMETA_RETURN_IF_ERROR(txn.Insert(Model::Get().Table("database"), Row{db_id, std::string(name)}));
  for (const auto& schema : DefaultSchemaNames()) {
    RWMETA_RETURN_IF_ERROR(InsertSchemaRows(txn, db_id, schema, owner_id).status());
  }
  return db_id;
}

// ---------------------------------------------------------------------------------------------
// CatalogManager.

namespace catalog_internal {

Result<const UserInfo*> ActorUser(const CatalogSnapshot& snap, const CatalogActor& actor) {
  const UserInfo* u = snap.FindUser(actor.user);
  if (u == nullptr) return DenyError(fmt::format("user \"{}\" does not exist", actor.user));
  return u;
}

Result<const DatabaseInfo*> ActorDatabase(const CatalogSnapshot& snap, const CatalogActor& actor) {
  const DatabaseInfo* d = snap.FindDatabase(actor.database);
  if (d == nullptr) {
    return WithState(NotFoundError(fmt::format("database \"{}\" does not exist", actor.database)),
                     "3D000");
  }
  return d;
}

Result<const SchemaInfo*> LookupSchema(const CatalogSnapshot& snap, int64_t database_id,
                                       const std::string& name) {
  std::string schema = name.empty() ? "public" : name;
  const SchemaInfo* s = snap.FindSchema(database_id, schema);
  if (s == nullptr) {
    return WithState(NotFoundError(fmt::format("schema \"{}\" does not exist", schema)), "3F000");
  }
  return s;
}

Status DropMissing(const std::string& kind, const std::string& name, bool if_exists,
                   const char* sqlstate, DdlResult& out) {
  if (if_exists) {
    out.notices.push_back(fmt::format("{} \"{}\" does not exist, skipping", kind, name));
    return Status::Ok();
  }
  return WithState(NotFoundError(fmt::format("{} \"{}\" does not exist", kind, name)), sqlstate);
}

Status CreateExisting(const std::string& kind, const std::string& name, bool if_not_exists,
                      const char* sqlstate, DdlResult& out) {
  if (if_not_exists) {
    out.notices.push_back(fmt::format("{} \"{}\" already exists, skipping", kind, name));
    return Status::Ok();
  }
  return WithState(AlreadyExistsError(fmt::format("{} \"{}\" already exists", kind, name)),
                   sqlstate);
}

Status CheckOwner(const UserInfo& user, int64_t owner_id, const std::string& kind,
                  const std::string& name) {
  if (user.is_super || owner_id == user.id) return Status::Ok();
  return DenyError(fmt::format("must be owner of {} {}", kind, name));
}

}  // namespace catalog_internal

namespace {

using catalog_internal::ActorDatabase;
using catalog_internal::ActorUser;
using catalog_internal::CheckOwner;
using catalog_internal::CreateExisting;
using catalog_internal::DropMissing;
using catalog_internal::LookupSchema;

bool CanCreateIn(const CatalogSnapshot& snap, const UserInfo& user, const SchemaInfo& schema) {
  return user.is_super || schema.owner_id == user.id ||
         snap.HasPrivilege(user.id, schema.id, "CREATE");
}

// Adds to `ids` every view that (transitively) depends on one of them.
void AddDependents(const CatalogSnapshot& snap, std::set<int64_t>& ids) {
  std::vector<int64_t> todo(ids.begin(), ids.end());
  while (!todo.empty()) {
    int64_t id = todo.back();
    todo.pop_back();
    for (int64_t dependent : snap.DependentsOf(id)) {
      if (ids.insert(dependent).second) todo.push_back(dependent);
    }
  }
}

// Deletes the objects `ids` (their per-kind rows, privileges and dependencies cascade), children
// before the schemas and databases their rows refer to.
Status DeleteObjects(Transaction& txn, const CatalogSnapshot& snap,
                     const std::set<int64_t>& dropped) {
  // Indexes go with their tables (as in PostgreSQL, without CASCADE).
  std::set<int64_t> ids = dropped;
  for (int64_t id : dropped) {
    for (int64_t index : snap.IndexesOn(id)) ids.insert(index);
  }
  std::vector<std::pair<int, int64_t>> ordered;
  for (int64_t id : ids) {
    int rank = 0;
    if (snap.FindSchemaById(id)) rank = 1;
    if (snap.FindDatabaseById(id)) rank = 2;
    ordered.push_back({rank, id});
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [rank, id] : ordered) {
    RWMETA_RETURN_IF_ERROR(txn.Delete(Model::Get().Table("object"), Key{id}));
  }
  return Status::Ok();
}

// Every object inside schema `schema_id`.
std::set<int64_t> ObjectsInSchema(const CatalogSnapshot& snap, int64_t schema_id) {
  std::vector<int64_t> ids = snap.ObjectsInSchema(schema_id);
  return {ids.begin(), ids.end()};
}

std::string RelationKind(const CatalogSnapshot& snap, int64_t id) {
  if (snap.FindViewById(id)) return "view";
  if (const TableInfo* t = snap.FindTableById(id)) {
    return t->table_type == kMaterializedViewType ? "materialized view" : "table";
  }
  return "object";
}

}  // namespace

Result<std::unique_ptr<CatalogManager>> CatalogManager::Open(metastore::MetaStore& store) {
  std::unique_ptr<CatalogManager> m(new CatalogManager(store));
  RWMETA_RETURN_IF_ERROR(m->Reload());
  return m;
}

std::shared_ptr<const CatalogSnapshot> CatalogManager::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

Status CatalogManager::Reload() {
  // Under the writer mutex: a load that began before a statement's commit must not be published
  // after that statement's snapshot.
  std::lock_guard<std::mutex> write_lock(write_mu_);
  return ReloadLocked();
}

Status CatalogManager::ReloadLocked() {
  RWMETA_ASSIGN_OR_RETURN(auto view, store_.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(auto snap, LoadCatalog(*view));
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(snap);
  return Status::Ok();
}

Result<DdlResult> CatalogManager::Write(
    const std::function<Status(Transaction&, const CatalogSnapshot&, DdlResult&)>& body) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  DdlResult result;
  std::shared_ptr<const CatalogSnapshot> base;
  std::vector<CatalogChange> changes;
  RWMETA_RETURN_IF_ERROR(metastore::RunTransaction(store_, [&](Transaction& txn) -> Status {
    result = DdlResult{};
    changes.clear();
    base = Snapshot();
    // One row read, where a reload would read every catalog row. This process writes the catalog
    // only under write_mu_, and every writer bumps the version: an equal version means the cache
    // is what the store holds. The read also puts the row in the transaction's read set, so a
    // concurrent writer elsewhere makes this transaction (not the cache) lose.
    RWMETA_ASSIGN_OR_RETURN(
        auto stored, txn.Get(Model::Get().Table("catalog_version"), Key{std::string("catalog")}));
    const int64_t stored_version = stored ? AsInt((*stored)[1]) : 0;
    if (stored_version != base->version) {
      spdlog::info("catalog: version {} in the store, {} cached: loading the whole catalog",
                   stored_version, base->version);
      RWMETA_ASSIGN_OR_RETURN(base, LoadCatalog(txn));
    }
    RecordingTransaction recording(txn, changes);
    RWMETA_RETURN_IF_ERROR(body(recording, *base, result));
    // A statement skipped by IF [NOT] EXISTS changes nothing and keeps the version.
    bool wrote = result.notices.empty() || result.id != 0;
    if (!wrote) return Status::Ok();
    return BumpCatalogVersion(recording, base->version);
  }));
  // Committed: the new snapshot is the one the statement ran against plus what it wrote.
  if (changes.empty() && base == Snapshot()) return result;
  auto next = std::make_shared<CatalogSnapshot>(*base);
  for (const CatalogChange& change : changes) {
    if (change.kind == CatalogChange::Kind::kDelete) {
      catalog_internal::ApplyCatalogDelete(*next, *change.table, change.row);
      continue;
    }
    Status applied = catalog_internal::ApplyCatalogRow(*next, *change.table, change.row);
    if (!applied.ok()) {
      // A row this statement wrote does not decode: a bug here, not in the store, which holds
      // the truth. Read it whole rather than publish a cache that differs from it.
      spdlog::error("catalog: applying a written {} row: {}; loading the whole catalog",
                    change.table->name, applied.ToString());
      RWMETA_RETURN_IF_ERROR(ReloadLocked());
      return result;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(next);
  return result;
}

Result<DdlResult> CatalogManager::CreateDatabase(const CatalogActor& actor, const std::string& name,
                                                 bool if_not_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    if (!user->is_super && !user->can_create_db) {
      return DenyError("permission denied to create database");
    }
    if (snap.FindDatabase(name)) {
      return CreateExisting("database", name, if_not_exists, "42P04", out);
    }
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertDatabaseRows(txn, name, user->id));
    return Status::Ok();
  });
}

Result<DdlResult> CatalogManager::DropDatabase(const CatalogActor& actor, const std::string& name,
                                               bool if_exists, bool cascade) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    const DatabaseInfo* db = snap.FindDatabase(name);
    if (db == nullptr) return DropMissing("database", name, if_exists, "3D000", out);
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, db->owner_id, "database", name));
    if (name == actor.database) {
      return WithState(FailedPreconditionError("cannot drop the currently open database"), "55006");
    }
    std::set<int64_t> ids{db->id};
    bool has_objects = false;
    for (int64_t schema_id : snap.SchemasOf(db->id)) {
      const SchemaInfo& s = *snap.FindSchemaById(schema_id);
      ids.insert(s.id);
      auto inside = ObjectsInSchema(snap, s.id);
      if (!inside.empty() || !IsDefaultSchema(s.name)) has_objects = true;
      ids.insert(inside.begin(), inside.end());
    }
    if (has_objects && !cascade) {
      return WithState(FailedPreconditionError(fmt::format(
                           "cannot drop database {} because other objects depend on it", name)),
                       "2BP01");
    }
    AddDependents(snap, ids);
    out.id = db->id;
    out.dropped_ids.assign(ids.begin(), ids.end());
    return DeleteObjects(txn, snap, ids);
  });
}

Result<DdlResult> CatalogManager::CreateSchema(const CatalogActor& actor, const std::string& name,
                                               bool if_not_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    if (!user->is_super && db->owner_id != user->id &&
        !snap.HasPrivilege(user->id, db->id, "CREATE")) {
      return DenyError(fmt::format("permission denied for database {}", db->name));
    }
    if (snap.FindSchema(db->id, name)) {
      return CreateExisting("schema", name, if_not_exists, "42P06", out);
    }
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertSchemaRows(txn, db->id, name, user->id));
    return Status::Ok();
  });
}

Result<DdlResult> CatalogManager::DropSchema(const CatalogActor& actor, const std::string& name,
                                             bool if_exists, bool cascade) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    const SchemaInfo* schema = snap.FindSchema(db->id, name);
    if (schema == nullptr) return DropMissing("schema", name, if_exists, "3F000", out);
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, schema->owner_id, "schema", name));
    std::set<int64_t> ids = ObjectsInSchema(snap, schema->id);
    if (!ids.empty() && !cascade) {
      return WithState(FailedPreconditionError(fmt::format(
                           "cannot drop schema {} because other objects depend on it", name)),
                       "2BP01");
    }
    ids.insert(schema->id);
    AddDependents(snap, ids);
    out.id = schema->id;
    out.dropped_ids.assign(ids.begin(), ids.end());
    return DeleteObjects(txn, snap, ids);
  });
}

namespace {

// Checks the name is free in the schema's relation namespace. Returns true when the statement
// should be skipped (IF NOT EXISTS).
Result<bool> CheckRelationNameFree(const CatalogSnapshot& snap, const SchemaInfo& schema,
                                   const std::string& name, bool if_not_exists, DdlResult& out) {
  if (snap.FindTable(schema.id, name) == nullptr && snap.FindView(schema.id, name) == nullptr &&
      snap.FindIndex(schema.id, name) == nullptr) {
    return false;
  }
  if (if_not_exists) {
    out.notices.push_back(fmt::format("relation \"{}\" already exists, skipping", name));
    return true;
  }
  return WithState(AlreadyExistsError(fmt::format("relation \"{}\" already exists", name)),
                   "42P07");
}

Status CheckColumns(const std::vector<ColumnInfo>& columns) {
  std::set<std::string> seen;
  for (const auto& c : columns) {
    if (!seen.insert(c.name).second) {
      return WithState(
          InvalidArgumentError(fmt::format("column \"{}\" specified more than once", c.name)),
          "42701");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<DdlResult> CatalogManager::CreateTable(const CatalogActor& actor, const QualifiedName& name,
                                              std::vector<ColumnInfo> columns, std::vector<int> pk,
                                              std::string definition, bool append_only,
                                              bool if_not_exists) {
  RWMETA_RETURN_IF_ERROR(CheckColumns(columns));
  std::set<int> pk_seen;
  for (int i : pk) {
    if (i < 0 || i >= static_cast<int>(columns.size()) || !pk_seen.insert(i).second) {
      return WithState(InvalidArgumentError("invalid primary key"), "42P16");
    }
  }
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* schema, LookupSchema(snap, db->id, name.schema));
    if (!CanCreateIn(snap, *user, *schema)) {
      return DenyError(fmt::format("permission denied for schema {}", schema->name));
    }
    RWMETA_ASSIGN_OR_RETURN(bool skip,
                            CheckRelationNameFree(snap, *schema, name.name, if_not_exists, out));
    if (skip) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertObjectRow(txn, kObjTable, user->id, db->id, schema->id));
    Row row{out.id,
            schema->id,
            name.name,
            std::string("table"),
            ColumnsToJson(columns),
            nlohmann::json(pk).dump(),
            definition,
            append_only};
    return txn.Insert(Model::Get().Table("table"), row);
  });
}

namespace {

// What CREATE VIEW and CREATE MATERIALIZED VIEW share: checks (schema, permission, name, the
// relations read), the object row, the kind's own row from `row_for(id, schema_id)`, and one
// dependency row per relation read.
Status CreateDerivedRelation(Transaction& txn, const CatalogSnapshot& snap, DdlResult& out,
                             const CatalogActor& actor, const QualifiedName& name,
                             const char* object_type, const std::string& table,
                             const std::function<Row(int64_t id, int64_t schema_id)>& row_for,
                             const std::vector<int64_t>& depends_on, bool if_not_exists) {
  RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
  RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
  RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* schema, LookupSchema(snap, db->id, name.schema));
  if (!CanCreateIn(snap, *user, *schema)) {
    return DenyError(fmt::format("permission denied for schema {}", schema->name));
  }
  RWMETA_ASSIGN_OR_RETURN(bool skip,
                          CheckRelationNameFree(snap, *schema, name.name, if_not_exists, out));
  if (skip) return Status::Ok();
  for (int64_t dep : depends_on) {
    if (!snap.FindTableById(dep) && !snap.FindViewById(dep)) {
      return WithState(NotFoundError(fmt::format("relation with id {} does not exist", dep)),
                       "42P01");
    }
  }
  RWMETA_ASSIGN_OR_RETURN(out.id, InsertObjectRow(txn, object_type, user->id, db->id, schema->id));
  RWMETA_RETURN_IF_ERROR(txn.Insert(Model::Get().Table(table), row_for(out.id, schema->id)));
  std::set<int64_t> unique(depends_on.begin(), depends_on.end());
  for (int64_t dep : unique) {
    RWMETA_ASSIGN_OR_RETURN(int64_t dep_id,
                            metastore::NextKey(txn, Model::Get().Table("object_dependency")));
    RWMETA_RETURN_IF_ERROR(
        txn.Insert(Model::Get().Table("object_dependency"), Row{dep_id, dep, out.id}));
  }
  return Status::Ok();
}

}  // namespace

Result<DdlResult> CatalogManager::CreateView(const CatalogActor& actor, const QualifiedName& name,
                                             std::vector<ColumnInfo> columns,
                                             std::string definition,
                                             std::vector<int64_t> depends_on, bool if_not_exists) {
  RWMETA_RETURN_IF_ERROR(CheckColumns(columns));
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    return CreateDerivedRelation(
        txn, snap, out, actor, name, kObjView, "view",
        [&](int64_t id, int64_t schema_id) {
          return Row{id, schema_id, name.name, ColumnsToJson(columns), definition};
        },
        depends_on, if_not_exists);
  });
}

Result<DdlResult> CatalogManager::CreateIndex(const CatalogActor& actor, const QualifiedName& name,
                                              const QualifiedName& table,
                                              std::vector<std::string> columns,
                                              std::string definition, bool if_not_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* schema, LookupSchema(snap, db->id, table.schema));
    const TableInfo* t = snap.FindTable(schema->id, table.name);
    if (t == nullptr) {
      if (snap.FindView(schema->id, table.name) != nullptr) {
        return WithState(
            InvalidArgumentError(fmt::format("cannot create index on view \"{}\"", table.name)),
            "42809");
      }
      return WithState(NotFoundError(fmt::format("relation \"{}\" does not exist", table.name)),
                       "42P01");
    }
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, t->owner_id, "table", t->name));
    for (const auto& c : columns) {
      bool found = std::any_of(t->columns.begin(), t->columns.end(),
                               [&](const ColumnInfo& col) { return col.name == c; });
      if (!found) {
        return WithState(InvalidArgumentError(fmt::format("column \"{}\" does not exist", c)),
                         "42703");
      }
    }
    RWMETA_ASSIGN_OR_RETURN(bool skip,
                            CheckRelationNameFree(snap, *schema, name.name, if_not_exists, out));
    if (skip) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertObjectRow(txn, "index", user->id, db->id, schema->id));
    return txn.Insert(Model::Get().Table("index"), Row{out.id, schema->id, name.name, t->id,
                                                       nlohmann::json(columns).dump(), definition});
  });
}

Result<DdlResult> CatalogManager::DropIndex(const CatalogActor& actor, const QualifiedName& name,
                                            bool if_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    const SchemaInfo* schema =
        snap.FindSchema(db->id, name.schema.empty() ? "public" : name.schema);
    const IndexInfo* index = schema ? snap.FindIndex(schema->id, name.name) : nullptr;
    if (index == nullptr) return DropMissing("index", name.name, if_exists, "42704", out);
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, index->owner_id, "index", name.name));
    out.id = index->id;
    return DeleteObjects(txn, snap, {index->id});
  });
}

Result<DdlResult> CatalogManager::CreateMaterializedView(
    const CatalogActor& actor, const QualifiedName& name, std::vector<ColumnInfo> columns,
    std::string definition, std::vector<int64_t> depends_on, bool if_not_exists) {
  RWMETA_RETURN_IF_ERROR(CheckColumns(columns));
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    return CreateDerivedRelation(
        txn, snap, out, actor, name, kObjTable, "table",
        [&](int64_t id, int64_t schema_id) {
          return Row{id,
                     schema_id,
                     name.name,
                     std::string(kMaterializedViewType),
                     ColumnsToJson(columns),
                     nlohmann::json::array().dump(),
                     definition,
                     false};
        },
        depends_on, if_not_exists);
  });
}

Result<DdlResult> CatalogManager::DropRelation(const CatalogActor& actor, const QualifiedName& name,
                                               bool is_view, bool if_exists, bool cascade,
                                               bool materialized) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    const char* kind = is_view ? "view" : materialized ? "materialized view" : "table";
    auto missing = [&]() { return DropMissing(kind, name.name, if_exists, "42P01", out); };
    const SchemaInfo* schema =
        snap.FindSchema(db->id, name.schema.empty() ? "public" : name.schema);
    if (schema == nullptr) {
      if (!name.schema.empty() && !if_exists) {
        return WithState(NotFoundError(fmt::format("schema \"{}\" does not exist", name.schema)),
                         "3F000");
      }
      return missing();
    }
    const TableInfo* table = snap.FindTable(schema->id, name.name);
    const ViewInfo* view = snap.FindView(schema->id, name.name);
    if (table == nullptr && view == nullptr) return missing();
    bool is_mv = table != nullptr && table->table_type == kMaterializedViewType;
    if ((is_view && view == nullptr) || (!is_view && table == nullptr) ||
        (!is_view && is_mv != materialized)) {
      return WithState(InvalidArgumentError(fmt::format("\"{}\" is not a {}", name.name, kind)),
                       "42809");
    }
    int64_t id = is_view ? view->id : table->id;
    int64_t owner = is_view ? view->owner_id : table->owner_id;
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, owner, kind, name.name));
    std::set<int64_t> ids{id};
    AddDependents(snap, ids);
    if (ids.size() > 1 && !cascade) {
      return WithState(
          FailedPreconditionError(
              fmt::format("cannot drop {} {} because other objects depend on it", kind, name.name)),
          "2BP01");
    }
    for (int64_t dependent : ids) {
      if (dependent == id) continue;
      const ViewInfo* v = snap.FindViewById(dependent);
      const TableInfo* t = snap.FindTableById(dependent);
      out.notices.push_back(fmt::format("drop cascades to {} {}", RelationKind(snap, dependent),
                                        v   ? v->name
                                        : t ? t->name
                                            : "?"));
    }
    out.id = id;
    out.dropped_ids.assign(ids.begin(), ids.end());
    return DeleteObjects(txn, snap, ids);
  });
}

namespace {

Status ApplyUserOptions(UserInfo& u, const CreateUserOptions& o) {
  if (o.superuser) u.is_super = *o.superuser;
  if (o.create_db) u.can_create_db = *o.create_db;
  if (o.create_user) u.can_create_user = *o.create_user;
  if (o.login) u.can_login = *o.login;
  if (o.password) {
    if (o.password->has_value()) {
      u.auth_type = "md5";
      u.auth_value = Md5Verifier(**o.password, u.name);
    } else {
      u.auth_type.reset();
      u.auth_value.reset();
    }
  }
  return Status::Ok();
}

Row UserRow(const UserInfo& u, int64_t created_at_ms) {
  return Row{u.id,
             u.name,
             u.is_super,
             u.can_create_db,
             u.can_create_user,
             u.can_login,
             OptText(u.auth_type),
             OptText(u.auth_value),
             created_at_ms};
}

}  // namespace

Result<DdlResult> CatalogManager::CreateUser(const CatalogActor& actor, const std::string& name,
                                             const CreateUserOptions& options, bool if_not_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    if (!user->is_super && !user->can_create_user) {
      return DenyError("permission denied to create user");
    }
    if (options.superuser.value_or(false) && !user->is_super) {
      return DenyError("must be superuser to create superusers");
    }
    if (snap.FindUser(name)) {
      return CreateExisting("user", name, if_not_exists, "42710", out);
    }
    UserInfo u;
    u.name = name;
    RWMETA_RETURN_IF_ERROR(ApplyUserOptions(u, options));
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertUserRows(txn, u));
    return Status::Ok();
  });
}

Result<DdlResult> CatalogManager::AlterUser(const CatalogActor& actor, const std::string& name,
                                            const CreateUserOptions& options) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    const UserInfo* target = snap.FindUser(name);
    if (target == nullptr) {
      return WithState(NotFoundError(fmt::format("user \"{}\" does not exist", name)), "42704");
    }
    bool only_password =
        !options.superuser && !options.create_db && !options.create_user && !options.login;
    bool allowed = user->is_super || (only_password && user->id == target->id) ||
                   (user->can_create_user && !target->is_super && !options.superuser);
    if (!allowed) return DenyError(fmt::format("permission denied to alter user \"{}\"", name));
    UserInfo updated = *target;
    RWMETA_RETURN_IF_ERROR(ApplyUserOptions(updated, options));
    const auto& table = Model::Get().Table("user");
    RWMETA_ASSIGN_OR_RETURN(auto existing, txn.Get(table, Key{target->id}));
    int64_t created = existing ? AsInt((*existing)[8]) : UnixNowMs();
    out.id = target->id;
    return txn.Update(table, UserRow(updated, created));
  });
}

Result<DdlResult> CatalogManager::DropUser(const CatalogActor& actor, const std::string& name,
                                           bool if_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    const UserInfo* target = snap.FindUser(name);
    if (target == nullptr) return DropMissing("user", name, if_exists, "42704", out);
    if (!user->is_super && !(user->can_create_user && !target->is_super)) {
      return DenyError(fmt::format("permission denied to drop user \"{}\"", name));
    }
    if (target->id == user->id) {
      return WithState(FailedPreconditionError("current user cannot be dropped"), "55006");
    }
    if (snap.OwnsOrGranted(target->id)) {
      return WithState(
          FailedPreconditionError(
              fmt::format("user \"{}\" cannot be dropped because some objects depend on it", name)),
          "2BP01");
    }
    out.id = target->id;
    return txn.Delete(Model::Get().Table("user"), Key{target->id});
  });
}

Result<DdlResult> CatalogManager::CreateSecret(const CatalogActor& actor, const QualifiedName& name,
                                               std::string value, bool if_not_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const SchemaInfo* schema, LookupSchema(snap, db->id, name.schema));
    if (!CanCreateIn(snap, *user, *schema)) {
      return DenyError(fmt::format("permission denied for schema {}", schema->name));
    }
    if (snap.FindSecret(schema->id, name.name)) {
      return CreateExisting("secret", name.name, if_not_exists, "42710", out);
    }
    RWMETA_ASSIGN_OR_RETURN(out.id, InsertObjectRow(txn, kObjSecret, user->id, db->id, schema->id));
    return txn.Insert(Model::Get().Table("secret"), Row{out.id, schema->id, name.name, value});
  });
}

Result<DdlResult> CatalogManager::DropSecret(const CatalogActor& actor, const QualifiedName& name,
                                             bool if_exists) {
  return Write([&](Transaction& txn, const CatalogSnapshot& snap, DdlResult& out) -> Status {
    RWMETA_ASSIGN_OR_RETURN(const UserInfo* user, ActorUser(snap, actor));
    RWMETA_ASSIGN_OR_RETURN(const DatabaseInfo* db, ActorDatabase(snap, actor));
    const SchemaInfo* schema =
        snap.FindSchema(db->id, name.schema.empty() ? "public" : name.schema);
    const SecretInfo* secret = schema ? snap.FindSecret(schema->id, name.name) : nullptr;
    if (secret == nullptr) return DropMissing("secret", name.name, if_exists, "42704", out);
    RWMETA_RETURN_IF_ERROR(CheckOwner(*user, secret->owner_id, "secret", name.name));
    out.id = secret->id;
    return DeleteObjects(txn, snap, {secret->id});
  });
}

}  // namespace rwmeta::meta
