// The server SQL backends (PostgresMetaStore on PostgreSQL 15, MysqlMetaStore on MariaDB) against
// real servers, each started once for the binary: the conformance suite, then what only a server
// backend has (credentials, reachability, foreign schemas, conflicts between concurrent
// transactions, snapshots, paging), written once as TEST_P over both servers; what only one server
// does (its own error phrases, its own isolation, its URL parameters) follows in suites
// instantiated for that server alone.
//
// Test names start with the server ("Postgres/...", "Mysql/..."): CTest runs each server's cases as
// its own test (metastore_server_test_postgres, _mysql) by that prefix. A missing server is a
// visible skip (a failure with RWMETA_REQUIRE_SERVERS=1), never a pass.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>

#include "common/testing/status_matchers.h"
#include "metastore/endpoint.h"
#include "metastore/factory.h"
#include "metastore/meta_store_conformance.h"
#include "metastore/mysql/mysql_meta_store.h"
#include "metastore/postgres/postgres_meta_store.h"
#include "testing/mysql_server.h"
#include "testing/postgres_server.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::MysqlServer;
using ::rwmeta::testing::PostgresServer;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Starts `Server` in the background when the binary starts, if a selected test of the suites
// named `prefix`... needs it (in parallel with the other server); tests wait for it in Get().
template <typename Server>
class ServerEnvironment : public ::testing::Environment {
 public:
  explicit ServerEnvironment(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    if (!Selected()) return;  // the test filter left out every test that needs this server
    starting_ = std::async(std::launch::async, [] { return Server::Start(); });
  }
  void TearDown() override {
    // Takes the server out of the future even if no test asked for it, and stops it here.
    Get();
    server_.reset();
  }

  // The server, or nullptr (with why() set) if it could not be started.
  Server* Get() {
    std::call_once(once_, [&] {
      if (!starting_.valid()) {
        why_ = "not started: no selected test needed it";
        return;
      }
      Result<std::unique_ptr<Server>> started = starting_.get();
      if (started.ok()) {
        server_ = std::move(*started);
      } else {
        why_ = started.status().ToString();
      }
    });
    return server_.get();
  }
  const std::string& why() const { return why_; }

 private:
  // Whether a test suite of this server (Postgres/SqlMetaStoreServerTest,
  // Postgres/MetaStoreConformanceTest, ...) has a test to run.
  bool Selected() const {
    const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
    for (int i = 0; i < unit->total_test_suite_count(); ++i) {
      const ::testing::TestSuite* suite = unit->GetTestSuite(i);
      if (std::string_view(suite->name()).starts_with(prefix_) && suite->test_to_run_count() > 0) {
        return true;
      }
    }
    return false;
  }

  const std::string prefix_;
  std::future<Result<std::unique_ptr<Server>>> starting_;
  std::once_flag once_;
  std::unique_ptr<Server> server_;
  std::string why_;
};

auto* const postgres_env = static_cast<ServerEnvironment<PostgresServer>*>(
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment<PostgresServer>("Postgres")));
auto* const mysql_env = static_cast<ServerEnvironment<MysqlServer>*>(
    ::testing::AddGlobalTestEnvironment(new ServerEnvironment<MysqlServer>("Mysql")));

// One server and what its cases expect of it: the seam of the parametrized tests.
class SqlServer {
 public:
  virtual ~SqlServer() = default;

  // "postgres", "mysql": the URL scheme and MetaStore::backend().
  virtual std::string name() const = 0;
  // Why the server is missing, for the skip.
  virtual std::string Why() const = 0;
  // False if the server could not be started.
  virtual bool Available() const = 0;

  virtual int port() const = 0;
  virtual const std::string& user() const = 0;
  virtual Result<std::string> CreateDatabase() const = 0;
  virtual Status CreateUser(const std::string& name, const std::string& password) const = 0;
  virtual std::string Url(const std::string& db) const = 0;
  virtual std::string Url(const std::string& db, const std::string& user,
                          const std::string& password) const = 0;
  // Runs `sql` as the administrator in `db` ("" for none), returning the client's output.
  virtual Result<std::string> Exec(const std::string& db, const std::string& sql) const = 0;

  // Opens the backend's store on `url` (connect_timeout_ms 0: the default).
  virtual Result<std::unique_ptr<MetaStore>> Open(const std::string& url, const Model& model,
                                                  int connect_timeout_ms = 0) const = 0;

  // The names of the tables in `db`, comma-separated, as the administrator sees them.
  virtual std::string Tables(const std::string& db) const = 0;
  // What Tables() says for none.
  virtual std::string NoTables() const = 0;
  // The number of tables in `db`, as the client prints it.
  virtual Result<std::string> CountTables(const std::string& db) const = 0;
  // Ends every session of our user on `db`; returns how many there were.
  virtual Result<int> KillSessions(const std::string& db) const = 0;
  // Creates the table `accounts` (id int key, name text) with one row, owned by user().
  virtual std::string ForeignTableSql() const = 0;

  // The server's (or client's) own words for a wrong password, a refused connection and text that
  // is not UTF-8.
  virtual std::string WrongPasswordPhrase() const = 0;
  virtual std::string RefusedPhrase() const = 0;
  virtual std::string NotUtf8Phrase() const = 0;
  // The shortest connect timeout the client takes.
  virtual int ShortestConnectTimeoutMs() const = 0;
  // Whether text may hold NUL characters (valid UTF-8, but PostgreSQL refuses them).
  virtual bool TextHoldsNul() const = 0;
};

// What PostgresServer and MysqlServer have in common, forwarded.
template <typename Server>
class SqlServerOn : public SqlServer {
 public:
  explicit SqlServerOn(ServerEnvironment<Server>* env) : env_(env) {}

  bool Available() const override { return env_->Get() != nullptr; }
  int port() const override { return s().port(); }
  const std::string& user() const override { return s().user(); }
  Result<std::string> CreateDatabase() const override { return s().CreateDatabase(); }
  Status CreateUser(const std::string& name, const std::string& password) const override {
    return s().CreateUser(name, password);
  }
  std::string Url(const std::string& db) const override { return s().Url(db); }
  std::string Url(const std::string& db, const std::string& user,
                  const std::string& password) const override {
    return s().Url(db, user, password);
  }
  Result<std::string> Exec(const std::string& db, const std::string& sql) const override {
    return s().Exec(db, sql);
  }

 protected:
  // REQUIRES: Available().
  Server& s() const { return *env_->Get(); }

 private:
  ServerEnvironment<Server>* env_;
};

class PostgresSqlServer final : public SqlServerOn<PostgresServer> {
 public:
  PostgresSqlServer() : SqlServerOn(postgres_env) {}
  std::string name() const override { return "postgres"; }
  std::string Why() const override { return "PostgreSQL not available: " + postgres_env->why(); }
  Result<std::unique_ptr<MetaStore>> Open(const std::string& url, const Model& model,
                                          int connect_timeout_ms) const override {
    PostgresOptions options;
    if (connect_timeout_ms > 0) options.connect_timeout_ms = connect_timeout_ms;
    RWMETA_ASSIGN_OR_RETURN(auto store, PostgresMetaStore::Open(url, model, options));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  std::string Tables(const std::string& db) const override {
    Result<std::string> out =
        s().Exec(db,
                 "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                 "schemaname = 'public'");
    return out.ok() ? *out : out.status().ToString();
  }
  std::string NoTables() const override { return "\n"; }
  Result<std::string> CountTables(const std::string& db) const override {
    return s().Exec(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  }
  Result<int> KillSessions(const std::string& db) const override {
    RWMETA_ASSIGN_OR_RETURN(std::string killed,
                            s().Exec(db,
                                     "SELECT count(pg_terminate_backend(pid)) FROM "
                                     "pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()"));
    return std::atoi(killed.c_str());
  }
  std::string ForeignTableSql() const override {
    return "CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts VALUES "
           "(1, 'a'); ALTER TABLE accounts OWNER TO rwmeta";
  }
  std::string WrongPasswordPhrase() const override { return "password authentication failed"; }
  std::string RefusedPhrase() const override { return "Connection refused"; }
  std::string NotUtf8Phrase() const override { return "invalid byte sequence"; }
  // libpq's connect_timeout is whole seconds, at least 2.
  int ShortestConnectTimeoutMs() const override { return 2000; }
  bool TextHoldsNul() const override { return false; }
};

class MysqlSqlServer final : public SqlServerOn<MysqlServer> {
 public:
  MysqlSqlServer() : SqlServerOn(mysql_env) {}
  std::string name() const override { return "mysql"; }
  std::string Why() const override { return "MariaDB not available: " + mysql_env->why(); }
  Result<std::unique_ptr<MetaStore>> Open(const std::string& url, const Model& model,
                                          int connect_timeout_ms) const override {
    MysqlOptions options;
    if (connect_timeout_ms > 0) options.connect_timeout_ms = connect_timeout_ms;
    RWMETA_ASSIGN_OR_RETURN(auto store, MysqlMetaStore::Open(url, model, options));
    return std::unique_ptr<MetaStore>(std::move(store));
  }
  // "NULL" for none.
  std::string Tables(const std::string& db) const override {
    Result<std::string> out = s().Exec(
        "",
        "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = '" +
            db + "'");
    return out.ok() ? *out : out.status().ToString();
  }
  std::string NoTables() const override { return "NULL\n"; }
  Result<std::string> CountTables(const std::string& db) const override {
    return s().Exec(
        "", "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '" + db + "'");
  }
  Result<int> KillSessions(const std::string& db) const override {
    RWMETA_ASSIGN_OR_RETURN(std::string ids,
                            s().Exec("",
                                     "SELECT id FROM information_schema.processlist WHERE "
                                     "db = '" +
                                         db + "' AND user = 'rwmeta'"));
    int killed = 0;
    for (size_t pos = 0, end; (end = ids.find('\n', pos)) != std::string::npos; pos = end + 1) {
      RWMETA_RETURN_IF_ERROR(s().Exec("", "KILL " + ids.substr(pos, end - pos)).status());
      ++killed;
    }
    return killed;
  }
  std::string ForeignTableSql() const override {
    return "CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts VALUES "
           "(1, 'a')";
  }
  std::string WrongPasswordPhrase() const override { return "Access denied for user 'rwmeta'"; }
  std::string RefusedPhrase() const override { return "Can't connect"; }
  std::string NotUtf8Phrase() const override { return "Incorrect string value"; }
  int ShortestConnectTimeoutMs() const override { return 1000; }
  bool TextHoldsNul() const override { return true; }
};

const PostgresSqlServer kPostgres;
const MysqlSqlServer kMysql;

std::string ServerName(const ::testing::TestParamInfo<const SqlServer*>& info) {
  return info.param->name();
}

// --- the conformance suite ------------------------------------------------------------------

class SqlLocation : public MetaStoreLocation {
 public:
  SqlLocation(const SqlServer* server, std::string url) : server_(server), url_(std::move(url)) {}
  Result<std::unique_ptr<MetaStore>> Open(const Model& model) override {
    return server_->Open(url_, model);
  }

 private:
  const SqlServer* server_;
  std::string url_;
};

std::unique_ptr<MetaStoreLocation> NewLocation(const SqlServer* server) {
  if (!server->Available()) return nullptr;
  Result<std::string> db = server->CreateDatabase();
  if (!db.ok()) return nullptr;
  return std::make_unique<SqlLocation>(server, server->Url(*db));
}

INSTANTIATE_TEST_SUITE_P(Postgres, MetaStoreConformanceTest,
                         ::testing::Values(MetaStoreBackend{
                             "postgres", [] { return NewLocation(&kPostgres); }}),
                         MetaStoreBackendName);
INSTANTIATE_TEST_SUITE_P(Mysql, MetaStoreConformanceTest,
                         ::testing::Values(MetaStoreBackend{"mysql",
                                                            [] { return NewLocation(&kMysql); }}),
                         MetaStoreBackendName);

// --- what both servers do -------------------------------------------------------------------

class SqlMetaStoreServerTest : public ::testing::TestWithParam<const SqlServer*> {
 protected:
  void SetUp() override {
    server_ = GetParam();
    if (!server_->Available()) RWMETA_SKIP_OR_FAIL(server_->Why());
    ASSERT_OK_AND_ASSIGN(db_, server_->CreateDatabase());
  }

  Result<std::unique_ptr<MetaStore>> OpenStore(const Model& model = Model::Get()) {
    return server_->Open(server_->Url(db_), model);
  }
  std::string Tables() { return server_->Tables(db_); }

  const SqlServer* server_ = nullptr;
  std::string db_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, SqlMetaStoreServerTest, ::testing::Values(&kPostgres),
                         ServerName);
INSTANTIATE_TEST_SUITE_P(Mysql, SqlMetaStoreServerTest, ::testing::Values(&kMysql), ServerName);

const Model& M() { return Model::Get(); }

Row Param(std::string name, std::string value) {
  return Row{std::move(name), std::move(value), true, std::monostate{}};
}

TEST_P(SqlMetaStoreServerTest, WrongCredentialsAreUnauthenticatedAndCreateNothing) {
  const std::string url = server_->Url(db_, server_->user(), "not-the-password-42");
  EXPECT_THAT(server_->Open(url, M()),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr(server_->WrongPasswordPhrase()), HasSubstr(":***@127.0.0.1"),
                             Not(HasSubstr("not-the-password-42")))));
  EXPECT_THAT(OpenMetaStore(server_->Url(db_, "nobody-here", "pw")),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(Tables(), server_->NoTables());
}

TEST_P(SqlMetaStoreServerTest, UnreachableServerIsUnavailablePromptly) {
  const int port = rwmeta::testing::PickFreePort();  // nothing listens there
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(
      server_->Open(fmt::format("{}://u:secret@127.0.0.1:{}/meta", server_->name(), port), M()),
      StatusIs(StatusCode::kUnavailable,
               AllOf(HasSubstr(server_->RefusedPhrase()), Not(HasSubstr("secret")))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_P(SqlMetaStoreServerTest, DatabaseHoldingAnotherSchemaIsRefused) {
  ASSERT_OK(server_->Exec(db_, server_->ForeignTableSql()).status());
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore());
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, 0);
  EXPECT_FALSE(state.empty);
  EXPECT_THAT(store->Migrate(),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("no rwmeta schema"), HasSubstr("accounts"))));
  EXPECT_THAT(store->BeginTransaction(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(Tables(), "accounts\n");
  // Empty tables of another application are refused too: they are not ours to build on.
  ASSERT_OK(server_->Exec(db_, "DELETE FROM accounts").status());
  ASSERT_OK_AND_ASSIGN(state, store->Inspect());
  EXPECT_TRUE(state.empty);
  EXPECT_THAT(store->Migrate(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("accounts")));
}

// "1\n2\n...": one migration row per model version, as psql/mysql print them.
std::string EveryModelVersion() {
  std::string out;
  for (int v = 1; v <= kModelVersion; ++v) out += std::to_string(v) + "\n";
  return out;
}

TEST_P(SqlMetaStoreServerTest, MigrateCreatesTheModelAndRecordsIt) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore(server_->Url(db_)));
  EXPECT_EQ(store->backend(), server_->name());
  EXPECT_EQ(store->DisplayUrl(),
            fmt::format("{}://rwmeta:***@127.0.0.1:{}/{}", server_->name(), server_->port(), db_));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(std::string count, server_->CountTables(db_));
  EXPECT_EQ(count, std::to_string(M().tables().size() + 1) + "\n");
  ASSERT_OK_AND_ASSIGN(
      std::string recorded,
      server_->Exec(db_, "SELECT version FROM rwmeta_migrations ORDER BY version"));
  EXPECT_EQ(recorded, EveryModelVersion());
}

// Two threads read the same sequence row, then both write it: one loses (PostgreSQL: a
// serialization failure; InnoDB: a deadlock, one rolled back), RunTransaction redoes it, and both
// increments land.
TEST_P(SqlMetaStoreServerTest, ConcurrentConflictingTransactionsRetryThroughRunTransaction) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore());
  ASSERT_OK(store->Migrate());
  std::mutex mu;
  std::condition_variable cv;
  int read_first_time = 0;
  int attempts[2] = {0, 0};
  int64_t ids[2] = {0, 0};
  Status results[2];
  auto worker = [&](int i) {
    results[i] = RunTransaction(*store, [&](Transaction& t) -> Status {
      ++attempts[i];
      RWMETA_ASSIGN_OR_RETURN(auto row,
                              t.Get(M().Table("id_sequence"), Key{std::string("object")}));
      if (attempts[i] == 1) {
        // Both read before either writes (bounded: a bug must not hang the suite).
        std::unique_lock<std::mutex> lock(mu);
        ++read_first_time;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return read_first_time == 2; });
      }
      RWMETA_ASSIGN_OR_RETURN(ids[i], NextId(t, "object"));
      return Status::Ok();
    });
  };
  std::thread a(worker, 0);
  std::thread b(worker, 1);
  a.join();
  b.join();
  ASSERT_OK(results[0]);
  ASSERT_OK(results[1]);
  EXPECT_EQ(attempts[0] + attempts[1], 3);
  EXPECT_THAT((std::vector<int64_t>{std::min(ids[0], ids[1]), std::max(ids[0], ids[1])}),
              ElementsAre(1, 2));
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto seq, view->Get(M().Table("id_sequence"), Key{std::string("object")}));
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ((*seq)[1], Value{int64_t{3}});
}

TEST_P(SqlMetaStoreServerTest, SnapshotIsTakenAtBeginAndDoesNotBlockWriters) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore());
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  const TableSchema& workers = M().Table("worker");
  ASSERT_OK(
      RunTransaction(*store, [&](Transaction& t) { return t.Insert(params, Param("a", "0")); }));
  ASSERT_OK_AND_ASSIGN(auto snapshot, store->BeginSnapshotRead());
  // Committed while the snapshot is open, to rows and a table it has not read yet.
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) -> Status {
    RWMETA_RETURN_IF_ERROR(t.Update(params, Param("a", "1")));
    return t.Insert(params, Param("b", "1"));
  }));
  ASSERT_OK_AND_ASSIGN(int64_t n, snapshot->Count(params));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(auto a, snapshot->Get(params, Key{std::string("a")}));
  EXPECT_EQ(a, Param("a", "0"));
  ASSERT_OK_AND_ASSIGN(int64_t w, snapshot->Count(workers));
  EXPECT_EQ(w, 0);
  EXPECT_THAT(dynamic_cast<Transaction*>(snapshot.get())->Insert(params, Param("c", "1")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("read-only")));
}

// Idle pooled connections that the server ends (restart, idle timeout, a killed session) are
// replaced, not reported: the next transaction, snapshot, Inspect and Migrate work.
TEST_P(SqlMetaStoreServerTest, IdleConnectionsEndedByTheServerAreReplaced) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore());
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  {
    // Two connections into the pool.
    ASSERT_OK_AND_ASSIGN(auto a, store->BeginSnapshotRead());
    ASSERT_OK_AND_ASSIGN(auto b, store->BeginSnapshotRead());
  }
  ASSERT_OK_AND_ASSIGN(int killed, server_->KillSessions(db_));
  EXPECT_EQ(killed, 2);
  ASSERT_OK(
      RunTransaction(*store, [&](Transaction& t) { return t.Insert(params, Param("a", "1")); }));
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_FALSE(state.empty);
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto a, view->Get(params, Key{std::string("a")}));
  EXPECT_EQ(a, Param("a", "1"));
}

// A server that accepts connections but never answers (hung, or a proxy with nothing behind it)
// is Unavailable after the connect timeout, not a hang.
TEST_P(SqlMetaStoreServerTest, SilentServerIsUnavailableAfterTheConnectTimeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(fd, 8), 0);  // the kernel accepts; nobody ever reads or writes
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(server_->Open(fmt::format("{}://u:secret@127.0.0.1:{}/meta", server_->name(),
                                        ntohs(addr.sin_port)),
                            M(), server_->ShortestConnectTimeoutMs()),
              StatusIs(StatusCode::kUnavailable, Not(HasSubstr("secret"))));
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(10));
}

// Two meta nodes starting at once on a fresh database: both Migrate calls succeed and the schema
// is created once.
TEST_P(SqlMetaStoreServerTest, ConcurrentMigratesTakeTurns) {
  ASSERT_OK_AND_ASSIGN(auto a, OpenStore());
  ASSERT_OK_AND_ASSIGN(auto b, OpenStore());
  Status results[2];
  std::thread ta([&] { results[0] = a->Migrate(); });
  std::thread tb([&] { results[1] = b->Migrate(); });
  ta.join();
  tb.join();
  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  ASSERT_OK_AND_ASSIGN(
      std::string recorded,
      server_->Exec(db_, "SELECT version FROM rwmeta_migrations ORDER BY version"));
  EXPECT_EQ(recorded, EveryModelVersion());
}

// Text holds valid UTF-8: anything else is refused as the caller's error, and the transaction goes
// on. A NUL character is valid UTF-8: MySQL stores it, PostgreSQL refuses it.
TEST_P(SqlMetaStoreServerTest, TextThatIsNotUtf8IsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore());
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  EXPECT_THAT(txn->Insert(params, Param("bad", "\xff\xfe")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(server_->NotUtf8Phrase())));
  const Row nul = Param("nul", std::string("a\0b", 3));
  if (server_->TextHoldsNul()) {
    ASSERT_OK(txn->Insert(params, nul));
  } else {
    EXPECT_THAT(txn->Insert(params, nul),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("0x00")));
  }
  ASSERT_OK(txn->Insert(params, Param("ok", "\xe2\x9c\x93")));
  ASSERT_OK(txn->Commit());
  txn.reset();
  if (server_->TextHoldsNul()) {
    ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
    ASSERT_OK_AND_ASSIGN(auto got, view->Get(params, Key{std::string("nul")}));
    EXPECT_EQ(got, nul);
  }
}

// A model with a composite key (int, text), to page a scan through many pages.
const Model& PagedModel() {
  static const Model* const kModel = new Model(
      1, {{"pairs",
           {{"a", ColumnType::kInt64}, {"b", ColumnType::kText}, {"v", ColumnType::kBytes}},
           {"a", "b"},
           {},
           {}}});
  return *kModel;
}

TEST_P(SqlMetaStoreServerTest, ScanPagesThroughManyRowsInKeyOrderWithNestedReads) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenStore(PagedModel()));
  ASSERT_OK(store->Migrate());
  const TableSchema& pairs = PagedModel().Table("pairs");
  constexpr int kRows = 700;  // several pages
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) -> Status {
    // Inserted in reverse order: the scan must sort.
    for (int i = kRows - 1; i >= 0; --i) {
      RWMETA_RETURN_IF_ERROR(t.Insert(pairs, Row{int64_t{i / 10}, std::to_string(i % 10),
                                                 std::string(1, static_cast<char>(i))}));
    }
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  int seen = 0;
  ASSERT_OK(view->Scan(pairs, [&](const Row& r) -> Status {
    const Row want{int64_t{seen / 10}, std::to_string(seen % 10),
                   std::string(1, static_cast<char>(seen))};
    if (r != want) return InternalError(fmt::format("row {} out of order", seen));
    if (seen % 100 == 0) {
      RWMETA_ASSIGN_OR_RETURN(auto same, view->Get(pairs, KeyOf(pairs, r)));
      if (same != r) return InternalError("nested get disagrees");
    }
    ++seen;
    return Status::Ok();
  }));
  EXPECT_EQ(seen, kRows);
}

// --- what only PostgreSQL does --------------------------------------------------------------

class PostgresMetaStoreTest : public SqlMetaStoreServerTest {};
INSTANTIATE_TEST_SUITE_P(Postgres, PostgresMetaStoreTest, ::testing::Values(&kPostgres),
                         ServerName);

TEST_P(PostgresMetaStoreTest, MissingDatabaseIsNotFound) {
  EXPECT_THAT(PostgresMetaStore::Open(server_->Url("no_such_db")),
              StatusIs(StatusCode::kNotFound, HasSubstr("\"no_such_db\" does not exist")));
}

TEST_P(PostgresMetaStoreTest, UserWithoutCreatePrivilegeIsPermissionDenied) {
  ASSERT_OK(server_->CreateUser("reader_" + db_, "reader-pw"));
  ASSERT_OK_AND_ASSIGN(auto store,
                       PostgresMetaStore::Open(server_->Url(db_, "reader_" + db_, "reader-pw")));
  EXPECT_THAT(store->Migrate(),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("permission denied")));
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, 0);
  EXPECT_EQ(Tables(), "\n");
}

TEST_P(PostgresMetaStoreTest, ConflictingWriteIsAbortedAndDoomsTheTransaction) {
  ASSERT_OK_AND_ASSIGN(auto store, PostgresMetaStore::Open(server_->Url(db_)));
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(
      RunTransaction(*store, [&](Transaction& t) { return t.Insert(params, Param("a", "0")); }));
  ASSERT_OK_AND_ASSIGN(auto late, store->BeginTransaction());
  ASSERT_OK_AND_ASSIGN(auto seen, late->Get(params, Key{std::string("a")}));  // takes its snapshot
  ASSERT_OK(
      RunTransaction(*store, [&](Transaction& t) { return t.Update(params, Param("a", "1")); }));
  EXPECT_THAT(late->Update(params, Param("a", "2")),
              StatusIs(StatusCode::kAborted, HasSubstr("could not serialize")));
  EXPECT_THAT(late->Get(params, Key{std::string("a")}), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(late->Commit(), StatusIs(StatusCode::kAborted));
  late.reset();
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto now, view->Get(params, Key{std::string("a")}));
  EXPECT_EQ(now, Param("a", "1"));
}

// The RisingWave-style flags (--backend postgres with host, user, password, database and URL
// parameters) reach the server intact, whatever characters the credentials hold.
TEST_P(PostgresMetaStoreTest, SeparateFlagsWithSpecialCharactersConnect) {
  const std::string user = "ops@" + db_;
  const std::string password = "p@ss:w/rd?%&#'";
  ASSERT_OK(server_->CreateUser(user, password));
  ASSERT_OK(server_->Exec(db_, "GRANT CREATE ON SCHEMA public TO \"" + user + "\"").status());
  MetaStoreEndpoint endpoint;
  endpoint.type = "postgres";
  endpoint.sql_endpoint = "127.0.0.1:" + std::to_string(server_->port());
  endpoint.sql_username = user;
  endpoint.sql_password = password;
  endpoint.sql_database = db_;
  endpoint.sql_url_params = "sslmode=disable&application_name=rwmeta-flags-test";
  ASSERT_OK_AND_ASSIGN(std::string url, BuildMetaStoreUrl(endpoint));
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore(url));
  EXPECT_THAT(store->DisplayUrl(), AllOf(HasSubstr("***"), Not(HasSubstr("w/rd"))));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(std::string apps,
                       server_->Exec(db_,
                                     "SELECT DISTINCT usename || ' ' || application_name "
                                     "FROM pg_stat_activity WHERE application_name = "
                                     "'rwmeta-flags-test'"));
  EXPECT_EQ(apps, user + " rwmeta-flags-test\n");
  // A libpq keyword that does not exist is the URL's fault.
  endpoint.sql_url_params = "no_such_keyword=1";
  ASSERT_OK_AND_ASSIGN(url, BuildMetaStoreUrl(endpoint));
  EXPECT_THAT(OpenMetaStore(url),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no_such_keyword")));
}

// --- what only MySQL / MariaDB does ---------------------------------------------------------

class MysqlMetaStoreTest : public SqlMetaStoreServerTest {};
INSTANTIATE_TEST_SUITE_P(Mysql, MysqlMetaStoreTest, ::testing::Values(&kMysql), ServerName);

TEST_P(MysqlMetaStoreTest, UserWithoutPrivilegesIsPermissionDenied) {
  ASSERT_OK(server_->CreateUser("reader_" + db_, "reader-pw"));
  EXPECT_THAT(MysqlMetaStore::Open(server_->Url(db_, "reader_" + db_, "reader-pw")),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("Access denied")));
  EXPECT_EQ(Tables(), "NULL\n");
}

TEST_P(MysqlMetaStoreTest, OverlongKeyIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  EXPECT_THAT(txn->Insert(params, Param(std::string(256, 'k'), "v")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Data too long")));
  // A refused write changes nothing and the transaction goes on.
  ASSERT_OK(txn->Insert(params, Param(std::string(255, 'k'), "v")));
  ASSERT_OK(txn->Commit());
}

// A writer waiting longer than the lock wait timeout for a row another transaction has read is
// Aborted, and its transaction is over.
TEST_P(MysqlMetaStoreTest, LockWaitTimeoutIsAbortedAndDoomsTheTransaction) {
  MysqlOptions options;
  options.lock_wait_timeout_s = 1;
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_), M(), options));
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(
      RunTransaction(*store, [&](Transaction& t) { return t.Insert(params, Param("a", "0")); }));
  ASSERT_OK_AND_ASSIGN(auto reader, store->BeginTransaction());
  ASSERT_OK_AND_ASSIGN(auto seen, reader->Get(params, Key{std::string("a")}));  // shared lock
  EXPECT_EQ(seen, Param("a", "0"));
  ASSERT_OK_AND_ASSIGN(auto writer, store->BeginTransaction());
  EXPECT_THAT(writer->Update(params, Param("a", "2")),
              StatusIs(StatusCode::kAborted, HasSubstr("Lock wait timeout")));
  EXPECT_THAT(writer->Get(params, Key{std::string("a")}),
              StatusIs(StatusCode::kAborted, HasSubstr("failed earlier")));
  EXPECT_THAT(writer->Commit(), StatusIs(StatusCode::kAborted));
  writer.reset();
  ASSERT_OK(reader->Update(params, Param("a", "1")));
  ASSERT_OK(reader->Commit());
  reader.reset();
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto now, view->Get(params, Key{std::string("a")}));
  EXPECT_EQ(now, Param("a", "1"));
}

// The RisingWave-style flags (--backend mysql with host, user, password and database) reach the
// server intact, whatever characters the credentials hold.
TEST_P(MysqlMetaStoreTest, SeparateFlagsWithSpecialCharactersConnect) {
  const std::string user = "ops@" + db_;
  const std::string password = "p@ss:w/rd?%&#'\\";
  ASSERT_OK(server_->CreateUser(user, password));
  ASSERT_OK(server_->Exec("", "GRANT ALL ON `" + db_ + "`.* TO '" + user + "'@'%'").status());
  MetaStoreEndpoint endpoint;
  endpoint.type = "mysql";
  endpoint.sql_endpoint = "127.0.0.1:" + std::to_string(server_->port());
  endpoint.sql_username = user;
  endpoint.sql_password = password;
  endpoint.sql_database = db_;
  ASSERT_OK_AND_ASSIGN(std::string url, BuildMetaStoreUrl(endpoint));
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore(url));
  EXPECT_THAT(store->DisplayUrl(), AllOf(HasSubstr("***"), Not(HasSubstr("w/rd"))));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  endpoint.sql_url_params = "connect_timeout=0";
  ASSERT_OK_AND_ASSIGN(url, BuildMetaStoreUrl(endpoint));
  EXPECT_THAT(OpenMetaStore(url),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("connect_timeout must be")));
}

}  // namespace
}  // namespace rwmeta::metastore
