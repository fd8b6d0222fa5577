#include "server/node_options.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

#include "common/url.h"
#include "metastore/endpoint.h"

namespace rwmeta::server {

Config MakeNodeConfig() {
  using O = Config::Option;
  return Config({
      O{"meta.listen_addr", "--listen-addr", "RW_LISTEN_ADDR", kDefaultListenAddr,
        "Address of the gRPC admin API (risectl talks to it)."},
      O{"meta.pg_listen_addr", "--pg-listen-addr", "RW_PG_LISTEN_ADDR", kDefaultPgListenAddr,
        "Address of the PostgreSQL wire protocol endpoint (psql talks to it)."},
      O{"meta.backend", "--backend", "RW_BACKEND", "sqlite",
        "Meta store: sqlite, sql, postgres, mysql, etcd or memory."},
      O{"meta.sql_endpoint", "--sql-endpoint", "RW_SQL_ENDPOINT", std::nullopt,
        "sqlite: the database file (default ./rwmeta-data/meta.db); sql: a full URL "
        "(sqlite:///x.db, postgres://u:p@h:5432/db, mysql://u:p@h:3306/db); postgres/mysql: "
        "host:port."},
      O{"meta.sql_username", "--sql-username", "RW_SQL_USERNAME", "", "postgres/mysql user."},
      O{"meta.sql_password", "--sql-password", "RW_SQL_PASSWORD", "", "postgres/mysql password."},
      O{"meta.sql_database", "--sql-database", "RW_SQL_DATABASE", "", "postgres/mysql database."},
      O{"meta.sql_url_params", "--sql-url-params", "RW_SQL_URL_PARAMS", std::nullopt,
        "Extra URL parameters for postgres/mysql, e.g. sslmode=disable."},
      O{"meta.etcd_endpoints", "--etcd-endpoints", "RW_ETCD_ENDPOINTS", std::nullopt,
        "etcd endpoints, host:port[,host:port...]."},
      O{"meta.etcd_auth", "--etcd-auth", "RW_ETCD_AUTH", "false", "Authenticate to etcd."},
      O{"meta.etcd_username", "--etcd-username", "RW_ETCD_USERNAME", "", "etcd user."},
      O{"meta.etcd_password", "--etcd-password", "RW_ETCD_PASSWORD", "", "etcd password."},
      O{"system.state_store", "--state-store", "RW_STATE_STORE", std::nullopt,
        "State store URL, hummock+<object store url> (default "
        "hummock+fs://<cwd>/rwmeta-data/state). "
        "Fixed at the first start."},
      O{"system.data_directory", "--data-directory", "RW_DATA_DIRECTORY", kDefaultDataDirectory,
        "Directory of the state store's objects inside the state store. Fixed at the first start."},
      O{"system.backup_storage_url", "--backup-storage-url", "RW_BACKUP_STORAGE_URL", std::nullopt,
        "Where meta snapshots go (first start only; later use ALTER SYSTEM). Default: the state "
        "store without hummock+."},
      O{"system.backup_storage_directory", "--backup-storage-directory",
        "RW_BACKUP_STORAGE_DIRECTORY", std::nullopt,
        "Directory of meta snapshots (first start only). Default: <data_directory>/backup."},
      O{"meta.force_state_store_lease", "--force-state-store-lease", "RW_FORCE_STATE_STORE_LEASE",
        "false",
        "Take the state store lease from another meta node at once (only if that node is really "
        "gone: disaster recovery)."},
      O{"meta.state_store_lease_ttl_ms", "--state-store-lease-ttl-ms",
        "RW_STATE_STORE_LEASE_TTL_MS", "6000",
        "Lifetime of the state store lease; a node killed without releasing it blocks a "
        "restart this long."},
      O{"log.level", "--log-level", "RW_LOG_LEVEL", "info",
        "trace, debug, info, warn, error or off."},
  });
}

namespace {

std::string Absolute(const std::string& path, const std::string& cwd) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(cwd) / p;
  return p.lexically_normal().string();
}

}  // namespace

Result<NodeOptions> ResolveNodeOptions(const Config& config, const std::string& cwd) {
  auto get = [&](const char* key) { return config.Get(key).value_or(""); };
  NodeOptions o;
  o.listen_addr = get("meta.listen_addr");
  o.pg_listen_addr = get("meta.pg_listen_addr");
  o.log_level = get("log.level");
  const std::string data_root = Absolute(kEmbeddedDataRoot, cwd);

  metastore::MetaStoreEndpoint endpoint;
  endpoint.type = get("meta.backend");
  endpoint.sql_endpoint = get("meta.sql_endpoint");
  if (endpoint.type == "sqlite") {
    endpoint.sql_endpoint = endpoint.sql_endpoint.empty()
                                ? data_root + "/meta.db"
                                : (endpoint.sql_endpoint.rfind("sqlite://", 0) == 0
                                       ? endpoint.sql_endpoint
                                       : Absolute(endpoint.sql_endpoint, cwd));
  }
  endpoint.sql_username = get("meta.sql_username");
  endpoint.sql_password = get("meta.sql_password");
  endpoint.sql_database = get("meta.sql_database");
  endpoint.sql_url_params = config.Get("meta.sql_url_params");
  endpoint.etcd_endpoints = get("meta.etcd_endpoints");
  const std::string auth = get("meta.etcd_auth");
  if (auth != "true" && auth != "false") {
    return InvalidArgumentError(fmt::format("--etcd-auth must be true or false, not '{}'", auth));
  }
  endpoint.etcd_auth = auth == "true";
  endpoint.etcd_username = get("meta.etcd_username");
  endpoint.etcd_password = get("meta.etcd_password");
  RWMETA_ASSIGN_OR_RETURN(o.meta_store_url, metastore::BuildMetaStoreUrl(endpoint));

  o.state_store = config.Get("system.state_store")
                      .value_or(std::string(kHummockPrefix) + "fs://" + data_root + "/state");
  if (!o.state_store.starts_with(kHummockPrefix)) {
    return InvalidArgumentError(fmt::format(
        "--state-store must start with hummock+ (e.g. hummock+fs:///var/lib/rwmeta/state, "
        "hummock+s3://bucket), got '{}'",
        o.state_store));
  }
  o.data_directory = get("system.data_directory");
  if (o.data_directory.empty()) return InvalidArgumentError("--data-directory cannot be empty");
  o.backup_storage_url = config.Get("system.backup_storage_url");
  o.backup_storage_directory = config.Get("system.backup_storage_directory");
  const std::string force = get("meta.force_state_store_lease");
  if (force != "true" && force != "false") {
    return InvalidArgumentError(
        fmt::format("--force-state-store-lease must be true or false, not '{}'", force));
  }
  o.force_state_store_lease = force == "true";
  const std::string ttl = get("meta.state_store_lease_ttl_ms");
  int64_t ttl_ms = 0;
  auto [end, ec] = std::from_chars(ttl.data(), ttl.data() + ttl.size(), ttl_ms);
  if (ec != std::errc() || end != ttl.data() + ttl.size() || ttl_ms <= 0) {
    return InvalidArgumentError(fmt::format(
        "--state-store-lease-ttl-ms must be a positive number of milliseconds, not '{}'", ttl));
  }
  o.state_store_lease_ttl_ms = ttl_ms;
  return o;
}

}  // namespace rwmeta::server
