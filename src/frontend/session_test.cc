#include "frontend/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "frontend/testing/session_test_util.h"
#include "meta/test_store.h"

namespace rwmeta::frontend {
namespace {

using ::rwmeta::testing::StatusIs;
using test_util::Rows;
using test_util::RowsOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> FieldNames(const pgwire::ResultSet& r) {
  std::vector<std::string> out;
  for (const auto& f : r.fields) out.push_back(f.name);
  return out;
}

class SessionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_OK(test_util::BootstrapForTest(
        store_, "hummock+minio://hummockadmin:hummockadmin@127.0.0.1:9301/hummock001"));
    Start();
    ASSERT_OK_AND_ASSIGN(root_, factory_->OpenSession("root", "dev", {}));
  }

  // (Re)creates the managers and the factory over the same store, as a restart does.
  void Start() {
    factory_.reset();
    ASSERT_OK_AND_ASSIGN(test_util::Managers managers, test_util::OpenManagers(store_));
    catalog_ = std::move(managers.catalog);
    params_ = std::move(managers.params);
    factory_ = std::make_unique<FrontendSessionFactory>(*catalog_, *params_);
  }

  Result<pgwire::ResultSet> Run(pgwire::Session& s, std::string_view sql) {
    return test_util::RunOne(s, sql);
  }
  Result<pgwire::ResultSet> Run(std::string_view sql) { return Run(*root_, sql); }
  Rows Ok(pgwire::Session& s, std::string_view sql, const std::string& tag) {
    return test_util::ExpectOk(s, sql, tag);
  }
  Rows Ok(std::string_view sql, const std::string& tag) { return Ok(*root_, sql, tag); }
  void Fails(pgwire::Session& s, std::string_view sql, StatusCode code, const std::string& state,
             const std::string& message) {
    test_util::ExpectFails(s, sql, code, state, message);
  }
  void Fails(std::string_view sql, StatusCode code, const std::string& state,
             const std::string& message) {
    Fails(*root_, sql, code, state, message);
  }

  meta::testing::TestStore store_{GetParam()};
  std::unique_ptr<meta::CatalogManager> catalog_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<FrontendSessionFactory> factory_;
  std::unique_ptr<pgwire::Session> root_;
};

TEST_P(SessionTest, AuthenticateAndOpen) {
  ASSERT_OK_AND_ASSIGN(auto req, factory_->Authenticate("root", "dev"));
  EXPECT_FALSE(req.password_required);
  auto unknown = factory_->Authenticate("nobody", "dev");
  EXPECT_THAT(unknown, StatusIs(StatusCode::kUnauthenticated, "role \"nobody\" does not exist"));
  EXPECT_EQ(unknown.status().sqlstate(), "28000");

  Ok("CREATE USER alice WITH PASSWORD 'pw'", "CREATE ROLE");
  ASSERT_OK_AND_ASSIGN(req, factory_->Authenticate("alice", "dev"));
  EXPECT_TRUE(req.password_required);
  EXPECT_EQ(req.md5_verifier, meta::Md5Verifier("pw", "alice"));
  Ok("CREATE USER nologin WITH NOLOGIN", "CREATE ROLE");
  EXPECT_THAT(
      factory_->Authenticate("nologin", "dev"),
      StatusIs(StatusCode::kUnauthenticated, "role \"nologin\" is not permitted to log in"));

  auto no_db = factory_->OpenSession("root", "nodb", {});
  EXPECT_THAT(no_db, StatusIs(StatusCode::kNotFound, "database \"nodb\" does not exist"));
  EXPECT_EQ(no_db.status().sqlstate(), "3D000");

  ASSERT_OK_AND_ASSIGN(
      auto s, factory_->OpenSession("alice", "dev",
                                    {{"application_name", "psql"}, {"no_such_option", "x"}}));
  auto statuses = s->ParameterStatuses();
  std::map<std::string, std::string> m(statuses.begin(), statuses.end());
  EXPECT_EQ(m["application_name"], "psql");
  EXPECT_EQ(m["is_superuser"], "off");
  EXPECT_EQ(m["session_authorization"], "alice");
  EXPECT_EQ(m["server_version"], "13.14.0");
  EXPECT_EQ(m["client_encoding"], "UTF8");
  auto root_statuses = root_->ParameterStatuses();
  EXPECT_THAT(root_statuses,
              ::testing::Contains(std::pair<std::string, std::string>("is_superuser", "on")));
}

TEST_P(SessionTest, DatabasesAndSchemas) {
  Ok("CREATE DATABASE db2", "CREATE DATABASE");
  Fails("CREATE DATABASE db2", StatusCode::kAlreadyExists, "42P04",
        "database \"db2\" already exists");
  EXPECT_EQ(Ok("SHOW DATABASES", "SHOW"), (Rows{{"db2"}, {"dev"}}));
  Fails("DROP DATABASE dev", StatusCode::kFailedPrecondition, "55006",
        "cannot drop the currently open database");
  Ok("DROP DATABASE db2", "DROP DATABASE");
  Fails("DROP DATABASE db2", StatusCode::kNotFound, "3D000", "database \"db2\" does not exist");
  auto r = Run("DROP DATABASE IF EXISTS db2");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->notices, ElementsAre("database \"db2\" does not exist, skipping"));

  Ok("CREATE SCHEMA s1", "CREATE SCHEMA");
  Fails("CREATE SCHEMA s1", StatusCode::kAlreadyExists, "42P06", "schema \"s1\" already exists");
  r = Run("CREATE SCHEMA IF NOT EXISTS s1");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->command_tag, "CREATE SCHEMA");
  EXPECT_THAT(r->notices, ElementsAre("schema \"s1\" already exists, skipping"));
  EXPECT_EQ(Ok("SHOW SCHEMAS", "SHOW"),
            (Rows{{"information_schema"}, {"pg_catalog"}, {"public"}, {"rw_catalog"}, {"s1"}}));
  Ok("CREATE TABLE s1.t (a int)", "CREATE TABLE");
  Fails("DROP SCHEMA s1", StatusCode::kFailedPrecondition, "2BP01",
        "cannot drop schema s1 because other objects depend on it");
  Ok("DROP SCHEMA s1 CASCADE", "DROP SCHEMA");
  Fails("DROP SCHEMA s1", StatusCode::kNotFound, "3F000", "schema \"s1\" does not exist");
  Ok("DROP SCHEMA IF EXISTS s1", "DROP SCHEMA");

  // A database holding a table needs WITH (FORCE), which drops everything in it.
  Ok("CREATE DATABASE db3", "CREATE DATABASE");
  ASSERT_OK_AND_ASSIGN(auto in_db3, factory_->OpenSession("root", "db3", {}));
  Ok(*in_db3, "CREATE TABLE t (a int)", "CREATE TABLE");
  Fails("DROP DATABASE db3", StatusCode::kFailedPrecondition, "2BP01",
        "cannot drop database db3 because other objects depend on it");
  Ok("DROP DATABASE db3 WITH (FORCE)", "DROP DATABASE");
  EXPECT_EQ(Ok("SHOW DATABASES", "SHOW"), (Rows{{"dev"}}));
}

TEST_P(SessionTest, TablesAndShowTables) {
  Ok("CREATE TABLE t (a int PRIMARY KEY, b varchar(20) NOT NULL, c double precision)",
     "CREATE TABLE");
  Fails("CREATE TABLE t (x int)", StatusCode::kAlreadyExists, "42P07",
        "relation \"t\" already exists");
  auto r = Run("CREATE TABLE IF NOT EXISTS t (x int)");
  ASSERT_OK(r.status());
  EXPECT_THAT(r->notices, ElementsAre("relation \"t\" already exists, skipping"));
  Ok("CREATE TABLE t2 (a int, b bigint, PRIMARY KEY (b, a)) WITH (appendonly = true)",
     "CREATE TABLE");
  Fails("CREATE TABLE t3 (a int, a int)", StatusCode::kInvalidArgument, "42701",
        "column \"a\" specified more than once");
  Fails("CREATE TABLE t3 (a nosuchtype)", StatusCode::kInvalidArgument, "42704", "nosuchtype");
  Fails("CREATE TABLE t3 (a int, PRIMARY KEY (z))", StatusCode::kInvalidArgument, "42703",
        "column \"z\" named in key does not exist");
  Fails("CREATE TABLE nosuch.t3 (a int)", StatusCode::kNotFound, "3F000",
        "schema \"nosuch\" does not exist");
  Fails("CREATE TABLE pg_catalog.t3 (a int)", StatusCode::kPermissionDenied, "42501",
        "permission denied to create \"pg_catalog.t3\"");

  auto snap = catalog_->Snapshot();
  const meta::SchemaInfo* pub = snap->FindSchema(snap->FindDatabase("dev")->id, "public");
  const meta::TableInfo* t2 = snap->FindTable(pub->id, "t2");
  ASSERT_NE(t2, nullptr);
  EXPECT_THAT(t2->pk, ElementsAre(1, 0));
  EXPECT_TRUE(t2->append_only);
  EXPECT_FALSE(t2->columns[0].nullable);
  const meta::TableInfo* t = snap->FindTable(pub->id, "t");
  EXPECT_EQ(t->columns[1].type, "character varying");
  EXPECT_FALSE(t->columns[1].nullable);
  EXPECT_TRUE(t->columns[2].nullable);
  EXPECT_EQ(t->definition,
            "CREATE TABLE t (a int PRIMARY KEY, b varchar(20) NOT NULL, c double precision)");

  EXPECT_EQ(Ok("SHOW TABLES", "SHOW"), (Rows{{"t"}, {"t2"}}));
  Ok("CREATE SCHEMA s", "CREATE SCHEMA");
  Ok("CREATE TABLE s.x (a int)", "CREATE TABLE");
  EXPECT_EQ(Ok("SHOW TABLES FROM s", "SHOW"), (Rows{{"x"}}));
  Fails("SHOW TABLES FROM nope", StatusCode::kNotFound, "3F000", "schema \"nope\" does not exist");

  Ok("DROP TABLE t, t2", "DROP TABLE");
  Fails("DROP TABLE t", StatusCode::kNotFound, "42P01", "table \"t\" does not exist");
  r = Run("DROP TABLE IF EXISTS t");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->command_tag, "DROP TABLE");
  EXPECT_THAT(r->notices, ElementsAre("table \"t\" does not exist, skipping"));
  Ok("DROP TABLE s.x", "DROP TABLE");
  EXPECT_EQ(Ok("SHOW TABLES", "SHOW"), Rows{});
}

TEST_P(SessionTest, SearchPathDecidesWhereObjectsGo) {
  Ok("CREATE SCHEMA s", "CREATE SCHEMA");
  Ok("SET search_path = s, public", "SET");
  EXPECT_EQ(Ok("SHOW search_path", "SHOW"), (Rows{{"s, public"}}));
  Ok("CREATE TABLE t (a int)", "CREATE TABLE");
  EXPECT_EQ(Ok("SHOW TABLES FROM s", "SHOW"), (Rows{{"t"}}));
  EXPECT_EQ(Ok("SHOW TABLES FROM public", "SHOW"), Rows{});
  // DROP finds it through the search path too.
  Ok("DROP TABLE t", "DROP TABLE");
  EXPECT_EQ(Ok("SHOW TABLES FROM s", "SHOW"), Rows{});
  Ok("SET search_path = nosuch", "SET");
  Fails("CREATE TABLE t (a int)", StatusCode::kNotFound, "3F000",
        "no schema has been selected to create in");
  Ok("SET search_path TO DEFAULT", "SET");
  EXPECT_EQ(Ok("SHOW search_path", "SHOW"), (Rows{{"\"$user\", public"}}));
}

TEST_P(SessionTest, UsersGrantsAndPermissions) {
  Ok("CREATE USER bob WITH PASSWORD 'pw'", "CREATE ROLE");
  Fails("CREATE USER bob", StatusCode::kAlreadyExists, "42710", "user \"bob\" already exists");
  ASSERT_OK_AND_ASSIGN(auto bob, factory_->OpenSession("bob", "dev", {}));
  Fails(*bob, "CREATE USER carol", StatusCode::kPermissionDenied, "42501",
        "permission denied to create user");
  Fails(*bob, "CREATE DATABASE bobdb", StatusCode::kPermissionDenied, "42501",
        "permission denied to create database");
  Fails(*bob, "CREATE TABLE t (a int)", StatusCode::kPermissionDenied, "42501",
        "permission denied for schema public");
  Fails(*bob, "ALTER SYSTEM SET barrier_interval_ms = 2000", StatusCode::kPermissionDenied, "42501",
        "must be superuser to execute ALTER SYSTEM command");
  // The session is still usable after each error.
  EXPECT_EQ(Ok(*bob, "SHOW barrier_interval_ms", "SHOW"), (Rows{{"1000"}}));

  Ok("GRANT CREATE ON SCHEMA public TO bob", "GRANT");
  Ok(*bob, "CREATE TABLE bt (a int)", "CREATE TABLE");
  Ok("CREATE TABLE rt (a int)", "CREATE TABLE");
  Fails(*bob, "DROP TABLE rt", StatusCode::kPermissionDenied, "42501", "must be owner of table rt");
  Ok("GRANT SELECT, INSERT ON TABLE rt TO bob WITH GRANT OPTION", "GRANT");
  Ok("REVOKE INSERT ON rt FROM bob", "REVOKE");
  auto snap = catalog_->Snapshot();
  int64_t bob_id = snap->FindUser("bob")->id;
  int64_t rt_id =
      snap->FindTable(snap->FindSchema(snap->FindDatabase("dev")->id, "public")->id, "rt")->id;
  EXPECT_TRUE(snap->HasPrivilege(bob_id, rt_id, "SELECT"));
  EXPECT_FALSE(snap->HasPrivilege(bob_id, rt_id, "INSERT"));
  Ok("GRANT ALL ON DATABASE dev TO bob", "GRANT");
  Fails("GRANT SELECT ON nope TO bob", StatusCode::kNotFound, "42P01",
        "relation \"nope\" does not exist");
  Fails("GRANT SELECT ON rt TO nobody", StatusCode::kNotFound, "42704",
        "user \"nobody\" does not exist");

  Ok("ALTER USER bob WITH SUPERUSER", "ALTER ROLE");
  Ok(*bob, "ALTER SYSTEM SET barrier_interval_ms = 2000", "ALTER SYSTEM");
  Ok(*bob, "ALTER USER bob WITH NOSUPERUSER PASSWORD 'new'", "ALTER ROLE");
  EXPECT_EQ(*catalog_->Snapshot()->FindUser("bob")->auth_value, meta::Md5Verifier("new", "bob"));
  Fails("ALTER USER nobody WITH PASSWORD 'x'", StatusCode::kNotFound, "42704",
        "user \"nobody\" does not exist");

  Fails("DROP USER bob", StatusCode::kFailedPrecondition, "2BP01",
        "user \"bob\" cannot be dropped because some objects depend on it");
  Ok(*bob, "DROP TABLE bt", "DROP TABLE");
  Ok("REVOKE ALL ON DATABASE dev FROM bob", "REVOKE");
  Ok("DROP USER bob", "DROP ROLE");
  Fails("DROP USER bob", StatusCode::kNotFound, "42704", "user \"bob\" does not exist");
  Ok("DROP USER IF EXISTS bob", "DROP ROLE");
}

TEST_P(SessionTest, Secrets) {
  Ok("CREATE SECRET s WITH (backend = 'meta') AS 'hunter2'", "CREATE SECRET");
  Fails("CREATE SECRET s WITH (backend = 'meta') AS 'x'", StatusCode::kAlreadyExists, "42710",
        "secret \"s\" already exists");
  Ok("CREATE SECRET IF NOT EXISTS s WITH (backend = 'meta') AS 'x'", "CREATE SECRET");
  auto snap = catalog_->Snapshot();
  ASSERT_EQ(snap->secrets.size(), 1u);
  EXPECT_EQ(snap->secrets.begin()->value, "hunter2");
  Ok("DROP SECRET s", "DROP SECRET");
  Fails("DROP SECRET s", StatusCode::kNotFound, "42704", "secret \"s\" does not exist");
  Ok("DROP SECRET IF EXISTS s", "DROP SECRET");
}

TEST_P(SessionTest, AlterSystemAndShowParameters) {
  Ok("ALTER SYSTEM SET barrier_interval_ms = 2000", "ALTER SYSTEM");
  EXPECT_EQ(Ok("SHOW barrier_interval_ms", "SHOW"), (Rows{{"2000"}}));
  Ok("ALTER SYSTEM SET checkpoint_frequency TO 5", "ALTER SYSTEM");
  Ok("ALTER SYSTEM SET checkpoint_frequency TO DEFAULT", "ALTER SYSTEM");
  EXPECT_EQ(Ok("SHOW checkpoint_frequency", "SHOW"), (Rows{{"1"}}));
  Ok("ALTER SYSTEM SET backup_storage_url = 's3://backup_bucket'", "ALTER SYSTEM");
  Ok("ALTER SYSTEM SET backup_storage_directory TO 'backup_data'", "ALTER SYSTEM");
  Ok("ALTER SYSTEM SET enable_tracing = true", "ALTER SYSTEM");
  Ok("ALTER SYSTEM SET time_travel_retention_ms = 1200000", "ALTER SYSTEM");
  EXPECT_EQ(*params_->Get("enable_tracing"), "true");

  Fails("ALTER SYSTEM SET state_store = 'hummock+memory'", StatusCode::kFailedPrecondition, "55P02",
        "cannot change immutable parameter \"state_store\"");
  Fails("ALTER SYSTEM SET bloom_false_positive = 0.01", StatusCode::kFailedPrecondition, "55P02",
        "cannot change immutable parameter \"bloom_false_positive\"");
  Fails("ALTER SYSTEM SET nope = 1", StatusCode::kInvalidArgument, "42704",
        "unrecognized configuration parameter \"nope\"");
  Fails("ALTER SYSTEM SET barrier_interval_ms = 'soon'", StatusCode::kInvalidArgument, "22023",
        "is not a u32");
  Fails("ALTER SYSTEM SET backup_storage_url = ''", StatusCode::kInvalidArgument, "22023",
        "backup_storage_url cannot be empty");
  Fails("ALTER SYSTEM SET backup_storage_url TO DEFAULT", StatusCode::kInvalidArgument, "22023",
        "does not have a default value");

  ASSERT_OK_AND_ASSIGN(auto r, Run("SHOW PARAMETERS"));
  EXPECT_EQ(r.command_tag, "SHOW");
  EXPECT_TRUE(r.returns_rows);
  EXPECT_THAT(FieldNames(r), ElementsAre("Name", "Value", "Description", "Mutable"));
  EXPECT_EQ(r.fields[3].type_oid, pgwire::kBoolOid);
  Rows rows = RowsOf(r);
  ASSERT_EQ(rows.size(), meta::AllParamDefs().size());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"barrier_interval_ms", "2000",
                                               "The interval of periodic barrier.", "t"}));
  std::map<std::string, std::vector<std::string>> by_name;
  for (const auto& row : rows) by_name[row[0]] = row;
  EXPECT_EQ(by_name["state_store"][1],
            "hummock+minio://hummockadmin:***@127.0.0.1:9301/hummock001");
  EXPECT_EQ(by_name["state_store"][3], "f");
  EXPECT_EQ(by_name["backup_storage_url"][1], "s3://backup_bucket");
  EXPECT_EQ(by_name["backup_storage_directory"][1], "backup_data");
  EXPECT_EQ(by_name["data_directory"][1], "hummock_001");
  EXPECT_EQ(by_name["time_travel_retention_ms"][1], "1200000");
  EXPECT_EQ(by_name["bloom_false_positive"][1], "0.001");
  EXPECT_EQ(Ok("SHOW state_store", "SHOW"),
            (Rows{{"hummock+minio://hummockadmin:***@127.0.0.1:9301/hummock001"}}));
}

TEST_P(SessionTest, SessionVariables) {
  EXPECT_EQ(Ok("SHOW application_name", "SHOW"), (Rows{{""}}));
  Ok("SET application_name = 'myapp'", "SET");
  EXPECT_EQ(Ok("SHOW application_name", "SHOW"), (Rows{{"myapp"}}));
  ASSERT_OK_AND_ASSIGN(auto r, Run("SHOW DateStyle"));
  EXPECT_THAT(FieldNames(r), ElementsAre("datestyle"));
  EXPECT_EQ(RowsOf(r), (Rows{{"ISO, MDY"}}));
  Ok("SET TIME ZONE 'Europe/Paris'", "SET");
  EXPECT_EQ(Ok("SHOW timezone", "SHOW"), (Rows{{"Europe/Paris"}}));
  Ok("SET extra_float_digits = 3", "SET");
  Ok("SET rw_implicit_flush = true", "SET");
  Ok("SET QUERY_EPOCH = 12345", "SET");
  EXPECT_EQ(Ok("SHOW query_epoch", "SHOW"), (Rows{{"12345"}}));
  Ok("SET client_encoding = 'UTF8'", "SET");
  Fails("SET query_epoch = 'abc'", StatusCode::kInvalidArgument, "22023",
        "invalid value for parameter \"query_epoch\"");
  Fails("SET client_encoding = 'LATIN1'", StatusCode::kInvalidArgument, "22023", "client_encoding");
  Fails("SET nope = 1", StatusCode::kInvalidArgument, "42704",
        "unrecognized configuration parameter \"nope\"");
  Fails("SET server_version = '1'", StatusCode::kFailedPrecondition, "55P02",
        "parameter \"server_version\" cannot be changed");
  Fails("SHOW nope", StatusCode::kInvalidArgument, "42704",
        "unrecognized configuration parameter \"nope\"");
  EXPECT_EQ(Ok("SHOW is_superuser", "SHOW"), (Rows{{"on"}}));
  Ok("RESET application_name", "RESET");
  EXPECT_EQ(Ok("SHOW application_name", "SHOW"), (Rows{{""}}));
  Ok("SET application_name = 'again'", "SET");
  Ok("DISCARD ALL", "DISCARD ALL");
  EXPECT_EQ(Ok("SHOW application_name", "SHOW"), (Rows{{""}}));
  EXPECT_EQ(Ok("SHOW query_epoch", "SHOW"), (Rows{{"0"}}));
  ASSERT_OK_AND_ASSIGN(r, Run("SHOW ALL"));
  EXPECT_THAT(FieldNames(r), ElementsAre("Name", "Setting", "Description"));
  EXPECT_GE(r.rows.size(), 8u);
}

TEST_P(SessionTest, TransactionBlocksTrackStatus) {
  EXPECT_EQ(root_->TransactionStatus(), 'I');
  Ok("BEGIN", "BEGIN");
  EXPECT_EQ(root_->TransactionStatus(), 'T');
  ASSERT_OK_AND_ASSIGN(auto again, Run("START TRANSACTION"));
  EXPECT_EQ(again.command_tag, "START TRANSACTION");
  EXPECT_THAT(again.notices, ElementsAre("there is already a transaction in progress"));
  Ok("CREATE SCHEMA s", "CREATE SCHEMA");
  Ok("COMMIT", "COMMIT");
  EXPECT_EQ(root_->TransactionStatus(), 'I');
  ASSERT_OK_AND_ASSIGN(auto none, Run("ROLLBACK"));
  EXPECT_THAT(none.notices, ElementsAre("there is no transaction in progress"));

  // An error inside a block fails every statement until the block ends.
  Ok("BEGIN", "BEGIN");
  Fails("CREATE SCHEMA s", StatusCode::kAlreadyExists, "42P06", "already exists");
  EXPECT_EQ(root_->TransactionStatus(), 'E');
  Fails("SHOW TABLES", StatusCode::kFailedPrecondition, "25P02",
        "current transaction is aborted, commands ignored until end of transaction block");
  Ok("COMMIT", "ROLLBACK");
  EXPECT_EQ(root_->TransactionStatus(), 'I');
  Ok("SHOW TABLES", "SHOW");
  Ok("BEGIN", "BEGIN");
  Fails("SELEC 1", StatusCode::kInvalidArgument, "42601", "syntax error");
  EXPECT_EQ(root_->TransactionStatus(), 'E');
  Ok("ROLLBACK", "ROLLBACK");
  Ok("BEGIN", "BEGIN");
  Fails("DISCARD ALL", StatusCode::kFailedPrecondition, "25001",
        "DISCARD ALL cannot run inside a transaction block");
  Ok("ROLLBACK", "ROLLBACK");
}

TEST_P(SessionTest, UnsupportedStatements) {
  Ok("CREATE TABLE t (a int)", "CREATE TABLE");
  // This session has no state store (table data is tested in table_data_test.cc and end to end).
  Fails("INSERT INTO t VALUES (1)", StatusCode::kUnimplemented, "0A000",
        "INSERT needs the state store");
  Fails("UPDATE t SET a = 2", StatusCode::kUnimplemented, "0A000", "UPDATE needs the state store");
  Fails("DELETE FROM t", StatusCode::kUnimplemented, "0A000", "DELETE needs the state store");
  // Nor a backup manager (meta snapshots are tested in meta_snapshot_test.cc).
  Fails("BACKUP", StatusCode::kUnimplemented, "0A000",
        "BACKUP is not supported by this session: it was opened without the backup manager");
  Fails("FLUSH", StatusCode::kUnimplemented, "0A000", "FLUSH needs the state store");
  Fails("DELETE META SNAPSHOTS 1, 2", StatusCode::kUnimplemented, "0A000",
        "DELETE META SNAPSHOT is not supported by this session");
  Fails("SELECT * FROM rw_meta_snapshot", StatusCode::kUnimplemented, "0A000",
        "rw_meta_snapshot is not available: this session has no backup manager");
  Fails("CREATE UNIQUE INDEX i ON t (a)", StatusCode::kUnimplemented, "0A000",
        "UNIQUE and partial indexes are not supported");
  Fails("SELEC 1", StatusCode::kInvalidArgument, "42601", "syntax error");
  // Still fine after all of that.
  EXPECT_EQ(Ok("SHOW TABLES", "SHOW"), (Rows{{"t"}}));
}

TEST_P(SessionTest, MultiStatementStopsAtFirstError) {
  std::vector<pgwire::ResultSet> results;
  Status s = root_->ExecuteSimple("CREATE SCHEMA a; CREATE SCHEMA a; CREATE SCHEMA b", &results);
  EXPECT_THAT(s, StatusIs(StatusCode::kAlreadyExists, "schema \"a\" already exists"));
  EXPECT_EQ(s.sqlstate(), "42P06");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].command_tag, "CREATE SCHEMA");
  auto snap = catalog_->Snapshot();
  EXPECT_EQ(snap->FindSchema(snap->FindDatabase("dev")->id, "b"), nullptr);
  ASSERT_OK(root_->ExecuteSimple("", &results));
  EXPECT_TRUE(results.empty());
  ASSERT_OK(root_->ExecuteSimple("-- only a comment", &results));
  EXPECT_TRUE(results.empty());
}

TEST_P(SessionTest, RestartKeepsObjects) {
  Ok("CREATE DATABASE d2", "CREATE DATABASE");
  Ok("CREATE SCHEMA s", "CREATE SCHEMA");
  Ok("CREATE TABLE s.t (a int primary key)", "CREATE TABLE");
  Ok("CREATE USER u WITH PASSWORD 'p'", "CREATE ROLE");
  Ok("ALTER SYSTEM SET barrier_interval_ms = 3000", "ALTER SYSTEM");
  root_.reset();
  Start();
  ASSERT_OK_AND_ASSIGN(root_, factory_->OpenSession("root", "dev", {}));
  EXPECT_EQ(Ok("SHOW DATABASES", "SHOW"), (Rows{{"d2"}, {"dev"}}));
  EXPECT_EQ(Ok("SHOW TABLES FROM s", "SHOW"), (Rows{{"t"}}));
  EXPECT_EQ(Ok("SHOW barrier_interval_ms", "SHOW"), (Rows{{"3000"}}));
  ASSERT_OK_AND_ASSIGN(auto req, factory_->Authenticate("u", "dev"));
  EXPECT_EQ(req.md5_verifier, meta::Md5Verifier("p", "u"));
}

TEST_P(SessionTest, PrepareDescribesShow) {
  ASSERT_OK_AND_ASSIGN(auto info, root_->Prepare("SHOW PARAMETERS", {}));
  EXPECT_TRUE(info.returns_rows);
  ASSERT_EQ(info.fields.size(), 4u);
  EXPECT_EQ(info.fields[0].name, "Name");
  ASSERT_OK_AND_ASSIGN(info, root_->Prepare("CREATE SCHEMA p", {}));
  EXPECT_FALSE(info.returns_rows);
  EXPECT_THAT(root_->Prepare("SHOW TABLES; SHOW TABLES", {}),
              StatusIs(StatusCode::kInvalidArgument,
                       "cannot insert multiple commands into a prepared statement"));
  ASSERT_OK_AND_ASSIGN(auto r, root_->ExecutePrepared("CREATE SCHEMA p", {}, {}));
  EXPECT_EQ(r.command_tag, "CREATE SCHEMA");
}

class NameRecorder : public meta::ParamChangeListener {
 public:
  void OnParamChanged(const std::string& name, const meta::ParamValues&,
                      const meta::ParamValues& new_values, std::vector<std::string>*) override {
    changes.push_back(name + "=" + new_values.at(name));
  }
  std::vector<std::string> changes;
};

TEST_P(SessionTest, AlterSystemNotifiesListeners) {
  NameRecorder recorder;
  params_->AddListener(&recorder);
  Ok("ALTER SYSTEM SET backup_storage_directory = 'elsewhere'", "ALTER SYSTEM");
  Ok("ALTER SYSTEM SET backup_storage_directory = 'elsewhere'", "ALTER SYSTEM");  // unchanged
  Fails("ALTER SYSTEM SET backup_storage_directory = ''", StatusCode::kInvalidArgument, "22023",
        "backup_storage_directory cannot be empty");
  EXPECT_THAT(recorder.changes, ElementsAre("backup_storage_directory=elsewhere"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionTest, ::testing::ValuesIn(meta::testing::kTestBackends));

}  // namespace
}  // namespace rwmeta::frontend
