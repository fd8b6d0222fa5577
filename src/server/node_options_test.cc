#include "server/node_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::server {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NodeOptionsTest, NoFlagsGiveTheEmbeddedDefaults) {
  Config c = MakeNodeConfig();
  ASSERT_OK_AND_ASSIGN(NodeOptions o, ResolveNodeOptions(c, "/home/op"));
  EXPECT_EQ(o.listen_addr, "127.0.0.1:5690");
  EXPECT_EQ(o.pg_listen_addr, "127.0.0.1:4566");
  EXPECT_EQ(o.meta_store_url, "sqlite:///home/op/rwmeta-data/meta.db?mode=rwc");
  EXPECT_EQ(o.state_store, "hummock+fs:///home/op/rwmeta-data/state");
  EXPECT_EQ(o.data_directory, "hummock_001");
  EXPECT_EQ(o.backup_storage_url, std::nullopt);
  EXPECT_EQ(o.log_level, "info");
}

TEST(NodeOptionsTest, BackendFlagsBuildTheMetaStoreUrl) {
  Config c = MakeNodeConfig();
  ASSERT_OK(c.SetFlag("meta.backend", "sql"));
  ASSERT_OK(c.SetFlag("meta.sql_endpoint", "postgres://u:p@127.0.0.1:5432/meta2"));
  ASSERT_OK(c.SetFlag("system.state_store", "hummock+s3://state_bucket"));
  ASSERT_OK_AND_ASSIGN(NodeOptions o, ResolveNodeOptions(c, "/"));
  EXPECT_EQ(o.meta_store_url, "postgres://u:p@127.0.0.1:5432/meta2");
  EXPECT_EQ(o.state_store, "hummock+s3://state_bucket");

  Config rel = MakeNodeConfig();
  ASSERT_OK(rel.SetFlag("meta.sql_endpoint", "data/m.db"));
  ASSERT_OK_AND_ASSIGN(NodeOptions r, ResolveNodeOptions(rel, "/srv"));
  EXPECT_EQ(r.meta_store_url, "sqlite:///srv/data/m.db?mode=rwc");
}

TEST(NodeOptionsTest, BadCombinationsNameTheFlag) {
  Config c = MakeNodeConfig();
  ASSERT_OK(c.SetFlag("system.state_store", "fs:///x"));
  EXPECT_THAT(
      ResolveNodeOptions(c, "/"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--state-store must start with hummock+")));
  Config pg = MakeNodeConfig();
  ASSERT_OK(pg.SetFlag("meta.backend", "postgres"));
  ASSERT_OK(pg.SetFlag("meta.sql_endpoint", "127.0.0.1:5432"));
  EXPECT_THAT(ResolveNodeOptions(pg, "/"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--sql-database")));
  Config etcd = MakeNodeConfig();
  ASSERT_OK(etcd.SetFlag("meta.etcd_auth", "yes"));
  EXPECT_THAT(ResolveNodeOptions(etcd, "/"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--etcd-auth")));
  Config ttl = MakeNodeConfig();
  ASSERT_OK(ttl.SetFlag("meta.state_store_lease_ttl_ms", "0"));
  EXPECT_THAT(ResolveNodeOptions(ttl, "/"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--state-store-lease-ttl-ms")));
}

TEST(NodeOptionsTest, StateStoreLeaseFlags) {
  Config c = MakeNodeConfig();
  ASSERT_OK_AND_ASSIGN(NodeOptions defaults, ResolveNodeOptions(c, "/"));
  EXPECT_FALSE(defaults.force_state_store_lease);
  EXPECT_EQ(defaults.state_store_lease_ttl_ms, 6000);
  ASSERT_OK(c.SetFlag("meta.force_state_store_lease", "true"));
  ASSERT_OK(c.SetFlag("meta.state_store_lease_ttl_ms", "1500"));
  ASSERT_OK_AND_ASSIGN(NodeOptions o, ResolveNodeOptions(c, "/"));
  EXPECT_TRUE(o.force_state_store_lease);
  EXPECT_EQ(o.state_store_lease_ttl_ms, 1500);
}

}  // namespace
}  // namespace rwmeta::server
