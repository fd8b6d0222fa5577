// Test-only: what the pgwire server tests (server_test.cc, server_query_test.cc,
// server_protocol_test.cc) share. They drive the server with real clients (libpq, the psql binary)
// and with a raw socket for the byte-level cases (framing errors, portal suspension, disconnects).
// The SQL side is a small fake front end (FakeSession) whose statements are:
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
#pragma once

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
#include "pgwire/server.h"

namespace rwmeta::pgwire::server_test {

using Clock = std::chrono::steady_clock;
inline constexpr auto kDeadline = std::chrono::seconds(10);

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

inline ResultSet Rows(int n) {
  ResultSet rs;
  rs.command_tag = "SELECT " + std::to_string(n);
  rs.returns_rows = true;
  rs.fields = {Field{"n", kInt4Oid, 4}};
  for (int i = 1; i <= n; ++i) rs.rows.push_back({std::to_string(i)});
  return rs;
}

// Placeholders $1..$n used in `sql`: n.
inline size_t CountParams(std::string_view sql) {
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
inline std::map<char, std::string> ErrorFields(const std::string& payload) {
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

inline std::string Str(std::string_view s) { return std::string(s) + '\0'; }
inline std::string I16(int16_t v) {
  std::string s;
  AppendInt16(&s, v);
  return s;
}
inline std::string I32(int32_t v) {
  std::string s;
  AppendInt32(&s, v);
  return s;
}

// DataRow payload → its values (NULL as "<null>").
inline std::vector<std::string> DataRowValues(const std::string& payload) {
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

inline std::string SqlState(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

}  // namespace rwmeta::pgwire::server_test
