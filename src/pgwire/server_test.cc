// The pgwire server's life cycle, startup and authentication, and psql, against the fake front
// end of testing/server_test_fixture.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgwire/testing/server_test_fixture.h"

// In the fixture's namespace, whose names (ServerTest, RawClient, ...) the tests use unqualified.
namespace rwmeta::pgwire::server_test {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Pair;

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
}  // namespace rwmeta::pgwire::server_test
