#include "testing/postgres_server.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <vector>

namespace rwmeta::testing {

namespace {

constexpr const char* kSuperuser = "postgres";

std::string Bin(const char* name) { return std::string(PostgresServer::kBinDir) + "/" + name; }

// The argv prefix that runs a program as `nobody` when we are root (PostgreSQL refuses to run as
// root); empty otherwise.
std::vector<std::string> Unprivileged() {
  if (geteuid() != 0) return {};
  return {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"};
}

// Hands `path` (recursively) to `nobody` when we are root, so the server can write there.
Status HandToServerUser(const std::string& path) {
  if (geteuid() != 0) return Status::Ok();
  const passwd* pw = getpwnam("nobody");
  if (pw == nullptr) return InternalError("no user 'nobody' to run PostgreSQL as");
  std::error_code ec;
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return InternalError(fmt::format("chown {} to nobody failed", path));
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
    if (chown(entry.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return InternalError(fmt::format("chown {} to nobody failed", entry.path().string()));
    }
  }
  return Status::Ok();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace

bool PostgresServer::Installed() {
  return access(Bin("initdb").c_str(), X_OK) == 0 && access(Bin("postgres").c_str(), X_OK) == 0 &&
         access(Bin("psql").c_str(), X_OK) == 0;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  if (!Installed()) {
    return NotFoundError(fmt::format("PostgreSQL 15 is not installed in {}", kBinDir));
  }
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->dir_ = std::make_unique<TempDir>();
  const std::string dir = server->dir_->path();
  if (dir.empty()) return InternalError("could not create a temporary directory");
  const std::string data = dir + "/data";
  const std::string pwfile = dir + "/superuser-password";
  {
    std::ofstream out(pwfile);
    out << "postgres-pw\n";
  }
  RWMETA_RETURN_IF_ERROR(HandToServerUser(dir));

  std::vector<std::string> initdb = Unprivileged();
  for (const std::string& arg :
       {Bin("initdb"), "-D" + data, std::string("-U") + kSuperuser, "--pwfile=" + pwfile,
        std::string("--auth-local=trust"), std::string("--auth-host=scram-sha-256"),
        std::string("-EUTF8"), std::string("--locale=C"), std::string("--no-sync"),
        std::string("--no-instructions")}) {
    initdb.push_back(arg);
  }
  RWMETA_ASSIGN_OR_RETURN(CommandResult init, RunCommand(initdb, {}, std::chrono::seconds(120)));
  if (init.exit_code != 0) {
    return InternalError(
        fmt::format("initdb failed ({}): {}{}", init.exit_code, init.out, init.err));
  }

  // A port picked free may be taken before the server binds it: try a few.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = PickFreePort();
    std::vector<std::string> argv = Unprivileged();
    for (const std::string& arg :
         {Bin("postgres"), "-D" + data, "-p" + std::to_string(server->port_), "-k" + dir,
          std::string("-clisten_addresses=127.0.0.1"), std::string("-cfsync=off"),
          std::string("-csynchronous_commit=off"), std::string("-cfull_page_writes=off"),
          std::string("-cmax_connections=200"), std::string("-cshared_buffers=32MB")}) {
      argv.push_back(arg);
    }
    RWMETA_ASSIGN_OR_RETURN(
        server->process_,
        BackgroundProcess::Start(
            {.argv = argv, .env = {}, .cwd = dir, .log_path = dir + "/postgres.log"}));
    PostgresServer* s = server.get();
    last = server->process_->WaitUntil(
        [&] {
          auto ready = RunCommand({Bin("pg_isready"), "-q", "-h", dir, "-p",
                                   std::to_string(s->port_), "-U", kSuperuser},
                                  {}, std::chrono::seconds(10));
          return ready.ok() && ready->exit_code == 0;
        },
        std::chrono::seconds(60), "postgres accepting connections");
    if (last.ok()) break;
    server->process_->Stop(9, std::chrono::seconds(5)).status().IgnoreError();  // already failed
  }
  if (!last.ok()) return last;
  RWMETA_RETURN_IF_ERROR(server->CreateUser(server->user_, server->password_));
  return server;
}

PostgresServer::~PostgresServer() {
  // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
  if (process_ != nullptr) process_->Stop(2, std::chrono::seconds(10)).status().IgnoreError();
}

Result<std::string> PostgresServer::Exec(const std::string& database, const std::string& sql) {
  RWMETA_ASSIGN_OR_RETURN(
      CommandResult r,
      RunCommand({Bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_->path(),
                  "-p", std::to_string(port_), "-U", kSuperuser, "-d", database, "-c", sql},
                 {}, std::chrono::seconds(60)));
  if (r.exit_code != 0) {
    return InternalError(fmt::format("psql {}: {} failed: {}{}", database, sql, r.out, r.err));
  }
  return r.out;
}

Result<std::string> PostgresServer::CreateDatabase() {
  static std::atomic<int> next{0};
  std::string name = fmt::format("rwmeta_test_{}", next.fetch_add(1));
  RWMETA_RETURN_IF_ERROR(
      Exec("postgres",
           // FILE_COPY: with fsync off, copying template1's files beats replaying it through WAL.
           fmt::format("CREATE DATABASE {} OWNER \"{}\" STRATEGY FILE_COPY", name, user_))
          .status());
  return name;
}

Status PostgresServer::CreateUser(const std::string& name, const std::string& password) {
  return Exec("postgres",
              fmt::format("CREATE ROLE \"{}\" LOGIN PASSWORD {}", name, Quote(password)))
      .status();
}

}  // namespace rwmeta::testing
