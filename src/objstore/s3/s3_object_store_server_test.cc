// S3ObjectStore against a real S3-compatible server (s3rver on loopback, one per test binary):
// the ObjectStore conformance suite (straight to s3rver, and through a proxy that answers
// conditional writes as AWS S3 does), paging, batching, error mapping, the factory's URLs, and
// byte-for-byte interoperability with an independent client (/usr/bin/aws).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "objstore/factory.h"
#include "objstore/object_store_conformance.h"
#include "objstore/s3/s3_object_store.h"
#include "objstore/testing/s3_test_server.h"
#include "testing/http_fault_proxy.h"
#include "testing/subprocess.h"

namespace rwmeta::objstore::s3 {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::rwmeta::objstore::s3::testing;  // NOLINT(google-build-using-namespace)

bool ServerInstalled() {
  return !::rwmeta::testing::S3Server::ScriptPath().empty() &&
         !::rwmeta::testing::S3Server::NodePath().empty();
}

#define REQUIRE_S3_SERVER()                                                      \
  do {                                                                           \
    if (!TheServer().server) RWMETA_SKIP_OR_FAIL(TheServer().status.ToString()); \
  } while (0)

std::unique_ptr<S3ObjectStore> OpenTestStore(const std::string& prefix,
                                             S3Config config_overrides = {}) {
  S3Config c = TestConfig(TheServer().server->endpoint(), prefix);
  if (config_overrides.list_page_size != 1000) c.list_page_size = config_overrides.list_page_size;
  auto store = S3ObjectStore::Open(std::move(c));
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(store).value();
}

// Removes every object under `prefix` so that s3rver's bucket walk stays small.
void CleanUp(const std::string& prefix) {
  if (!TheServer().server) return;
  auto store = OpenTestStore(prefix);
  auto all = store->List("");
  if (!all.ok()) return;
  std::vector<std::string> keys;
  for (const auto& m : *all) keys.push_back(m.key);
  store->DeleteMany(keys).IgnoreError();  // Best-effort test cleanup.
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Conformance

::rwmeta::objstore::testing::ObjectStoreBackend S3Backend() {
  return {"s3rver",
          []() -> Result<::rwmeta::objstore::testing::ObjectStoreUnderTest> {
            if (!TheServer().server) return TheServer().status;
            std::string prefix = FreshPrefix("conformance");
            RWMETA_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(TestConfig(
                                                    TheServer().server->endpoint(), prefix)));
            return ::rwmeta::objstore::testing::ObjectStoreUnderTest{std::move(store),
                                                                     [prefix] { CleanUp(prefix); }};
          },
          // Every write goes through node and its disk: keep the stress tests to seconds.
          6,
          // s3rver writes data and metadata separately: concurrent PUTs of one key can tear.
          /*atomic_overwrites=*/false};
}

// s3rver ignores If-None-Match and If-Match, so the plain s3rver backend runs without conditional
// put (and checks conditional writes are refused). This proxy in front of it answers conditional
// PutObject and CompleteMultipartUpload as AWS S3 does, judged against s3rver's objects, so that
// the conditional cases run over the S3 client too.
struct ConditionalProxy {
  std::unique_ptr<::rwmeta::testing::HttpFaultProxy> proxy;
  std::unique_ptr<S3ObjectStore> direct;  // s3rver itself, bucket root: what the proxy judges by
  Status status;
};

ConditionalProxy& TheConditionalProxy() {
  static ConditionalProxy* shared = [] {
    auto* p = new ConditionalProxy();
    if (!TheServer().server) {
      p->status = TheServer().status;
      return p;
    }
    auto direct = S3ObjectStore::Open(TestConfig(TheServer().server->endpoint(), ""));
    auto proxy = ::rwmeta::testing::HttpFaultProxy::Start(TheServer().server->port());
    if (!direct.ok() || !proxy.ok()) {
      p->status = direct.ok() ? proxy.status() : direct.status();
      return p;
    }
    p->direct = std::move(direct).value();
    p->proxy = std::move(proxy).value();
    S3ObjectStore* store = p->direct.get();
    const std::string bucket_path = std::string("/") + kTestBucket + "/";
    p->proxy->EmulateConditionalWrites(
        [store, bucket_path](const std::string& path) -> Result<std::string> {
          if (path.rfind(bucket_path, 0) != 0) return NotFoundError("not in the test bucket");
          RWMETA_ASSIGN_OR_RETURN(ObjectMeta meta, store->Head(path.substr(bucket_path.size())));
          return meta.etag;
        });
    return p;
  }();
  return *shared;
}

::rwmeta::objstore::testing::ObjectStoreBackend S3ConditionalProxyBackend() {
  return {"s3rver_conditional_proxy",
          []() -> Result<::rwmeta::objstore::testing::ObjectStoreUnderTest> {
            if (!TheConditionalProxy().proxy) return TheConditionalProxy().status;
            std::string prefix = FreshPrefix("conformance-cond");
            S3Config config = TestConfig(TheConditionalProxy().proxy->endpoint(), prefix);
            config.conditional_put = true;
            RWMETA_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Open(std::move(config)));
            return ::rwmeta::objstore::testing::ObjectStoreUnderTest{std::move(store),
                                                                     [prefix] { CleanUp(prefix); }};
          },
          6, /*atomic_overwrites=*/false};
}

std::vector<::rwmeta::objstore::testing::ObjectStoreBackend> Backends() {
  if (!ServerInstalled()) return {};
  return {S3Backend(), S3ConditionalProxyBackend()};
}

TEST(S3ServerTest, ServerRuns) {
  // The conformance suite is not instantiated without s3rver: this test makes that visible.
  REQUIRE_S3_SERVER();
  EXPECT_TRUE(::rwmeta::testing::PortAccepts(TheServer().server->port()));
}

// ---------------------------------------------------------------------------------------------
// S3-specific behaviour

TEST(S3ObjectStoreTest, ListPagesThroughContinuationTokens) {
  REQUIRE_S3_SERVER();
  std::string prefix = FreshPrefix("paging");
  S3Config overrides;
  overrides.list_page_size = 2;
  auto store = OpenTestStore(prefix, overrides);
  for (const char* k : {"k5", "k1", "k3", "k2", "k4", "j/x", "k6"}) ASSERT_OK(store->Put(k, k));
  uint64_t before = store->requests_sent();
  ASSERT_OK_AND_ASSIGN(auto all, store->List(""));
  std::vector<std::string> keys;
  for (const auto& m : all) keys.push_back(m.key);
  EXPECT_THAT(keys, ElementsAre("j/x", "k1", "k2", "k3", "k4", "k5", "k6"));
  EXPECT_EQ(store->requests_sent() - before, 4u);  // 2 + 2 + 2 + 1
  ASSERT_OK_AND_ASSIGN(auto ks, store->List("k"));
  EXPECT_EQ(ks.size(), 6u);
  EXPECT_EQ(ks[0].etag.size(), 32u);
  EXPECT_EQ(ks[0].size_bytes, 2u);
  CleanUp(prefix);
}

TEST(S3ObjectStoreTest, PrefixesIsolateStoresInOneBucket) {
  REQUIRE_S3_SERVER();
  std::string pa = FreshPrefix("iso-a");
  std::string pb = FreshPrefix("iso-b");
  auto a = OpenTestStore(pa + "/nested");
  auto b = OpenTestStore(pb);
  ASSERT_OK(a->Put("same", "from a"));
  ASSERT_OK(b->Put("same", "from b"));
  ASSERT_OK_AND_ASSIGN(std::string va, a->Get("same"));
  EXPECT_EQ(va, "from a");
  ASSERT_OK_AND_ASSIGN(auto la, a->List(""));
  ASSERT_EQ(la.size(), 1u);
  EXPECT_EQ(la[0].key, "same");
  EXPECT_EQ(a->DisplayUrl(), "s3://rwmeta-test/" + pa + "/nested");
  // The bucket root sees both under their prefixes.
  auto root = OpenTestStore("");
  ASSERT_OK_AND_ASSIGN(std::string raw, root->Get(pa + "/nested/same"));
  EXPECT_EQ(raw, "from a");
  CleanUp(pa);
  CleanUp(pb);
}

TEST(S3ObjectStoreTest, DeleteManyBatchesMoreThanAThousandKeys) {
  REQUIRE_S3_SERVER();
  std::string prefix = FreshPrefix("batch");
  auto store = OpenTestStore(prefix);
  constexpr int kKeys = 1003;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("o/" + std::to_string(i));
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kKeys && results[t].ok(); i += 4) results[t] = store->Put(keys[i], "x");
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& s : results) ASSERT_OK(s);
  keys.push_back("o/never-written");
  uint64_t before = store->requests_sent();
  ASSERT_OK(store->DeleteMany(keys));
  // Two batches (1000 + 4 keys); s3rver's concurrent deletes race on removing directories and
  // sometimes answer 500, which the client retries.
  EXPECT_GE(store->requests_sent() - before, 2u);
  ASSERT_OK_AND_ASSIGN(auto left, store->List(""));
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0].key;
}

TEST(S3ObjectStoreTest, UnknownAccessKeyIsPermissionDeniedAtOnceWithoutSecrets) {
  REQUIRE_S3_SERVER();
  S3Config c = TestConfig(TheServer().server->endpoint(), "denied");
  c.credentials.access_key_id = "NOT-A-KNOWN-KEY";
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  Status s = store->Put("k", "v");
  EXPECT_THAT(s, StatusIs(StatusCode::kPermissionDenied,
                          AllOf(HasSubstr("403"), HasSubstr("InvalidAccessKeyId"),
                                HasSubstr("s3://rwmeta-test/denied/k"), HasSubstr("request id"),
                                Not(HasSubstr(kCanarySecret)), Not(HasSubstr(kCanaryToken)))));
  EXPECT_EQ(store->requests_sent(), 1u);  // Never retried.
  EXPECT_THAT(store->Get("k"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(store->List(""), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(store->requests_sent(), 3u);
}

TEST(S3ObjectStoreTest, MissingBucketIsFailedPrecondition) {
  REQUIRE_S3_SERVER();
  S3Config c = TestConfig(TheServer().server->endpoint(), "");
  c.bucket = "no-such-bucket";
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  EXPECT_THAT(store->Put("k", "v"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("NoSuchBucket")));
  EXPECT_THAT(store->List(""), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(store->requests_sent(), 2u);
}

TEST(S3ObjectStoreTest, ConditionalPutIsUnimplementedWhenDisabled) {
  REQUIRE_S3_SERVER();
  auto store = OpenTestStore(FreshPrefix("cas"));
  EXPECT_FALSE(store->SupportsConditionalPut());
  PutOptions o;
  o.if_none_match = true;
  EXPECT_THAT(store->Put("m", "v", o),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("conditional_put")));
  o = PutOptions{};
  o.if_match_etag = "abc";
  EXPECT_THAT(store->Put("m", "v", o), StatusIs(StatusCode::kUnimplemented));
  EXPECT_EQ(store->requests_sent(), 0u);
}

TEST(S3ObjectStoreTest, ConnectionsAreReused) {
  REQUIRE_S3_SERVER();
  std::string prefix = FreshPrefix("reuse");
  auto store = OpenTestStore(prefix);
  for (int i = 0; i < 10; ++i) {
    std::string key = "k" + std::to_string(i);
    ASSERT_OK(store->Put(key, "v"));
    ASSERT_OK(store->Get(key).status());
    ASSERT_OK(store->Head(key).status());
  }
  EXPECT_EQ(store->requests_sent(), 30u);
  // One thread, sequential requests: one pooled handle keeps one connection alive (a second one
  // is allowed for a server-side close).
  EXPECT_LE(store->connections_opened(), 2u);
  CleanUp(prefix);
}

TEST(S3ObjectStoreTest, HttpsWithTheServersCertificateOnly) {
  REQUIRE_S3_SERVER();
  ::rwmeta::testing::S3Server::Options options;
  options.tls = true;
  auto tls = ::rwmeta::testing::S3Server::Start(options);
  ASSERT_OK(tls.status());
  ASSERT_EQ((*tls)->endpoint().rfind("https://", 0), 0u);
  S3Config c = TestConfig((*tls)->endpoint(), "tls");
  c.http.ca_file = (*tls)->ca_file();
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  ASSERT_OK(store->Put("k", "over tls"));
  ASSERT_OK_AND_ASSIGN(std::string v, store->Get("k"));
  EXPECT_EQ(v, "over tls");
  // Without the certificate the server is not trusted: refused at once, never retried.
  c.http.ca_file.clear();
  ASSERT_OK_AND_ASSIGN(auto untrusting, S3ObjectStore::Open(c));
  EXPECT_THAT(untrusting->Get("k"), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("tls")));
  EXPECT_EQ(untrusting->requests_sent(), 1u);
}

TEST(S3ObjectStoreTest, FactoryUrlsReachTheServer) {
  REQUIRE_S3_SERVER();
  std::string prefix = FreshPrefix("factory");
  const std::string port = std::to_string(TheServer().server->port());
  ASSERT_OK_AND_ASSIGN(auto minio,
                       OpenObjectStore("minio://S3RVER:" + std::string(kCanarySecret) +
                                       "@127.0.0.1:" + port + "/rwmeta-test/" + prefix));
  EXPECT_EQ(minio->DisplayUrl(), "minio://127.0.0.1:" + port + "/rwmeta-test/" + prefix);
  ASSERT_OK(minio->Put("via-minio", "m"));

  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", kCanarySecret, 1);
  ::setenv("AWS_ENDPOINT_URL", TheServer().server->endpoint().c_str(), 1);
  auto s3 = OpenObjectStore("s3://rwmeta-test/" + prefix);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_ENDPOINT_URL");
  ASSERT_OK(s3.status());
  EXPECT_FALSE((*s3)->SupportsConditionalPut());  // A custom endpoint: off unless asked for.
  ASSERT_OK_AND_ASSIGN(std::string v, (*s3)->Get("via-minio"));
  EXPECT_EQ(v, "m");
  CleanUp(prefix);
}

// ---------------------------------------------------------------------------------------------
// Interoperability with awscli

class AwsCliTest : public ::testing::Test {
 protected:
  static constexpr const char* kAws = "/usr/bin/aws";

  void SetUp() override {
    if (::access(kAws, X_OK) != 0) RWMETA_SKIP_OR_FAIL("awscli (/usr/bin/aws) not installed");
    REQUIRE_S3_SERVER();
    dir_ = std::make_unique<::rwmeta::testing::TempDir>();
    prefix_ = FreshPrefix("awscli");
  }
  void TearDown() override { CleanUp(prefix_); }

  Result<::rwmeta::testing::CommandResult> Aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {kAws, "--endpoint-url", TheServer().server->endpoint()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = TheServer().server->AwsEnv();
    return ::rwmeta::testing::RunCommand(argv, env, std::chrono::seconds(120));
  }

  std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }

  std::unique_ptr<::rwmeta::testing::TempDir> dir_;
  std::string prefix_;
};

TEST_F(AwsCliTest, AwsReadsWhatRwmetaWrote) {
  auto store = OpenTestStore(prefix_);
  const std::string small = RandomBytes(100000, 1);
  ASSERT_OK(store->Put("dir/small.bin", small));
  // 12 MiB through the writer in odd-sized appends: a 3-part multipart upload (5 MiB parts).
  const std::string large = RandomBytes(12 << 20, 2);
  ASSERT_OK_AND_ASSIGN(auto w, store->OpenWriter("dir/large.bin"));
  for (size_t off = 0; off < large.size(); off += 777777) {
    ASSERT_OK(w->Append(std::string_view(large).substr(off, 777777)));
  }
  uint64_t before = store->requests_sent();
  ASSERT_OK(w->Finish());
  // The last part and CompleteMultipartUpload at least: proof it was multipart, not one PUT.
  EXPECT_GE(store->requests_sent() - before, 2u);

  for (const auto& [key, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"dir/small.bin", small}, {"dir/large.bin", large}}) {
    std::string out = dir_->path() + "/out";
    ASSERT_OK_AND_ASSIGN(auto r, Aws({"s3", "cp", "--only-show-errors",
                                      "s3://rwmeta-test/" + prefix_ + "/" + key, out}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(ReadFile(out) == bytes) << key << ": awscli read different bytes";
  }
  ASSERT_OK_AND_ASSIGN(auto ls,
                       Aws({"s3", "ls", "--recursive", "s3://rwmeta-test/" + prefix_ + "/"}));
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_THAT(ls.out, AllOf(HasSubstr(prefix_ + "/dir/small.bin"), HasSubstr("100000"),
                            HasSubstr(prefix_ + "/dir/large.bin"), HasSubstr("12582912")));
}

TEST_F(AwsCliTest, RwmetaReadsWhatAwsWrote) {
  // 20 MiB is past awscli's 8 MiB multipart threshold: it uploads parts.
  const std::string large = RandomBytes(20 << 20, 3);
  const std::string small = "written by awscli\n";
  WriteFile(dir_->path() + "/large", large);
  WriteFile(dir_->path() + "/small", small);
  for (const auto& [file, key] : std::vector<std::pair<std::string, std::string>>{
           {"large", "from-aws/large.bin"}, {"small", "from-aws/small.txt"}}) {
    ASSERT_OK_AND_ASSIGN(auto r, Aws({"s3", "cp", "--only-show-errors", dir_->path() + "/" + file,
                                      "s3://rwmeta-test/" + prefix_ + "/" + key}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto store = OpenTestStore(prefix_);
  ASSERT_OK_AND_ASSIGN(std::string got_small, store->Get("from-aws/small.txt"));
  EXPECT_EQ(got_small, small);
  ASSERT_OK_AND_ASSIGN(std::string got_large, store->Get("from-aws/large.bin"));
  EXPECT_TRUE(got_large == large) << "rwmeta read different bytes (" << got_large.size() << ")";
  ASSERT_OK_AND_ASSIGN(auto reader, store->OpenReader("from-aws/large.bin"));
  std::string streamed, part;
  do {
    ASSERT_OK(reader->Read(3 << 20, &part));
    streamed += part;
  } while (!part.empty());
  EXPECT_TRUE(streamed == large);
  ASSERT_OK_AND_ASSIGN(std::string range, store->GetRange("from-aws/large.bin", 9 << 20, 10));
  EXPECT_EQ(range, large.substr(9 << 20, 10));
  ASSERT_OK_AND_ASSIGN(auto list, store->List("from-aws/"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].key, "from-aws/large.bin");
  EXPECT_EQ(list[0].size_bytes, large.size());
}

}  // namespace
}  // namespace rwmeta::objstore::s3

namespace rwmeta::objstore::testing {
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ObjectStoreConformanceTest);
INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreConformanceTest,
                         ::testing::ValuesIn(::rwmeta::objstore::s3::Backends()), BackendName);

}  // namespace rwmeta::objstore::testing
