// Internal to the catalog manager (catalog_manager.cc, catalog_snapshot.cc,
// catalog_privileges.cc): the error helpers, row accessors and lookups its parts share. Not a
// public API: callers use catalog_manager.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "metastore/meta_store.h"

namespace rwmeta::meta {
// Declared in catalog_manager.h (not included here: that header's implementation includes this).
struct CatalogActor;
struct CatalogSnapshot;
struct DatabaseInfo;
struct DdlResult;
struct SchemaInfo;
struct UserInfo;
}  // namespace rwmeta::meta

namespace rwmeta::meta::catalog_internal {

inline Status WithState(Status s, const char* sqlstate) { return s.WithSqlState(sqlstate); }

// PermissionDenied with SQLSTATE 42501.
inline Status DenyError(const std::string& message) {
  return WithState(PermissionDeniedError(message), "42501");
}

inline int64_t AsInt(const metastore::Value& v) { return std::get<int64_t>(v); }

// DROP of an object that does not exist: with IF EXISTS, OK and the NOTICE `KIND "NAME" does not
// exist, skipping` added to `out`; without, NotFound `KIND "NAME" does not exist` with `sqlstate`.
Status DropMissing(const std::string& kind, const std::string& name, bool if_exists,
                   const char* sqlstate, DdlResult& out);

// CREATE of an object that exists: with IF NOT EXISTS, OK and the NOTICE `KIND "NAME" already
// exists, skipping` added to `out`; without, AlreadyExists `KIND "NAME" already exists` with
// `sqlstate`.
Status CreateExisting(const std::string& kind, const std::string& name, bool if_not_exists,
                      const char* sqlstate, DdlResult& out);

// OK if `user` is a superuser or `owner_id`; else PermissionDenied (42501)
// `must be owner of KIND NAME`.
Status CheckOwner(const UserInfo& user, int64_t owner_id, const std::string& kind,
                  const std::string& name);

// The acting user, or PermissionDenied if it no longer exists.
Result<const UserInfo*> ActorUser(const CatalogSnapshot& snap, const CatalogActor& actor);
// The actor's current database, or NotFound (3D000).
Result<const DatabaseInfo*> ActorDatabase(const CatalogSnapshot& snap, const CatalogActor& actor);
// Schema `name` ("public" if empty) of the database, or NotFound (3F000).
Result<const SchemaInfo*> LookupSchema(const CatalogSnapshot& snap, int64_t database_id,
                                       const std::string& name);

// ---------------------------------------------------------------------------------------------
// Rows to snapshot (catalog_snapshot.cc): the one decoder of each catalog row kind, shared by
// LoadCatalog (every row applied as an insert, parents first) and CatalogManager (the rows a
// statement wrote, applied after its commit), so that the two cannot drift.

// True for the model tables whose rows the snapshot holds (user, object, database, schema,
// table, view, index, secret, object_dependency, user_privilege, catalog_version).
bool IsCatalogTable(std::string_view table);

// Applies a row inserted into or updated in `table` (the whole row, as stored): replaces what
// the snapshot held under its key, indexes included. A row of a table the catalog does not hold
// changes nothing. DataLoss if a JSON column does not decode (the snapshot is then unchanged).
// Kind rows (table, view, ...) take owner and database from their object row, which the store's
// foreign keys put in before them.
Status ApplyCatalogRow(CatalogSnapshot& snap, const metastore::TableSchema& table,
                       const metastore::Row& row);

// Applies the deletion of the row with primary key `key` from `table`, with every row the
// store's ON DELETE CASCADE removes with it (CatalogCascades). Deleting what the snapshot does
// not hold changes nothing.
void ApplyCatalogDelete(CatalogSnapshot& snap, const metastore::TableSchema& table,
                        const metastore::Key& key);

// A cascading foreign key the snapshot follows: deleting a `parent` row deletes the `child` rows
// whose `column` holds its key.
struct CatalogCascade {
  std::string_view child;
  std::string_view column;
  std::string_view parent;
};
// Every cascade ApplyCatalogDelete follows. A test checks it against the model: exactly the
// model's ON DELETE CASCADE foreign keys between catalog tables.
std::vector<CatalogCascade> CatalogCascades();

}  // namespace rwmeta::meta::catalog_internal
