// MysqlMetaStore against a real MariaDB (started once for the binary): the conformance
// suite, then what only a server backend has (credentials, reachability, foreign schemas,
// conflicts between concurrent transactions, snapshots, paging).
#include "metastore/mysql/mysql_meta_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string_view>
#include <thread>

#include "common/testing/status_matchers.h"
#include "metastore/endpoint.h"
#include "metastore/factory.h"
#include "metastore/meta_store_conformance.h"
#include "testing/mysql_server.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::MysqlServer;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Starts the server in the background when the binary starts, if a selected test needs it (in
// parallel with the other environments' servers); tests wait for it in Server().
class MysqlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!Selected()) return;  // the test filter left out every test that needs this server
    starting_ = std::async(std::launch::async, [] { return MysqlServer::Start(); });
  }
  void TearDown() override {
    // Takes the server out of the future even if no test asked for it, and stops it here.
    Server();
    server_.reset();
  }

  // The server, or nullptr (with why() set) if it could not be started.
  MysqlServer* Server() {
    std::call_once(once_, [&] {
      if (!starting_.valid()) {
        why_ = "not started: no selected test needed it";
        return;
      }
      Result<std::unique_ptr<MysqlServer>> started = starting_.get();
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
  // Whether a test suite of this backend (MysqlMetaStoreTest, Mysql/MetaStoreConformanceTest) has
  // a test to run.
  static bool Selected() {
    const ::testing::UnitTest* unit = ::testing::UnitTest::GetInstance();
    for (int i = 0; i < unit->total_test_suite_count(); ++i) {
      const ::testing::TestSuite* suite = unit->GetTestSuite(i);
      if (std::string_view(suite->name()).starts_with("Mysql") && suite->test_to_run_count() > 0) {
        return true;
      }
    }
    return false;
  }

  std::future<Result<std::unique_ptr<MysqlServer>>> starting_;
  std::once_flag once_;
  std::unique_ptr<MysqlServer> server_;
  std::string why_;
};

MysqlEnvironment* const env =
    static_cast<MysqlEnvironment*>(::testing::AddGlobalTestEnvironment(new MysqlEnvironment()));

class MysqlLocation : public MetaStoreLocation {
 public:
  explicit MysqlLocation(std::string url) : url_(std::move(url)) {}
  Result<std::unique_ptr<MetaStore>> Open(const Model& model) override {
    RWMETA_ASSIGN_OR_RETURN(auto store, MysqlMetaStore::Open(url_, model));
    return std::unique_ptr<MetaStore>(std::move(store));
  }

 private:
  std::string url_;
};

std::unique_ptr<MetaStoreLocation> NewMysqlLocation() {
  MysqlServer* server = env->Server();
  if (server == nullptr) return nullptr;
  Result<std::string> db = server->CreateDatabase();
  if (!db.ok()) return nullptr;
  return std::make_unique<MysqlLocation>(server->Url(*db));
}

INSTANTIATE_TEST_SUITE_P(Mysql, MetaStoreConformanceTest,
                         ::testing::Values(MetaStoreBackend{"mysql", NewMysqlLocation}),
                         MetaStoreBackendName);

class MysqlMetaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = env->Server();
    if (server_ == nullptr) RWMETA_SKIP_OR_FAIL("MariaDB not available: " + env->why());
    ASSERT_OK_AND_ASSIGN(db_, server_->CreateDatabase());
  }

  // The names of the tables in `db_`, as root sees them ("NULL" for none).
  std::string Tables() {
    Result<std::string> out = server_->Exec(
        "",
        "SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables "
        "WHERE table_schema = '" +
            db_ + "'");
    return out.ok() ? *out : out.status().ToString();
  }

  MysqlServer* server_ = nullptr;
  std::string db_;
};

const Model& M() { return Model::Get(); }

Row Param(std::string name, std::string value) {
  return Row{std::move(name), std::move(value), true, std::monostate{}};
}

TEST_F(MysqlMetaStoreTest, WrongCredentialsAreUnauthenticatedAndCreateNothing) {
  const std::string url = server_->Url(db_, server_->user(), "not-the-password-42");
  EXPECT_THAT(MysqlMetaStore::Open(url),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("Access denied for user 'rwmeta'"),
                             HasSubstr(":***@127.0.0.1"), Not(HasSubstr("not-the-password-42")))));
  EXPECT_THAT(OpenMetaStore(server_->Url(db_, "nobody-here", "pw")),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(Tables(), "NULL\n");
}

TEST_F(MysqlMetaStoreTest, UnreachableServerIsUnavailablePromptly) {
  const int port = rwmeta::testing::PickFreePort();  // nothing listens there
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(MysqlMetaStore::Open("mysql://u:secret@127.0.0.1:" + std::to_string(port) + "/meta"),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("Can't connect"), Not(HasSubstr("secret")))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(MysqlMetaStoreTest, UserWithoutPrivilegesIsPermissionDenied) {
  ASSERT_OK(server_->CreateUser("reader_" + db_, "reader-pw"));
  EXPECT_THAT(MysqlMetaStore::Open(server_->Url(db_, "reader_" + db_, "reader-pw")),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("Access denied")));
  EXPECT_EQ(Tables(), "NULL\n");
}

TEST_F(MysqlMetaStoreTest, OverlongKeyIsInvalidArgument) {
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

TEST_F(MysqlMetaStoreTest, DatabaseHoldingAnotherSchemaIsRefused) {
  ASSERT_OK(server_
                ->Exec(db_,
                       "CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO "
                       "accounts VALUES (1, 'a')")
                .status());
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
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

TEST_F(MysqlMetaStoreTest, MigrateCreatesTheModelAndRecordsIt) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore(server_->Url(db_)));
  EXPECT_EQ(store->backend(), "mysql");
  EXPECT_EQ(store->DisplayUrl(),
            "mysql://rwmeta:***@127.0.0.1:" + std::to_string(server_->port()) + "/" + db_);
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(std::string count,
                       server_->Exec("",
                                     "SELECT COUNT(*) FROM information_schema.tables "
                                     "WHERE table_schema = '" +
                                         db_ + "'"));
  EXPECT_EQ(count, std::to_string(M().tables().size() + 1) + "\n");
  ASSERT_OK_AND_ASSIGN(std::string recorded,
                       server_->Exec(db_, "SELECT version FROM rwmeta_migrations"));
  EXPECT_EQ(recorded, std::to_string(kModelVersion) + "\n");
}

// A writer waiting longer than the lock wait timeout for a row another transaction has read is
// Aborted, and its transaction is over.
TEST_F(MysqlMetaStoreTest, LockWaitTimeoutIsAbortedAndDoomsTheTransaction) {
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

// Two threads read the same sequence row, then both write it: they deadlock, InnoDB rolls one back,
// RunTransaction redoes it, and both increments land.
TEST_F(MysqlMetaStoreTest, ConcurrentConflictingTransactionsRetryThroughRunTransaction) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
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

TEST_F(MysqlMetaStoreTest, SnapshotIsTakenAtBeginAndDoesNotBlockWriters) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
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

// Idle pooled connections that the server ends (restart, wait_timeout, KILL) are replaced, not
// reported: the next transaction, snapshot, Inspect and Migrate work.
TEST_F(MysqlMetaStoreTest, IdleConnectionsEndedByTheServerAreReplaced) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  {
    // Two connections into the pool.
    ASSERT_OK_AND_ASSIGN(auto a, store->BeginSnapshotRead());
    ASSERT_OK_AND_ASSIGN(auto b, store->BeginSnapshotRead());
  }
  ASSERT_OK_AND_ASSIGN(std::string ids,
                       server_->Exec("",
                                     "SELECT id FROM information_schema.processlist WHERE "
                                     "db = '" +
                                         db_ + "' AND user = 'rwmeta'"));
  int killed = 0;
  for (size_t pos = 0, end; (end = ids.find('\n', pos)) != std::string::npos; pos = end + 1) {
    ASSERT_OK(server_->Exec("", "KILL " + ids.substr(pos, end - pos)).status());
    ++killed;
  }
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

// The RisingWave-style flags (--backend mysql with host, user, password and database) reach the
// server intact, whatever characters the credentials hold.
TEST_F(MysqlMetaStoreTest, SeparateFlagsWithSpecialCharactersConnect) {
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

// A server that accepts connections but never answers (hung, or a proxy with nothing behind it)
// is Unavailable after the connect timeout, not a hang.
TEST_F(MysqlMetaStoreTest, SilentServerIsUnavailableAfterTheConnectTimeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(fd, 8), 0);  // the kernel accepts; nobody ever reads or writes
  MysqlOptions options;
  options.connect_timeout_ms = 1000;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(MysqlMetaStore::Open(
                  "mysql://u:secret@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/meta",
                  M(), options),
              StatusIs(StatusCode::kUnavailable, Not(HasSubstr("secret"))));
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(10));
}

// Two meta nodes starting at once on a fresh database: both Migrate calls succeed and the schema
// is created once.
TEST_F(MysqlMetaStoreTest, ConcurrentMigratesTakeTurns) {
  ASSERT_OK_AND_ASSIGN(auto a, MysqlMetaStore::Open(server_->Url(db_)));
  ASSERT_OK_AND_ASSIGN(auto b, MysqlMetaStore::Open(server_->Url(db_)));
  Status results[2];
  std::thread ta([&] { results[0] = a->Migrate(); });
  std::thread tb([&] { results[1] = b->Migrate(); });
  ta.join();
  tb.join();
  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  ASSERT_OK_AND_ASSIGN(std::string recorded,
                       server_->Exec(db_, "SELECT version FROM rwmeta_migrations"));
  EXPECT_EQ(recorded, std::to_string(kModelVersion) + "\n");
}

// MySQL text holds valid UTF-8 (utf8mb4): anything else is refused as the caller's error, and the
// transaction goes on. A NUL character is valid UTF-8 and round-trips.
TEST_F(MysqlMetaStoreTest, TextThatIsNotUtf8IsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_)));
  ASSERT_OK(store->Migrate());
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  EXPECT_THAT(txn->Insert(params, Param("bad", "\xff\xfe")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Incorrect string value")));
  ASSERT_OK(txn->Insert(params, Param("nul", std::string("a\0b", 3))));
  ASSERT_OK(txn->Commit());
  txn.reset();
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto nul, view->Get(params, Key{std::string("nul")}));
  EXPECT_EQ(nul, Param("nul", std::string("a\0b", 3)));
}

// A model with a composite key (int, text), to page a scan through many keyset pages.
const Model& PagedModel() {
  static const Model* const kModel = new Model(
      1, {{"pairs",
           {{"a", ColumnType::kInt64}, {"b", ColumnType::kText}, {"v", ColumnType::kBytes}},
           {"a", "b"},
           {},
           {}}});
  return *kModel;
}

TEST_F(MysqlMetaStoreTest, ScanPagesThroughManyRowsInKeyOrderWithNestedReads) {
  ASSERT_OK_AND_ASSIGN(auto store, MysqlMetaStore::Open(server_->Url(db_), PagedModel()));
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

}  // namespace
}  // namespace rwmeta::metastore
