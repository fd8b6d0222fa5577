#include "restore/target_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/status_matchers.h"

namespace rwmeta::restore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

MetaStoreFlags Flags(std::string type) {
  MetaStoreFlags f;
  f.type = std::move(type);
  return f;
}

TEST(MetaStoreUrlTest, SqlTakesTheWholeUrl) {
  MetaStoreFlags f = Flags("sql");
  f.sql_endpoint = "postgres://u:p@127.0.0.1:5432/meta2";
  EXPECT_EQ(*MetaStoreUrl(f), "postgres://u:p@127.0.0.1:5432/meta2");
  f.sql_endpoint = "sqlite:///abs/meta.db?mode=rwc";
  EXPECT_EQ(*MetaStoreUrl(f), "sqlite:///abs/meta.db?mode=rwc");
  // RisingWave's relative spelling resolves against the working directory.
  f.sql_endpoint = "sqlite://rel/meta.db?mode=rwc";
  EXPECT_EQ(*MetaStoreUrl(f),
            "sqlite://" + (std::filesystem::current_path() / "rel/meta.db").string() + "?mode=rwc");
}

TEST(MetaStoreUrlTest, SqlRefusesInMemoryAndForeignSchemesAndSplitFlags) {
  MetaStoreFlags f = Flags("sql");
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs --sql-endpoint")));
  f.sql_endpoint = "sqlite::memory:";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("in-memory SQLite")));
  f.sql_endpoint = "etcd://127.0.0.1:2379";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme etcd is not sqlite")));
  f.sql_endpoint = "postgres://h/db";
  f.sql_username = "u";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("takes the whole URL")));
}

TEST(MetaStoreUrlTest, SqliteTakesAFilePath) {
  MetaStoreFlags f = Flags("sqlite");
  f.sql_endpoint = "/var/lib/rw/meta.db";
  EXPECT_EQ(*MetaStoreUrl(f), "sqlite:///var/lib/rw/meta.db?mode=rwc");
  f.sql_endpoint = "";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--sql-endpoint (the SQLite file) is required for sqlite")));
}

TEST(MetaStoreUrlTest, PostgresAndMysqlAreBuiltFromTheirParts) {
  MetaStoreFlags f = Flags("postgres");
  f.sql_endpoint = "127.0.0.1:5432";
  f.sql_username = "rw";
  f.sql_password = "p@ss/word";
  f.sql_database = "meta2";
  f.sql_url_params = "sslmode=disable";
  EXPECT_EQ(*MetaStoreUrl(f), "postgres://rw:p%40ss%2Fword@127.0.0.1:5432/meta2?sslmode=disable");
  f.type = "mysql";
  f.sql_url_params.reset();
  EXPECT_EQ(*MetaStoreUrl(f), "mysql://rw:p%40ss%2Fword@127.0.0.1:5432/meta2");
  f.sql_database = "";
  EXPECT_THAT(
      MetaStoreUrl(f).status(),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--sql-database is required for mysql")));
  f.sql_database = "meta2";
  f.sql_endpoint = "mysql://127.0.0.1/meta2";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is host[:port], not a URL")));
}

TEST(MetaStoreUrlTest, EtcdWithAndWithoutAuth) {
  MetaStoreFlags f = Flags("etcd");
  f.etcd_endpoints = "127.0.0.1:2379,127.0.0.1:2380";
  EXPECT_EQ(*MetaStoreUrl(f), "etcd://127.0.0.1:2379,127.0.0.1:2380");
  f.etcd_username = "root";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("need --etcd-auth")));
  f.etcd_auth = true;
  f.etcd_password = "s3cret:x";
  EXPECT_EQ(*MetaStoreUrl(f), "etcd://root:s3cret%3Ax@127.0.0.1:2379,127.0.0.1:2380");
  f.etcd_username = "";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--etcd-username is required with --etcd-auth")));
  f = Flags("etcd");
  EXPECT_THAT(
      MetaStoreUrl(f).status(),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--etcd-endpoints is required for etcd")));
  f = Flags("sqlite");
  f.sql_endpoint = "/x.db";
  f.etcd_endpoints = "h:1";
  EXPECT_THAT(MetaStoreUrl(f).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--etcd-* flags need")));
}

TEST(MetaStoreUrlTest, ErrorsNeverShowThePassword) {
  MetaStoreFlags f = Flags("sql");
  f.sql_endpoint = "redis://u:topsecret@h/db";
  auto url = MetaStoreUrl(f);
  ASSERT_THAT(url.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(url.status().message(), Not(HasSubstr("topsecret")));
}

TEST(MetaStoreUrlTest, UnknownTypeIsRefused) {
  EXPECT_THAT(MetaStoreUrl(Flags("mem")).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--meta-store-type mem is not one of sql, sqlite, postgres, "
                                 "mysql, etcd")));
}

}  // namespace
}  // namespace rwmeta::restore
