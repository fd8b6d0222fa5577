#include "metastore/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ModelTest, CompiledModelIsConsistent) { EXPECT_OK(Model::Get().Validate()); }

TEST(ModelTest, HasTheTablesTheFoundationNeeds) {
  for (const char* name : {"cluster", "system_parameter", "id_sequence", "worker", "user", "object",
                           "database", "schema", "table", "view", "index", "source", "sink",
                           "secret", "user_privilege", "hummock_version_delta",
                           "hummock_version_stats"}) {
    EXPECT_NE(Model::Get().Find(name), nullptr) << name;
  }
}

TEST(ModelTest, ValidateRowChecksArityTypeAndNulls) {
  const TableSchema& t = Model::Get().Table("system_parameter");
  EXPECT_OK(ValidateRow(t, Row{std::string("a"), std::string("b"), true, std::monostate{}}));
  EXPECT_THAT(ValidateRow(t, Row{std::string("a")}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 values, expected 4")));
  EXPECT_THAT(ValidateRow(t, Row{std::string("a"), int64_t{1}, true, std::monostate{}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("column value expects text")));
  EXPECT_THAT(ValidateRow(t, Row{std::monostate{}, std::string("b"), true, std::monostate{}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("column name is not nullable")));
}

TEST(ModelTest, ValidateCatchesAChildBeforeItsParent) {
  TableSchema child{"child", {{"id", ColumnType::kInt64}, {"p", ColumnType::kInt64}}, {"id"}, {},
                    {{{"p"}, "parent", {"id"}, false}}};
  TableSchema parent{"parent", {{"id", ColumnType::kInt64}}, {"id"}, {}, {}};
  Model bad(1, {child, parent});
  EXPECT_THAT(bad.Validate(), StatusIs(StatusCode::kInternal, HasSubstr("before its parent")));
  Model good(1, {parent, child});
  EXPECT_OK(good.Validate());
}

TEST(ModelTest, KeyOfAndValueToString) {
  const TableSchema& t = Model::Get().Table("schema");
  Row r{int64_t{7}, int64_t{1}, std::string("public")};
  EXPECT_EQ(KeyOf(t, r), Key{int64_t{7}});
  EXPECT_EQ(ValueToString(std::string("\x00\xff", 2), ColumnType::kBytes), "x'00ff'");
  EXPECT_EQ(ValueToString(std::monostate{}, ColumnType::kText), "NULL");
}

}  // namespace
}  // namespace rwmeta::metastore
