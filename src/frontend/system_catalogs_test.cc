// SELECTs over the system catalogs and views, driven through FrontendSession as a client would.
#include "frontend/system_catalogs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "common/testing/status_matchers.h"
#include "frontend/session.h"
#include "frontend/sql/parser.h"
#include "frontend/sql/testing/psql_queries.h"
#include "frontend/testing/session_test_util.h"
#include "meta/test_store.h"

namespace rwmeta::frontend {
namespace {

using ::rwmeta::testing::StatusIs;
using test_util::Rows;
using test_util::RowsOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SystemCatalogsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_OK(test_util::BootstrapForTest(store_));
    ASSERT_OK_AND_ASSIGN(test_util::Managers managers, test_util::OpenManagers(store_));
    catalog_ = std::move(managers.catalog);
    params_ = std::move(managers.params);
    factory_ = std::make_unique<FrontendSessionFactory>(*catalog_, *params_);
    ASSERT_OK_AND_ASSIGN(session_, factory_->OpenSession("root", "dev", {}));
  }

  Result<pgwire::ResultSet> Run(std::string_view sql) { return test_util::RunOne(*session_, sql); }

  void Exec(std::string_view sql) {
    auto r = Run(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }

  Rows Query(std::string_view sql) {
    auto r = Run(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    if (!r.ok()) return {};
    EXPECT_EQ(r->command_tag, "SELECT " + std::to_string(r->rows.size()));
    return RowsOf(*r);
  }

  // Runs a SELECT over the catalogs as a session described by `info` would.
  Result<Rows> QueryWith(const CatalogSessionInfo& info, const std::string& sql,
                         std::vector<std::string>* names = nullptr) {
    RWMETA_ASSIGN_OR_RETURN(auto parsed, sql::ParseSql(sql));
    std::vector<std::optional<std::string>> none;
    CatalogQueryContext ctx(catalog_->Snapshot(), info, none);
    RWMETA_ASSIGN_OR_RETURN(sql::QueryResult result,
                            sql::ExecuteSelect(parsed.at(0).node["SelectStmt"], ctx));
    if (names != nullptr) {
      for (const auto& c : result.columns) names->push_back(c.name);
    }
    Rows out;
    for (const auto& row : result.rows) {
      std::vector<std::string> cells;
      for (size_t i = 0; i < row.size(); ++i) {
        cells.push_back(sql::DatumToText(row[i], result.columns[i].type).value_or("NULL"));
      }
      out.push_back(std::move(cells));
    }
    return out;
  }

  std::string Id(const std::string& table) {
    auto snap = catalog_->Snapshot();
    const auto* pub = snap->FindSchema(snap->FindDatabase("dev")->id, "public");
    const auto* t = snap->FindTable(pub->id, table);
    if (t) return std::to_string(t->id);
    const auto* v = snap->FindView(pub->id, table);
    return v ? std::to_string(v->id) : "?";
  }

  meta::testing::TestStore store_{GetParam()};
  std::unique_ptr<meta::CatalogManager> catalog_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<FrontendSessionFactory> factory_;
  std::unique_ptr<pgwire::Session> session_;
};

TEST_P(SystemCatalogsTest, RwCatalogRelations) {
  Exec("CREATE TABLE t (a int PRIMARY KEY, b varchar)");
  Exec("CREATE USER bob");
  EXPECT_EQ(Query("SELECT name, definition, append_only FROM rw_catalog.rw_tables"),
            (Rows{{"t", "CREATE TABLE t (a int PRIMARY KEY, b varchar)", "f"}}));
  // One-part names find rw_catalog through the implicit search path.
  EXPECT_EQ(Query("SELECT name FROM rw_tables"), (Rows{{"t"}}));
  EXPECT_EQ(Query("SELECT name, is_super, create_db, can_login FROM rw_users ORDER BY name"),
            (Rows{{"bob", "f", "f", "t"}, {"root", "t", "t", "t"}}));
  EXPECT_EQ(Query("SELECT name FROM rw_databases"), (Rows{{"dev"}}));
  EXPECT_EQ(Query("SELECT name FROM rw_schemas ORDER BY name"),
            (Rows{{"information_schema"}, {"pg_catalog"}, {"public"}, {"rw_catalog"}}));
  EXPECT_EQ(
      Query("SELECT name, position, is_primary_key, data_type FROM rw_columns ORDER BY position"),
      (Rows{{"a", "1", "t", "integer"}, {"b", "2", "f", "character varying"}}));
  Exec("CREATE SECRET s WITH (backend = 'meta') AS 'hunter2'");
  EXPECT_EQ(Query("SELECT name FROM rw_secrets"), (Rows{{"s"}}));
  EXPECT_EQ(Query("SELECT value FROM rw_system_parameters WHERE name = 'barrier_interval_ms'"),
            (Rows{{"1000"}}));
}

TEST_P(SystemCatalogsTest, ViewsExpandAndRecordDependencies) {
  Exec("CREATE TABLE t (a int, b varchar)");
  auto r = Run("CREATE VIEW v AS SELECT a FROM t");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->command_tag, "CREATE VIEW");
  EXPECT_EQ(Query("SELECT name, definition FROM rw_views"), (Rows{{"v", "SELECT a FROM t"}}));
  // The table has no rows yet (no state store): the view reads as empty, with its columns.
  ASSERT_OK_AND_ASSIGN(auto sel, Run("SELECT * FROM v"));
  EXPECT_EQ(sel.command_tag, "SELECT 0");
  ASSERT_EQ(sel.fields.size(), 1u);
  EXPECT_EQ(sel.fields[0].name, "a");
  Exec("CREATE VIEW v2 (x) AS SELECT a FROM v");
  EXPECT_EQ(Query("SELECT column_name FROM information_schema.columns WHERE table_name = 'v2'"),
            (Rows{{"x"}}));

  auto drop = Run("DROP TABLE t");
  EXPECT_THAT(drop, StatusIs(StatusCode::kFailedPrecondition,
                             "cannot drop table t because other objects depend on it"));
  EXPECT_EQ(drop.status().sqlstate(), "2BP01");
  ASSERT_OK_AND_ASSIGN(auto cascade, Run("DROP TABLE t CASCADE"));
  EXPECT_EQ(cascade.command_tag, "DROP TABLE");
  EXPECT_EQ(cascade.notices.size(), 2u);
  EXPECT_EQ(Query("SELECT name FROM rw_views"), Rows{});

  auto missing = Run("CREATE VIEW w AS SELECT * FROM nope");
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound, "relation \"nope\" does not exist"));
  EXPECT_EQ(missing.status().sqlstate(), "42P01");
  auto drop_view = Run("DROP VIEW nope");
  EXPECT_EQ(drop_view.status().sqlstate(), "42P01");
}

TEST_P(SystemCatalogsTest, PgCatalogForPsql) {
  Exec("CREATE TABLE t (a int NOT NULL, b varchar)");
  Exec("CREATE VIEW v AS SELECT a FROM t");
  Exec("CREATE SCHEMA s");
  Exec("CREATE TABLE s.hidden (a int)");
  // \dt, simplified to what the executor runs today.
  EXPECT_EQ(Query("SELECT n.nspname, c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner) "
                  "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n "
                  "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v') "
                  "AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1, 2"),
            (Rows{{"public", "t", "r", "root"}, {"public", "v", "v", "root"}}));
  // \dn
  EXPECT_EQ(Query("SELECT n.nspname AS \"Name\", pg_catalog.pg_get_userbyid(n.nspowner) AS "
                  "\"Owner\" FROM pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' AND "
                  "n.nspname <> 'information_schema' ORDER BY 1"),
            (Rows{{"public", "root"}, {"rw_catalog", "root"}, {"s", "root"}}));
  // \l
  EXPECT_EQ(Query("SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba) FROM "
                  "pg_catalog.pg_database d ORDER BY 1"),
            (Rows{{"dev", "root"}}));
  // \du
  EXPECT_EQ(Query("SELECT r.rolname, r.rolsuper, r.rolcanlogin FROM pg_catalog.pg_roles r "
                  "WHERE r.rolname !~ '^pg_' ORDER BY 1"),
            (Rows{{"root", "t", "t"}}));
  // \d t: the columns.
  EXPECT_EQ(Query("SELECT a.attname, a.attnotnull, a.attnum FROM pg_catalog.pg_attribute a "
                  "WHERE a.attrelid = " +
                  Id("t") +
                  " AND a.attnum > 0 AND NOT a.attisdropped "
                  "ORDER BY a.attnum"),
            (Rows{{"a", "t", "1"}, {"b", "f", "2"}}));
  EXPECT_EQ(
      Query("SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "ORDER BY 1, 2"),
      (Rows{
          {"public", "t", "BASE TABLE"}, {"public", "v", "VIEW"}, {"s", "hidden", "BASE TABLE"}}));
  EXPECT_EQ(Query("SELECT schema_name FROM information_schema.schemata WHERE schema_name = 's'"),
            (Rows{{"s"}}));
  EXPECT_EQ(Query("SELECT typname FROM pg_type WHERE oid = 23"), (Rows{{"int4"}}));
  EXPECT_EQ(Query("SELECT amname FROM pg_am ORDER BY oid"), (Rows{{"heap"}, {"btree"}}));
  EXPECT_EQ(Query("SELECT count(*) FROM pg_index"), (Rows{{"0"}}));
}

TEST_P(SystemCatalogsTest, ResolutionErrorsAndSearchPath) {
  auto r = Run("SELECT * FROM nope");
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound, "relation \"nope\" does not exist"));
  EXPECT_EQ(r.status().sqlstate(), "42P01");
  r = Run("SELECT * FROM nosuch.t");
  EXPECT_EQ(r.status().sqlstate(), "3F000");
  r = Run("SELECT * FROM otherdb.public.t");
  EXPECT_EQ(r.status().sqlstate(), "0A000");
  Exec("CREATE SCHEMA s");
  Exec("CREATE TABLE s.t (a int)");
  EXPECT_EQ(Run("SELECT * FROM t").status().sqlstate(), "42P01");
  Exec("SET search_path = s");
  ASSERT_OK_AND_ASSIGN(auto sel, Run("SELECT a FROM t"));
  EXPECT_EQ(sel.command_tag, "SELECT 0");
  EXPECT_EQ(Query("SELECT relname FROM pg_class WHERE pg_table_is_visible(oid)"), (Rows{{"t"}}));
  ASSERT_OK_AND_ASSIGN(auto three, Run("SELECT a FROM dev.s.t"));
  EXPECT_EQ(three.command_tag, "SELECT 0");
}

// The queries psql 15 sends for \dt, \dn, \l and \d (src/bin/psql/describe.c), verbatim.
TEST_P(SystemCatalogsTest, PsqlDescribeQueriesVerbatim) {
  Exec("CREATE TABLE t (a int NOT NULL, b varchar)");
  EXPECT_EQ(Query(sql::psql_queries::kPsqlListTables), (Rows{{"public", "t", "table", "root"}}));
  EXPECT_EQ(Query(sql::psql_queries::kPsqlListSchemas),
            (Rows{{"public", "root"}, {"rw_catalog", "root"}}));
  EXPECT_EQ(Query(R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;)"),
            (Rows{{Id("t"), "public", "t"}}));
  EXPECT_EQ(Query(R"(SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ')" +
                  Id("t") + R"(' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;)"),
            (Rows{{"a", "integer", "NULL", "t", "NULL", "", ""},
                  {"b", "character varying", "NULL", "f", "NULL", "", ""}}));
  EXPECT_EQ(Query(sql::psql_queries::kPsqlListDatabases),
            (Rows{{"dev", "root", "UTF8", "C", "C", "NULL", "libc", "NULL"}}));
}

TEST_P(SystemCatalogsTest, PreparedSelectWithParameter) {
  Exec("CREATE TABLE t (a int)");
  Exec("CREATE TABLE u (a int)");
  const char* sql = "SELECT name FROM rw_catalog.rw_tables WHERE name = $1";
  ASSERT_OK_AND_ASSIGN(auto info, session_->Prepare(sql, {}));
  EXPECT_TRUE(info.returns_rows);
  EXPECT_THAT(info.param_type_oids, ElementsAre(pgwire::kVarcharOid));
  ASSERT_EQ(info.fields.size(), 1u);
  EXPECT_EQ(info.fields[0].name, "name");
  ASSERT_OK_AND_ASSIGN(auto r, session_->ExecutePrepared(sql, {}, {std::string("u")}));
  EXPECT_EQ(r.command_tag, "SELECT 1");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(*r.rows[0][0], "u");
}

TEST_P(SystemCatalogsTest, PsqlDuQueryVerbatim) {
  EXPECT_EQ(Query(sql::psql_queries::kPsqlListRoles),
            (Rows{{"root", "t", "t", "t", "t", "t", "-1", "NULL", "{}", "f", "f"}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, SystemCatalogsTest,
                         ::testing::ValuesIn(meta::testing::kTestBackends));

TEST_P(SystemCatalogsTest, RwMetaSnapshotShowsTheManifestInOrder) {
  // One day after our epoch base (2021-01-01), in epoch units (ms << 16).
  const uint64_t day = 86'400'000ull << 16;
  backup::Manifest manifest;
  manifest.manifest_id = 3;
  backup::SnapshotMetadata second;
  second.id = 7;
  second.hummock_version_id = 42;
  second.format_version = 1;
  second.remarks = "before upgrade";
  // An entry of the old layout (details inline) and one of the new (details from the object).
  second.inline_details = backup::SnapshotDetails{{}, {{1001, {day, 2}}, {1002, {day - 65536, 2}}}};
  second.rw_version = "rwmeta 0.1.0";
  second.max_committed_epoch = day;
  second.safe_epoch = day - 65536;
  second.size_bytes = 1234;
  second.created_at_ms = 1'700'000'000'000;
  backup::SnapshotMetadata first;
  first.id = 2;
  first.hummock_version_id = 0;
  first.format_version = 1;
  first.created_at_ms = 1'600'000'000'000;
  first.scheduled = true;
  first.drill = backup::DrillResult{
      .at_ms = 1'600'000'060'000, .duration_ms = 12, .passed = false, .message = "broken"};
  manifest.snapshots = {second, first};  // manifest order, not id order
  CatalogSessionInfo info;
  info.user = "root";
  info.database = "dev";
  info.search_path = {"$user", "public"};
  info.meta_snapshots = [&]() -> Result<backup::Manifest> { return manifest; };
  info.meta_snapshot_details = [](const backup::SnapshotMetadata& entry)
      -> Result<std::shared_ptr<const backup::SnapshotDetails>> {
    if (entry.inline_details) {
      return std::make_shared<const backup::SnapshotDetails>(*entry.inline_details);
    }
    return std::make_shared<const backup::SnapshotDetails>();
  };

  std::vector<std::string> names;
  ASSERT_OK_AND_ASSIGN(Rows rows,
                       QueryWith(info, "SELECT * FROM rw_catalog.rw_meta_snapshot", &names));
  EXPECT_THAT(names,
              ElementsAre("meta_snapshot_id", "hummock_version_id", "safe_epoch", "safe_epoch_ts",
                          "max_committed_epoch", "max_committed_epoch_ts", "remarks",
                          "state_table_info", "rw_version", "size", "created_at", "format_version",
                          "scheduled", "drilled_at", "drill_passed", "drill_message"));
  EXPECT_EQ(rows,
            (Rows{{"7", "42", "5662310334464", "2021-01-01 23:59:59.999", "5662310400000",
                   "2021-01-02 00:00:00", "before upgrade",
                   R"({"1001": {"committedEpoch": "5662310400000", "compactionGroupId": "2"}, )"
                   R"("1002": {"committedEpoch": "5662310334464", "compactionGroupId": "2"}})",
                   "rwmeta 0.1.0", "1234", "2023-11-14 22:13:20", "1", "f", "NULL", "NULL", "NULL"},
                  {"2", "0", "0", "NULL", "0", "NULL", "NULL", "{}", "NULL", "0",
                   "2020-09-13 12:26:40", "1", "t", "2020-09-13 12:27:40", "f", "broken"}}));
  // The JSON operators RisingWave's tests use on it.
  ASSERT_OK_AND_ASSIGN(
      rows, QueryWith(info,
                      "SELECT meta_snapshot_id, state_table_info->'1002'->>'committedEpoch', "
                      "state_table_info->'1001'->>'compactionGroupId' FROM rw_meta_snapshot "
                      "WHERE state_table_info->'1001' IS NOT NULL"));
  EXPECT_EQ(rows, (Rows{{"7", "5662310334464", "2"}}));

  // A snapshot whose details cannot be read fails the query with its error.
  info.meta_snapshot_details = [](const backup::SnapshotMetadata& entry)
      -> Result<std::shared_ptr<const backup::SnapshotDetails>> {
    return DataLossError("snapshot " + std::to_string(entry.id) + ": its object is missing");
  };
  EXPECT_THAT(QueryWith(info, "SELECT count(*) FROM rw_meta_snapshot"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("snapshot 7: its object is missing")));

  // The manifest's error is the query's.
  info.meta_snapshots = []() -> Result<backup::Manifest> {
    return UnavailableError("backup location fs:///gone, directory backup: connection refused");
  };
  EXPECT_THAT(QueryWith(info, "SELECT count(*) FROM rw_meta_snapshot"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("fs:///gone")));
  // A session without a backup manager.
  info.meta_snapshots = nullptr;
  auto none = QueryWith(info, "SELECT * FROM rw_meta_snapshot");
  EXPECT_THAT(none, StatusIs(StatusCode::kUnimplemented, HasSubstr("no backup manager")));
  EXPECT_EQ(none.status().sqlstate(), "0A000");
}

TEST(EpochToUnixMicrosTest, MatchesTheClockThroughNextEpoch) {
  EXPECT_EQ(EpochToUnixMicros(0), std::nullopt);
  auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto us = EpochToUnixMicros(hummock::NextEpoch(0));
  auto after = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  ASSERT_TRUE(us.has_value());
  // Epochs have millisecond resolution.
  EXPECT_GE(*us, before - 1000);
  EXPECT_LE(*us, after);
}

}  // namespace
}  // namespace rwmeta::frontend
