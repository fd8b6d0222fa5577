// The manifest's compare-and-swap path over the S3 backend, against a server that honours
// If-Match / If-None-Match. s3rver ignores those headers, so a proxy in front of it answers
// conditional PUTs as S3 does (HttpFaultProxy::EmulateConditionalWrites: 412 PreconditionFailed
// when the condition does not hold, checked against the object's current ETag on s3rver) and
// forwards the rest. The concurrent writer is injected at a chosen instant: just before the
// proxy judges a conditional PUT of the manifest.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>

#include "backup/manifest.h"
#include "common/testing/status_matchers.h"
#include "objstore/factory.h"
#include "testing/http_fault_proxy.h"
#include "testing/s3_server.h"
#include "testing/subprocess.h"

namespace rwmeta::backup {
namespace {

using ::rwmeta::testing::HttpFaultProxy;
using ::rwmeta::testing::S3Server;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBucket[] = "manifests";

struct Servers {
  std::unique_ptr<S3Server> s3;
  std::unique_ptr<HttpFaultProxy> proxy;
  Status status;
};

Servers& TheServers() {
  static Servers* servers = [] {
    auto* s = new Servers;
    auto s3 = S3Server::Start({.buckets = {kBucket}});
    if (!s3.ok()) {
      s->status = s3.status();
      return s;
    }
    s->s3 = std::move(s3).value();
    auto proxy = HttpFaultProxy::Start(s->s3->port());
    if (!proxy.ok()) {
      s->status = proxy.status();
      return s;
    }
    s->proxy = std::move(proxy).value();
    return s;
  }();
  return *servers;
}

class ManifestS3CasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TheServers().proxy) RWMETA_SKIP_OR_FAIL(TheServers().status.ToString());
    static std::atomic<int> counter{0};
    dir_ = "cas" + std::to_string(counter++);
    // Straight to s3rver: what the proxy uses to judge conditions, and "another writer".
    ASSERT_OK_AND_ASSIGN(direct_, objstore::OpenObjectStore(fmt::format(
                                      "minio://{}:{}@127.0.0.1:{}/{}", S3Server::kAccessKey,
                                      S3Server::kSecretKey, TheServers().s3->port(), kBucket)));
    // Through the proxy, with conditional puts on: the store under test.
    ASSERT_OK_AND_ASSIGN(
        store_, objstore::OpenObjectStore(fmt::format(
                    "minio://{}:{}@127.0.0.1:{}/{}?conditional_put=true", S3Server::kAccessKey,
                    S3Server::kSecretKey, TheServers().proxy->port(), kBucket)));
    ASSERT_TRUE(store_->SupportsConditionalPut());
    TheServers().proxy->EmulateConditionalWrites(
        [this](const std::string& path) { return EtagOnServer(path); });
  }
  void TearDown() override {
    if (TheServers().proxy) TheServers().proxy->EmulateConditionalWrites(nullptr);
  }

  // What the proxy judges a conditional PUT of `path` ("/manifests/<key>") by: the object's ETag
  // on s3rver. Counts the conditional PUTs and runs the test's injection first.
  Result<std::string> EtagOnServer(const std::string& path) {
    ++conditional_puts_;
    const std::string key = path.substr(std::string("/").size() + std::strlen(kBucket) + 1);
    if (before_judging_) before_judging_(key);
    RWMETA_ASSIGN_OR_RETURN(objstore::ObjectMeta meta, direct_->Head(key));
    return meta.etag;
  }

  static Status AddSnapshot(Manifest& m, uint64_t id) {
    SnapshotMetadata entry;
    entry.id = id;
    entry.hummock_version_id = id * 10;
    entry.format_version = 1;
    m.snapshots.push_back(entry);
    return Status::Ok();
  }

  std::vector<uint64_t> Ids(const Manifest& m) {
    std::vector<uint64_t> ids;
    for (const auto& s : m.snapshots) ids.push_back(s.id);
    return ids;
  }

  std::string dir_;
  std::unique_ptr<objstore::ObjectStore> direct_;
  std::unique_ptr<objstore::ObjectStore> store_;
  std::atomic<int> conditional_puts_{0};
  std::function<void(const std::string& key)> before_judging_;
};

TEST_F(ManifestS3CasTest, ConditionalPutsMapToAbortedWhenTheConditionFails) {
  const std::string key = dir_ + "/obj";
  objstore::PutOptions create;
  create.if_none_match = true;
  ASSERT_OK(store_->Put(key, "one", create));
  EXPECT_THAT(store_->Put(key, "two", create),
              StatusIs(StatusCode::kAborted, HasSubstr("PreconditionFailed")));
  ASSERT_OK_AND_ASSIGN(objstore::ObjectMeta meta, store_->Head(key));
  objstore::PutOptions stale;
  stale.if_match_etag = "0123456789abcdef0123456789abcdef";
  EXPECT_THAT(store_->Put(key, "three", stale), StatusIs(StatusCode::kAborted));
  objstore::PutOptions current;
  current.if_match_etag = meta.etag;
  ASSERT_OK(store_->Put(key, "four", current));
  EXPECT_THAT(store_->Put(key, "five", current), StatusIs(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(std::string data, direct_->Get(key));
  EXPECT_EQ(data, "four");
  EXPECT_EQ(conditional_puts_, 5);
}

TEST_F(ManifestS3CasTest, UpdatesUseCompareAndSwapAndNeverLoseAConcurrentWriter) {
  ManifestStore manifests(store_.get(), dir_);
  ASSERT_OK_AND_ASSIGN(Manifest first,
                       manifests.Update([](Manifest& m) { return AddSnapshot(m, 1); }));
  EXPECT_EQ(first.manifest_id, 1u);
  EXPECT_EQ(conditional_puts_, 1);  // the first manifest: If-None-Match
  // No lock objects: the CAS path was taken.
  ASSERT_OK_AND_ASSIGN(auto locks, direct_->List(dir_ + "/manifest.lock"));
  EXPECT_TRUE(locks.empty());

  // Another writer publishes between this writer's read and its conditional PUT: the PUT fails
  // on the changed ETag, and the update is redone on top of the other writer's manifest.
  ManifestStore other(direct_.get(), dir_, {.force_lock = true});
  bool injected = false;
  before_judging_ = [&](const std::string& key) {
    if (injected || key != dir_ + "/manifest.json") return;
    injected = true;
    ASSERT_OK(other.Update([](Manifest& m) { return AddSnapshot(m, 2); }).status());
  };
  int attempts = 0;
  ASSERT_OK_AND_ASSIGN(Manifest published, manifests.Update([&](Manifest& m) {
    ++attempts;
    return AddSnapshot(m, 3);
  }));
  EXPECT_TRUE(injected);
  EXPECT_EQ(attempts, 2);
  EXPECT_THAT(Ids(published), ElementsAre(1, 2, 3));
  EXPECT_EQ(published.manifest_id, 3u);
  ManifestStore reader(direct_.get(), dir_);
  ASSERT_OK_AND_ASSIGN(Manifest stored, reader.Read());
  EXPECT_EQ(stored, published);
}

}  // namespace
}  // namespace rwmeta::backup
