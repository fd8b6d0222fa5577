#include "frontend/sql/datum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/testing/status_matchers.h"
#include "frontend/sql/decimal.h"

namespace rwmeta::frontend::sql {
namespace {

using ::rwmeta::testing::StatusIs;

std::string RoundTrip(const std::string& text, TypeId t) {
  auto d = DatumFromText(text, t);
  if (!d.ok()) return "ERR " + d.status().ToString();
  return DatumToText(*d, t).value_or("NULL");
}

TEST(DatumTest, TypeNamesAndAliases) {
  struct Case {
    const char* name;
    TypeId type;
  } cases[] = {{"int", TypeId::kInt32},
               {"INT4", TypeId::kInt32},
               {"integer", TypeId::kInt32},
               {"int2", TypeId::kInt16},
               {"smallint", TypeId::kInt16},
               {"int8", TypeId::kInt64},
               {"bigint", TypeId::kInt64},
               {"real", TypeId::kFloat32},
               {"float4", TypeId::kFloat32},
               {"double  precision", TypeId::kFloat64},
               {"float8", TypeId::kFloat64},
               {"float", TypeId::kFloat64},
               {"numeric(10,2)", TypeId::kDecimal},
               {"decimal", TypeId::kDecimal},
               {"varchar(20)", TypeId::kVarchar},
               {"character varying", TypeId::kVarchar},
               {"text", TypeId::kVarchar},
               {"bool", TypeId::kBoolean},
               {"boolean", TypeId::kBoolean},
               {"date", TypeId::kDate},
               {"timestamp", TypeId::kTimestamp},
               {"timestamp without time zone", TypeId::kTimestamp},
               {"jsonb", TypeId::kJsonb},
               {"bytea", TypeId::kBytea},
               {"name", TypeId::kVarchar},
               {"oid", TypeId::kInt64},
               {"text[]", TypeId::kTextArray},
               {"bpchar", TypeId::kVarchar},
               {"character(10)", TypeId::kVarchar}};
  for (const Case& c : cases) {
    auto t = TypeFromName(c.name);
    ASSERT_TRUE(t.ok()) << c.name;
    EXPECT_EQ(*t, c.type) << c.name;
  }
  auto bad = TypeFromName("blob");
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, "type \"blob\" does not exist"));
  EXPECT_EQ(bad.status().sqlstate(), "42704");
}

TEST(DatumTest, OidsSizesNames) {
  EXPECT_EQ(PgTypeOid(TypeId::kInt32), 23u);
  EXPECT_EQ(PgTypeOid(TypeId::kVarchar), 1043u);
  EXPECT_EQ(PgTypeOid(TypeId::kTimestamp), 1114u);
  EXPECT_EQ(PgTypeOid(TypeId::kTextArray), 1009u);
  EXPECT_EQ(PgTypeSize(TypeId::kInt64), 8);
  EXPECT_EQ(PgTypeSize(TypeId::kVarchar), -1);
  EXPECT_EQ(TypeName(TypeId::kFloat64), "double precision");
}

TEST(DatumTest, FloatTextIsShortestRoundTrip) {
  EXPECT_EQ(DatumToText(Datum{0.1 + 0.2}, TypeId::kFloat64), "0.30000000000000004");
  EXPECT_EQ(DatumToText(Datum{1e15}, TypeId::kFloat64), "1e+15");
  EXPECT_EQ(DatumToText(Datum{1e14}, TypeId::kFloat64), "100000000000000");
  EXPECT_EQ(DatumToText(Datum{1e-4}, TypeId::kFloat64), "0.0001");
  EXPECT_EQ(DatumToText(Datum{1e-5}, TypeId::kFloat64), "1e-05");
  EXPECT_EQ(DatumToText(Datum{-2.5}, TypeId::kFloat64), "-2.5");
  EXPECT_EQ(DatumToText(Datum{1e6}, TypeId::kFloat32), "1e+06");
  EXPECT_EQ(RoundTrip("123456789", TypeId::kFloat32), "1.2345679e+08");
  EXPECT_EQ(DatumToText(Datum{std::nan("")}, TypeId::kFloat64), "NaN");
  EXPECT_EQ(RoundTrip("-Infinity", TypeId::kFloat64), "-Infinity");
}

TEST(DatumTest, BoolIntegerText) {
  EXPECT_EQ(RoundTrip("true", TypeId::kBoolean), "t");
  EXPECT_EQ(RoundTrip(" OFF ", TypeId::kBoolean), "f");
  EXPECT_EQ(RoundTrip("y", TypeId::kBoolean), "t");
  EXPECT_EQ(RoundTrip("of", TypeId::kBoolean), "f");
  EXPECT_EQ(RoundTrip(" 42 ", TypeId::kInt32), "42");
  EXPECT_EQ(RoundTrip("-32768", TypeId::kInt16), "-32768");
  auto bad = DatumFromText("maybe", TypeId::kBoolean);
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument,
                            "invalid input syntax for type boolean: \"maybe\""));
  EXPECT_EQ(bad.status().sqlstate(), "22P02");
  auto big = DatumFromText("2147483648", TypeId::kInt32);
  EXPECT_THAT(big, StatusIs(StatusCode::kOutOfRange,
                            "value \"2147483648\" is out of range for type integer"));
  EXPECT_EQ(big.status().sqlstate(), "22003");
  EXPECT_THAT(DatumFromText("12a", TypeId::kInt64), StatusIs(StatusCode::kInvalidArgument));
}

TEST(DatumTest, DateAndTimestamp) {
  EXPECT_EQ(RoundTrip("2024-02-29", TypeId::kDate), "2024-02-29");
  EXPECT_EQ(RoundTrip("1969-12-31", TypeId::kDate), "1969-12-31");
  ASSERT_OK_AND_ASSIGN(Datum d, DatumFromText("1970-01-02", TypeId::kDate));
  EXPECT_EQ(std::get<int64_t>(d.v), 1);
  EXPECT_EQ(RoundTrip("2024-01-02 03:04:05", TypeId::kTimestamp), "2024-01-02 03:04:05");
  EXPECT_EQ(RoundTrip("2024-01-02T03:04:05.100", TypeId::kTimestamp), "2024-01-02 03:04:05.1");
  EXPECT_EQ(RoundTrip("1960-06-01 00:00:00.000001", TypeId::kTimestamp),
            "1960-06-01 00:00:00.000001");
  EXPECT_EQ(RoundTrip("2024-01-02", TypeId::kTimestamp), "2024-01-02 00:00:00");
  EXPECT_THAT(DatumFromText("2023-02-29", TypeId::kDate), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DatumFromText("yesterday", TypeId::kTimestamp),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(DatumTest, ByteaJsonbArrays) {
  EXPECT_EQ(DatumToText(Datum{std::string("\x01\xab", 2)}, TypeId::kBytea), "\\x01ab");
  EXPECT_EQ(RoundTrip("\\x0102ff", TypeId::kBytea), "\\x0102ff");
  EXPECT_EQ(RoundTrip(R"({"b":1,"a":[1,2],"aa":null})", TypeId::kJsonb),
            R"({"a": [1, 2], "b": 1, "aa": null})");
  EXPECT_THAT(DatumFromText("{bad", TypeId::kJsonb), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(
      DatumToText(Datum{std::vector<std::string>{"a b", "", "x\"y", "c"}}, TypeId::kTextArray),
      R"({"a b","","x\"y",c})");
  EXPECT_EQ(RoundTrip(R"({a, "b c" ,d})", TypeId::kTextArray), R"({a,"b c",d})");
  EXPECT_EQ(RoundTrip("{}", TypeId::kTextArray), "{}");
  EXPECT_THAT(DatumFromText("a,b", TypeId::kTextArray), StatusIs(StatusCode::kInvalidArgument));
}

TEST(DatumTest, DecimalCanonical) {
  EXPECT_EQ(RoundTrip("1.50", TypeId::kDecimal), "1.50");
  EXPECT_EQ(RoundTrip("+007.5", TypeId::kDecimal), "7.5");
  EXPECT_EQ(RoundTrip("-0.001", TypeId::kDecimal), "-0.001");
  EXPECT_EQ(RoundTrip("1e3", TypeId::kDecimal), "1000");
  EXPECT_EQ(RoundTrip("1.5e-2", TypeId::kDecimal), "0.015");
  EXPECT_THAT(DatumFromText("1.2.3", TypeId::kDecimal), StatusIs(StatusCode::kInvalidArgument));
}

TEST(DecimalTest, DivisionScaleMatchesPostgres) {
  auto div = [](const char* a, const char* b) {
    return DecimalDiv(*Decimal::Parse(a), *Decimal::Parse(b))->ToString();
  };
  EXPECT_EQ(div("1", "3"), "0.33333333333333333333");
  EXPECT_EQ(div("2.0", "3.0"), "0.66666666666666666667");
  EXPECT_EQ(div("3", "2"), "1.5000000000000000");
  EXPECT_EQ(div("10", "3"), "3.3333333333333333");
  EXPECT_EQ(div("-1", "3"), "-0.33333333333333333333");
  EXPECT_THAT(DecimalDiv(*Decimal::Parse("1"), *Decimal::Parse("0")),
              StatusIs(StatusCode::kInvalidArgument, "division by zero"));
}

}  // namespace
}  // namespace rwmeta::frontend::sql
