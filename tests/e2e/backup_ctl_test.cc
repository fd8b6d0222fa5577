// `risectl meta` backup commands against a real meta-node (started once for this binary), with
// the backup location set through psql: snapshots of an empty and a busy cluster, list, show with
// verification, delete (known and unknown ids), job status and history, metrics; every object a
// listed snapshot references survives inserts, deletes, DROP TABLE, compaction and a full GC, and
// a full GC after the snapshot is deleted removes what only it referenced; changing
// backup_storage_directory hides the snapshots and setting it back shows them again.
//
// Each test uses its own backup directory, so they do not see each other's snapshots. (A second
// backup while one runs is refused: tested deterministically at the service and risectl levels,
// src/server/backup_service_test.cc and src/ctl/backup_commands_test.cc, where a job can be held.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// "12, 13, 20" -> {12, 13, 20}.
std::set<uint64_t> ParseIdList(const std::string& text) {
  std::set<uint64_t> ids;
  std::string token;
  std::istringstream in(text);
  while (std::getline(in, token, ',')) {
    token.erase(std::remove_if(token.begin(), token.end(), ::isspace), token.end());
    if (!token.empty()) ids.insert(std::stoull(token));
  }
  return ids;
}

// The object ids of `risectl hummock list-ssts` (the SSTs of the current version).
std::set<uint64_t> ParseSstIds(const std::string& out) {
  std::set<uint64_t> ids;
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    // Group Level [Sub-level] Object Size Keys Tables MinEpoch MaxEpoch (no sub-level past L0).
    if (w.size() < 8 || w[1].size() < 2 || w[1][0] != 'L' || !std::isdigit(w[0][0])) continue;
    ids.insert(std::stoull(w[w.size() == 9 ? 3 : 2]));
  }
  return ids;
}

// The ids in the first column of list-meta-snapshots' table.
std::vector<uint64_t> ListedSnapshotIds(const std::string& out) {
  std::vector<uint64_t> ids;
  bool in_table = false;
  for (const std::string& line : Lines(out)) {
    if (line.rfind("ID  Hummock version", 0) == 0) {
      in_table = true;
    } else if (in_table && !line.empty()) {
      ids.push_back(std::stoull(Words(line)[0]));
    }
  }
  return ids;
}

class BackupCtlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    MetaNodeProcess::Options options;
    options.work_dir = dir_->path();
    auto node = MetaNodeProcess::Start(options);
    ASSERT_OK(node.status());
    node_ = std::move(node).value().release();
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(node_, nullptr) << "meta-node did not start"; }

  // psql; fails the test unless it exits 0. Returns stdout.
  std::string Sql(const std::string& sql) {
    Result<CommandResult> r = Psql(node_->pg_port(), sql);
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << sql << "\n" << r->err;
    return r->out;
  }
  Result<CommandResult> Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), RisectlBinary());
    return RunCommand(args, {{"RW_META_ADDR", node_->meta_addr()}});
  }
  // Runs risectl `args`, expecting exit 0; returns stdout.
  std::string RisectlOk(const std::vector<std::string>& args) {
    Result<CommandResult> r = Risectl(args);
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err << "\nnode log:\n" << node_->Log();
    return r->out;
  }

  std::string BackupRoot() const { return dir_->path() + "/backups"; }
  std::string StateDir() const { return dir_->path() + "/rwmeta-data/state/hummock_001"; }

  // Points the backup location at BackupRoot()/`directory` through ALTER SYSTEM.
  void UseBackupDirectory(const std::string& directory) {
    Sql("ALTER SYSTEM SET backup_storage_url = 'fs://" + BackupRoot() + "'");
    Sql("ALTER SYSTEM SET backup_storage_directory = '" + directory + "'");
  }

  // `risectl meta backup-meta`; returns the snapshot id it printed (0 on failure).
  uint64_t BackupMeta(const std::string& remarks) {
    Result<CommandResult> r =
        Risectl({"meta", "backup-meta", "--remarks", remarks, "--poll-interval-ms", "100"});
    EXPECT_OK(r.status());
    if (!r.ok()) return 0;
    EXPECT_EQ(r->exit_code, 0) << r->err << "\nnode log:\n" << node_->Log();
    // The snapshot id alone on stdout; the job's lines on stderr.
    EXPECT_THAT(r->out, ContainsRegex("^[0-9]+\n$"));
    if (r->exit_code != 0 || r->out.empty()) return 0;
    const uint64_t id = std::stoull(r->out);
    EXPECT_THAT(Lines(r->err).back(),
                StartsWith("backup job succeeded: job " + std::to_string(id) + ", snapshot " +
                           std::to_string(id) + " of hummock version "));
    return id;
  }

  std::vector<uint64_t> ListedIds() {
    return ListedSnapshotIds(RisectlOk({"meta", "list-meta-snapshots"}));
  }

  // The object ids snapshot `id` references (show-meta-snapshot --verbose).
  std::set<uint64_t> SnapshotObjects(uint64_t id) {
    const std::string out = RisectlOk({"meta", "show-meta-snapshot", std::to_string(id), "-v"});
    for (const std::string& line : Lines(out)) {
      if (line.rfind("Object IDs: ", 0) == 0) {
        return line == "Object IDs: none" ? std::set<uint64_t>{} : ParseIdList(line.substr(12));
      }
    }
    ADD_FAILURE() << "no Object IDs line in:\n" << out;
    return {};
  }

  std::string TableId(const std::string& name) {
    const std::string out = Sql("SELECT id FROM rw_catalog.rw_tables WHERE name = '" + name + "'");
    return out.substr(0, out.find('\n'));
  }

  static TempDir* dir_;
  static MetaNodeProcess* node_;
};

TempDir* BackupCtlTest::dir_ = nullptr;
MetaNodeProcess* BackupCtlTest::node_ = nullptr;

TEST_F(BackupCtlTest, SnapshotsOfAnEmptyAndABusyClusterAreListedShownAndDeleted) {
  UseBackupDirectory("ctl_list");
  EXPECT_EQ(RisectlOk({"meta", "list-meta-snapshots"}), "Backup storage:  fs://" + BackupRoot() +
                                                            " directory ctl_list\n"
                                                            "Manifest ID:     0\n"
                                                            "Meta snapshots: none\n");

  // Empty: no user table yet (this test runs first).
  const uint64_t empty = BackupMeta("empty");
  ASSERT_NE(empty, 0u);
  EXPECT_TRUE(
      std::filesystem::exists(BackupRoot() + "/ctl_list/" + std::to_string(empty) + ".snapshot"));
  const std::string shown_empty =
      RisectlOk({"meta", "show-meta-snapshot", std::to_string(empty), "--verify"});
  EXPECT_THAT(
      shown_empty,
      AllOf(StartsWith("Snapshot ID:          " + std::to_string(empty) + "\n"),
            HasSubstr("\nRemarks:              empty\n"), HasSubstr("\nState tables: none\n"),
            HasSubstr("\nVerification:         OK (read whole"),
            HasSubstr("\nSource backend:       sqlite\n"), ContainsRegex("\ncluster +1\n"),
            ContainsRegex("\nuser +1\n"), ContainsRegex("\ntable +0\n")));

  // Busy: a table with rows and a materialized view over it.
  Sql("CREATE TABLE t (k int PRIMARY KEY, v varchar)");
  std::string values;
  for (int i = 0; i < 200; ++i) {
    values += (i ? ", (" : "(") + std::to_string(i) + ", 'value " + std::to_string(i) + "')";
  }
  Sql("INSERT INTO t VALUES " + values + "; FLUSH;");
  Sql("CREATE MATERIALIZED VIEW n AS SELECT count(*) FROM t");
  const std::string t_id = TableId("t");
  ASSERT_FALSE(t_id.empty());
  const uint64_t busy = BackupMeta("busy");
  ASSERT_GT(busy, empty);
  const std::string shown_busy =
      RisectlOk({"meta", "show-meta-snapshot", std::to_string(busy), "--verify"});
  EXPECT_THAT(shown_busy, AllOf(HasSubstr("\nRemarks:              busy\n"),
                                HasSubstr("\nState tables:\nTable ID  Compaction group  "
                                          "Committed epoch\n"),
                                ContainsRegex("\n" + t_id + " +[0-9]+ +[0-9]+ \\("),
                                ContainsRegex("\ntable +[1-9][0-9]*\n")));
  EXPECT_THAT(shown_busy, Not(HasSubstr("Objects referenced:   0\n")));

  const std::string list = RisectlOk({"meta", "list-meta-snapshots"});
  EXPECT_EQ(ListedSnapshotIds(list), (std::vector<uint64_t>{empty, busy}));
  EXPECT_THAT(list,
              AllOf(HasSubstr("Meta snapshots (2):\n"), ContainsRegex(" UTC  on demand +empty\n"),
                    ContainsRegex(" UTC  on demand +busy\n")));
  // SQL sees the same manifest.
  EXPECT_EQ(Sql("SELECT meta_snapshot_id, remarks FROM rw_catalog.rw_meta_snapshot ORDER BY 1"),
            std::to_string(empty) + "|empty\n" + std::to_string(busy) + "|busy\n");

  // Job status and history.
  EXPECT_THAT(RisectlOk({"meta", "backup-job-status", std::to_string(busy)}),
              AllOf(StartsWith("Job ID:    " + std::to_string(busy) + "\nStatus:    SUCCEEDED\n"),
                    HasSubstr("\nRemarks:   busy\n")));
  std::vector<std::string> jobs = Lines(RisectlOk({"meta", "list-backup-jobs"}));
  ASSERT_GE(jobs.size(), 3u);
  EXPECT_THAT(jobs[1], StartsWith(std::to_string(busy) + " "));
  EXPECT_THAT(jobs[2], StartsWith(std::to_string(empty) + " "));
  EXPECT_THAT(jobs[1], HasSubstr(" SUCCEEDED "));
  ASSERT_OK_AND_ASSIGN(CommandResult unknown_job, Risectl({"meta", "backup-job-status", "999999"}));
  EXPECT_EQ(unknown_job.exit_code, 1);
  EXPECT_EQ(unknown_job.err,
            "error: backup job status not found: job 999999, backup job 999999 not found\n");
  EXPECT_THAT(RisectlOk({"meta", "backup-metrics"}), AllOf(ContainsRegex("Jobs succeeded: +[2-9]"),
                                                           ContainsRegex("Bytes written: +[1-9]")));

  // An unknown id is named and nothing is deleted.
  ASSERT_OK_AND_ASSIGN(CommandResult unknown,
                       Risectl({"meta", "delete-meta-snapshots", "--snapshot-ids",
                                std::to_string(empty) + ",999999"}));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err,
            "error: snapshot 999999 not found in manifest ctl_list/manifest.json; nothing "
            "deleted\n");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{empty, busy}));

  EXPECT_EQ(RisectlOk({"meta", "delete-meta-snapshots", "--snapshot-ids", std::to_string(empty)}),
            "delete meta snapshots succeeded: [" + std::to_string(empty) + "]\n");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{busy}));
  EXPECT_FALSE(
      std::filesystem::exists(BackupRoot() + "/ctl_list/" + std::to_string(empty) + ".snapshot"));
  ASSERT_OK_AND_ASSIGN(CommandResult gone,
                       Risectl({"meta", "show-meta-snapshot", std::to_string(empty)}));
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err, "error: meta snapshot " + std::to_string(empty) +
                          " not found at backup storage fs://" + BackupRoot() +
                          " directory ctl_list\n");
  Sql("DROP MATERIALIZED VIEW n; DROP TABLE t");
}

TEST_F(BackupCtlTest, SnapshotObjectsSurviveGcUntilTheSnapshotIsDeleted) {
  UseBackupDirectory("ctl_gc");
  Sql("CREATE TABLE g (k int PRIMARY KEY, v varchar)");
  Sql("CREATE TABLE h (k int PRIMARY KEY, v varchar)");
  // Flushes over the same keys: overlapping L0 SSTs of g (compaction must rewrite them).
  std::string values;
  for (int k = 0; k < 20; ++k) {
    values += (k ? ", (" : "(") + std::to_string(k) + ", 'g')";
  }
  Sql("INSERT INTO g VALUES " + values + "; FLUSH;");
  for (int round = 0; round < 2; ++round) {
    Sql("UPDATE g SET v = 'r" + std::to_string(round) + "'; FLUSH;");
  }
  Sql("INSERT INTO h VALUES (1, 'h1'), (2, 'h2'); FLUSH;");
  const uint64_t id = BackupMeta("before gc");
  ASSERT_NE(id, 0u);
  const std::set<uint64_t> pinned = SnapshotObjects(id);
  ASSERT_FALSE(pinned.empty());
  for (uint64_t object : pinned) {
    ASSERT_TRUE(std::filesystem::exists(StateDir() + "/" + std::to_string(object) + ".data"))
        << object;
  }

  // Change everything the snapshot saw: deletes, updates, inserts, a dropped table (five more L0
  // sub-levels over the same keys, so compaction rewrites), then a full GC.
  Sql("DELETE FROM g WHERE k < 10; FLUSH;");
  Sql("UPDATE g SET v = 'after'; FLUSH;");
  Sql("INSERT INTO h VALUES (3, 'h3'); FLUSH;");
  Sql("UPDATE h SET v = 'changed'; FLUSH;");
  Sql("DROP TABLE g");
  Sql("INSERT INTO h VALUES (4, 'h4'); FLUSH;");
  RisectlOk({"hummock", "trigger-compaction"});
  const std::string gc = RisectlOk({"hummock", "trigger-full-gc", "-s", "0"});
  const std::set<uint64_t> live = ParseSstIds(RisectlOk({"hummock", "list-ssts"}));
  std::set<uint64_t> only_pinned;
  std::set_difference(pinned.begin(), pinned.end(), live.begin(), live.end(),
                      std::inserter(only_pinned, only_pinned.begin()));
  // Otherwise the test proves nothing: compaction must have replaced some of them.
  ASSERT_FALSE(only_pinned.empty()) << "every snapshot object is still in the version\n" << gc;
  for (uint64_t object : pinned) {
    EXPECT_TRUE(std::filesystem::exists(StateDir() + "/" + std::to_string(object) + ".data"))
        << "object " << object << " of snapshot " << id << " was deleted\n"
        << gc << "\nnode log:\n"
        << node_->Log();
  }
  EXPECT_THAT(RisectlOk({"meta", "show-meta-snapshot", std::to_string(id), "--verify"}),
              HasSubstr("\nVerification:         OK"));
  EXPECT_EQ(Sql("SELECT k, v FROM h ORDER BY k"), "1|changed\n2|changed\n3|changed\n4|h4\n");

  // Deleted: the next full GC removes what only the snapshot referenced, and nothing live.
  RisectlOk({"meta", "delete-meta-snapshots", "--snapshot-ids", std::to_string(id)});
  const std::string after = RisectlOk({"hummock", "trigger-full-gc", "-s", "0"});
  for (uint64_t object : only_pinned) {
    EXPECT_FALSE(std::filesystem::exists(StateDir() + "/" + std::to_string(object) + ".data"))
        << "object " << object << " only snapshot " << id << " referenced is still there\n"
        << after;
  }
  for (uint64_t object : ParseSstIds(RisectlOk({"hummock", "list-ssts"}))) {
    EXPECT_TRUE(std::filesystem::exists(StateDir() + "/" + std::to_string(object) + ".data"))
        << object;
  }
  EXPECT_EQ(Sql("SELECT k, v FROM h ORDER BY k"), "1|changed\n2|changed\n3|changed\n4|h4\n");
  Sql("DROP TABLE h");
}

TEST_F(BackupCtlTest, ChangingTheDirectoryHidesSnapshotsAndSettingItBackShowsThem) {
  UseBackupDirectory("ctl_dir1");
  const uint64_t first = BackupMeta("in dir1");
  ASSERT_NE(first, 0u);
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{first}));

  Result<CommandResult> alter =
      Psql(node_->pg_port(), "ALTER SYSTEM SET backup_storage_directory = 'ctl_dir2'");
  ASSERT_OK(alter.status());
  EXPECT_EQ(alter->exit_code, 0) << alter->err;
  EXPECT_THAT(alter->err, HasSubstr("no longer listed"));
  EXPECT_EQ(RisectlOk({"meta", "list-meta-snapshots"}), "Backup storage:  fs://" + BackupRoot() +
                                                            " directory ctl_dir2\n"
                                                            "Manifest ID:     0\n"
                                                            "Meta snapshots: none\n");
  ASSERT_OK_AND_ASSIGN(CommandResult hidden, Risectl({"meta", "delete-meta-snapshots",
                                                      "--snapshot-ids", std::to_string(first)}));
  EXPECT_EQ(hidden.exit_code, 1);
  EXPECT_THAT(hidden.err, StartsWith("error: snapshot " + std::to_string(first) + " not found"));

  // Ids go on from the one sequence whatever the location.
  const uint64_t second = BackupMeta("in dir2");
  EXPECT_GT(second, first);
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{second}));

  Sql("ALTER SYSTEM SET backup_storage_directory = 'ctl_dir1'");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{first}));
  EXPECT_THAT(RisectlOk({"meta", "show-meta-snapshot", std::to_string(first), "--verify"}),
              AllOf(HasSubstr("\nRemarks:              in dir1\n"),
                    HasSubstr("\nVerification:         OK")));
  Sql("ALTER SYSTEM SET backup_storage_directory = 'ctl_dir2'");
  EXPECT_EQ(ListedIds(), (std::vector<uint64_t>{second}));
}

TEST_F(BackupCtlTest, AnUnusableLocationFailsBackupWithItsError) {
  Sql("ALTER SYSTEM SET backup_storage_url = 'fs://relative/path'");
  ASSERT_OK_AND_ASSIGN(CommandResult r, Risectl({"meta", "backup-meta"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, AllOf(StartsWith("error: "), HasSubstr("fs://relative/path")));
  ASSERT_OK_AND_ASSIGN(CommandResult list, Risectl({"meta", "list-meta-snapshots"}));
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_THAT(list.err, StartsWith("error: "));
  UseBackupDirectory("ctl_usable");
  EXPECT_THAT(ListedIds(), IsEmpty());
}

}  // namespace
}  // namespace rwmeta::e2e
