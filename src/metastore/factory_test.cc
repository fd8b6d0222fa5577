#include "metastore/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class FactoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "rwmeta-factory-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(FactoryTest, MemoryIsFreshAndNotMigrated) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore("memory"));
  EXPECT_EQ(store->backend(), "memory");
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, 0);
  EXPECT_TRUE(state.empty);
}

TEST_F(FactoryTest, SqliteCreatesFileAndParentDirectoriesWithoutMigrating) {
  const std::string path = dir_ + "/a/b/meta.db";
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore("sqlite://" + path + "?mode=rwc"));
  EXPECT_EQ(store->backend(), "sqlite");
  EXPECT_TRUE(std::filesystem::exists(path));
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, 0);
  ASSERT_OK(store->Migrate());
  store.reset();
  // mode=rw opens the existing file, and refuses a missing one.
  ASSERT_OK_AND_ASSIGN(auto again, OpenMetaStore("sqlite://" + path + "?mode=rw"));
  ASSERT_OK_AND_ASSIGN(state, again->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_THAT(OpenMetaStore("sqlite://" + dir_ + "/missing.db?mode=rw"),
              StatusIs(StatusCode::kInternal, HasSubstr("missing.db")));
  ASSERT_OK(OpenMetaStore("sqlite://" + dir_ + "/plain.db"));
}

// The SQL backends against real servers are tested in postgres/ and mysql/ (metastore_server_test).
TEST_F(FactoryTest, SqlUrlsReachTheirBackends) {
  // Nothing listens on port 1: refused at once, and the password is not in the message.
  for (const char* url :
       {"postgres://u:secret@127.0.0.1:1/meta", "postgresql://u:secret@127.0.0.1:1/meta",
        "mysql://u:secret@127.0.0.1:1/meta"}) {
    EXPECT_THAT(OpenMetaStore(url),
                StatusIs(StatusCode::kUnavailable,
                         ::testing::AllOf(HasSubstr("127.0.0.1"), Not(HasSubstr("secret")))))
        << url;
  }
  EXPECT_THAT(OpenMetaStore("postgres://u:p@127.0.0.1:1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("database name")));
  EXPECT_THAT(OpenMetaStore("mysql://u:p@127.0.0.1:1/a/b"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("database name")));
  EXPECT_THAT(OpenMetaStore("mysql://u:p@127.0.0.1:1/meta?pool=3"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown parameter 'pool'")));
  EXPECT_THAT(OpenMetaStore("postgres://u:p@127.0.0.1:1/meta?user=x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'user' belongs in the url")));
}

// The etcd backend against a real server is tested in etcd/etcd_meta_store_server_test.cc.
TEST_F(FactoryTest, EtcdUrlsReachTheEtcdBackend) {
  EXPECT_THAT(OpenMetaStore("etcd://"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no endpoint")));
  EXPECT_THAT(OpenMetaStore("ETCD://root:secret@h1:2379,:2379"),
              StatusIs(StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("no host"), Not(HasSubstr("secret")))));
  EXPECT_THAT(OpenMetaStore("etcd://127.0.0.1:2379?pool=3"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown parameter 'pool'")));
  // Nothing listens on port 1: refused at once, on both endpoints.
  EXPECT_THAT(OpenMetaStore("etcd://127.0.0.1:1,127.0.0.1:1/x?timeout_ms=3000"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("127.0.0.1:1")));
}

TEST_F(FactoryTest, BadUrlsAreInvalidArgument) {
  EXPECT_THAT(OpenMetaStore(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      OpenMetaStore("oracle://u:secret@h/db"),
      StatusIs(StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("unknown scheme 'oracle'"), Not(HasSubstr("secret")))));
  EXPECT_THAT(OpenMetaStore("sqlite://relative/meta.db"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(OpenMetaStore("sqlite:///"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenMetaStore("sqlite://" + dir_ + "/m.db?mode=ro"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("mode must be rwc or rw")));
  EXPECT_THAT(OpenMetaStore("sqlite://" + dir_ + "/m.db?cache=shared"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown parameter 'cache'")));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.db"));
}

}  // namespace
}  // namespace rwmeta::metastore
