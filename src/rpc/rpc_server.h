// RpcServer: the meta node's gRPC server for the admin API (proto/meta.proto and, later, the
// backup and hummock services).
//
// Concurrency:
//   Start, AddService    from one thread, before the server serves
//   port, address        any thread, after a successful Start
//   Stop, ~RpcServer     any thread, any number of times (later calls return at once)
//   handlers             gRPC's worker threads, concurrently; the backend must be thread-safe
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rpc/meta_backend.h"
#include "rpc/meta_services.h"

namespace rwmeta::rpc {

class RpcServer {
 public:
  // Serves ClusterService and SystemParamsService over `backend`, which is not owned and must
  // outlive the server.
  explicit RpcServer(MetaBackend* backend);
  // Stops the server (as Stop() with the default grace period) if it is running.
  ~RpcServer();

  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Serves `service` too (e.g. a BackupService implementation). Not owned; must outlive the
  // server. REQUIRES: Start has not been called.
  void AddService(grpc::Service* service);

  // Binds `listen_addr` ("host:port"; port 0 picks a free port, see port()) and starts serving.
  // Errors: InvalidArgument if `listen_addr` is not host:port; Unavailable naming the address if
  // it cannot be bound (port in use, address not local, host not resolvable);
  // FailedPrecondition if Start was already called (successfully or not) or the server stopped.
  // Plain-text HTTP/2, no TLS: bind a loopback or otherwise protected address.
  Status Start(std::string_view listen_addr);

  // The bound port. REQUIRES: Start succeeded.
  int port() const { return port_; }
  // "host:port" as bound, with the real port when 0 was asked for.
  std::string address() const;

  // Stops accepting calls, lets in-flight calls finish for up to `grace`, then cancels the rest
  // and waits for the handlers to return. Idempotent; a no-op if never started.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  ClusterServiceImpl cluster_service_;
  SystemParamsServiceImpl system_params_service_;
  std::vector<grpc::Service*> extra_services_;

  std::mutex mu_;  // Guards server_ and stopped_ for Stop.
  std::unique_ptr<grpc::Server> server_;
  bool started_ = false;
  bool stopped_ = false;
  std::string host_;
  int port_ = 0;
};

}  // namespace rwmeta::rpc
