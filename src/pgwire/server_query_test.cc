// The pgwire server's simple and extended query protocols through libpq, against the fake front
// end of testing/server_test_fixture.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgwire/testing/server_test_fixture.h"

// In the fixture's namespace, whose names (ServerTest, RawClient, ...) the tests use unqualified.
namespace rwmeta::pgwire::server_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace rwmeta::pgwire::server_test
