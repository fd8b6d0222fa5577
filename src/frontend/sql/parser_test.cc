#include "frontend/sql/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::frontend::sql {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<ParsedStatement> ParseOne(std::string_view sql) {
  RWMETA_ASSIGN_OR_RETURN(auto stmts, ParseSql(sql));
  if (stmts.size() != 1)
    return InternalError("expected one statement, got " + std::to_string(stmts.size()));
  return stmts[0];
}

TEST(ParserTest, EmptyAndCommentOnlyGiveNoStatements) {
  ASSERT_OK_AND_ASSIGN(auto a, ParseSql(""));
  EXPECT_TRUE(a.empty());
  ASSERT_OK_AND_ASSIGN(auto b, ParseSql("  -- just a comment\n /* and another */ ;"));
  EXPECT_TRUE(b.empty());
}

TEST(ParserTest, SelectGoesToLibpgQuery) {
  ASSERT_OK_AND_ASSIGN(auto s, ParseOne("SELECT 1 AS x;"));
  EXPECT_EQ(s.kind, StatementKind::kPostgres);
  ASSERT_TRUE(s.node.contains("SelectStmt"));
  EXPECT_EQ(s.text, "SELECT 1 AS x");
}

TEST(ParserTest, SplitsSeveralStatements) {
  ASSERT_OK_AND_ASSIGN(auto v, ParseSql("select 1; BACKUP; select ';' ; flush"));
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].kind, StatementKind::kPostgres);
  EXPECT_EQ(v[1].kind, StatementKind::kBackup);
  EXPECT_EQ(v[2].kind, StatementKind::kPostgres);
  EXPECT_EQ(v[2].text, "select ';'");
  EXPECT_EQ(v[3].kind, StatementKind::kFlush);
}

TEST(ParserTest, BackupAndFlushAnyCaseWithComments) {
  ASSERT_OK_AND_ASSIGN(auto b, ParseOne("/* c */ BaCkUp -- trailing\n"));
  EXPECT_EQ(b.kind, StatementKind::kBackup);
  ASSERT_OK_AND_ASSIGN(auto f, ParseOne("  flush ;"));
  EXPECT_EQ(f.kind, StatementKind::kFlush);
}

TEST(ParserTest, BackupWithExtraWordIsSyntaxError) {
  auto r = ParseSql("BACKUP now");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "syntax error at or near \"now\""));
  EXPECT_EQ(r.status().sqlstate(), "42601");
}

TEST(ParserTest, DeleteMetaSnapshots) {
  ASSERT_OK_AND_ASSIGN(auto d, ParseOne("DELETE META SNAPSHOTS 1, 2,3"));
  EXPECT_EQ(d.kind, StatementKind::kDeleteMetaSnapshots);
  EXPECT_THAT(d.snapshot_ids, ElementsAre(1u, 2u, 3u));
  ASSERT_OK_AND_ASSIGN(auto s, ParseOne("delete meta snapshot 18446744073709551615"));
  EXPECT_THAT(s.snapshot_ids, ElementsAre(18446744073709551615ull));
}

TEST(ParserTest, DeleteMetaSnapshotRejectsNonIntegers) {
  for (const char* bad :
       {"DELETE META SNAPSHOT -1", "DELETE META SNAPSHOT 1.5", "DELETE META SNAPSHOT 'a'",
        "DELETE META SNAPSHOT", "DELETE META SNAPSHOT 1,",
        "DELETE META SNAPSHOT 18446744073709551616", "DELETE META THINGS 1"}) {
    auto r = ParseSql(bad);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(r.status().sqlstate(), "42601") << bad;
  }
  EXPECT_THAT(ParseSql("DELETE META SNAPSHOT x"),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at or near \"x\""));
  EXPECT_THAT(ParseSql("DELETE META SNAPSHOT"),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at end of input"));
  EXPECT_THAT(ParseSql("DELETE META THINGS 1"),
              StatusIs(StatusCode::kInvalidArgument,
                       "syntax error at or near \"THINGS\": expected SNAPSHOT or SNAPSHOTS"));
  EXPECT_THAT(ParseSql("DELETE META"),
              StatusIs(StatusCode::kInvalidArgument,
                       "syntax error at end of input: expected SNAPSHOT or SNAPSHOTS"));
}

TEST(ParserTest, PlainDeleteStillPostgres) {
  ASSERT_OK_AND_ASSIGN(auto d, ParseOne("DELETE FROM meta WHERE id = 1"));
  EXPECT_EQ(d.kind, StatementKind::kPostgres);
  EXPECT_TRUE(d.node.contains("DeleteStmt"));
}

TEST(ParserTest, ShowParameters) {
  ASSERT_OK_AND_ASSIGN(auto s, ParseOne("show PARAMETERS"));
  EXPECT_EQ(s.kind, StatementKind::kShowParameters);
  ASSERT_OK_AND_ASSIGN(auto other, ParseOne("SHOW search_path"));
  EXPECT_EQ(other.kind, StatementKind::kPostgres);
  EXPECT_TRUE(other.node.contains("VariableShowStmt"));
}

TEST(ParserTest, CreateSecret) {
  ASSERT_OK_AND_ASSIGN(
      auto s, ParseOne("CREATE SECRET IF NOT EXISTS myschema.\"MyKey\" WITH (backend = 'meta', "
                       "opt = 'x''y') AS 'hunter2'"));
  EXPECT_EQ(s.kind, StatementKind::kCreateSecret);
  EXPECT_EQ(s.node["name"], "MyKey");
  EXPECT_EQ(s.node["schema"], "myschema");
  EXPECT_EQ(s.node["if_not_exists"], true);
  EXPECT_EQ(s.node["with"]["backend"], "meta");
  EXPECT_EQ(s.node["with"]["opt"], "x'y");
  EXPECT_EQ(s.node["value"], "hunter2");

  ASSERT_OK_AND_ASSIGN(auto plain, ParseOne("create secret k with (backend = 'meta') as 'v'"));
  EXPECT_EQ(plain.node["name"], "k");
  EXPECT_EQ(plain.node["schema"], "");
  EXPECT_EQ(plain.node["if_not_exists"], false);
}

TEST(ParserTest, CreateSecretErrors) {
  EXPECT_THAT(ParseSql("CREATE SECRET k WITH (backend = 'meta')"),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at end of input"));
  EXPECT_THAT(ParseSql("CREATE SECRET k AS 'v'"),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at or near \"AS\""));
  EXPECT_THAT(ParseSql("CREATE SECRET k WITH (backend = 'meta') AS v"),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at or near \"v\""));
}

TEST(ParserTest, SyntaxErrorWordedLikePostgres) {
  auto r = ParseSql("SELECT * FORM t");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "syntax error at or near \"FORM\""));
  EXPECT_EQ(r.status().sqlstate(), "42601");
  EXPECT_THAT(ParseSql("SELECT ("),
              StatusIs(StatusCode::kInvalidArgument, "syntax error at end of input"));
}

TEST(ParserTest, ErrorInSecondStatementFailsTheBatch) {
  EXPECT_THAT(ParseSql("select 1; selec 2"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("selec")));
}

TEST(ParserTest, UnterminatedStringIsSyntaxError) {
  auto r = ParseSql("select 'abc");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("unterminated")));
  EXPECT_EQ(r.status().sqlstate(), "42601");
}

TEST(ParserTest, CreateDatabaseAndUserAcceptIfNotExists) {
  ASSERT_OK_AND_ASSIGN(auto db, ParseOne("create database if not exists analytics"));
  ASSERT_TRUE(db.node.contains("CreatedbStmt"));
  EXPECT_EQ(db.node["CreatedbStmt"]["dbname"], "analytics");
  EXPECT_EQ(db.node["CreatedbStmt"]["if_not_exists"], true);
  EXPECT_EQ(db.text, "create database if not exists analytics");
  ASSERT_OK_AND_ASSIGN(auto user, ParseOne("CREATE USER IF NOT EXISTS bob WITH PASSWORD 'x'"));
  ASSERT_TRUE(user.node.contains("CreateRoleStmt"));
  EXPECT_EQ(user.node["CreateRoleStmt"]["role"], "bob");
  EXPECT_EQ(user.node["CreateRoleStmt"]["if_not_exists"], true);
  ASSERT_OK_AND_ASSIGN(auto plain, ParseOne("CREATE DATABASE d"));
  EXPECT_FALSE(plain.node["CreatedbStmt"].contains("if_not_exists"));
}

TEST(ParserTest, DropSecretAndShowTablesFrom) {
  ASSERT_OK_AND_ASSIGN(auto a, ParseSql("DROP SECRET IF EXISTS s1.k; show tables from Sales"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, StatementKind::kDropSecret);
  EXPECT_EQ(a[0].node["schema"], "s1");
  EXPECT_EQ(a[0].node["name"], "k");
  EXPECT_EQ(a[0].node["if_exists"], true);
  EXPECT_EQ(a[1].kind, StatementKind::kShowTablesFrom);
  EXPECT_EQ(a[1].node["schema"], "sales");
  ASSERT_OK_AND_ASSIGN(auto b, ParseOne("drop secret k"));
  EXPECT_EQ(b.node["schema"], "");
  EXPECT_EQ(b.node["if_exists"], false);
  EXPECT_THAT(ParseSql("DROP SECRET s1."),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("syntax error at end of input")));
  EXPECT_THAT(ParseSql("SHOW TABLES FROM a b"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at or near \"b\"")));
}

}  // namespace
}  // namespace rwmeta::frontend::sql
