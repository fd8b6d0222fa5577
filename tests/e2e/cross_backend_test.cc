// The cross-backend restore matrix: a busy cluster on each meta-store backend (SQLite, PostgreSQL,
// MySQL/MariaDB, etcd), one meta snapshot, more changes after it, then restore-meta of that
// snapshot into every other backend (12 ordered pairs, each into a fresh database or etcd prefix,
// some into a schema made first by create-meta-store-schema). Each restored cluster must show
// exactly what the source showed at snapshot time (catalogs, parameters, every row, cluster id,
// the catalog rows in the store) and take new DDL and DML. etcd with authentication is a source
// and a target; a target whose auth setting does not match its etcd is refused with nothing
// written.
//
// The servers start once for the binary (one CTest test).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "common/testing/status_matchers.h"
#include "e2e/busy_cluster.h"
#include "e2e/meta_store_servers.h"

namespace rwmeta::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

MetaStoreServers* servers = nullptr;

class ServersEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    servers = new MetaStoreServers();
    servers->Start(/*with_etcd_auth=*/true);
  }
  void TearDown() override {
    delete servers;
    servers = nullptr;
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new ServersEnvironment());

// Keys under an etcd prefix ("" when there are none).
Result<std::string> EtcdKeys(const testing::EtcdServer& etcd, const MetaStoreSpec& spec) {
  const std::string& e = spec.endpoint.etcd_endpoints;
  return etcd.Etcdctl({"get", "--prefix", "--keys-only", e.substr(e.find('/')) + "/"});
}

void ExpectSameState(const ClusterState& want, const ClusterState& got) {
  for (const auto& [label, text] : want) {
    auto it = got.find(label);
    if (it == got.end()) {
      ADD_FAILURE() << "missing after restore: " << label;
      continue;
    }
    EXPECT_EQ(it->second, text) << label;
  }
  for (const auto& [label, text] : got) {
    EXPECT_TRUE(want.contains(label)) << "only after restore: " << label << "\n" << text;
  }
}

// Prints how long each step took since the last call (the matrix must stay fast on a busy
// machine; this shows where its time goes).
class StepTimer {
 public:
  void Step(const std::string& what) {
    auto now = std::chrono::steady_clock::now();
    std::printf("[ timing ] %s: %lld ms\n", what.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count()));
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

class CrossBackendRestoreTest : public ::testing::TestWithParam<Backend> {};

TEST_P(CrossBackendRestoreTest, SnapshotRestoresIntoEveryOtherBackend) {
  const Backend source_kind = GetParam();
  if (!servers->errors.empty()) {
    std::string missing;
    for (const auto& [label, why] : servers->errors) missing += label + ": " + why + "; ";
    RWMETA_SKIP_OR_FAIL("servers missing: " + missing);
  }
  TempDir dir;
  StorageSpec storage;
  storage.state_url = "fs://" + dir.path() + "/state";
  storage.backup_url = "fs://" + dir.path() + "/backups";
  storage.backup_directory = "meta_snapshots";
  // The etcd source uses authentication.
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec source,
                       servers->FreshStore(source_kind, dir.path(), source_kind == Backend::kEtcd));
  const std::string source_dir = dir.path() + "/source";
  std::filesystem::create_directories(source_dir);
  ASSERT_OK_AND_ASSIGN(auto node, StartNode(source_dir, source, storage));
  StepTimer timer;
  ASSERT_OK(MakeBusyCluster(node->pg_port())) << node->Log();
  timer.Step("source started and made busy");
  ASSERT_OK_AND_ASSIGN(ClusterState at_snapshot, CaptureState(*node));
  ASSERT_OK_AND_ASSIGN(ClusterState rows_at_snapshot, DumpCatalogRows(source));
  timer.Step("state captured");
  // The busy cluster is what we think it is (so that equal states below mean something).
  EXPECT_EQ(at_snapshot["rw_databases"].substr(0, 6), "1|dev|");
  EXPECT_THAT(at_snapshot["rw_users"], HasSubstr("|alice|f|f|f|t\n"));
  EXPECT_THAT(at_snapshot["dev: rw_secrets"], HasSubstr("|api_key|"));
  EXPECT_EQ(std::count(at_snapshot["dev: rows of public.typed"].begin(),
                       at_snapshot["dev: rows of public.typed"].end(), '\n'),
            300);
  EXPECT_THAT(at_snapshot["dev: rows of public.typed"], HasSubstr("ünïcödé ✓"));
  EXPECT_THAT(at_snapshot["dev: rows of public.typed"],
              HasSubstr("\n5|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL\n"));
  EXPECT_EQ(std::count(at_snapshot["dev: rows of ops.events"].begin(),
                       at_snapshot["dev: rows of ops.events"].end(), '\n'),
            200);
  EXPECT_EQ(at_snapshot["analytics: rows of public.metrics_total"], "120|21795\n");
  EXPECT_THAT(at_snapshot["SHOW PARAMETERS"], HasSubstr("barrier_interval_ms|700|"));
  EXPECT_THAT(rows_at_snapshot["meta store table user_privilege"], Not(::testing::IsEmpty()));

  ASSERT_OK_AND_ASSIGN(uint64_t snapshot_id, TakeSnapshot(*node));
  timer.Step("snapshot taken");
  ASSERT_OK(ChangeAfterSnapshot(node->pg_port())) << node->Log();
  ASSERT_OK_AND_ASSIGN(ClusterState changed, CaptureState(*node));
  timer.Step("changed after the snapshot");
  for (const char* label :
       {"rw_databases", "rw_users", "SHOW PARAMETERS", "dev: rw_tables", "dev: rw_secrets",
        "dev: rows of public.typed", "dev: rows of public.typed_by_l", "alice logs in",
        "analytics: rows of public.metrics"}) {
    EXPECT_NE(changed[label], at_snapshot[label]) << label << " did not change after the snapshot";
  }
  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
  ASSERT_EQ(code, 0) << node->Log();
  node.reset();

  uint64_t newest_id = snapshot_id;
  // The snapshot the first restored cluster takes, and what that cluster showed then.
  uint64_t first_restored_id = 0;
  ClusterState first_restored_state;
  for (Backend target_kind : kBackends) {
    if (target_kind == source_kind) continue;
    // etcd targets alternate between the etcd with and without authentication.
    const bool auth = target_kind == Backend::kEtcd && source_kind != Backend::kPostgres;
    // Each target kind gets one restore into a schema made by create-meta-store-schema first.
    const bool make_schema = source_kind == Backend::kSqlite ||
                             (target_kind == Backend::kSqlite && source_kind == Backend::kPostgres);
    ASSERT_OK_AND_ASSIGN(MetaStoreSpec target, servers->FreshStore(target_kind, dir.path(), auth));
    SCOPED_TRACE(fmt::format("restore {} -> {}{}", source.label, target.label,
                             make_schema ? " (schema made first)" : ""));
    if (make_schema) {
      std::vector<std::string> args = {"meta", "create-meta-store-schema"};
      std::vector<std::string> flags = target.RisectlFlags();
      args.insert(args.end(), flags.begin(), flags.end());
      ASSERT_OK_AND_ASSIGN(CommandResult schema, Risectl(args));
      ASSERT_EQ(schema.exit_code, 0) << schema.err;
      EXPECT_THAT(schema.out, HasSubstr("created meta store schema version"));
    }
    ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(RestoreArgs(snapshot_id, target, storage)));
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    timer.Step("restored into " + target.label);
    // The catalog rows in the target store, before any node touched it.
    ASSERT_OK_AND_ASSIGN(ClusterState rows_restored, DumpCatalogRows(target));
    ExpectSameState(rows_at_snapshot, rows_restored);

    const std::string work_dir = dir.path() + "/target-" + target.label;
    std::filesystem::create_directories(work_dir);
    ASSERT_OK_AND_ASSIGN(auto restored, StartNode(work_dir, target, storage));
    timer.Step("meta-node started on " + target.label);
    ASSERT_OK_AND_ASSIGN(ClusterState state, CaptureState(*restored));
    ExpectSameState(at_snapshot, state);
    timer.Step("restored state compared");
    EXPECT_OK(CheckNewWorkOnRestored(restored->pg_port())) << restored->Log();
    // A snapshot of the restored cluster goes to the same backup location with a new id: above
    // the restored one and those the clusters restored before took.
    if (first_restored_id == 0) {
      ASSERT_OK_AND_ASSIGN(first_restored_state, CaptureState(*restored));
    }
    ASSERT_OK_AND_ASSIGN(uint64_t new_id, TakeSnapshot(*restored));
    EXPECT_GT(new_id, newest_id);
    newest_id = new_id;
    if (first_restored_id == 0) first_restored_id = new_id;
    timer.Step("new work checked");
    ASSERT_OK_AND_ASSIGN(code, restored->Stop(SIGTERM));
    EXPECT_EQ(code, 0) << restored->Log();
  }

  // The later restored clusters wrote into the same state store: none of their objects may have
  // replaced one the first restored cluster's snapshot references. That snapshot restores (every
  // object present) and shows what that cluster showed when it took it.
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec last, servers->FreshStore(Backend::kSqlite, dir.path()));
  SCOPED_TRACE(fmt::format("restore of snapshot {}, taken by the first restored cluster",
                           first_restored_id));
  std::vector<std::string> args = RestoreArgs(first_restored_id, last, storage);
  args.push_back("--validate-integrity");
  ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(args));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  const std::string work_dir = dir.path() + "/target-last";
  std::filesystem::create_directories(work_dir);
  ASSERT_OK_AND_ASSIGN(auto restored, StartNode(work_dir, last, storage));
  ASSERT_OK_AND_ASSIGN(ClusterState state, CaptureState(*restored));
  ExpectSameState(first_restored_state, state);
  EXPECT_EQ(state["dev: rows of public.post_restore"], "1|one\n2|zwei\n3|трі\n");
  ASSERT_OK_AND_ASSIGN(code, restored->Stop(SIGTERM));
  EXPECT_EQ(code, 0) << restored->Log();
  timer.Step("snapshot of the first restored cluster restored");
}

INSTANTIATE_TEST_SUITE_P(Sources, CrossBackendRestoreTest, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return BackendName(info.param);
                         });

// A restore into etcd whose authentication setting does not match the server is refused before
// anything is written, with a message that says what to change.
TEST(CrossBackendAuthTest, EtcdAuthMismatchIsAClearErrorWithNothingWritten) {
  if (servers->etcd == nullptr || servers->etcd_auth == nullptr) {
    RWMETA_SKIP_OR_FAIL("etcd missing: " + servers->errors["etcd"] + servers->errors["etcd+auth"]);
  }
  TempDir dir;
  StorageSpec storage;
  storage.state_url = "fs://" + dir.path() + "/state";
  storage.backup_url = "fs://" + dir.path() + "/backups";
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec source, servers->FreshStore(Backend::kSqlite, dir.path()));
  ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir.path(), source, storage));
  ASSERT_OK(
      Sql(node->pg_port(), "CREATE TABLE t (a int); INSERT INTO t VALUES (1); FLUSH").status());
  ASSERT_OK_AND_ASSIGN(uint64_t snapshot_id, TakeSnapshot(*node));
  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
  ASSERT_EQ(code, 0);

  // The target asks for authentication; the server has none.
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec wants_auth, servers->FreshStore(Backend::kEtcd, dir.path()));
  wants_auth.endpoint.etcd_auth = true;
  wants_auth.endpoint.etcd_username = "root";
  wants_auth.endpoint.etcd_password = "whatever";
  ASSERT_OK_AND_ASSIGN(CommandResult r, Risectl(RestoreArgs(snapshot_id, wants_auth, storage)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("authentication is not enabled on this etcd"));
  EXPECT_THAT(r.err, Not(HasSubstr("whatever")));
  ASSERT_OK_AND_ASSIGN(std::string keys, EtcdKeys(*servers->etcd, wants_auth));
  EXPECT_EQ(keys, "");

  // The server requires authentication; the target does not give it.
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec no_auth,
                       servers->FreshStore(Backend::kEtcd, dir.path(), true));
  no_auth.endpoint.etcd_auth = false;
  no_auth.endpoint.etcd_username.clear();
  no_auth.endpoint.etcd_password.clear();
  ASSERT_OK_AND_ASSIGN(r, Risectl(RestoreArgs(snapshot_id, no_auth, storage)));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("requires authentication"));
  EXPECT_THAT(r.err, HasSubstr("--etcd-auth"));
  ASSERT_OK_AND_ASSIGN(keys, EtcdKeys(*servers->etcd_auth, no_auth));
  EXPECT_EQ(keys, "");

  // meta-node refuses both mismatches at start, writing nothing either.
  auto refused_auth = StartNode(dir.path(), wants_auth, storage);
  EXPECT_THAT(refused_auth.status(),
              testing::StatusIs(StatusCode::kUnavailable,
                                HasSubstr("authentication is not enabled on this etcd")));
  ASSERT_OK_AND_ASSIGN(keys, EtcdKeys(*servers->etcd, wants_auth));
  EXPECT_EQ(keys, "");
  auto refused = StartNode(dir.path(), no_auth, storage);
  EXPECT_THAT(refused.status(),
              testing::StatusIs(StatusCode::kUnavailable, HasSubstr("requires authentication")));
  ASSERT_OK_AND_ASSIGN(keys, EtcdKeys(*servers->etcd_auth, no_auth));
  EXPECT_EQ(keys, "");

  // The same restore with matching settings works (the refusals were about auth only).
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec good, servers->FreshStore(Backend::kEtcd, dir.path(), true));
  ASSERT_OK_AND_ASSIGN(r, Risectl(RestoreArgs(snapshot_id, good, storage)));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(keys, EtcdKeys(*servers->etcd_auth, good));
  EXPECT_THAT(keys, HasSubstr("/data/"));
}

}  // namespace
}  // namespace rwmeta::e2e
