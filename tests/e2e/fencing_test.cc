// Fencing by cluster generation, end to end (src/hummock/cluster/generation.h, docs/restore.md): a
// restore is final. Every restore-meta raises the state store's generation before it writes its
// target, and a meta store older than that generation never starts on the state store again.
//
// - The operator's story on every meta-store backend (fs state store and backup storage), and on
//   SQLite with both stores on S3 (s3rver behind a proxy that answers conditional PUTs as S3 does):
//   cluster A takes snapshot 1 and goes on; the snapshot is restored into R, which takes more rows;
//   A, started again, is refused as superseded; R serves its rows.
// - The same snapshot restored twice: the first restore's store is superseded by the second.
// - A copy of A's meta store taken before the restore: refused too.
// - Two restores at once onto one state store: one wins; never can both targets start.
// - restore-meta killed at each step of the write, then run again: it completes, the restored
//   store starts at the state store's generation, A stays refused.
//
// Everything goes through the real binaries (meta-node, risectl, psql). The servers start once for
// the binary (one CTest test).
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "e2e/busy_cluster.h"
#include "e2e/meta_store_servers.h"
#include "metastore/factory.h"
#include "objstore/factory.h"
#include "objstore/fs/fs_object_store.h"
#include "testing/http_fault_proxy.h"
#include "testing/s3_server.h"

namespace rwmeta::e2e {
namespace {

namespace fs = std::filesystem;
using ::rwmeta::testing::Fault;
using ::rwmeta::testing::HttpFaultProxy;
using ::rwmeta::testing::IsOkAndHolds;
using ::rwmeta::testing::ProxiedRequest;
using ::rwmeta::testing::S3Server;
using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The servers of the binary; a server that failed to start leaves its error instead.
struct Servers : MetaStoreServers {
  std::unique_ptr<S3Server> s3;
  // In front of s3: answers conditional PUTs as S3 does (s3rver ignores If-Match/If-None-Match).
  std::unique_ptr<HttpFaultProxy> proxy;
  // Bucket -> a store straight to s3rver, which the proxy asks for an object's current ETag.
  std::map<std::string, std::unique_ptr<objstore::ObjectStore>> direct;
  // "<bucket>/<key>" of every conditional PUT the proxy judged.
  std::mutex mu;
  std::set<std::string> conditional_puts;  // guarded by mu
};
Servers* servers = nullptr;

// S3's answer to a conditional PUT (412 PreconditionFailed when the condition does not hold,
// judged from the object on s3rver), as in src/backup/manifest_s3_server_test.cc. Checking and
// forwarding are two steps, so this emulates a conditional server for one writer of a key at a
// time: enough for the sequential story run on S3 (concurrent restores run on fs, whose
// conditional puts are atomic across processes).
Fault JudgeConditionalPut(const ProxiedRequest& r) {
  if (r.method != "PUT") return Fault::Forward();
  auto none_match = r.headers.find("if-none-match");
  auto match = r.headers.find("if-match");
  if (none_match == r.headers.end() && match == r.headers.end()) return Fault::Forward();
  // "/<bucket>/<key>[?query]"
  const std::string path = r.target.substr(1, r.target.find('?') - 1);
  const size_t slash = path.find('/');
  auto direct = servers->direct.find(path.substr(0, slash));
  if (slash == std::string::npos || direct == servers->direct.end()) {
    return Fault::S3Error(400, "InvalidRequest");
  }
  {
    std::lock_guard<std::mutex> lock(servers->mu);
    servers->conditional_puts.insert(path);
  }
  auto head = direct->second->Head(path.substr(slash + 1));
  if (none_match != r.headers.end() && head.ok()) return Fault::S3Error(412, "PreconditionFailed");
  if (match != r.headers.end()) {
    if (!head.ok()) return Fault::S3Error(404, "NoSuchKey");
    std::string wanted = match->second;
    std::string current = head->etag;
    std::erase(wanted, '"');
    std::erase(current, '"');
    if (wanted != current) return Fault::S3Error(412, "PreconditionFailed");
  }
  return Fault::Forward();
}

class ServersEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    servers = new Servers();
    servers->Start(/*with_etcd_auth=*/false);
    auto keep = [](auto result, auto& slot, const std::string& label) {
      if (result.ok()) {
        slot = std::move(result).value();
      } else {
        servers->errors[label] = result.status().ToString();
      }
    };
    keep(S3Server::Start({.buckets = {"state", "backup"}}), servers->s3, "s3");
    if (servers->s3 == nullptr) return;
    keep(HttpFaultProxy::Start(servers->s3->port()), servers->proxy, "s3");
    if (servers->proxy == nullptr) return;
    for (const char* bucket : {"state", "backup"}) {
      auto store = objstore::OpenObjectStore(fmt::format("minio://{}:{}@127.0.0.1:{}/{}",
                                                         S3Server::kAccessKey, S3Server::kSecretKey,
                                                         servers->s3->port(), bucket));
      if (!store.ok()) {
        servers->errors["s3"] = store.status().ToString();
        servers->proxy.reset();
        return;
      }
      servers->direct[bucket] = std::move(store).value();
    }
    servers->proxy->SetRule(JudgeConditionalPut);
  }
  void TearDown() override {
    // The proxy's threads use the direct stores: stop it first.
    if (servers->proxy) servers->proxy->SetRule(nullptr);
    servers->proxy.reset();
    delete servers;
    servers = nullptr;
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new ServersEnvironment());

// The server backend `b` needs, "" for SQLite.
std::string ServerOf(Backend b) { return b == Backend::kSqlite ? "" : BackendName(b); }

// Both stores on fs under `dir`.
StorageSpec FsStorage(const std::string& dir) {
  StorageSpec storage;
  storage.state_url = "fs://" + dir + "/state";
  storage.backup_url = "fs://" + dir + "/backups";
  return storage;
}

// Both stores on s3rver through the proxy, with conditional puts on (as on AWS S3).
StorageSpec S3Storage() {
  const std::string s3 = fmt::format("minio://{}:{}@127.0.0.1:{}", S3Server::kAccessKey,
                                     S3Server::kSecretKey, servers->proxy->port());
  StorageSpec storage;
  storage.state_url = s3 + "/state?conditional_put=true";
  storage.backup_url = s3 + "/backup?conditional_put=true";
  return storage;
}

// The state store's generation object `<data_directory>/generation`, read as JSON
// ({"generation": N, "cluster_id": ..., "snapshot_id": ..., "started_at_ms": ...}).
struct GenerationFile {
  uint64_t generation = 0;
  std::string cluster_id;
  uint64_t snapshot_id = 0;
  std::string text;  // the object as stored, for messages
};

Result<GenerationFile> ReadGenerationFile(const StorageSpec& storage) {
  RWMETA_ASSIGN_OR_RETURN(auto store, objstore::OpenObjectStore(storage.state_url));
  GenerationFile file;
  RWMETA_ASSIGN_OR_RETURN(file.text, store->Get(storage.data_directory + "/generation"));
  nlohmann::json j = nlohmann::json::parse(file.text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("generation") || !j["generation"].is_number_unsigned() ||
      !j.contains("cluster_id") || !j["cluster_id"].is_string() || !j.contains("snapshot_id") ||
      !j["snapshot_id"].is_number_unsigned()) {
    return DataLossError("not a generation object: " + file.text);
  }
  file.generation = j["generation"].get<uint64_t>();
  file.cluster_id = j["cluster_id"].get<std::string>();
  file.snapshot_id = j["snapshot_id"].get<uint64_t>();
  return file;
}

Result<uint64_t> StateStoreGeneration(const StorageSpec& storage) {
  RWMETA_ASSIGN_OR_RETURN(GenerationFile file, ReadGenerationFile(storage));
  return file.generation;
}

// `count(*)|sum(v)` of t for the rows written in this file: v = 2k for the rows of the snapshot
// (k = 1..500) and of the restored cluster (k = 601..900), v = -1 for the rows A wrote after it.
std::string CountAndSum(int rows_from_snapshot, int rows_after_restore) {
  int64_t sum = 0;
  for (int k = 1; k <= rows_from_snapshot; ++k) sum += 2 * k;
  for (int k = 601; k < 601 + rows_after_restore; ++k) sum += 2 * k;
  return fmt::format("{}|{}\n", rows_from_snapshot + rows_after_restore, sum);
}

std::string InsertRows(int from, int to, bool after_snapshot) {
  std::string values;
  for (int k = from; k <= to; ++k) {
    values += fmt::format("{}({}, {})", values.empty() ? "" : ", ", k, after_snapshot ? -1 : 2 * k);
  }
  return "INSERT INTO t VALUES " + values;
}

// The value of `label` ("Generation:") in risectl meta cluster-info's output, "" if absent.
std::string InfoValue(const std::string& info, const std::string& label) {
  std::istringstream lines(info);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(label)) continue;
    size_t value = line.find_first_not_of(' ', label.size());
    return value == std::string::npos ? "" : line.substr(value);
  }
  return "";
}

Result<std::string> ClusterInfo(const MetaNodeProcess& node) {
  RWMETA_ASSIGN_OR_RETURN(CommandResult info, Risectl({"meta", "cluster-info"}, node.meta_addr()));
  if (info.exit_code != 0) return InternalError("risectl meta cluster-info: " + info.err);
  return info.out;
}

// The generation restore-meta's summary line ends with ("restored meta snapshot 1: cluster ...,
// generation 3"), 0 if there is none in `out`.
uint64_t SummaryGeneration(const std::string& out) {
  std::smatch m;
  static const std::regex kSummary(R"(meta snapshot \d+: cluster [^\n]*, generation (\d+))");
  if (!std::regex_search(out, m, kSummary)) return 0;
  return std::stoull(m[1].str());
}

// Cluster A: table t with 500 rows, FLUSH, snapshot 1 (SQL BACKUP), 100 more rows, FLUSH, stopped
// with SIGTERM. Returns the cluster id.
Result<std::string> RunClusterA(const std::string& work_dir, const MetaStoreSpec& a,
                                const StorageSpec& storage) {
  fs::create_directories(work_dir);
  RWMETA_ASSIGN_OR_RETURN(auto node, StartNode(work_dir, a, storage));
  auto fail = [&](const Status& s) { return s.WithContext("cluster A; log:\n" + node->Log()); };
  const int port = node->pg_port();
  for (const std::string& sql : {std::string("CREATE TABLE t (k int PRIMARY KEY, v int)"),
                                 InsertRows(1, 500, false), std::string("FLUSH")}) {
    if (auto r = Sql(port, sql); !r.ok()) return fail(r.status());
  }
  auto id = TakeSnapshot(*node);
  if (!id.ok()) return fail(id.status());
  if (*id != 1) return InternalError(fmt::format("cluster A's first snapshot has id {}", *id));
  for (const std::string& sql : {InsertRows(501, 600, true), std::string("FLUSH")}) {
    if (auto r = Sql(port, sql); !r.ok()) return fail(r.status());
  }
  RWMETA_ASSIGN_OR_RETURN(std::string count, Sql(port, "SELECT count(*) FROM t"));
  if (count != "600\n") return InternalError("cluster A counts " + count);
  RWMETA_ASSIGN_OR_RETURN(std::string info, ClusterInfo(*node));
  std::string cluster_id = InfoValue(info, "Cluster ID:");
  if (cluster_id.size() != 36) return InternalError("no cluster id in: " + info);
  RWMETA_ASSIGN_OR_RETURN(int code, node->Stop(SIGTERM));
  if (code != 0) return InternalError(fmt::format("cluster A exited with {}", code));
  return cluster_id;
}

// Runs meta-node on `store` and `storage` expecting it to refuse to start: returns how it ended.
// A node that starts instead runs until the timeout and is killed: DeadlineExceeded.
Result<CommandResult> StartExpectingRefusal(const std::string& work_dir, const MetaStoreSpec& store,
                                            const StorageSpec& storage) {
  fs::create_directories(work_dir);
  std::vector<std::string> argv = {MetaNodeBinary(), "--listen-addr",
                                   fmt::format("127.0.0.1:{}", PickFreePort()), "--pg-listen-addr",
                                   fmt::format("127.0.0.1:{}", PickFreePort())};
  std::vector<std::string> args = NodeArgs(store, storage);
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunCommand(argv, {}, std::chrono::seconds(20), work_dir);
  if (!r.ok()) {
    return r.status().WithContext("meta-node on " + store.label + " did not refuse to start");
  }
  r->out += r->err;  // the node logs to stdout and stderr; keep both in one place
  return r;
}

// The refusal of a meta store at generation `mine` by a state store that restore `theirs` of
// snapshot 1 raised: exit code 1 and a message that names both generations, the restore and what
// to do.
void ExpectSuperseded(const CommandResult& r, const std::string& cluster_id, uint64_t mine,
                      uint64_t theirs) {
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(fmt::format("holds generation {} of cluster {}", mine, cluster_id)));
  EXPECT_THAT(r.out, HasSubstr(fmt::format(
                         "is at generation {} (the restore of meta snapshot 1 at ", theirs)));
  EXPECT_THAT(r.out, HasSubstr("this meta store was superseded by that restore"));
  EXPECT_THAT(r.out, HasSubstr("start the meta node on the restored meta store instead"));
}

// Whether the meta store has no row (a restore that lost or was killed before its commit must
// leave it so).
bool HasNoRows(const MetaStoreSpec& spec) {
  auto url = spec.Url();
  if (!url.ok()) return false;
  auto store = metastore::OpenMetaStore(*url);
  if (!store.ok()) return false;
  auto state = (*store)->Inspect();
  return state.ok() && state->empty;
}

// Starts a node on the restored store `r`, checks t (`want` as CountAndSum shows it) and that
// cluster-info shows `generation` restored from snapshot 1; stops it.
void ExpectServes(const std::string& work_dir, const MetaStoreSpec& r, const StorageSpec& storage,
                  const std::string& want, uint64_t generation) {
  fs::create_directories(work_dir);
  ASSERT_OK_AND_ASSIGN(auto node, StartNode(work_dir, r, storage));
  EXPECT_THAT(Sql(node->pg_port(), "SELECT count(*), sum(v) FROM t"), IsOkAndHolds(want))
      << node->Log();
  // None of what A wrote after the snapshot.
  EXPECT_THAT(Sql(node->pg_port(), "SELECT count(*) FROM t WHERE v < 0"), IsOkAndHolds("0\n"));
  ASSERT_OK_AND_ASSIGN(std::string info, ClusterInfo(*node));
  EXPECT_THAT(InfoValue(info, "Generation:"),
              StartsWith(fmt::format("{} (restored from meta snapshot 1 at ", generation)))
      << info;
  // SQL shows the same.
  EXPECT_THAT(Sql(node->pg_port(),
                  "SELECT generation, restored_from_snapshot_id FROM rw_catalog.rw_cluster_info"),
              IsOkAndHolds(fmt::format("{}|1\n", generation)));
  ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
  EXPECT_EQ(code, 0) << node->Log();
}

struct StoryCase {
  Backend backend;
  bool s3;  // state store and backup storage on S3 (else fs)
};

std::string CaseName(const ::testing::TestParamInfo<StoryCase>& info) {
  return BackendName(info.param.backend) + (info.param.s3 ? "_on_s3" : "");
}

class FencingStoryTest : public ::testing::TestWithParam<StoryCase> {};

// The four steps: A takes snapshot 1 and goes on; restore into r (generation 2), R serves it and
// takes more rows; A is refused at start as superseded; R serves all its rows.
TEST_P(FencingStoryTest, RestoredClusterFencesTheOriginal) {
  const StoryCase c = GetParam();
  const std::string server = c.s3 ? "s3" : ServerOf(c.backend);
  if (!server.empty() && servers->errors.contains(server)) {
    RWMETA_SKIP_OR_FAIL(server + " missing: " + servers->errors[server]);
  }
  TempDir dir;
  const StorageSpec storage = c.s3 ? S3Storage() : FsStorage(dir.path());
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec a, servers->FreshStore(c.backend, dir.path()));
  ASSERT_OK_AND_ASSIGN(MetaStoreSpec r, servers->FreshStore(c.backend, dir.path()));

  // 1. Cluster A, snapshot 1, more rows after it.
  ASSERT_OK_AND_ASSIGN(std::string cluster_id, RunClusterA(dir.path() + "/a", a, storage));
  ASSERT_OK_AND_ASSIGN(GenerationFile first, ReadGenerationFile(storage));
  EXPECT_EQ(first.generation, 1u) << first.text;
  EXPECT_EQ(first.cluster_id, cluster_id) << first.text;
  EXPECT_EQ(first.snapshot_id, 0u) << first.text;

  // 2. Restore snapshot 1 into r: generation 2. R serves the snapshot's rows and takes more.
  ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(RestoreArgs(1, r, storage)));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_THAT(restore.out, HasSubstr("restored meta snapshot 1: cluster " + cluster_id));
  EXPECT_EQ(SummaryGeneration(restore.out), 2u) << restore.out;
  ASSERT_OK_AND_ASSIGN(GenerationFile second, ReadGenerationFile(storage));
  EXPECT_EQ(second.generation, 2u) << second.text;
  EXPECT_EQ(second.snapshot_id, 1u) << second.text;
  EXPECT_EQ(second.cluster_id, cluster_id) << second.text;
  {
    fs::create_directories(dir.path() + "/r");
    ASSERT_OK_AND_ASSIGN(auto node, StartNode(dir.path() + "/r", r, storage));
    const int port = node->pg_port();
    EXPECT_THAT(Sql(port, "SELECT count(*), sum(v) FROM t"), IsOkAndHolds(CountAndSum(500, 0)));
    ASSERT_OK(Sql(port, InsertRows(601, 900, false)).status()) << node->Log();
    ASSERT_OK(Sql(port, "FLUSH").status()) << node->Log();
    ASSERT_OK_AND_ASSIGN(std::string info, ClusterInfo(*node));
    EXPECT_EQ(InfoValue(info, "Cluster ID:"), cluster_id);
    EXPECT_THAT(InfoValue(info, "Generation:"), StartsWith("2 (restored from meta snapshot 1 at "))
        << info;
    ASSERT_OK_AND_ASSIGN(int code, node->Stop(SIGTERM));
    EXPECT_EQ(code, 0) << node->Log();
  }

  // 3. A again: refused, and the state store stays at generation 2.
  ASSERT_OK_AND_ASSIGN(CommandResult refused, StartExpectingRefusal(dir.path() + "/a", a, storage));
  ExpectSuperseded(refused, cluster_id, 1, 2);
  EXPECT_THAT(StateStoreGeneration(storage), IsOkAndHolds(2u));

  // 4. R: every row it has (the snapshot's 500 and its own 300), none of A's after the snapshot.
  ExpectServes(dir.path() + "/r", r, storage, CountAndSum(500, 300), 2);

  if (c.s3) {
    // The generation went through S3's compare-and-swap, not a plain PUT.
    std::lock_guard<std::mutex> lock(servers->mu);
    EXPECT_TRUE(
        servers->conditional_puts.contains("state/" + storage.data_directory + "/generation"));
  }
}

INSTANTIATE_TEST_SUITE_P(MetaStores, FencingStoryTest,
                         ::testing::Values(StoryCase{Backend::kSqlite, false},
                                           StoryCase{Backend::kPostgres, false},
                                           StoryCase{Backend::kMysql, false},
                                           StoryCase{Backend::kEtcd, false},
                                           StoryCase{Backend::kSqlite, true}),
                         CaseName);

class FencingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = FsStorage(dir_.path());
    a_ = MetaStoreSpec{.label = "sqlite a",
                       .endpoint = {.type = "sqlite", .sql_endpoint = dir_.path() + "/a.db"}};
  }

  MetaStoreSpec Sqlite(const std::string& name) const {
    return MetaStoreSpec{
        .label = "sqlite " + name,
        .endpoint = {.type = "sqlite", .sql_endpoint = dir_.path() + "/" + name + ".db"}};
  }

  // The argv of risectl restore-meta of snapshot 1 into `target` (RestoreArgs).
  std::vector<std::string> RestoreArgv(const MetaStoreSpec& target) const {
    std::vector<std::string> argv = {RisectlBinary()};
    std::vector<std::string> args = RestoreArgs(1, target, storage_);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  TempDir dir_;
  StorageSpec storage_;
  MetaStoreSpec a_;
};

// The same snapshot restored twice: R1 (generation 2) serves until R2's restore (generation 3),
// then never again; R2 serves.
TEST_F(FencingTest, SecondRestoreOfTheSameSnapshotSupersedesTheFirst) {
  ASSERT_OK_AND_ASSIGN(std::string cluster_id, RunClusterA(dir_.path() + "/a", a_, storage_));
  const MetaStoreSpec r1 = Sqlite("r1"), r2 = Sqlite("r2");
  ASSERT_OK_AND_ASSIGN(CommandResult first, Risectl(RestoreArgs(1, r1, storage_)));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(SummaryGeneration(first.out), 2u) << first.out;
  ExpectServes(dir_.path() + "/r1", r1, storage_, CountAndSum(500, 0), 2);

  ASSERT_OK_AND_ASSIGN(CommandResult second, Risectl(RestoreArgs(1, r2, storage_)));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(SummaryGeneration(second.out), 3u) << second.out;
  EXPECT_THAT(StateStoreGeneration(storage_), IsOkAndHolds(3u));

  ASSERT_OK_AND_ASSIGN(CommandResult r1_refused,
                       StartExpectingRefusal(dir_.path() + "/r1", r1, storage_));
  ExpectSuperseded(r1_refused, cluster_id, 2, 3);
  ASSERT_OK_AND_ASSIGN(CommandResult a_refused,
                       StartExpectingRefusal(dir_.path() + "/a", a_, storage_));
  ExpectSuperseded(a_refused, cluster_id, 1, 3);
  ExpectServes(dir_.path() + "/r2", r2, storage_, CountAndSum(500, 0), 3);
  EXPECT_THAT(StateStoreGeneration(storage_), IsOkAndHolds(3u));
}

// A copy of A's meta store made while A was stopped, before the restore (a file backup, a promoted
// replica): after the restore it is as superseded as A itself.
TEST_F(FencingTest, CopyOfTheMetaStoreTakenBeforeTheRestoreIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::string cluster_id, RunClusterA(dir_.path() + "/a", a_, storage_));
  const MetaStoreSpec copy = Sqlite("a-copy");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = a_.endpoint.sql_endpoint + suffix;
    if (fs::exists(from)) fs::copy_file(from, copy.endpoint.sql_endpoint + suffix);
  }
  const MetaStoreSpec r = Sqlite("r");
  ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(RestoreArgs(1, r, storage_)));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(SummaryGeneration(restore.out), 2u) << restore.out;

  ASSERT_OK_AND_ASSIGN(CommandResult refused,
                       StartExpectingRefusal(dir_.path() + "/copy", copy, storage_));
  ExpectSuperseded(refused, cluster_id, 1, 2);
  ExpectServes(dir_.path() + "/r", r, storage_, CountAndSum(500, 0), 2);
}

// A meta node paused (SIGSTOP) past its lease's TTL, a restore meanwhile, then resumed: its lease
// object is untouched, but its next renewal re-reads the generation and fences it; nothing it does
// afterwards reaches the state store, and the restored cluster serves.
TEST_F(FencingTest, NodePausedPastItsLeaseIsFencedWhenItResumes) {
  fs::create_directories(dir_.path() + "/a");
  ASSERT_OK_AND_ASSIGN(auto a, StartNode(dir_.path() + "/a", a_, storage_));
  const int port = a->pg_port();
  for (const std::string& sql : {std::string("CREATE TABLE t (k int PRIMARY KEY, v int)"),
                                 InsertRows(1, 500, false), std::string("FLUSH")}) {
    ASSERT_OK(Sql(port, sql).status()) << a->Log();
  }
  ASSERT_OK_AND_ASSIGN(uint64_t id, TakeSnapshot(*a));
  ASSERT_EQ(id, 1u);
  ASSERT_EQ(kill(a->pid(), SIGSTOP), 0);
  // The lease (TTL 1.5 s) runs out while A sleeps: restore-meta no longer sees a live node.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const MetaStoreSpec r = Sqlite("r");
  ASSERT_OK_AND_ASSIGN(CommandResult restore, Risectl(RestoreArgs(1, r, storage_)));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(SummaryGeneration(restore.out), 2u) << restore.out;
  ASSERT_EQ(kill(a->pid(), SIGCONT), 0);
  // A writes and flushes: the rows stay in its memory, the checkpoint is refused.
  ASSERT_OK(Sql(port, InsertRows(501, 600, true)).status()) << a->Log();
  // Until the first renewal after the pause, writes wait (the lease is unconfirmed); from the
  // renewal on they are refused for good, naming the restore.
  auto flushed = Sql(port, "FLUSH");
  for (int i = 0; i < 40; ++i) {
    if (!flushed.ok() && flushed.status().message().find("superseded") != std::string::npos) {
      break;
    }
    EXPECT_THAT(flushed.status(), StatusIs(StatusCode::kInternal, HasSubstr("last confirmed")))
        << "a resumed node must not commit before its lease is confirmed";
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    flushed = Sql(port, "FLUSH");
  }
  EXPECT_THAT(flushed.status(), StatusIs(StatusCode::kInternal, HasSubstr("superseded")))
      << a->Log();
  EXPECT_THAT(a->Log(), HasSubstr("this node stops writing to and deleting from the state store"));
  ASSERT_OK(a->Stop(SIGTERM).status());
  // The final checkpoint of the stop was refused too: R has the snapshot's rows only.
  ExpectServes(dir_.path() + "/r", r, storage_, CountAndSum(500, 0), 2);
}

// Runs `argv` in the background, logging to `log_path`.
Result<std::unique_ptr<testing::BackgroundProcess>> Spawn(const std::vector<std::string>& argv,
                                                          const std::string& log_path) {
  return testing::BackgroundProcess::Start({.argv = argv, .log_path = log_path});
}

// The names of the staging files of writers in flight in the fs store whose reserved directory is
// `reserved` (objstore/fs/fs_object_store.h).
std::set<std::string> StagingFiles(const std::string& reserved) {
  std::set<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(reserved + "/tmp", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

// Waits (bounded) for `p` to exit; returns its exit code.
Result<int> WaitForExit(testing::BackgroundProcess& p) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (p.running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceededError("still running after 120 s; log:\n" + p.Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return p.Stop();
}

// Two restores of snapshot 1 started at the same time into two fresh targets on one state store.
// Whatever the timing, exactly one target may serve: the other either lost the compare-and-swap
// (Aborted, "at the same time", nothing written) or restored first and was superseded by the
// second. The first rounds force the race: the test holds the fs state store's lock
// (<root>/.rwmeta/lock, objstore/fs/fs_object_store.h) shared, which blocks every conditional Put
// until both restores have read the generation and are waiting to write theirs (both staging
// files exist); then exactly one must win and the other must report Aborted. The later rounds run
// free.
TEST_F(FencingTest, ConcurrentRestoresNeverLeaveTwoServableTargets) {
  ASSERT_OK_AND_ASSIGN(std::string cluster_id, RunClusterA(dir_.path() + "/a", a_, storage_));
  const std::string state_root = dir_.path() + "/state";
  const std::string reserved =
      state_root + "/" + std::string(objstore::FsObjectStore::kReservedDir);
  uint64_t generation = 1;
  for (int round = 0; round < 4; ++round) {
    const bool forced = round < 2;
    SCOPED_TRACE(fmt::format("round {} ({})", round, forced ? "forced race" : "free timing"));
    // Closing the descriptor releases the lock, also when an assertion below returns early.
    struct Fd {
      int fd = -1;
      ~Fd() {
        if (fd >= 0) ::close(fd);
      }
    } lock;
    const std::set<std::string> staged_before = StagingFiles(reserved);
    if (forced) {
      lock.fd = ::open((reserved + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      ASSERT_GE(lock.fd, 0) << std::strerror(errno);
      ASSERT_EQ(::flock(lock.fd, LOCK_SH), 0) << std::strerror(errno);
    }
    const MetaStoreSpec targets[2] = {Sqlite(fmt::format("c{}-0", round)),
                                      Sqlite(fmt::format("c{}-1", round))};
    std::unique_ptr<testing::BackgroundProcess> restores[2];
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(restores[i],
                           Spawn(RestoreArgv(targets[i]),
                                 fmt::format("{}/restore-{}-{}.log", dir_.path(), round, i)));
    }
    if (forced) {
      // Both restores' conditional Puts of the generation wait for the lock: two new staging files.
      auto staged = [&] {
        int n = 0;
        for (const std::string& name : StagingFiles(reserved)) n += !staged_before.contains(name);
        return n;
      };
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (staged() < 2 && std::chrono::steady_clock::now() < deadline &&
             restores[0]->running() && restores[1]->running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_EQ(staged(), 2) << restores[0]->Log() << restores[1]->Log();
      for (int i = 0; i < 2; ++i) {
        EXPECT_THAT(restores[i]->Log(), HasSubstr("raising the cluster generation"));
      }
      ::close(lock.fd);
      lock.fd = -1;
    }
    int codes[2];
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(codes[i], WaitForExit(*restores[i]));
    }
    ASSERT_OK_AND_ASSIGN(const uint64_t now, StateStoreGeneration(storage_));

    // Each restore either succeeded at a new generation or lost the race with nothing written.
    uint64_t restored_at[2] = {0, 0};
    int lost = 0;
    for (int i = 0; i < 2; ++i) {
      const std::string log = restores[i]->Log();
      if (codes[i] == 0) {
        restored_at[i] = SummaryGeneration(log);
        EXPECT_GT(restored_at[i], generation) << log;
        EXPECT_LE(restored_at[i], now) << log;
      } else {
        ++lost;
        EXPECT_EQ(codes[i], 1) << log;
        EXPECT_THAT(log, HasSubstr("another restore raised the cluster generation"));
        EXPECT_THAT(log, HasSubstr("at the same time"));
        EXPECT_TRUE(HasNoRows(targets[i])) << targets[i].label;
      }
    }
    EXPECT_LT(lost, 2) << "both restores lost";
    if (forced) {
      EXPECT_EQ(lost, 1) << "the forced race had no loser";
      EXPECT_EQ(now, generation + 1);
    }
    EXPECT_EQ(now, std::max(restored_at[0], restored_at[1]));

    // Exactly one target serves: the one at the state store's generation.
    int serving = 0;
    for (int i = 0; i < 2; ++i) {
      if (restored_at[i] == 0) continue;
      const std::string work_dir = fmt::format("{}/c{}-{}", dir_.path(), round, i);
      if (restored_at[i] == now) {
        ++serving;
        ExpectServes(work_dir, targets[i], storage_, CountAndSum(500, 0), now);
      } else {
        ASSERT_OK_AND_ASSIGN(CommandResult refused,
                             StartExpectingRefusal(work_dir, targets[i], storage_));
        ExpectSuperseded(refused, cluster_id, restored_at[i], now);
      }
    }
    EXPECT_EQ(serving, 1);
    generation = now;
  }
  ASSERT_OK_AND_ASSIGN(CommandResult refused,
                       StartExpectingRefusal(dir_.path() + "/a", a_, storage_));
  ExpectSuperseded(refused, cluster_id, 1, generation);
}

// restore-meta killed (SIGKILL, RWMETA_TEST_KILL_AT) as each step of its write starts, then run
// again with the same flags: the re-run completes; the restored store starts at the state store's
// generation with the snapshot's rows; A stays refused. The generation is raised once the whole
// snapshot has been read and checked, just before the commit: a restore killed after that point
// already supersedes A, one killed before it (while rows stream into the target) does not.
TEST_F(FencingTest, RestoreKilledAtEachStepThenRerunCompletes) {
  ASSERT_OK_AND_ASSIGN(std::string cluster_id, RunClusterA(dir_.path() + "/a", a_, storage_));
  struct Point {
    const char* kill_at;
    bool raised;     // the generation was raised when the step started
    bool committed;  // the rows were committed
  };
  int i = 0;
  for (const Point& point :
       {Point{"writing rows", false, false}, Point{"raising the cluster generation", false, false},
        Point{"committing", true, false}, Point{"writing the Hummock version", true, true}}) {
    SCOPED_TRACE(point.kill_at);
    ASSERT_OK_AND_ASSIGN(const uint64_t before, StateStoreGeneration(storage_));
    const MetaStoreSpec target = Sqlite(fmt::format("kill{}", i));
    const std::string work_dir = fmt::format("{}/kill{}", dir_.path(), i++);
    const std::vector<std::string> argv = RestoreArgv(target);
    ASSERT_OK_AND_ASSIGN(
        CommandResult killed,
        RunCommand(argv, {{"RWMETA_TEST_KILL_AT", point.kill_at}}, std::chrono::seconds(120)));
    ASSERT_EQ(killed.exit_code, -1) << "not killed: " << killed.err;
    EXPECT_THAT(StateStoreGeneration(storage_), IsOkAndHolds(before + (point.raised ? 1 : 0)));
    EXPECT_EQ(HasNoRows(target), !point.committed);
    if (point.committed) {
      ASSERT_OK_AND_ASSIGN(CommandResult refused,
                           StartExpectingRefusal(work_dir, target, storage_));
      EXPECT_EQ(refused.exit_code, 1) << refused.out;
      EXPECT_THAT(refused.out, HasSubstr("holds an unfinished restore of meta snapshot 1"));
    }

    ASSERT_OK_AND_ASSIGN(CommandResult rerun, RunCommand(argv, {}, std::chrono::seconds(120)));
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    EXPECT_THAT(rerun.out, HasSubstr(point.committed ? "completed the restore of meta snapshot 1"
                                                     : "restored meta snapshot 1"));
    const uint64_t restored = SummaryGeneration(rerun.out);
    // A re-run of a committed restore completes the generation that restore raised; any other
    // raises it once more.
    EXPECT_EQ(restored, point.committed ? before + 1 : before + (point.raised ? 2 : 1))
        << rerun.out;
    EXPECT_THAT(StateStoreGeneration(storage_), IsOkAndHolds(restored));
    ExpectServes(work_dir, target, storage_, CountAndSum(500, 0), restored);
    ASSERT_OK_AND_ASSIGN(CommandResult refused,
                         StartExpectingRefusal(dir_.path() + "/a", a_, storage_));
    ExpectSuperseded(refused, cluster_id, 1, restored);
  }
}

}  // namespace
}  // namespace rwmeta::e2e
