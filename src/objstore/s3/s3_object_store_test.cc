// S3ObjectStore pieces that need no server: config validation, XML helpers, and the retry
// schedule against a port where nothing listens.
#include "objstore/s3/s3_object_store.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::objstore::s3 {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

S3Config Valid() {
  S3Config c;
  c.bucket = "bucket";
  c.endpoint = "http://127.0.0.1:1";
  c.credentials = {"AKID", "the-secret", "the-token"};
  return c;
}

TEST(S3ObjectStoreOpenTest, RefusesBadConfigs) {
  auto with = [](auto change) {
    S3Config c = Valid();
    change(c);
    return S3ObjectStore::Open(c).status();
  };
  EXPECT_THAT(with([](S3Config& c) { c.bucket = "UPPER"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bucket name")));
  EXPECT_THAT(with([](S3Config& c) { c.bucket = "-dash"; }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](S3Config& c) { c.endpoint = "ftp://x"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("http://")));
  EXPECT_THAT(with([](S3Config& c) { c.endpoint = "http://h:1/path"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no path")));
  EXPECT_THAT(with([](S3Config& c) { c.credentials.secret_access_key = ""; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("secret")));
  EXPECT_THAT(with([](S3Config& c) { c.part_size_bytes = 1 << 20; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("part size")));
  EXPECT_THAT(with([](S3Config& c) { c.upload_parallelism = 0; }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](S3Config& c) { c.list_page_size = 1001; }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](S3Config& c) { c.retry.max_attempts = 0; }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with([](S3Config& c) { c.prefix = "a//b"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("prefix")));
}

TEST(S3ObjectStoreOpenTest, DisplayUrlAndDefaults) {
  S3Config c = Valid();
  c.prefix = "/backup/dir/";
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  EXPECT_EQ(store->DisplayUrl(), "s3://bucket/backup/dir");
  EXPECT_EQ(store->FullKey("manifest.json"), "backup/dir/manifest.json");
  EXPECT_FALSE(store->SupportsConditionalPut());
}

TEST(S3ObjectStoreOpenTest, ConditionalWritesWithoutConditionalPutSendNothing) {
  S3Config c = Valid();
  c.conditional_put = false;
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  PutOptions create;
  create.if_none_match = true;
  PutOptions match;
  match.if_match_etag = "0123456789abcdef0123456789abcdef";
  EXPECT_THAT(store->OpenWriter("k", create),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("conditional_put=false")));
  EXPECT_THAT(store->OpenWriter("k", match), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(store->Put("k", "v", create), StatusIs(StatusCode::kUnimplemented));
  EXPECT_EQ(store->requests_sent(), 0u);
  // Without a condition the writer opens (and sends nothing until it has a part or finishes).
  ASSERT_OK_AND_ASSIGN(auto plain, store->OpenWriter("k"));
  EXPECT_EQ(store->requests_sent(), 0u);
}

TEST(S3XmlTest, ExtractsElementsAndDecodesEntities) {
  const std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult><KeyCount>2</KeyCount>"
      "<Contents><Key>a &amp; b&lt;c&gt;&quot;&apos;&#233;&#x41;</Key><Size>3</Size></Contents>"
      "<Contents><Key>plain</Key><Size>0</Size><Owner/></Contents>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>";
  EXPECT_THAT(XmlElements(xml, "Key"), ElementsAre("a & b<c>\"'\xc3\xa9"
                                                   "A",
                                                   "plain"));
  EXPECT_EQ(XmlElement(xml, "KeyCount"), "2");  // Not confused with <Key>.
  EXPECT_EQ(XmlElements(xml, "Contents").size(), 2u);
  EXPECT_EQ(XmlElement(xml, "Missing"), "");
  EXPECT_THAT(XmlElements(xml, "Owner"), ElementsAre(""));
  EXPECT_EQ(XmlEscape("a&<>\"'"), "a&amp;&lt;&gt;&quot;&apos;");
  EXPECT_EQ(XmlElement("<Key>unterminated", "Key"), "");
}

// A loopback port that refuses connections: bound, never listened on.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

TEST(S3RetryTest, RefusedConnectionsAreRetriedWithCappedJitteredBackoff) {
  RefusingPort port;
  S3Config c = Valid();
  c.endpoint = "http://127.0.0.1:" + std::to_string(port.port());
  c.retry = {.max_attempts = 7, .initial_backoff_ms = 100, .max_backoff_ms = 1000};
  std::vector<int64_t> sleeps;
  c.sleep_ms = [&](int64_t ms) { sleeps.push_back(ms); };
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  Status s = store->Put("k", "v");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable,
                          AllOf(HasSubstr("gave up after 7 attempts"), HasSubstr("s3://bucket/k"),
                                Not(HasSubstr("the-secret")), Not(HasSubstr("the-token")))));
  EXPECT_EQ(store->requests_sent(), 7u);
  ASSERT_EQ(sleeps.size(), 6u);
  const int64_t caps[] = {100, 200, 400, 800, 1000, 1000};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], 0);
    EXPECT_LE(sleeps[i], caps[i]) << "retry " << i + 1;
  }
}

TEST(S3RetryTest, OneAttemptMeansNoRetry) {
  RefusingPort port;
  S3Config c = Valid();
  c.endpoint = "http://127.0.0.1:" + std::to_string(port.port());
  c.retry.max_attempts = 1;
  int sleeps = 0;
  c.sleep_ms = [&](int64_t) { ++sleeps; };
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(c));
  EXPECT_THAT(store->Get("k"), StatusIs(StatusCode::kUnavailable, HasSubstr("1 attempts")));
  EXPECT_EQ(sleeps, 0);
  // Invalid keys never reach the network.
  EXPECT_THAT(store->Get("../k"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(store->requests_sent(), 1u);
}

}  // namespace
}  // namespace rwmeta::objstore::s3
