#include "frontend/sql_state.h"

#include <gtest/gtest.h>

namespace rwmeta::frontend {
namespace {

TEST(SqlStateTest, AnAttachedStateIsKept) {
  EXPECT_EQ(WithSqlStateOfCode(DataLossError("x")).sqlstate(), "XX001");
  EXPECT_EQ(WithSqlStateOfCode(NotFoundError("x").WithSqlState("42P01")).sqlstate(), "42P01");
  EXPECT_EQ(WithSqlStateOfCode(UnavailableError("down")).message(), "down");
  EXPECT_TRUE(WithSqlStateOfCode(Status::Ok()).ok());
}

}  // namespace
}  // namespace rwmeta::frontend
