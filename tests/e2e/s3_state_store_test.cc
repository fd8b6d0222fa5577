// The state store on S3: a meta node with `hummock+minio://...` against a real S3-compatible
// server (s3rver) keeps table data in SST objects there, and committed rows survive kill -9.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"
#include "testing/s3_server.h"

namespace rwmeta::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(S3StateStoreTest, TableDataLivesInS3AndSurvivesKill9) {
  auto server = testing::S3Server::Start({.buckets = {"state"}});
  if (!server.ok()) {
    RWMETA_SKIP_OR_FAIL("s3rver is not available: " + server.status().ToString());
  }
  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  options.extra_args = {
      "--state-store",
      fmt::format("hummock+minio://{}:{}@127.0.0.1:{}/state", testing::S3Server::kAccessKey,
                  testing::S3Server::kSecretKey, (*server)->port()),
      "--state-store-lease-ttl-ms", "1500"};
  ASSERT_OK_AND_ASSIGN(auto node, MetaNodeProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(
      auto r, Psql(node->pg_port(),
                   "CREATE TABLE kv (k int PRIMARY KEY, v varchar); "
                   "INSERT INTO kv SELECT g, 'value ' || g FROM generate_series(1, 500) AS g; "
                   "FLUSH; DELETE FROM kv WHERE k > 250; FLUSH;"));
  ASSERT_EQ(r.exit_code, 0) << r.err << node->Log();

  // An independent client sees the SST objects and the checkpoint bookkeeping in the bucket.
  ASSERT_OK_AND_ASSIGN(auto ls, RunCommand({"/usr/bin/aws", "--endpoint-url", (*server)->endpoint(),
                                            "s3", "ls", "--recursive", "s3://state/hummock_001/"},
                                           (*server)->AwsEnv()));
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr("hummock_001/cluster_id"));
  EXPECT_THAT(ls.out, MatchesRegex("(.|\n)*hummock_001/[0-9]+\\.data(.|\n)*"));

  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGKILL));
  EXPECT_EQ(code, -SIGKILL);
  ASSERT_OK_AND_ASSIGN(node, MetaNodeProcess::Start(node->options()));
  ASSERT_OK_AND_ASSIGN(r, Psql(node->pg_port(), "SELECT count(*), min(k), max(k) FROM kv"));
  ASSERT_EQ(r.exit_code, 0) << r.err << node->Log();
  EXPECT_EQ(r.out, "250|1|250\n");
}

}  // namespace
}  // namespace rwmeta::e2e
