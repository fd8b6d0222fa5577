// MetaNode: one running meta service. Opens the meta store (creating and migrating the schema on
// the first start, recording a cluster id), opens the state store, and serves the Postgres wire
// protocol (psql, drivers) and the gRPC admin API (risectl).
//
// Concurrency:
//   Start        once, from one thread
//   Stop         any thread, idempotent; waits for connections to close
//   ports        after Start returned OK
#pragma once

#include <chrono>
#include <memory>

#include "common/status.h"
#include "server/node_options.h"

namespace rwmeta::server {

class MetaNode {
 public:
  explicit MetaNode(NodeOptions options);
  ~MetaNode();

  MetaNode(const MetaNode&) = delete;
  MetaNode& operator=(const MetaNode&) = delete;

  // Errors name what failed: the meta store (Unavailable, FailedPrecondition for a schema newer
  // than this binary, DataLoss for a corrupt file), the state store URL (InvalidArgument), a listen
  // address (InvalidArgument, Unavailable when taken), the state store (FailedPrecondition when it
  // belongs to another cluster, or another live meta node holds its lease; Aborted when another
  // node took the lease at the same moment). On error nothing is left running and the lease is
  // given back. Stop releases the lease.
  Status Start();
  void Stop();

  int grpc_port() const;
  int pg_port() const;

 private:
  struct Components;
  NodeOptions options_;
  std::unique_ptr<Components> c_;
};

}  // namespace rwmeta::server
