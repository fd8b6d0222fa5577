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
  for (const char* name :
       {"cluster", "system_parameter", "id_sequence", "worker", "user", "object", "database",
        "schema", "table", "view", "index", "source", "sink", "secret", "user_privilege",
        "hummock_version_delta", "hummock_version_stats"}) {
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
  TableSchema child{"child",
                    {{"id", ColumnType::kInt64}, {"p", ColumnType::kInt64}},
                    {"id"},
                    {},
                    {{{"p"}, "parent", {"id"}, false}}};
  TableSchema parent{"parent", {{"id", ColumnType::kInt64}}, {"id"}, {}, {}};
  Model bad(1, {child, parent});
  EXPECT_THAT(bad.Validate(), StatusIs(StatusCode::kInternal, HasSubstr("before its parent")));
  Model good(1, {parent, child});
  EXPECT_OK(good.Validate());
}

TEST(ModelTest, ValidateKeyChecksArityTypeAndNulls) {
  const TableSchema& t = Model::Get().Table("schema");
  EXPECT_OK(ValidateKey(t, Key{int64_t{7}}));
  EXPECT_THAT(ValidateKey(t, Key{}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("0 values")));
  EXPECT_THAT(
      ValidateKey(t, Key{std::string("7")}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("key column schema_id expects int64")));
  EXPECT_THAT(ValidateKey(t, Key{std::monostate{}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is NULL")));
}

TEST(ModelTest, ValidateRequiresAddedColumnsToBeAppended) {
  TableSchema t{
      "t",
      {{"id", ColumnType::kInt64}, {"new", ColumnType::kText, true, 2}, {"old", ColumnType::kText}},
      {"id"},
      {},
      {}};
  EXPECT_THAT(Model(2, {t}).Validate(),
              StatusIs(StatusCode::kInternal, HasSubstr("column old is listed after")));
  std::swap(t.columns[1], t.columns[2]);
  EXPECT_OK(Model(2, {t}).Validate());
}

TEST(ModelTest, IdSequencesNumberOneInt64Key) {
  TableSchema t{"t", {{"id", ColumnType::kText}}, {"id"}, {}, {}};
  t.id_sequence = "t";
  EXPECT_THAT(Model(1, {t}).Validate(),
              StatusIs(StatusCode::kInternal, HasSubstr("id_sequence t on a primary key")));
  t.columns[0].type = ColumnType::kInt64;
  EXPECT_OK(Model(1, {t}).Validate());
  // The sequences the catalog and backup jobs allocate keys from (catalog_manager.cc and
  // backup_manager.cc call NextKey / NextId with these).
  EXPECT_EQ(Model::Get().Table("object").id_sequence, "object");
  EXPECT_EQ(Model::Get().Table("user").id_sequence, "user");
  EXPECT_EQ(Model::Get().Table("backup_job").id_sequence, std::string(kSnapshotIdSequence));
  EXPECT_EQ(Model::Get().Table("database").id_sequence, "");
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
