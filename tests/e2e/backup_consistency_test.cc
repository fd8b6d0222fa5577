// A meta snapshot taken while DDL and inserts run is a consistent cut of the cluster: BACKUP
// statements race a writer that creates tables, fills them and drops some, through psql on a real
// meta node; each snapshot is then restored into a fresh SQLite meta store and served, and what the
// restored cluster shows is checked against what the writer had finished before BACKUP began and
// what it started after BACKUP returned.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kRowsPerTable = 20;
constexpr char kDataDir[] = "hummock_001";

// What the writer did to table t<i>, with the times around each statement.
struct TableHistory {
  Clock::time_point create_started;
  std::optional<Clock::time_point> filled;  // the INSERT returned
  std::optional<Clock::time_point> drop_started;
  std::optional<Clock::time_point> dropped;  // the DROP returned
};

struct Backup {
  uint64_t id = 0;
  Clock::time_point started;
  Clock::time_point returned;
};

std::string Values(int table) {
  std::string values;
  for (int k = 0; k < kRowsPerTable; ++k) {
    values += fmt::format("{}({}, 'v{}_{}')", k == 0 ? "" : ", ", k, table, k);
  }
  return values;
}

TEST(BackupConsistencyE2eTest, SnapshotsDuringDdlAndInsertsHoldEveryEarlierStatementAndNoLaterOne) {
  TempDir dir;
  const std::string root = dir.path();
  const std::string state_url = "fs://" + root + "/state";
  const std::string backup_url = "fs://" + root + "/backup";
  fs::create_directories(root + "/src");
  auto node_args = [&](const std::string& meta_db) {
    return std::vector<std::string>{"--backend",
                                    "sqlite",
                                    "--sql-endpoint",
                                    meta_db,
                                    "--state-store",
                                    "hummock+" + state_url,
                                    "--data-directory",
                                    kDataDir,
                                    "--state-store-lease-ttl-ms",
                                    "1500"};
  };
  MetaNodeProcess::Options options;
  options.work_dir = root + "/src";
  options.extra_args = node_args(root + "/src/meta.db");
  options.extra_args.insert(options.extra_args.end(), {"--backup-storage-url", backup_url,
                                                       "--backup-storage-directory", "backup"});
  ASSERT_OK_AND_ASSIGN(auto node, MetaNodeProcess::Start(options));
  const int port = node->pg_port();

  std::mutex mu;
  std::map<int, TableHistory> history;  // guarded by mu
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::string writer_error;
  std::thread writer([&] {
    auto run = [&](const std::string& sql) -> bool {
      auto r = Psql(port, sql);
      if (!r.ok() || r->exit_code != 0) {
        writer_error = sql + ": " + (r.ok() ? r->err : r.status().ToString());
        return false;
      }
      return true;
    };
    for (int i = 0; !stop && i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        history[i].create_started = Clock::now();
      }
      if (!run(fmt::format("CREATE TABLE t{} (k int PRIMARY KEY, v varchar)", i))) return;
      ++created;
      if (!run(fmt::format("INSERT INTO t{} VALUES {}", i, Values(i)))) return;
      {
        std::lock_guard lock(mu);
        history[i].filled = Clock::now();
      }
      if (i % 3 == 2) {
        const int victim = i - 2;
        {
          std::lock_guard lock(mu);
          history[victim].drop_started = Clock::now();
        }
        if (!run(fmt::format("DROP TABLE t{}", victim))) return;
        std::lock_guard lock(mu);
        history[victim].dropped = Clock::now();
      }
    }
  });

  std::vector<Backup> backups;
  for (int b = 0; b < 4; ++b) {
    // Let the writer get ahead between snapshots (bounded: a stuck writer must not hang the test).
    const int target = 3 * (b + 1);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (created < target && writer_error.empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Backup backup;
    backup.started = Clock::now();
    auto r = Psql(port, "BACKUP");
    backup.returned = Clock::now();
    ASSERT_OK(r.status());
    ASSERT_EQ(r->exit_code, 0) << r->err;
    backup.id = std::stoull(r->out);
    backups.push_back(backup);
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(writer_error.empty()) << writer_error;
  ASSERT_OK(node->Stop().status());
  node.reset();
  ASSERT_EQ(backups.size(), 4u);
  for (size_t b = 0; b < backups.size(); ++b) EXPECT_EQ(backups[b].id, b + 1);

  for (const Backup& backup : backups) {
    SCOPED_TRACE(fmt::format("snapshot {}", backup.id));
    const std::string db = fmt::format("{}/restored_{}/meta.db", root, backup.id);
    fs::create_directories(fs::path(db).parent_path());
    ASSERT_OK_AND_ASSIGN(
        CommandResult restored,
        RunCommand({RisectlBinary(), "meta", "restore-meta", "--meta-snapshot-id",
                    std::to_string(backup.id), "--meta-store-type", "sqlite", "--sql-endpoint", db,
                    "--backup-storage-url", backup_url, "--backup-storage-directory", "backup",
                    "--hummock-storage-url", state_url, "--hummock-storage-directory", kDataDir},
                   {}, std::chrono::seconds(120)));
    ASSERT_EQ(restored.exit_code, 0) << restored.err;

    MetaNodeProcess::Options restored_options;
    restored_options.work_dir = fs::path(db).parent_path().string();
    restored_options.extra_args = node_args(db);
    ASSERT_OK_AND_ASSIGN(auto restored_node, MetaNodeProcess::Start(restored_options));
    const int restored_port = restored_node->pg_port();
    ASSERT_OK_AND_ASSIGN(
        CommandResult tables,
        Psql(restored_port, "SELECT name FROM rw_catalog.rw_tables ORDER BY name"));
    ASSERT_EQ(tables.exit_code, 0) << tables.err;
    std::set<int> present;
    std::istringstream lines(tables.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.size() > 1 && line[0] == 't') present.insert(std::stoi(line.substr(1)));
    }

    std::lock_guard lock(mu);
    for (const auto& [i, h] : history) {
      const bool created_before = h.filled && *h.filled < backup.started;
      const bool dropped_before = h.dropped && *h.dropped < backup.started;
      const bool created_after = h.create_started > backup.returned;
      const bool drop_started_after = !h.drop_started || *h.drop_started > backup.returned;
      if (created_before && !dropped_before && drop_started_after) {
        // Finished before BACKUP began and not touched until it returned: all of it is there.
        EXPECT_TRUE(present.count(i)) << "t" << i << " was filled before BACKUP began";
      }
      if (created_after || dropped_before) {
        EXPECT_FALSE(present.count(i)) << "t" << i << " is there but should not be";
      }
    }
    for (int i : present) {
      // Whatever the cut caught, a table holds all of its one INSERT or nothing, and the exact
      // rows: the catalog and the Hummock version agree.
      ASSERT_OK_AND_ASSIGN(CommandResult rows,
                           Psql(restored_port, fmt::format("SELECT count(*), min(v), max(k) FROM "
                                                           "t{}",
                                                           i)));
      ASSERT_EQ(rows.exit_code, 0) << rows.err;
      const bool filled_before = history[i].filled && *history[i].filled < backup.started;
      if (filled_before) {
        EXPECT_EQ(rows.out, fmt::format("{}|v{}_0|{}\n", kRowsPerTable, i, kRowsPerTable - 1))
            << "t" << i;
      } else {
        EXPECT_THAT(rows.out,
                    ::testing::AnyOf(::testing::Eq("0||\n"),
                                     ::testing::Eq(fmt::format("{}|v{}_0|{}\n", kRowsPerTable, i,
                                                               kRowsPerTable - 1))))
            << "t" << i;
      }
    }
    // The restored cluster takes new DDL and DML.
    ASSERT_OK_AND_ASSIGN(CommandResult more, Psql(restored_port,
                                                  "CREATE TABLE after_restore (x int); INSERT INTO "
                                                  "after_restore VALUES (1); FLUSH; SELECT x FROM "
                                                  "after_restore"));
    EXPECT_EQ(more.exit_code, 0) << more.err;
    EXPECT_EQ(more.out, "1\n");
    ASSERT_OK(restored_node->Stop().status());
  }
}

}  // namespace
}  // namespace rwmeta::e2e
