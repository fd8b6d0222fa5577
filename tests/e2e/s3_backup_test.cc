// Meta snapshots on S3 (issue 6): the state store (hummock+minio://) and the backup storage
// (backup_storage_url minio://) both on a real S3-compatible server (s3rver). A busy cluster, a
// snapshot, more changes, then restore-meta into a fresh SQLite file: the restored cluster shows
// the data as of the snapshot, and an independent S3 client (awscli) sees the manifest and the
// snapshot object in the bucket.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "common/testing/status_matchers.h"
#include "e2e/busy_cluster.h"
#include "testing/s3_server.h"

namespace rwmeta::e2e {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

TEST(S3BackupTest, SnapshotOnS3RestoresIntoFreshSqlite) {
  auto server = testing::S3Server::Start({.buckets = {"state", "backup"}});
  if (!server.ok()) {
    RWMETA_SKIP_OR_FAIL("s3rver is not available: " + server.status().ToString());
  }
  const std::string s3 = fmt::format("minio://{}:{}@127.0.0.1:{}", testing::S3Server::kAccessKey,
                                     testing::S3Server::kSecretKey, (*server)->port());
  TempDir dir;
  StorageSpec storage;
  storage.state_url = s3 + "/state";
  storage.backup_url = s3 + "/backup";
  storage.backup_directory = "meta_snapshots";
  MetaStoreSpec source{.label = "sqlite",
                       .endpoint = {.type = "sqlite", .sql_endpoint = dir.path() + "/source.db"}};
  MetaStoreSpec target{.label = "sqlite",
                       .endpoint = {.type = "sqlite", .sql_endpoint = dir.path() + "/target.db"}};
  const std::string source_dir = dir.path() + "/source";
  const std::string target_dir = dir.path() + "/target";
  std::filesystem::create_directories(source_dir);
  std::filesystem::create_directories(target_dir);

  ASSERT_OK_AND_ASSIGN(auto node, StartNode(source_dir, source, storage));
  ASSERT_OK(MakeBusyCluster(node->pg_port(), 120)) << node->Log();
  ASSERT_OK_AND_ASSIGN(ClusterState at_snapshot, CaptureState(*node));
  ASSERT_OK_AND_ASSIGN(ClusterState rows_at_snapshot, DumpCatalogRows(source));
  EXPECT_EQ(std::count(at_snapshot["dev: rows of public.typed"].begin(),
                       at_snapshot["dev: rows of public.typed"].end(), '\n'),
            120);
  EXPECT_THAT(at_snapshot["SHOW PARAMETERS"],
              HasSubstr(fmt::format("state_store|hummock+minio://{}:***@127.0.0.1:{}/state|",
                                    testing::S3Server::kAccessKey, (*server)->port())));

  ASSERT_OK_AND_ASSIGN(uint64_t snapshot_id, TakeSnapshot(*node));
  ASSERT_OK(ChangeAfterSnapshot(node->pg_port())) << node->Log();
  ASSERT_OK_AND_ASSIGN(ClusterState changed, CaptureState(*node));
  EXPECT_NE(changed["dev: rows of public.typed"], at_snapshot["dev: rows of public.typed"]);
  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
  ASSERT_EQ(code, 0) << node->Log();

  // awscli, not our S3 client, finds the manifest and the snapshot object.
  ASSERT_OK_AND_ASSIGN(CommandResult ls,
                       RunCommand({"/usr/bin/aws", "--endpoint-url", (*server)->endpoint(), "s3",
                                   "ls", "--recursive", "s3://backup/meta_snapshots/"},
                                  (*server)->AwsEnv()));
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr(" meta_snapshots/manifest.json\n"));
  EXPECT_THAT(ls.out, HasSubstr(fmt::format(" meta_snapshots/{}.snapshot\n", snapshot_id)));
  ASSERT_OK_AND_ASSIGN(CommandResult manifest,
                       RunCommand({"/usr/bin/aws", "--endpoint-url", (*server)->endpoint(), "s3",
                                   "cp", "s3://backup/meta_snapshots/manifest.json", "-"},
                                  (*server)->AwsEnv()));
  ASSERT_EQ(manifest.exit_code, 0) << manifest.err;
  EXPECT_THAT(manifest.out, HasSubstr("\"snapshot_metadata\""));
  EXPECT_THAT(manifest.out, AnyOf(HasSubstr(fmt::format("\"id\":{},", snapshot_id)),
                                  HasSubstr(fmt::format("\"id\": {},", snapshot_id))));

  // --validate-integrity: every object the snapshot references is found in the S3 state store.
  std::vector<std::string> restore_args = RestoreArgs(snapshot_id, target, storage);
  restore_args.push_back("--validate-integrity");
  ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(restore_args));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_THAT(restore.out, HasSubstr(fmt::format("restored meta snapshot {}: cluster {}",
                                                 snapshot_id, at_snapshot["Cluster ID:"])));
  ASSERT_OK_AND_ASSIGN(ClusterState rows_restored, DumpCatalogRows(target));
  EXPECT_EQ(rows_restored, rows_at_snapshot);

  ASSERT_OK_AND_ASSIGN(auto restored, StartNode(target_dir, target, storage));
  ASSERT_OK_AND_ASSIGN(ClusterState state, CaptureState(*restored));
  for (const auto& [label, text] : at_snapshot) EXPECT_EQ(state[label], text) << label;
  EXPECT_EQ(state.size(), at_snapshot.size());
  EXPECT_OK(CheckNewWorkOnRestored(restored->pg_port())) << restored->Log();
  ASSERT_OK_AND_ASSIGN(code, restored->Stop(SIGTERM));
  EXPECT_EQ(code, 0) << restored->Log();
}

}  // namespace
}  // namespace rwmeta::e2e
