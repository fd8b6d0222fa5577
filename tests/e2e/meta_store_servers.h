// The meta-store servers of an end-to-end test binary (PostgreSQL, MariaDB, etcd, etcd with
// authentication) and fresh, empty meta stores on them for the tests of the cross-backend matrix
// and of fencing.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "e2e/busy_cluster.h"
#include "testing/etcd_server.h"
#include "testing/mysql_server.h"
#include "testing/postgres_server.h"

namespace rwmeta::e2e {

enum class Backend { kSqlite, kPostgres, kMysql, kEtcd };
inline constexpr Backend kBackends[] = {Backend::kSqlite, Backend::kPostgres, Backend::kMysql,
                                        Backend::kEtcd};

// "sqlite", "postgres", "mysql", "etcd": the --backend / --meta-store-type spelling.
std::string BackendName(Backend b);

// The servers; a server that failed to start leaves its error instead (errors[label], labels
// "postgres", "mysql", "etcd", "etcd+auth").
struct MetaStoreServers {
  std::unique_ptr<testing::PostgresServer> postgres;
  std::unique_ptr<testing::MysqlServer> mysql;
  std::unique_ptr<testing::EtcdServer> etcd;
  std::unique_ptr<testing::EtcdServer> etcd_auth;  // only where started with_etcd_auth
  std::map<std::string, std::string> errors;

  // Starts PostgreSQL, MariaDB, etcd and (if `with_etcd_auth`) an etcd with authentication, one
  // after the other from this thread: a launched server dies with the thread that started it (so
  // that servers never outlive the test), and launchers running side by side could pick the same
  // free port. Call it from a ::testing::Environment's SetUp.
  void Start(bool with_etcd_auth);

  // A fresh, empty meta store of kind `b`: a new SQLite file in `dir`, a new PostgreSQL or MariaDB
  // database, a new etcd prefix (on the etcd with authentication if `etcd_auth`). Unavailable
  // with the server's start error if its server is missing.
  Result<MetaStoreSpec> FreshStore(Backend b, const std::string& dir, bool etcd_auth = false);
};

}  // namespace rwmeta::e2e
