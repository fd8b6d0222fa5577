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
#include "testing/subprocess.h"

namespace rwmeta::testing {

class MysqlServer {
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
  ~MysqlServer();
  MysqlServer(const MysqlServer&) = delete;
  MysqlServer& operator=(const MysqlServer&) = delete;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }

  // Creates a fresh, empty database ("rwmeta_test_<n>") on which user() has every privilege, and
  // returns its name. Internal with the client's output on failure.
  Result<std::string> CreateDatabase();

  // Creates the account `name`@'%' with `password` and no privileges.
  Status CreateUser(const std::string& name, const std::string& password);

  // Runs `sql` (statements separated by ';') as root in `database` (empty: none), returning the
  // client's tab-separated output without column names. Internal on failure.
  Result<std::string> Exec(const std::string& database, const std::string& sql);

  // "mysql://user:password@127.0.0.1:port/database" for user() unless other credentials are given.
  std::string Url(const std::string& database) const;
  std::string Url(const std::string& database, const std::string& user,
                  const std::string& password) const;

  // Everything the server logged so far.
  std::string Log() const;

 private:
  MysqlServer() = default;

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
  std::string user_ = "rwmeta";
  std::string password_ = "rwmeta-pw";
};

}  // namespace rwmeta::testing
