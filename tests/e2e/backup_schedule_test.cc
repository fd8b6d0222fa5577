// The schedule of meta snapshots against a real meta-node process: with a 2-second interval,
// scheduled snapshots appear, are marked, and are pruned to backup_retention_count while an
// on-demand snapshot stays, as psql (rw_meta_snapshot) and risectl (list-meta-snapshots,
// backup-metrics) show; a node killed with SIGKILL while scheduled jobs run leaves no snapshot
// object the manifest does not list once it has started again.
//
// These tests wait for wall-clock events (the schedule runs on the node's real clock) by polling
// with a bound; they never assert how long anything took. Fake-clock tests of the same rules are
// in src/meta/backup_manager_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::seconds(90);

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class BackupScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.work_dir = dir_.path();
    options_.extra_args = {"--state-store-lease-ttl-ms", "1500"};
    ASSERT_OK_AND_ASSIGN(node_, MetaNodeProcess::Start(options_));
    Sql("ALTER SYSTEM SET backup_storage_url = 'fs://" + BackupRoot() + "'");
    Sql("ALTER SYSTEM SET backup_storage_directory = 'scheduled'");
  }

  std::string BackupRoot() const { return dir_.path() + "/backups"; }
  std::string BackupDir() const { return BackupRoot() + "/scheduled"; }

  // psql; fails the test unless it exits 0. Returns stdout.
  std::string Sql(const std::string& sql) {
    Result<CommandResult> r = Psql(node_->pg_port(), sql);
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << sql << "\n" << r->err << "\nnode log:\n" << node_->Log();
    return r->out;
  }
  std::string RisectlOk(std::vector<std::string> args) {
    args.insert(args.begin(), RisectlBinary());
    Result<CommandResult> r = RunCommand(args, {{"RW_META_ADDR", node_->meta_addr()}});
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err << "\nnode log:\n" << node_->Log();
    return r->out;
  }

  // The value of one "Label:  value" line of `risectl meta backup-metrics`.
  std::string Metric(const std::string& label) {
    for (const std::string& line : Lines(RisectlOk({"meta", "backup-metrics"}))) {
      if (line.rfind(label + ":", 0) == 0) {
        const size_t value = line.find_first_not_of(' ', label.size() + 1);
        return value == std::string::npos ? "" : line.substr(value);
      }
    }
    ADD_FAILURE() << "no " << label << " line in backup-metrics";
    return "";
  }

  // Polls `done` every 200 ms until it holds or kPatience passes.
  bool Eventually(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return done();
  }

  // "id|remarks|scheduled|drill_passed" of rw_meta_snapshot, in id order.
  std::vector<std::string> SnapshotRows() {
    return Lines(
        Sql("SELECT meta_snapshot_id, coalesce(remarks, ''), scheduled, "
            "coalesce(drill_passed::text, 'never') FROM rw_catalog.rw_meta_snapshot ORDER BY 1"));
  }

  // The ids of the `<n>.snapshot` objects in the backup directory.
  std::set<uint64_t> SnapshotObjects() {
    std::set<uint64_t> ids;
    if (!std::filesystem::exists(BackupDir())) return ids;
    for (const auto& entry : std::filesystem::directory_iterator(BackupDir())) {
      const std::string name = entry.path().filename().string();
      if (name.ends_with(".snapshot")) ids.insert(std::stoull(name));
    }
    return ids;
  }
  // The snapshot ids manifest.json lists, read straight from the file (no node involved).
  std::set<uint64_t> ManifestIds() {
    std::ifstream in(BackupDir() + "/manifest.json");
    const std::string json((std::istreambuf_iterator<char>(in)), {});
    std::set<uint64_t> ids;
    const std::string key = "\"id\": ";
    for (size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
      ids.insert(std::stoull(json.substr(at + key.size())));
    }
    return ids;
  }
  std::set<uint64_t> ListedIds() {
    std::set<uint64_t> ids;
    for (const std::string& row : SnapshotRows()) ids.insert(std::stoull(row));
    return ids;
  }

  TempDir dir_;
  MetaNodeProcess::Options options_;
  std::unique_ptr<MetaNodeProcess> node_;
};

TEST_F(BackupScheduleTest, ScheduledSnapshotsAppearAndArePrunedWhileOnDemandOnesStay) {
  // The defaults, as SHOW shows them.
  EXPECT_EQ(Sql("SHOW backup_schedule_interval_sec"), "1800\n");
  EXPECT_THAT(Metric("Schedule"), HasSubstr("every 1800 s, next at "));
  Sql("CREATE TABLE t (v INT)");
  Sql("INSERT INTO t VALUES (1), (2)");
  const std::string on_demand = Sql("BACKUP");
  ASSERT_FALSE(on_demand.empty());

  Sql("ALTER SYSTEM SET backup_retention_count = 2");
  Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 2");
  ASSERT_TRUE(Eventually([&] { return std::stoull(Metric("Deleted by retention")) >= 2; }))
      << node_->Log();
  EXPECT_GE(std::stoull(Metric("Scheduled jobs started")), 4u);
  EXPECT_EQ(Metric("Scheduled jobs failed"), "0");

  // Stop the schedule, let a job that may be running end, then look.
  Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 0");
  ASSERT_TRUE(Eventually([&] {
    return RisectlOk({"meta", "list-backup-jobs"}).find("RUNNING") == std::string::npos;
  }));
  EXPECT_EQ(Metric("Schedule"), "off (backup_schedule_interval_sec = 0)");
  const std::vector<std::string> rows = SnapshotRows();
  ASSERT_EQ(rows.size(), 3u) << ::testing::PrintToString(rows);
  // The on-demand snapshot stays (never drilled), the two newest scheduled ones are kept, each
  // drilled and passed.
  const std::string on_demand_id = on_demand.substr(0, on_demand.size() - 1);
  EXPECT_EQ(rows[0], on_demand_id + "||f|never");
  EXPECT_THAT(rows[1], ::testing::EndsWith("|scheduled|t|true"));
  EXPECT_THAT(rows[2], ::testing::EndsWith("|scheduled|t|true"));
  EXPECT_GE(std::stoull(Metric("Drills run")), 4u);
  EXPECT_EQ(Metric("Drills failed"), "0");
  const std::string listing = RisectlOk({"meta", "list-meta-snapshots"});
  EXPECT_THAT(listing, ::testing::ContainsRegex("scheduled +passed +scheduled"));
  EXPECT_THAT(listing, HasSubstr("  on demand\n"));
  // A drill asked for, of the on-demand snapshot: it passes and is kept with it.
  const std::string drill = RisectlOk({"meta", "drill-meta-snapshot", on_demand_id});
  EXPECT_THAT(drill, HasSubstr("Meta snapshot " + on_demand_id + " restore drill: passed in "));
  EXPECT_THAT(drill, HasSubstr(" rows, "));
  EXPECT_EQ(SnapshotRows()[0], on_demand_id + "||f|true");
  // Every object in the directory is a listed snapshot.
  EXPECT_EQ(SnapshotObjects(), ListedIds());
  // The node says what the schedule did.
  EXPECT_THAT(node_->Log(), HasSubstr("backup: retention deleted scheduled meta snapshot(s)"));
}

TEST_F(BackupScheduleTest, KillingTheNodeDuringScheduledJobsLeavesNoOrphanAfterTheNextStart) {
  // Enough catalog that a job takes a moment, so that some kills land inside one.
  std::string ddl;
  for (int i = 0; i < 150; ++i) ddl += "CREATE TABLE t" + std::to_string(i) + " (v INT);";
  Sql(ddl);
  Sql("ALTER SYSTEM SET backup_retention_count = 3");
  int inside_a_job = 0;
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 1");
    // Kill as soon as a snapshot object is there that the manifest does not list yet (a job
    // between its upload and its publish), or after 3 s whatever the node is doing.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::set<uint64_t> objects = SnapshotObjects();
      const std::set<uint64_t> listed = ManifestIds();
      if (!std::includes(listed.begin(), listed.end(), objects.begin(), objects.end())) {
        ++inside_a_job;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_OK_AND_ASSIGN(int killed, node_->Stop(SIGKILL));
    EXPECT_EQ(killed, -SIGKILL);
    ASSERT_OK_AND_ASSIGN(node_, MetaNodeProcess::Start(options_));
    // Hold the schedule and let a job the new node started end before comparing.
    Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 0");
    ASSERT_TRUE(Eventually([&] {
      return RisectlOk({"meta", "list-backup-jobs"}).find("RUNNING") == std::string::npos;
    }));
    EXPECT_EQ(SnapshotObjects(), ListedIds()) << node_->Log();
  }
  // The kills landed where they hurt (the poll sees a window of milliseconds every second).
  std::cout << "kills between upload and publish: " << inside_a_job << " of 8\n";
  EXPECT_GE(inside_a_job, 1);
  // And the schedule goes on after them: a scheduled snapshot is listed, drilled, and still
  // every object is a listed snapshot.
  Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 1");
  ASSERT_TRUE(Eventually([&] {
    for (const std::string& row : SnapshotRows()) {
      if (row.ends_with("|scheduled|t|true")) return true;
    }
    return false;
  })) << node_->Log();
  Sql("ALTER SYSTEM SET backup_schedule_interval_sec = 0");
  ASSERT_TRUE(Eventually([&] {
    return RisectlOk({"meta", "list-backup-jobs"}).find("RUNNING") == std::string::npos;
  }));
  EXPECT_EQ(SnapshotObjects(), ListedIds());
}

}  // namespace
}  // namespace rwmeta::e2e
