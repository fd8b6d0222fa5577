// The pgwire server at the byte level through a raw socket: portal suspension, transaction blocks,
// protocol negotiation, error recovery, malformed messages and disconnects, against the fake front
// end of testing/server_test_fixture.h.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "pgwire/testing/server_test_fixture.h"

// In the fixture's namespace, whose names (ServerTest, RawClient, ...) the tests use unqualified.
namespace rwmeta::pgwire::server_test {
namespace {

using ::testing::ElementsAre;

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

}  // namespace
}  // namespace rwmeta::pgwire::server_test
