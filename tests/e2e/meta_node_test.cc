// meta-node as an operator runs it: start, psql, risectl, restart, kill -9, bad flags.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "common/testing/status_matchers.h"
#include "e2e/process.h"

namespace rwmeta::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetaNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.work_dir = dir_.path();
    // A short state store lease, so that the restart after kill -9 waits 1.5 s, not 6.
    options_.extra_args = {"--state-store-lease-ttl-ms", "1500"};
    auto node = MetaNodeProcess::Start(options_);
    ASSERT_OK(node.status());
    node_ = std::move(node).value();
  }

  Result<CommandResult> Sql(const std::string& sql) { return Psql(node_->pg_port(), sql); }
  Result<CommandResult> Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), RisectlBinary());
    return RunCommand(args, {{"RW_META_ADDR", node_->meta_addr()}});
  }

  TempDir dir_;
  MetaNodeProcess::Options options_;
  std::unique_ptr<MetaNodeProcess> node_;
};

TEST_F(MetaNodeTest, PsqlSeesTablesInDt) {
  ASSERT_OK_AND_ASSIGN(
      auto create, Sql("CREATE TABLE t1 (a int, b varchar); CREATE VIEW v1 AS SELECT a FROM t1"));
  ASSERT_EQ(create.exit_code, 0) << create.err;
  // \dt runs psql's own catalog query against pg_catalog.
  ASSERT_OK_AND_ASSIGN(auto dt, Sql("\\dt"));
  ASSERT_EQ(dt.exit_code, 0) << dt.err;
  EXPECT_EQ(dt.out, "public|t1|table|root\n");
  ASSERT_OK_AND_ASSIGN(auto dv, Sql("\\dv"));
  ASSERT_EQ(dv.exit_code, 0) << dv.err;
  EXPECT_EQ(dv.out, "public|v1|view|root\n");
  ASSERT_OK_AND_ASSIGN(auto d, Sql("\\d t1"));
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "a|integer|||\nb|character varying|||\n");
  ASSERT_OK_AND_ASSIGN(auto l, Sql("\\l"));
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_THAT(l.out, HasSubstr("dev|root|"));
}

TEST_F(MetaNodeTest, RisectlReadsAndChangesSystemParams) {
  ASSERT_OK_AND_ASSIGN(auto info, Risectl({"meta", "cluster-info"}));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("sqlite"));

  ASSERT_OK_AND_ASSIGN(auto set,
                       Risectl({"meta", "system-params", "set", "barrier_interval_ms", "500"}));
  ASSERT_EQ(set.exit_code, 0) << set.err;
  ASSERT_OK_AND_ASSIGN(auto get, Risectl({"meta", "system-params", "get", "barrier_interval_ms"}));
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "500\n");
  // The SQL side sees the same parameter.
  ASSERT_OK_AND_ASSIGN(auto show, Sql("SHOW barrier_interval_ms"));
  EXPECT_EQ(show.out, "500\n");

  ASSERT_OK_AND_ASSIGN(auto bad,
                       Risectl({"meta", "system-params", "set", "state_store", "hummock+memory"}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("error: "));
  EXPECT_THAT(bad.err, HasSubstr("state_store"));
}

TEST_F(MetaNodeTest, ShowParametersHasRisingWavesColumnsAndRedactsCredentials) {
  ASSERT_OK_AND_ASSIGN(
      auto set,
      Sql("ALTER SYSTEM SET backup_storage_url = 'minio://key:topsecret@127.0.0.1:9301/bk'"));
  ASSERT_EQ(set.exit_code, 0) << set.err;
  // Without -t psql prints the header line: the column names are part of the contract.
  ASSERT_OK_AND_ASSIGN(auto show, RunCommand({"/usr/bin/psql", "-X", "-A", "-h", "127.0.0.1", "-p",
                                              std::to_string(node_->pg_port()), "-U", "root", "-d",
                                              "dev", "-c", "SHOW PARAMETERS"}));
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.substr(0, show.out.find('\n')), "Name|Value|Description|Mutable");
  EXPECT_THAT(show.out, HasSubstr("\nstate_store|hummock+fs://"));
  EXPECT_THAT(show.out, HasSubstr("|f\n"));
  EXPECT_THAT(show.out, HasSubstr("\nbackup_storage_url|minio://key:***@127.0.0.1:9301/bk|"));
  EXPECT_THAT(show.out, Not(HasSubstr("topsecret")));
  ASSERT_OK_AND_ASSIGN(auto risectl, Risectl({"meta", "system-params", "get"}));
  EXPECT_THAT(risectl.out, HasSubstr("backup_storage_url"));
  EXPECT_THAT(risectl.out, Not(HasSubstr("topsecret")));
}

TEST_F(MetaNodeTest, SigtermExitsCleanlyAndRestartKeepsEverything) {
  ASSERT_OK_AND_ASSIGN(auto info1, Risectl({"meta", "cluster-info"}));
  ASSERT_OK_AND_ASSIGN(
      auto r, Sql("CREATE SCHEMA s; CREATE TABLE s.t (a int); CREATE USER u WITH PASSWORD 'pw'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(int code, node_->Stop(SIGTERM));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(node_, MetaNodeProcess::Start(options_));
  ASSERT_OK_AND_ASSIGN(auto q, Sql("SELECT name FROM rw_catalog.rw_tables"));
  EXPECT_EQ(q.out, "t\n");
  ASSERT_OK_AND_ASSIGN(
      auto as_u, Psql(node_->pg_port(), "SELECT current_user", "u", "dev", {{"PGPASSWORD", "pw"}}));
  EXPECT_EQ(as_u.out, "u\n") << as_u.err;
  ASSERT_OK_AND_ASSIGN(auto info2, Risectl({"meta", "cluster-info"}));
  // Same cluster id on both lines "Cluster ID: ...".
  EXPECT_EQ(info1.out.substr(0, info1.out.find('\n')), info2.out.substr(0, info2.out.find('\n')));
}

TEST_F(MetaNodeTest, KillNineLosesNoCommittedDdl) {
  ASSERT_OK_AND_ASSIGN(auto r, Sql("CREATE TABLE survivor (a int)"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(int code, node_->Stop(SIGKILL));
  EXPECT_EQ(code, -SIGKILL);
  ASSERT_OK_AND_ASSIGN(node_, MetaNodeProcess::Start(options_));
  ASSERT_OK_AND_ASSIGN(auto q, Sql("SELECT name FROM rw_catalog.rw_tables"));
  EXPECT_EQ(q.out, "survivor\n");
}

TEST_F(MetaNodeTest, WrongPasswordAndUnknownDatabaseAreRefused) {
  ASSERT_OK_AND_ASSIGN(auto r, Sql("CREATE USER carol WITH PASSWORD 'right'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(
      auto wrong, Psql(node_->pg_port(), "SELECT 1", "carol", "dev", {{"PGPASSWORD", "wrong"}}));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("password authentication failed for user \"carol\""));
  ASSERT_OK_AND_ASSIGN(auto nodb, Psql(node_->pg_port(), "SELECT 1", "root", "nodb"));
  EXPECT_NE(nodb.exit_code, 0);
  EXPECT_THAT(nodb.err, HasSubstr("database \"nodb\" does not exist"));
}

TEST(MetaNodeStartupTest, BadFlagsFailClearlyWithoutStarting) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto bad_store, RunCommand({MetaNodeBinary(), "--state-store", "fs:///x"},
                                                  {}, std::chrono::seconds(30), dir.path()));
  EXPECT_EQ(bad_store.exit_code, 1);
  EXPECT_THAT(bad_store.err, HasSubstr("--state-store must start with hummock+"));

  ASSERT_OK_AND_ASSIGN(auto bad_flag, RunCommand({MetaNodeBinary(), "--no-such-flag"}, {},
                                                 std::chrono::seconds(30), dir.path()));
  EXPECT_EQ(bad_flag.exit_code, 2);

  ASSERT_OK_AND_ASSIGN(auto help, RunCommand({MetaNodeBinary(), "--help"}, {},
                                             std::chrono::seconds(30), dir.path()));
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--listen-addr", "--pg-listen-addr", "--backend", "--sql-endpoint",
                           "--etcd-endpoints", "--state-store", "--data-directory",
                           "--backup-storage-url", "--backup-storage-directory", "--config"}) {
    EXPECT_THAT(help.out, HasSubstr(flag));
  }
}

TEST(MetaNodeStartupTest, PortInUseIsNamed) {
  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(auto first, MetaNodeProcess::Start(options));
  TempDir dir2;
  ASSERT_OK_AND_ASSIGN(auto second,
                       RunCommand({MetaNodeBinary(), "--pg-listen-addr",
                                   "127.0.0.1:" + std::to_string(first->pg_port()), "--listen-addr",
                                   "127.0.0.1:" + std::to_string(PickFreePort())},
                                  {}, std::chrono::seconds(30), dir2.path()));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("127.0.0.1:" + std::to_string(first->pg_port())));
}

TEST(MetaNodeStartupTest, TomlFileAndEnvironmentAreRead) {
  TempDir dir;
  int pg = PickFreePort();
  {
    std::FILE* f = std::fopen((dir.path() + "/rw.toml").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f,
                 "[system]\ndata_directory = \"from_file\"\nbackup_storage_directory = \"bk\"\n");
    std::fclose(f);
  }
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  options.pg_port = pg;
  options.extra_args = {"--config", dir.path() + "/rw.toml"};
  options.env = {{"RW_BACKUP_STORAGE_URL", "memory"}};
  ASSERT_OK_AND_ASSIGN(auto node, MetaNodeProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(auto dd, Psql(pg, "SHOW data_directory"));
  EXPECT_EQ(dd.out, "from_file\n") << dd.err;
  ASSERT_OK_AND_ASSIGN(auto url, Psql(pg, "SHOW backup_storage_url"));
  EXPECT_EQ(url.out, "memory\n") << url.err;
  ASSERT_OK_AND_ASSIGN(auto bk, Psql(pg, "SHOW backup_storage_directory"));
  EXPECT_EQ(bk.out, "bk\n") << bk.err;
}

// Runs a second meta-node in `cwd` on free ports with `args`, to completion.
Result<CommandResult> RunSecondNode(const std::string& cwd, std::vector<std::string> args) {
  std::vector<std::string> argv = {
      MetaNodeBinary(), "--listen-addr", "127.0.0.1:" + std::to_string(PickFreePort()),
      "--pg-listen-addr", "127.0.0.1:" + std::to_string(PickFreePort())};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {}, std::chrono::seconds(30), cwd);
}

TEST(StateStoreLeaseTest, SecondClusterOnTheSameStateStoreIsRefused) {
  TempDir shared, dir1, dir2;
  const std::vector<std::string> store = {"--state-store", "hummock+fs://" + shared.path()};
  MetaNodeProcess::Options options;
  options.work_dir = dir1.path();
  options.extra_args = store;
  ASSERT_OK_AND_ASSIGN(auto first, MetaNodeProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(auto info, RunCommand({RisectlBinary(), "meta", "cluster-info"},
                                             {{"RW_META_ADDR", first->meta_addr()}}));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const std::string line = info.out.substr(0, info.out.find('\n'));
  const std::string first_id = line.substr(line.find_last_of(' ') + 1);
  ASSERT_FALSE(first_id.empty());

  // dir2 has its own (new) meta store, hence a new cluster id.
  ASSERT_OK_AND_ASSIGN(auto second, RunSecondNode(dir2.path(), store));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("state store hummock+fs://" + shared.path() +
                                    "/hummock_001 belongs to cluster " + first_id + ", not "));
  EXPECT_THAT(second.err, HasSubstr("never run two clusters on the same SSTs"));
  // Even with the first node gone, the directory stays the first cluster's.
  ASSERT_OK_AND_ASSIGN(int code, first->Stop(SIGTERM));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(auto again, RunSecondNode(dir2.path(), store));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("belongs to cluster " + first_id));
}

TEST(StateStoreLeaseTest, SecondNodeOfTheSameClusterIsRefusedWhileTheFirstLives) {
  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  options.extra_args = {"--state-store-lease-ttl-ms", "1500"};
  ASSERT_OK_AND_ASSIGN(auto first, MetaNodeProcess::Start(options));
  // Same cwd: same meta store and state store. The live node keeps renewing its lease.
  ASSERT_OK_AND_ASSIGN(auto second,
                       RunSecondNode(dir.path(), {"--state-store-lease-ttl-ms", "1500"}));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("state store is in use by another meta node ("));
  EXPECT_THAT(second.err, HasSubstr("pass --force-state-store-lease if that node is really gone"));
  // The first node is unharmed.
  ASSERT_OK_AND_ASSIGN(auto q, Psql(first->pg_port(), "SELECT 1"));
  EXPECT_EQ(q.out, "1\n") << q.err;
}

TEST(StateStoreLeaseTest, RestartAfterKillNineWaitsOutTheLeaseAndAfterSigtermDoesNot) {
  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  options.extra_args = {"--state-store-lease-ttl-ms", "1500"};
  ASSERT_OK_AND_ASSIGN(auto node, MetaNodeProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(int killed, node->Stop(SIGKILL));
  EXPECT_EQ(killed, -SIGKILL);

  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(node, MetaNodeProcess::Start(options));
  auto waited = std::chrono::steady_clock::now() - start;
  // The dead node's lease had to stay unchanged for a full TTL before it was taken over.
  EXPECT_GE(waited, std::chrono::milliseconds(1500));
  EXPECT_THAT(node->Log(), HasSubstr("waiting up to 1500 ms"));

  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
  EXPECT_EQ(code, 0);
  EXPECT_THAT(node->Log(), HasSubstr("released state store lease"));
  ASSERT_OK_AND_ASSIGN(node, MetaNodeProcess::Start(options));
  EXPECT_THAT(node->Log(), Not(HasSubstr("waiting up to")));
}

TEST(StateStoreLeaseTest, ForceTakesTheLeaseFromALiveNode) {
  TempDir dir;
  MetaNodeProcess::Options options;
  options.work_dir = dir.path();
  ASSERT_OK_AND_ASSIGN(auto first, MetaNodeProcess::Start(options));
  MetaNodeProcess::Options forced = options;
  forced.env = {{"RW_FORCE_STATE_STORE_LEASE", "true"}};
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto second, MetaNodeProcess::Start(forced));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(6000));
  EXPECT_THAT(second->Log(), HasSubstr("taking the state store lease from"));
  EXPECT_THAT(second->Log(), Not(HasSubstr("waiting up to")));
}

}  // namespace
}  // namespace rwmeta::e2e
