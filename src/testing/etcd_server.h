// EtcdServer: a throwaway single-member etcd (Debian's etcd-server, v3.4) for tests, on free
// loopback client and peer ports with its data directory in a TempDir.
//
// With `auth`, Start creates the user root with root_password() (etcdctl user add) and enables
// authentication (etcdctl auth enable): every request then needs root's credentials.
//
// Tests share one server per binary and keep apart by key prefix (NewPrefix).
//
// Threading: Start, Stop, Restart and the destructor from one thread; the other methods are
// thread-safe (each runs its own etcdctl).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "testing/subprocess.h"

namespace rwmeta::testing {

struct EtcdServerOptions {
  // Create root with `root_password` and enable authentication.
  bool auth = false;
  std::string root_password = "rwmeta-etcd-pw";
  // etcd's --max-txn-ops; 0 keeps etcd's default (128).
  int max_txn_ops = 0;
};

class EtcdServer {
 public:
  static constexpr const char* kEtcd = "/usr/bin/etcd";
  static constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

  // Whether etcd and etcdctl are installed.
  static bool Installed();

  // Starts the server and waits until it serves requests (and, with auth, until auth is on).
  // NotFound if etcd is not installed; Unavailable or DeadlineExceeded (with the server's log) if
  // it does not come up; Internal with etcdctl's output if the auth setup fails.
  static Result<std::unique_ptr<EtcdServer>> Start(EtcdServerOptions options = {});

  // Kills the server and removes its directory.
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  int client_port() const { return client_port_; }
  // "127.0.0.1:<client port>".
  std::string endpoint() const;
  bool auth() const { return options_.auth; }
  const std::string& root_password() const { return options_.root_password; }

  // "etcd://[root:<password>@]127.0.0.1:<port><prefix>[?<params>]"; credentials only when the
  // server has auth and `with_credentials`.
  std::string Url(const std::string& prefix, const std::string& params = "",
                  bool with_credentials = true) const;

  // A prefix no other caller of this process got: "/rwmeta-test-<n>".
  static std::string NewPrefix();

  // Runs etcdctl against this server (as root when it has auth) and returns its stdout. Internal
  // with its output when it fails.
  Result<std::string> Etcdctl(const std::vector<std::string>& args) const;

  // Stops the server (SIGTERM) keeping its data; Restart starts it again on the same ports.
  Status Stop();
  Status Restart();

  // Everything the server logged so far.
  std::string Log() const;

 private:
  EtcdServer() = default;
  Status Launch();

  EtcdServerOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int client_port_ = 0;
  int peer_port_ = 0;
  // Set once Start has enabled authentication: etcdctl then passes root's credentials.
  bool auth_enabled_ = false;
};

}  // namespace rwmeta::testing
