#include "meta/bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "common/testing/status_matchers.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "meta/test_store.h"

namespace rwmeta::meta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::UnorderedElementsAre;

class BootstrapTest : public ::testing::TestWithParam<std::string> {};

BootstrapOptions Options() {
  BootstrapOptions o;
  o.state_store = "hummock+fs:///var/state";
  o.data_directory = "hummock_001";
  return o;
}

TEST_P(BootstrapTest, FirstStartWritesClusterParamsRootAndDev) {
  testing::TestStore store(GetParam());
  ASSERT_OK_AND_ASSIGN(ClusterInfo info, BootstrapCluster(store, Options()));
  EXPECT_TRUE(info.created);
  EXPECT_TRUE(std::regex_match(
      info.cluster_id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << info.cluster_id;

  SystemParamsManager params(store);
  ASSERT_OK(params.Reload());
  EXPECT_EQ(*params.Get("state_store"), "hummock+fs:///var/state");
  EXPECT_EQ(*params.Get("backup_storage_url"), "fs:///var/state");
  EXPECT_EQ(*params.Get("backup_storage_directory"), "hummock_001/backup");

  ASSERT_OK_AND_ASSIGN(auto catalog, CatalogManager::Open(store));
  auto snap = catalog->Snapshot();
  ASSERT_EQ(snap->users.size(), 1u);
  EXPECT_EQ(snap->users.begin()->name, "root");
  EXPECT_TRUE(snap->users.begin()->is_super);
  EXPECT_FALSE(snap->users.begin()->auth_type.has_value());
  ASSERT_EQ(snap->databases.size(), 1u);
  EXPECT_EQ(snap->databases.begin()->name, "dev");
  EXPECT_EQ(snap->databases.begin()->owner_id, snap->users.begin()->id);
  std::vector<std::string> schemas;
  for (const auto& s : snap->schemas) {
    EXPECT_EQ(s.database_id, snap->databases.begin()->id);
    schemas.push_back(s.name);
  }
  EXPECT_THAT(schemas,
              UnorderedElementsAre("public", "pg_catalog", "rw_catalog", "information_schema"));
}

TEST_P(BootstrapTest, SecondStartKeepsClusterAndPersistedParams) {
  testing::TestStore store(GetParam());
  ASSERT_OK_AND_ASSIGN(ClusterInfo first, BootstrapCluster(store, Options()));
  BootstrapOptions other = Options();
  other.state_store = "hummock+memory";  // disagrees: persisted wins, with a warning
  other.backup_storage_url = "s3://elsewhere";
  ASSERT_OK_AND_ASSIGN(ClusterInfo second, BootstrapCluster(store, other));
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.cluster_id, first.cluster_id);
  EXPECT_EQ(second.created_at_ms, first.created_at_ms);
  EXPECT_EQ(first.generation, 1u);
  EXPECT_EQ(second.generation, 1u);

  SystemParamsManager params(store);
  ASSERT_OK(params.Reload());
  EXPECT_EQ(*params.Get("state_store"), "hummock+fs:///var/state");
  EXPECT_EQ(*params.Get("backup_storage_url"), "fs:///var/state");
  ASSERT_OK_AND_ASSIGN(auto catalog, CatalogManager::Open(store));
  EXPECT_EQ(catalog->Snapshot()->users.size(), 1u);
  EXPECT_EQ(catalog->Snapshot()->databases.size(), 1u);
}

TEST_P(BootstrapTest, OverridesAndBadOptions) {
  testing::TestStore store(GetParam());
  BootstrapOptions o = Options();
  o.backup_storage_url = "s3://backup_bucket";
  o.backup_storage_directory = "backup_data";
  ASSERT_OK(BootstrapCluster(store, o).status());
  SystemParamsManager params(store);
  ASSERT_OK(params.Reload());
  EXPECT_EQ(*params.Get("backup_storage_url"), "s3://backup_bucket");
  EXPECT_EQ(*params.Get("backup_storage_directory"), "backup_data");

  testing::TestStore empty(GetParam());
  BootstrapOptions bad = Options();
  bad.backup_storage_directory = " ";
  EXPECT_THAT(BootstrapCluster(empty, bad),
              StatusIs(StatusCode::kInvalidArgument, "backup_storage_directory cannot be empty"));
  // Nothing was written: a corrected retry creates the cluster.
  ASSERT_OK_AND_ASSIGN(ClusterInfo info, BootstrapCluster(empty, Options()));
  EXPECT_TRUE(info.created);
}

// The cluster row records the generation: 1 at the first start, what restore wrote later, and 1
// for a row from before the column existed (NULL).
TEST_P(BootstrapTest, GenerationIsReadFromTheClusterRow) {
  testing::TestStore store(GetParam());
  ASSERT_OK_AND_ASSIGN(ClusterInfo first, BootstrapCluster(store, Options()));
  const auto& cluster = metastore::Model::Get().Table("cluster");
  const int column = cluster.ColumnIndex("generation");
  ASSERT_GE(column, 0);
  auto set_generation = [&](metastore::Value v) {
    return metastore::RunTransaction(store, [&](metastore::Transaction& txn) -> Status {
      RWMETA_ASSIGN_OR_RETURN(std::optional<metastore::Row> row,
                              txn.Get(cluster, metastore::Key{first.cluster_id}));
      if (!row.has_value()) return NotFoundError("no cluster row");
      metastore::Row changed = std::move(*row);
      changed[column] = v;
      return txn.Update(cluster, changed);
    });
  };
  ASSERT_OK(set_generation(int64_t{4}));
  ASSERT_OK_AND_ASSIGN(ClusterInfo restored, BootstrapCluster(store, Options()));
  EXPECT_EQ(restored.generation, 4u);
  ASSERT_OK(set_generation(std::monostate{}));
  ASSERT_OK_AND_ASSIGN(ClusterInfo old, BootstrapCluster(store, Options()));
  EXPECT_EQ(old.generation, 1u);
}

TEST_P(BootstrapTest, UuidsDiffer) { EXPECT_NE(NewUuidV4(), NewUuidV4()); }

INSTANTIATE_TEST_SUITE_P(Backends, BootstrapTest, ::testing::ValuesIn(testing::kTestBackends));

}  // namespace
}  // namespace rwmeta::meta
