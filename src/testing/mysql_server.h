// MysqlServer: a throwaway MariaDB server for tests, on a free loopback port with its data
// directory, unix socket and log in a TempDir.
//
// When the test runs as root, mariadbd is started with --user=nobody (it drops privileges itself)
// and the temporary directory is handed to nobody. The administrative account root@localhost has
// no password and is reached over the unix socket (the launcher runs the mariadb client that way);
// tests connect over TCP as user() with password(), which has every privilege on the databases
// CreateDatabase makes and nothing else. Durability is relaxed (no flush at commit, no binlog):
// the data is thrown away.
//
// Threading: Start and the destructor from one thread; the other methods are thread-safe (each runs
// its own client).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "testing/sql_server.h"
#include "testing/subprocess.h"

namespace rwmeta::testing {

class MysqlServer : public SqlServer {
 public:
  static constexpr const char* kServer = "/usr/sbin/mariadbd";
  static constexpr const char* kInstallDb = "/usr/bin/mariadb-install-db";
  static constexpr const char* kClient = "/usr/bin/mariadb";

  // Whether the MariaDB server, its installer and its client are installed.
  static bool Installed();

  // Creates the system tables and starts the server, waiting until it answers. NotFound if MariaDB
  // is not installed; Unavailable or DeadlineExceeded (with the server's log) if it does not come
  // up.
  static Result<std::unique_ptr<MysqlServer>> Start();

  // Stops the server (SIGTERM) and removes its directory.
  ~MysqlServer() override;

  // Creates a fresh, empty database ("rwmeta_test_<n>") on which user() has every privilege, and
  // returns its name. Internal with the client's output on failure.
  Result<std::string> CreateDatabase() override;

  // Creates the account `name`@'%' with `password` and no privileges.
  Status CreateUser(const std::string& name, const std::string& password) override;

  // Runs `sql` (statements separated by ';') as root in `database` (empty: none), returning the
  // client's tab-separated output without column names. Internal on failure.
  Result<std::string> Exec(const std::string& database, const std::string& sql) override;

 private:
  MysqlServer() : SqlServer("mysql") {}
};

}  // namespace rwmeta::testing
