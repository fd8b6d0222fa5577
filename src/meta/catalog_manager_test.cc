#include "meta/catalog_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/testing/status_matchers.h"
#include "meta/bootstrap.h"
#include "meta/test_store.h"

namespace rwmeta::meta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Asserts code, SQLSTATE and message of a failed DDL call.
#define EXPECT_DDL_ERROR(expr, code, state, msg)             \
  do {                                                       \
    auto r_ = (expr);                                        \
    EXPECT_THAT(r_, StatusIs(code, msg));                    \
    EXPECT_EQ(r_.status().sqlstate(), state) << r_.status(); \
  } while (0)

class CatalogManagerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BootstrapOptions o;
    o.state_store = "hummock+memory";
    o.data_directory = "data";
    ASSERT_OK(BootstrapCluster(store_, o).status());
    ASSERT_OK_AND_ASSIGN(catalog_, CatalogManager::Open(store_));
  }

  int64_t PublicId() {
    auto snap = catalog_->Snapshot();
    return snap->FindSchema(snap->FindDatabase("dev")->id, "public")->id;
  }

  std::vector<ColumnInfo> Cols() {
    return {{"a", "integer", false}, {"b", "character varying", true}};
  }

  void MakeUser(const std::string& name, CreateUserOptions o = {}) {
    ASSERT_OK(catalog_->CreateUser(root_, name, o, false).status());
  }

  testing::TestStore store_{GetParam()};
  std::unique_ptr<CatalogManager> catalog_;
  CatalogActor root_{"root", "dev"};
};

TEST_P(CatalogManagerTest, CreateAndDropDatabase) {
  ASSERT_OK_AND_ASSIGN(DdlResult r, catalog_->CreateDatabase(root_, "db2", false));
  EXPECT_GT(r.id, 0);
  auto snap = catalog_->Snapshot();
  ASSERT_NE(snap->FindDatabase("db2"), nullptr);
  int schemas = 0;
  for (const auto& s : snap->schemas) schemas += s.database_id == r.id;
  EXPECT_EQ(schemas, 4);

  EXPECT_DDL_ERROR(catalog_->CreateDatabase(root_, "db2", false), StatusCode::kAlreadyExists,
                   "42P04", "database \"db2\" already exists");
  ASSERT_OK_AND_ASSIGN(DdlResult skipped, catalog_->CreateDatabase(root_, "db2", true));
  EXPECT_THAT(skipped.notices, ElementsAre("database \"db2\" already exists, skipping"));

  // A table inside makes DROP refuse unless cascading.
  CatalogActor in_db2{"root", "db2"};
  ASSERT_OK(catalog_->CreateTable(in_db2, {"", "t"}, Cols(), {0}, "CREATE TABLE t", false, false)
                .status());
  EXPECT_DDL_ERROR(catalog_->DropDatabase(root_, "db2", false, false),
                   StatusCode::kFailedPrecondition, "2BP01",
                   "cannot drop database db2 because other objects depend on it");
  EXPECT_DDL_ERROR(catalog_->DropDatabase(in_db2, "db2", false, true),
                   StatusCode::kFailedPrecondition, "55006",
                   "cannot drop the currently open database");
  ASSERT_OK(catalog_->DropDatabase(root_, "db2", false, true).status());
  snap = catalog_->Snapshot();
  EXPECT_EQ(snap->FindDatabase("db2"), nullptr);
  EXPECT_EQ(snap->tables.size(), 0u);
  EXPECT_EQ(snap->schemas.size(), 4u);

  EXPECT_DDL_ERROR(catalog_->DropDatabase(root_, "db2", false, false), StatusCode::kNotFound,
                   "3D000", "database \"db2\" does not exist");
  ASSERT_OK_AND_ASSIGN(skipped, catalog_->DropDatabase(root_, "db2", true, false));
  EXPECT_THAT(skipped.notices, ElementsAre("database \"db2\" does not exist, skipping"));
}

TEST_P(CatalogManagerTest, EmptyDatabaseDropsWithoutCascade) {
  ASSERT_OK(catalog_->CreateDatabase(root_, "db3", false).status());
  ASSERT_OK(catalog_->DropDatabase(root_, "db3", false, false).status());
  EXPECT_EQ(catalog_->Snapshot()->FindDatabase("db3"), nullptr);
}

TEST_P(CatalogManagerTest, SchemaLifecycle) {
  ASSERT_OK(catalog_->CreateSchema(root_, "s1", false).status());
  EXPECT_DDL_ERROR(catalog_->CreateSchema(root_, "s1", false), StatusCode::kAlreadyExists, "42P06",
                   "schema \"s1\" already exists");
  ASSERT_OK_AND_ASSIGN(auto r, catalog_->CreateSchema(root_, "s1", true));
  EXPECT_THAT(r.notices, ElementsAre("schema \"s1\" already exists, skipping"));
  ASSERT_OK(catalog_->CreateTable(root_, {"s1", "t"}, Cols(), {}, "CREATE TABLE s1.t", false, false)
                .status());
  EXPECT_DDL_ERROR(catalog_->DropSchema(root_, "s1", false, false), StatusCode::kFailedPrecondition,
                   "2BP01", "cannot drop schema s1 because other objects depend on it");
  ASSERT_OK(catalog_->DropSchema(root_, "s1", false, true).status());
  EXPECT_TRUE(catalog_->Snapshot()->tables.empty());
  EXPECT_DDL_ERROR(catalog_->DropSchema(root_, "s1", false, false), StatusCode::kNotFound, "3F000",
                   "schema \"s1\" does not exist");
  EXPECT_DDL_ERROR(catalog_->CreateTable(root_, {"nope", "t"}, Cols(), {}, "", false, false),
                   StatusCode::kNotFound, "3F000", "schema \"nope\" does not exist");
}

TEST_P(CatalogManagerTest, TablesAndViews) {
  ASSERT_OK_AND_ASSIGN(
      auto t, catalog_->CreateTable(root_, {"", "t"}, Cols(), {0},
                                    "CREATE TABLE t (a int primary key, b varchar)", true, false));
  const TableInfo* info = catalog_->Snapshot()->FindTable(PublicId(), "t");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->id, t.id);
  EXPECT_EQ(info->columns.size(), 2u);
  EXPECT_EQ(info->columns[1].type, "character varying");
  EXPECT_FALSE(info->columns[0].nullable);
  EXPECT_THAT(info->pk, ElementsAre(0));
  EXPECT_TRUE(info->append_only);

  EXPECT_DDL_ERROR(catalog_->CreateTable(root_, {"public", "t"}, Cols(), {}, "", false, false),
                   StatusCode::kAlreadyExists, "42P07", "relation \"t\" already exists");
  ASSERT_OK_AND_ASSIGN(auto skipped,
                       catalog_->CreateTable(root_, {"", "t"}, Cols(), {}, "", false, true));
  EXPECT_THAT(skipped.notices, ElementsAre("relation \"t\" already exists, skipping"));
  EXPECT_DDL_ERROR(catalog_->CreateTable(root_, {"", "u"}, {{"a", "integer"}, {"a", "integer"}}, {},
                                         "", false, false),
                   StatusCode::kInvalidArgument, "42701", "column \"a\" specified more than once");
  EXPECT_DDL_ERROR(catalog_->CreateTable(root_, {"", "u"}, Cols(), {5}, "", false, false),
                   StatusCode::kInvalidArgument, "42P16", "invalid primary key");

  // Views share the namespace and record dependencies.
  ASSERT_OK_AND_ASSIGN(auto v, catalog_->CreateView(root_, {"", "v"}, {{"a", "integer"}},
                                                    "SELECT a FROM t", {t.id}, false));
  ASSERT_OK(
      catalog_->CreateView(root_, {"", "vv"}, {{"a", "integer"}}, "SELECT a FROM v", {v.id}, false)
          .status());
  EXPECT_DDL_ERROR(
      catalog_->CreateView(root_, {"", "t"}, {{"a", "integer"}}, "SELECT 1", {}, false),
      StatusCode::kAlreadyExists, "42P07", "relation \"t\" already exists");
  EXPECT_DDL_ERROR(catalog_->DropRelation(root_, {"", "t"}, false, false, false),
                   StatusCode::kFailedPrecondition, "2BP01",
                   "cannot drop table t because other objects depend on it");
  EXPECT_DDL_ERROR(catalog_->DropRelation(root_, {"", "v"}, true, false, false),
                   StatusCode::kFailedPrecondition, "2BP01",
                   "cannot drop view v because other objects depend on it");
  EXPECT_DDL_ERROR(catalog_->DropRelation(root_, {"", "v"}, false, false, false),
                   StatusCode::kInvalidArgument, "42809", "\"v\" is not a table");
  ASSERT_OK_AND_ASSIGN(auto dropped, catalog_->DropRelation(root_, {"", "t"}, false, false, true));
  EXPECT_THAT(dropped.notices, ::testing::UnorderedElementsAre("drop cascades to view v",
                                                               "drop cascades to view vv"));
  auto snap = catalog_->Snapshot();
  EXPECT_TRUE(snap->tables.empty());
  EXPECT_TRUE(snap->views.empty());
  EXPECT_TRUE(snap->dependencies.empty());

  EXPECT_DDL_ERROR(catalog_->DropRelation(root_, {"", "t"}, false, false, false),
                   StatusCode::kNotFound, "42P01", "table \"t\" does not exist");
  EXPECT_DDL_ERROR(catalog_->DropRelation(root_, {"", "v"}, true, false, false),
                   StatusCode::kNotFound, "42P01", "view \"v\" does not exist");
  ASSERT_OK_AND_ASSIGN(auto missing, catalog_->DropRelation(root_, {"", "t"}, false, true, false));
  EXPECT_THAT(missing.notices, ElementsAre("table \"t\" does not exist, skipping"));
}

TEST_P(CatalogManagerTest, UsersAndPasswords) {
  CreateUserOptions o;
  o.password = std::optional<std::string>("secret");
  o.create_db = true;
  ASSERT_OK(catalog_->CreateUser(root_, "alice", o, false).status());
  const UserInfo* alice = catalog_->Snapshot()->FindUser("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(*alice->auth_type, "md5");
  // md5("secretalice"), as PostgreSQL computes it.
  EXPECT_EQ(*alice->auth_value, Md5Verifier("secret", "alice"));
  EXPECT_TRUE(alice->can_create_db);
  EXPECT_FALSE(alice->is_super);
  EXPECT_TRUE(alice->can_login);

  EXPECT_DDL_ERROR(catalog_->CreateUser(root_, "alice", {}, false), StatusCode::kAlreadyExists,
                   "42710", "user \"alice\" already exists");
  ASSERT_OK_AND_ASSIGN(auto skipped, catalog_->CreateUser(root_, "alice", {}, true));
  EXPECT_THAT(skipped.notices, ElementsAre("user \"alice\" already exists, skipping"));

  // Non-superusers may not create users or make themselves superuser.
  CatalogActor as_alice{"alice", "dev"};
  EXPECT_DDL_ERROR(catalog_->CreateUser(as_alice, "bob", {}, false), StatusCode::kPermissionDenied,
                   "42501", "permission denied to create user");
  CreateUserOptions make_super;
  make_super.superuser = true;
  EXPECT_DDL_ERROR(catalog_->AlterUser(as_alice, "alice", make_super),
                   StatusCode::kPermissionDenied, "42501",
                   "permission denied to alter user \"alice\"");
  // But may change their own password.
  CreateUserOptions new_password;
  new_password.password = std::optional<std::string>("other");
  ASSERT_OK(catalog_->AlterUser(as_alice, "alice", new_password).status());
  EXPECT_EQ(*catalog_->Snapshot()->FindUser("alice")->auth_value, Md5Verifier("other", "alice"));
  ASSERT_OK(catalog_->AlterUser(root_, "alice", make_super).status());
  EXPECT_TRUE(catalog_->Snapshot()->FindUser("alice")->is_super);
  CreateUserOptions no_password;
  no_password.password = std::optional<std::string>();
  ASSERT_OK(catalog_->AlterUser(root_, "alice", no_password).status());
  EXPECT_FALSE(catalog_->Snapshot()->FindUser("alice")->auth_type.has_value());
  EXPECT_DDL_ERROR(catalog_->AlterUser(root_, "nobody", no_password), StatusCode::kNotFound,
                   "42704", "user \"nobody\" does not exist");

  // Drop: refused while owning objects, and for oneself.
  ASSERT_OK(catalog_->CreateDatabase(as_alice, "alicedb", false).status());
  EXPECT_DDL_ERROR(catalog_->DropUser(root_, "alice", false), StatusCode::kFailedPrecondition,
                   "2BP01", "user \"alice\" cannot be dropped because some objects depend on it");
  EXPECT_DDL_ERROR(catalog_->DropUser(root_, "root", false), StatusCode::kFailedPrecondition,
                   "55006", "current user cannot be dropped");
  ASSERT_OK(catalog_->DropDatabase(root_, "alicedb", false, false).status());
  ASSERT_OK(catalog_->DropUser(root_, "alice", false).status());
  EXPECT_EQ(catalog_->Snapshot()->FindUser("alice"), nullptr);
  EXPECT_DDL_ERROR(catalog_->DropUser(root_, "alice", false), StatusCode::kNotFound, "42704",
                   "user \"alice\" does not exist");
  ASSERT_OK_AND_ASSIGN(auto gone, catalog_->DropUser(root_, "alice", true));
  EXPECT_THAT(gone.notices, ElementsAre("user \"alice\" does not exist, skipping"));
}

TEST_P(CatalogManagerTest, Md5VerifierMatchesPostgres) {
  // SELECT 'md5' || md5('secretalice') in PostgreSQL: password first, then the user name.
  EXPECT_EQ(Md5Verifier("secret", "alice"), "md54a0a68b43b6cd5cf266fa02f196e2371");
  EXPECT_EQ(Md5Verifier("", ""), "md5d41d8cd98f00b204e9800998ecf8427e");
}

TEST_P(CatalogManagerTest, PermissionsOnDdl) {
  MakeUser("bob");
  CatalogActor bob{"bob", "dev"};
  EXPECT_DDL_ERROR(catalog_->CreateDatabase(bob, "bobdb", false), StatusCode::kPermissionDenied,
                   "42501", "permission denied to create database");
  EXPECT_DDL_ERROR(catalog_->CreateSchema(bob, "bs", false), StatusCode::kPermissionDenied, "42501",
                   "permission denied for database dev");
  EXPECT_DDL_ERROR(catalog_->CreateTable(bob, {"", "t"}, Cols(), {}, "", false, false),
                   StatusCode::kPermissionDenied, "42501", "permission denied for schema public");
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kSchema, {{"", "public"}}, {"create"}, {"bob"}, false)
          .status());
  ASSERT_OK(catalog_->CreateTable(bob, {"", "bt"}, Cols(), {}, "", false, false).status());
  ASSERT_OK(catalog_->CreateTable(root_, {"", "rt"}, Cols(), {}, "", false, false).status());
  EXPECT_DDL_ERROR(catalog_->DropRelation(bob, {"", "rt"}, false, false, false),
                   StatusCode::kPermissionDenied, "42501", "must be owner of table rt");
  ASSERT_OK(catalog_->DropRelation(bob, {"", "bt"}, false, false, false).status());
  EXPECT_DDL_ERROR(catalog_->DropSchema(bob, "public", false, true), StatusCode::kPermissionDenied,
                   "42501", "must be owner of schema public");
  EXPECT_DDL_ERROR(catalog_->DropDatabase(bob, "dev", false, true), StatusCode::kPermissionDenied,
                   "42501", "must be owner of database dev");
}

TEST_P(CatalogManagerTest, GrantAndRevoke) {
  MakeUser("carol");
  ASSERT_OK_AND_ASSIGN(auto t,
                       catalog_->CreateTable(root_, {"", "t"}, Cols(), {}, "", false, false));
  int64_t carol = catalog_->Snapshot()->FindUser("carol")->id;
  ASSERT_OK(catalog_
                ->Grant(root_, GrantTargetType::kTable, {{"", "t"}}, {"select", "insert"},
                        {"carol"}, false)
                .status());
  auto snap = catalog_->Snapshot();
  EXPECT_TRUE(snap->HasPrivilege(carol, t.id, "SELECT"));
  EXPECT_TRUE(snap->HasPrivilege(carol, t.id, "INSERT"));
  EXPECT_FALSE(snap->HasPrivilege(carol, t.id, "DELETE"));
  // Granting again is a no-op.
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"", "t"}}, {"select"}, {"carol"}, false)
          .status());
  EXPECT_EQ(catalog_->Snapshot()->privileges.size(), 2u);
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"", "t"}}, {}, {"carol"}, false).status());
  EXPECT_EQ(catalog_->Snapshot()->privileges.size(), 4u);
  ASSERT_OK(catalog_->Revoke(root_, GrantTargetType::kTable, {{"", "t"}}, {"select"}, {"carol"})
                .status());
  snap = catalog_->Snapshot();
  EXPECT_FALSE(snap->HasPrivilege(carol, t.id, "SELECT"));
  EXPECT_TRUE(snap->HasPrivilege(carol, t.id, "DELETE"));

  EXPECT_DDL_ERROR(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"", "t"}}, {"usage"}, {"carol"}, false),
      StatusCode::kInvalidArgument, "0LP01", "invalid privilege type USAGE for table");
  EXPECT_DDL_ERROR(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"", "nope"}}, {"select"}, {"carol"}, false),
      StatusCode::kNotFound, "42P01", "relation \"nope\" does not exist");
  EXPECT_DDL_ERROR(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"", "t"}}, {"select"}, {"nobody"}, false),
      StatusCode::kNotFound, "42704", "user \"nobody\" does not exist");
  EXPECT_DDL_ERROR(catalog_->Grant(root_, GrantTargetType::kDatabase, {{"", "nodb"}}, {"connect"},
                                   {"carol"}, false),
                   StatusCode::kNotFound, "3D000", "database \"nodb\" does not exist");
  EXPECT_DDL_ERROR(catalog_->Grant({"carol", "dev"}, GrantTargetType::kTable, {{"", "t"}},
                                   {"select"}, {"carol"}, false),
                   StatusCode::kPermissionDenied, "42501", "permission denied for table t");
  // Dropping the table drops its privileges.
  ASSERT_OK(catalog_->DropRelation(root_, {"", "t"}, false, false, false).status());
  EXPECT_TRUE(catalog_->Snapshot()->privileges.empty());
}

TEST_P(CatalogManagerTest, Secrets) {
  ASSERT_OK(catalog_->CreateSecret(root_, {"", "s"}, std::string("p\0w", 3), false).status());
  const SecretInfo* s = catalog_->Snapshot()->FindSecret(PublicId(), "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, std::string("p\0w", 3));
  // Secrets have their own namespace: a table named s is fine.
  ASSERT_OK(catalog_->CreateTable(root_, {"", "s"}, Cols(), {}, "", false, false).status());
  EXPECT_DDL_ERROR(catalog_->CreateSecret(root_, {"", "s"}, "x", false), StatusCode::kAlreadyExists,
                   "42710", "secret \"s\" already exists");
  ASSERT_OK(catalog_->DropSecret(root_, {"", "s"}, false).status());
  EXPECT_DDL_ERROR(catalog_->DropSecret(root_, {"", "s"}, false), StatusCode::kNotFound, "42704",
                   "secret \"s\" does not exist");
  ASSERT_OK_AND_ASSIGN(auto skipped, catalog_->DropSecret(root_, {"", "s"}, true));
  EXPECT_THAT(skipped.notices, ElementsAre("secret \"s\" does not exist, skipping"));
}

TEST_P(CatalogManagerTest, RestartSeesEverythingAndVersionGrows) {
  int64_t v0 = catalog_->Snapshot()->version;
  ASSERT_OK(catalog_->CreateSchema(root_, "s", false).status());
  ASSERT_OK_AND_ASSIGN(
      auto t, catalog_->CreateTable(root_, {"s", "t"}, Cols(), {1}, "CREATE TABLE", false, false));
  ASSERT_OK(
      catalog_
          ->CreateView(root_, {"s", "v"}, {{"a", "integer"}}, "SELECT a FROM s.t", {t.id}, false)
          .status());
  MakeUser("dave");
  EXPECT_EQ(catalog_->Snapshot()->version, v0 + 4);
  // A skipped statement changes nothing.
  ASSERT_OK(catalog_->CreateSchema(root_, "s", true).status());
  EXPECT_EQ(catalog_->Snapshot()->version, v0 + 4);

  ASSERT_OK_AND_ASSIGN(auto again, CatalogManager::Open(store_));
  auto snap = again->Snapshot();
  EXPECT_EQ(snap->version, v0 + 4);
  const SchemaInfo* s = snap->FindSchema(snap->FindDatabase("dev")->id, "s");
  ASSERT_NE(s, nullptr);
  const TableInfo* table = snap->FindTable(s->id, "t");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->id, t.id);
  EXPECT_THAT(table->pk, ElementsAre(1));
  ASSERT_NE(snap->FindView(s->id, "v"), nullptr);
  EXPECT_EQ(snap->FindView(s->id, "v")->definition, "SELECT a FROM s.t");
  ASSERT_EQ(snap->dependencies.size(), 1u);
  EXPECT_EQ(snap->dependencies.begin()->oid, t.id);
  EXPECT_NE(snap->FindUser("dave"), nullptr);
}

TEST_P(CatalogManagerTest, ConcurrentDdlFromThreads) {
  constexpr int kThreads = 2;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        std::string name = "t" + std::to_string(i) + "_" + std::to_string(j);
        if (!catalog_->CreateTable(root_, {"", name}, Cols(), {}, "", false, false).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto snap = catalog_->Snapshot();
  ASSERT_EQ(snap->tables.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<int64_t> ids;
  for (const auto& t : snap->tables) ids.insert(t.id);
  EXPECT_EQ(ids.size(), snap->tables.size());
}

// Two managers over one store (two meta processes): each validates against the store inside its
// transaction, not against its possibly stale cache.
TEST_P(CatalogManagerTest, SecondManagerValidatesAgainstTheStore) {
  ASSERT_OK_AND_ASSIGN(auto other, CatalogManager::Open(store_));
  ASSERT_OK(catalog_->CreateTable(root_, {"", "t"}, Cols(), {}, "", false, false).status());
  EXPECT_EQ(other->Snapshot()->tables.size(), 0u);  // stale until it writes or reloads
  EXPECT_DDL_ERROR(other->CreateTable(root_, {"", "t"}, Cols(), {}, "", false, false),
                   StatusCode::kAlreadyExists, "42P07", "relation \"t\" already exists");
  ASSERT_OK(other->Reload());
  EXPECT_EQ(other->Snapshot()->tables.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogManagerTest, ::testing::ValuesIn(testing::kTestBackends));

}  // namespace
}  // namespace rwmeta::meta
