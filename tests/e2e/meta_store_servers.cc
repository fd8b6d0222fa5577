#include "e2e/meta_store_servers.h"

#include <fmt/format.h>

#include <atomic>

namespace rwmeta::e2e {

std::string BackendName(Backend b) {
  switch (b) {
    case Backend::kSqlite:
      return "sqlite";
    case Backend::kPostgres:
      return "postgres";
    case Backend::kMysql:
      return "mysql";
    case Backend::kEtcd:
      return "etcd";
  }
  return "?";
}

void MetaStoreServers::Start(bool with_etcd_auth) {
  auto keep = [this](auto result, auto& slot, const std::string& label) {
    if (result.ok()) {
      slot = std::move(result).value();
    } else {
      errors[label] = result.status().ToString();
    }
  };
  keep(testing::PostgresServer::Start(), postgres, "postgres");
  keep(testing::MysqlServer::Start(), mysql, "mysql");
  keep(testing::EtcdServer::Start(), etcd, "etcd");
  if (with_etcd_auth) keep(testing::EtcdServer::Start({.auth = true}), etcd_auth, "etcd+auth");
}

Result<MetaStoreSpec> MetaStoreServers::FreshStore(Backend b, const std::string& dir,
                                                   bool etcd_auth) {
  static std::atomic<int> next{0};
  MetaStoreSpec s;
  s.label = BackendName(b);
  s.endpoint.type = BackendName(b);
  // A SQL server's new database and the credentials to reach it.
  auto on_sql_server = [&](auto* server, const std::string& label) -> Result<MetaStoreSpec> {
    if (server == nullptr) return UnavailableError(errors[label]);
    RWMETA_ASSIGN_OR_RETURN(s.endpoint.sql_database, server->CreateDatabase());
    s.endpoint.sql_endpoint = fmt::format("127.0.0.1:{}", server->port());
    s.endpoint.sql_username = server->user();
    s.endpoint.sql_password = server->password();
    return s;
  };
  switch (b) {
    case Backend::kSqlite:
      s.endpoint.sql_endpoint = fmt::format("{}/meta-{}.db", dir, next++);
      return s;
    case Backend::kPostgres:
      return on_sql_server(postgres.get(), "postgres");
    case Backend::kMysql:
      return on_sql_server(mysql.get(), "mysql");
    case Backend::kEtcd: {
      testing::EtcdServer* server = etcd_auth ? this->etcd_auth.get() : etcd.get();
      if (server == nullptr) return UnavailableError(errors[etcd_auth ? "etcd+auth" : "etcd"]);
      // A prefix of its own: --etcd-endpoints host:port/prefix (docs/metastore-etcd.md).
      s.endpoint.etcd_endpoints = server->endpoint() + testing::EtcdServer::NewPrefix();
      if (etcd_auth) {
        s.label = "etcd+auth";
        s.endpoint.etcd_auth = true;
        s.endpoint.etcd_username = "root";
        s.endpoint.etcd_password = server->root_password();
      }
      return s;
    }
  }
  return InternalError("unknown backend");
}

}  // namespace rwmeta::e2e
