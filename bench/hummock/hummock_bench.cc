// hummock_bench: what the state store does with table data on this machine.
//
//   hummock_bench [--rows N] [--batch B] [--flush-every F] [--dir D]
//
// Builds a meta store (SQLite) and a state store (fs://) in a temporary directory, then through SQL
// sessions: INSERTs N rows of ~100 bytes (keys scattered, so SSTs overlap) in statements of B rows
// with a FLUSH every F statements,
// scans the table (count, filter, aggregate), compacts until nothing is triggered, full-GCs, and
// scans again. Prints rows/s and MB/s for each phase and the SST count and bytes before and after
// compaction. Figures, not assertions: run it on the machine you care about.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "frontend/session.h"
#include "frontend/table_data.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/store/maintenance.h"
#include "hummock/store/state_store.h"
#include "hummock/version/version.h"
#include "meta/bootstrap.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "metastore/factory.h"
#include "objstore/factory.h"

using namespace rwmeta;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "hummock_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

struct Sizes {
  uint64_t ssts = 0, bytes = 0;
};

Sizes VersionSizes(const hummock::HummockVersion& v) {
  Sizes s;
  for (const auto& l : hummock::LevelSizes(v)) {
    s.ssts += l.sst_count;
    s.bytes += l.size_bytes;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 200000, batch = 1000, flush_every = 10;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rows") rows = std::atoll(argv[i + 1]);
    if (a == "--batch") batch = std::atoll(argv[i + 1]);
    if (a == "--flush-every") flush_every = std::atoll(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  spdlog::set_level(spdlog::level::warn);
  bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / fmt::format("hummock_bench_{}", getpid()))
              .string();
  }
  std::filesystem::create_directories(dir);

  auto meta_store = metastore::OpenMetaStore("sqlite://" + dir + "/meta.db");
  Check(meta_store.status(), "meta store");
  auto objects = objstore::OpenObjectStore("fs://" + dir + "/state");
  Check(objects.status(), "state store");
  meta::BootstrapOptions bo;
  bo.state_store = "hummock+fs://" + dir + "/state";
  bo.data_directory = "hummock_001";
  Check(meta::BootstrapCluster(**meta_store, bo).status(), "bootstrap");
  auto catalog = meta::CatalogManager::Open(**meta_store);
  Check(catalog.status(), "catalog");
  meta::SystemParamsManager params(**meta_store);
  Check(params.Reload(), "params");
  auto manager = hummock::HummockManager::Open(**meta_store, **objects, {});
  Check(manager.status(), "hummock");
  hummock::StateStore store(**manager);
  frontend::TableData data(store, **catalog);
  hummock::MaintenanceOptions mo;
  mo.interval = std::chrono::hours(1);
  mo.full_gc_interval = std::chrono::hours(1);
  hummock::HummockMaintenance maintenance(**manager, mo);
  frontend::FrontendSessionFactory factory(**catalog, params, &data);
  auto session = factory.OpenSession("root", "dev", {});
  Check(session.status(), "session");
  auto run = [&](const std::string& sql) {
    std::vector<pgwire::ResultSet> results;
    Check((*session)->ExecuteSimple(sql, &results), sql.substr(0, 60).c_str());
    return results;
  };

  fmt::print("hummock_bench: {} rows of ~100 bytes, {} rows per INSERT, FLUSH every {} INSERTs\n",
             rows, batch, flush_every);
  run("CREATE TABLE bench (id bigint PRIMARY KEY, name varchar, amount double precision, "
      "note varchar)");
  std::string pad(60, 'x');
  auto t0 = std::chrono::steady_clock::now();
  int64_t statements = 0;
  for (int64_t start = 0; start < rows; start += batch) {
    std::string sql = "INSERT INTO bench VALUES ";
    for (int64_t i = start; i < std::min(rows, start + batch); ++i) {
      // Keys scattered over the whole range, so that SSTs overlap and compaction rewrites them.
      int64_t id = (i * 7919) % rows;
      sql += fmt::format("{}({}, 'name{}', {}.5, '{}')", i == start ? "" : ",", id, id % 1000,
                         id % 977, pad);
    }
    run(sql);
    if (++statements % flush_every == 0) run("FLUSH");
  }
  run("FLUSH");
  double insert_s = Seconds(t0);
  Sizes before = VersionSizes(*(*manager)->current());
  fmt::print("insert: {:.0f} rows/s ({:.1f} s incl. FLUSH)\n", rows / insert_s, insert_s);
  fmt::print("before compaction: {} SSTs, {:.1f} MiB\n", before.ssts, before.bytes / 1048576.0);

  auto scan = [&](const char* label) {
    auto t = std::chrono::steady_clock::now();
    run("SELECT count(*), sum(amount) FROM bench");
    double s = Seconds(t);
    fmt::print("{}: full scan {:.0f} rows/s ({:.2f} s)\n", label, rows / s, s);
    t = std::chrono::steady_clock::now();
    run("SELECT name, count(*) FROM bench WHERE amount > 500 GROUP BY name");
    s = Seconds(t);
    fmt::print("{}: filtered aggregate {:.0f} rows/s ({:.2f} s)\n", label, rows / s, s);
  };
  scan("before compaction");

  auto tc = std::chrono::steady_clock::now();
  int compactions = 0;
  while (true) {
    auto n = maintenance.RunRoundNow();
    Check(n.status(), "compaction");
    if (*n == 0) break;
    compactions += *n;
  }
  auto gc = maintenance.TriggerFullGc(std::chrono::milliseconds(0));
  Check(gc.status(), "full gc");
  double compact_s = Seconds(tc);
  Sizes after = VersionSizes(*(*manager)->current());
  fmt::print("compaction: {} rounds in {:.1f} s ({:.1f} MiB/s of input)\n", compactions, compact_s,
             before.bytes / 1048576.0 / std::max(compact_s, 1e-9));
  fmt::print("after compaction: {} SSTs, {:.1f} MiB; full GC deleted {} objects\n", after.ssts,
             after.bytes / 1048576.0, gc->deleted_object_ids.size());
  scan("after compaction");

  maintenance.Stop();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
