// From risectl's meta-store flags (RisingWave's spelling) to a meta store URL for OpenMetaStore
// (metastore/factory.h).
//
//   --meta-store-type sql       --sql-endpoint is a full URL, used as is: sqlite:///abs.db,
//                               sqlite://rel.db?mode=rwc (made absolute), postgres://...,
//                               mysql://...
//   --meta-store-type sqlite    --sql-endpoint is a file path -> sqlite:///<absolute path>?mode=rwc
//   --meta-store-type postgres  --sql-endpoint host[:port], --sql-username, --sql-password,
//   --meta-store-type mysql     --sql-database, --sql-url-params (appended after '?')
//                               -> postgres://user:password@host[:port]/database[?params]
//   --meta-store-type etcd      --etcd-endpoints h1:p1,h2:p2 [--etcd-auth --etcd-username U
//                               --etcd-password P] -> etcd://[U:P@]h1:p1,h2:p2
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "metastore/endpoint.h"

namespace rwmeta::restore {

// The flags themselves: the same struct meta-node's --backend flags fill.
using MetaStoreFlags = metastore::MetaStoreEndpoint;

// metastore::BuildMetaStoreUrl (shared with meta-node), after the refusals that only matter for a
// restore target: the memory backend and in-memory SQLite (gone when risectl exits), flags of
// another type (etcd flags with a SQL type, --sql-username with `sql`, etcd credentials without
// --etcd-auth). InvalidArgument naming the flag; messages never show a password. Thread-safe.
Result<std::string> MetaStoreUrl(const MetaStoreFlags& flags);

}  // namespace rwmeta::restore
