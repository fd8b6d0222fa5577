// SqlServer: what the throwaway SQL servers for tests (PostgresServer, MysqlServer) have in
// common: a server process on a free loopback port with its directory in a TempDir, a test login
// with every privilege on the databases CreateDatabase makes, and an administrative client.
//
// Threading: the launcher's Start and the destructor from one thread; the other methods are
// thread-safe (each runs its own client).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "testing/subprocess.h"

namespace rwmeta::testing {

class SqlServer {
 public:
  virtual ~SqlServer() = default;
  SqlServer(const SqlServer&) = delete;
  SqlServer& operator=(const SqlServer&) = delete;

  int port() const { return port_; }
  // The test login, and its password.
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }

  // Creates a fresh, empty database ("rwmeta_test_<n>") on which user() has every privilege, and
  // returns its name. Internal with the client's output on failure.
  virtual Result<std::string> CreateDatabase() = 0;

  // Creates a login `name` with `password` and no privileges.
  virtual Status CreateUser(const std::string& name, const std::string& password) = 0;

  // Runs `sql` as the administrator in `database`, returning the client's output (one line per
  // row, no column names). Internal with the client's output on failure.
  virtual Result<std::string> Exec(const std::string& database, const std::string& sql) = 0;

  // "<scheme>://user:password@127.0.0.1:port/database" for user() unless other credentials are
  // given: the meta-store URL of `database`.
  std::string Url(const std::string& database) const { return Url(database, user_, password_); }
  std::string Url(const std::string& database, const std::string& user,
                  const std::string& password) const;

  // Everything the server logged so far.
  std::string Log() const { return process_ ? process_->Log() : ""; }

 protected:
  // `scheme`: the meta-store URL scheme ("postgres", "mysql").
  explicit SqlServer(std::string scheme) : scheme_(std::move(scheme)) {}

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
  std::string user_ = "rwmeta";
  std::string password_ = "rwmeta-pw";

 private:
  std::string scheme_;
};

}  // namespace rwmeta::testing
