#include "metastore/endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

TEST(EndpointTest, SqliteTurnsAPathIntoAnAbsoluteUrl) {
  MetaStoreEndpoint e{.type = "sqlite", .sql_endpoint = "/var/lib/rw/../rw/meta.db"};
  EXPECT_EQ(*BuildMetaStoreUrl(e), "sqlite:///var/lib/rw/meta.db?mode=rwc");
  e.sql_endpoint = "sqlite:///x.db?mode=rwc";
  EXPECT_EQ(*BuildMetaStoreUrl(e), "sqlite:///x.db?mode=rwc");
}

TEST(EndpointTest, PostgresAndMysqlAreBuiltFromTheirParts) {
  MetaStoreEndpoint e{.type = "postgres",
                      .sql_endpoint = "127.0.0.1:5432",
                      .sql_username = "u",
                      .sql_password = "p@ss word",
                      .sql_database = "meta",
                      .sql_url_params = "sslmode=disable"};
  EXPECT_EQ(*BuildMetaStoreUrl(e),
            "postgres://u:p%40ss%20word@127.0.0.1:5432/meta?sslmode=disable");
  e.type = "mysql";
  e.sql_url_params.reset();
  EXPECT_EQ(*BuildMetaStoreUrl(e), "mysql://u:p%40ss%20word@127.0.0.1:5432/meta");
  e.sql_database = "";
  EXPECT_THAT(BuildMetaStoreUrl(e),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--sql-database")));
}

TEST(EndpointTest, EtcdWithAndWithoutAuth) {
  MetaStoreEndpoint e{.type = "etcd", .etcd_endpoints = "h1:2379,h2:2379"};
  EXPECT_EQ(*BuildMetaStoreUrl(e), "etcd://h1:2379,h2:2379");
  e.etcd_auth = true;
  EXPECT_THAT(BuildMetaStoreUrl(e),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--etcd-username")));
  e.etcd_username = "root";
  e.etcd_password = "secret";
  EXPECT_EQ(*BuildMetaStoreUrl(e), "etcd://root:secret@h1:2379,h2:2379");
}

TEST(EndpointTest, BadInputIsAClearError) {
  EXPECT_THAT(
      BuildMetaStoreUrl({.type = "oracle"}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown meta store type 'oracle'")));
  EXPECT_THAT(BuildMetaStoreUrl({.type = "sql", .sql_endpoint = "meta.db"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("full URL")));
  EXPECT_THAT(BuildMetaStoreUrl({.type = "sqlite"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(*BuildMetaStoreUrl({.type = "mem"}), "memory");
}

}  // namespace
}  // namespace rwmeta::metastore
