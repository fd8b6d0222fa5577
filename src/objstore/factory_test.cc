#include "objstore/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <random>

#include "common/testing/status_matchers.h"
#include "objstore/object_store_conformance.h"

namespace rwmeta::objstore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(OpenObjectStoreTest, MemoryIsSharedPerExactUrl) {
  ASSERT_OK_AND_ASSIGN(auto a, OpenObjectStore("memory"));
  ASSERT_OK_AND_ASSIGN(auto b, OpenObjectStore("memory"));
  ASSERT_OK(a->Put("factory-test/shared", "seen by both"));
  ASSERT_OK_AND_ASSIGN(std::string v, b->Get("factory-test/shared"));
  EXPECT_EQ(v, "seen by both");
  EXPECT_EQ(a->DisplayUrl(), "memory");
  // Another URL is another store.
  ASSERT_OK_AND_ASSIGN(auto other, OpenObjectStore("memory://other"));
  EXPECT_THAT(other->Get("factory-test/shared"), StatusIs(StatusCode::kNotFound));
  // Objects outlive the handles that wrote them.
  a.reset();
  b.reset();
  ASSERT_OK_AND_ASSIGN(auto c, OpenObjectStore("memory"));
  ASSERT_OK_AND_ASSIGN(v, c->Get("factory-test/shared"));
  EXPECT_EQ(v, "seen by both");
  ASSERT_OK(c->Delete("factory-test/shared"));
}

TEST(OpenObjectStoreTest, MemoryIsolatedIsFreshEachTime) {
  ASSERT_OK_AND_ASSIGN(auto a, OpenObjectStore("memory-isolated"));
  ASSERT_OK_AND_ASSIGN(auto b, OpenObjectStore("memory-isolated"));
  ASSERT_OK(a->Put("k", "v"));
  EXPECT_THAT(b->Get("k"), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(a->SupportsConditionalPut());
  // RisingWave's spelling.
  ASSERT_OK_AND_ASSIGN(auto c, OpenObjectStore("memory-isolated-for-test"));
  EXPECT_THAT(c->Get("k"), StatusIs(StatusCode::kNotFound));
}

TEST(OpenObjectStoreTest, MemorySharedIsRisingWavesSpellingOfShared) {
  ASSERT_OK_AND_ASSIGN(auto a, OpenObjectStore("memory-shared"));
  ASSERT_OK_AND_ASSIGN(auto b, OpenObjectStore("memory-shared"));
  ASSERT_OK(a->Put("factory-test/k", "v"));
  ASSERT_OK_AND_ASSIGN(std::string v, b->Get("factory-test/k"));
  EXPECT_EQ(v, "v");
  ASSERT_OK(a->Delete("factory-test/k"));
}

TEST(OpenObjectStoreTest, FsCreatesTheDirectory) {
  ASSERT_OK_AND_ASSIGN(std::string dir, testing::MakeTempDir());
  std::string root = dir + "/nested/objects";
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenObjectStore("fs://" + root));
    EXPECT_EQ(store->DisplayUrl(), "fs://" + root);
    struct stat st;
    ASSERT_EQ(::stat(root.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_OK(store->Put("x", "1"));
    ASSERT_OK_AND_ASSIGN(auto again, OpenObjectStore("fs://" + root + "/"));
    ASSERT_OK_AND_ASSIGN(std::string v, again->Get("x"));
    EXPECT_EQ(v, "1");
  }
  testing::RemoveTempDir(dir);
}

TEST(OpenObjectStoreTest, FsNeedsAnAbsolutePath) {
  EXPECT_THAT(OpenObjectStore("fs://relative/dir"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fs:///abs/dir")));
  EXPECT_THAT(OpenObjectStore("fs://"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenObjectStore("fs:relative"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenObjectStore("fs:///tmp/x?sync=false"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("query")));
}

TEST(OpenObjectStoreTest, S3AndMinioOpenWithoutIoAndShowNoSecrets) {
  // Opening does no I/O: nothing listens on these addresses.
  ASSERT_OK_AND_ASSIGN(auto s3, OpenObjectStore("s3://rwmeta-bucket/backup/dir/"));
  EXPECT_EQ(s3->DisplayUrl(), "s3://rwmeta-bucket/backup/dir");
  EXPECT_FALSE(s3->SupportsConditionalPut() && std::getenv("AWS_ENDPOINT_URL") != nullptr);
  ASSERT_OK_AND_ASSIGN(auto minio,
                       OpenObjectStore("minio://hummockadmin:topsecret@127.0.0.1:9301/hummock001"));
  EXPECT_EQ(minio->DisplayUrl(), "minio://127.0.0.1:9301/hummock001");
  EXPECT_FALSE(minio->SupportsConditionalPut());
  ASSERT_OK_AND_ASSIGN(
      auto cas, OpenObjectStore("minio://k:s@127.0.0.1:9301/hummock001/p?conditional_put=true"));
  EXPECT_TRUE(cas->SupportsConditionalPut());
  EXPECT_EQ(cas->DisplayUrl(), "minio://127.0.0.1:9301/hummock001/p");
}

TEST(OpenObjectStoreTest, MalformedS3UrlsAreInvalidArgumentWithoutLeakingSecrets) {
  EXPECT_THAT(OpenObjectStore("s3://"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bucket")));
  EXPECT_THAT(OpenObjectStore("s3://Bad_Bucket!"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenObjectStore("s3://ab"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid bucket name")));
  EXPECT_THAT(OpenObjectStore("s3://key:topsecret@bucket"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("AWS_ACCESS_KEY_ID"), Not(HasSubstr("topsecret")))));
  EXPECT_THAT(OpenObjectStore("s3://bucket?colour=blue"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("colour")));
  EXPECT_THAT(OpenObjectStore("minio://127.0.0.1:9301/bucket"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("minio://<key>:<secret>@")));
  EXPECT_THAT(OpenObjectStore("minio://k:topsecret@127.0.0.1/bucket"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("host:port"), Not(HasSubstr("topsecret")))));
  EXPECT_THAT(OpenObjectStore("minio://k:topsecret@127.0.0.1:9000/"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("no bucket"), Not(HasSubstr("topsecret")))));
  EXPECT_THAT(OpenObjectStore("minio://k:topsecret@127.0.0.1:9000/b?conditional_put=maybe"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("conditional_put"), Not(HasSubstr("topsecret")))));
}

TEST(OpenObjectStoreTest, OtherSchemesAreInvalidArgumentListingTheSupported) {
  EXPECT_THAT(OpenObjectStore("gcs://bucket"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("gcs"), HasSubstr("memory"), HasSubstr("memory-isolated"),
                             HasSubstr("fs:///"))));
  EXPECT_THAT(OpenObjectStore("hummock+fs:///x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("hummock+")));
  EXPECT_THAT(OpenObjectStore(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenObjectStore("not a url"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenObjectStore("memory#x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(OpenObjectStoreTest, GarbageNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "msfx3:/@?#%[]&=+-.ib \x01\xff";
  std::uniform_int_distribution<size_t> len(0, 30);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  int opened = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    for (size_t n = len(rng), j = 0; j < n; ++j) s.push_back(alphabet[pick(rng)]);
    // Never let random input create directories: only shared-memory and error paths are fuzzed.
    if (s.rfind("fs:", 0) == 0 || s.rfind("FS:", 0) == 0) continue;
    auto r = OpenObjectStore(s);
    if (r.ok()) {
      ++opened;
      continue;
    }
    EXPECT_THAT(r.status().code(),
                ::testing::AnyOf(StatusCode::kInvalidArgument, StatusCode::kUnimplemented))
        << s;
  }
  (void)opened;
}

}  // namespace
}  // namespace rwmeta::objstore
