// `risectl meta restore-meta` and `create-meta-store-schema` end to end: snapshots of real
// meta-node clusters (SQLite meta store, fs state store), restored with the risectl binary into
// fresh stores (SQLite, PostgreSQL, MariaDB, etcd with and without auth), and the restored cluster
// served by a real meta-node and read with psql.
//
// Snapshots are taken the offline way (open the stopped node's stores, allocate the id from
// `meta_backup`, BackupStorage::WriteSnapshot of one snapshot read and the current version), which
// is what the backup job does inside the node.
//
// One source cluster is built per binary (SetUpTestSuite): snapshot 1 after a first session,
// snapshot 2 after a second one. Tests that write into the source's state store run in order in
// one test (Lifecycle); the others restore onto copies of it.
#include "restore/restore.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backup/backup_storage.h"
#include "backup/snapshot_format.h"
#include "common/clock.h"
#include "common/testing/status_matchers.h"
#include "e2e/process.h"
#include "hummock/cluster/generation.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/version/version.h"
#include "metastore/factory.h"
#include "metastore/model.h"
#include "objstore/factory.h"
#include "testing/etcd_server.h"
#include "testing/mysql_server.h"
#include "testing/postgres_server.h"

namespace rwmeta::e2e {
namespace {

namespace fs = std::filesystem;
using metastore::Model;
using metastore::Row;
using ::rwmeta::testing::IsOkAndHolds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDir[] = "hummock_001";
using Dump = std::map<std::string, std::vector<Row>>;

// The generation the `cluster` row of `store` records (hummock/cluster/generation.h).
uint64_t RowGeneration(const Dump& store) {
  auto it = store.find("cluster");
  if (it == store.end() || it->second.size() != 1) return 0;
  return hummock::ClusterRowGeneration(it->second[0]);
}

// Every row of every model table of the store at `url`. The cluster row's generation, which a
// restore raises, is left out (NULL) so that a restored store compares equal to its snapshot;
// `generation`, if given, receives it.
Result<Dump> DumpStore(const std::string& url, uint64_t* generation = nullptr) {
  RWMETA_ASSIGN_OR_RETURN(auto store, metastore::OpenMetaStore(url));
  RWMETA_ASSIGN_OR_RETURN(auto view, store->BeginSnapshotRead());
  Dump out;
  for (const auto& table : Model::Get().tables()) {
    RWMETA_RETURN_IF_ERROR(view->Scan(table, [&](const Row& row) {
      out[table.name].push_back(row);
      return Status::Ok();
    }));
  }
  if (generation != nullptr) *generation = RowGeneration(out);
  for (Row& row : out["cluster"]) {
    row[Model::Get().Table("cluster").ColumnIndex("generation")] = std::monostate{};
  }
  return out;
}

// The state store's generation (`<dir>/generation`) at `state_url`.
Result<uint64_t> StateGeneration(const std::string& state_url) {
  RWMETA_ASSIGN_OR_RETURN(auto state, objstore::OpenObjectStore(state_url));
  RWMETA_ASSIGN_OR_RETURN(hummock::StoredGeneration stored, hummock::ReadGeneration(*state, kDir));
  return stored.record.generation;
}

// The rows of snapshot `id` at fs://<backup_root>/backup.
Result<Dump> DumpSnapshot(const std::string& backup_url, uint64_t id) {
  struct Collector : backup::SnapshotVisitor {
    Status OnRow(const backup::SnapshotTable& t, const Row& row) override {
      out[t.name].push_back(row);
      return Status::Ok();
    }
    Dump out;
  } collector;
  RWMETA_ASSIGN_OR_RETURN(auto store, objstore::OpenObjectStore(backup_url));
  RWMETA_RETURN_IF_ERROR(
      backup::ReadSnapshot(*store, backup::SnapshotKey("backup", id), &collector).status());
  // As DumpStore: the generation is compared separately.
  for (Row& row : collector.out["cluster"]) {
    row.resize(Model::Get().Table("cluster").columns.size());
    row[Model::Get().Table("cluster").ColumnIndex("generation")] = std::monostate{};
  }
  return collector.out;
}

// Whether the store at `url` has no row (a failed restore must leave it so).
bool HasNoRows(const std::string& url) {
  auto store = metastore::OpenMetaStore(url);
  if (!store.ok()) return false;
  auto state = (*store)->Inspect();
  return state.ok() && state->empty;
}

// Takes a snapshot of a stopped node's stores into fs backup storage `backup_url`/backup.
// With an empty `state_url` the snapshot gets an empty Hummock version.
Result<uint64_t> OfflineSnapshot(const std::string& meta_url, const std::string& state_url,
                                 const std::string& backup_url) {
  uint64_t generation = 0;
  RWMETA_RETURN_IF_ERROR(DumpStore(meta_url, &generation).status());
  RWMETA_ASSIGN_OR_RETURN(auto meta, metastore::OpenMetaStore(meta_url));
  hummock::HummockVersion version;
  if (!state_url.empty()) {
    RWMETA_ASSIGN_OR_RETURN(auto state, objstore::OpenObjectStore(state_url));
    RWMETA_ASSIGN_OR_RETURN(auto manager,
                            hummock::HummockManager::Open(
                                *meta, *state, {.data_directory = kDir, .generation = generation}));
    version = *manager->current();
  }
  int64_t id = 0;
  std::string cluster_id;
  RWMETA_RETURN_IF_ERROR(metastore::RunTransaction(*meta, [&](metastore::Transaction& txn) {
    RWMETA_ASSIGN_OR_RETURN(id, metastore::NextId(txn, restore::kSnapshotIdSequence));
    return txn.Scan(Model::Get().Table("cluster"), [&](const Row& row) {
      cluster_id = std::get<std::string>(row[0]);
      return Status::Ok();
    });
  }));
  RWMETA_ASSIGN_OR_RETURN(auto backup_store, objstore::OpenObjectStore(backup_url));
  backup::BackupStorage storage(backup_store.get(), "backup");
  RWMETA_ASSIGN_OR_RETURN(auto view, meta->BeginSnapshotRead());
  backup::SnapshotHeader header{.cluster_id = cluster_id,
                                .rwmeta_version = "0.1.0",
                                .source_backend = std::string(meta->backend()),
                                .created_at_ms = UnixNowMs()};
  RWMETA_ASSIGN_OR_RETURN(backup::SnapshotMetadata entry,
                          storage.WriteSnapshot(static_cast<uint64_t>(id), *view, version, header));
  return entry.id;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The source cluster, built once.
struct Source {
  std::unique_ptr<TempDir> dir;
  std::string root;
  std::string meta_url;    // sqlite:///<root>/src/meta.db
  std::string state_url;   // fs://<root>/state
  std::string backup_url;  // fs://<root>/backup
  std::string cluster_id;
  std::string error;  // set if building it failed
};
Source* g_source = nullptr;

constexpr char kRowsAtSnapshot1[] = "1|one\n2|two\n3|three\n";
constexpr char kRowsAtSnapshot2[] = "1|uno\n3|three\n4|four\n5|five\n";

class RestoreE2eTest : public ::testing::Test {
 protected:
  // Built by the first suite that needs it, deleted (with its directory) by SourceEnvironment.
  static void SetUpTestSuite() {
    if (g_source != nullptr) return;
    g_source = new Source;
    Status s = BuildSource(*g_source);
    if (!s.ok()) g_source->error = s.ToString();
  }

  void SetUp() override {
    ASSERT_TRUE(g_source->error.empty()) << "building the source cluster: " << g_source->error;
  }

  static std::vector<std::string> NodeArgs(const std::string& meta_db,
                                           const std::string& state_url) {
    return {"--backend",
            "sqlite",
            "--sql-endpoint",
            meta_db,
            "--state-store",
            "hummock+" + state_url,
            "--data-directory",
            kDir,
            "--state-store-lease-ttl-ms",
            "1500"};
  }

  static Result<std::unique_ptr<MetaNodeProcess>> StartNode(const std::string& work_dir,
                                                            std::vector<std::string> args) {
    MetaNodeProcess::Options options;
    options.work_dir = work_dir;
    options.extra_args = std::move(args);
    return MetaNodeProcess::Start(options);
  }

  static Status Run(int port, const std::string& sql) {
    RWMETA_ASSIGN_OR_RETURN(CommandResult r, Psql(port, sql));
    if (r.exit_code != 0) return InternalError("psql: " + sql + ": " + r.err);
    return Status::Ok();
  }

  static Status BuildSource(Source& src) {
    src.dir = std::make_unique<TempDir>();
    src.root = src.dir->path();
    fs::create_directories(src.root + "/src");
    const std::string meta_db = src.root + "/src/meta.db";
    src.meta_url = "sqlite://" + meta_db;
    src.state_url = "fs://" + src.root + "/state";
    src.backup_url = "fs://" + src.root + "/backup";
    std::vector<std::string> args = NodeArgs(meta_db, src.state_url);
    args.insert(args.end(),
                {"--backup-storage-url", src.backup_url, "--backup-storage-directory", "backup"});
    {
      RWMETA_ASSIGN_OR_RETURN(auto node, StartNode(src.root + "/src", args));
      RWMETA_RETURN_IF_ERROR(Run(node->pg_port(),
                                 "CREATE TABLE t (a int PRIMARY KEY, b varchar); "
                                 "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three'); "
                                 "CREATE MATERIALIZED VIEW m AS SELECT count(*) AS n FROM t; "
                                 "CREATE USER alice WITH PASSWORD 'pw'; "
                                 "CREATE SECRET api_key WITH (backend = 'meta') AS 'hunter2'; "
                                 "ALTER SYSTEM SET checkpoint_frequency = 2; FLUSH;"));
      RWMETA_RETURN_IF_ERROR(node->Stop().status());
    }
    RWMETA_ASSIGN_OR_RETURN(uint64_t first,
                            OfflineSnapshot(src.meta_url, src.state_url, src.backup_url));
    if (first != 1) return InternalError("first snapshot id " + std::to_string(first));
    {
      RWMETA_ASSIGN_OR_RETURN(auto node, StartNode(src.root + "/src", args));
      RWMETA_RETURN_IF_ERROR(Run(node->pg_port(),
                                 "INSERT INTO t VALUES (4, 'four'), (5, 'five'); "
                                 "UPDATE t SET b = 'uno' WHERE a = 1; DELETE FROM t WHERE a = 2; "
                                 "CREATE TABLE t2 (x int); INSERT INTO t2 VALUES (10); "
                                 "DROP USER alice; FLUSH;"));
      RWMETA_RETURN_IF_ERROR(node->Stop().status());
    }
    RWMETA_ASSIGN_OR_RETURN(uint64_t second,
                            OfflineSnapshot(src.meta_url, src.state_url, src.backup_url));
    if (second != 2) return InternalError("second snapshot id " + std::to_string(second));
    RWMETA_ASSIGN_OR_RETURN(Dump rows, DumpStore(src.meta_url));
    src.cluster_id = std::get<std::string>(rows["cluster"].at(0)[0]);
    return Status::Ok();
  }

  // risectl meta restore-meta with the guide's flags for the source, into SQLite file `meta_db`;
  // `extra` replaces flags given here (CLI11 refuses a repeated flag) or adds new ones.
  static Result<CommandResult> RestoreInto(const std::string& meta_db, uint64_t id,
                                           const std::vector<std::string>& extra = {}) {
    std::vector<std::pair<std::string, std::string>> flags = {
        {"--meta-snapshot-id", std::to_string(id)},
        {"--meta-store-type", "sqlite"},
        {"--sql-endpoint", meta_db},
        {"--backup-storage-url", g_source->backup_url},
        {"--backup-storage-directory", "backup"},
        {"--hummock-storage-url", g_source->state_url},
        {"--hummock-storage-directory", kDir}};
    std::vector<std::string> switches;
    for (size_t i = 0; i < extra.size(); ++i) {
      const bool has_value = i + 1 < extra.size() && !extra[i + 1].starts_with("--");
      if (!has_value) {
        switches.push_back(extra[i]);
        continue;
      }
      auto it = std::find_if(flags.begin(), flags.end(),
                             [&](const auto& f) { return f.first == extra[i]; });
      if (it != flags.end()) {
        it->second = extra[i + 1];
      } else {
        flags.emplace_back(extra[i], extra[i + 1]);
      }
      ++i;
    }
    std::vector<std::string> argv = {RisectlBinary(), "meta", "restore-meta"};
    for (const auto& [flag, value] : flags) argv.insert(argv.end(), {flag, value});
    argv.insert(argv.end(), switches.begin(), switches.end());
    return RunCommand(argv, {}, std::chrono::seconds(60));
  }

  static Result<CommandResult> Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), RisectlBinary());
    return RunCommand(args, {}, std::chrono::seconds(60));
  }

  static std::string Query(int port, const std::string& sql) {
    auto r = Psql(port, sql);
    if (!r.ok()) return "error: " + r.status().ToString();
    if (r->exit_code != 0) return "error: " + r->err;
    return r->out;
  }

  // A copy of the source's state store directory.
  static std::string CopyState(const std::string& to) {
    fs::copy(g_source->root + "/state", to, fs::copy_options::recursive);
    return "fs://" + to;
  }

  TempDir dir_;
};

// The guide, word for word: restore an older snapshot while a newer one exists into a fresh
// SQLite file, serve it, change it, snapshot it, restore that; and restore the newer one.
TEST_F(RestoreE2eTest, LifecycleOlderSnapshotDdlNewSnapshotRestoreAgain) {
  const std::string a_db = dir_.path() + "/a/meta.db";
  ASSERT_OK_AND_ASSIGN(auto restored, RestoreInto(a_db, 1));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("restored meta snapshot 1: cluster " + g_source->cluster_id));
  EXPECT_THAT(restored.err, HasSubstr("restore-meta: command succeeded"));

  {
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir_.path(), NodeArgs(a_db, g_source->state_url)));
    const int port = node->pg_port();
    EXPECT_EQ(Query(port, "SELECT a, b FROM t ORDER BY a"), kRowsAtSnapshot1);
    EXPECT_EQ(Query(port, "SELECT n FROM m"), "3\n");
    EXPECT_EQ(Query(port, "\\dt"), "public|t|table|root\n");
    EXPECT_EQ(Query(port, "SELECT name FROM rw_catalog.rw_users ORDER BY name"), "alice\nroot\n");
    EXPECT_EQ(Query(port, "SELECT name FROM rw_catalog.rw_secrets"), "api_key\n");
    EXPECT_THAT(Query(port, "SHOW PARAMETERS"), HasSubstr("checkpoint_frequency|2|"));
    EXPECT_THAT(Query(port, "SHOW PARAMETERS"),
                HasSubstr("state_store|hummock+" + g_source->state_url + "|"));
    ASSERT_OK_AND_ASSIGN(auto info,
                         Risectl({"meta", "cluster-info", "--meta-addr", node->meta_addr()}));
    EXPECT_THAT(info.out, HasSubstr(g_source->cluster_id));

    // The live node holds the state store's lease: another restore is refused, nothing written.
    const std::string refused_db = dir_.path() + "/refused/meta.db";
    ASSERT_OK_AND_ASSIGN(auto refused, RestoreInto(refused_db, 2));
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_THAT(refused.err, HasSubstr("holds the lease hummock_001/meta_lease"));
    EXPECT_THAT(refused.err, HasSubstr("shut the meta service down before restoring"));
    EXPECT_TRUE(HasNoRows("sqlite://" + refused_db));

    // New DDL and DML on the restored cluster.
    ASSERT_OK(Run(port,
                  "CREATE TABLE t3 (c int); INSERT INTO t3 VALUES (7), (8); "
                  "INSERT INTO t VALUES (9, 'nine'); FLUSH;"));
    EXPECT_EQ(Query(port, "SELECT c FROM t3 ORDER BY c"), "7\n8\n");
    EXPECT_EQ(Query(port, "SELECT n FROM m"), "4\n");

    // An object nothing references (as the old cluster may have left after its last snapshot) is
    // garbage for full GC; what the kept snapshots reference is not (checked below by restoring
    // them with --validate-integrity).
    const std::string orphan = fmt::format("{}/state/{}/900000000.data", g_source->root, kDir);
    std::ofstream(orphan) << "orphan";
    ASSERT_OK_AND_ASSIGN(auto gc, Risectl({"hummock", "trigger-full-gc", "-s", "0", "--meta-addr",
                                           node->meta_addr()}));
    ASSERT_EQ(gc.exit_code, 0) << gc.err;
    EXPECT_THAT(gc.out, HasSubstr("Deleted 1 objects"));
    EXPECT_THAT(gc.out, HasSubstr("900000000"));
    EXPECT_FALSE(fs::exists(orphan));
    ASSERT_OK(node->Stop().status());
  }
  // No id the newer snapshot references was handed out again.
  ASSERT_OK_AND_ASSIGN(auto backup_store, objstore::OpenObjectStore(g_source->backup_url));
  backup::BackupStorage storage(backup_store.get(), "backup");
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest, storage.ReadManifest());
  ASSERT_EQ(manifest.snapshots.size(), 2u);
  const uint64_t newest_max = manifest.snapshots[1].max_object_id;
  ASSERT_OK_AND_ASSIGN(auto oldest, storage.Details(manifest.snapshots[0]));
  {
    uint64_t generation = 0;
    ASSERT_OK(DumpStore("sqlite://" + a_db, &generation).status());
    ASSERT_OK_AND_ASSIGN(auto meta, metastore::OpenMetaStore("sqlite://" + a_db));
    ASSERT_OK_AND_ASSIGN(auto state, objstore::OpenObjectStore(g_source->state_url));
    ASSERT_OK_AND_ASSIGN(auto manager,
                         hummock::HummockManager::Open(
                             *meta, *state, {.data_directory = kDir, .generation = generation}));
    const auto& old_ids = oldest->object_ids;
    int new_objects = 0;
    for (uint64_t object_id : hummock::ObjectIds(*manager->current())) {
      if (std::find(old_ids.begin(), old_ids.end(), object_id) != old_ids.end()) continue;
      ++new_objects;
      EXPECT_GT(object_id, newest_max);
    }
    EXPECT_GT(new_objects, 0);
  }

  // A snapshot of the restored cluster continues the snapshot ids: 3.
  ASSERT_OK_AND_ASSIGN(uint64_t third, OfflineSnapshot("sqlite://" + a_db, g_source->state_url,
                                                       g_source->backup_url));
  EXPECT_EQ(third, 3u);
  const std::string b_db = dir_.path() + "/b/meta.db";
  ASSERT_OK_AND_ASSIGN(auto again, RestoreInto(b_db, 3, {"--validate-integrity"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  {
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir_.path(), NodeArgs(b_db, g_source->state_url)));
    EXPECT_EQ(Query(node->pg_port(), "SELECT c FROM t3 ORDER BY c"), "7\n8\n");
    EXPECT_EQ(Query(node->pg_port(), "SELECT a, b FROM t ORDER BY a"),
              std::string(kRowsAtSnapshot1) + "9|nine\n");
    ASSERT_OK(node->Stop().status());
  }

  // The newer snapshot 2 is still restorable: its objects were kept.
  const std::string c_db = dir_.path() + "/c/meta.db";
  ASSERT_OK_AND_ASSIGN(auto newer, RestoreInto(c_db, 2, {"--validate-integrity"}));
  ASSERT_EQ(newer.exit_code, 0) << newer.err;
  {
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir_.path(), NodeArgs(c_db, g_source->state_url)));
    const int port = node->pg_port();
    EXPECT_EQ(Query(port, "SELECT a, b FROM t ORDER BY a"), kRowsAtSnapshot2);
    EXPECT_EQ(Query(port, "SELECT x FROM t2"), "10\n");
    EXPECT_EQ(Query(port, "SELECT n FROM m"), "4\n");
    EXPECT_EQ(Query(port, "SELECT name FROM rw_catalog.rw_users ORDER BY name"), "root\n");
    ASSERT_OK(node->Stop().status());
  }
}

TEST_F(RestoreE2eTest, EveryRowOfTheSnapshotLandsInSqlite) {
  const std::string db = dir_.path() + "/meta.db";
  ASSERT_OK_AND_ASSIGN(auto r, RestoreInto(db, 1, {"--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dry run of meta snapshot 1"));
  EXPECT_TRUE(HasNoRows("sqlite://" + db));

  ASSERT_OK_AND_ASSIGN(Dump snapshot, DumpSnapshot(g_source->backup_url, 1));
  const std::string copy = CopyState(dir_.path() + "/state");
  ASSERT_OK_AND_ASSIGN(
      auto done, RestoreInto(db, 1,
                             {"--hummock-storage-url", copy, "--overwrite-hummock-storage-endpoint",
                              "--overwrite-backup-storage-url", g_source->backup_url,
                              "--overwrite-backup-storage-directory", "backup"}));
  ASSERT_EQ(done.exit_code, 0) << done.err;
  ASSERT_OK_AND_ASSIGN(Dump restored, DumpStore("sqlite://" + db));
  for (const auto& table : Model::Get().tables()) {
    if (!table.in_snapshot || table.name == "id_sequence" || table.name == "system_parameter") {
      continue;
    }
    EXPECT_EQ(restored[table.name], snapshot[table.name]) << table.name;
  }
  EXPECT_EQ(restored["system_parameter"].size(), snapshot["system_parameter"].size());
  EXPECT_TRUE(restored["hummock_version_delta"].empty());
}

// On a terminal, restore-meta draws rows and bytes per table on stderr; in a pipe it does not.
TEST_F(RestoreE2eTest, ProgressPerTableOnATerminalOnly) {
  const std::string copy = CopyState(dir_.path() + "/state");
  auto command = [&](const std::string& db) {
    return fmt::format(
        "{} meta restore-meta --meta-snapshot-id 1 --meta-store-type sqlite --sql-endpoint {} "
        "--backup-storage-url {} --hummock-storage-url {} --overwrite-hummock-storage-endpoint "
        "--overwrite-backup-storage-url {} --overwrite-backup-storage-directory backup",
        RisectlBinary(), db, g_source->backup_url, copy, g_source->backup_url);
  };
  // script(1) runs the command on a pseudo-terminal.
  ASSERT_OK_AND_ASSIGN(auto tty, RunCommand({"/usr/bin/script", "-qec",
                                             command(dir_.path() + "/tty.db"), "/dev/null"}));
  ASSERT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_THAT(tty.out, HasSubstr("restored meta snapshot 1"));
  // Snapshot 1 has two users (root, alice) and one cluster row.
  EXPECT_THAT(tty.out, ::testing::ContainsRegex("user +2/2 +rows"));
  EXPECT_THAT(tty.out, ::testing::ContainsRegex("cluster +1/1 +rows"));
  ASSERT_OK_AND_ASSIGN(auto pipe, RunCommand({"/bin/sh", "-c", command(dir_.path() + "/p.db")}));
  ASSERT_EQ(pipe.exit_code, 0) << pipe.err;
  EXPECT_THAT(pipe.err, Not(::testing::ContainsRegex("cluster +1/1 +rows")));
  EXPECT_THAT(pipe.err, HasSubstr("restore-meta: table user: 2 rows"));
}

TEST_F(RestoreE2eTest, ClearErrorsLeaveTheTargetUntouched) {
  const std::string db = dir_.path() + "/meta.db";
  const std::string url = "sqlite://" + db;
  auto expect_refused = [&](const std::vector<std::string>& extra, const std::string& message,
                            uint64_t id = 1) {
    ASSERT_OK_AND_ASSIGN(auto r, RestoreInto(db, id, extra));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_TRUE(HasNoRows(url)) << message;
  };
  expect_refused({},
                 "meta snapshot 42 not found in backup storage " + g_source->backup_url +
                     " directory backup: it lists snapshots 1, 2",
                 42);
  expect_refused(
      {"--hummock-storage-url", "fs://" + dir_.path() + "/elsewhere"},
      "state store url mismatch: meta snapshot 1 was taken of a cluster on " + g_source->state_url);
  expect_refused({"--hummock-storage-directory", "other"},
                 "data_directory hummock_001 but --hummock-storage-directory is other");
  expect_refused({"--overwrite-hummock-storage-endpoint"},
                 "--overwrite-hummock-storage-endpoint, --overwrite-backup-storage-url and "
                 "--overwrite-backup-storage-directory must be given together");

  // Missing objects, found by --validate-integrity on a copy that lost one.
  const std::string copy = CopyState(dir_.path() + "/lossy");
  ASSERT_OK_AND_ASSIGN(auto backup_store, objstore::OpenObjectStore(g_source->backup_url));
  ASSERT_OK_AND_ASSIGN(backup::Manifest manifest,
                       backup::BackupStorage(backup_store.get(), "backup").ReadManifest());
  ASSERT_OK_AND_ASSIGN(
      auto details,
      backup::BackupStorage(backup_store.get(), "backup").Details(manifest.snapshots[0]));
  const uint64_t lost = details->object_ids.front();
  fs::remove(fmt::format("{}/lossy/{}/{}.data", dir_.path(), kDir, lost));
  const std::vector<std::string> onto_copy = {"--hummock-storage-url",
                                              copy,
                                              "--overwrite-hummock-storage-endpoint",
                                              "--overwrite-backup-storage-url",
                                              g_source->backup_url,
                                              "--overwrite-backup-storage-directory",
                                              "backup"};
  std::vector<std::string> validate = onto_copy;
  validate.push_back("--validate-integrity");
  expect_refused(validate, fmt::format("meta snapshot 1 references 1 objects missing from state "
                                       "store {} directory hummock_001: {}",
                                       copy, lost));

  // A corrupt snapshot object (a copy of the backup location with one byte flipped).
  fs::copy(g_source->root + "/backup", dir_.path() + "/badbackup", fs::copy_options::recursive);
  {
    const std::string object = dir_.path() + "/badbackup/backup/1.snapshot";
    std::string bytes = ReadFile(object);
    bytes[bytes.size() / 2] ^= 0x10;
    std::ofstream(object, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::vector<std::string> corrupt = onto_copy;
  corrupt.insert(corrupt.end(), {"--backup-storage-url", "fs://" + dir_.path() + "/badbackup"});
  expect_refused(corrupt, "meta snapshot 1: ");

  // Backup storage that does not answer.
  const int closed = PickFreePort();
  expect_refused(
      {"--backup-storage-url", fmt::format("minio://key:secret@127.0.0.1:{}/bucket", closed),
       "--read-retry-attempts", "1", "--read-attempt-timeout-ms", "20000"},
      fmt::format("backup storage minio://127.0.0.1:{}/bucket directory backup", closed));

  // A non-empty target: the source's own meta store.
  const std::string src_db = g_source->root + "/src/meta.db";
  ASSERT_OK_AND_ASSIGN(Dump before, DumpStore(g_source->meta_url));
  ASSERT_OK_AND_ASSIGN(auto busy, RestoreInto(src_db, 1, onto_copy));
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_THAT(busy.err, HasSubstr("is not empty (table cluster has 1 rows)"));
  ASSERT_OK_AND_ASSIGN(Dump after, DumpStore(g_source->meta_url));
  EXPECT_EQ(after, before);

  // Usage errors are exit code 2.
  ASSERT_OK_AND_ASSIGN(auto usage, Risectl({"meta", "restore-meta", "--meta-snapshot-id", "1"}));
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, HasSubstr("--meta-store-type is required"));
}

// A restore whose checkpoint write fails after the rows are committed: meta-node refuses the
// store naming the command, and running the restore again completes it. Onto a copied state store
// with the overwrite flags, which the restored node then shows.
TEST_F(RestoreE2eTest, HalfRestoredStoreIsRefusedUntilTheRerunCompletesIt) {
  const std::string state_dir = dir_.path() + "/state";
  const std::string copy = CopyState(state_dir);
  // A directory where the checkpoint object goes makes the fs store's Put fail: the restore raises
  // the copy's generation by one and writes that generation's checkpoint.
  ASSERT_OK_AND_ASSIGN(uint64_t copied_generation, StateGeneration(copy));
  const std::string checkpoint =
      state_dir + "/" + kDir + "/checkpoint/" + std::to_string(copied_generation + 1);
  fs::remove_all(checkpoint);
  fs::create_directories(checkpoint + "/blocker");
  const std::string db = dir_.path() + "/meta.db";
  const std::vector<std::string> onto_copy = {"--hummock-storage-url",
                                              copy,
                                              "--overwrite-hummock-storage-endpoint",
                                              "--overwrite-backup-storage-url",
                                              g_source->backup_url,
                                              "--overwrite-backup-storage-directory",
                                              "backup"};
  ASSERT_OK_AND_ASSIGN(auto failed, RestoreInto(db, 1, onto_copy));
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("the rows are committed but the checkpoint is not; run the "
                                    "same restore-meta again to complete it"));

  auto refused = StartNode(dir_.path(), NodeArgs(db, copy));
  ASSERT_FALSE(refused.ok());
  // The node exits at once; its log names the restore and the command.
  EXPECT_THAT(refused.status().message(),
              HasSubstr("holds an unfinished restore of meta snapshot 1"));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("run `risectl meta restore-meta --meta-snapshot-id 1`"));

  fs::remove_all(checkpoint);
  ASSERT_OK_AND_ASSIGN(auto rerun, RestoreInto(db, 1, onto_copy));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_THAT(rerun.out, HasSubstr("completed the restore of meta snapshot 1"));

  ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir_.path(), NodeArgs(db, copy)));
  EXPECT_EQ(Query(node->pg_port(), "SELECT a, b FROM t ORDER BY a"), kRowsAtSnapshot1);
  const std::string params = Query(node->pg_port(), "SHOW PARAMETERS");
  EXPECT_THAT(params, HasSubstr("state_store|hummock+" + copy + "|"));
  EXPECT_THAT(params, HasSubstr("backup_storage_url|" + g_source->backup_url + "|"));
  ASSERT_OK(node->Stop().status());
}

// risectl killed with SIGKILL at each named point of a restore (RWMETA_TEST_KILL_AT, see
// restore_commands.cc): before the commit the target has no row; after it the store holds the
// marked rows of an unfinished restore, which meta-node refuses; the same command run again
// always ends with the snapshot's rows and no marker.
TEST_F(RestoreE2eTest, KilledAtEveryStepThenRerunSucceeds) {
  ASSERT_OK_AND_ASSIGN(Dump snapshot, DumpSnapshot(g_source->backup_url, 1));
  const std::string copy = CopyState(dir_.path() + "/state");
  struct Point {
    const char* kill_at;
    bool committed;
  };
  int i = 0;
  for (const Point& point :
       {Point{"reading the manifest", false}, Point{"reading meta snapshot", false},
        Point{"inspecting target", false}, Point{"writing rows into", false},
        Point{"table:user", false}, Point{"table:backup_job", false},
        Point{"raising the cluster generation", false}, Point{"committing", false},
        Point{"writing the Hummock version", true}}) {
    SCOPED_TRACE(point.kill_at);
    const std::string db = fmt::format("{}/kill{}/meta.db", dir_.path(), i++);
    std::vector<std::string> argv = {RisectlBinary(),
                                     "meta",
                                     "restore-meta",
                                     "--meta-snapshot-id",
                                     "1",
                                     "--meta-store-type",
                                     "sqlite",
                                     "--sql-endpoint",
                                     db,
                                     "--backup-storage-url",
                                     g_source->backup_url,
                                     "--hummock-storage-url",
                                     copy,
                                     "--overwrite-hummock-storage-endpoint",
                                     "--overwrite-backup-storage-url",
                                     g_source->backup_url,
                                     "--overwrite-backup-storage-directory",
                                     "backup"};
    ASSERT_OK_AND_ASSIGN(auto killed, RunCommand(argv, {{"RWMETA_TEST_KILL_AT", point.kill_at}}));
    EXPECT_EQ(killed.exit_code, -1) << "not killed: " << killed.err;

    {
      ASSERT_OK_AND_ASSIGN(auto store, metastore::OpenMetaStore("sqlite://" + db));
      ASSERT_OK_AND_ASSIGN(metastore::SchemaState state, store->Inspect());
      if (point.committed) {
        EXPECT_FALSE(state.empty);
        EXPECT_THAT(hummock::CheckNoIncompleteRestore(*store),
                    testing::StatusIs(StatusCode::kFailedPrecondition,
                                      HasSubstr("unfinished restore of meta snapshot 1")));
      } else {
        EXPECT_TRUE(state.empty);
      }
    }
    if (point.committed) {
      auto refused = StartNode(dir_.path(), NodeArgs(db, copy));
      ASSERT_FALSE(refused.ok());
      EXPECT_THAT(refused.status().message(),
                  HasSubstr("holds an unfinished restore of meta snapshot 1"));
    }

    ASSERT_OK_AND_ASSIGN(auto rerun, RunCommand(argv, {}, std::chrono::seconds(60)));
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    EXPECT_THAT(rerun.out, HasSubstr(point.committed ? "completed the restore of meta snapshot 1"
                                                     : "restored meta snapshot 1"));
    uint64_t generation = 0;
    ASSERT_OK_AND_ASSIGN(Dump restored, DumpStore("sqlite://" + db, &generation));
    for (const char* table : {"cluster", "object", "table", "user", "secret"}) {
      EXPECT_EQ(restored[table], snapshot[table]) << table;
    }
    // Exactly one generation: the restored store's is the state store's.
    EXPECT_THAT(StateGeneration(copy), IsOkAndHolds(generation)) << point.kill_at;
    ASSERT_OK_AND_ASSIGN(auto reopened, metastore::OpenMetaStore("sqlite://" + db));
    EXPECT_OK(hummock::CheckNoIncompleteRestore(*reopened));
  }
}

TEST_F(RestoreE2eTest, EmptyClusterRoundTrip) {
  const std::string root = dir_.path();
  const std::string src_db = root + "/src/meta.db";
  const std::string state_url = "fs://" + root + "/state";
  const std::string backup_url = "fs://" + root + "/backup";
  fs::create_directories(root + "/src");
  {
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(root + "/src", NodeArgs(src_db, state_url)));
    ASSERT_OK(node->Stop().status());
  }
  ASSERT_OK_AND_ASSIGN(uint64_t id, OfflineSnapshot("sqlite://" + src_db, state_url, backup_url));
  ASSERT_OK_AND_ASSIGN(Dump source, DumpStore("sqlite://" + src_db));
  const std::string db = root + "/restored.db";
  ASSERT_OK_AND_ASSIGN(
      auto r, Risectl({"meta", "restore-meta", "--meta-snapshot-id", std::to_string(id),
                       "--meta-store-type", "sql", "--sql-endpoint", "sqlite://" + db,
                       "--backup-storage-url", backup_url, "--hummock-storage-url", state_url}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(auto node, StartNode(root, NodeArgs(db, state_url)));
  EXPECT_EQ(Query(node->pg_port(), "\\dt"), "");
  ASSERT_OK_AND_ASSIGN(auto info,
                       Risectl({"meta", "cluster-info", "--meta-addr", node->meta_addr()}));
  EXPECT_THAT(info.out, HasSubstr(std::get<std::string>(source["cluster"].at(0)[0])));
  ASSERT_OK(
      Run(node->pg_port(), "CREATE TABLE fresh (a int); INSERT INTO fresh VALUES (1); FLUSH;"));
  EXPECT_EQ(Query(node->pg_port(), "SELECT a FROM fresh"), "1\n");
  ASSERT_OK(node->Stop().status());
}

class SourceEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_source;
    g_source = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const kSourceEnvironment =
    ::testing::AddGlobalTestEnvironment(new SourceEnvironment);

// The operator's path: BACKUP through psql while the node runs, stop it, risectl restore-meta,
// start on the restored store: the data is the snapshot's, every snapshot is still listed, and
// the next BACKUP continues the ids.
TEST_F(RestoreE2eTest, SnapshotTakenWithSqlBackupRestores) {
  const std::string root = dir_.path();
  const std::string src_db = root + "/src/meta.db";
  const std::string state_url = "fs://" + root + "/state";
  const std::string backup_url = "fs://" + root + "/backup";
  fs::create_directories(root + "/src");
  std::vector<std::string> args = NodeArgs(src_db, state_url);
  args.insert(args.end(),
              {"--backup-storage-url", backup_url, "--backup-storage-directory", "backup"});
  {
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(root + "/src", args));
    const int port = node->pg_port();
    ASSERT_OK(Run(port, "CREATE TABLE k (a int PRIMARY KEY); INSERT INTO k VALUES (1), (2);"));
    EXPECT_EQ(Query(port, "BACKUP"), "1\n");
    ASSERT_OK(Run(port, "INSERT INTO k VALUES (3); CREATE TABLE later (x int);"));
    EXPECT_EQ(Query(port, "BACKUP"), "2\n");
    EXPECT_EQ(Query(port, "SELECT meta_snapshot_id FROM rw_catalog.rw_meta_snapshot ORDER BY 1"),
              "1\n2\n");
    ASSERT_OK(node->Stop().status());
  }
  const std::string db = root + "/restored.db";
  ASSERT_OK_AND_ASSIGN(
      auto r, Risectl({"meta", "restore-meta", "--meta-snapshot-id", "1", "--meta-store-type",
                       "sqlite", "--sql-endpoint", db, "--backup-storage-url", backup_url,
                       "--backup-storage-directory", "backup", "--hummock-storage-url", state_url,
                       "--hummock-storage-directory", kDir, "--validate-integrity"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(auto node, StartNode(root, NodeArgs(db, state_url)));
  const int port = node->pg_port();
  EXPECT_EQ(Query(port, "SELECT a FROM k ORDER BY a"), "1\n2\n");
  EXPECT_EQ(Query(port, "\\dt"), "public|k|table|root\n");
  EXPECT_EQ(Query(port, "SELECT meta_snapshot_id FROM rw_catalog.rw_meta_snapshot ORDER BY 1"),
            "1\n2\n");
  EXPECT_EQ(Query(port, "BACKUP"), "3\n");
  ASSERT_OK(node->Stop().status());
}

// ---- Other backends: restore with risectl, then compare every row in-process. ----

class RestoreBackendTest : public RestoreE2eTest {
 protected:
  // Restores snapshot 1 onto a copy of the state store with target flags `target`.
  Result<CommandResult> RestoreWith(const std::vector<std::string>& target,
                                    const std::string& backup_url = "") {
    if (copy_.empty()) copy_ = CopyState(dir_.path() + "/state");
    std::vector<std::string> argv = {"meta",
                                     "restore-meta",
                                     "--meta-snapshot-id",
                                     "1",
                                     "--backup-storage-url",
                                     backup_url.empty() ? g_source->backup_url : backup_url,
                                     "--hummock-storage-url",
                                     copy_,
                                     "--overwrite-hummock-storage-endpoint",
                                     "--overwrite-backup-storage-url",
                                     g_source->backup_url,
                                     "--overwrite-backup-storage-directory",
                                     "backup"};
    argv.insert(argv.end(), target.begin(), target.end());
    return Risectl(argv);
  }

  // Every in_snapshot row of snapshot 1 (sequences and the four rewritten parameters aside) is in
  // the store at `url`, which has no unfinished restore.
  void ExpectRestored(const std::string& url) {
    ASSERT_OK_AND_ASSIGN(Dump snapshot, DumpSnapshot(g_source->backup_url, 1));
    ASSERT_OK_AND_ASSIGN(Dump restored, DumpStore(url));
    for (const auto& table : Model::Get().tables()) {
      if (!table.in_snapshot || table.name == "id_sequence" || table.name == "system_parameter") {
        continue;
      }
      EXPECT_EQ(restored[table.name], snapshot[table.name]) << table.name;
    }
    EXPECT_EQ(restored["system_parameter"].size(), snapshot["system_parameter"].size());
    ASSERT_OK_AND_ASSIGN(auto store, metastore::OpenMetaStore(url));
    EXPECT_OK(hummock::CheckNoIncompleteRestore(*store));
  }

  std::string copy_;
};

TEST_F(RestoreBackendTest, Postgres) {
  if (!testing::PostgresServer::Installed()) RWMETA_SKIP_OR_FAIL("PostgreSQL 15 not installed");
  ASSERT_OK_AND_ASSIGN(auto pg, testing::PostgresServer::Start());
  ASSERT_OK_AND_ASSIGN(std::string db, pg->CreateDatabase());
  const std::vector<std::string> target = {
      "--meta-store-type", "postgres", "--sql-endpoint",   fmt::format("127.0.0.1:{}", pg->port()),
      "--sql-username",    pg->user(), "--sql-password",   pg->password(),
      "--sql-database",    db,         "--sql-url-params", "sslmode=disable"};
  // The schema first, as the guide suggests; restore uses it as is.
  std::vector<std::string> schema = {"meta", "create-meta-store-schema"};
  schema.insert(schema.end(), target.begin(), target.end());
  ASSERT_OK_AND_ASSIGN(auto created, Risectl(schema));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("created meta store schema version"));
  ASSERT_OK_AND_ASSIGN(auto r, RestoreWith(target));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectRestored(pg->Url(db));

  // Again into the same database: not empty.
  ASSERT_OK_AND_ASSIGN(auto again, RestoreWith(target));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("is not empty (table cluster has 1 rows)"));

  // Wrong password, and a server that is not there: nothing written.
  ASSERT_OK_AND_ASSIGN(std::string fresh, pg->CreateDatabase());
  std::vector<std::string> wrong = target;
  wrong[7] = "wrong-password";
  wrong[9] = fresh;
  ASSERT_OK_AND_ASSIGN(auto denied, RestoreWith(wrong));
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, HasSubstr("target meta store postgres://"));
  EXPECT_THAT(denied.err, HasSubstr("password authentication failed"));
  EXPECT_THAT(denied.err, Not(HasSubstr("wrong-password")));
  std::vector<std::string> gone = target;
  gone[3] = fmt::format("127.0.0.1:{}", PickFreePort());
  ASSERT_OK_AND_ASSIGN(auto unreachable, RestoreWith(gone));
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("target meta store postgres://"));
  EXPECT_THAT(unreachable.err, HasSubstr("Connection refused"));
  EXPECT_TRUE(HasNoRows(pg->Url(fresh)));

  // A snapshot holding a NUL byte in text (SQLite keeps it, PostgreSQL refuses it): the whole
  // restore is rolled back.
  const std::string nul_root = dir_.path() + "/nul";
  fs::create_directories(nul_root);
  fs::copy(g_source->root + "/src/meta.db", nul_root + "/meta.db");
  {
    ASSERT_OK_AND_ASSIGN(auto meta, metastore::OpenMetaStore("sqlite://" + nul_root + "/meta.db"));
    ASSERT_OK(metastore::RunTransaction(*meta, [](metastore::Transaction& txn) {
      return txn.Upsert(
          Model::Get().Table("session_parameter"),
          Row{std::string("application_name"), std::string("a\0b", 3), std::monostate{}});
    }));
  }
  const std::string nul_backup = "fs://" + nul_root + "/backup";
  ASSERT_OK_AND_ASSIGN(uint64_t nul_id,
                       OfflineSnapshot("sqlite://" + nul_root + "/meta.db", "", nul_backup));
  std::vector<std::string> nul_target = target;
  nul_target[9] = fresh;
  std::vector<std::string> argv = {"meta",
                                   "restore-meta",
                                   "--meta-snapshot-id",
                                   std::to_string(nul_id),
                                   "--backup-storage-url",
                                   nul_backup,
                                   "--hummock-storage-url",
                                   copy_,
                                   "--overwrite-hummock-storage-endpoint",
                                   "--overwrite-backup-storage-url",
                                   nul_backup,
                                   "--overwrite-backup-storage-directory",
                                   "backup"};
  argv.insert(argv.end(), nul_target.begin(), nul_target.end());
  ASSERT_OK_AND_ASSIGN(auto nul, Risectl(argv));
  EXPECT_EQ(nul.exit_code, 1);
  EXPECT_THAT(nul.err, HasSubstr("of table session_parameter"));
  EXPECT_TRUE(HasNoRows(pg->Url(fresh)));
}

TEST_F(RestoreBackendTest, Mysql) {
  if (!testing::MysqlServer::Installed()) RWMETA_SKIP_OR_FAIL("MariaDB not installed");
  ASSERT_OK_AND_ASSIGN(auto my, testing::MysqlServer::Start());
  ASSERT_OK_AND_ASSIGN(std::string db, my->CreateDatabase());
  // An empty database: restore creates the schema itself.
  const std::vector<std::string> target = {
      "--meta-store-type", "mysql",    "--sql-endpoint", fmt::format("127.0.0.1:{}", my->port()),
      "--sql-username",    my->user(), "--sql-password", my->password(),
      "--sql-database",    db};
  ASSERT_OK_AND_ASSIGN(auto r, RestoreWith(target));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectRestored(my->Url(db));

  ASSERT_OK_AND_ASSIGN(std::string fresh, my->CreateDatabase());
  std::vector<std::string> wrong = target;
  wrong[7] = "wrong-password";
  wrong[9] = fresh;
  ASSERT_OK_AND_ASSIGN(auto denied, RestoreWith(wrong));
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_THAT(denied.err, HasSubstr("target meta store mysql://"));
  EXPECT_THAT(denied.err, HasSubstr("Access denied"));
  EXPECT_THAT(denied.err, Not(HasSubstr("wrong-password")));
  EXPECT_TRUE(HasNoRows(my->Url(fresh)));
}

TEST_F(RestoreBackendTest, EtcdWithoutAndWithAuth) {
  if (!testing::EtcdServer::Installed()) RWMETA_SKIP_OR_FAIL("etcd not installed");
  {
    ASSERT_OK_AND_ASSIGN(auto etcd, testing::EtcdServer::Start());
    const std::vector<std::string> target = {"--meta-store-type", "etcd", "--etcd-endpoints",
                                             etcd->endpoint()};
    ASSERT_OK_AND_ASSIGN(auto r, RestoreWith(target));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectRestored("etcd://" + etcd->endpoint());
    ASSERT_OK_AND_ASSIGN(auto again, RestoreWith(target));
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_THAT(again.err, HasSubstr("is not empty"));
    // Credentials for an etcd without authentication.
    ASSERT_OK_AND_ASSIGN(
        auto mismatch,
        RestoreWith({"--meta-store-type", "etcd", "--etcd-endpoints", etcd->endpoint(),
                     "--etcd-auth", "--etcd-username", "root", "--etcd-password", "x"}));
    EXPECT_EQ(mismatch.exit_code, 1);
    EXPECT_THAT(mismatch.err, HasSubstr("target meta store etcd://"));
    EXPECT_THAT(mismatch.err, HasSubstr("authentication"));
  }
  {
    // A restore killed during its bulk load leaves the store hidden behind the load's marker
    // (Inspect says so); the next restore starts over.
    ASSERT_OK_AND_ASSIGN(auto etcd, testing::EtcdServer::Start());
    {
      ASSERT_OK_AND_ASSIGN(auto store, metastore::OpenMetaStore(etcd->Url("")));
      ASSERT_OK_AND_ASSIGN(auto killed, store->BeginBulkLoad());
      ASSERT_OK_AND_ASSIGN(metastore::SchemaState hidden, store->Inspect());
      ASSERT_TRUE(hidden.unfinished_bulk_load);
    }
    const std::vector<std::string> target = {"--meta-store-type", "etcd", "--etcd-endpoints",
                                             etcd->endpoint()};
    ASSERT_OK_AND_ASSIGN(auto r, RestoreWith(target));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("an earlier restore's bulk load did not finish; the restore "
                                 "starts over"));
    ExpectRestored("etcd://" + etcd->endpoint());
  }
  ASSERT_OK_AND_ASSIGN(auto etcd, testing::EtcdServer::Start({.auth = true}));
  // No credentials for an etcd that needs them; then wrong ones: nothing written.
  ASSERT_OK_AND_ASSIGN(auto anonymous, RestoreWith({"--meta-store-type", "etcd", "--etcd-endpoints",
                                                    etcd->endpoint()}));
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_THAT(anonymous.err, HasSubstr("target meta store etcd://"));
  EXPECT_THAT(anonymous.err, HasSubstr("authentication"));
  ASSERT_OK_AND_ASSIGN(auto wrong, RestoreWith({"--meta-store-type", "etcd", "--etcd-endpoints",
                                                etcd->endpoint(), "--etcd-auth", "--etcd-username",
                                                "root", "--etcd-password", "wrong-password"}));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("authentication"));
  EXPECT_THAT(wrong.err, Not(HasSubstr("wrong-password")));
  ASSERT_OK_AND_ASSIGN(auto r, RestoreWith({"--meta-store-type", "etcd", "--etcd-endpoints",
                                            etcd->endpoint(), "--etcd-auth", "--etcd-username",
                                            "root", "--etcd-password", etcd->root_password()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectRestored(etcd->Url(""));
}

}  // namespace
}  // namespace rwmeta::e2e
