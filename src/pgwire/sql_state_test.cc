#include "pgwire/sql_state.h"

#include <gtest/gtest.h>

namespace rwmeta::pgwire {
namespace {

// The table of sql_state.h, row by row: a client's or the environment's error never reaches
// psql as internal_error.
TEST(SqlStateTest, EachCodeHasItsState) {
  EXPECT_EQ(SqlStateForCode(StatusCode::kInvalidArgument), "22023");
  EXPECT_EQ(SqlStateForCode(StatusCode::kNotFound), "42704");
  EXPECT_EQ(SqlStateForCode(StatusCode::kAlreadyExists), "42710");
  EXPECT_EQ(SqlStateForCode(StatusCode::kPermissionDenied), "42501");
  EXPECT_EQ(SqlStateForCode(StatusCode::kFailedPrecondition), "55000");
  EXPECT_EQ(SqlStateForCode(StatusCode::kResourceExhausted), "53400");
  EXPECT_EQ(SqlStateForCode(StatusCode::kAborted), "40001");
  EXPECT_EQ(SqlStateForCode(StatusCode::kUnavailable), "58030");
  EXPECT_EQ(SqlStateForCode(StatusCode::kDeadlineExceeded), "58030");
  EXPECT_EQ(SqlStateForCode(StatusCode::kDataLoss), "XX001");
  EXPECT_EQ(SqlStateForCode(StatusCode::kUnimplemented), "0A000");
  EXPECT_EQ(SqlStateForCode(StatusCode::kUnauthenticated), "28000");
  EXPECT_EQ(SqlStateForCode(StatusCode::kInternal), "XX000");
  EXPECT_EQ(SqlStateForCode(StatusCode::kUnknown), "XX000");
}

}  // namespace
}  // namespace rwmeta::pgwire
