#include "testing/etcd_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>

namespace rwmeta::testing {

bool EtcdServer::Installed() { return access(kEtcd, X_OK) == 0 && access(kEtcdctl, X_OK) == 0; }

std::string EtcdServer::endpoint() const { return fmt::format("127.0.0.1:{}", client_port_); }

std::string EtcdServer::Url(const std::string& prefix, const std::string& params,
                            bool with_credentials) const {
  std::string credentials =
      options_.auth && with_credentials ? "root:" + options_.root_password + "@" : "";
  return fmt::format("etcd://{}{}{}{}{}", credentials, endpoint(), prefix,
                     params.empty() ? "" : "?", params);
}

std::string EtcdServer::NewPrefix() {
  static std::atomic<int> next{0};
  return fmt::format("/rwmeta-test-{}", next.fetch_add(1));
}

Result<std::string> EtcdServer::Etcdctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kEtcdctl, "--endpoints=" + endpoint(), "--command-timeout=10s"};
  // Until Start has enabled auth, etcd refuses credentials ("authentication is not enabled").
  if (auth_enabled_) {
    argv.push_back("--user=root:" + options_.root_password);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  RWMETA_ASSIGN_OR_RETURN(CommandResult r,
                          RunCommand(argv, {{"ETCDCTL_API", "3"}}, std::chrono::seconds(30)));
  if (r.exit_code != 0) {
    return InternalError(fmt::format("etcdctl {} failed ({}): {}{}", fmt::join(args, " "),
                                     r.exit_code, r.out, r.err));
  }
  return r.out;
}

Status EtcdServer::Launch() {
  const std::string dir = dir_->path();
  const std::string client_url = fmt::format("http://127.0.0.1:{}", client_port_);
  const std::string peer_url = fmt::format("http://127.0.0.1:{}", peer_port_);
  std::vector<std::string> argv = {kEtcd,
                                   "--name=rwmeta-test",
                                   "--data-dir=" + dir + "/data",
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=rwmeta-test=" + peer_url,
                                   "--logger=zap",
                                   "--log-level=warn"};
  if (options_.max_txn_ops > 0) {
    argv.push_back(fmt::format("--max-txn-ops={}", options_.max_txn_ops));
  }
  RWMETA_ASSIGN_OR_RETURN(
      process_, BackgroundProcess::Start(
                    {.argv = argv, .env = {}, .cwd = dir, .log_path = dir + "/etcd.log"}));
  // Accepting connections is not serving: wait until a request goes through (leader elected).
  return process_->WaitUntil(
      [&] {
        if (!PortAccepts(client_port_)) return false;
        std::vector<std::string> health = {kEtcdctl, "--endpoints=" + endpoint(),
                                           "--command-timeout=2s"};
        if (auth_enabled_) health.push_back("--user=root:" + options_.root_password);
        health.push_back("endpoint");
        health.push_back("health");
        auto r = RunCommand(health, {{"ETCDCTL_API", "3"}}, std::chrono::seconds(10));
        return r.ok() && r->exit_code == 0;
      },
      std::chrono::seconds(60), "etcd serving requests");
}

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(EtcdServerOptions options) {
  if (!Installed()) return NotFoundError(fmt::format("etcd is not installed ({})", kEtcd));
  std::unique_ptr<EtcdServer> server(new EtcdServer());
  server->options_ = std::move(options);
  server->dir_ = std::make_unique<TempDir>();
  if (server->dir_->path().empty()) return InternalError("could not create a temporary directory");
  // A port picked free may be taken before etcd binds it: try a few.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->client_port_ = PickFreePort();
    server->peer_port_ = PickFreePort();
    if (server->peer_port_ == server->client_port_) continue;
    last = server->Launch();
    if (last.ok()) break;
    if (server->process_ != nullptr) {
      server->process_->Stop(9, std::chrono::seconds(5)).status().IgnoreError();  // failed anyway
      server->process_.reset();
    }
  }
  RWMETA_RETURN_IF_ERROR(last);
  if (server->options_.auth) {
    RWMETA_RETURN_IF_ERROR(
        server->Etcdctl({"user", "add", "root:" + server->options_.root_password}).status());
    // etcdctl grants root the root role when enabling auth.
    RWMETA_RETURN_IF_ERROR(server->Etcdctl({"auth", "enable"}).status());
    server->auth_enabled_ = true;
  }
  return server;
}

EtcdServer::~EtcdServer() {
  if (process_ != nullptr) process_->Stop(9, std::chrono::seconds(5)).status().IgnoreError();
}

Status EtcdServer::Stop() {
  if (process_ == nullptr) return FailedPreconditionError("etcd is not running");
  RWMETA_RETURN_IF_ERROR(process_->Stop(15, std::chrono::seconds(20)).status());
  process_.reset();
  return Status::Ok();
}

Status EtcdServer::Restart() {
  if (process_ != nullptr) return FailedPreconditionError("etcd is still running");
  return Launch();
}

std::string EtcdServer::Log() const { return process_ ? process_->Log() : ""; }

}  // namespace rwmeta::testing
