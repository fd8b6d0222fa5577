// EtcdClient: a minimal etcd v3 gRPC client (proto/etcd_rpc.proto) for the etcd meta store. It
// knows a list of endpoints and fails over between them, authenticates with a user name and
// password when asked, and turns etcd's gRPC errors into rwmeta Status codes. Plain-text gRPC only
// (no TLS).
//
// Fail-over: calls go to the current endpoint; on Unavailable they move to the next one and the
// call is tried there, each endpoint at most once per call. Reads (Range, Status, Authenticate)
// move on any Unavailable. Writes (Txn, Compact) move only when the request provably never reached
// a server (connection refused, no leader); otherwise the outcome is unknown and the call returns
// Unavailable with kOutcomeUnknown in its message, so that nobody applies it twice blindly.
//
// Authentication: with credentials, the first call (and Connect) obtains a token with
// Auth.Authenticate and sends it as the "token" metadata on every call; when etcd says the token
// is invalid (expired, or the member restarted) the client authenticates again and retries once.
//
// Error mapping (messages name the endpoint; etcd's own text follows a colon):
//   connection refused / no leader on every endpoint   Unavailable
//   deadline passed                                     Unavailable ("timed out")
//   wrong user name or password                         Unauthenticated
//   auth enabled on etcd, no credentials given          Unauthenticated ("requires authentication")
//   credentials given, auth not enabled on etcd         FailedPrecondition ("not enabled")
//   permission denied                                   PermissionDenied
//   revision compacted                                  OutOfRange with "compacted" (callers map
//   it) too many operations in one Txn, request too large, database space exceeded
//   ResourceExhausted duplicate key in one Txn, other invalid requests    InvalidArgument anything
//   else                                       Internal
//
// Thread-safe: one client serves every transaction of a store concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/etcd_rpc.grpc.pb.h"

namespace rwmeta::metastore {

// In the message of an Unavailable write whose request may or may not have been applied.
inline constexpr std::string_view kOutcomeUnknown = "outcome unknown";

struct EtcdClientOptions {
  // "host:port" each; at least one.
  std::vector<std::string> endpoints;
  // Empty user: no authentication.
  std::string username;
  std::string password;
  // Deadline of each gRPC call.
  int64_t timeout_ms = 5000;
  // Tests only (fault injection): asked after each write etcd applied; when it returns true the
  // answer is dropped as if the connection broke (DEADLINE_EXCEEDED), so that callers see a write
  // whose outcome is unknown although it happened.
  std::function<bool()> drop_write_response_for_testing;
};

class EtcdClient {
 public:
  // Creates channels (no I/O). InvalidArgument if no endpoint is given.
  static Result<std::unique_ptr<EtcdClient>> Create(EtcdClientOptions options);

  // Contacts the cluster: authenticates when credentials were given, then counts `probe_key` (a
  // key the user may read), so that an unreachable cluster, bad credentials or an auth mismatch
  // show up here. Errors as mapped above.
  Status Connect(const std::string& probe_key);

  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  Result<etcdserverpb::CompactionResponse> Compact(const etcdserverpb::CompactionRequest& request);
  Result<etcdserverpb::StatusResponse> MemberStatus();

  // "h1:p1,h2:p2".
  std::string DisplayEndpoints() const;

 private:
  explicit EtcdClient(EtcdClientOptions options);

  enum class CallKind { kRead, kWrite };

  // Runs `call(stub, context)` with fail-over and re-authentication (see the class comment).
  template <typename Response, typename Call>
  Result<Response> Invoke(const char* method, CallKind kind, const Call& call);

  // Obtains a token from endpoint `index`. Called with auth_mu_ held.
  Status AuthenticateLocked(size_t index);
  Status MapError(const grpc::Status& status, const std::string& endpoint,
                  const char* method) const;

  // One gRPC channel to one endpoint and its stubs. Replaced, never changed, after a connection
  // failure: a fresh channel connects at once instead of waiting out the old one's backoff.
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  };
  std::shared_ptr<Connection> NewConnection(const std::string& address) const;
  std::shared_ptr<Connection> ConnectionTo(size_t index);
  // Replaces endpoint `index`'s connection if it is still `failed`.
  void Reconnect(size_t index, const std::shared_ptr<Connection>& failed);

  const EtcdClientOptions options_;
  std::mutex connections_mu_;
  // Parallel to options_.endpoints; guarded by connections_mu_.
  std::vector<std::shared_ptr<Connection>> connections_;
  // Index of the endpoint calls go to first.
  std::atomic<size_t> current_{0};
  std::mutex auth_mu_;
  std::string token_;  // guarded by auth_mu_; empty: not authenticated yet
};

}  // namespace rwmeta::metastore
