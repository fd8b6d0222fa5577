// The pgwire server driven by real clients (libpq, the psql binary) and by a raw socket for the
// byte-level cases (framing errors, portal suspension, disconnects). The SQL side is a small fake
// front end (FakeSession) whose statements are:
//   SELECT <text>   one row, one text column "?column?" holding <text>
//   rows <n>        n rows of one int4 column "n": 1..n (tag "SELECT n")
//   echo $1 $2 ...  (prepared only) one row holding the parameters, typed as declared
//   notice          no rows, tag "DO", a NOTICE "hello notice"
//   insert          no rows, tag "INSERT 0 1"
//   fail            NotFound with SQLSTATE 42P01 'relation "missing" does not exist'
//   denied          PermissionDenied without SQLSTATE (the server maps it to 42501)
//   sleep           waits (bounded) for a cancel request, then fails with 57014
//   begin, commit   enter / leave a transaction block (TransactionStatus 'T' / 'I')
// Users: "secret" needs password "s3cret"; "nobody" does not exist; the rest are trusted.
// Database "missing" does not exist.
#include "pgwire/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "common/testing/status_matchers.h"
#include "pgwire/auth.h"
#include "pgwire/message.h"

namespace rwmeta::pgwire {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(10);

// Polls `condition` until it holds or 10 s pass.
template <typename F>
bool Eventually(F condition) {
  const auto deadline = Clock::now() + kDeadline;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// ---------------------------------------------------------------------------------------------
// The fake front end

struct SharedState {
  std::mutex mu;
  std::condition_variable cv;
  bool cancel_requested = false;
  bool sleeping = false;
  std::vector<TextValue> last_params;
  std::vector<uint32_t> last_param_oids;
  std::vector<std::pair<std::string, std::string>> last_options;
};

ResultSet Rows(int n) {
  ResultSet rs;
  rs.command_tag = "SELECT " + std::to_string(n);
  rs.returns_rows = true;
  rs.fields = {Field{"n", kInt4Oid, 4}};
  for (int i = 1; i <= n; ++i) rs.rows.push_back({std::to_string(i)});
  return rs;
}

// Placeholders $1..$n used in `sql`: n.
size_t CountParams(std::string_view sql) {
  size_t n = 0;
  for (size_t i = 0; i + 1 < sql.size(); ++i) {
    if (sql[i] == '$' && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      n = std::max<size_t>(n, std::strtoul(std::string(sql.substr(i + 1)).c_str(), nullptr, 10));
    }
  }
  return n;
}

class FakeSession : public Session {
 public:
  FakeSession(SharedState* state, std::string user, std::string app)
      : state_(state), user_(std::move(user)), app_(std::move(app)) {}

  Status ExecuteSimple(std::string_view sql, std::vector<ResultSet>* results) override {
    size_t start = 0;
    while (start <= sql.size()) {
      size_t end = sql.find(';', start);
      if (end == std::string_view::npos) end = sql.size();
      std::string statement(Trim(sql.substr(start, end - start)));
      start = end + 1;
      if (statement.empty()) continue;
      RWMETA_ASSIGN_OR_RETURN(ResultSet rs, Run(statement, {}, {}));
      results->push_back(std::move(rs));
    }
    return Status::Ok();
  }

  Result<PreparedInfo> Prepare(std::string_view sql,
                               const std::vector<uint32_t>& param_type_oids) override {
    if (sql == "fail") return Fail();
    PreparedInfo info;
    const size_t n = CountParams(sql);
    for (size_t i = 0; i < n; ++i) {
      info.param_type_oids.push_back(
          i < param_type_oids.size() && param_type_oids[i] != 0 ? param_type_oids[i] : kTextOid);
    }
    if (sql.starts_with("echo")) {
      info.returns_rows = true;
      for (size_t i = 0; i < n; ++i) {
        info.fields.push_back(Field{"p" + std::to_string(i + 1), info.param_type_oids[i], -1});
      }
    } else if (sql.starts_with("rows")) {
      info.returns_rows = true;
      info.fields = Rows(0).fields;
    } else if (sql.starts_with("SELECT")) {
      info.returns_rows = true;
      info.fields = {Field{"?column?", kTextOid, -1}};
    }
    return info;
  }

  Result<ResultSet> ExecutePrepared(std::string_view sql,
                                    const std::vector<uint32_t>& param_type_oids,
                                    const std::vector<TextValue>& params) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->last_params = params;
      state_->last_param_oids = param_type_oids;
    }
    return Run(std::string(sql), param_type_oids, params);
  }

  std::vector<std::pair<std::string, std::string>> ParameterStatuses() const override {
    return {{"server_version", "13.0.0"},
            {"client_encoding", "UTF8"},
            {"DateStyle", "ISO, MDY"},
            {"integer_datetimes", "on"},
            {"standard_conforming_strings", "on"},
            {"session_authorization", user_},
            {"application_name", app_}};
  }

  void RequestCancel() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->cancel_requested = true;
    state_->cv.notify_all();
  }

 private:
  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }
  static Status Fail() {
    return NotFoundError("relation \"missing\" does not exist").WithSqlState("42P01");
  }

  Result<ResultSet> Run(const std::string& statement, const std::vector<uint32_t>& oids,
                        const std::vector<TextValue>& params) {
    ResultSet rs;
    if (statement == "fail") return Fail();
    if (statement == "denied") return PermissionDeniedError("permission denied for table t");
    if (statement == "notice") {
      rs.command_tag = "DO";
      rs.notices = {"hello notice"};
      return rs;
    }
    if (statement == "begin" || statement == "commit") {
      in_block_ = statement == "begin";
      rs.command_tag = in_block_ ? "BEGIN" : "COMMIT";
      return rs;
    }
    if (statement == "insert") {
      rs.command_tag = "INSERT 0 1";
      return rs;
    }
    if (statement == "sleep") {
      std::unique_lock<std::mutex> lock(state_->mu);
      state_->sleeping = true;
      state_->cv.wait_for(lock, kDeadline, [&] { return state_->cancel_requested; });
      state_->sleeping = false;
      return CancelledError("canceling statement due to user request").WithSqlState("57014");
    }
    if (statement.starts_with("rows ")) return Rows(std::stoi(statement.substr(5)));
    if (statement.starts_with("echo")) {
      rs.command_tag = "SELECT 1";
      rs.returns_rows = true;
      for (size_t i = 0; i < params.size(); ++i) {
        rs.fields.push_back(Field{"p" + std::to_string(i + 1), oids[i], -1});
      }
      rs.rows.push_back(params);
      return rs;
    }
    if (statement.starts_with("SELECT ")) {
      rs.command_tag = "SELECT 1";
      rs.returns_rows = true;
      rs.fields = {Field{"?column?", kTextOid, -1}};
      rs.rows.push_back({statement.substr(7)});
      return rs;
    }
    return InvalidArgumentError("syntax error at or near \"" + statement + "\"")
        .WithSqlState("42601");
  }

  char TransactionStatus() const override { return in_block_ ? 'T' : 'I'; }

  SharedState* state_;
  std::string user_;
  std::string app_;
  bool in_block_ = false;
};

class FakeFactory : public SessionFactory {
 public:
  explicit FakeFactory(SharedState* state) : state_(state) {}

  Result<AuthRequirement> Authenticate(std::string_view user, std::string_view) override {
    if (user == "nobody") {
      return UnauthenticatedError("role \"nobody\" does not exist");
    }
    AuthRequirement req;
    if (user == "secret") {
      req.password_required = true;
      req.md5_verifier = Md5Verifier("secret", "s3cret");
    }
    return req;
  }

  Result<std::unique_ptr<Session>> OpenSession(
      std::string_view user, std::string_view database,
      const std::vector<std::pair<std::string, std::string>>& options) override {
    if (database == "missing") {
      return NotFoundError("database \"missing\" does not exist").WithSqlState("3D000");
    }
    std::string app;
    for (const auto& [k, v] : options) {
      if (k == "application_name") app = v;
    }
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->last_options = options;
    }
    return std::unique_ptr<Session>(new FakeSession(state_, std::string(user), app));
  }

 private:
  SharedState* state_;
};

// ---------------------------------------------------------------------------------------------
// A raw protocol client

struct Message {
  char type = 0;
  std::string payload;
};

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { Close(); }
  bool connected() const { return connected_; }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // StartupMessage for protocol 3.0.
  bool SendStartup(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string body;
    AppendInt32(&body, kProtocolVersion3);
    for (const auto& [k, v] : params) {
      body += k;
      body.push_back('\0');
      body += v;
      body.push_back('\0');
    }
    body.push_back('\0');
    std::string packet;
    AppendInt32(&packet, static_cast<int32_t>(body.size() + 4));
    return Send(packet + body);
  }

  // A typed message built from `payload`.
  bool SendMessage(char type, const std::string& payload) {
    std::string out;
    MessageWriter w(&out);
    w.Begin(type);
    w.AddBytes(payload);
    w.End();
    return Send(out);
  }

  // Reads exactly n bytes; false on EOF, error or after 10 s.
  bool ReadBytes(size_t n, std::string* out) {
    out->clear();
    const auto deadline = Clock::now() + kDeadline;
    while (out->size() < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      char buf[4096];
      const ssize_t r = recv(fd_, buf, std::min(sizeof(buf), n - out->size()), 0);
      if (r <= 0) return false;
      out->append(buf, static_cast<size_t>(r));
    }
    return true;
  }

  // One typed message; type 0 on EOF/timeout.
  Message Read() {
    Message m;
    std::string header;
    if (!ReadBytes(5, &header)) return m;
    const int32_t len = DecodeInt32(std::string_view(header).substr(1));
    if (!ReadBytes(static_cast<size_t>(len) - 4, &m.payload)) return m;
    m.type = header[0];
    return m;
  }

  // True if the server closed the connection (EOF within 10 s, no more bytes).
  bool ReadsEof() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 10'000) <= 0) return false;
    char c;
    return recv(fd_, &c, 1, 0) == 0;
  }

  // Reads messages until ReadyForQuery (inclusive) or EOF; returns their types as a string.
  std::string ReadUntilReady(std::vector<Message>* messages = nullptr) {
    std::string types;
    for (;;) {
      Message m = Read();
      if (m.type == 0) return types + "<eof>";
      types.push_back(m.type);
      if (messages) messages->push_back(m);
      if (m.type == 'Z') return types;
    }
  }

  // Startup as a trusted user; consumes everything up to ReadyForQuery.
  bool Login() {
    if (!SendStartup({{"user", "u"}, {"database", "db"}})) return false;
    return ReadUntilReady().ends_with("KZ");
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// ErrorResponse/NoticeResponse fields by code.
std::map<char, std::string> ErrorFields(const std::string& payload) {
  std::map<char, std::string> fields;
  size_t i = 0;
  while (i < payload.size() && payload[i] != '\0') {
    const char code = payload[i++];
    const size_t nul = payload.find('\0', i);
    fields[code] = payload.substr(i, nul - i);
    i = nul + 1;
  }
  return fields;
}

std::string Str(std::string_view s) { return std::string(s) + '\0'; }
std::string I16(int16_t v) {
  std::string s;
  AppendInt16(&s, v);
  return s;
}
std::string I32(int32_t v) {
  std::string s;
  AppendInt32(&s, v);
  return s;
}

// DataRow payload → its values (NULL as "<null>").
std::vector<std::string> DataRowValues(const std::string& payload) {
  std::vector<std::string> values;
  MessageReader r(payload);
  const int16_t n = *r.GetInt16();
  for (int16_t i = 0; i < n; ++i) {
    const int32_t len = *r.GetInt32();
    values.push_back(len < 0 ? "<null>" : std::string(*r.GetBytes(static_cast<size_t>(len))));
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Fixture

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions{"127.0.0.1:0", 100, 60'000}); }

  void StartServer(ServerOptions options) {
    if (server_) server_->Stop();
    server_ = std::make_unique<Server>(std::move(options), std::make_shared<FakeFactory>(&state_));
    ASSERT_OK(server_->Start());
    ASSERT_GT(server_->port(), 0);
  }

  std::string ConnInfo(const std::string& user = "u", const std::string& db = "db",
                       const std::string& extra = "") {
    return "host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=" + user +
           " dbname=" + db + " connect_timeout=10 " + extra;
  }

  PGconn* Connect(const std::string& user = "u", const std::string& db = "db",
                  const std::string& extra = "") {
    PGconn* conn = PQconnectdb(ConnInfo(user, db, extra).c_str());
    conns_.push_back(conn);
    return conn;
  }

  void TearDown() override {
    for (PGconn* c : conns_) PQfinish(c);
    if (server_) server_->Stop();
  }

  // Runs psql with `args`; returns its exit code and fills `output` with stdout+stderr.
  int RunPsql(const std::string& args, std::string* output, const std::string& env = "") {
    const std::string cmd = env + " psql -X -A -t -w -h 127.0.0.1 -p " +
                            std::to_string(server_->port()) + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    output->clear();
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  SharedState state_;
  std::unique_ptr<Server> server_;
  std::vector<PGconn*> conns_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string SqlState(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

// ---------------------------------------------------------------------------------------------
// Start / Stop

TEST(ServerStartTest, BadAddressIsInvalidArgument) {
  SharedState state;
  auto factory = std::make_shared<FakeFactory>(&state);
  for (const char* address :
       {"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":5432", "no.such.host.invalid:5432"}) {
    Server server(ServerOptions{address, 10, 1000}, factory);
    EXPECT_THAT(server.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr(address)))
        << address;
  }
}

TEST(ServerStartTest, PortTakenIsUnavailableNamingTheAddress) {
  SharedState state;
  auto factory = std::make_shared<FakeFactory>(&state);
  Server first(ServerOptions{"127.0.0.1:0", 10, 1000}, factory);
  ASSERT_OK(first.Start());
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  Server second(ServerOptions{address, 10, 1000}, factory);
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable, HasSubstr(address)));
  EXPECT_THAT(first.Start(), StatusIs(StatusCode::kFailedPrecondition));
  first.Stop();
  first.Stop();  // idempotent
  EXPECT_THAT(first.Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ServerTest, StopClosesConnectedClients) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  RawClient half(server_->port());  // connected, startup never sent
  ASSERT_TRUE(half.connected());
  ASSERT_TRUE(Eventually([&] { return server_->active_connections() == 3; }));

  server_->Stop();
  EXPECT_EQ(server_->active_connections(), 0);
  Message m = raw.Read();
  ASSERT_EQ(m.type, 'E');
  auto fields = ErrorFields(m.payload);
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_EQ(fields['C'], "57P01");
  EXPECT_EQ(fields['M'], "terminating connection due to administrator command");
  EXPECT_TRUE(raw.ReadsEof());
  ResultPtr r(PQexec(conn, "SELECT x"));
  EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQstatus(conn), CONNECTION_BAD);
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, StopCancelsRunningStatements) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQsendQuery(conn, "sleep"), 1);
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(state_.mu);
    return state_.sleeping;
  }));
  const auto started = Clock::now();
  server_->Stop();
  // The fake statement would run for 10 s unless cancelled.
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
  ResultPtr r(PQgetResult(conn));
  EXPECT_EQ(SqlState(r.get()), "57014");
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    EXPECT_TRUE(state_.cancel_requested);
  }
  while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
  ResultPtr after(PQexec(conn, "SELECT x"));
  EXPECT_NE(PQresultStatus(after.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQstatus(conn), CONNECTION_BAD);
}

TEST_F(ServerTest, ManyConcurrentClients) {
  constexpr int kClients = 8;
  constexpr int kQueries = 25;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      PGconn* conn = PQconnectdb(ConnInfo().c_str());
      if (PQstatus(conn) == CONNECTION_OK) {
        for (int q = 0; q < kQueries; ++q) {
          const std::string value = std::to_string(c) + "-" + std::to_string(q);
          const char* params[] = {value.c_str()};
          PGresult* r =
              q % 2 == 0 ? PQexec(conn, ("SELECT " + value).c_str())
                         : PQexecParams(conn, "echo $1", 1, nullptr, params, nullptr, nullptr, 0);
          if (PQresultStatus(r) == PGRES_TUPLES_OK && value == PQgetvalue(r, 0, 0)) ++ok;
          PQclear(r);
        }
      }
      PQfinish(conn);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kQueries);
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
}

// ---------------------------------------------------------------------------------------------
// libpq: startup and authentication

TEST_F(ServerTest, TrustLoginReportsParametersAndBackendKey) {
  PGconn* conn = Connect("u", "db", "application_name=myapp");
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQparameterStatus(conn, "server_version"), "13.0.0");
  EXPECT_STREQ(PQparameterStatus(conn, "session_authorization"), "u");
  EXPECT_STREQ(PQparameterStatus(conn, "application_name"), "myapp");
  EXPECT_EQ(PQserverVersion(conn), 130000);
  EXPECT_GE(PQbackendPID(conn), 1000);
  EXPECT_EQ(PQtransactionStatus(conn), PQTRANS_IDLE);
  std::lock_guard<std::mutex> lock(state_.mu);
  EXPECT_THAT(state_.last_options, ::testing::Contains(Pair("application_name", "myapp")));
}

TEST_F(ServerTest, Md5PasswordRightAndWrong) {
  PGconn* good = Connect("secret", "db", "password=s3cret");
  ASSERT_EQ(PQstatus(good), CONNECTION_OK) << PQerrorMessage(good);
  ResultPtr r(PQexec(good, "SELECT ok"));
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "ok");

  PGconn* bad = Connect("secret", "db", "password=wrong");
  EXPECT_EQ(PQstatus(bad), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(bad), HasSubstr("password authentication failed for user \"secret\""));

  PGconn* none = Connect("secret", "db");
  EXPECT_EQ(PQstatus(none), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(none), HasSubstr("no password supplied"));
}

TEST_F(ServerTest, MissingDatabaseAndUnknownUser) {
  PGconn* conn = Connect("u", "missing");
  EXPECT_EQ(PQstatus(conn), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(conn), HasSubstr("database \"missing\" does not exist"));
  PGconn* nobody = Connect("nobody", "db");
  EXPECT_EQ(PQstatus(nobody), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(nobody), HasSubstr("role \"nobody\" does not exist"));
}

TEST_F(ServerTest, RawMd5ExchangeAndSqlStates) {
  {
    // Right answer: AuthenticationOk and the session starts.
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"user", "secret"}}));
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'R');
    ASSERT_EQ(m.payload.size(), 8u);
    EXPECT_EQ(DecodeInt32(m.payload), 5);
    const std::string salt = m.payload.substr(4);
    ASSERT_OK_AND_ASSIGN(std::string answer,
                         Md5ChallengeResponse(Md5Verifier("secret", "s3cret"), salt));
    ASSERT_TRUE(raw.SendMessage('p', Str(answer)));
    std::vector<Message> messages;
    EXPECT_THAT(raw.ReadUntilReady(&messages), ::testing::MatchesRegex("RS+KZ"));
    EXPECT_EQ(messages[0].payload, I32(0));
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"user", "secret"}}));
    ASSERT_EQ(raw.Read().type, 'R');
    ASSERT_TRUE(raw.SendMessage('p', Str("md500000000000000000000000000000000")));
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'E');
    auto fields = ErrorFields(m.payload);
    EXPECT_EQ(fields['S'], "FATAL");
    EXPECT_EQ(fields['C'], "28P01");
    EXPECT_EQ(fields['M'], "password authentication failed for user \"secret\"");
    EXPECT_TRUE(raw.ReadsEof());
  }
  {
    // The database defaults to the user name, which the fake says is missing.
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"user", "u"}, {"database", "missing"}}));
    ASSERT_EQ(raw.Read().type, 'R');
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'E');
    EXPECT_EQ(ErrorFields(m.payload)['C'], "3D000");
    EXPECT_TRUE(raw.ReadsEof());
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"user", "nobody"}}));
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'E');
    EXPECT_EQ(ErrorFields(m.payload)['C'], "28000");
    EXPECT_TRUE(raw.ReadsEof());
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"database", "db"}}));
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'E');
    EXPECT_EQ(ErrorFields(m.payload)['C'], "28000");
    EXPECT_EQ(ErrorFields(m.payload)['M'], "no PostgreSQL user name specified in startup packet");
  }
}

TEST_F(ServerTest, SslAndGssEncRequestsAnsweredN) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(I32(8) + I32(kGssEncRequestCode)));
  std::string answer;
  ASSERT_TRUE(raw.ReadBytes(1, &answer));
  EXPECT_EQ(answer, "N");
  ASSERT_TRUE(raw.Send(I32(8) + I32(kSslRequestCode)));
  ASSERT_TRUE(raw.ReadBytes(1, &answer));
  EXPECT_EQ(answer, "N");
  EXPECT_TRUE(raw.Login());
}

TEST_F(ServerTest, UnsupportedProtocolVersionIsRefused) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(I32(8) + I32(2 << 16)));
  Message m = raw.Read();
  ASSERT_EQ(m.type, 'E');
  EXPECT_EQ(ErrorFields(m.payload)['C'], "0A000");
  EXPECT_TRUE(raw.ReadsEof());
}

TEST_F(ServerTest, MaxConnectionsRefusesWithTooManyClients) {
  StartServer(ServerOptions{"127.0.0.1:0", 1, 60'000});
  PGconn* first = Connect();
  ASSERT_EQ(PQstatus(first), CONNECTION_OK) << PQerrorMessage(first);
  PGconn* second = Connect();
  EXPECT_EQ(PQstatus(second), CONNECTION_BAD);
  EXPECT_THAT(PQerrorMessage(second), HasSubstr("sorry, too many clients already"));
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.SendStartup({{"user", "u"}}));
    Message m = raw.Read();
    ASSERT_EQ(m.type, 'E');
    EXPECT_EQ(ErrorFields(m.payload)['S'], "FATAL");
    EXPECT_EQ(ErrorFields(m.payload)['C'], "53300");
    EXPECT_TRUE(raw.ReadsEof());
  }
  PQfinish(first);
  conns_.erase(conns_.begin());
  ASSERT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
  PGconn* third = Connect();
  EXPECT_EQ(PQstatus(third), CONNECTION_OK) << PQerrorMessage(third);
}

TEST_F(ServerTest, StartupTimeoutDisconnectsSilentClients) {
  StartServer(ServerOptions{"127.0.0.1:0", 10, 200});
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  EXPECT_TRUE(raw.ReadsEof());
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
}

// ---------------------------------------------------------------------------------------------
// libpq: simple query

TEST_F(ServerTest, SimpleQueryMultipleStatements) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQsendQuery(conn, "SELECT hello; insert; rows 3"), 1);
  std::vector<ResultPtr> results;
  while (PGresult* r = PQgetResult(conn)) results.emplace_back(r);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(PQresultStatus(results[0].get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQfname(results[0].get(), 0), "?column?");
  EXPECT_EQ(PQftype(results[0].get(), 0), kTextOid);
  EXPECT_STREQ(PQgetvalue(results[0].get(), 0, 0), "hello");
  EXPECT_EQ(PQresultStatus(results[1].get()), PGRES_COMMAND_OK);
  EXPECT_STREQ(PQcmdStatus(results[1].get()), "INSERT 0 1");
  EXPECT_STREQ(PQcmdTuples(results[1].get()), "1");
  EXPECT_EQ(PQntuples(results[2].get()), 3);
  EXPECT_EQ(PQftype(results[2].get(), 0), kInt4Oid);
  EXPECT_EQ(PQfsize(results[2].get(), 0), 4);
  EXPECT_STREQ(PQgetvalue(results[2].get(), 2, 0), "3");
  EXPECT_STREQ(PQcmdStatus(results[2].get()), "SELECT 3");
}

TEST_F(ServerTest, SimpleQueryErrorStopsTheBatchAndSessionContinues) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQsendQuery(conn, "SELECT a; fail; SELECT b"), 1);
  std::vector<ResultPtr> results;
  while (PGresult* r = PQgetResult(conn)) results.emplace_back(r);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_STREQ(PQgetvalue(results[0].get(), 0, 0), "a");
  EXPECT_EQ(PQresultStatus(results[1].get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(SqlState(results[1].get()), "42P01");
  EXPECT_STREQ(PQresultErrorField(results[1].get(), PG_DIAG_SEVERITY), "ERROR");
  EXPECT_STREQ(PQresultErrorField(results[1].get(), PG_DIAG_SEVERITY_NONLOCALIZED), "ERROR");
  EXPECT_STREQ(PQresultErrorField(results[1].get(), PG_DIAG_MESSAGE_PRIMARY),
               "relation \"missing\" does not exist");

  ResultPtr denied(PQexec(conn, "denied"));
  EXPECT_EQ(SqlState(denied.get()), "42501");
  EXPECT_STREQ(PQresultErrorField(denied.get(), PG_DIAG_MESSAGE_PRIMARY),
               "permission denied for table t");
  ResultPtr after(PQexec(conn, "SELECT still here"));
  EXPECT_STREQ(PQgetvalue(after.get(), 0, 0), "still here");
}

TEST_F(ServerTest, LargeQueryAndResultRoundTrip) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  std::string big(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  ResultPtr r(PQexec(conn, ("SELECT " + big).c_str()));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQgetlength(r.get(), 0, 0), static_cast<int>(big.size()));
  EXPECT_TRUE(std::string(PQgetvalue(r.get(), 0, 0)) == big);
  ResultPtr small(PQexec(conn, "SELECT small"));
  EXPECT_STREQ(PQgetvalue(small.get(), 0, 0), "small");
}

TEST_F(ServerTest, EmptyQueryAndNotices) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  ResultPtr empty(PQexec(conn, "  "));
  EXPECT_EQ(PQresultStatus(empty.get()), PGRES_EMPTY_QUERY);

  std::vector<std::string> notices;
  PQsetNoticeReceiver(
      conn,
      [](void* arg, const PGresult* r) {
        static_cast<std::vector<std::string>*>(arg)->push_back(
            std::string(PQresultErrorField(r, PG_DIAG_SEVERITY)) + " " +
            PQresultErrorField(r, PG_DIAG_SQLSTATE) + " " +
            PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
      },
      &notices);
  ResultPtr r(PQexec(conn, "notice"));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  EXPECT_STREQ(PQcmdStatus(r.get()), "DO");
  EXPECT_THAT(notices, ElementsAre("NOTICE 00000 hello notice"));
}

TEST_F(ServerTest, CancelRequestReachesTheSession) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGcancel* cancel = PQgetCancel(conn);
  ASSERT_NE(cancel, nullptr);
  std::thread canceller([&] {
    ASSERT_TRUE(Eventually([&] {
      std::lock_guard<std::mutex> lock(state_.mu);
      return state_.sleeping;
    }));
    char err[256];
    EXPECT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  });
  ResultPtr r(PQexec(conn, "sleep"));
  canceller.join();
  PQfreeCancel(cancel);
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(SqlState(r.get()), "57014");
  std::lock_guard<std::mutex> lock(state_.mu);
  EXPECT_TRUE(state_.cancel_requested);
}

TEST_F(ServerTest, CancelRequestWithWrongKeyIsIgnored) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Send(I32(16) + I32(kCancelRequestCode) + I32(PQbackendPID(conn)) + I32(12345)));
  EXPECT_TRUE(raw.ReadsEof());  // no reply, just a close
  std::lock_guard<std::mutex> lock(state_.mu);
  EXPECT_FALSE(state_.cancel_requested);
}

// ---------------------------------------------------------------------------------------------
// libpq: extended query

TEST_F(ServerTest, ExecParamsWithTextParams) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const char* values[] = {"abc", nullptr, "42"};
  const Oid types[] = {0, 0, kInt4Oid};
  ResultPtr r(PQexecParams(conn, "echo $1 $2 $3", 3, types, values, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  ASSERT_EQ(PQnfields(r.get()), 3);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "abc");
  EXPECT_EQ(PQgetisnull(r.get(), 0, 1), 1);
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 2), "42");
  EXPECT_EQ(PQftype(r.get(), 2), kInt4Oid);
  EXPECT_EQ(PQfformat(r.get(), 0), 0);
  EXPECT_STREQ(PQcmdStatus(r.get()), "SELECT 1");
  std::lock_guard<std::mutex> lock(state_.mu);
  EXPECT_THAT(state_.last_param_oids, ElementsAre(kTextOid, kTextOid, kInt4Oid));
}

TEST_F(ServerTest, ExecParamsWithBinaryParamsAndResults) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const std::string i2 = I16(-7);
  const std::string i4 = I32(123456);
  std::string i8;
  AppendInt64(&i8, int64_t{1} << 40);
  const std::string b("\1", 1);
  const std::string f4 = I32(0x3fc00000);  // 1.5f
  std::string f8;
  AppendInt64(&f8, 0x3fb999999999999aLL);  // 0.1
  const std::string text = "bin";
  const char* values[] = {i2.data(), i4.data(), i8.data(),  b.data(),
                          f4.data(), f8.data(), text.data()};
  const int lengths[] = {2, 4, 8, 1, 4, 8, 3};
  const int formats[] = {1, 1, 1, 1, 1, 1, 1};
  const Oid types[] = {kInt2Oid, kInt4Oid, kInt8Oid, kBoolOid, kFloat4Oid, kFloat8Oid, kTextOid};
  ResultPtr r(
      PQexecParams(conn, "echo $1 $2 $3 $4 $5 $6 $7", 7, types, values, lengths, formats, 1));
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    EXPECT_THAT(state_.last_params,
                ElementsAre("-7", "123456", "1099511627776", "t", "1.5", "0.1", "bin"));
  }
  // Binary results: the same bytes come back.
  ASSERT_EQ(PQnfields(r.get()), 7);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(PQfformat(r.get(), i), 1) << i;
    EXPECT_EQ(PQftype(r.get(), i), types[i]) << i;
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, i), PQgetlength(r.get(), 0, i)),
              std::string(values[i], lengths[i]))
        << i;
  }
}

TEST_F(ServerTest, BinaryParamWithWrongLengthIs22P03) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const std::string i4 = I16(1);
  const char* values[] = {i4.data()};
  const int lengths[] = {2};
  const int formats[] = {1};
  const Oid types[] = {kInt4Oid};
  ResultPtr r(PQexecParams(conn, "echo $1", 1, types, values, lengths, formats, 0));
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(SqlState(r.get()), "22P03");
  EXPECT_THAT(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY), HasSubstr("bind parameter 1"));
  ResultPtr after(PQexec(conn, "SELECT fine"));
  EXPECT_STREQ(PQgetvalue(after.get(), 0, 0), "fine");
}

TEST_F(ServerTest, PrepareDescribeExecutePrepared) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const Oid types[] = {kInt8Oid};
  ResultPtr prepared(PQprepare(conn, "s1", "echo $1 $2", 1, types));
  ASSERT_EQ(PQresultStatus(prepared.get()), PGRES_COMMAND_OK)
      << PQresultErrorMessage(prepared.get());

  ResultPtr desc(PQdescribePrepared(conn, "s1"));
  ASSERT_EQ(PQresultStatus(desc.get()), PGRES_COMMAND_OK);
  ASSERT_EQ(PQnparams(desc.get()), 2);
  EXPECT_EQ(PQparamtype(desc.get(), 0), kInt8Oid);
  EXPECT_EQ(PQparamtype(desc.get(), 1), kTextOid);
  ASSERT_EQ(PQnfields(desc.get()), 2);
  EXPECT_STREQ(PQfname(desc.get(), 0), "p1");
  EXPECT_EQ(PQftype(desc.get(), 0), kInt8Oid);

  for (const char* v : {"1", "2"}) {
    const char* values[] = {v, "x"};
    ResultPtr r(PQexecPrepared(conn, "s1", 2, values, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), v);
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "x");
  }

  ResultPtr insert(PQprepare(conn, "s2", "insert", 0, nullptr));
  ASSERT_EQ(PQresultStatus(insert.get()), PGRES_COMMAND_OK);
  ResultPtr insert_desc(PQdescribePrepared(conn, "s2"));
  EXPECT_EQ(PQnfields(insert_desc.get()), 0);
  ResultPtr inserted(PQexecPrepared(conn, "s2", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_STREQ(PQcmdStatus(inserted.get()), "INSERT 0 1");

  ResultPtr again(PQprepare(conn, "s1", "SELECT x", 0, nullptr));
  EXPECT_EQ(SqlState(again.get()), "42P05");
  ResultPtr missing(PQexecPrepared(conn, "nope", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(SqlState(missing.get()), "26000");
  ResultPtr failing(PQprepare(conn, "s3", "fail", 0, nullptr));
  EXPECT_EQ(SqlState(failing.get()), "42P01");
  const char* one[] = {"only one"};
  ResultPtr wrong_count(PQexecPrepared(conn, "s1", 1, one, nullptr, nullptr, 0));
  EXPECT_EQ(SqlState(wrong_count.get()), "08P01");
  EXPECT_THAT(PQresultErrorField(wrong_count.get(), PG_DIAG_MESSAGE_PRIMARY),
              HasSubstr("bind message supplies 1 parameters, but prepared statement \"s1\" "
                        "requires 2"));

  // The connection survived every error and the statement is still there.
  const char* values[] = {"3", "y"};
  ResultPtr r(PQexecPrepared(conn, "s1", 2, values, nullptr, nullptr, 0));
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "3");
  ResultPtr dealloc(PQexec(conn, "SELECT after"));
  EXPECT_STREQ(PQgetvalue(dealloc.get(), 0, 0), "after");
}

TEST_F(ServerTest, SingleRowModeStreamsRows) {
  PGconn* conn = Connect();
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  ASSERT_EQ(PQsendQueryParams(conn, "rows 4", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsetSingleRowMode(conn), 1);
  std::vector<std::string> values;
  ExecStatusType last = PGRES_FATAL_ERROR;
  while (PGresult* r = PQgetResult(conn)) {
    last = PQresultStatus(r);
    if (last == PGRES_SINGLE_TUPLE) values.push_back(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  EXPECT_EQ(last, PGRES_TUPLES_OK);
  EXPECT_THAT(values, ElementsAre("1", "2", "3", "4"));
}

// ---------------------------------------------------------------------------------------------
// Raw protocol: extended query details

TEST_F(ServerTest, ExecuteWithRowLimitSuspendsThePortal) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  ASSERT_TRUE(raw.SendMessage('P', Str("") + Str("rows 5") + I16(0)));
  ASSERT_TRUE(raw.SendMessage('B', Str("cur") + Str("") + I16(0) + I16(0) + I16(0)));
  ASSERT_TRUE(raw.SendMessage('D', "P" + Str("cur")));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(raw.SendMessage('E', Str("cur") + I32(2)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  std::vector<Message> messages;
  EXPECT_EQ(raw.ReadUntilReady(&messages), "12TDDsDDsDCCZ");
  std::vector<std::string> values;
  for (const Message& m : messages) {
    if (m.type == 'D') values.push_back(DataRowValues(m.payload)[0]);
  }
  EXPECT_THAT(values, ElementsAre("1", "2", "3", "4", "5"));
  EXPECT_EQ(messages[10].payload, Str("SELECT 1"));  // the last Execute's rows
  EXPECT_EQ(messages[11].payload, Str("SELECT 0"));  // a completed portal gives no more rows
  EXPECT_EQ(messages.back().payload, "I");

  // Sync dropped the portal.
  ASSERT_TRUE(raw.SendMessage('E', Str("cur") + I32(0)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "EZ");
  EXPECT_EQ(ErrorFields(messages[0].payload)['C'], "34000");
}

TEST_F(ServerTest, PortalsSurviveSyncInsideATransactionBlock) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  std::vector<Message> messages;
  ASSERT_TRUE(raw.SendMessage('Q', Str("begin")));
  EXPECT_EQ(raw.ReadUntilReady(&messages), "CZ");
  EXPECT_EQ(messages[1].payload, "T");
  ASSERT_TRUE(raw.SendMessage('P', Str("") + Str("rows 3") + I16(0)));
  ASSERT_TRUE(raw.SendMessage('B', Str("c1") + Str("") + I16(0) + I16(0) + I16(0)));
  ASSERT_TRUE(raw.SendMessage('E', Str("c1") + I32(1)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "12DsZ");
  EXPECT_EQ(messages[4].payload, "T");
  ASSERT_TRUE(raw.SendMessage('E', Str("c1") + I32(1)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "DsZ");
  EXPECT_THAT(DataRowValues(messages[0].payload), ElementsAre("2"));
  ASSERT_TRUE(raw.SendMessage('Q', Str("commit")));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "CZ");
  EXPECT_EQ(messages[1].payload, "I");
  // The transaction ended, and the portal with it.
  ASSERT_TRUE(raw.SendMessage('E', Str("c1") + I32(1)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "EZ");
  EXPECT_EQ(ErrorFields(messages[0].payload)['C'], "34000");
}

TEST_F(ServerTest, NewerMinorProtocolVersionIsNegotiatedDown) {
  RawClient raw(server_->port());
  const std::string body =
      I32(kProtocolVersion3 + 1) + Str("user") + Str("u") + Str("_pq_.future") + Str("x") + Str("");
  ASSERT_TRUE(raw.Send(I32(static_cast<int32_t>(body.size() + 4)) + body));
  std::vector<Message> messages;
  EXPECT_EQ(raw.ReadUntilReady(&messages).substr(0, 2), "vR");
  EXPECT_EQ(messages[0].payload, I32(kProtocolVersion3) + I32(1) + Str("_pq_.future"));
}

TEST_F(ServerTest, ErrorDiscardsMessagesUntilSync) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  ASSERT_TRUE(raw.SendMessage('P', Str("") + Str("fail") + I16(0)));
  ASSERT_TRUE(raw.SendMessage('B', Str("") + Str("") + I16(0) + I16(0) + I16(0)));
  ASSERT_TRUE(raw.SendMessage('E', Str("") + I32(0)));
  ASSERT_TRUE(raw.SendMessage('Q', Str("SELECT skipped")));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  std::vector<Message> messages;
  EXPECT_EQ(raw.ReadUntilReady(&messages), "EZ");
  auto fields = ErrorFields(messages[0].payload);
  EXPECT_EQ(fields['S'], "ERROR");
  EXPECT_EQ(fields['V'], "ERROR");
  EXPECT_EQ(fields['C'], "42P01");
  EXPECT_EQ(fields['M'], "relation \"missing\" does not exist");

  // After Sync the connection works again; Describe of a statement with no rows is NoData.
  ASSERT_TRUE(raw.SendMessage('P', Str("st") + Str("insert") + I16(0)));
  ASSERT_TRUE(raw.SendMessage('D', "S" + Str("st")));
  ASSERT_TRUE(raw.SendMessage('B', Str("") + Str("st") + I16(0) + I16(0) + I16(0)));
  ASSERT_TRUE(raw.SendMessage('D', "P" + Str("")));
  ASSERT_TRUE(raw.SendMessage('E', Str("") + I32(0)));
  ASSERT_TRUE(raw.SendMessage('C', "S" + Str("st")));
  ASSERT_TRUE(raw.SendMessage('C', "P" + Str("never-existed")));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  messages.clear();
  EXPECT_EQ(raw.ReadUntilReady(&messages), "1tn2nC33Z");
  EXPECT_EQ(messages[1].payload, I16(0));
  EXPECT_EQ(messages[5].payload, Str("INSERT 0 1"));

  // The closed statement is gone.
  ASSERT_TRUE(raw.SendMessage('D', "S" + Str("st")));
  ASSERT_TRUE(raw.SendMessage('H', ""));
  Message m = raw.Read();
  ASSERT_EQ(m.type, 'E');
  EXPECT_EQ(ErrorFields(m.payload)['C'], "26000");
  ASSERT_TRUE(raw.SendMessage('S', ""));
  EXPECT_EQ(raw.ReadUntilReady(), "Z");
}

TEST_F(ServerTest, BinaryResultForUnsupportedTypeIs0A000) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  const std::string numeric = I32(static_cast<int32_t>(kNumericOid));
  ASSERT_TRUE(raw.SendMessage('P', Str("") + Str("echo $1") + I16(1) + numeric));
  ASSERT_TRUE(
      raw.SendMessage('B', Str("") + Str("") + I16(0) + I16(1) + I32(1) + "1" + I16(1) + I16(1)));
  ASSERT_TRUE(raw.SendMessage('S', ""));
  std::vector<Message> messages;
  EXPECT_EQ(raw.ReadUntilReady(&messages), "1EZ");
  EXPECT_EQ(ErrorFields(messages[1].payload)['C'], "0A000");
}

TEST_F(ServerTest, SimpleQueryRowDescriptionBytes) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.Login());
  ASSERT_TRUE(raw.SendMessage('Q', Str("rows 1")));
  std::vector<Message> messages;
  EXPECT_EQ(raw.ReadUntilReady(&messages), "TDCZ");
  EXPECT_EQ(messages[0].payload,
            I16(1) + Str("n") + I32(0) + I16(0) + I32(kInt4Oid) + I16(4) + I32(-1) + I16(0));
  EXPECT_EQ(messages[1].payload, I16(1) + I32(1) + "1");
  EXPECT_EQ(messages[2].payload, Str("SELECT 1"));
  ASSERT_TRUE(raw.SendMessage('Q', Str("")));
  EXPECT_EQ(raw.ReadUntilReady(), "IZ");
  ASSERT_TRUE(raw.SendMessage('X', ""));
  EXPECT_TRUE(raw.ReadsEof());
}

// ---------------------------------------------------------------------------------------------
// Raw protocol: robustness

void ExpectProtocolViolation(RawClient* raw) {
  Message m = raw->Read();
  ASSERT_EQ(m.type, 'E');
  auto fields = ErrorFields(m.payload);
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_EQ(fields['C'], "08P01");
  EXPECT_TRUE(raw->ReadsEof());
}

TEST_F(ServerTest, MalformedMessagesGet08P01AndClose) {
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.Send(std::string("Q") + I32(2)));  // length < 4
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.Send(std::string("Q") + I32((1 << 30) + 1)));  // > 1 GiB
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.Send(std::string("S") + I32(10001)));  // a Sync cannot be that long
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.SendMessage('y', ""));  // unknown type
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.SendMessage('Q', "no terminator"));
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.SendMessage('B', Str("") + Str("")));  // truncated Bind
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send(I32(3) + I32(0)));  // startup packet too short
    ExpectProtocolViolation(&raw);
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send(I32(100000)));  // startup packet too long
    ExpectProtocolViolation(&raw);
  }
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
}

TEST_F(ServerTest, DisconnectMidMessageEndsTheConnectionThread) {
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.Send(std::string("Q") + I32(100) + "SELECT par"));
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send(I32(40) + I32(kProtocolVersion3) + "us"));  // half a startup packet
  }
  {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Login());
    ASSERT_TRUE(raw.Send("Q\0\0"));  // half a header
  }
  EXPECT_TRUE(Eventually([&] { return server_->active_connections() == 0; }));
  // The server is still healthy.
  PGconn* conn = Connect();
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
}

// ---------------------------------------------------------------------------------------------
// psql

TEST_F(ServerTest, PsqlRunsQueries) {
  std::string out;
  EXPECT_EQ(RunPsql("-U u -d db -c 'SELECT from psql'", &out), 0) << out;
  EXPECT_EQ(out, "from psql\n");
  EXPECT_EQ(RunPsql("-U u -d db -c 'rows 3'", &out), 0) << out;
  EXPECT_EQ(out, "1\n2\n3\n");
  EXPECT_EQ(RunPsql("-U u -d db -c 'notice'", &out), 0) << out;
  EXPECT_EQ(out, "NOTICE:  hello notice\nDO\n");
}

TEST_F(ServerTest, PsqlReportsErrors) {
  std::string out;
  EXPECT_EQ(RunPsql("-U u -d db -v ON_ERROR_STOP=1 -c 'fail'", &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("ERROR:  relation \"missing\" does not exist"));
  EXPECT_EQ(RunPsql("-U u -d missing -c 'SELECT x'", &out), 2) << out;
  EXPECT_THAT(out, HasSubstr("FATAL:  database \"missing\" does not exist"));
}

TEST_F(ServerTest, PsqlWithPassword) {
  std::string out;
  EXPECT_EQ(RunPsql("-U secret -d db -c 'SELECT in'", &out, "PGPASSWORD=s3cret"), 0) << out;
  EXPECT_EQ(out, "in\n");
  EXPECT_EQ(RunPsql("-U secret -d db -c 'SELECT in'", &out, "PGPASSWORD=nope"), 2) << out;
  EXPECT_THAT(out, HasSubstr("password authentication failed for user \"secret\""));
}

}  // namespace
}  // namespace rwmeta::pgwire
