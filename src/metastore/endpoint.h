// Turning the meta-store flags that meta-node and risectl share (RisingWave's spelling) into one
// meta-store URL for OpenMetaStore, by --backend (meta-node) or --meta-store-type (risectl):
//
// clang-format off
//   sqlite    --sql-endpoint PATH                                 → sqlite:///abs/PATH?mode=rwc
//   sql       --sql-endpoint URL                                  → URL as given
//   postgres  --sql-endpoint HOST[:PORT] --sql-username U
//             --sql-password P --sql-database D
//             [--sql-url-params Q]                                → postgres://U:P@HOST:PORT/D?Q
//   mysql     (as postgres)                                       → mysql://U:P@HOST:PORT/D?Q
//   etcd      --etcd-endpoints H1:P1,H2:P2
//             [--etcd-auth --etcd-username U --etcd-password P]   → etcd://[U:P@]H1:P1,H2:P2
//   memory | mem                                                  → memory
// clang-format on
// User names, passwords and the database name are percent-encoded (PercentEncode).
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace rwmeta::metastore {

struct MetaStoreEndpoint {
  std::string type;
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

// InvalidArgument naming the missing or malformed flag.
Result<std::string> BuildMetaStoreUrl(const MetaStoreEndpoint& endpoint);

// Percent-encodes everything but unreserved characters (RFC 3986), for user names and passwords.
std::string PercentEncode(const std::string& text);

}  // namespace rwmeta::metastore
