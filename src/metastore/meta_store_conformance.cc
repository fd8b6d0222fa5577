#include "metastore/meta_store_conformance.h"

#include <fmt/format.h>
#include <gmock/gmock.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string MetaStoreBackendName(const ::testing::TestParamInfo<MetaStoreBackend>& info) {
  return info.param.name;
}

std::unique_ptr<MetaStoreLocation> MetaStoreConformanceTest::NewLocation() {
  return GetParam().new_location();
}

void MetaStoreConformanceTest::SetUp() {
  location_ = NewLocation();
  if (location_ == nullptr) GTEST_SKIP() << "backend " << GetParam().name << " is not available";
  ASSERT_OK_AND_ASSIGN(store_, location_->Open(Model::Get()));
  ASSERT_OK(store_->Migrate());
}

namespace {

using T = ColumnType;

const Model& M() { return Model::Get(); }

// A model with every column type (all nullable but the key) and a composite text key.
const Model& TypesModel() {
  static const Model* const kModel = new Model(
      1, {{"types",
           {{"k", T::kInt64},
            {"i", T::kInt64, true},
            {"d", T::kDouble, true},
            {"b", T::kBool, true},
            {"t", T::kText, true},
            {"by", T::kBytes, true},
            {"j", T::kJson, true}},
           {"k"},
           {},
           {}},
          {"pairs", {{"a", T::kInt64}, {"b", T::kText}, {"v", T::kInt64}}, {"a", "b"}, {}, {}}});
  return *kModel;
}

// Migration test models. v2 adds the nullable column parent.note and the table child.
const Model& MigrationModel(int version) {
  auto build = [](int v) {
    TableSchema parent{"parent", {{"id", T::kInt64}, {"name", T::kText}}, {"id"}, {{"name"}}, {}};
    std::vector<TableSchema> tables;
    if (v >= 2) parent.columns.push_back({"note", T::kText, true, 2});
    tables.push_back(parent);
    if (v >= 2) {
      TableSchema child{"child",
                        {{"id", T::kInt64, false, 2}, {"parent_id", T::kInt64, false, 2}},
                        {"id"},
                        {},
                        {{{"parent_id"}, "parent", {"id"}, true}}};
      child.added_in_version = 2;
      tables.push_back(child);
    }
    return new Model(v, tables);
  };
  static const Model* const kV1 = build(1);
  static const Model* const kV2 = build(2);
  return version == 1 ? *kV1 : *kV2;
}

Row UserRow(int64_t id, std::string name) {
  return Row{id,
             std::move(name),
             false,
             false,
             false,
             true,
             std::monostate{},
             std::monostate{},
             int64_t{1700000000000}};
}

Row ObjectRow(int64_t oid, std::string type, int64_t owner) {
  return Row{oid, std::move(type), owner, std::monostate{}, std::monostate{}, int64_t{0}};
}

Row Param(std::string name, std::string value) {
  return Row{std::move(name), std::move(value), true, std::monostate{}};
}

Status Put(MetaStore& store, const TableSchema& table, const Row& row) {
  return RunTransaction(store, [&](Transaction& t) { return t.Insert(table, row); });
}

// All rows of `table` as seen by a fresh snapshot.
Result<std::vector<Row>> ScanAll(MetaStore& store, const TableSchema& table) {
  RWMETA_ASSIGN_OR_RETURN(auto view, store.BeginSnapshotRead());
  std::vector<Row> rows;
  RWMETA_RETURN_IF_ERROR(view->Scan(table, [&](const Row& r) {
    rows.push_back(r);
    return Status::Ok();
  }));
  return rows;
}

Result<std::optional<Row>> GetCommitted(MetaStore& store, const TableSchema& table,
                                        const Key& key) {
  RWMETA_ASSIGN_OR_RETURN(auto view, store.BeginSnapshotRead());
  return view->Get(table, key);
}

}  // namespace

TEST_P(MetaStoreConformanceTest, InspectFreshStoreThenMigrateIsIdempotent) {
  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(M()));
  ASSERT_OK_AND_ASSIGN(SchemaState fresh, store->Inspect());
  EXPECT_EQ(fresh.version, 0);
  EXPECT_TRUE(fresh.empty);
  EXPECT_FALSE(fresh.unfinished_bulk_load);
  EXPECT_THAT(store->BeginTransaction(), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(SchemaState migrated, store->Inspect());
  EXPECT_EQ(migrated.version, kModelVersion);
  EXPECT_TRUE(migrated.empty);
  EXPECT_FALSE(migrated.unfinished_bulk_load);
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(SchemaState again, store->Inspect());
  EXPECT_EQ(again.version, kModelVersion);
  EXPECT_TRUE(again.empty);
}

// --- bulk load ----------------------------------------------------------------------------------

// A fresh location, never migrated: the bulk load creates the schema, and its rows appear only at
// Finish.
TEST_P(MetaStoreConformanceTest, BulkLoadIntoAnEmptyStoreIsReadBack) {
  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(M()));
  const TableSchema& users = M().Table("user");
  const TableSchema& objects = M().Table("object");
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> loader, store->BeginBulkLoad());
  ASSERT_OK(loader->Add(users, UserRow(1, "root")));
  ASSERT_OK(loader->Add(users, UserRow(2, "alice")));
  ASSERT_OK(loader->Add(objects, ObjectRow(10, "database", 1)));
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(loader->Add(params, Param(fmt::format("p{:02}", i), std::to_string(i))));
  }
  EXPECT_THAT(loader->Add(params, Row{std::string("short")}),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(loader->Finish());
  loader.reset();

  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_FALSE(state.empty);
  ASSERT_OK_AND_ASSIGN(auto got_users, ScanAll(*store, users));
  EXPECT_THAT(got_users, ElementsAre(UserRow(1, "root"), UserRow(2, "alice")));
  ASSERT_OK_AND_ASSIGN(auto got_objects, ScanAll(*store, objects));
  EXPECT_THAT(got_objects, ElementsAre(ObjectRow(10, "database", 1)));
  ASSERT_OK_AND_ASSIGN(auto got_params, ScanAll(*store, params));
  ASSERT_EQ(got_params.size(), 50u);
  EXPECT_EQ(got_params[0], Param("p00", "0"));
  EXPECT_EQ(got_params[49], Param("p49", "49"));
  // The loaded store takes transactions.
  ASSERT_OK(Put(*store, users, UserRow(3, "bob")));
}

// Destroyed before Finish (the restore died): none of its rows are ever seen, and the next bulk
// load starts from an empty store.
TEST_P(MetaStoreConformanceTest, BulkLoaderDestroyedBeforeFinishLeavesNothingVisible) {
  const TableSchema& params = M().Table("system_parameter");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> loader, store_->BeginBulkLoad());
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(loader->Add(params, Param(fmt::format("lost{:03}", i), "x")));
    }
  }
  // Either the store reads as before, or (etcd) it refuses readers until the next bulk load.
  Result<std::unique_ptr<ReadView>> view = store_->BeginSnapshotRead();
  if (view.ok()) {
    for (const TableSchema& table : M().tables()) {
      ASSERT_OK_AND_ASSIGN(int64_t rows, (*view)->Count(table));
      EXPECT_EQ(rows, 0) << table.name;
    }
    view->reset();
  } else {
    EXPECT_THAT(view, StatusIs(StatusCode::kFailedPrecondition));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> again, store_->BeginBulkLoad());
  ASSERT_OK(again->Add(params, Param("kept", "y")));
  ASSERT_OK(again->Finish());
  again.reset();
  ASSERT_OK_AND_ASSIGN(auto rows, ScanAll(*store_, params));
  EXPECT_THAT(rows, ElementsAre(Param("kept", "y")));
}

TEST_P(MetaStoreConformanceTest, BulkLoadIntoANonEmptyStoreIsFailedPrecondition) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(Put(*store_, params, Param("a", "1")));
  EXPECT_THAT(store_->BeginBulkLoad(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not empty")));
  // The refused load changed nothing.
  ASSERT_OK_AND_ASSIGN(auto rows, ScanAll(*store_, params));
  EXPECT_THAT(rows, ElementsAre(Param("a", "1")));

  // A second load after a finished one is refused the same way.
  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(M()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> first, store->BeginBulkLoad());
  ASSERT_OK(first->Add(params, Param("b", "2")));
  ASSERT_OK(first->Finish());
  first.reset();
  EXPECT_THAT(store->BeginBulkLoad(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not empty")));
  ASSERT_OK_AND_ASSIGN(rows, ScanAll(*store, params));
  EXPECT_THAT(rows, ElementsAre(Param("b", "2")));
}

namespace {

// Loads `rows` the way restore does: stops at the first refused row (without
// Finish), else finishes. Returns the first refusal or Finish's status.
Status LoadLikeRestore(MetaStore& store,
                       const std::vector<std::pair<const TableSchema*, Row>>& rows) {
  RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<BulkLoader> loader, store.BeginBulkLoad());
  for (const auto& [table, row] : rows) RWMETA_RETURN_IF_ERROR(loader->Add(*table, row));
  return loader->Finish();
}

// Every model table of `store` is empty, or (etcd) the store is hidden by the failed load.
void ExpectNothingVisible(MetaStore& store) {
  Result<std::unique_ptr<ReadView>> view = store.BeginSnapshotRead();
  if (!view.ok()) {
    EXPECT_THAT(view, StatusIs(StatusCode::kFailedPrecondition));
    return;
  }
  for (const TableSchema& table : M().tables()) {
    ASSERT_OK_AND_ASSIGN(int64_t rows, (*view)->Count(table));
    EXPECT_EQ(rows, 0) << table.name;
  }
}

}  // namespace

// Many rows per table (past every backend's batch and stream buffer), tables interleaved (a table
// that comes back starts a second stream), values with every encoding: all read back.
TEST_P(MetaStoreConformanceTest, BulkLoadOfManyRowsInInterleavedTablesIsReadBack) {
  const TableSchema& users = M().Table("user");
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> loader, store_->BeginBulkLoad());
  std::vector<Row> want_users;
  std::vector<Row> want_params;
  const std::string big(2000, 'x');
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 700; ++i) {
      Row user = UserRow(round * 1000 + i, fmt::format("u{}_{:04}", round, i));
      if (i % 7 == 0) user[6] = std::string("md5");  // a NULL column that is not always NULL
      ASSERT_OK(loader->Add(users, user));
      want_users.push_back(user);
    }
    for (int i = 0; i < 300; ++i) {
      Row param = Param(fmt::format("p{}_{:03}", round, i), big + std::to_string(i));
      ASSERT_OK(loader->Add(params, param));
      want_params.push_back(param);
    }
  }
  ASSERT_OK(loader->Finish());
  loader.reset();
  ASSERT_OK_AND_ASSIGN(auto got_users, ScanAll(*store_, users));
  EXPECT_EQ(got_users, want_users);
  ASSERT_OK_AND_ASSIGN(auto got_params, ScanAll(*store_, params));
  EXPECT_EQ(got_params, want_params);
}

// Every column type through the bulk load (the COPY path has encodings of its own).
TEST_P(MetaStoreConformanceTest, BulkLoadRoundTripsEveryColumnType) {
  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(TypesModel()));
  const TableSchema& types = TypesModel().Table("types");
  const std::vector<Row> rows = {
      {std::numeric_limits<int64_t>::min(), int64_t{-1}, 0.1, false, std::string("x"),
       std::string("\xff"), std::string("1")},
      {int64_t{1}, std::numeric_limits<int64_t>::min(), -1.5, true, std::string(""),
       std::string("\0\x01\xff\0", 4), std::string("{\"a\": [1, 2],  \"b\":null}")},
      {int64_t{2}, std::numeric_limits<int64_t>::max(), 1e308, false,
       std::string("h\xc3\xa9llo \xe2\x9c\x93"), std::string(""), std::string("[]")},
      {int64_t{3}, int64_t{0}, std::numeric_limits<double>::denorm_min(), true,
       std::string("quote ' and \" and \\ and \t tab"), std::string(1, '\0'), std::string("{}")},
      {int64_t{4}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
       std::monostate{}, std::monostate{}},
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<BulkLoader> loader, store->BeginBulkLoad());
  for (const Row& r : rows) ASSERT_OK(loader->Add(types, r));
  ASSERT_OK(loader->Finish());
  loader.reset();
  ASSERT_OK_AND_ASSIGN(auto got, ScanAll(*store, types));
  EXPECT_EQ(got, rows);
}

// A key loaded twice is AlreadyExists, from the Add that sent it or from Finish (meta_store.h);
// loaded as restore loads, nothing of the load is visible, and the next load starts clean.
TEST_P(MetaStoreConformanceTest, BulkLoadOfADuplicateKeyFailsWholeAsAlreadyExists) {
  const TableSchema& users = M().Table("user");
  const TableSchema& params = M().Table("system_parameter");
  std::vector<std::pair<const TableSchema*, Row>> rows;
  for (int i = 0; i < 20; ++i) rows.push_back({&params, Param(fmt::format("p{:02}", i), "v")});
  rows.push_back({&users, UserRow(1, "root")});
  rows.push_back({&users, UserRow(2, "alice")});
  rows.push_back({&users, UserRow(1, "root again")});
  rows.push_back({&users, UserRow(3, "bob")});
  EXPECT_THAT(LoadLikeRestore(*store_, rows), StatusIs(StatusCode::kAlreadyExists));
  ExpectNothingVisible(*store_);
  ASSERT_OK(LoadLikeRestore(*store_, {{&users, UserRow(1, "root")}}));
  ASSERT_OK_AND_ASSIGN(auto got, ScanAll(*store_, users));
  EXPECT_THAT(got, ElementsAre(UserRow(1, "root")));
}

// A row whose foreign key has no parent is FailedPrecondition, from an Add or from Finish, and
// nothing of the load is visible. etcd's loader does not check foreign keys (meta_store.h).
TEST_P(MetaStoreConformanceTest, BulkLoadOfARowWithoutItsParentFailsWholeAsFailedPrecondition) {
  if (store_->backend() == "etcd") GTEST_SKIP() << "etcd's bulk load checks no foreign key";
  const TableSchema& users = M().Table("user");
  const TableSchema& objects = M().Table("object");
  std::vector<std::pair<const TableSchema*, Row>> rows;
  rows.push_back({&users, UserRow(1, "root")});
  rows.push_back({&objects, ObjectRow(10, "database", 1)});
  rows.push_back({&objects, ObjectRow(11, "database", 99)});  // no user 99
  rows.push_back({&objects, ObjectRow(12, "database", 1)});
  EXPECT_THAT(LoadLikeRestore(*store_, rows), StatusIs(StatusCode::kFailedPrecondition));
  ExpectNothingVisible(*store_);
  // The failed load took back whatever it suspended: the foreign keys still hold.
  ASSERT_OK(Put(*store_, users, UserRow(1, "root")));
  EXPECT_THAT(Put(*store_, objects, ObjectRow(11, "database", 99)),
              StatusIs(StatusCode::kFailedPrecondition));
}

// Where a loader suspends foreign keys for the load (PostgreSQL), Finish puts them back: the loaded
// store refuses an orphan, and a delete of a parent that a non-cascading key still names, as a
// store migrated and written row by row does.
TEST_P(MetaStoreConformanceTest, BulkLoadedStoreKeepsItsForeignKeys) {
  const TableSchema& users = M().Table("user");
  const TableSchema& objects = M().Table("object");
  ASSERT_OK(LoadLikeRestore(*store_, {{&users, UserRow(1, "root")},
                                      {&users, UserRow(2, "alice")},
                                      {&objects, ObjectRow(10, "database", 1)}}));
  EXPECT_THAT(Put(*store_, objects, ObjectRow(11, "database", 99)),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      RunTransaction(*store_, [&](Transaction& t) { return t.Delete(users, Key{int64_t{1}}); }),
      StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(
      RunTransaction(*store_, [&](Transaction& t) { return t.Delete(users, Key{int64_t{2}}); }));
  ASSERT_OK_AND_ASSIGN(auto left, ScanAll(*store_, users));
  EXPECT_THAT(left, ElementsAre(UserRow(1, "root")));
}

TEST_P(MetaStoreConformanceTest, NotEmptyAfterAnyRow) {
  ASSERT_OK(Put(*store_, M().Table("catalog_version"), Row{std::string("catalog"), int64_t{1}}));
  ASSERT_OK_AND_ASSIGN(SchemaState state, store_->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_FALSE(state.empty);
}

TEST_P(MetaStoreConformanceTest, EveryColumnTypeRoundTrips) {
  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(TypesModel()));
  ASSERT_OK(store->Migrate());
  const TableSchema& types = TypesModel().Table("types");
  const std::string nuls("\0\x01\xff\0", 4);
  const std::vector<Row> rows = {
      {int64_t{1}, std::numeric_limits<int64_t>::min(), -1.5, true, std::string(""), nuls,
       std::string("{\"a\": [1, 2],  \"b\":null}")},
      {int64_t{2}, std::numeric_limits<int64_t>::max(), 1e308, false,
       std::string("h\xc3\xa9llo \xe2\x9c\x93"), std::string(""), std::string("[]")},
      {int64_t{3}, int64_t{0}, std::numeric_limits<double>::denorm_min(), true,
       std::string("quote ' and \" and \\"), std::string(1, '\0'), std::string("{}")},
      {int64_t{4}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
       std::monostate{}, std::monostate{}},
      {std::numeric_limits<int64_t>::min(), int64_t{-1}, 0.1, false, std::string("x"),
       std::string("\xff"), std::string("1")},
  };
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    for (const Row& r : rows) RWMETA_RETURN_IF_ERROR(t.Insert(types, r));
    return Status::Ok();
  }));
  for (const Row& r : rows) {
    ASSERT_OK_AND_ASSIGN(std::optional<Row> got, GetCommitted(*store, types, KeyOf(types, r)));
    ASSERT_TRUE(got.has_value());
    // Value equality compares the alternative too: a bool must not come back as an int64.
    EXPECT_EQ(*got, r) << ValueToString(r[0], T::kInt64);
  }

  Row updated = rows[0];
  updated[3] = false;
  updated[5] = std::string("\0\0", 2);
  Row upserted_new{int64_t{9},       int64_t{9},         9.5, true, std::string("n"),
                   std::string("b"), std::string("null")};
  Row upserted_old = rows[1];
  upserted_old[4] = std::monostate{};
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    RWMETA_RETURN_IF_ERROR(t.Update(types, updated));
    RWMETA_RETURN_IF_ERROR(t.Upsert(types, upserted_new));
    RWMETA_RETURN_IF_ERROR(t.Upsert(types, upserted_old));
    return t.Delete(types, Key{int64_t{3}});
  }));
  ASSERT_OK_AND_ASSIGN(auto all, ScanAll(*store, types));
  EXPECT_THAT(all, ElementsAre(rows[4], updated, upserted_old, rows[3], upserted_new));

  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  EXPECT_THAT(txn->Delete(types, Key{int64_t{3}}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(txn->Update(types, rows[2]), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(txn->Insert(types, Row{int64_t{5}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(txn->Insert(types, Row{int64_t{5}, true, std::monostate{}, std::monostate{},
                                     std::monostate{}, std::monostate{}, std::monostate{}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("column i")));
  EXPECT_THAT(txn->Get(types, Key{std::string("1")}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(txn->Get(M().Table("user"), Key{int64_t{1}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not in the model")));
}

TEST_P(MetaStoreConformanceTest, ScanIsOrderedByPrimaryKey) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    for (const char* name : {"b", "a", "B", "ab", "", "\xc3\xa9"}) {
      RWMETA_RETURN_IF_ERROR(t.Insert(params, Param(name, "v")));
    }
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto rows, ScanAll(*store_, params));
  std::vector<std::string> names;
  for (const Row& r : rows) names.push_back(std::get<std::string>(r[0]));
  // Bytewise order, whatever the backend's locale.
  EXPECT_THAT(names, ElementsAre("", "B", "a", "ab", "b", "\xc3\xa9"));

  auto location = NewLocation();
  ASSERT_OK_AND_ASSIGN(auto store, location->Open(TypesModel()));
  ASSERT_OK(store->Migrate());
  const TableSchema& pairs = TypesModel().Table("pairs");
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    for (const Row& r : std::vector<Row>{{int64_t{2}, std::string("a"), int64_t{1}},
                                         {int64_t{1}, std::string("z"), int64_t{2}},
                                         {int64_t{1}, std::string("b"), int64_t{3}},
                                         {int64_t{-5}, std::string("x"), int64_t{4}},
                                         {int64_t{10}, std::string("a"), int64_t{5}}}) {
      RWMETA_RETURN_IF_ERROR(t.Insert(pairs, r));
    }
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto composite, ScanAll(*store, pairs));
  std::vector<int64_t> order;
  for (const Row& r : composite) order.push_back(std::get<int64_t>(r[2]));
  EXPECT_THAT(order, ElementsAre(4, 3, 2, 1, 5));

  // Scan stops at, and returns, the visitor's first error.
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  int visited = 0;
  EXPECT_THAT(view->Scan(pairs,
                         [&](const Row&) {
                           return ++visited == 2 ? NotFoundError("stop here") : Status::Ok();
                         }),
              StatusIs(StatusCode::kNotFound, "stop here"));
  EXPECT_EQ(visited, 2);
}

TEST_P(MetaStoreConformanceTest, DuplicateKeysAreAlreadyExists) {
  const TableSchema& users = M().Table("user");
  ASSERT_OK(Put(*store_, users, UserRow(1, "root")));
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginTransaction());
  EXPECT_THAT(txn->Insert(users, UserRow(1, "other")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(txn->Insert(users, UserRow(2, "root")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(txn->Upsert(users, UserRow(3, "root")), StatusIs(StatusCode::kAlreadyExists));
  // A failed write changes nothing and the transaction goes on.
  ASSERT_OK(txn->Insert(users, UserRow(2, "alice")));
  EXPECT_THAT(txn->Update(users, UserRow(2, "root")), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(int64_t n, txn->Count(users));
  EXPECT_EQ(n, 2);
  ASSERT_OK(txn->Commit());
  txn.reset();
  ASSERT_OK_AND_ASSIGN(auto rows, ScanAll(*store_, users));
  EXPECT_THAT(rows, ElementsAre(UserRow(1, "root"), UserRow(2, "alice")));
}

TEST_P(MetaStoreConformanceTest, ForeignKeysRefuseAndCascade) {
  const TableSchema& users = M().Table("user");
  const TableSchema& objects = M().Table("object");
  const TableSchema& databases = M().Table("database");
  const TableSchema& privileges = M().Table("user_privilege");
  EXPECT_THAT(Put(*store_, objects, ObjectRow(10, "database", 99)),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    RWMETA_RETURN_IF_ERROR(t.Insert(users, UserRow(1, "root")));
    RWMETA_RETURN_IF_ERROR(t.Insert(users, UserRow(2, "alice")));
    RWMETA_RETURN_IF_ERROR(t.Insert(objects, ObjectRow(10, "database", 1)));
    RWMETA_RETURN_IF_ERROR(t.Insert(databases, Row{int64_t{10}, std::string("dev")}));
    // alice's privilege cascades with alice and with the object; root granted it (refusing).
    return t.Insert(privileges, Row{int64_t{100}, int64_t{2}, int64_t{10}, int64_t{1},
                                    std::string("CONNECT"), false});
  }));
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginTransaction());
    // root owns object 10 and granted privilege 100: refused, and nothing is deleted.
    EXPECT_THAT(txn->Delete(users, Key{int64_t{1}}), StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(int64_t n, txn->Count(users));
    EXPECT_EQ(n, 2);
    // A database row needs its object row.
    EXPECT_THAT(txn->Insert(databases, Row{int64_t{11}, std::string("x")}),
                StatusIs(StatusCode::kFailedPrecondition));
    // Deleting alice cascades to her privilege.
    ASSERT_OK(txn->Delete(users, Key{int64_t{2}}));
    ASSERT_OK_AND_ASSIGN(n, txn->Count(privileges));
    EXPECT_EQ(n, 0);
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK(
      RunTransaction(*store_, [&](Transaction& t) { return t.Delete(objects, Key{int64_t{10}}); }));
  ASSERT_OK_AND_ASSIGN(auto left, ScanAll(*store_, databases));
  EXPECT_TRUE(left.empty());
  ASSERT_OK(
      RunTransaction(*store_, [&](Transaction& t) { return t.Delete(users, Key{int64_t{1}}); }));
  ASSERT_OK_AND_ASSIGN(auto users_left, ScanAll(*store_, users));
  EXPECT_TRUE(users_left.empty());
}

TEST_P(MetaStoreConformanceTest, UncommittedWritesAreInvisibleAndRollBack) {
  const TableSchema& params = M().Table("system_parameter");
  {
    ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginTransaction());
    ASSERT_OK(txn->Insert(params, Param("x", "1")));
    // The transaction sees its own write, nobody else does.
    ASSERT_OK_AND_ASSIGN(auto own, txn->Get(params, Key{std::string("x")}));
    EXPECT_TRUE(own.has_value());
    ASSERT_OK_AND_ASSIGN(auto other, GetCommitted(*store_, params, Key{std::string("x")}));
    EXPECT_FALSE(other.has_value());
    // Destroyed without Commit: rolled back.
  }
  ASSERT_OK_AND_ASSIGN(auto after, GetCommitted(*store_, params, Key{std::string("x")}));
  EXPECT_FALSE(after.has_value());
  ASSERT_OK_AND_ASSIGN(SchemaState state, store_->Inspect());
  EXPECT_TRUE(state.empty);
  // The store is usable afterwards.
  ASSERT_OK(Put(*store_, params, Param("x", "2")));
  ASSERT_OK_AND_ASSIGN(auto committed, GetCommitted(*store_, params, Key{std::string("x")}));
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(*committed, Param("x", "2"));
}

TEST_P(MetaStoreConformanceTest, SnapshotReadIgnoresLaterCommits) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(Put(*store_, params, Param("a", "old")));
  ASSERT_OK_AND_ASSIGN(auto snapshot, store_->BeginSnapshotRead());
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    RWMETA_RETURN_IF_ERROR(t.Update(params, Param("a", "new")));
    return t.Insert(params, Param("b", "new"));
  }));
  ASSERT_OK_AND_ASSIGN(int64_t n, snapshot->Count(params));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(auto a, snapshot->Get(params, Key{std::string("a")}));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, Param("a", "old"));
  std::vector<Row> rows;
  ASSERT_OK(snapshot->Scan(params, [&](const Row& r) {
    rows.push_back(r);
    return Status::Ok();
  }));
  EXPECT_THAT(rows, ElementsAre(Param("a", "old")));
  snapshot.reset();
  ASSERT_OK_AND_ASSIGN(auto now, ScanAll(*store_, params));
  EXPECT_THAT(now, ElementsAre(Param("a", "new"), Param("b", "new")));
}

TEST_P(MetaStoreConformanceTest, CountCountsCommittedAndOwnRows) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    for (int i = 0; i < 25; ++i)
      RWMETA_RETURN_IF_ERROR(t.Insert(params, Param(std::to_string(i), "v")));
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginTransaction());
  ASSERT_OK(txn->Delete(params, Key{std::string("7")}));
  ASSERT_OK_AND_ASSIGN(int64_t own, txn->Count(params));
  EXPECT_EQ(own, 24);
  ASSERT_OK_AND_ASSIGN(int64_t empty, txn->Count(M().Table("worker")));
  EXPECT_EQ(empty, 0);
}

TEST_P(MetaStoreConformanceTest, CountEachCountsEveryTableOfTheCut) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    for (int i = 0; i < 3; ++i)
      RWMETA_RETURN_IF_ERROR(t.Insert(params, Param(std::to_string(i), "v")));
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto snapshot, store_->BeginSnapshotRead());
  ASSERT_OK(Put(*store_, params, Param("later", "v")));  // not in the cut
  const std::vector<const TableSchema*> tables = {&M().Table("worker"), &params, &params};
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> counts, snapshot->CountEach(tables));
  EXPECT_THAT(counts, ElementsAre(0, 3, 3));
  ASSERT_OK_AND_ASSIGN(counts, snapshot->CountEach({}));
  EXPECT_THAT(counts, ::testing::IsEmpty());
  // Inside a transaction, its own writes count.
  ASSERT_OK_AND_ASSIGN(auto txn, store_->BeginTransaction());
  ASSERT_OK(txn->Delete(params, Key{std::string("0")}));
  ASSERT_OK_AND_ASSIGN(counts, txn->CountEach(std::vector<const TableSchema*>{&params}));
  EXPECT_THAT(counts, ElementsAre(3));
}

TEST_P(MetaStoreConformanceTest, NextIdIsUniqueUnderConcurrentTransactions) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::vector<int64_t> ids;
  std::vector<Status> failures;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kPerThread; ++j) {
        int64_t id = 0;
        Status s = RunTransaction(
            *store_,
            [&](Transaction& t) {
              RWMETA_ASSIGN_OR_RETURN(id, NextId(t, "object"));
              return Status::Ok();
            },
            /*max_attempts=*/1000);
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          ids.push_back(id);
        } else {
          failures.push_back(s);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(failures, ::testing::IsEmpty());
  std::set<int64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  ASSERT_FALSE(unique.empty());
  EXPECT_EQ(*unique.begin(), 1);
  EXPECT_EQ(*unique.rbegin(), kThreads * kPerThread);
  ASSERT_OK_AND_ASSIGN(auto seq,
                       GetCommitted(*store_, M().Table("id_sequence"), Key{std::string("object")}));
  ASSERT_TRUE(seq.has_value());
  EXPECT_EQ((*seq)[1], Value{int64_t{kThreads * kPerThread + 1}});
}

TEST_P(MetaStoreConformanceTest, UpsertOfAParentKeepsItsChildren) {
  const TableSchema& users = M().Table("user");
  const TableSchema& objects = M().Table("object");
  const TableSchema& databases = M().Table("database");
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    RWMETA_RETURN_IF_ERROR(t.Insert(users, UserRow(1, "root")));
    RWMETA_RETURN_IF_ERROR(t.Insert(objects, ObjectRow(10, "database", 1)));
    return t.Insert(databases, Row{int64_t{10}, std::string("dev")});
  }));
  // Replacing the parent row in place is an update, not a delete: nothing cascades.
  Row changed = ObjectRow(10, "database", 1);
  changed[5] = int64_t{42};
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) { return t.Upsert(objects, changed); }));
  ASSERT_OK_AND_ASSIGN(auto object, GetCommitted(*store_, objects, Key{int64_t{10}}));
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(*object, changed);
  ASSERT_OK_AND_ASSIGN(auto rows, ScanAll(*store_, databases));
  EXPECT_THAT(rows, ElementsAre(Row{int64_t{10}, std::string("dev")}));
}

TEST_P(MetaStoreConformanceTest, ReadsInsideAScanCallback) {
  const TableSchema& params = M().Table("system_parameter");
  ASSERT_OK(RunTransaction(*store_, [&](Transaction& t) {
    for (const char* name : {"a", "b", "c"})
      RWMETA_RETURN_IF_ERROR(t.Insert(params, Param(name, name)));
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(auto view, store_->BeginSnapshotRead());
  std::vector<std::string> seen;
  ASSERT_OK(view->Scan(params, [&](const Row& r) -> Status {
    // A backup reads related rows while streaming a table: nested Get, Count and Scan.
    RWMETA_ASSIGN_OR_RETURN(auto same, view->Get(params, Key{r[0]}));
    if (!same.has_value() || *same != r) return InternalError("nested get disagrees");
    RWMETA_ASSIGN_OR_RETURN(int64_t n, view->Count(params));
    int inner = 0;
    RWMETA_RETURN_IF_ERROR(view->Scan(params, [&](const Row&) {
      ++inner;
      return Status::Ok();
    }));
    seen.push_back(std::get<std::string>(r[0]) + std::to_string(n) + std::to_string(inner));
    return Status::Ok();
  }));
  EXPECT_THAT(seen, ElementsAre("a33", "b33", "c33"));
}

TEST_P(MetaStoreConformanceTest, SnapshotCanReadEveryModelTable) {
  ASSERT_OK_AND_ASSIGN(auto view, store_->BeginSnapshotRead());
  for (const TableSchema& t : M().tables()) {
    ASSERT_OK_AND_ASSIGN(int64_t n, view->Count(t));
    EXPECT_EQ(n, 0) << t.name;
    EXPECT_OK(view->Scan(t, [&](const Row&) { return InternalError("row in an empty store"); }))
        << t.name;
  }
}

TEST_P(MetaStoreConformanceTest, MigrationKeepsDataAndRefusesDowngrade) {
  auto location = NewLocation();
  const TableSchema& parent_v1 = MigrationModel(1).Table("parent");
  {
    ASSERT_OK_AND_ASSIGN(auto v1, location->Open(MigrationModel(1)));
    ASSERT_OK(v1->Migrate());
    ASSERT_OK(Put(*v1, parent_v1, Row{int64_t{1}, std::string("one")}));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto v2, location->Open(MigrationModel(2)));
    ASSERT_OK_AND_ASSIGN(SchemaState before, v2->Inspect());
    EXPECT_EQ(before.version, 1);
    EXPECT_FALSE(before.empty);
    // Not migrated yet: refused rather than read with the wrong columns.
    EXPECT_THAT(v2->BeginTransaction(), StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_OK(v2->Migrate());
    ASSERT_OK(v2->Migrate());
    ASSERT_OK_AND_ASSIGN(SchemaState after, v2->Inspect());
    EXPECT_EQ(after.version, 2);
    const TableSchema& parent = MigrationModel(2).Table("parent");
    const TableSchema& child = MigrationModel(2).Table("child");
    ASSERT_OK_AND_ASSIGN(auto old_row, GetCommitted(*v2, parent, Key{int64_t{1}}));
    ASSERT_TRUE(old_row.has_value());
    EXPECT_EQ(*old_row, (Row{int64_t{1}, std::string("one"), std::monostate{}}));
    ASSERT_OK(RunTransaction(*v2, [&](Transaction& t) {
      RWMETA_RETURN_IF_ERROR(
          t.Insert(parent, Row{int64_t{2}, std::string("two"), std::string("n")}));
      return t.Insert(child, Row{int64_t{7}, int64_t{2}});
    }));
    EXPECT_THAT(Put(*v2, child, Row{int64_t{8}, int64_t{99}}),
                StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_OK(
        RunTransaction(*v2, [&](Transaction& t) { return t.Delete(parent, Key{int64_t{2}}); }));
    ASSERT_OK_AND_ASSIGN(auto children, ScanAll(*v2, child));
    EXPECT_TRUE(children.empty());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto old_binary, location->Open(MigrationModel(1)));
    EXPECT_THAT(old_binary->Migrate(),
                StatusIs(StatusCode::kFailedPrecondition,
                         ::testing::AllOf(HasSubstr("version 2"), HasSubstr("version 1"))));
    EXPECT_THAT(old_binary->BeginTransaction(), StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(SchemaState state, old_binary->Inspect());
    EXPECT_EQ(state.version, 2);
  }
}

}  // namespace rwmeta::metastore
