// metastore_bench: how long a bulk load of a whole catalog takes in the memory meta store (what a
// restore drill loads a snapshot into) and in a SQLite one (what restore-meta writes by default),
// side by side, for catalogs of growing size.
//
//   metastore_bench [--tables N1,N2,...] [--dir D]
//
// For each N (default 1,000, 10,000 and 100,000) it builds the rows of a catalog with N tables,
// shaped like the one a busy cluster has (tests/e2e/busy_cluster.cc): one user per 100 tables
// (root first), one database per 5,000 (dev first), one schema per 100 tables, and per table an
// `object` row and a `table` row; every 10th table is a materialized view over the one before it
// (an `object_dependency` row), and every table has a SELECT grant to its schema's user (a
// `user_privilege` row, granted by root); the id sequences are above every id. Then it loads them
// with MetaStore::BeginBulkLoad (Add for every row, parents first, then Finish) into a fresh
// MemoryMetaStore and into a fresh SQLite file under D (a temporary directory by default, removed
// at the end), and prints the seconds and rows/s of each. Building the rows is not timed. Then it
// times what a CREATE TABLE writes afterwards, one transaction of an `object` and a `table` row, a
// few times in each store, and prints the mean: the memory store copies each table a transaction
// writes (copy-on-write), so this grows with the catalog. Figures, not assertions.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metastore/factory.h"
#include "metastore/memory/memory_meta_store.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"

using namespace rwmeta;
using metastore::Model;
using metastore::Row;
using metastore::TableSchema;

namespace {

constexpr int64_t kTablesPerUser = 100;
constexpr int64_t kTablesPerDatabase = 5'000;
constexpr int64_t kTablesPerSchema = 100;
constexpr int64_t kTablesPerView = 10;
constexpr int kCreateTableTransactions = 20;

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) {
    fmt::print(stderr, "metastore_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Rows in bulk-load order: the model's table order (parents before children), and within `object`
// databases, then schemas, then tables (object.database_id and schema_id refer to `object`).
using Rows = std::vector<std::pair<const TableSchema*, Row>>;

Rows CatalogRows(int64_t tables) {
  const Model& m = Model::Get();
  const int64_t users = 1 + tables / kTablesPerUser;
  const int64_t databases = 1 + tables / kTablesPerDatabase;
  const int64_t schemas = std::max<int64_t>(1, tables / kTablesPerSchema);
  const metastore::Value null;
  constexpr int64_t kCreatedAtMs = 1'700'000'000'000;

  std::vector<Row> user_rows, object_rows, database_rows, schema_rows, table_rows, dependency_rows,
      privilege_rows;
  for (int64_t u = 1; u <= users; ++u) {
    user_rows.push_back({u, u == 1 ? std::string("root") : fmt::format("user_{}", u), u == 1,
                         u == 1, u == 1, true, std::string("md5"),
                         fmt::format("md5{:032x}", u * 2654435761u), kCreatedAtMs});
  }
  int64_t next_oid = 1;
  std::vector<int64_t> database_oids, schema_oids;
  for (int64_t d = 0; d < databases; ++d) {
    const int64_t oid = next_oid++;
    database_oids.push_back(oid);
    object_rows.push_back({oid, std::string("database"), int64_t{1}, null, null, kCreatedAtMs});
    database_rows.push_back({oid, d == 0 ? std::string("dev") : fmt::format("db_{}", d)});
  }
  for (int64_t s = 0; s < schemas; ++s) {
    const int64_t oid = next_oid++;
    const int64_t db = database_oids[s % databases];
    schema_oids.push_back(oid);
    object_rows.push_back({oid, std::string("schema"), int64_t{1}, db, null, kCreatedAtMs});
    schema_rows.push_back(
        {oid, db, s < databases ? std::string("public") : fmt::format("s_{}", s)});
  }
  int64_t next_dependency = 1;
  int64_t next_privilege = 1;
  for (int64_t t = 0; t < tables; ++t) {
    const int64_t oid = next_oid++;
    const int64_t schema = t % schemas;
    const int64_t owner = 1 + schema % users;
    const bool view = t % kTablesPerView == kTablesPerView - 1;
    const std::string name = fmt::format("{}_{}", view ? "mv" : "t", t);
    object_rows.push_back({oid, std::string(view ? "materialized_view" : "table"), owner,
                           database_oids[schema % databases], schema_oids[schema], kCreatedAtMs});
    table_rows.push_back(
        {oid, schema_oids[schema], name, std::string(view ? "materialized_view" : "table"),
         std::string(R"([{"name":"id","type":"integer","nullable":false},)"
                     R"({"name":"v","type":"character varying","nullable":true}])"),
         std::string("[0]"),
         view ? fmt::format("CREATE MATERIALIZED VIEW {} AS SELECT id, v FROM t_{}", name, t - 1)
              : fmt::format("CREATE TABLE {} (id INT PRIMARY KEY, v VARCHAR)", name),
         false});
    if (view) dependency_rows.push_back({next_dependency++, oid - 1, oid});
    privilege_rows.push_back(
        {next_privilege++, owner, oid, int64_t{1}, std::string("SELECT"), false});
  }
  std::vector<Row> sequence_rows = {{std::string("object"), next_oid},
                                    {std::string("user"), users + 1},
                                    {std::string("object_dependency"), next_dependency},
                                    {std::string("user_privilege"), next_privilege}};

  std::vector<std::pair<std::string, std::vector<Row>*>> by_table = {
      {"id_sequence", &sequence_rows},
      {"user", &user_rows},
      {"object", &object_rows},
      {"database", &database_rows},
      {"schema", &schema_rows},
      {"table", &table_rows},
      {"object_dependency", &dependency_rows},
      {"user_privilege", &privilege_rows}};
  Rows out;
  for (const TableSchema& table : m.tables()) {
    for (auto& [name, rows] : by_table) {
      if (name != table.name) continue;
      for (Row& row : *rows) out.emplace_back(&table, std::move(row));
    }
  }
  return out;
}

// Seconds to bulk-load `rows` into `store`.
double BulkLoad(metastore::MetaStore& store, const Rows& rows) {
  const auto start = std::chrono::steady_clock::now();
  auto loader = store.BeginBulkLoad();
  Check(loader.status(), fmt::format("{}: begin bulk load", store.backend()));
  for (const auto& [table, row] : rows) {
    Check((*loader)->Add(*table, row), fmt::format("{}: add to {}", store.backend(), table->name));
  }
  Check((*loader)->Finish(), fmt::format("{}: finish bulk load", store.backend()));
  return Seconds(start);
}

// Mean milliseconds of a transaction that inserts what CREATE TABLE does (an `object` row and a
// `table` row) into the catalog of `tables` tables that CatalogRows built, which `store` holds.
double CreateTableMs(metastore::MetaStore& store, int64_t tables) {
  const Model& m = Model::Get();
  // CatalogRows' first schema and its database; oids above every oid it used.
  const int64_t databases = 1 + tables / kTablesPerDatabase;
  const int64_t schemas = std::max<int64_t>(1, tables / kTablesPerSchema);
  const int64_t first_oid = databases + schemas + tables + 1;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCreateTableTransactions; ++i) {
    const int64_t oid = first_oid + i;
    Check(metastore::RunTransaction(
              store,
              [&](metastore::Transaction& txn) -> Status {
                RWMETA_RETURN_IF_ERROR(
                    txn.Insert(m.Table("object"), Row{oid, std::string("table"), int64_t{1},
                                                      int64_t{1}, databases + 1, int64_t{0}}));
                return txn.Insert(
                    m.Table("table"),
                    Row{oid, databases + 1, fmt::format("new_{}", i), std::string("table"),
                        std::string("[]"), std::string("[0]"), std::string("CREATE TABLE"), false});
              }),
          fmt::format("{}: create table", store.backend()));
  }
  return Seconds(start) * 1000.0 / kCreateTableTransactions;
}

std::vector<int64_t> ParseCounts(const std::string& text) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const int64_t n = std::atoll(text.substr(pos, comma - pos).c_str());
    if (n <= 0) return {};
    out.push_back(n);
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> counts = {1'000, 10'000, 100'000};
  std::string dir;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 < argc && flag == "--tables") {
      counts = ParseCounts(argv[i + 1]);
    } else if (i + 1 < argc && flag == "--dir") {
      dir = argv[i + 1];
    } else {
      counts.clear();
    }
    if (counts.empty()) {
      fmt::print(stderr, "usage: metastore_bench [--tables N1,N2,...] [--dir D]\n");
      return 2;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / fmt::format("metastore_bench_{}", getpid()))
              .string();
  }
  std::filesystem::create_directories(dir);

  fmt::print(
      "bulk load of a catalog (BeginBulkLoad, one transaction): seconds, rows/s; then the mean "
      "ms of a CREATE TABLE transaction\n");
  fmt::print("{:>8} {:>8} | {:>9} {:>10} {:>9} | {:>9} {:>10} {:>9}\n", "tables", "rows",
             "memory s", "rows/s", "txn ms", "sqlite s", "rows/s", "txn ms");
  for (int64_t tables : counts) {
    const Rows rows = CatalogRows(tables);
    metastore::MemoryMetaStore memory;
    const double memory_s = BulkLoad(memory, rows);
    const double memory_txn_ms = CreateTableMs(memory, tables);
    const std::string path = fmt::format("{}/catalog_{}.db", dir, tables);
    std::filesystem::remove(path);
    auto sqlite = metastore::OpenMetaStore("sqlite://" + path);
    Check(sqlite.status(), "open " + path);
    const double sqlite_s = BulkLoad(**sqlite, rows);
    const double sqlite_txn_ms = CreateTableMs(**sqlite, tables);
    const double n = static_cast<double>(rows.size());
    fmt::print("{:>8} {:>8} | {:>9.3f} {:>10.0f} {:>9.2f} | {:>9.3f} {:>10.0f} {:>9.2f}\n", tables,
               rows.size(), memory_s, n / memory_s, memory_txn_ms, sqlite_s, n / sqlite_s,
               sqlite_txn_ms);
    sqlite->reset();
    std::filesystem::remove(path);
  }
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
