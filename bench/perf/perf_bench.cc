// perf_bench: rwmeta beside PostgreSQL's, SQLite's and etcd's own tools on the same meta data, and
// DDL latency by catalog size (issue 17, goal 5). Figures, not assertions.
//
//   perf_bench [--tables N] [--runs R] [--ddl-samples S] [--ddl-large-tables M] [--listed K]
//              [--memory-tables T] [--dir D]
//
// 1. Builds a cluster of N tables (default 10,000) in a memory meta store: bootstrap (cluster,
//    system parameters, root, dev), one user per 10 tables, a materialized view over every 20th
//    table (object, table and dependency rows, as CatalogManager writes them), a SELECT grant per
//    relation, and a Hummock version of 0.55 SSTs per table over levels 1 to 6 with a committed
//    epoch per state table (issue 17's cluster: 10,000 tables, 500 materialized views, 1,000
//    users, 5,500 SSTs). The rows are copied with MetaStore::BeginBulkLoad, as a restore writes
//    them, into a SQLite file, a database of a PostgreSQL server started on 127.0.0.1
//    (testing::PostgresServer) and a key prefix of an etcd server started the same way
//    (testing::EtcdServer): N CREATE TABLEs would take most of an hour today.
// 2. R times each (default 3; medians printed), every backup before any restore: backup =
//    BackupStorage::WriteSnapshot of the store (BACKUP's write, with the version in memory as the
//    meta node holds it) to an fs:// location, against `pg_dump -Fc` / sqlite3 `.backup` / `etcdctl
//    snapshot save` of the same data; restore = restore::RestoreMeta (restore-meta's engine) into
//    a fresh database / file / key prefix, against `pg_restore` of that dump into a fresh database
//    / sqlite3 `.restore` into a fresh file / `etcdctl snapshot restore` into a fresh data
//    directory. etcd is skipped, saying so, when it is not installed. rwmeta's side runs in a child
//    process (this program, re-executed with --child) that times the call alone and reports the
//    peak RSS the call added (VmHWM reset through /proc/self/clear_refs just before it); the peer's
//    time is its process's wall time and its RSS the process's peak as GNU time reports it ("n/a"
//    without /usr/bin/time), the whole of what it needed. The peers' stderr goes to peers.log in
//    the directory.
// 3. With --listed K (default 50), PostgreSQL's backup again, R times, into a location whose
//    manifest lists K snapshots already (of a bootstrapped store: an entry's size does not depend
//    on the store's), beside pg_dump again: a backup must not slow with the snapshots listed.
// 4. Memory by metadata size: one backup and one restore per backend of a cluster of T tables
//    (--memory-tables, default N/10) built the same way, and the peak RSS each added beside the
//    N-table figures (goal: at most 1.10x for 10x the metadata).
// 5. CREATE TABLE then DROP TABLE, S times each (default 100), through meta::CatalogManager on a
//    SQLite and a PostgreSQL meta store holding 100, N and M tables (--ddl-large-tables, default
//    100,000; 0 skips it): p50 and p99 (nearest rank) in milliseconds, and the p50s over the same
//    store's at 100 tables.
//
// Everything lives in a temporary directory (or D), removed at the end unless a step fails. The
// default run takes about three minutes on a 2-core machine (docs/performance.md).
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backup/backup_storage.h"
#include "meta/bootstrap.h"
#include "meta/catalog_manager.h"
#include "metastore/factory.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "objstore/factory.h"
#include "restore/restore.h"
#include "testing/etcd_server.h"
#include "testing/postgres_server.h"

extern char** environ;

using namespace rwmeta;
using metastore::Model;
using metastore::Row;

namespace {

constexpr int64_t kTablesPerUser = 10;
constexpr int64_t kTablesPerView = 20;
constexpr int64_t kSstsPer100Tables = 55;
constexpr int64_t kSmallCatalogTables = 100;
constexpr char kDataDirectory[] = "hummock_001";
constexpr char kSqlite3[] = "/usr/bin/sqlite3";
constexpr char kGnuTime[] = "/usr/bin/time";

constexpr char kUsage[] = R"(usage: perf_bench [--tables N] [--runs R] [--ddl-samples S]
                  [--ddl-large-tables M] [--listed K] [--memory-tables T] [--dir D]
  --tables N            the cluster's size (default 10000; at least 100)
  --runs R              backups and restores per backend; medians printed (default 3)
  --ddl-samples S       CREATE and DROP TABLEs per catalog size (default 100: p99 is then the
                        second slowest, not the slowest)
  --ddl-large-tables M  also measure DDL at M tables (default 100000; 0: skip)
  --listed K            snapshots listed before the "K listed" backup (default 50; 0: skip)
  --memory-tables T     the smaller cluster of the memory table (default N/10; 0: skip)
  --dir D               work here and keep it (default: a temporary directory, removed)
)";
constexpr uint64_t kEpochUnit = 65536;

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) {
    fmt::print(stderr, "perf_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

template <typename T>
T Take(Result<T> r, const std::string& what) {
  Check(r.status(), what);
  return std::move(*r);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Nearest-rank percentile `p` (0 < p <= 100) of `v`.
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// A field ("VmRSS", "VmHWM") of /proc/self/status, in KiB.
int64_t ProcStatusKiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The cluster, built in memory.

struct Cluster {
  std::unique_ptr<metastore::MemoryMetaStore> store;
  std::string cluster_id;
  hummock::HummockVersion version;
  int64_t rows = 0;
  int64_t users = 0;
  int64_t views = 0;
  int64_t ssts = 0;
};

// The catalog rows of `tables` tables on top of a bootstrapped cluster on `state_url`, and a
// version over them. Ids come from the model's sequences, as CatalogManager allocates them.
Cluster BuildCluster(int64_t tables, const std::string& state_url) {
  Cluster c;
  c.store = std::make_unique<metastore::MemoryMetaStore>();
  Check(c.store->Migrate(), "migrate the memory store");
  meta::BootstrapOptions options;
  options.state_store = "hummock+" + state_url;
  options.data_directory = kDataDirectory;
  c.cluster_id = Take(meta::BootstrapCluster(*c.store, options), "bootstrap").cluster_id;
  auto view = Take(c.store->BeginSnapshotRead(), "read the bootstrapped store");
  auto catalog = Take(meta::LoadCatalog(*view), "load the bootstrapped catalog");
  view.reset();
  const meta::UserInfo* root = catalog->FindUser(meta::kRootUserName);
  const meta::DatabaseInfo* dev = catalog->FindDatabase(meta::kDefaultDatabaseName);
  const meta::SchemaInfo* schema = dev ? catalog->FindSchema(dev->id, "public") : nullptr;
  if (root == nullptr || schema == nullptr) {
    Check(InternalError("bootstrap made no root, dev or dev.public"), "bootstrap");
  }

  const Model& m = Model::Get();
  std::vector<uint32_t> state_tables;
  c.users = tables / kTablesPerUser;
  Check(metastore::RunTransaction(
            *c.store,
            [&](metastore::Transaction& txn) -> Status {
              state_tables.clear();
              c.views = 0;
              std::vector<int64_t> user_ids;
              for (int64_t u = 0; u < c.users; ++u) {
                meta::UserInfo user;
                user.name = fmt::format("user_{}", u);
                user.auth_type = "md5";
                user.auth_value = meta::Md5Verifier(fmt::format("pw_{}", u), user.name);
                RWMETA_ASSIGN_OR_RETURN(int64_t id, meta::InsertUserRows(txn, user));
                user_ids.push_back(id);
              }
              const std::string columns =
                  R"([{"name":"id","type":"integer","nullable":false},)"
                  R"({"name":"v","type":"character varying","nullable":true}])";
              auto add_relation = [&](const std::string& name, bool is_view, int64_t owner,
                                      const std::string& definition) -> Result<int64_t> {
                RWMETA_ASSIGN_OR_RETURN(int64_t oid, metastore::NextKey(txn, m.Table("object")));
                RWMETA_RETURN_IF_ERROR(
                    txn.Insert(m.Table("object"), Row{oid, std::string("table"), owner, dev->id,
                                                      schema->id, int64_t{1'767'225'600'000}}));
                RWMETA_RETURN_IF_ERROR(txn.Insert(
                    m.Table("table"),
                    Row{oid, schema->id, name,
                        std::string(is_view ? meta::kMaterializedViewType : "table"), columns,
                        std::string(is_view ? "[]" : "[0]"), definition, false}));
                // The owner's grant, as GRANT SELECT ... TO user_k by root writes it.
                RWMETA_ASSIGN_OR_RETURN(int64_t grant,
                                        metastore::NextKey(txn, m.Table("user_privilege")));
                RWMETA_RETURN_IF_ERROR(
                    txn.Insert(m.Table("user_privilege"),
                               Row{grant, owner, oid, root->id, std::string("SELECT"), false}));
                state_tables.push_back(static_cast<uint32_t>(oid));
                return oid;
              };
              for (int64_t t = 0; t < tables; ++t) {
                const int64_t owner = user_ids.empty() ? root->id : user_ids[t % user_ids.size()];
                const std::string name = fmt::format("t_{}", t);
                RWMETA_ASSIGN_OR_RETURN(
                    int64_t oid,
                    add_relation(
                        name, false, owner,
                        fmt::format("CREATE TABLE {} (id INT PRIMARY KEY, v VARCHAR)", name)));
                if (t % kTablesPerView != kTablesPerView - 1) continue;
                const std::string mv = fmt::format("mv_{}", t);
                RWMETA_ASSIGN_OR_RETURN(
                    int64_t mv_oid,
                    add_relation(mv, true, owner,
                                 fmt::format("CREATE MATERIALIZED VIEW {} AS SELECT id, v FROM {}",
                                             mv, name)));
                RWMETA_ASSIGN_OR_RETURN(int64_t dep,
                                        metastore::NextKey(txn, m.Table("object_dependency")));
                RWMETA_RETURN_IF_ERROR(
                    txn.Insert(m.Table("object_dependency"), Row{dep, oid, mv_oid}));
                ++c.views;
              }
              return Status::Ok();
            }),
        "insert the catalog rows");

  // The version: one compaction group, SSTs spread over L1..L6 (ten times more per level down),
  // each holding a run of state tables; every state table committed at one of the last epochs.
  const int64_t ssts = std::max<int64_t>(1, tables * kSstsPer100Tables / 100);
  c.ssts = ssts;
  const uint64_t epoch = uint64_t{1} << 40;
  hummock::CompactionGroup* group = c.version.add_groups();
  group->set_group_id(2);
  for (uint32_t level = 1; level <= 6; ++level) group->add_levels()->set_level_idx(level);
  uint64_t next_object = 1;
  for (int64_t i = 0; i < ssts; ++i) {
    // Level by how deep i falls in 1 + 10 + 100 + ... shares; the last level takes the rest.
    int level = 0;
    for (int64_t share = ssts / 111111 + 1, seen = share; level < 5 && i >= seen;
         share *= 10, seen += share) {
      ++level;
    }
    hummock::SstableInfo* sst = group->mutable_levels(level)->add_table_infos();
    sst->set_object_id(next_object);
    sst->set_sst_id(next_object);
    sst->set_file_size(32 << 20);
    const size_t first = static_cast<size_t>(i) * state_tables.size() / static_cast<size_t>(ssts);
    for (size_t t = first; t < std::min(state_tables.size(), first + 2); ++t) {
      sst->add_table_ids(state_tables[t]);
    }
    sst->set_smallest_key(fmt::format("t{}/{:012}", state_tables[first], i * 2));
    sst->set_largest_key(fmt::format("t{}/{:012}", state_tables[first], i * 2 + 1));
    sst->set_min_epoch(epoch - kEpochUnit * (i % 100));
    sst->set_max_epoch(epoch);
    ++next_object;
  }
  for (size_t t = 0; t < state_tables.size(); ++t) {
    hummock::StateTableInfo& info = (*c.version.mutable_state_table_info())[state_tables[t]];
    info.set_committed_epoch(epoch - (t % 50) * kEpochUnit);
    info.set_compaction_group_id(2);
  }
  c.version.set_id(static_cast<uint64_t>(ssts) + 1);
  c.version.set_max_committed_epoch(epoch);
  c.version.set_safe_epoch(epoch - 100 * kEpochUnit);
  // The object ids the version references come from the hummock_object_id sequence.
  Check(metastore::RunTransaction(*c.store,
                                  [&](metastore::Transaction& txn) {
                                    return txn.Upsert(m.Table("id_sequence"),
                                                      Row{std::string(hummock::kObjectIdSequence),
                                                          static_cast<int64_t>(next_object)});
                                  }),
        "object id sequence");

  auto counted = Take(c.store->BeginSnapshotRead(), "count the rows");
  for (const auto& table : m.tables()) {
    c.rows += Take(counted->Count(table), "count " + table.name);
  }
  return c;
}

// Writes the cluster's version where a --child reads it (`path`, and its id in `path`.cluster_id).
void WriteVersionFile(const Cluster& cluster, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << cluster.version.SerializeAsString();
  std::ofstream(path + ".cluster_id") << cluster.cluster_id << "\n";
}

// Copies every row of `from` into the empty `to` with one bulk load. Returns the seconds taken.
double CopyStore(metastore::MetaStore& from, metastore::MetaStore& to) {
  const auto start = std::chrono::steady_clock::now();
  auto view = Take(from.BeginSnapshotRead(), "read the source store");
  auto loader = Take(to.BeginBulkLoad(), fmt::format("{}: begin bulk load", to.backend()));
  for (const auto& table : Model::Get().tables()) {
    Check(view->Scan(table, [&](const Row& row) { return loader->Add(table, row); }),
          fmt::format("{}: load {}", to.backend(), table.name));
  }
  Check(loader->Finish(), fmt::format("{}: finish bulk load", to.backend()));
  return Seconds(start);
}

// ---------------------------------------------------------------------------------------------
// Processes.

struct Measured {
  double seconds = 0;
  double rss_mib = 0;  // rwmeta: what the call added; a peer: its process's peak
};

// Runs `argv` (absolute argv[0]) with `env` added, stdin and stdout on /dev/null, stderr appended
// to `log_path`, and returns its wall time. Exits the benchmark if it fails.
double RunProcess(const std::vector<std::string>& argv, const std::string& log_path,
                  const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDWR);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(log_fd, 2);
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "perf_bench: {} failed (status {}); its stderr is in {}\n",
               fmt::join(argv, " "), status, log_path);
    std::exit(1);
  }
  return Seconds(start);
}

// Runs a peer's command as RunProcess does, under GNU time for its peak RSS: our own wait4 would
// report at least this process's RSS, which a child inherits in ru_maxrss across fork and exec.
// rss_mib is -1 without /usr/bin/time.
Measured RunPeer(const std::vector<std::string>& argv, const std::string& rss_file,
                 const std::string& log_path, const std::map<std::string, std::string>& env = {}) {
  if (access(kGnuTime, X_OK) != 0) return {RunProcess(argv, log_path, env), -1};
  std::vector<std::string> timed = {kGnuTime, "-f", "%M", "-o", rss_file};
  timed.insert(timed.end(), argv.begin(), argv.end());
  const double seconds = RunProcess(timed, log_path, env);
  std::ifstream in(rss_file);
  int64_t kib = -1024;
  in >> kib;
  return {seconds, static_cast<double>(kib) / 1024.0};
}

// What a --child run writes to its --out file: "<seconds> <added KiB>".
Measured ReadChildResult(const std::string& path) {
  std::ifstream in(path);
  double seconds = 0;
  int64_t added_kib = 0;
  in >> seconds >> added_kib;
  return {seconds, static_cast<double>(added_kib) / 1024.0};
}

// The child: one backup or one restore, timed alone, with the RSS it added.
//   --child backup  --store URL --dir D --location L --snapshot-id I --version V --state S --out F
//   --child restore --store URL --dir D --location L --snapshot-id I --version V --state S --out F
// --store is the restore target for a restore; V is the version file the cluster's builder wrote
// (V.cluster_id beside it); S the state store's directory.
int RunChild(const std::map<std::string, std::string>& flags) {
  const std::string& dir = flags.at("--dir");
  const std::string state_url = "fs://" + flags.at("--state");
  const uint64_t snapshot_id = std::stoull(flags.at("--snapshot-id"));
  auto backup_store = Take(objstore::OpenObjectStore("fs://" + dir), "open the backup location");
  backup::BackupStorage storage(backup_store.get(), flags.at("--location"));
  auto store = Take(metastore::OpenMetaStore(flags.at("--store")), "open the meta store");

  std::function<Status()> call;
  hummock::HummockVersion version;
  std::unique_ptr<objstore::ObjectStore> state_store;
  if (flags.at("--child") == "backup") {
    std::ifstream in(flags.at("--version"), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!version.ParseFromString(bytes.str())) Check(InternalError("bad version.pb"), "version");
    std::ifstream id_in(flags.at("--version") + ".cluster_id");
    backup::SnapshotHeader header;
    id_in >> header.cluster_id;
    header.rwmeta_version = "perf_bench";
    header.source_backend = std::string(store->backend());
    header.created_at_ms = 1'767'225'600'000;
    call = [&]() -> Status {
      RWMETA_ASSIGN_OR_RETURN(auto view, store->BeginSnapshotRead());
      return storage.WriteSnapshot(snapshot_id, *view, version, header, "perf_bench").status();
    };
  } else {
    state_store = Take(objstore::OpenObjectStore(state_url), "open the state store");
    call = [&]() -> Status {
      restore::RestoreOptions options;
      options.snapshot_id = snapshot_id;
      options.hummock_storage_url = state_url;
      options.hummock_storage_directory = kDataDirectory;
      return restore::RestoreMeta(storage, *store, *state_store, options).status();
    };
  }
  // Resets VmHWM to the current RSS (Linux 4.0+), so the peak after the call less the RSS before
  // it is what the call added.
  std::ofstream("/proc/self/clear_refs") << "5";
  const int64_t rss_before_kib = ProcStatusKiB("VmRSS");
  const auto start = std::chrono::steady_clock::now();
  Check(call(), flags.at("--child"));
  const double seconds = Seconds(start);
  const int64_t added_kib = std::max<int64_t>(0, ProcStatusKiB("VmHWM") - rss_before_kib);
  std::ofstream(flags.at("--out")) << fmt::format("{:.6f} {}\n", seconds, added_kib);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// DDL latency.

struct DdlFigures {
  double create_p50_ms = 0, create_p99_ms = 0, drop_p50_ms = 0, drop_p99_ms = 0;
};

// `samples` CREATE TABLEs, then as many DROP TABLEs, by root in dev, each timed alone.
DdlFigures MeasureDdl(metastore::MetaStore& store, int samples) {
  auto catalog = Take(meta::CatalogManager::Open(store), "open the catalog");
  const meta::CatalogActor actor{meta::kRootUserName, meta::kDefaultDatabaseName};
  std::vector<double> create_ms, drop_ms;
  for (int i = 0; i < samples; ++i) {
    const std::string name = fmt::format("perf_ddl_{}", i);
    const auto start = std::chrono::steady_clock::now();
    Check(catalog
              ->CreateTable(actor, {"", name},
                            {{"id", "integer", false}, {"v", "character varying", true}}, {0},
                            fmt::format("CREATE TABLE {} (id INT PRIMARY KEY, v VARCHAR)", name),
                            false, false)
              .status(),
          "create table " + name);
    create_ms.push_back(Seconds(start) * 1000);
  }
  for (int i = 0; i < samples; ++i) {
    const std::string name = fmt::format("perf_ddl_{}", i);
    const auto start = std::chrono::steady_clock::now();
    Check(catalog->DropRelation(actor, {"", name}, false, false, false).status(),
          "drop table " + name);
    drop_ms.push_back(Seconds(start) * 1000);
  }
  return {Percentile(create_ms, 50), Percentile(create_ms, 99), Percentile(drop_ms, 50),
          Percentile(drop_ms, 99)};
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--tables", "10000"},    {"--runs", "3"},
      {"--ddl-samples", "100"}, {"--ddl-large-tables", "100000"},
      {"--listed", "50"},       {"--memory-tables", "-1"}};
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    const bool known = flags.count(flag) != 0 || flag == "--dir" || flag == "--child" ||
                       flag == "--store" || flag == "--location" || flag == "--out" ||
                       flag == "--snapshot-id" || flag == "--version" || flag == "--state";
    if (!known || i + 1 >= argc) {
      fmt::print(stderr, "{}", kUsage);
      return 2;
    }
    flags[flag] = argv[i + 1];
  }
  spdlog::set_level(spdlog::level::err);
  if (flags.count("--child") != 0) return RunChild(flags);
  // Progress lines as they happen, also when `make bench` goes to a file or a pipe.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  const int64_t tables = std::atoll(flags["--tables"].c_str());
  const int runs = std::atoi(flags["--runs"].c_str());
  const int ddl_samples = std::atoi(flags["--ddl-samples"].c_str());
  const int64_t large_tables = std::atoll(flags["--ddl-large-tables"].c_str());
  const int64_t listed = std::atoll(flags["--listed"].c_str());
  const int64_t memory_tables =
      flags["--memory-tables"] == "-1" ? tables / 10 : std::atoll(flags["--memory-tables"].c_str());
  if (tables < kSmallCatalogTables || runs < 1 || ddl_samples < 1 || large_tables < 0 ||
      listed < 0 || (memory_tables != 0 && memory_tables < kSmallCatalogTables)) {
    fmt::print(stderr,
               "perf_bench: --tables at least {}, --runs and --ddl-samples at least 1, "
               "--memory-tables 0 or at least {}\n{}",
               kSmallCatalogTables, kSmallCatalogTables, kUsage);
    return 2;
  }
  const bool own_dir = flags.count("--dir") == 0;
  const std::string dir =
      own_dir ? (std::filesystem::temp_directory_path() / fmt::format("perf_bench_{}", getpid()))
                    .string()
              : flags["--dir"];
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/state");
  const std::string state_url = "fs://" + dir + "/state";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string pg_bin = testing::PostgresServer::kBinDir;

  fmt::print("perf_bench: starting PostgreSQL 15 on 127.0.0.1\n");
  auto pg = Take(testing::PostgresServer::Start(), "start PostgreSQL");
  const std::map<std::string, std::string> pg_env = {{"PGPASSWORD", pg->password()}};
  auto pg_args = [&](const std::string& db) {
    return std::vector<std::string>{"-h", "127.0.0.1", "-p", std::to_string(pg->port()),
                                    "-U", pg->user(),  "-d", db};
  };
  auto append = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  auto start = std::chrono::steady_clock::now();
  Cluster cluster = BuildCluster(tables, state_url);
  fmt::print(
      "setup: cluster of {} tables, {} materialized views, {} users, {} SSTs ({} meta rows) "
      "built in memory in {:.2f} s\n",
      tables, cluster.views, cluster.users + 1, cluster.ssts, cluster.rows, Seconds(start));
  const std::string version_file = dir + "/version.pb";
  WriteVersionFile(cluster, version_file);

  std::unique_ptr<testing::EtcdServer> etcd;
  std::string etcd_url;
  if (testing::EtcdServer::Installed()) {
    fmt::print("perf_bench: starting etcd on 127.0.0.1\n");
    etcd = Take(testing::EtcdServer::Start(), "start etcd");
    etcd_url = etcd->Url(testing::EtcdServer::NewPrefix());
  } else {
    fmt::print("perf_bench: SKIPPING etcd: {} is not installed\n", testing::EtcdServer::kEtcd);
  }

  const std::string pg_db = Take(pg->CreateDatabase(), "create the source database");
  const std::string pg_url = pg->Url(pg_db);
  const std::string sqlite_path = dir + "/meta.db";
  const std::string sqlite_url = "sqlite://" + sqlite_path;
  {
    auto pg_store = Take(metastore::OpenMetaStore(pg_url), "open " + pg_db);
    fmt::print("setup: bulk-loaded into PostgreSQL database {} in {:.2f} s\n", pg_db,
               CopyStore(*cluster.store, *pg_store));
    auto sqlite_store = Take(metastore::OpenMetaStore(sqlite_url), "open " + sqlite_path);
    fmt::print("setup: bulk-loaded into SQLite file {} in {:.2f} s\n", sqlite_path,
               CopyStore(*cluster.store, *sqlite_store));
    if (etcd != nullptr) {
      auto etcd_store = Take(metastore::OpenMetaStore(etcd_url), "open " + etcd_url);
      fmt::print("setup: bulk-loaded into etcd at {} in {:.2f} s\n", etcd_url,
                 CopyStore(*cluster.store, *etcd_store));
    }
  }

  // One row of the side-by-side table: rwmeta's runs and the peer's.
  struct Line {
    std::string what, peer;
    std::vector<Measured> ours, theirs;
  };
  std::vector<Line> lines;
  // One backup or restore in a child process; `version` and `state` name the cluster (the main
  // one by default).
  auto child = [&](const std::string& mode, const std::string& store, const std::string& location,
                   int run, uint64_t snapshot_id = 1, const std::string& version = "",
                   const std::string& state = "") {
    const std::string out = fmt::format("{}/{}_{}_{}.out", dir, mode, location, run);
    RunProcess({self, "--child", mode, "--store", store, "--dir", dir, "--location", location,
                "--snapshot-id", std::to_string(snapshot_id), "--version",
                version.empty() ? version_file : version, "--state",
                state.empty() ? dir + "/state" : state, "--out", out},
               dir + "/children.log");
    return ReadChildResult(out);
  };

  // How each backend's peer backs up and restores, and where rwmeta restores to.
  struct Backend {
    std::string name, url, peer_backup, peer_restore, peer_copy;
    std::map<std::string, std::string> env;
    std::vector<std::string> backup_argv;
    // A fresh target for rwmeta's restore (a meta-store URL) and the peer's restore command into
    // a fresh target of its own.
    std::function<std::pair<std::string, std::vector<std::string>>(int run)> restore;
  };
  std::vector<Backend> backends;
  const std::string pg_dump = dir + "/pg.dump";
  backends.push_back(
      {"postgres", pg_url, "pg_dump -Fc", "pg_restore", pg_dump, pg_env,
       append({pg_bin + "/pg_dump", "-Fc", "-f", pg_dump}, pg_args(pg_db)), [&](int) {
         return std::make_pair(
             pg->Url(Take(pg->CreateDatabase(), "create a restore target")),
             append(append({pg_bin + "/pg_restore"},
                           pg_args(Take(pg->CreateDatabase(), "create a pg_restore target"))),
                    {pg_dump}));
       }});
  const std::string sqlite_copy = dir + "/copy.db";
  backends.push_back(
      {"sqlite",
       sqlite_url,
       "sqlite3 .backup",
       "sqlite3 .restore",
       sqlite_copy,
       {},
       std::vector<std::string>{kSqlite3, sqlite_path, fmt::format(".backup '{}'", sqlite_copy)},
       [&](int run) {
         return std::make_pair(
             fmt::format("sqlite://{}/restored_{}.db", dir, run),
             std::vector<std::string>{kSqlite3, fmt::format("{}/sqlite_restored_{}.db", dir, run),
                                      fmt::format(".restore '{}'", sqlite_copy)});
       }});
  if (etcd != nullptr) {
    const std::string etcd_copy = dir + "/etcd.snapshot";
    backends.push_back(
        {"etcd",
         etcd_url,
         "etcdctl snapshot save",
         "etcdctl snapshot restore",
         etcd_copy,
         {{"ETCDCTL_API", "3"}},
         std::vector<std::string>{testing::EtcdServer::kEtcdctl, "--endpoints=" + etcd->endpoint(),
                                  "snapshot", "save", etcd_copy},
         [&, etcd_copy](int run) {
           return std::make_pair(
               etcd->Url(testing::EtcdServer::NewPrefix()),
               std::vector<std::string>{testing::EtcdServer::kEtcdctl, "snapshot", "restore",
                                        etcd_copy, "--data-dir",
                                        fmt::format("{}/etcd_restored_{}", dir, run)});
         }});
  }

  // Backups into a location that lists `listed` snapshots already (those of a bootstrapped
  // store: a manifest entry's size does not depend on the store), the peer's dumps beside them.
  auto BackupWithListed = [&](const Backend& backend) {
    const std::string location = fmt::format("listed_{}", backend.name);
    {
      metastore::MemoryMetaStore small;
      Check(small.Migrate(), "migrate a small store");
      meta::BootstrapOptions options;
      options.state_store = "hummock+fs://" + dir + "/state_listed";
      options.data_directory = kDataDirectory;
      backup::SnapshotHeader header;
      header.cluster_id = Take(meta::BootstrapCluster(small, options), "bootstrap").cluster_id;
      auto store = Take(objstore::OpenObjectStore("fs://" + dir), "open the backup location");
      backup::BackupStorage storage(store.get(), location);
      for (int64_t id = 1; id <= listed; ++id) {
        auto view = Take(small.BeginSnapshotRead(), "read the small store");
        Check(storage.WriteSnapshot(id, *view, hummock::HummockVersion(), header).status(),
              "write a listed snapshot");
      }
    }
    Line line{
        fmt::format("backup, {}, {} listed", backend.name, listed), backend.peer_backup, {}, {}};
    for (int run = 1; run <= runs; ++run) {
      line.ours.push_back(child("backup", backend.url, location, run, listed + run));
      std::filesystem::remove(backend.peer_copy);
      line.theirs.push_back(
          RunPeer(backend.backup_argv, dir + "/peer_rss", dir + "/peers.log", backend.env));
      fmt::print("backup run {} on {} with {} snapshots listed: rwmeta {:.3f} s, {} {:.3f} s\n",
                 run, backend.name, listed + run - 1, line.ours.back().seconds, line.peer,
                 line.theirs.back().seconds);
    }
    return line;
  };

  for (const Backend& backend : backends) {
    Line backup{"backup, " + backend.name, backend.peer_backup, {}, {}};
    Line restore{"restore, " + backend.name, backend.peer_restore, {}, {}};
    const std::string rss_file = dir + "/peer_rss";
    const std::string log_path = dir + "/peers.log";
    // Every backup before any restore, so the peer's copy holds the source alone (etcd's snapshot
    // is of the whole server, where the restores write too).
    for (int run = 1; run <= runs; ++run) {
      backup.ours.push_back(
          child("backup", backend.url, fmt::format("backup_{}_{}", backend.name, run), run));
      std::filesystem::remove(backend.peer_copy);
      backup.theirs.push_back(RunPeer(backend.backup_argv, rss_file, log_path, backend.env));
      fmt::print("backup run {} on {}: rwmeta {:.3f} s, {} {:.3f} s\n", run, backend.name,
                 backup.ours.back().seconds, backup.peer, backup.theirs.back().seconds);
    }
    for (int run = 1; run <= runs; ++run) {
      auto [target, peer_argv] = backend.restore(run);
      restore.ours.push_back(
          child("restore", target, fmt::format("backup_{}_{}", backend.name, run), run));
      restore.theirs.push_back(RunPeer(peer_argv, rss_file, log_path, backend.env));
      fmt::print("restore run {} on {}: rwmeta {:.3f} s, {} {:.3f} s\n", run, backend.name,
                 restore.ours.back().seconds, restore.peer, restore.theirs.back().seconds);
    }
    lines.push_back(std::move(backup));
    lines.push_back(std::move(restore));
    if (backend.name == "postgres" && listed > 0) lines.push_back(BackupWithListed(backend));
  }

  // Memory by metadata size: the same backups and restores of a cluster `memory_tables` big (a
  // tenth of N by default), against the N-table figures above.
  struct MemoryLine {
    std::string what;
    double small_mib = 0, large_mib = 0;
  };
  std::vector<MemoryLine> memory;
  if (memory_tables > 0) {
    start = std::chrono::steady_clock::now();
    const std::string small_state = dir + "/state_small";
    std::filesystem::create_directories(small_state);
    Cluster small = BuildCluster(memory_tables, "fs://" + small_state);
    const std::string small_version = dir + "/version_small.pb";
    WriteVersionFile(small, small_version);
    std::map<std::string, std::string> small_urls = {
        {"postgres", pg->Url(Take(pg->CreateDatabase(), "create the small source database"))},
        {"sqlite", "sqlite://" + dir + "/meta_small.db"}};
    if (etcd != nullptr) small_urls["etcd"] = etcd->Url(testing::EtcdServer::NewPrefix());
    for (const auto& [name, url] : small_urls) {
      auto store = Take(metastore::OpenMetaStore(url), "open the small " + name + " store");
      CopyStore(*small.store, *store);
    }
    fmt::print("setup: {}-table cluster built and loaded into every store in {:.2f} s\n",
               memory_tables, Seconds(start));
    for (const Backend& backend : backends) {
      const std::string location = "memory_" + backend.name;
      const Measured backup =
          child("backup", small_urls.at(backend.name), location, 1, 1, small_version, small_state);
      const Measured restore =
          child("restore", backend.restore(1000).first, location, 1, 1, small_version, small_state);
      for (const Line& line : lines) {
        std::vector<double> rss;
        for (const auto& m : line.ours) rss.push_back(m.rss_mib);
        if (line.what == "backup, " + backend.name) {
          memory.push_back({line.what, backup.rss_mib, Median(rss)});
        }
        if (line.what == "restore, " + backend.name) {
          memory.push_back({line.what, restore.rss_mib, Median(rss)});
        }
      }
      fmt::print("memory: {} at {} tables: backup +{:.1f} MiB, restore +{:.1f} MiB\n", backend.name,
                 memory_tables, backup.rss_mib, restore.rss_mib);
    }
  }

  // DDL latency: the N-table stores as they are, and 100-table (and M-table) ones built the same
  // way.
  struct DdlLine {
    std::string backend;
    int64_t tables;
    DdlFigures figures;
  };
  std::vector<DdlLine> ddl;
  std::vector<int64_t> sizes = {kSmallCatalogTables, tables};
  if (large_tables > 0) sizes.push_back(large_tables);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  for (int64_t size : sizes) {
    std::string size_pg_url = pg_url, size_sqlite_url = sqlite_url;
    if (size != tables) {
      start = std::chrono::steady_clock::now();
      Cluster other = BuildCluster(size, state_url);
      size_pg_url = pg->Url(Take(pg->CreateDatabase(), "create a DDL database"));
      size_sqlite_url = fmt::format("sqlite://{}/ddl_{}.db", dir, size);
      auto pg_store = Take(metastore::OpenMetaStore(size_pg_url), "open " + size_pg_url);
      CopyStore(*other.store, *pg_store);
      auto sqlite_store = Take(metastore::OpenMetaStore(size_sqlite_url), "open DDL SQLite");
      CopyStore(*other.store, *sqlite_store);
      fmt::print("setup: {}-table catalog built and loaded into both stores in {:.2f} s\n", size,
                 Seconds(start));
    }
    for (const auto& [backend, url] : std::vector<std::pair<std::string, std::string>>{
             {"sqlite", size_sqlite_url}, {"postgres", size_pg_url}}) {
      auto store = Take(metastore::OpenMetaStore(url), "open " + backend);
      start = std::chrono::steady_clock::now();
      ddl.push_back({backend, size, MeasureDdl(*store, ddl_samples)});
      fmt::print("ddl: {} CREATE + {} DROP TABLE on {} at {} tables in {:.2f} s\n", ddl_samples,
                 ddl_samples, backend, size, Seconds(start));
    }
  }

  fmt::print(
      "\nperf_bench: {} tables, {} materialized views, {} users, {} SSTs; medians of {} runs; "
      "each peer on the same server or file as rwmeta\n",
      tables, cluster.views, cluster.users + 1, cluster.ssts, runs);
  fmt::print("| {:<27} | {:>9} | {:<24} | {:>9} | {:>7} | {:>11} | {:>10} |\n", "what", "rwmeta s",
             "peer", "peer s", "ratio", "rwmeta +RSS", "peer RSS");
  fmt::print("|{:-<29}|{:->11}|{:-<26}|{:->11}|{:->9}|{:->13}|{:->12}|\n", "", "", "", "", "", "",
             "");
  for (const Line& line : lines) {
    std::vector<double> ours_s, theirs_s, ours_rss, theirs_rss;
    for (const auto& m : line.ours) {
      ours_s.push_back(m.seconds);
      ours_rss.push_back(m.rss_mib);
    }
    for (const auto& m : line.theirs) {
      theirs_s.push_back(m.seconds);
      theirs_rss.push_back(m.rss_mib);
    }
    const double ours = Median(ours_s), theirs = Median(theirs_s);
    const double peer_rss = Median(theirs_rss);
    fmt::print("| {:<27} | {:>9.3f} | {:<24} | {:>9.3f} | {:>6.2f}x | {:>7.1f} MiB | {:>10} |\n",
               line.what, ours, line.peer, theirs, ours / std::max(theirs, 1e-9), Median(ours_rss),
               peer_rss < 0 ? std::string("n/a") : fmt::format("{:.1f} MiB", peer_rss));
  }
  fmt::print("ratio: rwmeta's time over the peer's (above 1: rwmeta slower)\n");

  if (!memory.empty()) {
    fmt::print("\nPeak RSS rwmeta's call added, by metadata size\n");
    const std::string small_h = fmt::format("at {} tables", memory_tables);
    const std::string large_h = fmt::format("at {} tables", tables);
    fmt::print("| {:<17} | {:>17} | {:>17} | {:>7} |\n", "what", small_h, large_h, "growth");
    fmt::print("|{:-<19}|{:->19}|{:->19}|{:->9}|\n", "", "", "", "");
    for (const MemoryLine& line : memory) {
      fmt::print("| {:<17} | {:>13.1f} MiB | {:>13.1f} MiB | {:>6.2f}x |\n", line.what,
                 line.small_mib, line.large_mib, line.large_mib / std::max(line.small_mib, 1e-9));
    }
    fmt::print(
        "growth: the larger cluster's over the smaller's ({}x the metadata; goal: at most "
        "1.10x)\n",
        static_cast<double>(tables) / static_cast<double>(memory_tables));
  }

  fmt::print("\nDDL latency through CatalogManager, {} CREATE TABLE then {} DROP TABLE, ms\n",
             ddl_samples, ddl_samples);
  fmt::print("| {:<8} | {:>7} | {:>10} | {:>10} | {:>8} | {:>8} | {:>16} |\n", "store", "tables",
             "create p50", "create p99", "drop p50", "drop p99", "p50 vs 100 c/d");
  fmt::print("|{:-<10}|{:->9}|{:->12}|{:->12}|{:->10}|{:->10}|{:->18}|\n", "", "", "", "", "", "",
             "");
  for (const DdlLine& line : ddl) {
    DdlFigures base = line.figures;
    for (const DdlLine& other : ddl) {
      if (other.backend == line.backend && other.tables == kSmallCatalogTables) {
        base = other.figures;
      }
    }
    fmt::print(
        "| {:<8} | {:>7} | {:>10.2f} | {:>10.2f} | {:>8.2f} | {:>8.2f} | {:>7.1f}x {:>6.1f}x |\n",
        line.backend, line.tables, line.figures.create_p50_ms, line.figures.create_p99_ms,
        line.figures.drop_p50_ms, line.figures.drop_p99_ms,
        line.figures.create_p50_ms / std::max(base.create_p50_ms, 1e-9),
        line.figures.drop_p50_ms / std::max(base.drop_p50_ms, 1e-9));
  }
  fmt::print(
      "p50 vs 100 c/d: CREATE and DROP TABLE p50 over the same store's at {} tables (goal: at most "
      "1.3x)\n",
      kSmallCatalogTables);

  etcd.reset();
  pg.reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
