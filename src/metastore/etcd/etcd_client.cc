#include "metastore/etcd/etcd_client.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

namespace rwmeta::metastore {

namespace {

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// Whether an Unavailable error proves that the request never reached an etcd member that could
// apply it: then a write may safely be sent to another endpoint.
bool NeverSent(const grpc::Status& status) {
  const std::string& m = status.error_message();
  return Contains(m, "failed to connect") || Contains(m, "Connection refused") ||
         Contains(m, "connections to all backends failing") || Contains(m, "no leader") ||
         Contains(m, "DNS resolution failed");
}

}  // namespace

EtcdClient::EtcdClient(EtcdClientOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(EtcdClientOptions options) {
  if (options.endpoints.empty()) return InvalidArgumentError("etcd: no endpoint given");
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(options)));
  for (const std::string& address : client->options_.endpoints) {
    client->connections_.push_back(client->NewConnection(address));
  }
  return client;
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::NewConnection(
    const std::string& address) const {
  grpc::ChannelArguments args;
  // Range pages are bounded by a key count, not bytes; rows may be large.
  args.SetMaxReceiveMessageSize(-1);
  // A channel of its own: a replacement must not share the failed channel's connection state.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto c = std::make_shared<Connection>();
  c->channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  c->kv = etcdserverpb::KV::NewStub(c->channel);
  c->auth = etcdserverpb::Auth::NewStub(c->channel);
  c->maintenance = etcdserverpb::Maintenance::NewStub(c->channel);
  return c;
}

std::shared_ptr<EtcdClient::Connection> EtcdClient::ConnectionTo(size_t index) {
  std::lock_guard<std::mutex> lock(connections_mu_);
  return connections_[index];
}

void EtcdClient::Reconnect(size_t index, const std::shared_ptr<Connection>& failed) {
  std::lock_guard<std::mutex> lock(connections_mu_);
  if (connections_[index] == failed) {
    connections_[index] = NewConnection(options_.endpoints[index]);
  }
}

std::string EtcdClient::DisplayEndpoints() const {
  return fmt::format("{}", fmt::join(options_.endpoints, ","));
}

Status EtcdClient::MapError(const grpc::Status& status, const std::string& endpoint,
                            const char* method) const {
  const std::string& m = status.error_message();
  const std::string where = fmt::format("etcd {} {}", endpoint, method);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return UnavailableError(fmt::format("{}: unreachable: {}", where, m));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return UnavailableError(
          fmt::format("{}: timed out after {} ms: {}", where, options_.timeout_ms, m));
    case grpc::StatusCode::INVALID_ARGUMENT:
      if (Contains(m, "authentication failed")) {
        return UnauthenticatedError(
            fmt::format("{}: authentication failed for user '{}': wrong user name or password ({})",
                        where, options_.username, m));
      }
      if (Contains(m, "user name is empty")) {
        return UnauthenticatedError(fmt::format(
            "{}: etcd requires authentication (its auth is enabled); give --etcd-auth with "
            "--etcd-username and --etcd-password ({})",
            where, m));
      }
      if (Contains(m, "too many operations") || Contains(m, "too large")) {
        return ResourceExhaustedError(fmt::format("{}: {}", where, m));
      }
      return InvalidArgumentError(fmt::format("{}: {}", where, m));
    case grpc::StatusCode::FAILED_PRECONDITION:
      if (Contains(m, "authentication is not enabled")) {
        return FailedPreconditionError(fmt::format(
            "{}: credentials were given (--etcd-auth) but authentication is not enabled on this "
            "etcd; enable it (etcdctl auth enable) or drop --etcd-auth ({})",
            where, m));
      }
      return FailedPreconditionError(fmt::format("{}: {}", where, m));
    case grpc::StatusCode::UNAUTHENTICATED:
      return UnauthenticatedError(fmt::format("{}: {}", where, m));
    case grpc::StatusCode::PERMISSION_DENIED:
      return PermissionDeniedError(
          fmt::format("{}: user '{}' may not do this: {}", where, options_.username, m));
    case grpc::StatusCode::OUT_OF_RANGE:
      return OutOfRangeError(fmt::format("{}: {}", where, m));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return ResourceExhaustedError(fmt::format("{}: {}", where, m));
    default:
      return InternalError(
          fmt::format("{}: gRPC error {}: {}", where, static_cast<int>(status.error_code()), m));
  }
}

Status EtcdClient::AuthenticateLocked(size_t index) {
  const std::string& address = options_.endpoints[index];
  std::shared_ptr<Connection> connection = ConnectionTo(index);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options_.timeout_ms));
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options_.username);
  request.set_password(options_.password);
  etcdserverpb::AuthenticateResponse response;
  grpc::Status st = connection->auth->Authenticate(&context, request, &response);
  if (!st.ok()) {
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE) Reconnect(index, connection);
    return MapError(st, address, "Authenticate");
  }
  token_ = response.token();
  return Status::Ok();
}

template <typename Response, typename Call>
Result<Response> EtcdClient::Invoke(const char* method, CallKind kind, const Call& call) {
  const size_t n = options_.endpoints.size();
  const size_t start = current_.load();
  const bool with_auth = !options_.username.empty();
  Status last;
  std::vector<std::string> failures;  // one per endpoint tried
  bool reauthenticated = false;
  size_t attempt = 0;
  while (attempt < n) {
    const size_t index = (start + attempt) % n;
    const std::string& address = options_.endpoints[index];
    std::string token;
    if (with_auth) {
      std::lock_guard<std::mutex> lock(auth_mu_);
      if (token_.empty()) {
        Status s = AuthenticateLocked(index);
        if (IsUnavailable(s)) {
          last = s;
          failures.push_back(s.message());
          ++attempt;
          continue;
        }
        RWMETA_RETURN_IF_ERROR(s);
      }
      token = token_;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(options_.timeout_ms));
    if (!token.empty()) context.AddMetadata("token", token);
    Response response;
    std::shared_ptr<Connection> connection = ConnectionTo(index);
    grpc::Status st = call(*connection, &context, &response);
    if (st.ok() && kind == CallKind::kWrite && options_.drop_write_response_for_testing &&
        options_.drop_write_response_for_testing()) {
      st = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "injected: the answer was lost");
    }
    if (st.ok()) {
      current_.store(index);
      return response;
    }
    if (with_auth && !reauthenticated && st.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // The token expired or the member forgot it: get a new one and retry on the same endpoint.
      reauthenticated = true;
      std::lock_guard<std::mutex> lock(auth_mu_);
      if (token_ == token) token_.clear();
      continue;
    }
    const bool unreachable = st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!unreachable) return MapError(st, address, method);
    Reconnect(index, connection);
    if (kind == CallKind::kWrite && !NeverSent(st)) {
      return MapError(st, address, method)
          .WithContext(
              fmt::format("{} (the request may or may not have been applied)", kOutcomeUnknown));
    }
    last = MapError(st, address, method);
    failures.push_back(last.message());
    ++attempt;
  }
  if (n == 1) return last;
  return UnavailableError(fmt::format("etcd {}: no endpoint of {} answered ({})", method,
                                      DisplayEndpoints(), fmt::join(failures, "; ")));
}

Result<etcdserverpb::RangeResponse> EtcdClient::Range(const etcdserverpb::RangeRequest& request) {
  return Invoke<etcdserverpb::RangeResponse>(
      "Range", CallKind::kRead,
      [&](Connection& c, grpc::ClientContext* context, etcdserverpb::RangeResponse* response) {
        return c.kv->Range(context, request, response);
      });
}

Result<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  bool writes = false;
  for (const auto& op : request.success()) writes |= !op.has_request_range();
  for (const auto& op : request.failure()) writes |= !op.has_request_range();
  return Invoke<etcdserverpb::TxnResponse>(
      "Txn", writes ? CallKind::kWrite : CallKind::kRead,
      [&](Connection& c, grpc::ClientContext* context, etcdserverpb::TxnResponse* response) {
        return c.kv->Txn(context, request, response);
      });
}

Result<etcdserverpb::CompactionResponse> EtcdClient::Compact(
    const etcdserverpb::CompactionRequest& request) {
  return Invoke<etcdserverpb::CompactionResponse>(
      "Compact", CallKind::kWrite,
      [&](Connection& c, grpc::ClientContext* context, etcdserverpb::CompactionResponse* response) {
        return c.kv->Compact(context, request, response);
      });
}

Result<etcdserverpb::StatusResponse> EtcdClient::MemberStatus() {
  return Invoke<etcdserverpb::StatusResponse>(
      "Status", CallKind::kRead,
      [&](Connection& c, grpc::ClientContext* context, etcdserverpb::StatusResponse* response) {
        return c.maintenance->Status(context, etcdserverpb::StatusRequest(), response);
      });
}

Status EtcdClient::Connect(const std::string& probe_key) {
  etcdserverpb::RangeRequest probe;
  probe.set_key(probe_key);
  probe.set_count_only(true);
  return Range(probe).status();
}

}  // namespace rwmeta::metastore
