// After restoring an older meta snapshot, the objects only a newer snapshot references are garbage
// to the restored cluster's version but still pinned by the manifest: full GC keeps them. Once the
// newer snapshot is deleted, the next full GC removes them, and nothing the restored cluster or the
// older snapshot needs.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kDataDir[] = "hummock_001";

// The object ids `risectl meta show-meta-snapshot <id> -v` prints on its "Object IDs:" line.
std::set<uint64_t> SnapshotObjects(const std::string& meta_addr, uint64_t id) {
  auto r = RunCommand({RisectlBinary(), "meta", "show-meta-snapshot", std::to_string(id), "-v",
                       "--meta-addr", meta_addr},
                      {}, std::chrono::seconds(60));
  std::set<uint64_t> ids;
  if (!r.ok() || r->exit_code != 0) {
    ADD_FAILURE() << "show-meta-snapshot " << id << ": "
                  << (r.ok() ? r->err : r.status().ToString());
    return ids;
  }
  std::istringstream lines(r->out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("Object IDs:")) continue;
    std::string list = line.substr(std::string("Object IDs:").size());
    std::replace(list.begin(), list.end(), ',', ' ');
    std::istringstream words(list);
    for (uint64_t v; words >> v;) ids.insert(v);
  }
  return ids;
}

class RestoreGcE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path();
    state_url_ = "fs://" + root_ + "/state";
    backup_url_ = "fs://" + root_ + "/backup";
  }

  std::vector<std::string> NodeArgs(const std::string& meta_db) const {
    return {"--backend",
            "sqlite",
            "--sql-endpoint",
            meta_db,
            "--state-store",
            "hummock+" + state_url_,
            "--data-directory",
            kDataDir,
            "--state-store-lease-ttl-ms",
            "1500"};
  }

  Result<std::unique_ptr<MetaNodeProcess>> Start(const std::string& meta_db,
                                                 std::vector<std::string> extra = {}) {
    fs::create_directories(fs::path(meta_db).parent_path());
    MetaNodeProcess::Options options;
    options.work_dir = fs::path(meta_db).parent_path().string();
    options.extra_args = NodeArgs(meta_db);
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    return MetaNodeProcess::Start(options);
  }

  std::string Sql(int port, const std::string& sql) {
    auto r = Psql(port, sql);
    if (!r.ok()) return "error: " + r.status().ToString();
    if (r->exit_code != 0) return "error: " + r->err;
    return r->out;
  }

  std::string Ctl(const std::string& meta_addr, std::vector<std::string> args) {
    args.insert(args.begin(), RisectlBinary());
    args.insert(args.end(), {"--meta-addr", meta_addr});
    auto r = RunCommand(args, {}, std::chrono::seconds(120));
    if (!r.ok()) return "error: " + r.status().ToString();
    if (r->exit_code != 0) return "error: " + r->err;
    return r->out;
  }

  bool ObjectExists(uint64_t id) const {
    return fs::exists(fmt::format("{}/state/{}/{}.data", root_, kDataDir, id));
  }

  TempDir dir_;
  std::string root_;
  std::string state_url_;
  std::string backup_url_;
};

TEST_F(RestoreGcE2eTest, ObjectsOfANewerSnapshotSurviveGcAfterRestoringAnOlderOneUntilDeleted) {
  std::set<uint64_t> first_objects;
  std::set<uint64_t> second_objects;
  {
    ASSERT_OK_AND_ASSIGN(auto node,
                         Start(root_ + "/src/meta.db", {"--backup-storage-url", backup_url_,
                                                        "--backup-storage-directory", "backup"}));
    const int port = node->pg_port();
    ASSERT_EQ(Sql(port,
                  "CREATE TABLE t (k int PRIMARY KEY, v varchar); "
                  "INSERT INTO t VALUES (1, 'a'), (2, 'b'); FLUSH; BACKUP"),
              "1\n");
    // Newer data in new SSTs, compacted together with the old ones: snapshot 2 references
    // objects snapshot 1 does not.
    ASSERT_EQ(Sql(port, "INSERT INTO t VALUES (3, 'c'); FLUSH; DELETE FROM t WHERE k = 1; FLUSH"),
              "");
    ASSERT_THAT(Ctl(node->meta_addr(), {"hummock", "trigger-compaction"}),
                ::testing::Not(HasSubstr("error")));
    ASSERT_EQ(Sql(port, "BACKUP"), "2\n");
    first_objects = SnapshotObjects(node->meta_addr(), 1);
    second_objects = SnapshotObjects(node->meta_addr(), 2);
    ASSERT_OK(node->Stop().status());
  }
  ASSERT_FALSE(first_objects.empty());
  std::set<uint64_t> only_second;
  std::set_difference(second_objects.begin(), second_objects.end(), first_objects.begin(),
                      first_objects.end(), std::inserter(only_second, only_second.end()));
  ASSERT_FALSE(only_second.empty()) << "snapshot 2 should reference newer objects";

  const std::string restored_db = root_ + "/restored/meta.db";
  ASSERT_OK_AND_ASSIGN(
      CommandResult restored,
      RunCommand({RisectlBinary(), "meta", "restore-meta", "--meta-snapshot-id", "1",
                  "--meta-store-type", "sqlite", "--sql-endpoint", restored_db,
                  "--backup-storage-url", backup_url_, "--backup-storage-directory", "backup",
                  "--hummock-storage-url", state_url_, "--hummock-storage-directory", kDataDir},
                 {}, std::chrono::seconds(120)));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;

  ASSERT_OK_AND_ASSIGN(auto node, Start(restored_db));
  const int port = node->pg_port();
  EXPECT_EQ(Sql(port, "SELECT k, v FROM t ORDER BY k"), "1|a\n2|b\n");
  EXPECT_EQ(Sql(port,
                "SELECT meta_snapshot_id FROM rw_catalog.rw_meta_snapshot "
                "ORDER BY meta_snapshot_id"),
            "1\n2\n");

  // Snapshot 2 is still listed: its objects are pinned although the restored version does not
  // reference them.
  EXPECT_THAT(Ctl(node->meta_addr(), {"hummock", "trigger-full-gc", "-s", "0"}),
              ::testing::Not(HasSubstr("error")));
  for (uint64_t id : second_objects) EXPECT_TRUE(ObjectExists(id)) << "object " << id;
  for (uint64_t id : first_objects) EXPECT_TRUE(ObjectExists(id)) << "object " << id;

  // Deleting snapshot 2 releases what only it referenced.
  EXPECT_EQ(Sql(port, "DELETE META SNAPSHOT 2"), "");
  EXPECT_THAT(Ctl(node->meta_addr(), {"hummock", "trigger-full-gc", "-s", "0"}),
              ::testing::Not(HasSubstr("error")));
  for (uint64_t id : only_second) EXPECT_FALSE(ObjectExists(id)) << "object " << id;
  for (uint64_t id : first_objects) EXPECT_TRUE(ObjectExists(id)) << "object " << id;
  EXPECT_EQ(Sql(port, "SELECT k, v FROM t ORDER BY k"), "1|a\n2|b\n");
  ASSERT_OK(node->Stop().status());
}

}  // namespace
}  // namespace rwmeta::e2e
