// OpenMetaStore: the one place that knows every MetaStore backend and picks one by URL.
//
//   memory                         a fresh, empty MemoryMetaStore
//   sqlite:///abs/path.db          SqliteMetaStore on that file, created with its parent directory
//   sqlite:///abs/path.db?mode=rwc   the same (mode=rw: the file must already exist)
//   postgres://U:P@HOST[:PORT]/DB[?libpq params]   PostgresMetaStore (postgresql:// too)
//   mysql://U:P@HOST[:PORT]/DB[?connect_timeout=S]   MysqlMetaStore (MySQL or MariaDB)
//   etcd://[U:P@]H1:P1,H2:P2[/prefix][?params]   EtcdMetaStore (docs/metastore-etcd.md)
//
// The store is returned as opened: the factory does not migrate (callers decide, see
// MetaStore::Inspect and MetaStore::Migrate).
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

// InvalidArgument for a malformed URL, an unknown scheme, a relative sqlite path or an unknown
// query parameter; Unimplemented for backends not built yet; otherwise the backend's open errors
// (sqlite: Internal if the file cannot be created or opened, DataLoss if it is not a database;
// postgres, mysql: Unavailable if the server cannot be reached, Unauthenticated for bad
// credentials, NotFound if the database does not exist).
// Messages quote the URL only through RedactUrl. Thread-safe.
// REQUIRES: `model` outlives the store.
Result<std::unique_ptr<MetaStore>> OpenMetaStore(std::string_view url,
                                                 const Model& model = Model::Get());

}  // namespace rwmeta::metastore
