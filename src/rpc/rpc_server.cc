#include "rpc/rpc_server.h"

#include <grpc/grpc.h>

#include "rpc/address.h"

namespace rwmeta::rpc {

RpcServer::RpcServer(MetaBackend* backend)
    : cluster_service_(backend), system_params_service_(backend) {}

RpcServer::~RpcServer() { Stop(); }

void RpcServer::AddService(grpc::Service* service) { extra_services_.push_back(service); }

Status RpcServer::Start(std::string_view listen_addr) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return FailedPreconditionError("rpc server already started");
  started_ = true;
  RWMETA_ASSIGN_OR_RETURN(HostPort addr, ParseListenAddress(listen_addr));

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which would let a second meta node "bind" a port that is
  // already serving and split the traffic with it. One address, one server.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int selected_port = 0;
  builder.AddListeningPort(addr.ToString(), grpc::InsecureServerCredentials(), &selected_port);
  builder.RegisterService(&cluster_service_);
  builder.RegisterService(&system_params_service_);
  for (grpc::Service* service : extra_services_) builder.RegisterService(service);

  // BuildAndStart returns null (and gRPC logs why) when no port could be bound.
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    if (server != nullptr) server->Shutdown();
    return UnavailableError("cannot listen on " + addr.ToString() +
                            ": address in use, not local, or not resolvable");
  }
  server_ = std::move(server);
  host_ = addr.host;
  port_ = selected_port;
  return Status::Ok();
}

std::string RpcServer::address() const { return host_ + ":" + std::to_string(port_); }

void RpcServer::Stop(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
}

}  // namespace rwmeta::rpc
