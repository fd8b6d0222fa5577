// RpcServer and MetaClient together over real loopback gRPC, with a fake MetaBackend.
#include "rpc/rpc_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/testing/status_matchers.h"
#include "rpc/meta_client.h"
#include "rpc/testing/fake_meta_backend.h"
#include "rpc/testing/unused_port.h"

namespace rwmeta::rpc {
namespace {

using ::rwmeta::rpc::testing::FakeMetaBackend;
using ::rwmeta::rpc::testing::UnusedLoopbackPort;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(server_.Start("127.0.0.1:0"));
    ASSERT_GT(server_.port(), 0);
    ASSERT_OK_AND_ASSIGN(client_, MetaClient::Connect("http://" + server_.address()));
  }

  FakeMetaBackend backend_;
  RpcServer server_{&backend_};
  std::unique_ptr<MetaClient> client_;
};

TEST_F(RpcServerTest, ClusterInfoRoundTripsWithUrlsRedacted) {
  ASSERT_OK_AND_ASSIGN(ClusterInfo info, client_->GetClusterInfo());
  ClusterInfo expected = backend_.cluster_info();
  expected.meta_store_url = "postgres://meta:***@127.0.0.1:5432/meta";
  expected.state_store_url = "hummock+minio://hummockadmin:***@127.0.0.1:9301/hummock001";
  EXPECT_EQ(info, expected);
  EXPECT_EQ(info.cluster_id, "5f3c2a9e-1d2b-4c6e-9a8f-0b1c2d3e4f50");
  EXPECT_EQ(info.created_at_ms, 1764000000000);
  EXPECT_EQ(info.uptime_ms, 93784000u);
  EXPECT_EQ(info.generation, 3u);
  EXPECT_EQ(info.generation_started_at_ms, 1764086400000);
  EXPECT_EQ(info.restored_snapshot_id, 7u);
  EXPECT_THAT(info.listen_addresses, ElementsAre(ListenAddress{"grpc", "127.0.0.1:5690"},
                                                 ListenAddress{"pgwire", "127.0.0.1:4566"}));
}

TEST_F(RpcServerTest, SystemParamsRoundTripInOrder) {
  ASSERT_OK_AND_ASSIGN(std::vector<ParamInfo> params, client_->GetSystemParams());
  EXPECT_EQ(params, backend_.params());
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0].name, "barrier_interval_ms");
  EXPECT_EQ(params[2].name, "state_store");
  EXPECT_FALSE(params[2].is_mutable);
  EXPECT_EQ(params[2].description, "The state store URL, with hummock+ prefix.");
}

TEST_F(RpcServerTest, SetSystemParamReturnsNewValueAndNotice) {
  ASSERT_OK_AND_ASSIGN(SetParamResult result,
                       client_->SetSystemParam("backup_storage_url", "s3://backup_bucket"));
  EXPECT_EQ(result.param.name, "backup_storage_url");
  EXPECT_EQ(result.param.value, "s3://backup_bucket");
  EXPECT_TRUE(result.param.is_mutable);
  EXPECT_EQ(result.notice, FakeMetaBackend::kBackupUrlNotice);

  ASSERT_OK_AND_ASSIGN(SetParamResult quiet, client_->SetSystemParam("barrier_interval_ms", "250"));
  EXPECT_EQ(quiet.param.value, "250");
  EXPECT_EQ(quiet.notice, "");

  ASSERT_OK_AND_ASSIGN(std::vector<ParamInfo> params, client_->GetSystemParams());
  EXPECT_EQ(params[0].value, "250");
  EXPECT_EQ(params[4].value, "s3://backup_bucket");
}

TEST_F(RpcServerTest, BackendErrorArrivesWithSameCodeAndMessage) {
  Result<SetParamResult> r = client_->SetSystemParam("no_such_param", "1");
  EXPECT_EQ(r.status(), InvalidArgumentError("unknown parameter no_such_param"));

  EXPECT_EQ(client_->SetSystemParam("state_store", "hummock+memory").status(),
            FailedPreconditionError("parameter state_store cannot be changed"));
}

TEST_F(RpcServerTest, InvalidUtf8IsRefusedByTheClientNamingWhat) {
  EXPECT_THAT(client_->SetSystemParam("barrier_interval_ms", "\xFF\xFE"),
              StatusIs(StatusCode::kInvalidArgument, "system parameter value is not valid UTF-8"));
  EXPECT_THAT(client_->SetSystemParam("\xC3", "1"),
              StatusIs(StatusCode::kInvalidArgument, "system parameter name is not valid UTF-8"));
  EXPECT_EQ(backend_.params()[0].value, "1000");
}

TEST_F(RpcServerTest, InvalidUtf8FromTheBackendIsInternalNamingTheField) {
  ClusterInfo info = backend_.cluster_info();
  info.cluster_id = "\xFF";
  backend_.set_cluster_info(info);
  EXPECT_THAT(client_->GetClusterInfo(),
              StatusIs(StatusCode::kInternal,
                       "GetClusterInfo response: field cluster_id is not valid UTF-8"));
}

TEST_F(RpcServerTest, EmptyParameterNameIsRefusedBeforeTheBackend) {
  EXPECT_THAT(client_->SetSystemParam("", "1"),
              StatusIs(StatusCode::kInvalidArgument, "system parameter name is empty"));
}

// An Unavailable from the backend (its meta store is down) is not the meta node being down.
TEST_F(RpcServerTest, BackendUnavailableIsNotMistakenForUnreachableNode) {
  backend_.FailWith(UnavailableError("meta store at 127.0.0.1:5432: connection refused"));
  EXPECT_EQ(client_->GetClusterInfo().status(),
            UnavailableError("meta store at 127.0.0.1:5432: connection refused"));
  backend_.FailWith(DataLossError("system params row is corrupt"));
  EXPECT_EQ(client_->GetSystemParams().status(), DataLossError("system params row is corrupt"));
  backend_.FailWith(std::nullopt);
  EXPECT_OK(client_->GetSystemParams());
}

TEST_F(RpcServerTest, OneClientServesManyThreadsAtOnce) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> ok_calls(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        std::string value = std::to_string(t * 1000 + i);
        Result<SetParamResult> set = client_->SetSystemParam("barrier_interval_ms", value);
        Result<std::vector<ParamInfo>> params = client_->GetSystemParams();
        if (set.ok() && set->param.value == value && params.ok() && params->size() == 6) {
          ++ok_calls[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok_calls[t], kCallsPerThread) << "thread " << t;
  // The last write of some thread won.
  std::string last = backend_.params()[0].value;
  EXPECT_EQ(std::stoi(last) % 1000, kCallsPerThread - 1);
}

TEST_F(RpcServerTest, StopIsIdempotentAndThenTheNodeIsUnreachable) {
  server_.Stop();
  server_.Stop(std::chrono::milliseconds(1));
  EXPECT_THAT(client_->GetClusterInfo(),
              StatusIs(StatusCode::kUnavailable,
                       StartsWith("cannot reach meta node at " + server_.address() + ": ")));
  EXPECT_THAT(server_.Start("127.0.0.1:0"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(RpcServerTest, SecondServerOnTheSamePortIsUnavailableNamingTheAddress) {
  FakeMetaBackend other_backend;
  RpcServer other(&other_backend);
  std::string addr = "127.0.0.1:" + std::to_string(server_.port());
  EXPECT_THAT(other.Start(addr), StatusIs(StatusCode::kUnavailable, HasSubstr(addr)));
  // The first server still answers.
  EXPECT_OK(client_->GetClusterInfo());
}

TEST_F(RpcServerTest, StartTwiceIsFailedPrecondition) {
  EXPECT_THAT(server_.Start("127.0.0.1:0"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(RpcServerStartTest, BadAddressIsInvalidArgument) {
  FakeMetaBackend backend;
  for (const char* addr : {"", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "a b:1"}) {
    RpcServer server(&backend);
    EXPECT_THAT(server.Start(addr), StatusIs(StatusCode::kInvalidArgument)) << addr;
  }
}

TEST(RpcServerStartTest, AddressThatIsNotLocalIsUnavailable) {
  FakeMetaBackend backend;
  RpcServer server(&backend);
  // TEST-NET-1 (RFC 5737): never assigned to a local interface.
  EXPECT_THAT(server.Start("192.0.2.1:0"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("192.0.2.1:0")));
}

TEST(RpcServerStartTest, StopWithoutStartIsANoOp) {
  FakeMetaBackend backend;
  RpcServer server(&backend);
  server.Stop();
  server.Stop();
}

TEST(MetaClientTest, ConnectRefusesBadAddress) {
  EXPECT_THAT(MetaClient::Connect("https://127.0.0.1:5690"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("TLS")));
  EXPECT_THAT(MetaClient::Connect("127.0.0.1"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MetaClientTest, ConnectAcceptsBothAddressForms) {
  ASSERT_OK_AND_ASSIGN(auto with_scheme, MetaClient::Connect("http://127.0.0.1:5690"));
  EXPECT_EQ(with_scheme->target(), "127.0.0.1:5690");
  ASSERT_OK_AND_ASSIGN(auto bare, MetaClient::Connect("127.0.0.1:5690"));
  EXPECT_EQ(bare->target(), "127.0.0.1:5690");
}

TEST(MetaClientTest, ClosedPortIsUnavailableBeforeTheDeadline) {
  int port = UnusedLoopbackPort();
  std::string target = "127.0.0.1:" + std::to_string(port);
  MetaClientOptions options;
  options.rpc_timeout = std::chrono::seconds(3);
  ASSERT_OK_AND_ASSIGN(auto client, MetaClient::Connect("http://" + target, options));

  auto start = std::chrono::steady_clock::now();
  Result<ClusterInfo> r = client->GetClusterInfo();
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable,
                          StartsWith("cannot reach meta node at " + target + ": ")));
  // A refused connection fails the call at once, not at the deadline.
  EXPECT_LT(elapsed, options.rpc_timeout);
}

TEST(MetaClientTest, PeerThatNeverSpeaksGrpcIsUnavailableAtTheDeadline) {
  // A socket that listens but never accepts: TCP connects (the kernel's backlog), HTTP/2 never
  // starts, so the channel never becomes ready.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string target = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  MetaClientOptions options;
  options.rpc_timeout = std::chrono::milliseconds(300);
  ASSERT_OK_AND_ASSIGN(auto client, MetaClient::Connect(target, options));
  auto start = std::chrono::steady_clock::now();
  Result<std::vector<ParamInfo>> r = client->GetSystemParams();
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(fd);

  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable,
                          "cannot reach meta node at " + target + ": no connection within 300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

// A backend whose GetClusterInfo blocks until Release(), to exercise deadlines and graceful stop.
class BlockingBackend : public FakeMetaBackend {
 public:
  Result<ClusterInfo> GetClusterInfo() override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    return FakeMetaBackend::GetClusterInfo();
  }
  // Waits until a GetClusterInfo call is inside the backend; false after `timeout`.
  bool WaitEntered(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

TEST(RpcServerStopTest, StopLetsAnInFlightCallFinishWithinTheGracePeriod) {
  BlockingBackend backend;
  RpcServer server(&backend);
  ASSERT_OK(server.Start("127.0.0.1:0"));
  ASSERT_OK_AND_ASSIGN(auto client, MetaClient::Connect(server.address()));

  Result<ClusterInfo> in_flight = UnavailableError("not run");
  std::thread caller([&] { in_flight = client->GetClusterInfo(); });
  ASSERT_TRUE(backend.WaitEntered(std::chrono::seconds(10)));

  std::thread stopper([&] { server.Stop(std::chrono::seconds(10)); });
  // New calls are refused once shutdown has begun; poll until they are.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  Status late;
  do {
    late = client->GetSystemParams().status();
  } while (late.ok() && std::chrono::steady_clock::now() < deadline);
  backend.Release();
  caller.join();
  stopper.join();

  EXPECT_THAT(late, StatusIs(StatusCode::kUnavailable));
  ASSERT_OK(in_flight.status());
  EXPECT_EQ(in_flight->cluster_id, backend.cluster_info().cluster_id);
}

TEST(MetaClientTest, SlowNodeIsDeadlineExceededAfterTheTimeout) {
  BlockingBackend backend;
  RpcServer server(&backend);
  ASSERT_OK(server.Start("127.0.0.1:0"));
  MetaClientOptions options;
  options.rpc_timeout = std::chrono::milliseconds(300);
  ASSERT_OK_AND_ASSIGN(auto client, MetaClient::Connect(server.address(), options));
  // Connect the channel first with a call that does not block.
  ASSERT_OK(client->GetSystemParams());

  auto start = std::chrono::steady_clock::now();
  Result<ClusterInfo> r = client->GetClusterInfo();
  auto elapsed = std::chrono::steady_clock::now() - start;
  backend.Release();

  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded,
                          "meta node at " + server.address() +
                              " did not answer GetClusterInfo within 300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace rwmeta::rpc
