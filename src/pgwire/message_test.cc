// Unit tests of the pieces under the pgwire server: framing, MD5 authentication, value
// conversions, and the Status → SQLSTATE table.
#include "pgwire/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/testing/status_matchers.h"
#include "pgwire/auth.h"
#include "pgwire/server.h"
#include "pgwire/session.h"
#include "pgwire/values.h"

namespace rwmeta::pgwire {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MessageWriterTest, FramesTypeLengthAndFields) {
  std::string out;
  MessageWriter w(&out);
  w.Begin('Z');
  w.AddByte('I');
  w.End();
  w.Begin('C');
  w.AddCString("SELECT 1");
  w.End();
  w.Begin('D');
  w.AddInt16(1);
  w.AddInt32(-1);
  w.End();
  EXPECT_EQ(out, std::string("Z\0\0\0\5I", 6) + std::string("C\0\0\0\015SELECT 1\0", 14) +
                     std::string("D\0\0\0\012\0\1\xff\xff\xff\xff", 11));
}

TEST(MessageReaderTest, ReadsFieldsInOrder) {
  const std::string payload("name\0\0\2\0\0\1\0x", 12);
  MessageReader r(payload);
  ASSERT_OK_AND_ASSIGN(std::string name, r.GetCString());
  EXPECT_EQ(name, "name");
  ASSERT_OK_AND_ASSIGN(int16_t n, r.GetInt16());
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(int32_t v, r.GetInt32());
  EXPECT_EQ(v, 256);
  EXPECT_THAT(r.ExpectEnd(), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(std::string_view rest, r.GetBytes(1));
  EXPECT_EQ(rest, "x");
  EXPECT_OK(r.ExpectEnd());
}

TEST(MessageReaderTest, ShortPayloadIsProtocolViolation) {
  MessageReader r(std::string_view("\0\1", 2));
  Result<int32_t> v = r.GetInt32();
  EXPECT_THAT(v, StatusIs(StatusCode::kInvalidArgument, "invalid message format"));
  EXPECT_EQ(v.status().sqlstate(), "08P01");
  MessageReader unterminated("abc");
  EXPECT_THAT(unterminated.GetCString(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(unterminated.GetBytes(4), StatusIs(StatusCode::kInvalidArgument));
}

TEST(AuthTest, Md5MatchesPostgres) {
  // PostgreSQL stores md5(password || user): for postgres/postgres that is the well-known value.
  EXPECT_EQ(Md5Verifier("postgres", "postgres"), "md53175bce1d3201d16594cebf9d7eb3f9d");
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  const std::string salt("\1\2\3\4", 4);
  ASSERT_OK_AND_ASSIGN(std::string response,
                       Md5ChallengeResponse("md53175bce1d3201d16594cebf9d7eb3f9d", salt));
  EXPECT_EQ(response, "md568be9ed08db75f318087ab337aaea044");
  EXPECT_TRUE(CheckMd5Response("md53175bce1d3201d16594cebf9d7eb3f9d", salt, response));
  EXPECT_FALSE(CheckMd5Response("md53175bce1d3201d16594cebf9d7eb3f9d", "\1\2\3\5", response));
  EXPECT_FALSE(CheckMd5Response("md53175bce1d3201d16594cebf9d7eb3f9d", salt, "md5"));
  EXPECT_FALSE(CheckMd5Response("plaintext", salt, response));
  EXPECT_THAT(Md5ChallengeResponse("md5short", salt), StatusIs(StatusCode::kInvalidArgument));
}

std::string Be(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(ValuesTest, BinaryToTextForEachType) {
  EXPECT_EQ(*BinaryToText(kBoolOid, Be({1})), "t");
  EXPECT_EQ(*BinaryToText(kBoolOid, Be({0})), "f");
  EXPECT_EQ(*BinaryToText(kInt2Oid, Be({0xff, 0xfe})), "-2");
  EXPECT_EQ(*BinaryToText(kInt4Oid, Be({0, 1, 0, 0})), "65536");
  EXPECT_EQ(*BinaryToText(kInt8Oid, Be({0x80, 0, 0, 0, 0, 0, 0, 0})), "-9223372036854775808");
  EXPECT_EQ(*BinaryToText(kFloat4Oid, Be({0x3f, 0xc0, 0, 0})), "1.5");
  EXPECT_EQ(*BinaryToText(kFloat8Oid, Be({0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a})), "0.1");
  EXPECT_EQ(*BinaryToText(kFloat8Oid, Be({0x7f, 0xf8, 0, 0, 0, 0, 0, 0})), "NaN");
  EXPECT_EQ(*BinaryToText(kFloat8Oid, Be({0xff, 0xf0, 0, 0, 0, 0, 0, 0})), "-Infinity");
  EXPECT_EQ(*BinaryToText(kTextOid, "h\xc3\xa9"), "h\xc3\xa9");
}

TEST(ValuesTest, BinaryToTextErrors) {
  Result<std::string> short_int = BinaryToText(kInt4Oid, Be({0, 1}));
  EXPECT_THAT(short_int, StatusIs(StatusCode::kInvalidArgument, HasSubstr("2 bytes")));
  EXPECT_EQ(short_int.status().sqlstate(), "22P03");
  Result<std::string> numeric = BinaryToText(kNumericOid, Be({0}));
  EXPECT_THAT(numeric, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(numeric.status().sqlstate(), "0A000");
  EXPECT_FALSE(SupportsBinary(kJsonbOid));
  EXPECT_TRUE(SupportsBinary(kVarcharOid));
}

TEST(ValuesTest, TextToBinaryRoundTrips) {
  EXPECT_EQ(*TextToBinary(kBoolOid, "t"), Be({1}));
  EXPECT_EQ(*TextToBinary(kInt2Oid, "-2"), Be({0xff, 0xfe}));
  EXPECT_EQ(*TextToBinary(kInt4Oid, "65536"), Be({0, 1, 0, 0}));
  EXPECT_EQ(*TextToBinary(kInt8Oid, "1"), Be({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(*TextToBinary(kFloat4Oid, "1.5"), Be({0x3f, 0xc0, 0, 0}));
  EXPECT_EQ(*TextToBinary(kFloat8Oid, "-Infinity"), Be({0xff, 0xf0, 0, 0, 0, 0, 0, 0}));
  ASSERT_OK_AND_ASSIGN(std::string nan, TextToBinary(kFloat8Oid, "NaN"));
  EXPECT_EQ(*BinaryToText(kFloat8Oid, nan), "NaN");
  EXPECT_EQ(*TextToBinary(kTextOid, "abc"), "abc");
  Result<std::string> bad = TextToBinary(kInt2Oid, "70000");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, HasSubstr("70000")));
  EXPECT_EQ(bad.status().sqlstate(), "22P02");
  EXPECT_THAT(TextToBinary(kInt4Oid, ""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TextToBinary(kBoolOid, "maybe"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(SqlStateForTest, UsesAttachedSqlStateFirst) {
  EXPECT_EQ(SqlStateFor(NotFoundError("x").WithSqlState("42P01")), "42P01");
}

TEST(SqlStateForTest, DefaultsByCode) {
  EXPECT_EQ(SqlStateFor(InvalidArgumentError("x")), "22023");
  EXPECT_EQ(SqlStateFor(NotFoundError("x")), "42704");
  EXPECT_EQ(SqlStateFor(AlreadyExistsError("x")), "42710");
  EXPECT_EQ(SqlStateFor(PermissionDeniedError("x")), "42501");
  EXPECT_EQ(SqlStateFor(FailedPreconditionError("x")), "55000");
  EXPECT_EQ(SqlStateFor(UnimplementedError("x")), "0A000");
  EXPECT_EQ(SqlStateFor(UnauthenticatedError("x")), "28000");
  EXPECT_EQ(SqlStateFor(AbortedError("x")), "40001");
  EXPECT_EQ(SqlStateFor(UnavailableError("x")), "58030");
  EXPECT_EQ(SqlStateFor(DataLossError("x")), "XX001");
  EXPECT_EQ(SqlStateFor(InternalError("x")), "XX000");
  EXPECT_EQ(SqlStateFor(OutOfRangeError("x")), "XX000");
  EXPECT_EQ(SqlStateFor(CancelledError("x")), "XX000");
}

}  // namespace
}  // namespace rwmeta::pgwire
