// The cached catalog stays exactly what the store holds: CatalogManager applies what each DDL
// statement wrote to its snapshot instead of reloading it, and these tests compare the result
// with LoadCatalog of the store after randomized DDL from concurrent sessions, after a restart,
// and after writers behind the manager's back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <barrier>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"
#include "meta/bootstrap.h"
#include "meta/catalog_internal.h"
#include "meta/catalog_manager.h"
#include "meta/test_store.h"

namespace rwmeta::meta {
namespace {

using metastore::Key;
using metastore::Model;
using metastore::Row;

// The members of two snapshots that differ, by name ("" when equal), so that a failure says
// where the cache drifted.
std::string Diff(const CatalogSnapshot& a, const CatalogSnapshot& b) {
  std::string out;
  auto check = [&](bool same, const char* name) {
    if (!same) out += std::string(out.empty() ? "" : ", ") + name;
  };
  check(a.version == b.version, "version");
  check(a.users == b.users, "users");
  check(a.objects == b.objects, "objects");
  check(a.databases == b.databases, "databases");
  check(a.schemas == b.schemas, "schemas");
  check(a.tables == b.tables, "tables");
  check(a.views == b.views, "views");
  check(a.indexes == b.indexes, "indexes");
  check(a.secrets == b.secrets, "secrets");
  check(a.privileges == b.privileges, "privileges");
  check(a.dependencies == b.dependencies, "dependencies");
  check(a.by == b.by, "indexes (by)");
  check(a == b, "snapshot");
  return out;
}

std::shared_ptr<const CatalogSnapshot> LoadFromStore(metastore::MetaStore& store) {
  auto view = store.BeginSnapshotRead();
  EXPECT_OK(view.status());
  if (!view.ok()) return nullptr;
  auto snap = LoadCatalog(**view);
  EXPECT_OK(snap.status());
  return snap.ok() ? *snap : nullptr;
}

// Cache against store; counts the rows compared so a vacuous pass shows.
void ExpectMatchesStore(const CatalogManager& catalog, metastore::MetaStore& store,
                        const std::string& when) {
  auto cached = catalog.Snapshot();
  auto stored = LoadFromStore(store);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(Diff(*cached, *stored), "")
      << when << ": cached version " << cached->version << ", stored version " << stored->version;
}

class CatalogConsistencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    BootstrapOptions o;
    o.state_store = "hummock+memory";
    o.data_directory = "data";
    ASSERT_OK(BootstrapCluster(store_, o).status());
    ASSERT_OK_AND_ASSIGN(catalog_, CatalogManager::Open(store_));
  }

  testing::TestStore store_{GetParam()};
  std::unique_ptr<CatalogManager> catalog_;
  const CatalogActor root_{"root", "dev"};
};

// The cascades the snapshot follows are exactly the model's ON DELETE CASCADE foreign keys
// between catalog tables: a cascade added to the model without its twin in ApplyCatalogDelete
// would let the cache keep rows the store deleted.
TEST(CatalogCascadesTest, MatchTheModel) {
  std::set<std::tuple<std::string, std::string, std::string>> model, catalog;
  for (const auto& table : Model::Get().tables()) {
    if (!catalog_internal::IsCatalogTable(table.name)) continue;
    for (const auto& fk : table.foreign_keys) {
      if (!fk.on_delete_cascade || !catalog_internal::IsCatalogTable(fk.ref_table)) continue;
      ASSERT_EQ(fk.columns.size(), 1u) << table.name;
      model.insert({table.name, fk.columns[0], fk.ref_table});
    }
  }
  for (const auto& c : catalog_internal::CatalogCascades()) {
    catalog.insert({std::string(c.child), std::string(c.column), std::string(c.parent)});
  }
  EXPECT_EQ(catalog, model);
  // No cascading child is itself the parent of a cascade (ApplyCatalogDelete goes one level).
  for (const auto& [child, column, parent] : model) {
    for (const auto& [c2, col2, parent2] : model) EXPECT_NE(parent2, child) << child;
  }
}

// One session's random DDL: small pools of names so that statements collide (already exists,
// does not exist, dependents, permissions), and several users so that ownership and grants
// matter. Returns nothing: failing statements are part of the mix.
class RandomSession {
 public:
  RandomSession(CatalogManager& catalog, uint32_t seed) : catalog_(catalog), rng_(seed) {}

  void Step() {
    CatalogActor actor{Pick({"root", "root", "root", "root", "u1", "u2"}),
                       Pick({"dev", "dev", "dev", "db1"})};
    QualifiedName rel{Pick({"", "", "s1", "s2"}), Pick({"t1", "t2", "t3", "v1", "v2", "m1"})};
    bool flag = Coin();
    bool flag2 = Coin();
    switch (rng_() % 20) {
      case 0:
        Run(catalog_.CreateDatabase(actor, Pick({"db1", "db2"}), flag));
        break;
      case 1:
        Run(catalog_.DropDatabase(actor, Pick({"db1", "db2"}), flag, flag2));
        break;
      case 2:
        Run(catalog_.CreateSchema(actor, Pick({"s1", "s2"}), flag));
        break;
      case 3:
        Run(catalog_.DropSchema(actor, Pick({"s1", "s2"}), flag, flag2));
        break;
      case 4:
      case 5:
      case 6: {
        std::vector<ColumnInfo> cols{{"a", "integer", false}};
        if (Coin()) cols.push_back({"b", "character varying", true});
        if (rng_() % 10 == 0) cols.push_back({"a", "integer", true});  // duplicate: refused
        Run(catalog_.CreateTable(actor, rel, cols,
                                 Coin() ? std::vector<int>{0} : std::vector<int>{}, "CREATE TABLE",
                                 Coin(), flag));
        break;
      }
      case 7:
        Run(catalog_.CreateView(actor, rel, {{"a", "integer", true}}, "SELECT a",
                                SomeRelations(actor), flag));
        break;
      case 8:
        Run(catalog_.CreateMaterializedView(actor, rel, {{"a", "integer", true}}, "SELECT a",
                                            SomeRelations(actor), flag));
        break;
      case 9:
      case 10: {
        bool is_view = rng_() % 3 == 0;
        bool materialized = !is_view && rng_() % 3 == 0;
        Run(catalog_.DropRelation(actor, rel, is_view, flag, flag2, materialized));
        break;
      }
      case 11:
        Run(catalog_.CreateIndex(actor, {rel.schema, Pick({"i1", "i2"})},
                                 {rel.schema, Pick({"t1", "t2", "m1"})},
                                 {Pick({"a", "a", "b", "zz"})}, "CREATE INDEX", flag));
        break;
      case 12:
        Run(catalog_.DropIndex(actor, {rel.schema, Pick({"i1", "i2"})}, flag));
        break;
      case 13: {
        CreateUserOptions o;
        if (Coin()) o.create_db = Coin();
        if (Coin()) o.password = std::optional<std::string>("pw");
        if (rng_() % 5 == 0) o.superuser = Coin();
        Run(catalog_.CreateUser(actor, Pick({"u1", "u2", "u3"}), o, flag));
        break;
      }
      case 14: {
        CreateUserOptions o;
        if (Coin()) o.create_user = Coin();
        if (Coin()) o.password = Coin() ? std::optional<std::string>("pw2") : std::nullopt;
        Run(catalog_.AlterUser(actor, Pick({"u1", "u2", "u3"}), o));
        break;
      }
      case 15:
        Run(catalog_.DropUser(actor, Pick({"u1", "u2", "u3"}), flag));
        break;
      case 16:
        if (Coin()) {
          Run(catalog_.CreateSecret(actor, {rel.schema, Pick({"k1", "k2"})}, "secret", flag));
        } else {
          Run(catalog_.DropSecret(actor, {rel.schema, Pick({"k1", "k2"})}, flag));
        }
        break;
      default: {
        GrantTargetType type = Pick({GrantTargetType::kTable, GrantTargetType::kTable,
                                     GrantTargetType::kSchema, GrantTargetType::kDatabase});
        QualifiedName target = type == GrantTargetType::kTable ? rel
                               : type == GrantTargetType::kSchema
                                   ? QualifiedName{"", Pick({"public", "s1"})}
                                   : QualifiedName{"", Pick({"dev", "db1"})};
        std::vector<std::string> actions;
        if (Coin()) actions.push_back(type == GrantTargetType::kTable ? "select" : "create");
        std::vector<std::string> grantees{Pick({"u1", "u2", "u3"})};
        if (rng_() % 2 == 0) {
          Run(catalog_.Grant(actor, type, {target}, actions, grantees, flag));
        } else {
          Run(catalog_.Revoke(actor, type, {target}, actions, grantees));
        }
        break;
      }
    }
  }

  int ok() const { return ok_; }
  int failed() const { return failed_; }

 private:
  template <typename T>
  T Pick(std::initializer_list<T> options) {
    return *(options.begin() + rng_() % options.size());
  }
  std::string Pick(std::initializer_list<const char*> options) {
    return *(options.begin() + rng_() % options.size());
  }
  bool Coin() { return rng_() % 2 == 0; }

  // Up to two relations of the actor's database from the current snapshot, now and then an id
  // that does not exist.
  std::vector<int64_t> SomeRelations(const CatalogActor& actor) {
    auto snap = catalog_.Snapshot();
    std::vector<int64_t> ids;
    const DatabaseInfo* db = snap->FindDatabase(actor.database);
    for (const auto& t : snap->tables) {
      if (db != nullptr && t.database_id == db->id) ids.push_back(t.id);
    }
    for (const auto& v : snap->views) {
      if (db != nullptr && v.database_id == db->id) ids.push_back(v.id);
    }
    std::vector<int64_t> out;
    for (int i = 0; i < 2 && !ids.empty(); ++i) out.push_back(ids[rng_() % ids.size()]);
    if (rng_() % 10 == 0) out.push_back(987654321);
    return out;
  }

  void Run(const Result<DdlResult>& r) { r.ok() ? ++ok_ : ++failed_; }

  CatalogManager& catalog_;
  std::mt19937 rng_;
  int ok_ = 0;
  int failed_ = 0;
};

// Concurrent sessions run random DDL; after every round (a few statements each) the cache is
// compared with the store; then the manager is reopened (a restart) and compared again.
TEST_P(CatalogConsistencyTest, RandomizedConcurrentDdlMatchesStore) {
  constexpr int kSessions = 4;
  constexpr int kRounds = 12;
  constexpr int kStatementsPerRound = 8;
  // The statements each session draws replay from the seed (the interleaving does not).
  const char* env_seed = std::getenv("RWMETA_TEST_SEED");
  const uint32_t seed = env_seed ? static_cast<uint32_t>(std::strtoul(env_seed, nullptr, 10)) : 17;
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set RWMETA_TEST_SEED to change it)");
  // Start from a populated catalog so that most statements have something to act on; the
  // sessions drop and recreate all of it.
  CreateUserOptions may_create_db;
  may_create_db.create_db = true;
  ASSERT_OK(catalog_->CreateUser(root_, "u1", may_create_db, false).status());
  ASSERT_OK(catalog_->CreateUser(root_, "u2", {}, false).status());
  ASSERT_OK(catalog_->CreateDatabase(root_, "db1", false).status());
  ASSERT_OK(catalog_->CreateSchema(root_, "s1", false).status());
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kSchema, {{"", "public"}}, {"create"}, {"u1"}, false)
          .status());
  std::vector<RandomSession> sessions;
  for (int i = 0; i < kSessions; ++i) sessions.emplace_back(*catalog_, seed * 31 + i);

  int round = 0;
  std::barrier sync(kSessions, [&]() noexcept {
    ExpectMatchesStore(*catalog_, store_, "after round " + std::to_string(round++));
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        for (int s = 0; s < kStatementsPerRound; ++s) sessions[i].Step();
        sync.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();

  int ok = 0, failed = 0;
  for (const auto& s : sessions) {
    ok += s.ok();
    failed += s.failed();
  }
  // Both kinds happened: the comparison covered changes and refusals. How many succeed depends on
  // how the sessions interleave (about a third, fewer under a sanitizer's slower threads).
  EXPECT_GT(ok, kSessions * kRounds * kStatementsPerRound / 6);
  EXPECT_GT(failed, 0);
  auto before = catalog_->Snapshot();
  EXPECT_GT(before->tables.size() + before->views.size(), 0u);

  catalog_.reset();
  ASSERT_OK_AND_ASSIGN(catalog_, CatalogManager::Open(store_));
  EXPECT_EQ(Diff(*catalog_->Snapshot(), *before), "");
  ExpectMatchesStore(*catalog_, store_, "after the restart");
  // And the restarted manager keeps applying correctly.
  RandomSession after(*catalog_, seed + 1000);
  for (int i = 0; i < 40; ++i) after.Step();
  ExpectMatchesStore(*catalog_, store_, "after DDL on the restarted manager");
}

// A CASCADE drop removes what the store removes: dependent views, indexes, grants and
// dependency rows, in one statement.
TEST_P(CatalogConsistencyTest, CascadeDropsMatchStore) {
  ASSERT_OK(catalog_->CreateUser(root_, "u1", {}, false).status());
  ASSERT_OK(catalog_->CreateSchema(root_, "s", false).status());
  ASSERT_OK_AND_ASSIGN(auto t, catalog_->CreateTable(root_, {"s", "t"}, {{"a", "integer", false}},
                                                     {0}, "CREATE TABLE", false, false));
  ASSERT_OK_AND_ASSIGN(
      auto v, catalog_->CreateView(root_, {"s", "v"}, {{"a", "integer"}}, "SELECT", {t.id}, false));
  ASSERT_OK(catalog_
                ->CreateMaterializedView(root_, {"s", "m"}, {{"a", "integer"}}, "SELECT",
                                         {v.id, t.id}, false)
                .status());
  ASSERT_OK(
      catalog_->CreateIndex(root_, {"s", "i"}, {"s", "t"}, {"a"}, "CREATE INDEX", false).status());
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kTable, {{"s", "v"}}, {}, {"u1"}, true).status());
  ASSERT_OK(
      catalog_->Grant(root_, GrantTargetType::kSchema, {{"", "s"}}, {}, {"u1"}, false).status());
  ExpectMatchesStore(*catalog_, store_, "before the drop");
  auto snap = catalog_->Snapshot();
  EXPECT_EQ(snap->DependentsOf(t.id).size(), 2u);
  EXPECT_EQ(snap->IndexesOn(t.id).size(), 1u);

  ASSERT_OK_AND_ASSIGN(auto dropped, catalog_->DropSchema(root_, "s", false, true));
  EXPECT_EQ(dropped.dropped_ids.size(), 5u);  // schema, table, view, materialized view, index
  snap = catalog_->Snapshot();
  EXPECT_TRUE(snap->tables.empty());
  EXPECT_TRUE(snap->views.empty());
  EXPECT_TRUE(snap->indexes.empty());
  EXPECT_TRUE(snap->dependencies.empty());
  EXPECT_TRUE(snap->privileges.empty());
  ExpectMatchesStore(*catalog_, store_, "after DROP SCHEMA CASCADE");

  // Dropping a user takes its grants (user_privilege.user_id cascades).
  ASSERT_OK(catalog_->Grant(root_, GrantTargetType::kDatabase, {{"", "dev"}}, {}, {"u1"}, false)
                .status());
  EXPECT_EQ(catalog_->Snapshot()->privileges.size(), 2u);
  ASSERT_OK(catalog_->DropUser(root_, "u1", false).status());
  EXPECT_TRUE(catalog_->Snapshot()->privileges.empty());
  ExpectMatchesStore(*catalog_, store_, "after DROP USER");
}

// Another manager (another meta process) writes; this one's next DDL sees the stored version
// differ from its cache, loads the whole catalog, and runs against that.
TEST_P(CatalogConsistencyTest, AnotherManagerWritingMakesTheNextDdlReload) {
  ASSERT_OK_AND_ASSIGN(auto other, CatalogManager::Open(store_));
  ASSERT_OK(
      other->CreateTable(root_, {"", "theirs"}, {{"a", "integer"}}, {}, "", false, false).status());
  auto stale = catalog_->Snapshot();
  const SchemaInfo* public_schema = stale->FindSchema(stale->FindDatabase("dev")->id, "public");
  EXPECT_EQ(stale->FindTable(public_schema->id, "theirs"), nullptr);

  ASSERT_OK(catalog_->CreateTable(root_, {"", "ours"}, {{"a", "integer"}}, {}, "", false, false)
                .status());
  auto snap = catalog_->Snapshot();
  EXPECT_NE(snap->FindTable(public_schema->id, "theirs"), nullptr);
  EXPECT_NE(snap->FindTable(public_schema->id, "ours"), nullptr);
  ExpectMatchesStore(*catalog_, store_, "after the reload");
}

// A writer behind the manager's back (rows written straight into the store, catalog_version
// bumped): the next DDL reloads and sees them.
TEST_P(CatalogConsistencyTest, WriterBehindTheBackIsSeenByTheNextDdl) {
  const Model& m = Model::Get();
  ASSERT_OK(metastore::RunTransaction(store_, [&](metastore::Transaction& txn) -> Status {
    UserInfo u;
    u.name = "sneaky";
    RWMETA_RETURN_IF_ERROR(InsertUserRows(txn, u).status());
    RWMETA_ASSIGN_OR_RETURN(auto version,
                            txn.Get(m.Table("catalog_version"), Key{std::string("catalog")}));
    int64_t current = version ? std::get<int64_t>((*version)[1]) : 0;
    return txn.Upsert(m.Table("catalog_version"), Row{std::string("catalog"), current + 1});
  }));
  EXPECT_EQ(catalog_->Snapshot()->FindUser("sneaky"), nullptr);

  // The next statement finds the stored version moved and loads the whole catalog first.
  ASSERT_OK(catalog_->CreateUser(root_, "next", {}, false).status());
  EXPECT_NE(catalog_->Snapshot()->FindUser("sneaky"), nullptr);
  ExpectMatchesStore(*catalog_, store_, "after the reload");
}

// A statement that fails, or is skipped, leaves the published snapshot as it was.
TEST_P(CatalogConsistencyTest, FailedAndSkippedStatementsKeepTheSnapshot) {
  auto before = catalog_->Snapshot();
  EXPECT_FALSE(catalog_->DropUser(root_, "nobody", false).ok());
  EXPECT_EQ(catalog_->Snapshot(), before);
  ASSERT_OK(catalog_->DropUser(root_, "nobody", true).status());
  EXPECT_EQ(catalog_->Snapshot(), before);
  ExpectMatchesStore(*catalog_, store_, "after them");
}

// A new snapshot shares what did not change with the previous one: an entry of an untouched
// chunk is the same object in both.
TEST_P(CatalogConsistencyTest, SnapshotsShareUnchangedEntries) {
  if (GetParam() != "memory") GTEST_SKIP() << "one backend is enough for the container's sharing";
  constexpr int kTables = 600;  // more than two chunks of PersistentMap
  for (int i = 0; i < kTables; ++i) {
    ASSERT_OK(catalog_
                  ->CreateTable(root_, {"", "t" + std::to_string(i)}, {{"a", "integer"}}, {}, "",
                                false, false)
                  .status());
  }
  auto before = catalog_->Snapshot();
  const TableInfo* first = &*before->tables.begin();
  ASSERT_OK(catalog_->CreateTable(root_, {"", "last"}, {{"a", "integer"}}, {}, "", false, false)
                .status());
  auto after = catalog_->Snapshot();
  EXPECT_EQ(after->tables.size(), kTables + 1u);
  EXPECT_EQ(&*after->tables.begin(), first);
  EXPECT_EQ(after->FindTableById(first->id), first);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConsistencyTest,
                         ::testing::ValuesIn(testing::kTestBackends));

}  // namespace
}  // namespace rwmeta::meta
