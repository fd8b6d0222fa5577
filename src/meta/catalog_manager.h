// The catalog manager: databases, schemas, tables, views, users, secrets and privileges, stored in
// the meta store's model tables (object, database, schema, table, view, secret, user,
// user_privilege, object_dependency, catalog_version) and cached as an immutable CatalogSnapshot.
//
// Names arrive case-folded (the parser does it). Tables and views share one namespace per schema;
// secrets have their own.
//
// Errors are Status codes with PostgreSQL SQLSTATEs attached:
//   AlreadyExists       42P04 database, 42P06 schema, 42P07 table/view, 42710 user/secret
//   NotFound            3D000 database, 3F000 schema, 42P01 table/view, 42704 user/secret
//   PermissionDenied    42501 not allowed (not a superuser, not the owner, ...)
//   FailedPrecondition  2BP01 other objects depend on it (drop without CASCADE)
//   InvalidArgument     22023/42601 malformed definitions (no columns, duplicate column, bad pk)
// plus the store's own errors. With IF [NOT] EXISTS the "already exists"/"does not exist" cases
// succeed with a notice in DdlResult instead.
//
// The cache: a DDL statement's checks run against the cached snapshot, not against rows read
// again from the store. Inside its transaction it reads the catalog_version row and compares it
// with the cached version; only if they differ (another writer changed the store: another
// process, a test behind the manager's back) does it load the whole catalog first. After the
// commit, the rows the statement inserted, updated and deleted (with the store's cascades) are
// applied to a copy of the cached snapshot, which shares every unchanged chunk with it
// (persistent_map.h): a DDL statement costs what it changed, not the size of the catalog.
// Every writer of catalog rows must bump catalog_version, as this manager does.
//
// Concurrency:
//   Snapshot                  any thread, lock-free for the caller (shared_ptr copy under a mutex)
//   every DDL method          any thread; serialized by a writer mutex, each one store transaction
//   Reload                    any thread
// A DDL method that returns OK has committed, and the next Snapshot() shows its effect.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/status.h"
#include "meta/persistent_map.h"
#include "metastore/meta_store.h"

namespace rwmeta::meta {

struct UserInfo {
  int64_t id = 0;
  std::string name;
  bool is_super = false;
  bool can_create_db = false;
  bool can_create_user = false;
  bool can_login = true;
  // "md5" with `auth_value` = "md5" + md5hex(password + name); nullopt: no password.
  std::optional<std::string> auth_type;
  std::optional<std::string> auth_value;

  bool operator==(const UserInfo&) const = default;
};

struct DatabaseInfo {
  int64_t id = 0;
  std::string name;
  int64_t owner_id = 0;

  bool operator==(const DatabaseInfo&) const = default;
};

struct SchemaInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  std::string name;
  int64_t owner_id = 0;

  bool operator==(const SchemaInfo&) const = default;
};

struct ColumnInfo {
  std::string name;
  // The SQL type as written in DDL, canonical ("integer", "character varying", ...).
  std::string type;
  bool nullable = true;

  bool operator==(const ColumnInfo&) const = default;
};

// TableInfo::table_type of a materialized view.
inline constexpr std::string_view kMaterializedViewType = "materialized_view";

struct TableInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  int64_t schema_id = 0;
  std::string name;
  int64_t owner_id = 0;
  std::string table_type = "table";
  std::vector<ColumnInfo> columns;
  // Positions of the primary-key columns.
  std::vector<int> pk;
  std::string definition;
  bool append_only = false;

  bool operator==(const TableInfo&) const = default;
};

struct ViewInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  int64_t schema_id = 0;
  std::string name;
  int64_t owner_id = 0;
  std::vector<ColumnInfo> columns;
  // The view's SELECT.
  std::string definition;

  bool operator==(const ViewInfo&) const = default;
};

// CREATE INDEX records the index in the catalog only: queries scan the table (documented in
// docs/architecture.md), and a restore brings the index definition back.
struct IndexInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  int64_t schema_id = 0;
  std::string name;
  int64_t owner_id = 0;
  int64_t primary_table_id = 0;
  std::vector<std::string> columns;
  std::string definition;

  bool operator==(const IndexInfo&) const = default;
};

struct SecretInfo {
  int64_t id = 0;
  int64_t database_id = 0;
  int64_t schema_id = 0;
  std::string name;
  int64_t owner_id = 0;
  std::string value;

  bool operator==(const SecretInfo&) const = default;
};

struct PrivilegeInfo {
  int64_t id = 0;
  int64_t user_id = 0;
  int64_t oid = 0;
  int64_t granted_by = 0;
  // SELECT, INSERT, UPDATE, DELETE, CREATE, CONNECT, USAGE.
  std::string action;
  bool with_grant_option = false;

  bool operator==(const PrivilegeInfo&) const = default;
};

struct DependencyInfo {
  int64_t id = 0;       // the object_dependency row
  int64_t oid = 0;      // the object depended on
  int64_t used_by = 0;  // the dependent (a view)

  bool operator==(const DependencyInfo&) const = default;
};

// The object row every database, schema, table, view, index and secret has: its kind and owner,
// and where it lives (nullopt where that does not apply: a database has neither).
struct ObjectInfo {
  int64_t id = 0;
  // object.obj_type: "database", "schema", "table", "view", "index", "secret", ...
  std::string type;
  int64_t owner_id = 0;
  std::optional<int64_t> database_id;
  std::optional<int64_t> schema_id;

  bool operator==(const ObjectInfo&) const = default;
};

// The catalog's containers: rows by id, iterated in id order, shared between snapshots
// (persistent_map.h) so that a DDL statement's new snapshot copies only what it changed.
template <typename V>
using IdMap = PersistentMap<int64_t, V>;
// (an id, a name), e.g. (schema id, table name): the catalog's unique names.
using IdName = std::pair<int64_t, std::string>;
// (parent id, child id): the reverse edges DDL walks (objects of a schema, dependents of a table).
using IdPair = std::pair<int64_t, int64_t>;

// One consistent, immutable state of the catalog: what the store's catalog rows hold, decoded
// (LoadCatalog, CatalogManager). Lookups are O(log n) and return nullptr when absent; pointers
// live as long as the snapshot.
//
// The rows are the public members; the `by_*` indexes are derived from them by the same code
// that applies each row (ApplyCatalogRow), never written directly. Two snapshots are equal when
// they hold the same rows (and so the same indexes).
struct CatalogSnapshot {
  // catalog_version's "catalog" row: bumped by every DDL statement that changed something.
  int64_t version = 0;
  IdMap<UserInfo> users;
  IdMap<ObjectInfo> objects;
  IdMap<DatabaseInfo> databases;
  IdMap<SchemaInfo> schemas;
  IdMap<TableInfo> tables;
  IdMap<ViewInfo> views;
  IdMap<IndexInfo> indexes;
  IdMap<SecretInfo> secrets;
  IdMap<PrivilegeInfo> privileges;
  IdMap<DependencyInfo> dependencies;

  // Derived indexes (see above).
  struct Indexes {
    PersistentMap<std::string, int64_t> user_by_name;
    PersistentMap<std::string, int64_t> database_by_name;
    PersistentMap<IdName, int64_t> schema_by_name;   // (database, name)
    PersistentMap<IdName, int64_t> table_by_name;    // (schema, name)
    PersistentMap<IdName, int64_t> view_by_name;     // (schema, name)
    PersistentMap<IdName, int64_t> index_by_name;    // (schema, name)
    PersistentMap<IdName, int64_t> secret_by_name;   // (schema, name)
    PersistentMap<IdPair, bool> object_by_schema;    // (schema, object): object rows
    PersistentMap<IdPair, bool> object_by_database;  // (database, object): object rows
    PersistentMap<IdPair, bool> object_by_owner;     // (owner, object): object rows
    PersistentMap<IdPair, bool> index_by_table;      // (primary table, index)
    PersistentMap<IdPair, bool> dependency_by_oid;   // (oid, dependency row)
    PersistentMap<IdPair, bool> dependency_by_user;  // (used_by, dependency row)
    PersistentMap<std::tuple<int64_t, int64_t, std::string>, int64_t>
        privilege_by_key;                              // (user, oid, action) -> privilege row
    PersistentMap<IdPair, bool> privilege_by_oid;      // (oid, privilege row)
    PersistentMap<IdPair, bool> privilege_by_user;     // (user, privilege row)
    PersistentMap<IdPair, bool> privilege_by_grantor;  // (granted_by, privilege row)

    bool operator==(const Indexes&) const = default;
  } by;

  const UserInfo* FindUser(std::string_view name) const;
  const UserInfo* FindUserById(int64_t id) const;
  const DatabaseInfo* FindDatabase(std::string_view name) const;
  const DatabaseInfo* FindDatabaseById(int64_t id) const;
  const SchemaInfo* FindSchema(int64_t database_id, std::string_view name) const;
  const SchemaInfo* FindSchemaById(int64_t id) const;
  const TableInfo* FindTable(int64_t schema_id, std::string_view name) const;
  const TableInfo* FindTableById(int64_t id) const;
  const ViewInfo* FindView(int64_t schema_id, std::string_view name) const;
  const ViewInfo* FindViewById(int64_t id) const;
  const IndexInfo* FindIndex(int64_t schema_id, std::string_view name) const;
  const SecretInfo* FindSecret(int64_t schema_id, std::string_view name) const;
  // The grant of `action` on `oid` to `user_id`, or nullptr.
  const PrivilegeInfo* FindPrivilege(int64_t user_id, int64_t oid, std::string_view action) const;
  // True if `user_id` holds `action` on `oid` (directly granted).
  bool HasPrivilege(int64_t user_id, int64_t oid, std::string_view action) const;
  // The owner of any object id, or nullopt.
  std::optional<int64_t> OwnerOf(int64_t oid) const;

  // Ascending ids of: the schemas of a database; the objects (tables, views, indexes, secrets)
  // in a schema; the views and materialized views reading `oid` (directly); the relations `id`
  // reads (directly); the indexes on a table.
  std::vector<int64_t> SchemasOf(int64_t database_id) const;
  std::vector<int64_t> ObjectsInSchema(int64_t schema_id) const;
  std::vector<int64_t> DependentsOf(int64_t oid) const;
  std::vector<int64_t> DependenciesOf(int64_t id) const;
  std::vector<int64_t> IndexesOn(int64_t table_id) const;
  // True if `user_id` owns an object or granted a privilege (what keeps a user from being
  // dropped).
  bool OwnsOrGranted(int64_t user_id) const;

  bool operator==(const CatalogSnapshot&) const = default;
};

// Loads the whole catalog from `view`. DataLoss if a stored JSON column cannot be decoded.
Result<std::shared_ptr<const CatalogSnapshot>> LoadCatalog(metastore::ReadView& view);

// "md5" + md5hex(password + user_name), as PostgreSQL stores it.
std::string Md5Verifier(std::string_view password, std::string_view user_name);

// The schemas every database is created with.
const std::vector<std::string>& DefaultSchemaNames();

// Row writers shared with bootstrap. Each allocates ids from the "object"/"user" sequences.
Result<int64_t> InsertUserRows(metastore::Transaction& txn, const UserInfo& user);
// Inserts the database and its default schemas, all owned by `owner_id`. Returns the database id.
Result<int64_t> InsertDatabaseRows(metastore::Transaction& txn, std::string_view name,
                                   int64_t owner_id);

// The outcome of a DDL statement that succeeded.
struct DdlResult {
  // NOTICE messages ("table \"t\" already exists, skipping").
  std::vector<std::string> notices;
  // The id of the object created, 0 otherwise (or when skipped).
  int64_t id = 0;
  // Every relation a DROP removed (with its cascaded dependents): their data goes too.
  std::vector<int64_t> dropped_ids;
};

// Where a statement runs: the acting user and the current database.
struct CatalogActor {
  std::string user;
  std::string database;
};

// A relation named by the user: schema may be empty (then `default_schema` applies).
struct QualifiedName {
  std::string schema;
  std::string name;
};

struct CreateUserOptions {
  std::optional<bool> superuser;
  std::optional<bool> create_db;
  std::optional<bool> create_user;
  std::optional<bool> login;
  // Set: the new password; set to nullopt inside: PASSWORD NULL (remove the password).
  std::optional<std::optional<std::string>> password;
};

enum class GrantTargetType { kDatabase, kSchema, kTable };

class CatalogManager {
 public:
  // Loads the catalog from `store`. REQUIRES: `store` outlives the manager and is bootstrapped.
  static Result<std::unique_ptr<CatalogManager>> Open(metastore::MetaStore& store);

  std::shared_ptr<const CatalogSnapshot> Snapshot() const;
  // Re-reads the whole catalog from the store (after another process changed it). Serialized with
  // the DDL methods.
  Status Reload();

  // Superusers and users with CREATEDB; the creator owns the database.
  Result<DdlResult> CreateDatabase(const CatalogActor& actor, const std::string& name,
                                   bool if_not_exists);
  // Owner or superuser. Refuses (2BP01) while the database holds tables, views, secrets or
  // non-default schemas, unless `cascade`. FailedPrecondition 55006 for the actor's own database.
  Result<DdlResult> DropDatabase(const CatalogActor& actor, const std::string& name, bool if_exists,
                                 bool cascade);

  // In the actor's database. Superusers, the database owner, or CREATE on the database.
  Result<DdlResult> CreateSchema(const CatalogActor& actor, const std::string& name,
                                 bool if_not_exists);
  // Owner or superuser; 2BP01 while it holds objects, unless `cascade`.
  Result<DdlResult> DropSchema(const CatalogActor& actor, const std::string& name, bool if_exists,
                               bool cascade);

  // Creates a table in the actor's database. Superusers, the schema owner, or CREATE on the
  // schema. InvalidArgument 42701 for a duplicate column, 42P16 for a bad primary key.
  Result<DdlResult> CreateTable(const CatalogActor& actor, const QualifiedName& name,
                                std::vector<ColumnInfo> columns, std::vector<int> pk,
                                std::string definition, bool append_only, bool if_not_exists);
  // A view over the relations `depends_on` (ids of tables/views it reads).
  Result<DdlResult> CreateView(const CatalogActor& actor, const QualifiedName& name,
                               std::vector<ColumnInfo> columns, std::string definition,
                               std::vector<int64_t> depends_on, bool if_not_exists);
  // An index on `table` (a table or materialized view) over `columns` (catalog only, see
  // IndexInfo). 42P07 if the name is taken in the schema, 42703 for an unknown column, 42809 for a
  // view. Owner of the table or superuser.
  Result<DdlResult> CreateIndex(const CatalogActor& actor, const QualifiedName& name,
                                const QualifiedName& table, std::vector<std::string> columns,
                                std::string definition, bool if_not_exists);
  Result<DdlResult> DropIndex(const CatalogActor& actor, const QualifiedName& name, bool if_exists);
  // A materialized view: a table (table_type "materialized_view") whose rows are the result of
  // `definition` over `depends_on`, kept current by the state store.
  Result<DdlResult> CreateMaterializedView(const CatalogActor& actor, const QualifiedName& name,
                                           std::vector<ColumnInfo> columns, std::string definition,
                                           std::vector<int64_t> depends_on, bool if_not_exists);
  // Drops a table (`is_view` false) or view. 42809 if the name is the other kind. Owner or
  // superuser; 2BP01 while views depend on it, unless `cascade` (which drops them too).
  // `materialized`: the table must be a materialized view (DROP MATERIALIZED VIEW), and a plain
  // DROP TABLE refuses one.
  Result<DdlResult> DropRelation(const CatalogActor& actor, const QualifiedName& name, bool is_view,
                                 bool if_exists, bool cascade, bool materialized = false);

  // Superusers or users with CREATEROLE-like `can_create_user`; only superusers create superusers.
  Result<DdlResult> CreateUser(const CatalogActor& actor, const std::string& name,
                               const CreateUserOptions& options, bool if_not_exists);
  // Superusers may change anything; a user may change only their own password; users with
  // can_create_user may alter non-superusers' non-superuser attributes.
  Result<DdlResult> AlterUser(const CatalogActor& actor, const std::string& name,
                              const CreateUserOptions& options);
  // 2BP01 while the user owns objects; 55006 for oneself.
  Result<DdlResult> DropUser(const CatalogActor& actor, const std::string& name, bool if_exists);

  Result<DdlResult> CreateSecret(const CatalogActor& actor, const QualifiedName& name,
                                 std::string value, bool if_not_exists);
  Result<DdlResult> DropSecret(const CatalogActor& actor, const QualifiedName& name,
                               bool if_exists);

  // GRANT/REVOKE `actions` ("ALL" expands per target type) on the named objects to/from users.
  // Owner or superuser of each object (or a holder WITH GRANT OPTION). Granting what is held is a
  // no-op; revoking what is not held is a no-op.
  Result<DdlResult> Grant(const CatalogActor& actor, GrantTargetType type,
                          const std::vector<QualifiedName>& objects,
                          const std::vector<std::string>& actions,
                          const std::vector<std::string>& grantees, bool with_grant_option);
  Result<DdlResult> Revoke(const CatalogActor& actor, GrantTargetType type,
                           const std::vector<QualifiedName>& objects,
                           const std::vector<std::string>& actions,
                           const std::vector<std::string>& grantees);

 private:
  explicit CatalogManager(metastore::MetaStore& store) : store_(store) {}

  // Runs `body` in one store transaction over the cached snapshot (reloaded first if the
  // store's catalog_version is not the cached one), bumps the catalog version unless the
  // statement was skipped, and after the commit publishes the cached snapshot with the rows
  // `body` wrote applied to it.
  Result<DdlResult> Write(const std::function<Status(metastore::Transaction&,
                                                     const CatalogSnapshot&, DdlResult&)>& body);

  // Reload. REQUIRES: write_mu_ held.
  Status ReloadLocked();

  metastore::MetaStore& store_;
  // Serializes DDL statements and reloads.
  std::mutex write_mu_;
  mutable std::mutex mu_;
  std::shared_ptr<const CatalogSnapshot> snapshot_;
};

}  // namespace rwmeta::meta
