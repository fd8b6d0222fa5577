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

namespace rwmeta::restore {

struct MetaStoreFlags {
  std::string type;  // sql, sqlite, postgres, mysql, etcd
  std::string sql_endpoint;
  std::string sql_username;
  std::string sql_password;
  std::string sql_database;
  std::optional<std::string> sql_url_params;
  std::string etcd_endpoints;
  bool etcd_auth = false;
  std::string etcd_username;
  std::string etcd_password;
};

// The URL, or InvalidArgument naming the flag that is missing, malformed or does not fit the type
// (an in-memory SQLite database, etcd credentials without --etcd-auth, ...). Messages never show
// a password. Thread-safe.
Result<std::string> MetaStoreUrl(const MetaStoreFlags& flags);

// `text` with every byte outside RFC 3986's unreserved set percent-encoded (for user names and
// passwords inside URLs).
std::string PercentEncode(std::string_view text);

}  // namespace rwmeta::restore
