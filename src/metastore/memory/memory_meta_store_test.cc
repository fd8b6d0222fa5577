// Memory-specific behaviour. The full contract is in the conformance suite
// (meta_store_conformance_test.cc), which runs over this backend too.
#include "metastore/memory/memory_meta_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

const Model& M() { return Model::Get(); }

Row UserRow(int64_t id, std::string name) {
  return Row{
      id,        std::move(name), false, false, false, true, std::monostate{}, std::monostate{},
      int64_t{0}};
}

Row ObjectRow(int64_t oid, std::string type, int64_t owner) {
  return Row{oid, std::move(type), owner, std::monostate{}, std::monostate{}, int64_t{0}};
}

using T = ColumnType;

// Keys the catalog model does not have, each checked through an index of the store: `parent.code`
// is a unique key that `child` (refusing deletes) and `tag` (cascading) refer to instead of the
// primary key; `child.name` is unique; `pair` has a two-column unique key with a nullable column;
// `node` refers to itself by a unique, non-key column.
const Model& KeysModel() {
  static const Model* const kModel =
      new Model(1, {{"parent", {{"id", T::kInt64}, {"code", T::kText}}, {"id"}, {{"code"}}, {}},
                    {"child",
                     {{"id", T::kInt64}, {"name", T::kText}, {"parent_code", T::kText, true}},
                     {"id"},
                     {{"name"}},
                     {{{"parent_code"}, "parent", {"code"}, false}}},
                    {"tag",
                     {{"id", T::kInt64}, {"parent_code", T::kText}},
                     {"id"},
                     {},
                     {{{"parent_code"}, "parent", {"code"}, true}}},
                    {"pair",
                     {{"id", T::kInt64}, {"a", T::kInt64, true}, {"b", T::kText}},
                     {"id"},
                     {{"a", "b"}},
                     {}},
                    {"node",
                     {{"id", T::kInt64}, {"name", T::kText}, {"parent_name", T::kText, true}},
                     {"id"},
                     {{"name"}},
                     {{{"parent_name"}, "node", {"name"}, false}}}});
  return *kModel;
}

const TableSchema& K(std::string_view table) { return KeysModel().Table(table); }

Row Parent(int64_t id, std::string code) { return Row{id, std::move(code)}; }
Row Child(int64_t id, std::string name, Value parent_code) {
  return Row{id, std::move(name), std::move(parent_code)};
}
Row Tag(int64_t id, std::string parent_code) { return Row{id, std::move(parent_code)}; }
Row Pair(int64_t id, Value a, std::string b) { return Row{id, std::move(a), std::move(b)}; }
Row Node(int64_t id, std::string name, Value parent_name) {
  return Row{id, std::move(name), std::move(parent_name)};
}

const Value kNull;

class MemoryMetaStoreKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(store_.Migrate());
    ASSERT_OK_AND_ASSIGN(txn_, store_.BeginTransaction());
  }

  int64_t Rows(std::string_view table) {
    auto n = txn_->Count(K(table));
    EXPECT_OK(n.status());
    return n.ok() ? *n : -1;
  }

  MemoryMetaStore store_{KeysModel()};
  std::unique_ptr<Transaction> txn_;
};

TEST_F(MemoryMetaStoreKeysTest, UniqueKeysWithNullsNeverCollide) {
  ASSERT_OK(txn_->Insert(K("pair"), Pair(1, kNull, "x")));
  ASSERT_OK(txn_->Insert(K("pair"), Pair(2, kNull, "x")));
  ASSERT_OK(txn_->Insert(K("pair"), Pair(3, int64_t{5}, "x")));
  EXPECT_THAT(txn_->Insert(K("pair"), Pair(4, int64_t{5}, "x")),
              StatusIs(StatusCode::kAlreadyExists,
                       "table pair: unique key (a, b) = (5, 'x') already exists"));
  ASSERT_OK(txn_->Insert(K("pair"), Pair(4, int64_t{5}, "y")));
  // A row keeps its own values; it cannot take another row's.
  ASSERT_OK(txn_->Update(K("pair"), Pair(3, int64_t{5}, "x")));
  EXPECT_THAT(txn_->Update(K("pair"), Pair(1, int64_t{5}, "y")),
              StatusIs(StatusCode::kAlreadyExists,
                       "table pair: unique key (a, b) = (5, 'y') already exists"));
  // Values an update or a delete gives up are free again.
  ASSERT_OK(txn_->Update(K("pair"), Pair(4, int64_t{6}, "y")));
  ASSERT_OK(txn_->Update(K("pair"), Pair(1, int64_t{5}, "y")));
  ASSERT_OK(txn_->Delete(K("pair"), Key{int64_t{3}}));
  ASSERT_OK(txn_->Insert(K("pair"), Pair(5, int64_t{5}, "x")));
  // ... and a row that now holds NULL no longer collides.
  ASSERT_OK(txn_->Update(K("pair"), Pair(5, kNull, "x")));
  ASSERT_OK(txn_->Insert(K("pair"), Pair(6, int64_t{5}, "x")));
  EXPECT_EQ(Rows("pair"), 5);

  // A one-column unique key of a table that also has a foreign key.
  ASSERT_OK(txn_->Insert(K("child"), Child(10, "c", kNull)));
  EXPECT_THAT(txn_->Insert(K("child"), Child(11, "c", kNull)),
              StatusIs(StatusCode::kAlreadyExists,
                       "table child: unique key (name) = ('c') already exists"));
}

TEST_F(MemoryMetaStoreKeysTest, ParentsReferredToByNonKeyColumns) {
  ASSERT_OK(txn_->Insert(K("parent"), Parent(1, "a")));
  EXPECT_THAT(txn_->Insert(K("child"), Child(10, "c10", std::string("zz"))),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table child: foreign key (parent_code) = ('zz') has no parent row in "
                       "table parent"));
  // NULL refers to nothing.
  ASSERT_OK(txn_->Insert(K("child"), Child(10, "c10", kNull)));
  ASSERT_OK(txn_->Insert(K("child"), Child(11, "c11", std::string("a"))));
  EXPECT_THAT(txn_->Update(K("child"), Child(10, "c10", std::string("b"))),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table child: foreign key (parent_code) = ('b') has no parent row in "
                       "table parent"));
  ASSERT_OK(txn_->Insert(K("parent"), Parent(2, "b")));
  ASSERT_OK(txn_->Update(K("child"), Child(10, "c10", std::string("b"))));
  EXPECT_THAT(txn_->Insert(K("tag"), Tag(20, "c")),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table tag: foreign key (parent_code) = ('c') has no parent row in "
                       "table parent"));

  // A row may refer to itself, and then cannot change the value it refers to.
  ASSERT_OK(txn_->Insert(K("node"), Node(1, "root", std::string("root"))));
  ASSERT_OK(txn_->Insert(K("node"), Node(2, "leaf", std::string("root"))));
  EXPECT_THAT(txn_->Insert(K("node"), Node(3, "x", std::string("y"))),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table node: foreign key (parent_name) = ('y') has no parent row in "
                       "table node"));
  EXPECT_THAT(txn_->Update(K("node"), Node(1, "top", std::string("top"))),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table node: (name) = ('root') is still referenced by table node"));
}

TEST_F(MemoryMetaStoreKeysTest, UpdatesOfReferencedValuesAreRefused) {
  ASSERT_OK(txn_->Insert(K("parent"), Parent(1, "a")));
  ASSERT_OK(txn_->Insert(K("parent"), Parent(2, "b")));
  ASSERT_OK(txn_->Insert(K("parent"), Parent(3, "c")));
  ASSERT_OK(txn_->Insert(K("child"), Child(10, "c10", std::string("a"))));
  ASSERT_OK(txn_->Insert(K("tag"), Tag(20, "b")));
  EXPECT_THAT(txn_->Update(K("parent"), Parent(1, "a2")),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: (code) = ('a') is still referenced by table child"));
  // A cascading reference holds the value too: an update is not a delete.
  EXPECT_THAT(txn_->Update(K("parent"), Parent(2, "b2")),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: (code) = ('b') is still referenced by table tag"));
  ASSERT_OK(txn_->Update(K("parent"), Parent(1, "a")));   // unchanged
  ASSERT_OK(txn_->Update(K("parent"), Parent(3, "c2")));  // unreferenced
  // Once the child lets go of the value, it may change.
  ASSERT_OK(txn_->Update(K("child"), Child(10, "c10", std::string("c2"))));
  ASSERT_OK(txn_->Update(K("parent"), Parent(1, "a2")));
  EXPECT_THAT(txn_->Update(K("parent"), Parent(3, "c3")),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: (code) = ('c2') is still referenced by table child"));
}

TEST_F(MemoryMetaStoreKeysTest, DeletesOfReferencedRows) {
  ASSERT_OK(txn_->Insert(K("parent"), Parent(1, "a")));
  ASSERT_OK(txn_->Insert(K("parent"), Parent(2, "b")));
  ASSERT_OK(txn_->Insert(K("child"), Child(10, "c10", std::string("a"))));
  ASSERT_OK(txn_->Insert(K("tag"), Tag(20, "a")));
  ASSERT_OK(txn_->Insert(K("tag"), Tag(21, "b")));
  ASSERT_OK(txn_->Insert(K("tag"), Tag(22, "a")));
  EXPECT_THAT(txn_->Delete(K("parent"), Key{int64_t{1}}),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: row (1) is still referenced by table child row (10)"));
  // Refused whole: the tags it would have cascaded to are still there.
  EXPECT_EQ(Rows("parent"), 2);
  EXPECT_EQ(Rows("tag"), 3);
  ASSERT_OK(txn_->Delete(K("parent"), Key{int64_t{2}}));
  EXPECT_EQ(Rows("tag"), 2);
  ASSERT_OK_AND_ASSIGN(auto gone, txn_->Get(K("tag"), Key{int64_t{21}}));
  EXPECT_FALSE(gone.has_value());
  ASSERT_OK(txn_->Update(K("child"), Child(10, "c10", kNull)));
  ASSERT_OK(txn_->Delete(K("parent"), Key{int64_t{1}}));
  EXPECT_EQ(Rows("tag"), 0);
  EXPECT_EQ(Rows("child"), 1);
  // The deleted rows' values are free: a new parent "a" has no children.
  ASSERT_OK(txn_->Insert(K("parent"), Parent(3, "a")));
  ASSERT_OK(txn_->Delete(K("parent"), Key{int64_t{3}}));

  // A row that refers to itself does not block its own delete; its children do.
  ASSERT_OK(txn_->Insert(K("node"), Node(1, "root", std::string("root"))));
  ASSERT_OK(txn_->Insert(K("node"), Node(2, "leaf", std::string("root"))));
  EXPECT_THAT(txn_->Delete(K("node"), Key{int64_t{1}}),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table node: row (1) is still referenced by table node row (2)"));
  ASSERT_OK(txn_->Delete(K("node"), Key{int64_t{2}}));
  ASSERT_OK(txn_->Delete(K("node"), Key{int64_t{1}}));
}

TEST_F(MemoryMetaStoreKeysTest, RolledBackAndFailedWritesLeaveTheIndexesAsTheyWere) {
  ASSERT_OK(txn_->Insert(K("parent"), Parent(1, "a")));
  ASSERT_OK(txn_->Commit());

  {
    // Rolled back: destroyed without Commit.
    ASSERT_OK_AND_ASSIGN(auto txn, store_.BeginTransaction());
    ASSERT_OK(txn->Insert(K("parent"), Parent(2, "b")));
    ASSERT_OK(txn->Insert(K("child"), Child(10, "n", std::string("b"))));
    ASSERT_OK(txn->Update(K("parent"), Parent(1, "a1")));
  }
  {
    // Lost a conflict: Commit is Aborted.
    ASSERT_OK_AND_ASSIGN(auto loser, store_.BeginTransaction());
    ASSERT_OK_AND_ASSIGN(auto winner, store_.BeginTransaction());
    ASSERT_OK(loser->Insert(K("parent"), Parent(3, "e")));
    ASSERT_OK(loser->Insert(K("tag"), Tag(20, "a")));
    ASSERT_OK(winner->Insert(K("pair"), Pair(1, int64_t{1}, "x")));
    ASSERT_OK(winner->Commit());
    EXPECT_THAT(loser->Commit(), StatusIs(StatusCode::kAborted));
  }
  ASSERT_OK_AND_ASSIGN(auto txn, store_.BeginTransaction());
  // The rolled-back and aborted values are free, and "a" (never changed) is still taken.
  ASSERT_OK(txn->Insert(K("parent"), Parent(4, "b")));
  ASSERT_OK(txn->Insert(K("parent"), Parent(5, "e")));
  EXPECT_THAT(txn->Insert(K("parent"), Parent(6, "a")),
              StatusIs(StatusCode::kAlreadyExists,
                       "table parent: unique key (code) = ('a') already exists"));
  EXPECT_THAT(txn->Insert(K("child"), Child(11, "m", std::string("a1"))),
              StatusIs(StatusCode::kFailedPrecondition));
  // Writes refused inside a transaction changed nothing: "m" and code "f" are free.
  ASSERT_OK(txn->Insert(K("child"), Child(11, "m", std::string("a"))));
  ASSERT_OK(txn->Insert(K("child"), Child(12, "n", std::string("b"))));
  EXPECT_THAT(txn->Update(K("parent"), Parent(4, "f")), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(txn->Insert(K("parent"), Parent(7, "f")));
  // No aborted tag refers to parent 1, so only child 11 blocks its delete; the refused delete
  // leaves child 11 holding "m".
  EXPECT_THAT(txn->Delete(K("parent"), Key{int64_t{1}}),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: row (1) is still referenced by table child row (11)"));
  EXPECT_THAT(txn->Insert(K("child"), Child(13, "m", kNull)), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(txn->Commit());

  // What committed is what the next transaction checks against.
  ASSERT_OK_AND_ASSIGN(auto next, store_.BeginTransaction());
  EXPECT_THAT(next->Insert(K("pair"), Pair(2, int64_t{1}, "x")),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(next->Insert(K("child"), Child(13, "n", kNull)),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(next->Delete(K("child"), Key{int64_t{12}}));
  ASSERT_OK(next->Insert(K("child"), Child(13, "n", kNull)));
  ASSERT_OK(next->Commit());
}

// v1: `parent` without any key but its primary key; v2 adds `child`, which refers to parent.code.
const Model& ReferenceAddedModel(int version) {
  auto build = [](int v) {
    std::vector<TableSchema> tables{
        {"parent", {{"id", T::kInt64}, {"code", T::kText}}, {"id"}, {}, {}}};
    if (v >= 2) {
      TableSchema child{"child",
                        {{"id", T::kInt64, false, 2}, {"parent_code", T::kText, false, 2}},
                        {"id"},
                        {},
                        {{{"parent_code"}, "parent", {"code"}, false}}};
      child.added_in_version = 2;
      tables.push_back(child);
    }
    return new Model(v, tables);
  };
  static const Model* const kV1 = build(1);
  static const Model* const kV2 = build(2);
  return version == 1 ? *kV1 : *kV2;
}

TEST(MemoryMetaStoreTest, MigrateIndexesTheColumnsANewTableRefersTo) {
  auto state = MemoryMetaStore::NewState();
  MemoryMetaStore v1(ReferenceAddedModel(1), state);
  ASSERT_OK(v1.Migrate());
  ASSERT_OK(RunTransaction(v1, [&](Transaction& t) {
    RWMETA_RETURN_IF_ERROR(t.Insert(ReferenceAddedModel(1).Table("parent"), Parent(1, "a")));
    return t.Insert(ReferenceAddedModel(1).Table("parent"), Parent(2, "a"));
  }));

  const Model& m = ReferenceAddedModel(2);
  MemoryMetaStore v2(m, state);
  ASSERT_OK(v2.Migrate());
  ASSERT_OK_AND_ASSIGN(auto txn, v2.BeginTransaction());
  ASSERT_OK(txn->Insert(m.Table("child"), Row{int64_t{10}, std::string("a")}));
  EXPECT_THAT(txn->Insert(m.Table("child"), Row{int64_t{11}, std::string("b")}),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table child: foreign key (parent_code) = ('b') has no parent row in "
                       "table parent"));
  EXPECT_THAT(txn->Update(m.Table("parent"), Parent(1, "b")),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: (code) = ('a') is still referenced by table child"));
  EXPECT_THAT(txn->Delete(m.Table("parent"), Key{int64_t{2}}),
              StatusIs(StatusCode::kFailedPrecondition,
                       "table parent: row (2) is still referenced by table child row (10)"));
}

TEST(MemoryMetaStoreTest, RefusesTransactionsBeforeMigrate) {
  MemoryMetaStore store;
  EXPECT_THAT(store.BeginTransaction(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("Migrate")));
  ASSERT_OK(store.Migrate());
  EXPECT_OK(store.BeginTransaction());
}

TEST(MemoryMetaStoreTest, ConstraintsAndCascade) {
  MemoryMetaStore store;
  ASSERT_OK(store.Migrate());
  ASSERT_OK_AND_ASSIGN(auto txn, store.BeginTransaction());
  ASSERT_OK(txn->Insert(M().Table("user"), UserRow(1, "root")));
  EXPECT_THAT(txn->Insert(M().Table("user"), UserRow(2, "root")),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("unique key (name)")));
  EXPECT_THAT(txn->Insert(M().Table("object"), ObjectRow(10, "database", 99)),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no parent row in table user")));
  ASSERT_OK(txn->Insert(M().Table("object"), ObjectRow(10, "database", 1)));
  ASSERT_OK(txn->Insert(M().Table("database"), Row{int64_t{10}, std::string("dev")}));
  // object.owner_id -> user is not cascading: the user cannot go while it owns an object.
  EXPECT_THAT(
      txn->Delete(M().Table("user"), Key{int64_t{1}}),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("still referenced by table object")));
  // database.database_id -> object cascades.
  ASSERT_OK(txn->Delete(M().Table("object"), Key{int64_t{10}}));
  ASSERT_OK_AND_ASSIGN(int64_t databases, txn->Count(M().Table("database")));
  EXPECT_EQ(databases, 0);
  ASSERT_OK(txn->Commit());
  ASSERT_OK_AND_ASSIGN(SchemaState state, store.Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_FALSE(state.empty);  // the user row is still there
}

TEST(MemoryMetaStoreTest, LaterWriterAbortsAndReaderDoesNot) {
  MemoryMetaStore store;
  ASSERT_OK(store.Migrate());
  const TableSchema& seq = M().Table("id_sequence");
  ASSERT_OK_AND_ASSIGN(auto a, store.BeginTransaction());
  ASSERT_OK_AND_ASSIGN(auto b, store.BeginTransaction());
  ASSERT_OK_AND_ASSIGN(auto reader, store.BeginTransaction());
  ASSERT_OK(a->Insert(seq, Row{std::string("x"), int64_t{1}}));
  ASSERT_OK(b->Insert(seq, Row{std::string("y"), int64_t{1}}));
  // a's write is invisible to b until a commits, and to b's snapshot even after.
  ASSERT_OK_AND_ASSIGN(auto seen, b->Get(seq, Key{std::string("x")}));
  EXPECT_FALSE(seen.has_value());
  ASSERT_OK(a->Commit());
  EXPECT_THAT(b->Commit(), StatusIs(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(auto old, reader->Get(seq, Key{std::string("x")}));
  EXPECT_FALSE(old.has_value());
  EXPECT_OK(reader->Commit());
  EXPECT_THAT(reader->Commit(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(MemoryMetaStoreTest, SnapshotIgnoresLaterCommits) {
  MemoryMetaStore store;
  ASSERT_OK(store.Migrate());
  const TableSchema& seq = M().Table("id_sequence");
  ASSERT_OK_AND_ASSIGN(auto snap, store.BeginSnapshotRead());
  ASSERT_OK(RunTransaction(store, [&](Transaction& t) { return NextId(t, "s").status(); }));
  ASSERT_OK_AND_ASSIGN(int64_t n, snap->Count(seq));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(auto fresh, store.BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(n, fresh->Count(seq));
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace rwmeta::metastore
