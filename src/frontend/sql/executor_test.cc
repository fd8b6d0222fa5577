#include "frontend/sql/executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"
#include "frontend/sql/parser.h"
#include "frontend/sql/testing/psql_queries.h"

namespace rwmeta::frontend::sql {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Rows = std::vector<std::vector<std::string>>;

Datum I(int64_t v) { return Datum{v}; }
Datum S(const char* v) { return Datum{std::string(v)}; }
Datum B(bool v) { return Datum{v}; }
Datum F(double v) { return Datum{v}; }
Datum N() { return Datum::Null(); }
Datum A(std::vector<std::string> v) { return Datum{std::move(v)}; }

// A catalog of MemoryRelations and views; session facts fixed for the tests.
class FakeContext : public QueryContext {
 public:
  FakeContext() {
    Add("t",
        {{"id", TypeId::kInt32},
         {"name", TypeId::kVarchar},
         {"score", TypeId::kFloat64},
         {"active", TypeId::kBoolean}},
        {{I(1), S("alpha"), F(1.5), B(true)},
         {I(2), S("beta"), F(2.5), B(false)},
         {I(3), S("gamma"), N(), B(true)},
         {I(4), N(), F(-1), N()}});
    Add("u", {{"id", TypeId::kInt32}, {"t_id", TypeId::kInt32}, {"tag", TypeId::kVarchar}},
        {{I(10), I(1), S("x")},
         {I(11), I(1), S("y")},
         {I(12), I(2), S("x")},
         {I(13), I(9), S("z")}});
    Add("big",
        {{"v", TypeId::kInt64},
         {"s", TypeId::kInt16},
         {"d", TypeId::kDecimal},
         {"j", TypeId::kJsonb},
         {"ts", TypeId::kTimestamp},
         {"dt", TypeId::kDate}},
        {{I(9223372036854775807LL), I(32767), S("1.25"), S(R"({"a": {"b": [10, 20]}, "c": "s"})"),
          I(1704164645000000LL), I(19724)}});
    views_["v_active"] = "SELECT id, name FROM t WHERE active";
    view_cols_["v_named"] = {"k", "n"};
    views_["v_named"] = "SELECT id, name FROM t WHERE id < 3";
    AddPgCatalog();
  }

  void Add(const std::string& name, std::vector<ColumnDesc> cols, std::vector<Tuple> rows) {
    rels_[name] = std::make_shared<MemoryRelation>(std::move(cols), std::move(rows));
  }

  Result<ResolvedRelation> ResolveRelation(const std::vector<std::string>& name) override {
    const std::string& rel = name.back();
    if (name.size() >= 2 && name[name.size() - 2] != "public" &&
        name[name.size() - 2] != "pg_catalog") {
      return Status(StatusCode::kNotFound,
                    "relation \"" + name[name.size() - 2] + "." + rel + "\" does not exist")
          .WithSqlState("42P01");
    }
    ResolvedRelation r;
    if (auto it = rels_.find(rel); it != rels_.end()) {
      r.relation = it->second;
      return r;
    }
    if (auto it = views_.find(rel); it != views_.end()) {
      r.view_sql = it->second;
      r.view_column_names = view_cols_[rel];
      return r;
    }
    return Status(StatusCode::kNotFound, "relation \"" + rel + "\" does not exist")
        .WithSqlState("42P01");
  }
  std::string CurrentUser() const override { return "root"; }
  std::string CurrentDatabase() const override { return "dev"; }
  std::vector<std::string> SearchPath() const override { return {"public"}; }
  std::string UserNameById(int64_t id) const override {
    return id == 10 ? "root" : "unknown (OID=" + std::to_string(id) + ")";
  }
  bool TableIsVisible(int64_t oid) const override { return oid != 16999; }
  Result<std::optional<std::string>> Parameter(int n) const override {
    if (n < 1 || n > static_cast<int>(params.size())) {
      return Status(StatusCode::kInvalidArgument, "there is no parameter $" + std::to_string(n))
          .WithSqlState("42P02");
    }
    return params[static_cast<size_t>(n - 1)];
  }
  int ParameterCount() const override { return static_cast<int>(params.size()); }

  std::vector<std::optional<std::string>> params;

 private:
  void AddPgCatalog() {
    using T = TypeId;
    Add("pg_namespace", {{"oid", T::kInt64}, {"nspname", T::kVarchar}, {"nspowner", T::kInt64}},
        {{I(11), S("pg_catalog"), I(10)},
         {I(2200), S("public"), I(10)},
         {I(13000), S("information_schema"), I(10)},
         {I(99), S("pg_toast"), I(10)},
         {I(16500), S("rw_catalog"), I(10)}});
    std::vector<ColumnDesc> cls = {{"oid", T::kInt64},
                                   {"relname", T::kVarchar},
                                   {"relnamespace", T::kInt64},
                                   {"relkind", T::kVarchar},
                                   {"relowner", T::kInt64},
                                   {"relam", T::kInt64},
                                   {"relchecks", T::kInt16},
                                   {"relhasindex", T::kBoolean},
                                   {"relhasrules", T::kBoolean},
                                   {"relhastriggers", T::kBoolean},
                                   {"relrowsecurity", T::kBoolean},
                                   {"relforcerowsecurity", T::kBoolean},
                                   {"relispartition", T::kBoolean},
                                   {"reltablespace", T::kInt64},
                                   {"reloftype", T::kInt64},
                                   {"relpersistence", T::kVarchar},
                                   {"relreplident", T::kVarchar},
                                   {"reltoastrelid", T::kInt64},
                                   {"relpartbound", T::kVarchar}};
    auto rel = [](int64_t oid, const char* name, int64_t ns, const char* kind) {
      return Tuple{I(oid),   S(name),  I(ns),    S(kind),  I(10),    I(0),     I(0),
                   B(false), B(false), B(false), B(false), B(false), B(false), I(0),
                   I(0),     S("p"),   S("d"),   I(0),     N()};
    };
    Add("pg_class", cls,
        {rel(16384, "foo", 2200, "r"), rel(16390, "bar", 2200, "r"), rel(16400, "foo_v", 2200, "v"),
         rel(1259, "pg_class", 11, "r"), rel(16999, "hidden", 2200, "r"),
         rel(16600, "rw_meta_snapshot", 16500, "v")});
    Add("pg_am", {{"oid", T::kInt64}, {"amname", T::kVarchar}}, {});
    Add("pg_database",
        {{"datname", T::kVarchar},
         {"datdba", T::kInt64},
         {"encoding", T::kInt32},
         {"datcollate", T::kVarchar},
         {"datctype", T::kVarchar},
         {"daticulocale", T::kVarchar},
         {"datlocprovider", T::kVarchar},
         {"datacl", T::kTextArray}},
        {{S("dev"), I(10), I(6), S("C"), S("C"), N(), S("c"), N()},
         {S("app"), I(11), I(6), S("C"), S("C"), N(), S("c"), A({"=Tc/root", "root=CTc/root"})}});
    Add("pg_roles",
        {{"oid", T::kInt64},
         {"rolname", T::kVarchar},
         {"rolsuper", T::kBoolean},
         {"rolinherit", T::kBoolean},
         {"rolcreaterole", T::kBoolean},
         {"rolcreatedb", T::kBoolean},
         {"rolcanlogin", T::kBoolean},
         {"rolconnlimit", T::kInt32},
         {"rolvaliduntil", T::kTimestamp},
         {"rolreplication", T::kBoolean},
         {"rolbypassrls", T::kBoolean}},
        {{I(10), S("root"), B(true), B(true), B(true), B(true), B(true), I(-1), N(), B(true),
          B(true)},
         {I(11), S("alice"), B(false), B(true), B(false), B(false), B(true), I(-1), N(), B(false),
          B(false)},
         {I(12), S("readers"), B(false), B(true), B(false), B(false), B(false), I(-1), N(),
          B(false), B(false)},
         {I(3373), S("pg_monitor"), B(false), B(true), B(false), B(false), B(false), I(-1), N(),
          B(false), B(false)}});
    Add("pg_auth_members", {{"roleid", T::kInt64}, {"member", T::kInt64}}, {{I(12), I(11)}});
    Add("pg_attribute",
        {{"attrelid", T::kInt64},
         {"attname", T::kVarchar},
         {"atttypid", T::kInt64},
         {"atttypmod", T::kInt32},
         {"attnum", T::kInt16},
         {"attnotnull", T::kBoolean},
         {"atthasdef", T::kBoolean},
         {"attisdropped", T::kBoolean},
         {"attcollation", T::kInt64},
         {"attidentity", T::kVarchar},
         {"attgenerated", T::kVarchar}},
        {{I(16384), S("name"), I(1043), I(24), I(2), B(false), B(true), B(false), I(100), S(""),
          S("")},
         {I(16384), S("id"), I(23), I(-1), I(1), B(true), B(false), B(false), I(0), S(""), S("")},
         {I(16384), S("ctid"), I(27), I(-1), I(-1), B(true), B(false), B(false), I(0), S(""),
          S("")},
         {I(16390), S("x"), I(20), I(-1), I(1), B(false), B(false), B(false), I(0), S(""), S("")}});
    Add("pg_attrdef", {{"adrelid", T::kInt64}, {"adnum", T::kInt16}, {"adbin", T::kVarchar}},
        {{I(16384), I(2), S("{CONST}")}});
    Add("pg_collation", {{"oid", T::kInt64}, {"collname", T::kVarchar}}, {{I(100), S("default")}});
    Add("pg_type", {{"oid", T::kInt64}, {"typcollation", T::kInt64}},
        {{I(23), I(0)}, {I(1043), I(100)}, {I(20), I(0)}});
    Add("pg_policy",
        {{"polname", T::kVarchar},
         {"polpermissive", T::kBoolean},
         {"polroles", T::kTextArray},
         {"polqual", T::kVarchar},
         {"polwithcheck", T::kVarchar},
         {"polcmd", T::kVarchar},
         {"polrelid", T::kInt64}},
        {{S("p1"), B(true), A({"0"}), N(), N(), S("r"), I(16384)},
         {S("p2"), B(true), A({"11", "12"}), N(), N(), S("w"), I(16384)}});
    Add("pg_statistic_ext",
        {{"oid", T::kInt64},
         {"stxrelid", T::kInt64},
         {"stxnamespace", T::kInt64},
         {"stxname", T::kVarchar},
         {"stxkind", T::kTextArray},
         {"stxstattarget", T::kInt32}},
        {});
    Add("pg_publication",
        {{"oid", T::kInt64}, {"pubname", T::kVarchar}, {"puballtables", T::kBoolean}},
        {{I(1), S("pub_all"), B(true)}, {I(2), S("pub_rel"), B(false)}});
    Add("pg_publication_namespace", {{"pnpubid", T::kInt64}, {"pnnspid", T::kInt64}}, {});
    Add("pg_publication_rel",
        {{"prpubid", T::kInt64},
         {"prrelid", T::kInt64},
         {"prqual", T::kVarchar},
         {"prattrs", T::kTextArray}},
        {{I(2), I(16384), N(), A({"2", "1"})}});
    Add("pg_inherits",
        {{"inhparent", T::kInt64},
         {"inhrelid", T::kInt64},
         {"inhseqno", T::kInt32},
         {"inhdetachpending", T::kBoolean}},
        {});
  }

  std::map<std::string, std::shared_ptr<Relation>> rels_;
  std::map<std::string, std::string> views_;
  std::map<std::string, std::vector<std::string>> view_cols_;
};

class ExecutorTest : public ::testing::Test {
 protected:
  Result<QueryResult> Run(const std::string& sql) {
    RWMETA_ASSIGN_OR_RETURN(auto stmts, ParseSql(sql));
    if (stmts.size() != 1 || !stmts[0].node.contains("SelectStmt")) {
      return InternalError("not one SELECT");
    }
    return ExecuteSelect(stmts[0].node["SelectStmt"], ctx_);
  }
  // Rows as text, "NULL" for NULL.
  Rows Q(const std::string& sql) {
    auto r = Run(sql);
    if (!r.ok()) return {{"ERROR " + r.status().sqlstate() + " " + r.status().message()}};
    Rows out;
    for (const Tuple& t : r->rows) {
      std::vector<std::string> row;
      for (size_t i = 0; i < t.size(); ++i) {
        row.push_back(DatumToText(t[i], r->columns[i].type).value_or("NULL"));
      }
      out.push_back(row);
    }
    return out;
  }
  std::string V(const std::string& sql) {
    Rows r = Q(sql);
    if (r.size() != 1 || r[0].size() != 1) return "<not one value>";
    return r[0][0];
  }
  // The SQLSTATE of the error `sql` fails with ("" if it succeeds).
  std::string Err(const std::string& sql) {
    auto r = Run(sql);
    return r.ok() ? "" : r.status().sqlstate();
  }
  std::vector<std::string> Names(const std::string& sql) {
    auto r = Run(sql);
    std::vector<std::string> out;
    if (!r.ok()) return {"ERROR " + r.status().message()};
    for (const ColumnDesc& c : r->columns) out.push_back(c.name);
    return out;
  }
  TypeId Type(const std::string& sql) {
    auto r = Run(sql);
    return r.ok() && r->columns.size() == 1 ? r->columns[0].type : TypeId::kUnknown;
  }

  FakeContext ctx_;
};

// ---- FROM

TEST_F(ExecutorTest, SelectStarFromTable) {
  EXPECT_EQ(Q("select * from t"), (Rows{{"1", "alpha", "1.5", "t"},
                                        {"2", "beta", "2.5", "f"},
                                        {"3", "gamma", "NULL", "t"},
                                        {"4", "NULL", "-1", "NULL"}}));
  EXPECT_THAT(Names("select * from t"), ElementsAre("id", "name", "score", "active"));
}

TEST_F(ExecutorTest, NoFrom) {
  EXPECT_EQ(Q("select 1, 'a', null"), (Rows{{"1", "a", "NULL"}}));
  EXPECT_THAT(Names("select 1, 'a' as x, 1+1"), ElementsAre("?column?", "x", "?column?"));
}

TEST_F(ExecutorTest, AliasesAndQualifiedColumns) {
  EXPECT_EQ(Q("select x.id, x.name from t x where x.id = 2"), (Rows{{"2", "beta"}}));
  EXPECT_EQ(Q("select public.t.id from public.t where id = 1"), (Rows{{"1"}}));
  EXPECT_EQ(Q("select a, b from t as x(a, b) where a = 1"), (Rows{{"1", "alpha"}}));
  EXPECT_EQ(Err("select t.id from t x"), "42P01");
  EXPECT_EQ(Err("select nosuch from t"), "42703");
  EXPECT_EQ(Err("select x.nosuch from t x"), "42703");
  EXPECT_EQ(Err("select * from nosuch"), "42P01");
  EXPECT_EQ(Err("select * from other.t"), "42P01");
}

TEST_F(ExecutorTest, AmbiguousColumn) {
  auto r = Run("select id from t, u");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, "column reference \"id\" is ambiguous"));
  EXPECT_EQ(r.status().sqlstate(), "42702");
}

TEST_F(ExecutorTest, ViewsExpand) {
  EXPECT_EQ(Q("select * from v_active order by id"), (Rows{{"1", "alpha"}, {"3", "gamma"}}));
  EXPECT_EQ(Q("select n from v_named where k = 2"), (Rows{{"beta"}}));
  EXPECT_EQ(Q("select v.k from v_named v order by 1 desc"), (Rows{{"2"}, {"1"}}));
}

TEST_F(ExecutorTest, SubqueryInFrom) {
  EXPECT_EQ(Q("select s.n from (select name as n from t where id > 2) s"),
            (Rows{{"gamma"}, {"NULL"}}));
  EXPECT_EQ(Q("select c from (select count(*) from t) as q(c)"), (Rows{{"4"}}));
}

TEST_F(ExecutorTest, CommaJoinAndInnerJoin) {
  Rows expect = {{"alpha", "x"}, {"alpha", "y"}, {"beta", "x"}};
  EXPECT_EQ(Q("select t.name, u.tag from t, u where t.id = u.t_id order by u.id"), expect);
  EXPECT_EQ(Q("select t.name, u.tag from t join u on t.id = u.t_id order by u.id"), expect);
  EXPECT_EQ(Q("select count(*) from t cross join u"), (Rows{{"16"}}));
}

TEST_F(ExecutorTest, HashJoinKeysKeepNullAndTypeSemantics) {
  // Equality keys of mixed integer/numeric types, NULL keys never match, extra ON terms apply.
  EXPECT_EQ(Q("select a.x, b.y from (values (1), (2), (null)) a(x) join (values (1.0), (null), "
              "(2.0), (2)) b(y) on a.x = b.y order by 1, b.y::text"),
            (Rows{{"1", "1.0"}, {"2", "2"}, {"2", "2.0"}}));
  EXPECT_EQ(Q("select t.id, u.id from t join u on u.t_id = t.id and u.tag = 'x' order by 1"),
            (Rows{{"1", "10"}, {"2", "12"}}));
  EXPECT_EQ(Q("select a.x, b.y from (values (null::int)) a(x) left join (values (null::int)) b(y) "
              "on a.x = b.y"),
            (Rows{{"NULL", "NULL"}}));
  EXPECT_EQ(Q("select count(*) from t join u on t.id = u.t_id or u.t_id = 9"), (Rows{{"7"}}));
}

TEST_F(ExecutorTest, OuterJoins) {
  EXPECT_EQ(Q("select t.id, u.id from t left join u on t.id = u.t_id order by 1, 2"),
            (Rows{{"1", "10"}, {"1", "11"}, {"2", "12"}, {"3", "NULL"}, {"4", "NULL"}}));
  EXPECT_EQ(Q("select t.id, u.id from t right join u on t.id = u.t_id order by 2"),
            (Rows{{"1", "10"}, {"1", "11"}, {"2", "12"}, {"NULL", "13"}}));
  EXPECT_EQ(
      Q("select t.id, u.id from t full join u on t.id = u.t_id order by 1 nulls first, 2"),
      (Rows{{"NULL", "13"}, {"1", "10"}, {"1", "11"}, {"2", "12"}, {"3", "NULL"}, {"4", "NULL"}}));
}

TEST_F(ExecutorTest, JoinUsingMergesColumn) {
  EXPECT_EQ(
      Q("select * from (select 1 as k, 'a' as l) a join (select 1 as k, 'b' as r) b using (k)"),
      (Rows{{"1", "a", "b"}}));
  EXPECT_EQ(Q("select k, a.k, b.k from (values (1), (2)) a(k) full join (values (2), (3)) b(k) "
              "using (k) order by 1"),
            (Rows{{"1", "1", "NULL"}, {"2", "2", "2"}, {"3", "NULL", "3"}}));
  EXPECT_EQ(Q("select count(*) from (values (1)) a(k) natural join (values (1), (1)) b(k)"),
            (Rows{{"2"}}));
  EXPECT_EQ(Err("select 1 from t join u using (nosuch)"), "42703");
  EXPECT_EQ(Err("select k from (values (1)) a(k) join (values (1)) b(k) using (k) order by k, a.k, "
                "b.k"),
            "");
  EXPECT_EQ(Err("select a.k, b.k from (values (1)) a(k) join (values (1)) b(k) on true order by k"),
            "42702");
}

TEST_F(ExecutorTest, WithQueries) {
  EXPECT_EQ(Q("with a(k) as (select id from t where id < 3), b as (select k * 10 as m from a) "
              "select a.k, b.m from a join b on b.m = a.k * 10 order by 1"),
            (Rows{{"1", "10"}, {"2", "20"}}));
  EXPECT_EQ(Q("with t as (select 42 as id) select id from t"), (Rows{{"42"}}));  // shadows table t
  EXPECT_EQ(Q("select (with c as (select count(*) as n from u) select n from c)"), (Rows{{"4"}}));
  EXPECT_EQ(Err("with a as (select 1) select * from b"), "42P01");
}

TEST_F(ExecutorTest, ValuesLists) {
  EXPECT_EQ(Q("values (1, 'a'), (2, 'b')"), (Rows{{"1", "a"}, {"2", "b"}}));
  EXPECT_THAT(Names("values (1, 'a')"), ElementsAre("column1", "column2"));
  EXPECT_EQ(Q("values (2), (1), (3) order by 1 desc limit 2"), (Rows{{"3"}, {"2"}}));
  EXPECT_EQ(Q("values (1), (2.5)"), (Rows{{"1"}, {"2.5"}}));
  EXPECT_EQ(Err("values (1), (1, 2)"), "42601");
}

TEST_F(ExecutorTest, SetReturningFunctionsInFrom) {
  EXPECT_EQ(Q("select s from generate_series(1, 3) s"), (Rows{{"1"}, {"2"}, {"3"}}));
  EXPECT_EQ(Q("select * from pg_catalog.generate_series(5, 1, -2)"), (Rows{{"5"}, {"3"}, {"1"}}));
  EXPECT_EQ(Q("select x from unnest(array['a','b']) as u(x)"), (Rows{{"a"}, {"b"}}));
  // Unnested elements are untyped: they compare with numbers, as psql's \d needs.
  EXPECT_EQ(
      Q("select s.k from unnest(array['1','3']) s(k) join generate_series(1, 3) g on g = s.k"),
      (Rows{{"1"}, {"3"}}));
}

// ---- expressions

TEST_F(ExecutorTest, Arithmetic) {
  EXPECT_EQ(Q("select 1 + 2 * 3, 7 / 2, 7 % 3, -7 / 2, 2.5 * 2, 1.0 / 3, 1 / 2.0, 3 - 5"),
            (Rows{{"7", "3", "1", "-3", "5.0", "0.33333333333333333333", "0.50000000000000000000",
                   "-2"}}));
  EXPECT_EQ(V("select 1.5::float8 * 2"), "3");
  EXPECT_EQ(V("select score + 1 from t where id = 1"), "2.5");
  EXPECT_EQ(V("select -id from t where id = 2"), "-2");
  EXPECT_EQ(V("select '2' + 3"), "5");
  EXPECT_EQ(Type("select 1 + 1::bigint"), TypeId::kInt64);
  EXPECT_EQ(Type("select 1 + 1.5"), TypeId::kDecimal);
  EXPECT_EQ(Type("select 1::int2 + 1::int2"), TypeId::kInt16);
}

TEST_F(ExecutorTest, IntegerOverflowAndDivisionByZero) {
  auto r = Run("select 2147483647 + 1");
  EXPECT_THAT(r, StatusIs(StatusCode::kOutOfRange, "integer out of range"));
  EXPECT_EQ(r.status().sqlstate(), "22003");
  EXPECT_EQ(Err("select v + 1 from big"), "22003");
  EXPECT_EQ(Err("select s * 2::int2 from big"), "22003");
  EXPECT_EQ(V("select s * 2 from big"), "65534");
  EXPECT_EQ(V("select v - 1 from big"), "9223372036854775806");
  auto z = Run("select 1 / 0");
  EXPECT_THAT(z, StatusIs(StatusCode::kInvalidArgument, "division by zero"));
  EXPECT_EQ(z.status().sqlstate(), "22012");
  EXPECT_EQ(Err("select 1 % 0"), "22012");
  EXPECT_EQ(Err("select 1.0 / 0"), "22012");
  EXPECT_EQ(Err("select 1.0::float8 / 0"), "22012");
  EXPECT_EQ(Err("select 'abc' + 1"), "22P02");
  EXPECT_EQ(Err("select name + 1 from t"), "42883");
}

TEST_F(ExecutorTest, Comparisons) {
  EXPECT_EQ(Q("select 1 < 2, 2 <= 1, 'a' = 'a', 'a' <> 'b', 1 = 1.0, 2 > 1.5::float8, "
              "null = null"),
            (Rows{{"t", "f", "t", "t", "t", "t", "NULL"}}));
  EXPECT_EQ(Q("select id from t where name >= 'beta' order by id"), (Rows{{"2"}, {"3"}}));
  EXPECT_EQ(Q("select id from t where id = '3'"), (Rows{{"3"}}));
  EXPECT_EQ(Err("select id from t where name = 1"), "42883");
}

TEST_F(ExecutorTest, ThreeValuedLogic) {
  EXPECT_EQ(Q("select null and false, null and true, null or true, null or false, not null"),
            (Rows{{"f", "NULL", "t", "NULL", "NULL"}}));
  EXPECT_EQ(Q("select id from t where not active order by id"), (Rows{{"2"}}));
  EXPECT_EQ(Q("select id from t where active or score < 0 order by id"),
            (Rows{{"1"}, {"3"}, {"4"}}));
  EXPECT_EQ(Err("select 1 where 1"), "42804");
}

TEST_F(ExecutorTest, NullAndBooleanTests) {
  EXPECT_EQ(Q("select id from t where name is null"), (Rows{{"4"}}));
  EXPECT_EQ(Q("select count(*) from t where score is not null"), (Rows{{"3"}}));
  EXPECT_EQ(Q("select id, active is true, active is not true, active is false, active is "
              "not false, active is unknown from t order by id"),
            (Rows{{"1", "t", "f", "f", "t", "f"},
                  {"2", "f", "t", "t", "f", "f"},
                  {"3", "t", "f", "f", "t", "f"},
                  {"4", "f", "t", "f", "t", "t"}}));
  EXPECT_EQ(Q("select null is distinct from null, 1 is distinct from null, 1 is not distinct "
              "from 1, null is not distinct from 2"),
            (Rows{{"f", "t", "t", "f"}}));
}

TEST_F(ExecutorTest, InListAndBetween) {
  EXPECT_EQ(Q("select id from t where id in (1, 3, 7) order by id"), (Rows{{"1"}, {"3"}}));
  EXPECT_EQ(Q("select id from t where id not in (1, 3) order by id"), (Rows{{"2"}, {"4"}}));
  EXPECT_EQ(Q("select 1 in (2, null), 1 in (1, null), 1 not in (2, null)"),
            (Rows{{"NULL", "t", "NULL"}}));
  EXPECT_EQ(Q("select id from t where id between 2 and 3 order by id"), (Rows{{"2"}, {"3"}}));
  EXPECT_EQ(Q("select 5 not between 1 and 3, 2 between symmetric 3 and 1, null between 1 and 2"),
            (Rows{{"t", "t", "NULL"}}));
}

TEST_F(ExecutorTest, Subqueries) {
  EXPECT_EQ(Q("select id from t where id in (select t_id from u) order by id"),
            (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(Q("select id from t where id not in (select t_id from u) order by id"),
            (Rows{{"3"}, {"4"}}));
  EXPECT_EQ(Q("select id from t where exists (select 1 from u where u.t_id = t.id) order by id"),
            (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(Q("select id, (select count(*) from u where u.t_id = t.id) as n from t order by id"),
            (Rows{{"1", "2"}, {"2", "1"}, {"3", "0"}, {"4", "0"}}));
  EXPECT_EQ(V("select (select max(id) from t)"), "4");
  EXPECT_EQ(
      Q("select t_id, (select name from t where t.id = u.t_id) from u group by t_id order by 1"),
      (Rows{{"1", "alpha"}, {"2", "beta"}, {"9", "NULL"}}));
  EXPECT_EQ(V("select (select id from t where id > 10)"), "NULL");
  EXPECT_EQ(Err("select (select id from t)"), "21000");
  EXPECT_EQ(V("select array(select tag from u where t_id = 1 order by tag)"), "{x,y}");
  EXPECT_THAT(Names("select (select 1 as one), exists (select 1), array(select 1)"),
              ElementsAre("one", "exists", "array"));
}

TEST_F(ExecutorTest, LikeAndRegex) {
  EXPECT_EQ(Q("select name from t where name like '%a' order by 1"),
            (Rows{{"alpha"}, {"beta"}, {"gamma"}}));
  EXPECT_EQ(Q("select name from t where name like '_eta'"), (Rows{{"beta"}}));
  EXPECT_EQ(Q("select name from t where name not like 'a%' order by 1"),
            (Rows{{"beta"}, {"gamma"}}));
  EXPECT_EQ(Q("select 'ALPHA' ilike 'al%', 'ALPHA' not ilike 'al%', 'a_c' like 'a\\_c', 'abc' like "
              "'a\\_c'"),
            (Rows{{"t", "f", "t", "f"}}));
  EXPECT_EQ(Q("select name from t where name ~ '^(al|ga)' order by 1"),
            (Rows{{"alpha"}, {"gamma"}}));
  EXPECT_EQ(Q("select 'abc' !~ 'b', 'ABC' ~* 'b', 'x' OPERATOR(pg_catalog.~) '^x$'"),
            (Rows{{"f", "t", "t"}}));
  EXPECT_EQ(Err("select 'a' ~ '('"), "2201B");
}

TEST_F(ExecutorTest, CaseCoalesceNullifGreatest) {
  EXPECT_EQ(Q("select id, case when id < 2 then 'low' when id < 4 then 'mid' else 'high' end "
              "from t order by id"),
            (Rows{{"1", "low"}, {"2", "mid"}, {"3", "mid"}, {"4", "high"}}));
  EXPECT_EQ(Q("select case id when 1 then 'one' end from t where id < 3 order by id"),
            (Rows{{"one"}, {"NULL"}}));
  EXPECT_EQ(Q("select coalesce(name, 'none'), nullif(id, 2) from t order by id"),
            (Rows{{"alpha", "1"}, {"beta", "NULL"}, {"gamma", "3"}, {"none", "4"}}));
  EXPECT_EQ(Q("select greatest(1, 5, null, 3), least(2.5, 1), greatest('a', 'b')"),
            (Rows{{"5", "1", "b"}}));
  EXPECT_EQ(Err("select case when true then 1 else 'x'::text end"), "42804");
  EXPECT_THAT(Names("select case when true then 1 end, coalesce(1), greatest(1), nullif(1, 2)"),
              ElementsAre("case", "coalesce", "greatest", "nullif"));
}

TEST_F(ExecutorTest, Casts) {
  EXPECT_EQ(Q("select '12'::int, 12::text, '1.5'::float8, 'true'::bool, '2024-01-02'::date, "
              "'2024-01-02 03:04:05'::timestamp, cast('7' as bigint), 2.7::int, (-2.5)::int"),
            (Rows{{"12", "12", "1.5", "t", "2024-01-02", "2024-01-02 03:04:05", "7", "3", "-3"}}));
  EXPECT_EQ(Q("select 1::bool, true::int, '2024-01-02'::date::timestamp, ts::date from big"),
            (Rows{{"t", "1", "2024-01-02 00:00:00", "2024-01-02"}}));
  EXPECT_EQ(Q("select '{a,b}'::text[], 16384::regclass, 'x'::name, 'x'::varchar(3)"),
            (Rows{{"{a,b}", "16384", "x", "x"}}));
  EXPECT_EQ(Err("select 'x'::int"), "22P02");
  EXPECT_EQ(Err("select 99999::int2"), "22003");
  EXPECT_EQ(Err("select 1::nosuchtype"), "42704");
  EXPECT_EQ(Err("select '2024-01-02'::date::bool"), "42846");
  EXPECT_THAT(Names("select '1'::int, id::text from t limit 1"), ElementsAre("int4", "id"));
}

TEST_F(ExecutorTest, ConcatAndJson) {
  EXPECT_EQ(Q("select 'a' || 'b', 'n' || 1, name || null, 'a' || true, true::text, 1.50 || '' "
              "from t where id = 1"),
            (Rows{{"ab", "n1", "NULL", "atrue", "true", "1.50"}}));
  EXPECT_EQ(
      Q("select j -> 'a', j -> 'a' -> 'b' -> 1, j ->> 'c', j -> 'nope', j->'a'->>'b' from big"),
      (Rows{{R"({"b": [10, 20]})", "20", "s", "NULL", "[10,20]"}}));
  EXPECT_EQ(V("select '{\"k\": [1]}'::jsonb -> 'k' ->> 0"), "1");
  EXPECT_EQ(Q("select array['a', 'b'] || 'c'::text, array['x'] = '{x}'"), (Rows{{"{a,b,c}", "t"}}));
  EXPECT_EQ(Q("select 'b' = any(array['a','b']), 3 = any('{1,2}'), 1 <> all(array['2','3']), "
              "(array['p','q'])[2]"),
            (Rows{{"t", "f", "t", "q"}}));
}

TEST_F(ExecutorTest, Params) {
  ctx_.params = {"2", std::nullopt, "be%"};
  EXPECT_EQ(Q("select name from t where id = $1"), (Rows{{"beta"}}));
  EXPECT_EQ(Q("select $2 is null, $1::int + 1"), (Rows{{"t", "3"}}));
  EXPECT_EQ(Q("select id from t where name like $3"), (Rows{{"2"}}));
  EXPECT_EQ(Q("select id from t order by id limit $1"), (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(Err("select $4"), "42P02");
}

// ---- functions

TEST_F(ExecutorTest, StringFunctions) {
  EXPECT_EQ(Q("select lower('AbC'), upper('AbC'), length('héllo'), char_length('ab'), "
              "octet_length('é')"),
            (Rows{{"abc", "ABC", "5", "2", "2"}}));
  EXPECT_EQ(Q("select substr('hello', 2, 3), substring('hello' from 2), substring('hello', 0, 2), "
              "substr('héllo', 2, 1)"),
            (Rows{{"ell", "ello", "h", "é"}}));
  EXPECT_EQ(Q("select trim('  x  '), btrim('xxaxx', 'x'), ltrim('  a'), rtrim('a  '), "
              "trim(both 'x' from 'xax'), trim(leading 'x' from 'xax')"),
            (Rows{{"x", "a", "a", "a", "a", "ax"}}));
  EXPECT_EQ(Q("select replace('abcabc', 'b', 'X'), concat('a', null, 1, true), "
              "concat_ws('-', 'a', null, 'b'), left('hello', 2), right('hello', 2), "
              "left('hello', -2), position('l' in 'hello'), strpos('abc', 'z')"),
            (Rows{{"aXcaXc", "a1t", "a-b", "he", "lo", "hel", "3", "0"}}));
  EXPECT_EQ(Q("select quote_ident('abc'), quote_ident('Abc'), quote_ident('a\"b'), "
              "quote_ident('select')"),
            (Rows{{"abc", "\"Abc\"", "\"a\"\"b\"", "\"select\""}}));
  EXPECT_EQ(Q("select array_to_string(array['a','b'], ', '), array_to_string(null::text[], ',')"),
            (Rows{{"a, b", "NULL"}}));
  EXPECT_EQ(V("select lower(null)"), "NULL");
  EXPECT_EQ(Err("select substr('a', 'x')"), "22P02");
  EXPECT_THAT(Run("select lower(1)"),
              StatusIs(StatusCode::kNotFound, "function lower(integer) does not exist"));
}

TEST_F(ExecutorTest, NumericFunctions) {
  EXPECT_EQ(Q("select abs(-3), abs(-2.5), round(2.5), round(2.345, 2), round(-2.5), ceil(1.2), "
              "floor(-1.2), mod(7, 3), mod(-7, 3), ceil(2.0::float8)"),
            (Rows{{"3", "2.5", "3", "2.35", "-3", "2", "-2", "1", "-1", "2"}}));
  EXPECT_EQ(Err("select abs('x'::text)"), "42883");
  EXPECT_EQ(Err("select 1e300::float8 * 1e300::float8"), "22003");
  EXPECT_EQ(V("select 1e300"), "1e+300");
  EXPECT_EQ(Err("select mod(1, 0)"), "22012");
}

TEST_F(ExecutorTest, SessionFunctions) {
  EXPECT_EQ(Q("select current_user, session_user, user, current_database(), current_schema(), "
              "current_schema, current_schemas(true), current_schemas(false), current_catalog"),
            (Rows{{"root", "root", "root", "dev", "public", "public", "{pg_catalog,public}",
                   "{public}", "dev"}}));
  EXPECT_EQ(V("select version()"), "PostgreSQL 13.14-RisingWave-compatible rwmeta 0.1.0");
  EXPECT_EQ(Type("select now()"), TypeId::kTimestamp);
  EXPECT_EQ(Type("select current_timestamp"), TypeId::kTimestamp);
  EXPECT_THAT(Names("select current_user, now(), pg_catalog.version()"),
              ElementsAre("current_user", "now", "version"));
}

TEST_F(ExecutorTest, CatalogFunctions) {
  EXPECT_EQ(
      Q("select pg_catalog.pg_table_is_visible(16384), pg_table_is_visible(16999), "
        "pg_get_userbyid(10), pg_get_userbyid(77), format_type(23, -1), "
        "pg_catalog.format_type(1043, 24), pg_encoding_to_char(6)"),
      (Rows{{"t", "f", "root", "unknown (OID=77)", "integer", "character varying(20)", "UTF8"}}));
  EXPECT_EQ(Q("select obj_description(1, 'pg_class'), col_description(1, 2), "
              "shobj_description(1, 'pg_database'), pg_get_expr('x', 1), pg_get_viewdef(1)"),
            (Rows{{"NULL", "NULL", "NULL", "NULL", "NULL"}}));
  EXPECT_EQ(Q("select has_table_privilege('t', 'select'), has_schema_privilege('public', 'usage'), "
              "has_database_privilege('dev', 'connect')"),
            (Rows{{"t", "t", "t"}}));
}

TEST_F(ExecutorTest, UnknownFunction) {
  auto r = Run("select foo(1)");
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound, "function foo(integer) does not exist"));
  EXPECT_EQ(r.status().sqlstate(), "42883");
  EXPECT_THAT(Run("select lower(1, 'a')"),
              StatusIs(StatusCode::kNotFound, "function lower(integer, unknown) does not exist"));
}

// ---- aggregation

TEST_F(ExecutorTest, Aggregates) {
  EXPECT_EQ(Q("select count(*), count(name), count(distinct active), sum(id), min(name), "
              "max(score), avg(id), avg(score), bool_and(active), bool_or(active) from t"),
            (Rows{{"4", "3", "2", "10", "alpha", "2.5", "2.5000000000000000", "1", "f", "t"}}));
  EXPECT_EQ(
      Q("select string_agg(name, ',' order by name desc), array_agg(id order by id desc) from t"),
      (Rows{{"gamma,beta,alpha", "{4,3,2,1}"}}));
  EXPECT_EQ(Q("select count(*) filter (where active), sum(id) filter (where id > 2) from t"),
            (Rows{{"2", "7"}}));
  EXPECT_EQ(Q("select id from t order by id using > limit 2"), (Rows{{"4"}, {"3"}}));
  EXPECT_EQ(Q("select count(*), sum(id), max(id) from t where id > 100"),
            (Rows{{"0", "NULL", "NULL"}}));
  EXPECT_EQ(Type("select sum(id) from t"), TypeId::kInt64);
  EXPECT_EQ(Type("select sum(v) from big"), TypeId::kDecimal);
  EXPECT_EQ(Type("select avg(id) from t"), TypeId::kDecimal);
  EXPECT_EQ(V("select sum(d) from big"), "1.25");
  EXPECT_EQ(Err("select count(*) from t where count(*) > 1"), "42803");
  EXPECT_EQ(Err("select sum(name) from t"), "42883");
}

TEST_F(ExecutorTest, GroupByAndHaving) {
  EXPECT_EQ(Q("select t_id, count(*) from u group by t_id order by t_id"),
            (Rows{{"1", "2"}, {"2", "1"}, {"9", "1"}}));
  EXPECT_EQ(Q("select tag, count(*) as n from u group by 1 having count(*) > 1"),
            (Rows{{"x", "2"}}));
  EXPECT_EQ(Q("select upper(tag) as k, min(id) from u group by k order by k"),
            (Rows{{"X", "10"}, {"Y", "11"}, {"Z", "13"}}));
  EXPECT_EQ(Q("select active, count(*) from t group by active order by active"),
            (Rows{{"f", "1"}, {"t", "2"}, {"NULL", "1"}}));
  EXPECT_EQ(Q("select t_id + 1, count(*) from u group by t_id + 1 order by count(*) desc, 1"),
            (Rows{{"2", "2"}, {"3", "1"}, {"10", "1"}}));
  auto r = Run("select tag, id from u group by tag");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument,
                          "column \"u.id\" must appear in the GROUP BY clause or be used in an "
                          "aggregate function"));
  EXPECT_EQ(r.status().sqlstate(), "42803");
  EXPECT_EQ(Err("select 1 from u group by 5"), "42P10");
}

TEST_F(ExecutorTest, Distinct) {
  EXPECT_EQ(Q("select distinct tag from u order by tag"), (Rows{{"x"}, {"y"}, {"z"}}));
  EXPECT_EQ(Q("select distinct active from t order by 1"), (Rows{{"f"}, {"t"}, {"NULL"}}));
  EXPECT_EQ(Q("select distinct on (t_id) t_id, id from u order by t_id, id desc"),
            (Rows{{"1", "11"}, {"2", "12"}, {"9", "13"}}));
  EXPECT_EQ(Q("select distinct on (1) tag, id from u order by 1, 2"),
            (Rows{{"x", "10"}, {"y", "11"}, {"z", "13"}}));
}

TEST_F(ExecutorTest, OrderBy) {
  EXPECT_EQ(Q("select name from t order by name"),
            (Rows{{"alpha"}, {"beta"}, {"gamma"}, {"NULL"}}));
  EXPECT_EQ(Q("select name from t order by name desc"),
            (Rows{{"NULL"}, {"gamma"}, {"beta"}, {"alpha"}}));
  EXPECT_EQ(Q("select name from t order by name nulls first limit 2"), (Rows{{"NULL"}, {"alpha"}}));
  EXPECT_EQ(Q("select name from t order by name desc nulls last limit 1"), (Rows{{"gamma"}}));
  EXPECT_EQ(Q("select id as k from t order by k desc limit 2"), (Rows{{"4"}, {"3"}}));
  EXPECT_EQ(Q("select id from t order by score * -1 limit 2"), (Rows{{"2"}, {"1"}}));
  EXPECT_EQ(Q("select name from t order by id % 2, id"),
            (Rows{{"beta"}, {"NULL"}, {"alpha"}, {"gamma"}}));
  EXPECT_EQ(Err("select id from t order by 3"), "42P10");
}

TEST_F(ExecutorTest, LimitOffset) {
  EXPECT_EQ(Q("select id from t order by id limit 2 offset 1"), (Rows{{"2"}, {"3"}}));
  EXPECT_EQ(Q("select id from t order by id limit all offset 3"), (Rows{{"4"}}));
  EXPECT_EQ(Q("select id from t order by id offset 10"), (Rows{}));
  EXPECT_EQ(Q("select id from t order by id limit 0"), (Rows{}));
  EXPECT_EQ(Q("select id from t order by id fetch first 1 rows only"), (Rows{{"1"}}));
  EXPECT_EQ(Err("select id from t limit -1"), "2201W");
}

TEST_F(ExecutorTest, SetOperations) {
  EXPECT_EQ(Q("select 1 union select 1 union select 2 order by 1"), (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(Q("select 1 union all select 1 order by 1"), (Rows{{"1"}, {"1"}}));
  EXPECT_EQ(Q("select t_id from u intersect select id from t order by 1"), (Rows{{"1"}, {"2"}}));
  EXPECT_EQ(Q("select id from t except select t_id from u order by id desc"), (Rows{{"4"}, {"3"}}));
  EXPECT_EQ(Q("select t_id from u except all select 1 order by 1"), (Rows{{"1"}, {"2"}, {"9"}}));
  EXPECT_EQ(Q("select 1 as a union select 2.5 order by a desc limit 1"), (Rows{{"2.5"}}));
  EXPECT_THAT(Names("select 1 as a union select 2 as b"), ElementsAre("a"));
  EXPECT_EQ(Err("select 1 union select 1, 2"), "42601");
  EXPECT_EQ(Err("select 1 union select 'a'::text"), "42804");
}

TEST_F(ExecutorTest, OutputColumnNames) {
  EXPECT_THAT(
      Names("select id, t.name, count(*), lower(name), 1, id + 1, name as n from t group by "
            "id, name"),
      ElementsAre("id", "name", "count", "lower", "?column?", "?column?", "n"));
}

TEST_F(ExecutorTest, Unsupported) {
  EXPECT_EQ(Err("with recursive x as (select 1) select * from x"), "0A000");
  EXPECT_EQ(Err("select row_number() over () from t"), "0A000");
}

TEST_F(ExecutorTest, DescribeSelectGivesColumnsWithoutRows) {
  auto stmts =
      ParseSql("select id, name, count(*) over_count from t where id = $1 group by id, name");
  ASSERT_TRUE(stmts.ok());
  ASSERT_OK_AND_ASSIGN(auto cols, DescribeSelect((*stmts)[0].node["SelectStmt"], ctx_));
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "id");
  EXPECT_EQ(cols[0].type, TypeId::kInt32);
  EXPECT_EQ(cols[1].type, TypeId::kVarchar);
  EXPECT_EQ(cols[2].name, "over_count");
  EXPECT_EQ(cols[2].type, TypeId::kInt64);
}

TEST_F(ExecutorTest, EvaluateConstant) {
  auto node = [](const std::string& sql) {
    auto stmts = ParseSql(sql);
    return (*stmts)[0].node["SelectStmt"]["targetList"][0]["ResTarget"]["val"];
  };
  TypeId type;
  ASSERT_OK_AND_ASSIGN(Datum d, EvaluateConstant(node("select 60 * 1000"), ctx_, &type));
  EXPECT_EQ(std::get<int64_t>(d.v), 60000);
  EXPECT_EQ(type, TypeId::kInt32);
  ASSERT_OK_AND_ASSIGN(Datum s, EvaluateConstant(node("select 's3://b'"), ctx_, &type));
  EXPECT_EQ(std::get<std::string>(s.v), "s3://b");
  EXPECT_EQ(type, TypeId::kUnknown);
  EXPECT_THAT(EvaluateConstant(node("select 1/0"), ctx_, &type),
              StatusIs(StatusCode::kInvalidArgument, "division by zero"));
  EXPECT_THAT(EvaluateConstant(node("select x"), ctx_, &type), StatusIs(StatusCode::kNotFound));
}

// ---- the queries psql 15 sends (psql -E), verbatim

TEST_F(ExecutorTest, PsqlListTables) {
  EXPECT_EQ(Q(psql_queries::kPsqlListTables),
            (Rows{{"public", "bar", "table", "root"}, {"public", "foo", "table", "root"}}));
}

TEST_F(ExecutorTest, PsqlListViews) {
  EXPECT_EQ(Q(R"(SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;)"),
            (Rows{{"public", "foo_v", "view", "root"},
                  {"rw_catalog", "rw_meta_snapshot", "view", "root"}}));
}

TEST_F(ExecutorTest, PsqlListSchemas) {
  EXPECT_EQ(Q(psql_queries::kPsqlListSchemas), (Rows{{"public", "root"}, {"rw_catalog", "root"}}));
}

TEST_F(ExecutorTest, PsqlListDatabases) {
  auto r = Run(psql_queries::kPsqlListDatabases);
  ASSERT_OK(r.status());
  EXPECT_THAT(r->columns.size(), 8u);
  EXPECT_EQ(r->columns[7].name, "Access privileges");
  EXPECT_EQ(Q(psql_queries::kPsqlListDatabases),
            (Rows{{"app", "unknown (OID=11)", "UTF8", "C", "C", "NULL", "libc",
                   "=Tc/root\nroot=CTc/root"},
                  {"dev", "root", "UTF8", "C", "C", "NULL", "libc", "NULL"}}));
}

TEST_F(ExecutorTest, PsqlListRoles) {
  EXPECT_EQ(Q(psql_queries::kPsqlListRoles),
            (Rows{{"alice", "f", "t", "f", "f", "t", "-1", "NULL", "{readers}", "f", "f"},
                  {"readers", "f", "t", "f", "f", "f", "-1", "NULL", "{}", "f", "f"},
                  {"root", "t", "t", "t", "t", "t", "-1", "NULL", "{}", "t", "t"}}));
}

TEST_F(ExecutorTest, PsqlDescribeTableLookup) {
  EXPECT_EQ(Q(R"(SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(foo)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;)"),
            (Rows{{"16384", "public", "foo"}}));
}

TEST_F(ExecutorTest, PsqlDescribeTableFlags) {
  EXPECT_EQ(
      Q(R"(SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, '', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '16384';)"),
      (Rows{{"0", "r", "f", "f", "f", "f", "f", "f", "f", "", "0", "", "p", "d", "NULL"}}));
}

TEST_F(ExecutorTest, PsqlDescribeTableColumns) {
  EXPECT_EQ(Q(R"(SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '16384' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;)"),
            (Rows{{"id", "integer", "NULL", "t", "NULL", "", ""},
                  {"name", "character varying(20)", "NULL", "f", "NULL", "", ""}}));
}

TEST_F(ExecutorTest, PsqlDescribeTablePolicies) {
  EXPECT_EQ(Q(R"(SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16384' ORDER BY 1;)"),
            (Rows{{"p1", "t", "NULL", "NULL", "NULL", "SELECT"},
                  {"p2", "t", "alice,readers", "NULL", "NULL", "UPDATE"}}));
}

TEST_F(ExecutorTest, PsqlDescribeTableStatistics) {
  EXPECT_EQ(
      Q(R"(SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '16384'
ORDER BY nsp, stxname;)"),
      (Rows{}));
}

TEST_F(ExecutorTest, PsqlDescribeTablePublications) {
  EXPECT_EQ(Q(R"(SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='16384' and pg_catalog.pg_relation_is_publishable('16384')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '16384'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('16384')
ORDER BY 1;)"),
            (Rows{{"pub_rel", "NULL", "name, id"}}));
}

TEST_F(ExecutorTest, PsqlDescribeTableInheritance) {
  EXPECT_EQ(Q(R"(SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '16384'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;)"),
            (Rows{}));
  EXPECT_EQ(
      Q(R"(SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '16384'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;)"),
      (Rows{}));
}

}  // namespace
}  // namespace rwmeta::frontend::sql
