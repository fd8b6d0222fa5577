// `risectl hummock ...` against a real meta-node: data written through psql shows up in
// list-version and list-ssts, trigger-compaction moves L0 into L1, trigger-full-gc deletes an
// orphan object planted in the state store directory, and every query returns the same rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
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

// One row of `risectl hummock list-ssts`.
struct SstRow {
  std::string level;
  uint64_t object_id = 0;
  uint64_t keys = 0;
  std::string table_ids;
};

// The SST rows of list-ssts output (the lines between the header and the stale-objects line).
std::vector<SstRow> ParseSsts(const std::string& out) {
  std::vector<SstRow> rows;
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> w = Words(line);
    // Group Level [Sub-level] Object Size Keys Tables MinEpoch MaxEpoch (no sub-level past L0).
    if (w.size() < 8 || w[1].size() < 2 || w[1][0] != 'L' || !std::isdigit(w[0][0])) continue;
    size_t i = w.size() == 9 ? 3 : 2;
    rows.push_back({w[1], std::stoull(w[i]), std::stoull(w[i + 2]), w[i + 3]});
  }
  return rows;
}

// Level rows of list-version: {"L0", sub-level, ssts, bytes} or {"L1", ssts, bytes}.
std::vector<std::vector<std::string>> LevelRows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : Lines(out)) {
    if (line.size() > 2 && line[0] == 'L' && std::isdigit(line[1])) rows.push_back(Words(line));
  }
  return rows;
}

void SetMtimeSecondsAgo(const std::string& path, int seconds) {
  struct timeval now;
  gettimeofday(&now, nullptr);
  struct timeval times[2] = {{now.tv_sec - seconds, 0}, {now.tv_sec - seconds, 0}};
  ASSERT_EQ(utimes(path.c_str(), times), 0) << path;
}

class HummockCtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.work_dir = dir_.path();
    auto node = MetaNodeProcess::Start(options_);
    ASSERT_OK(node.status());
    node_ = std::move(node).value();
  }

  // psql; fails the test unless it exits 0. Returns stdout.
  std::string Sql(const std::string& sql) {
    Result<CommandResult> r = Psql(node_->pg_port(), sql);
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << sql << "\n" << r->err;
    return r->out;
  }
  Result<CommandResult> Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), {RisectlBinary(), "hummock"});
    return RunCommand(args, {{"RW_META_ADDR", node_->meta_addr()}});
  }
  // Runs risectl hummock `args`, expecting exit 0; returns stdout.
  std::string RisectlOk(const std::vector<std::string>& args) {
    Result<CommandResult> r = Risectl(args);
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err << "\nnode log:\n" << node_->Log();
    return r->out;
  }
  std::string StateDir() const { return dir_.path() + "/rwmeta-data/state/hummock_001"; }

  TempDir dir_;
  MetaNodeProcess::Options options_;
  std::unique_ptr<MetaNodeProcess> node_;
};

TEST_F(HummockCtlTest, ListVersionShowsFlushedSstsAndCompactionMovesThemToL1) {
  Sql("CREATE TABLE t (k int PRIMARY KEY, v varchar)");
  const std::string table_id = Sql("SELECT id FROM rw_catalog.rw_tables WHERE name = 't'");
  ASSERT_FALSE(table_id.empty());
  const std::string id = table_id.substr(0, table_id.find('\n'));

  // Three flushes: three L0 sub-levels of one SST each (compaction waits for four).
  for (int i = 0; i < 3; ++i) {
    Sql("INSERT INTO t VALUES (" + std::to_string(2 * i) + ", 'a" + std::to_string(i) + "'), (" +
        std::to_string(2 * i + 1) + ", 'b" + std::to_string(i) + "'); FLUSH;");
  }
  std::vector<SstRow> ssts = ParseSsts(RisectlOk({"list-ssts"}));
  ASSERT_EQ(ssts.size(), 3u);
  for (const SstRow& sst : ssts) {
    EXPECT_EQ(sst.level, "L0");
    EXPECT_EQ(sst.keys, 2u);
    EXPECT_EQ(sst.table_ids, id);
  }

  const std::string version = RisectlOk({"list-version"});
  std::vector<std::vector<std::string>> levels = LevelRows(version);
  ASSERT_EQ(levels.size(), 3u + 6u) << version;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(levels[i][0], "L0");
    EXPECT_EQ(levels[i][2], "1");  // one SST per sub-level
  }
  EXPECT_EQ(levels[3], (std::vector<std::string>{"L1", "0", "0"}));
  // The table's committed epoch is the max committed epoch (printed the same way).
  std::string max_epoch;
  for (const std::string& line : Lines(version)) {
    if (line.rfind("Max committed epoch:", 0) == 0) max_epoch = Words(line)[3];
  }
  ASSERT_FALSE(max_epoch.empty()) << version;
  EXPECT_THAT(version, HasSubstr("\nTables:\nTable ID  Compaction group  Committed epoch\n" + id));
  std::vector<std::string> table_row;
  for (const std::string& line : Lines(version)) {
    if (!Words(line).empty() && Words(line)[0] == id) table_row = Words(line);
  }
  ASSERT_EQ(table_row.size(), 6u) << version;  // id, group, epoch, "(date", time, "UTC)"
  EXPECT_EQ(table_row[1], "2");
  EXPECT_EQ(table_row[2], max_epoch);

  // A fourth flush crosses the L0 trigger; the round compacts L0 into L1 (unless the background
  // round already did, which leaves the same version).
  // It overwrites a key of the first, so L0 overlaps and compaction must rewrite it.
  Sql("INSERT INTO t VALUES (6, 'a3'), (7, 'b3'); UPDATE t SET v = 'c0' WHERE k = 0; FLUSH;");
  const std::string compacted = RisectlOk({"trigger-compaction"});
  EXPECT_THAT(compacted, StartsWith("Compactions committed: "));
  const std::string after = RisectlOk({"list-version", "--verbose"});
  levels = LevelRows(after);
  ASSERT_GE(levels.size(), 6u) << after;
  EXPECT_EQ(levels[0][0], "L1") << "L0 is not empty:\n" << after;
  EXPECT_NE(levels[0][1], "0") << after;
  uint64_t l1_keys = 0;
  std::vector<SstRow> after_ssts = ParseSsts(RisectlOk({"list-ssts"}));
  for (const SstRow& sst : after_ssts) {
    EXPECT_EQ(sst.level, "L1");
    l1_keys += sst.keys;
  }
  EXPECT_EQ(l1_keys, 8u);
  // Inputs that were rewritten are vacuumed (gone from the state store); inputs that did not
  // overlap may have moved to L1 unchanged (a trivial move) and stay.
  std::set<uint64_t> after_ids;
  for (const SstRow& sst : after_ssts) {
    after_ids.insert(sst.object_id);
    EXPECT_TRUE(
        std::filesystem::exists(StateDir() + "/" + std::to_string(sst.object_id) + ".data"));
  }
  int vacuumed = 0;
  for (const SstRow& sst : ssts) {
    vacuumed += after_ids.count(sst.object_id) == 0 ? 1 : 0;
    EXPECT_EQ(std::filesystem::exists(StateDir() + "/" + std::to_string(sst.object_id) + ".data"),
              after_ids.count(sst.object_id) > 0)
        << sst.object_id << "\n"
        << node_->Log();
  }
  EXPECT_GE(vacuumed, 1) << after;
  EXPECT_EQ(Sql("SELECT k, v FROM t ORDER BY k"),
            "0|c0\n1|b0\n2|a1\n3|b1\n4|a2\n5|b2\n6|a3\n7|b3\n");
}

TEST_F(HummockCtlTest, TriggerFullGcDeletesOldOrphansOnlyAndEveryRowStays) {
  Sql("CREATE TABLE g (k int, v varchar)");
  Sql("INSERT INTO g VALUES (1, 'one'), (2, 'two'); FLUSH;");
  Sql("INSERT INTO g VALUES (3, 'three'); FLUSH;");
  const std::string rows = "1|one\n2|two\n3|three\n";
  ASSERT_EQ(Sql("SELECT k, v FROM g ORDER BY k"), rows);
  std::vector<SstRow> live = ParseSsts(RisectlOk({"list-ssts"}));
  ASSERT_EQ(live.size(), 2u);
  // The report lists ids ascending; list-ssts lists the newest sub-level first.
  const std::string live_ids = std::to_string(std::min(live[0].object_id, live[1].object_id)) +
                               ", " +
                               std::to_string(std::max(live[0].object_id, live[1].object_id));

  // Orphans: as a crashed upload would leave them. One two hours old, one a minute old; and a
  // file that is not an SST object at all.
  const std::string old_orphan = StateDir() + "/987654.data";
  const std::string young_orphan = StateDir() + "/987655.data";
  const std::string not_sst = StateDir() + "/987656.data.tmp";
  for (const std::string& path : {old_orphan, young_orphan, not_sst}) {
    std::ofstream(path) << "orphan bytes";  // 12 bytes
  }
  SetMtimeSecondsAgo(old_orphan, 7200);
  SetMtimeSecondsAgo(young_orphan, 60);
  SetMtimeSecondsAgo(not_sst, 7200);

  const std::string hour = RisectlOk({"trigger-full-gc", "-s", "3600"});
  EXPECT_THAT(hour, AllOf(StartsWith("Full GC with retention 3600 s: listed 4 SST objects"),
                          HasSubstr("\nDeleted 1 objects, 12 bytes: 987654\n"),
                          HasSubstr("\nKept 0 referenced\n"),
                          // The version's SSTs were just written: too young as well.
                          HasSubstr("\nKept 3 too young: " + live_ids + ", 987655\n")));
  EXPECT_FALSE(std::filesystem::exists(old_orphan));
  EXPECT_TRUE(std::filesystem::exists(young_orphan));

  const std::string all = RisectlOk({"trigger-full-gc", "-s", "0"});
  EXPECT_THAT(all, AllOf(StartsWith("Full GC with retention 0 s: listed 3 SST objects"),
                         HasSubstr("\nDeleted 1 objects, 12 bytes: 987655\n"),
                         HasSubstr("\nKept 0 too young\n")));
  // Every SST of the version is kept as referenced.
  EXPECT_THAT(all, HasSubstr("\nKept 2 referenced: " + live_ids + "\n"));
  EXPECT_FALSE(std::filesystem::exists(young_orphan));
  EXPECT_TRUE(std::filesystem::exists(not_sst));
  for (const SstRow& sst : live) {
    EXPECT_TRUE(
        std::filesystem::exists(StateDir() + "/" + std::to_string(sst.object_id) + ".data"));
  }
  EXPECT_EQ(Sql("SELECT k, v FROM g ORDER BY k"), rows);
  EXPECT_EQ(ParseSsts(RisectlOk({"list-ssts"})).size(), 2u);

  // A negative retention is a usage error; nothing reaches the node.
  ASSERT_OK_AND_ASSIGN(CommandResult negative, Risectl({"trigger-full-gc", "-s", "-1"}));
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.out, "");
  EXPECT_THAT(negative.err, StartsWith("error: --sst-retention-time-sec: Value -1 not in range"));
  EXPECT_THAT(node_->Log(), Not(HasSubstr("full GC (retention -")));
}

}  // namespace
}  // namespace rwmeta::e2e
