#include "e2e/busy_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include "common/url.h"
#include "metastore/factory.h"
#include "metastore/model.h"

namespace rwmeta::e2e {
namespace {

// Quotes `text` as a SQL string literal.
std::string Lit(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// Runs the statements in order in one psql, stopping at the first failure.
Status RunAll(int port, const std::vector<std::string>& statements, const std::string& db = "dev") {
  Queries queries;
  for (const std::string& s : statements) queries.push_back({s.substr(0, 60), s});
  return SqlBatch(port, db, queries).status();
}

// One row of `typed` (see MakeBusyCluster): every column type, NULLs in a pattern, unicode, the
// int64 extremes in rows 1 and 2, a row of NULLs but for its key at 5.
std::string TypedRow(int i) {
  if (i == 5)
    return "(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";
  auto null_or = [](bool null, const std::string& v) { return null ? std::string("NULL") : v; };
  std::string c = i == 1   ? "-9223372036854775808"
                  : i == 2 ? "9223372036854775807"
                           : std::to_string(int64_t{1000000007} * i * (i % 2 == 0 ? 1 : -1));
  std::string f =
      i == 3 ? "12345678901234567890.123456789" : fmt::format("{}.{:02}", i * 17, i % 100);
  return fmt::format(
      "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})", i,
      null_or(i % 7 == 0, std::to_string(i * 37 % 65536 - 32768)),
      null_or(i % 9 == 0, std::to_string(i * 7919 - 1000000)), null_or(i % 10 == 0, c),
      null_or(i % 8 == 0, fmt::format("{}.5", i)), null_or(i % 6 == 0, fmt::format("-{}.25", i)),
      null_or(i % 12 == 0, f),
      null_or(i % 11 == 0, Lit(fmt::format("ünïcödé ✓ {} 日本語", i % 23))),
      null_or(i % 13 == 0, Lit(fmt::format("row {} it's 🚀 {}", i, std::string(i % 5, 'x')))),
      null_or(i % 14 == 0,
              Lit(fmt::format("{}-{:02}-{:02}", 1990 + i % 40, 1 + i % 12, 1 + i % 28))),
      null_or(i % 15 == 0, Lit(fmt::format("2024-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", 1 + i % 12,
                                           1 + i % 28, i % 24, i % 60, (i * 7) % 60, i * 1001))),
      null_or(i % 16 == 0, Lit(fmt::format(R"({{"n": {}, "tags": ["a", "ü"], "ok": {}}})", i,
                                           i % 2 == 0 ? "true" : "false"))),
      null_or(i % 17 == 0, i % 3 == 0 ? "true" : "false"),
      null_or(i % 19 == 0, Lit(fmt::format("\\x{:02x}00ff{:04x}", i % 256, i))));
}

std::string Rows(int from, int to, const std::function<std::string(int)>& row) {
  std::string out;
  for (int i = from; i <= to; ++i) out += (out.empty() ? "" : ", ") + row(i);
  return out;
}

// The model tables that hold the catalog, the users and privileges, the secrets and the system
// parameters: restore writes them exactly as the snapshot has them. (Sequences are carried
// forward, and Hummock and runtime tables change as soon as a node runs, so they are left out.)
constexpr const char* kCatalogTables[] = {"cluster",
                                          "system_parameter",
                                          "session_parameter",
                                          "user",
                                          "object",
                                          "database",
                                          "schema",
                                          "table",
                                          "view",
                                          "index",
                                          "source",
                                          "sink",
                                          "secret",
                                          "object_dependency",
                                          "user_privilege",
                                          "catalog_version"};

}  // namespace

std::vector<std::string> MetaStoreSpec::NodeFlags() const {
  const auto& e = endpoint;
  std::vector<std::string> f = {"--backend", e.type};
  if (e.type == "etcd") {
    f.insert(f.end(), {"--etcd-endpoints", e.etcd_endpoints});
    if (e.etcd_auth) {
      f.insert(f.end(), {"--etcd-auth", "--etcd-username", e.etcd_username, "--etcd-password",
                         e.etcd_password});
    }
    return f;
  }
  f.insert(f.end(), {"--sql-endpoint", e.sql_endpoint});
  if (e.type == "postgres" || e.type == "mysql") {
    f.insert(f.end(), {"--sql-username", e.sql_username, "--sql-password", e.sql_password,
                       "--sql-database", e.sql_database});
  }
  return f;
}

std::vector<std::string> MetaStoreSpec::RisectlFlags() const {
  std::vector<std::string> f = NodeFlags();
  f[0] = "--meta-store-type";
  return f;
}

Result<std::string> MetaStoreSpec::Url() const { return metastore::BuildMetaStoreUrl(endpoint); }

std::vector<std::string> NodeArgs(const MetaStoreSpec& store, const StorageSpec& storage) {
  std::vector<std::string> args = store.NodeFlags();
  args.insert(args.end(), {"--state-store", "hummock+" + storage.state_url, "--data-directory",
                           storage.data_directory, "--backup-storage-url", storage.backup_url,
                           "--backup-storage-directory", storage.backup_directory,
                           "--state-store-lease-ttl-ms", "1500"});
  return args;
}

Result<std::unique_ptr<MetaNodeProcess>> StartNode(const std::string& work_dir,
                                                   const MetaStoreSpec& store,
                                                   const StorageSpec& storage) {
  MetaNodeProcess::Options options;
  options.work_dir = work_dir;
  options.extra_args = NodeArgs(store, storage);
  auto node = MetaNodeProcess::Start(options);
  if (!node.ok()) return node.status().WithContext("meta-node on " + store.label);
  return node;
}

Result<std::string> Sql(int port, const std::string& sql, const std::string& db,
                        const std::string& user, const std::string& password) {
  std::map<std::string, std::string> env;
  if (!password.empty()) env["PGPASSWORD"] = password;
  RWMETA_ASSIGN_OR_RETURN(
      CommandResult r, RunCommand({"/usr/bin/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                                   "-P", "null=NULL", "-h", "127.0.0.1", "-p", std::to_string(port),
                                   "-U", user, "-d", db, "-c", sql},
                                  env));
  if (r.exit_code != 0) {
    return InternalError(fmt::format("psql as {} on {} failed ({}): {}\nstatement: {}", user, db,
                                     r.exit_code, r.err, sql.substr(0, 300)));
  }
  return r.out;
}

Result<std::map<std::string, std::string>> SqlBatch(int port, const std::string& db,
                                                    const Queries& queries) {
  // One psql for all: each query is its own -c, preceded by a marker line that names it.
  std::vector<std::string> argv = {"/usr/bin/psql",      "-X", "-A",        "-t", "-q",        "-v",
                                   "ON_ERROR_STOP=1",    "-P", "null=NULL", "-h", "127.0.0.1", "-p",
                                   std::to_string(port), "-U", "root",      "-d", db};
  constexpr std::string_view kMarker = "@@@ ";
  for (size_t i = 0; i < queries.size(); ++i) {
    argv.insert(argv.end(),
                {"-c", fmt::format("SELECT '{}{}'", kMarker, i), "-c", queries[i].second});
  }
  RWMETA_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, {}, std::chrono::seconds(120)));
  if (r.exit_code != 0) {
    return InternalError(fmt::format(
        "psql on {} failed ({}): {}\noutput so far: {}", db, r.exit_code, r.err,
        r.out.substr(r.out.rfind(kMarker) == std::string::npos ? 0 : r.out.rfind(kMarker))));
  }
  std::map<std::string, std::string> out;
  std::string* current = nullptr;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(kMarker)) {
      size_t i = std::strtoul(line.c_str() + kMarker.size(), nullptr, 10);
      if (i >= queries.size()) return InternalError("psql batch: bad marker " + line);
      current = &out[queries[i].first];
      continue;
    }
    if (current == nullptr) return InternalError("psql batch: output before the first marker");
    *current += line + "\n";
  }
  for (const auto& [label, sql] : queries) out.try_emplace(label);
  return out;
}

Result<CommandResult> Risectl(const std::vector<std::string>& args, const std::string& meta_addr) {
  std::vector<std::string> argv = {RisectlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (!meta_addr.empty()) env["RW_META_ADDR"] = meta_addr;
  return RunCommand(argv, env, std::chrono::seconds(120));
}

Status MakeBusyCluster(int port, int rows) {
  Status dev = RunAll(
      port,
      {"ALTER SYSTEM SET barrier_interval_ms = 700", "ALTER SYSTEM SET checkpoint_frequency = 2",
       "ALTER SYSTEM SET time_travel_retention_ms = 123456",
       "ALTER SYSTEM SET max_concurrent_creating_streaming_jobs = 3", "CREATE DATABASE analytics",
       "CREATE SCHEMA ops", "CREATE USER alice WITH PASSWORD 'alice-pw'",
       "CREATE USER bob WITH PASSWORD 'b0b ünï'",
       "CREATE SECRET api_key WITH (backend = 'meta') AS 'hunter2 ✓'",
       "CREATE TABLE typed (id int PRIMARY KEY, a smallint, b int, c bigint, d real, "
       "e double precision, f decimal, g varchar, h text, i date, j timestamp, k jsonb, "
       "l boolean, m bytea)",
       "INSERT INTO typed VALUES " + Rows(1, rows, TypedRow),
       "CREATE TABLE ops.events (kind text, n bigint, note varchar)",
       "INSERT INTO ops.events VALUES " + Rows(1, 200,
                                               [](int i) {
                                                 return fmt::format(
                                                     "('k{}', {}, {})", i % 4, i % 10,
                                                     i % 3 == 0 ? "NULL" : Lit("événement"));
                                               }),
       "CREATE INDEX typed_by_g ON typed (g)",
       "CREATE VIEW greetings AS SELECT id, g FROM typed WHERE g <> 'ünïcödé ✓ 1 日本語'",
       "CREATE MATERIALIZED VIEW typed_by_l AS SELECT l, count(*) AS n, sum(b) AS total FROM "
       "typed GROUP BY l",
       "GRANT SELECT ON typed TO alice", "GRANT SELECT, INSERT ON ops.events TO bob", "FLUSH"});
  if (!dev.ok()) return dev.WithContext("busy cluster, database dev");
  Status analytics =
      RunAll(port,
             {"CREATE TABLE metrics (k varchar PRIMARY KEY, v double precision)",
              "INSERT INTO metrics VALUES " +
                  Rows(1, 120, [](int i) { return fmt::format("('m{:03}', {}.125)", i, i * 3); }),
              "CREATE MATERIALIZED VIEW metrics_total AS SELECT count(*) AS n, sum(v) AS total "
              "FROM metrics",
              "CREATE INDEX metrics_by_v ON metrics (v)", "FLUSH"},
             "analytics");
  if (!analytics.ok()) return analytics.WithContext("busy cluster, database analytics");
  return Status::Ok();
}

Status ChangeAfterSnapshot(int port) {
  RWMETA_RETURN_IF_ERROR(RunAll(
      port,
      {"INSERT INTO typed VALUES " + Rows(1001, 1020, TypedRow), "DELETE FROM typed WHERE id <= 10",
       "UPDATE typed SET h = 'changed after the snapshot' WHERE id = 20", "DROP TABLE ops.events",
       "CREATE TABLE after_snapshot (x int)", "INSERT INTO after_snapshot VALUES (1), (2)",
       "REVOKE SELECT ON typed FROM alice", "DROP SECRET api_key",
       "CREATE USER carol WITH PASSWORD 'c'", "ALTER SYSTEM SET barrier_interval_ms = 900",
       "CREATE DATABASE later_db", "FLUSH"}));
  return RunAll(port, {"DELETE FROM metrics WHERE v > 100", "FLUSH"}, "analytics");
}

Result<ClusterState> CaptureState(const MetaNodeProcess& node) {
  const int port = node.pg_port();
  ClusterState state;
  auto capture = [&](const std::string& db, const std::string& prefix, const Queries& queries) {
    auto outputs = SqlBatch(port, db, queries);
    if (!outputs.ok()) return outputs.status();
    for (auto& [label, text] : *outputs) state[prefix + label] = std::move(text);
    return Status::Ok();
  };
  Queries globals = {{"SHOW PARAMETERS", "SHOW PARAMETERS"}};
  for (const char* t : {"rw_databases", "rw_users", "rw_system_parameters"}) {
    globals.push_back({t, fmt::format("SELECT * FROM rw_catalog.{} ORDER BY 1", t)});
  }
  for (const char* t : {"pg_database", "pg_roles", "pg_user"}) {
    globals.push_back({t, fmt::format("SELECT * FROM pg_catalog.{} ORDER BY 1", t)});
  }
  RWMETA_RETURN_IF_ERROR(capture("dev", "", globals));
  RWMETA_ASSIGN_OR_RETURN(std::string dbs,
                          Sql(port, "SELECT name FROM rw_catalog.rw_databases ORDER BY 1"));
  std::istringstream db_lines(dbs);
  for (std::string db; std::getline(db_lines, db);) {
    Queries catalog;
    for (const char* t : {"rw_schemas", "rw_tables", "rw_views", "rw_materialized_views",
                          "rw_indexes", "rw_secrets"}) {
      catalog.push_back({t, fmt::format("SELECT * FROM rw_catalog.{} ORDER BY 1", t)});
    }
    catalog.push_back({"rw_columns", "SELECT * FROM rw_catalog.rw_columns ORDER BY 1, 3"});
    catalog.push_back({"pg_namespace", "SELECT * FROM pg_catalog.pg_namespace ORDER BY 1"});
    catalog.push_back({"pg_class",
                       "SELECT oid, relname, relnamespace, relowner, relkind, relnatts, relacl "
                       "FROM pg_catalog.pg_class ORDER BY 1"});
    catalog.push_back({"pg_attribute",
                       "SELECT attrelid, attname, atttypid, attnum, attnotnull FROM "
                       "pg_catalog.pg_attribute ORDER BY 1, 4"});
    catalog.push_back({"\\dt", "\\dt"});
    // What the rows below need: visible columns per relation, and the user relations.
    catalog.push_back({"#widths",
                       "SELECT relation_id, count(*) FROM rw_catalog.rw_columns WHERE NOT "
                       "is_hidden GROUP BY relation_id"});
    for (const char* kind : {"rw_tables", "rw_materialized_views"}) {
      catalog.push_back({std::string("#") + kind,
                         fmt::format("SELECT r.id, s.name, r.name FROM rw_catalog.{} r JOIN "
                                     "rw_catalog.rw_schemas s ON r.schema_id = s.id ORDER BY 1",
                                     kind)});
    }
    RWMETA_ASSIGN_OR_RETURN(auto outputs, SqlBatch(port, db, catalog));
    std::map<std::string, int> visible_columns;
    std::istringstream width_lines(outputs["#widths"]);
    for (std::string line; std::getline(width_lines, line);) {
      size_t bar = line.find('|');
      visible_columns[line.substr(0, bar)] = std::atoi(line.substr(bar + 1).c_str());
    }
    // Every row of every user table and materialized view, ordered by all its visible columns.
    Queries rows;
    std::istringstream rel_lines(outputs["#rw_tables"] + outputs["#rw_materialized_views"]);
    for (std::string line; std::getline(rel_lines, line);) {
      size_t bar1 = line.find('|'), bar2 = line.rfind('|');
      std::string id = line.substr(0, bar1);
      std::string schema = line.substr(bar1 + 1, bar2 - bar1 - 1);
      std::string name = line.substr(bar2 + 1);
      std::string order;
      for (int i = 1; i <= visible_columns[id]; ++i) {
        order += (i > 1 ? ", " : "") + std::to_string(i);
      }
      if (order.empty()) return InternalError("no visible columns in relation " + line);
      rows.push_back({"rows of " + schema + "." + name,
                      fmt::format("SELECT * FROM \"{}\".\"{}\" ORDER BY {}", schema, name, order)});
    }
    for (auto& [label, text] : outputs) {
      if (!label.starts_with("#")) state[db + ": " + label] = std::move(text);
    }
    if (!rows.empty()) RWMETA_RETURN_IF_ERROR(capture(db, db + ": ", rows));
  }
  // Users keep their passwords: alice logs in with hers (and sees the table she may read).
  RWMETA_ASSIGN_OR_RETURN(
      state["alice logs in"],
      Sql(port, "SELECT current_user, count(*) FROM typed", "dev", "alice", "alice-pw"));
  RWMETA_ASSIGN_OR_RETURN(CommandResult info, Risectl({"meta", "cluster-info"}, node.meta_addr()));
  if (info.exit_code != 0) return InternalError("risectl meta cluster-info: " + info.err);
  // "Cluster ID:   <uuid>" and "Created at:   <time>" (aligned); the lines after name the meta
  // store backend and the uptime, which differ after a cross-backend restore.
  std::istringstream info_lines(info.out);
  for (std::string line; std::getline(info_lines, line);) {
    for (const char* label : {"Cluster ID:", "Created at:"}) {
      if (line.starts_with(label)) {
        size_t value = line.find_first_not_of(' ', std::string_view(label).size());
        state[label] = value == std::string::npos ? "" : line.substr(value);
      }
    }
  }
  if (state["Cluster ID:"].size() != 36) {
    return InternalError("risectl meta cluster-info printed no cluster id: " + info.out);
  }
  return state;
}

Result<ClusterState> DumpCatalogRows(const MetaStoreSpec& store) {
  RWMETA_ASSIGN_OR_RETURN(std::string url, store.Url());
  RWMETA_ASSIGN_OR_RETURN(auto meta_store, metastore::OpenMetaStore(url));
  RWMETA_ASSIGN_OR_RETURN(auto view, meta_store->BeginSnapshotRead());
  const metastore::Model& model = metastore::Model::Get();
  ClusterState dump;
  for (const char* name : kCatalogTables) {
    const metastore::TableSchema& table = model.Table(name);
    std::string& text = dump[std::string("meta store table ") + name];
    // A restore raises the cluster's generation (hummock/cluster/generation.h): the restored
    // copy's `cluster` row differs from its source there by design (fencing_test checks it).
    const int skipped = std::string_view(name) == "cluster" ? table.ColumnIndex("generation") : -1;
    RWMETA_RETURN_IF_ERROR(view->Scan(table, [&](const metastore::Row& row) {
      bool first = true;
      for (size_t i = 0; i < row.size(); ++i) {
        if (static_cast<int>(i) == skipped) continue;
        text += (first ? "" : "|") + metastore::ValueToString(row[i], table.columns[i].type);
        first = false;
      }
      text += "\n";
      return Status::Ok();
    }));
  }
  return dump;
}

Result<uint64_t> TakeSnapshot(const MetaNodeProcess& node) {
  // As an operator does it: BACKUP returns once the job finished, with the snapshot id.
  const int port = node.pg_port();
  RWMETA_ASSIGN_OR_RETURN(std::string out, Sql(port, "BACKUP"));
  char* end = nullptr;
  const uint64_t id = std::strtoull(out.c_str(), &end, 10);
  if (id == 0 || std::string_view(end) != "\n") {
    return InternalError("BACKUP answered '" + out + "', not a snapshot id");
  }
  RWMETA_ASSIGN_OR_RETURN(
      std::string listed,
      Sql(port,
          fmt::format(
              "SELECT count(*) FROM rw_catalog.rw_meta_snapshot WHERE meta_snapshot_id = {}", id)));
  if (listed != "1\n") {
    return InternalError(fmt::format("snapshot {} is not in rw_meta_snapshot", id));
  }
  return id;
}

std::vector<std::string> RestoreArgs(uint64_t id, const MetaStoreSpec& target,
                                     const StorageSpec& storage) {
  std::vector<std::string> args = {"meta", "restore-meta", "--meta-snapshot-id",
                                   std::to_string(id)};
  std::vector<std::string> flags = target.RisectlFlags();
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"--backup-storage-url", storage.backup_url, "--backup-storage-directory",
                           storage.backup_directory, "--hummock-storage-url", storage.state_url,
                           "--hummock-storage-directory", storage.data_directory});
  return args;
}

Status CheckNewWorkOnRestored(int port) {
  // The highest id the restored catalog holds, over every kind of object of every database.
  int64_t max_id = 0;
  for (const char* db : {"dev", "analytics"}) {
    Queries ids;
    for (const char* t : {"rw_databases", "rw_schemas", "rw_tables", "rw_views",
                          "rw_materialized_views", "rw_indexes", "rw_secrets"}) {
      ids.push_back({t, fmt::format("SELECT coalesce(max(id), 0) FROM rw_catalog.{}", t)});
    }
    RWMETA_ASSIGN_OR_RETURN(auto maxima, SqlBatch(port, db, ids));
    for (const auto& [table, m] : maxima) max_id = std::max<int64_t>(max_id, std::atoll(m.c_str()));
  }
  if (max_id <= 0) return InternalError("no ids in the restored catalog");
  RWMETA_RETURN_IF_ERROR(RunAll(
      port, {"CREATE TABLE post_restore (id int PRIMARY KEY, v varchar)",
             "INSERT INTO post_restore VALUES (1, 'one'), (2, 'zwei'), (3, 'трі')",
             "INSERT INTO typed VALUES " + Rows(2001, 2003, TypedRow),
             "UPDATE typed SET g = 'touched after restore' WHERE id = 100",
             "CREATE USER dave WITH PASSWORD 'd-pw'", "CREATE DATABASE post_restore_db", "FLUSH"}));
  const std::map<std::string, std::string> want = {
      {"SELECT * FROM post_restore ORDER BY 1", "1|one\n2|zwei\n3|трі\n"},
      {"SELECT count(*), min(id), max(id) FROM typed WHERE id > 2000", "3|2001|2003\n"},
      {"SELECT g FROM typed WHERE id = 100", "touched after restore\n"},
      {"SELECT name FROM rw_catalog.rw_databases ORDER BY 1", "analytics\ndev\npost_restore_db\n"},
      {"SELECT name FROM rw_catalog.rw_users WHERE name = 'dave'", "dave\n"},
  };
  Queries queries;
  for (const auto& [sql, text] : want) queries.push_back({sql, sql});
  // The new table's id, and the materialized view following the new rows.
  queries.push_back({"id", "SELECT id FROM rw_catalog.rw_tables WHERE name = 'post_restore'"});
  queries.push_back({"in view", "SELECT sum(n) FROM typed_by_l"});
  queries.push_back({"in table", "SELECT count(*) FROM typed"});
  RWMETA_ASSIGN_OR_RETURN(auto got, SqlBatch(port, "dev", queries));
  for (const auto& [sql, text] : want) {
    if (got[sql] != text) {
      return InternalError(
          fmt::format("after restore, {}: got '{}', want '{}'", sql, got[sql], text));
    }
  }
  if (std::atoll(got["id"].c_str()) <= max_id) {
    return InternalError(
        fmt::format("the new table got id {} but the restored catalog already uses ids up to {}",
                    got["id"], max_id));
  }
  if (got["in view"] != got["in table"]) {
    return InternalError(
        fmt::format("typed_by_l counts {} rows, typed has {}", got["in view"], got["in table"]));
  }
  RWMETA_ASSIGN_OR_RETURN(std::string dave,
                          Sql(port, "SELECT current_user", "dev", "dave", "d-pw"));
  if (dave != "dave\n") return InternalError("dave cannot log in: " + dave);
  return Status::Ok();
}

}  // namespace rwmeta::e2e
