// PostgresServer: a throwaway PostgreSQL 15 server for tests, on a free loopback port with its data
// directory in a TempDir.
//
// The server runs as an unprivileged user when the test runs as root (PostgreSQL refuses root):
// `nobody` through setpriv, with the temporary directory handed to it. Connections over TCP need a
// password (scram-sha-256); the superuser `postgres` also connects over the unix socket in the
// temporary directory without one, which is how the launcher itself runs psql. fsync is off: the
// data is thrown away.
//
// Start creates one login role, user() with password(), that owns every database CreateDatabase
// makes. Tests that need other roles use CreateUser.
//
// Threading: Start and the destructor from one thread; the other methods are thread-safe (each runs
// its own psql).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "testing/sql_server.h"
#include "testing/subprocess.h"

namespace rwmeta::testing {

class PostgresServer : public SqlServer {
 public:
  // The directory holding initdb, postgres and psql (Debian's PostgreSQL 15).
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  // Whether the PostgreSQL binaries are installed.
  static bool Installed();

  // Runs initdb and starts the server, waiting until it accepts connections. NotFound if the
  // binaries are not installed; Unavailable or DeadlineExceeded (with the server's log) if it does
  // not come up.
  static Result<std::unique_ptr<PostgresServer>> Start();

  // Stops the server (SIGTERM, fast shutdown) and removes its directory.
  ~PostgresServer() override;

  // Creates a fresh, empty database owned by user() with a unique name ("rwmeta_test_<n>") and
  // returns the name. Internal with psql's output on failure.
  Result<std::string> CreateDatabase() override;

  // Creates a login role `name` with `password` (no other privileges).
  Status CreateUser(const std::string& name, const std::string& password) override;

  // Runs `sql` (one or more statements) as the superuser in `database`, returning psql's stdout
  // (unaligned, tuples only). Internal with psql's output on failure.
  Result<std::string> Exec(const std::string& database, const std::string& sql) override;

 private:
  PostgresServer() : SqlServer("postgres") {}
};

}  // namespace rwmeta::testing
