#include "metastore/sql/schema_sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore::sql {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// v1: "user" and "table" (reserved words) with a unique key, a cascading and a refusing foreign
// key. v2: adds the nullable column "table".note and the table "index".
Model TestModel(int version) {
  using T = ColumnType;
  std::vector<TableSchema> tables;
  tables.push_back({"user", {{"id", T::kInt64}, {"name", T::kText}}, {"id"}, {{"name"}}, {}});
  TableSchema table{"table",
                    {{"id", T::kInt64},
                     {"owner", T::kInt64},
                     {"parent", T::kInt64, /*nullable=*/true},
                     {"ok", T::kBool},
                     {"score", T::kDouble},
                     {"blob", T::kBytes, true},
                     {"doc", T::kJson}},
                    {"id"},
                    {},
                    {{{"owner"}, "user", {"id"}, /*on_delete_cascade=*/true},
                     {{"parent"}, "table", {"id"}, false}}};
  if (version >= 2) table.columns.push_back({"note", T::kText, true, 2});
  tables.push_back(table);
  if (version >= 2) {
    TableSchema index{"index",
                      {{"table_id", T::kInt64, false, 2}, {"name", T::kText, false, 2}},
                      {"table_id", "name"},
                      {},
                      {{{"table_id"}, "table", {"id"}, true}}};
    index.added_in_version = 2;
    tables.push_back(index);
  }
  return Model(version, tables);
}

TEST(SchemaSqlTest, QuotesIdentifiers) {
  EXPECT_EQ(QuoteIdentifier(SqlDialect::kSqlite, "user"), "\"user\"");
  EXPECT_EQ(QuoteIdentifier(SqlDialect::kPostgres, "a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdentifier(SqlDialect::kMysql, "a`b"), "`a``b`");
}

TEST(SchemaSqlTest, SqliteCreateTableGolden) {
  Model m = TestModel(1);
  ASSERT_OK(m.Validate());
  EXPECT_THAT(
      CreateTableSql(SqlDialect::kSqlite, m.Table("table"), 1),
      ElementsAre("CREATE TABLE \"table\" (\n"
                  "  \"id\" INTEGER NOT NULL,\n"
                  "  \"owner\" INTEGER NOT NULL,\n"
                  "  \"parent\" INTEGER,\n"
                  "  \"ok\" INTEGER NOT NULL,\n"
                  "  \"score\" REAL NOT NULL,\n"
                  "  \"blob\" BLOB,\n"
                  "  \"doc\" TEXT NOT NULL,\n"
                  "  PRIMARY KEY (\"id\"),\n"
                  "  FOREIGN KEY (\"owner\") REFERENCES \"user\" (\"id\") ON DELETE CASCADE,\n"
                  "  FOREIGN KEY (\"parent\") REFERENCES \"table\" (\"id\") ON DELETE NO ACTION\n"
                  ") STRICT",
                  "CREATE INDEX \"rwmeta_idx_table_owner\" ON \"table\" (\"owner\")",
                  "CREATE INDEX \"rwmeta_idx_table_parent\" ON \"table\" (\"parent\")"));
  EXPECT_THAT(CreateTableSql(SqlDialect::kSqlite, m.Table("user"), 1),
              ElementsAre("CREATE TABLE \"user\" (\n"
                          "  \"id\" INTEGER NOT NULL,\n"
                          "  \"name\" TEXT NOT NULL,\n"
                          "  PRIMARY KEY (\"id\"),\n"
                          "  UNIQUE (\"name\")\n"
                          ") STRICT"));
}

TEST(SchemaSqlTest, PostgresCreateTableGolden) {
  Model m = TestModel(1);
  EXPECT_THAT(
      CreateTableSql(SqlDialect::kPostgres, m.Table("table"), 1),
      ElementsAre("CREATE TABLE \"table\" (\n"
                  "  \"id\" BIGINT NOT NULL,\n"
                  "  \"owner\" BIGINT NOT NULL,\n"
                  "  \"parent\" BIGINT,\n"
                  "  \"ok\" BOOLEAN NOT NULL,\n"
                  "  \"score\" DOUBLE PRECISION NOT NULL,\n"
                  "  \"blob\" BYTEA,\n"
                  "  \"doc\" TEXT COLLATE \"C\" NOT NULL,\n"
                  "  PRIMARY KEY (\"id\"),\n"
                  "  FOREIGN KEY (\"owner\") REFERENCES \"user\" (\"id\") ON DELETE CASCADE,\n"
                  "  FOREIGN KEY (\"parent\") REFERENCES \"table\" (\"id\") ON DELETE NO ACTION\n"
                  ")",
                  "CREATE INDEX \"rwmeta_idx_table_owner\" ON \"table\" (\"owner\")",
                  "CREATE INDEX \"rwmeta_idx_table_parent\" ON \"table\" (\"parent\")"));
}

TEST(SchemaSqlTest, MysqlBoundsKeyColumns) {
  Model m = TestModel(1);
  std::string create = CreateTableSql(SqlDialect::kMysql, m.Table("user"), 1).front();
  EXPECT_THAT(create, HasSubstr("`name` VARCHAR(255) NOT NULL"));
  EXPECT_THAT(create, HasSubstr("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
}

TEST(SchemaSqlTest, MigrationStepsGolden) {
  Model v2 = TestModel(2);
  ASSERT_OK(v2.Validate());
  ASSERT_OK_AND_ASSIGN(MigrationStep first, MigrationStepSql(SqlDialect::kSqlite, v2, 1));
  EXPECT_EQ(first.description, "add tables user, table");
  // Version 1 creates the tables as they were in version 1: no "note" column yet.
  ASSERT_EQ(first.statements.size(), 4u);
  EXPECT_THAT(first.statements[1], ::testing::Not(HasSubstr("note")));

  ASSERT_OK_AND_ASSIGN(MigrationStep second, MigrationStepSql(SqlDialect::kPostgres, v2, 2));
  EXPECT_EQ(second.description, "add tables index; add columns table.note");
  EXPECT_THAT(
      second.statements,
      ElementsAre("ALTER TABLE \"table\" ADD COLUMN \"note\" TEXT COLLATE \"C\"",
                  "CREATE TABLE \"index\" (\n"
                  "  \"table_id\" BIGINT NOT NULL,\n"
                  "  \"name\" TEXT COLLATE \"C\" NOT NULL,\n"
                  "  PRIMARY KEY (\"table_id\", \"name\"),\n"
                  "  FOREIGN KEY (\"table_id\") REFERENCES \"table\" (\"id\") ON DELETE CASCADE\n"
                  ")"));

  EXPECT_THAT(MigrationStepSql(SqlDialect::kSqlite, v2, 3),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("model version 2")));
  EXPECT_THAT(MigrationStepSql(SqlDialect::kSqlite, v2, 0), StatusIs(StatusCode::kInvalidArgument));
}

TEST(SchemaSqlTest, BookkeepingGolden) {
  EXPECT_EQ(CreateMigrationsTableSql(SqlDialect::kSqlite),
            "CREATE TABLE IF NOT EXISTS \"rwmeta_migrations\" (\n"
            "  \"version\" INTEGER NOT NULL,\n"
            "  \"applied_at_ms\" INTEGER NOT NULL,\n"
            "  \"description\" TEXT NOT NULL,\n"
            "  PRIMARY KEY (\"version\")\n"
            ") STRICT");
  EXPECT_EQ(RecordMigrationSql(SqlDialect::kPostgres),
            "INSERT INTO \"rwmeta_migrations\" (\"version\", \"applied_at_ms\", \"description\") "
            "VALUES ($1, $2, $3)");
  EXPECT_EQ(CurrentVersionSql(SqlDialect::kSqlite),
            "SELECT MAX(\"version\") FROM \"rwmeta_migrations\"");
}

TEST(SchemaSqlTest, DmlGolden) {
  Model m = TestModel(2);
  TableDml pg = TableDmlSql(SqlDialect::kPostgres, m.Table("index"));
  EXPECT_EQ(
      pg.select_by_key,
      "SELECT \"table_id\", \"name\" FROM \"index\" WHERE \"table_id\" = $1 AND \"name\" = $2");
  EXPECT_EQ(pg.scan,
            "SELECT \"table_id\", \"name\" FROM \"index\" ORDER BY \"table_id\", \"name\"");
  EXPECT_EQ(pg.insert, "INSERT INTO \"index\" (\"table_id\", \"name\") VALUES ($1, $2)");
  EXPECT_EQ(pg.update, "");  // every column is a key column
  EXPECT_EQ(pg.delete_by_key, "DELETE FROM \"index\" WHERE \"table_id\" = $1 AND \"name\" = $2");
  TableDml lite = TableDmlSql(SqlDialect::kSqlite, m.Table("user"));
  EXPECT_EQ(lite.update, "UPDATE \"user\" SET \"name\" = ? WHERE \"id\" = ?");
  EXPECT_EQ(lite.count, "SELECT COUNT(*) FROM \"user\"");
}

TEST(SchemaSqlTest, BulkLoadStatementsGolden) {
  Model m = TestModel(2);
  EXPECT_EQ(MultiRowInsertSql(SqlDialect::kPostgres, m.Table("index"), 2),
            "INSERT INTO \"index\" (\"table_id\", \"name\") VALUES ($1, $2), ($3, $4)");
  EXPECT_EQ(MultiRowInsertSql(SqlDialect::kMysql, m.Table("user"), 3),
            "INSERT INTO `user` (`id`, `name`) VALUES (?, ?), (?, ?), (?, ?)");
  EXPECT_EQ(MultiRowInsertSql(SqlDialect::kMysql, m.Table("user"), 1),
            "INSERT INTO `user` (`id`, `name`) VALUES (?, ?)");
  EXPECT_EQ(CopyInSql(m.Table("user")),
            "COPY \"user\" (\"id\", \"name\") FROM STDIN (FORMAT binary)");
}

TEST(SchemaSqlTest, WholeModelCreatesEveryTableInSqlite) {
  ASSERT_OK_AND_ASSIGN(MigrationStep step, MigrationStepSql(SqlDialect::kSqlite, Model::Get(), 1));
  int creates = 0;
  for (const auto& s : step.statements) creates += s.rfind("CREATE TABLE", 0) == 0 ? 1 : 0;
  EXPECT_EQ(creates, static_cast<int>(Model::Get().tables().size()));
}

}  // namespace
}  // namespace rwmeta::metastore::sql
