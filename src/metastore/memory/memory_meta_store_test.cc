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
