#include "common/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  RWMETA_ASSIGN_OR_RETURN(int h, Half(x));
  RWMETA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RWMETA_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CodesKeepGrpcNumbers) {
  EXPECT_EQ(static_cast<int>(StatusCode::kNotFound), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::kFailedPrecondition), 9);
  EXPECT_EQ(static_cast<int>(StatusCode::kAborted), 10);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnavailable), 14);
  EXPECT_EQ(static_cast<int>(StatusCode::kDataLoss), 15);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnauthenticated), 16);
}

TEST(StatusTest, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(DataLossError("snapshot 7: chunk 3 checksum mismatch").ToString(),
            "DATA_LOSS: snapshot 7: chunk 3 checksum mismatch");
}

TEST(StatusTest, ContextAndSqlStateAreKept) {
  Status s = AlreadyExistsError("table t exists").WithSqlState("42P07").WithContext("create");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "create: table t exists");
  EXPECT_EQ(s.sqlstate(), "42P07");
  EXPECT_TRUE(Status().WithContext("x").ok());
}

TEST(ResultTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, HasSubstr("odd: 3")));
  EXPECT_THAT(CheckEven(5), StatusIs(StatusCode::kInvalidArgument, "odd: 5"));
  EXPECT_OK(CheckEven(4));
}

TEST(ResultTest, ValueOr) {
  EXPECT_EQ(Half(3).value_or(-1), -1);
  EXPECT_EQ(Half(4).value_or(-1), 2);
}

}  // namespace
}  // namespace rwmeta
