#include "testing/mysql_server.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <vector>

namespace rwmeta::testing {

namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

bool MysqlServer::Installed() {
  return access(kServer, X_OK) == 0 && access(kInstallDb, X_OK) == 0 && access(kClient, X_OK) == 0;
}

Result<std::unique_ptr<MysqlServer>> MysqlServer::Start() {
  if (!Installed()) return NotFoundError(fmt::format("MariaDB is not installed ({})", kServer));
  std::unique_ptr<MysqlServer> server(new MysqlServer());
  server->dir_ = std::make_unique<TempDir>();
  const std::string dir = server->dir_->path();
  if (dir.empty()) return InternalError("could not create a temporary directory");
  const std::string data = dir + "/data";
  const bool root = geteuid() == 0;
  if (root) {
    // mariadbd drops to nobody, and then creates its socket and pid file in `dir`.
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr || chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return InternalError(fmt::format("cannot hand {} to user nobody", dir));
    }
  }

  std::vector<std::string> install = {
      kInstallDb,          "--no-defaults",
      "--datadir=" + data, "--auth-root-authentication-method=normal",
      "--skip-test-db",    "--skip-name-resolve"};
  if (root) install.push_back("--user=nobody");
  RWMETA_ASSIGN_OR_RETURN(CommandResult init, RunCommand(install, {}, std::chrono::seconds(120)));
  if (init.exit_code != 0) {
    return InternalError(
        fmt::format("mariadb-install-db failed ({}): {}{}", init.exit_code, init.out, init.err));
  }

  // A port picked free may be taken before the server binds it: try a few.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = PickFreePort();
    std::vector<std::string> argv = {
        kServer, "--no-defaults", "--datadir=" + data, "--socket=" + dir + "/mariadbd.sock",
        "--pid-file=" + dir + "/mariadbd.pid", "--port=" + std::to_string(server->port_),
        "--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
        "--innodb-flush-log-at-trx-commit=0",
        // Throwaway data: no fsync, no doublewrite, and tables in
        // the system tablespace (CREATE TABLE makes no file).
        "--innodb-flush-method=nosync", "--innodb-doublewrite=0", "--innodb-file-per-table=0",
        "--innodb-buffer-pool-size=64M", "--max-connections=300"};
    if (root) argv.push_back("--user=nobody");
    RWMETA_ASSIGN_OR_RETURN(
        server->process_,
        BackgroundProcess::Start(
            {.argv = argv, .env = {}, .cwd = dir, .log_path = dir + "/mariadbd.log"}));
    MysqlServer* s = server.get();
    last = server->process_->WaitUntil([&] { return s->Exec("", "SELECT 1").ok(); },
                                       std::chrono::seconds(60), "mariadbd answering");
    if (last.ok()) break;
    server->process_->Stop(9, std::chrono::seconds(5)).status().IgnoreError();  // already failed
  }
  if (!last.ok()) return last;
  RWMETA_RETURN_IF_ERROR(server->CreateUser(server->user_, server->password_));
  return server;
}

MysqlServer::~MysqlServer() {
  if (process_ != nullptr) process_->Stop(15, std::chrono::seconds(20)).status().IgnoreError();
}

Result<std::string> MysqlServer::Exec(const std::string& database, const std::string& sql) {
  std::vector<std::string> argv = {
      kClient,           "--no-defaults", "--socket=" + dir_->path() + "/mariadbd.sock",
      "--user=root",     "--batch",       "--skip-column-names",
      "--execute=" + sql};
  if (!database.empty()) argv.push_back(database);
  RWMETA_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, {}, std::chrono::seconds(60)));
  if (r.exit_code != 0) {
    return InternalError(fmt::format("mariadb {}: {} failed: {}{}", database, sql, r.out, r.err));
  }
  return r.out;
}

Result<std::string> MysqlServer::CreateDatabase() {
  static std::atomic<int> next{0};
  std::string name = fmt::format("rwmeta_test_{}", next.fetch_add(1));
  RWMETA_RETURN_IF_ERROR(Exec("", fmt::format("CREATE DATABASE `{}`; GRANT ALL ON `{}`.* TO {}@'%'",
                                              name, name, Quote(user_)))
                             .status());
  return name;
}

Status MysqlServer::CreateUser(const std::string& name, const std::string& password) {
  return Exec("", fmt::format("CREATE USER {}@'%' IDENTIFIED BY {}", Quote(name), Quote(password)))
      .status();
}

}  // namespace rwmeta::testing
