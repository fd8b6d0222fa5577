// SQLite-specific behaviour: persistence, file errors, lock timeouts, corrupt values. The MetaStore
// contract itself is covered by the conformance suite (meta_store_conformance_test.cc).
#include "metastore/sqlite/sqlite_meta_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

const Model& M() { return Model::Get(); }

class SqliteMetaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "rwmeta-sqlite-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/meta.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs `sql` on the file directly, behind the store's back.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  std::string dir_;
  std::string path_;
};

Row Param(std::string name, std::string value) {
  return Row{std::move(name), std::move(value), true, std::monostate{}};
}

TEST_F(SqliteMetaStoreTest, RowsSurviveCloseAndReopen) {
  const TableSchema& params = M().Table("system_parameter");
  const TableSchema& secrets = M().Table("secret");
  {
    ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
    ASSERT_OK(store->Migrate());
    ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
      RWMETA_RETURN_IF_ERROR(t.Insert(params, Param("barrier_interval_ms", "1000")));
      return NextId(t, "object", 5).status();
    }));
  }
  ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
  EXPECT_EQ(store->DisplayUrl(), "sqlite://" + path_);
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_FALSE(state.empty);
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto row, view->Get(params, Key{std::string("barrier_interval_ms")}));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(*row, Param("barrier_interval_ms", "1000"));
  ASSERT_OK_AND_ASSIGN(int64_t secret_count, view->Count(secrets));
  EXPECT_EQ(secret_count, 0);
  view.reset();
  int64_t next = 0;
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    RWMETA_ASSIGN_OR_RETURN(next, NextId(t, "object"));
    return Status::Ok();
  }));
  EXPECT_EQ(next, 6);
}

TEST_F(SqliteMetaStoreTest, FileThatIsNotADatabaseIsDataLoss) {
  {
    std::ofstream out(path_, std::ios::binary);
    out << std::string(4096, 'x');
  }
  EXPECT_THAT(SqliteMetaStore::Open(path_), StatusIs(StatusCode::kDataLoss, HasSubstr(path_)));
}

TEST_F(SqliteMetaStoreTest, MissingFileWithoutCreateIsInternalNamingTheFile) {
  SqliteOptions options;
  options.create = false;
  EXPECT_THAT(SqliteMetaStore::Open(path_, M(), options),
              StatusIs(StatusCode::kInternal, HasSubstr(path_)));
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_THAT(SqliteMetaStore::Open(dir_ + "/no/such/dir/meta.db"),
              StatusIs(StatusCode::kInternal, HasSubstr("/no/such/dir/meta.db")));
}

TEST_F(SqliteMetaStoreTest, SecondWriterTimesOutAsAborted) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_, M(), options));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(auto first, store->BeginTransaction());
  EXPECT_THAT(store->BeginTransaction(), StatusIs(StatusCode::kAborted, HasSubstr(path_)));
  // Readers are never blocked by the writer.
  ASSERT_OK_AND_ASSIGN(auto reader, store->BeginSnapshotRead());
  ASSERT_OK(first->Insert(M().Table("system_parameter"), Param("a", "b")));
  ASSERT_OK(first->Commit());
  first.reset();
  EXPECT_OK(store->BeginTransaction());
}

TEST_F(SqliteMetaStoreTest, StoredValueOfTheWrongTypeIsDataLoss) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
    ASSERT_OK(store->Migrate());
  }
  // A boolean that is neither 0 nor 1, written behind the store's back.
  RawExec("INSERT INTO \"system_parameter\" VALUES ('p', 'v', 7, NULL)");
  ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  EXPECT_THAT(view->Get(M().Table("system_parameter"), Key{std::string("p")}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("column is_mutable")));
}

TEST_F(SqliteMetaStoreTest, InspectCountsForeignTablesAsNotEmpty) {
  RawExec("CREATE TABLE someone_elses (x INTEGER); INSERT INTO someone_elses VALUES (1)");
  ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_EQ(state.version, 0);
  EXPECT_FALSE(state.empty);
}

TEST_F(SqliteMetaStoreTest, MigrationsAreRecorded) {
  ASSERT_OK_AND_ASSIGN(auto store, SqliteMetaStore::Open(path_));
  ASSERT_OK(store->Migrate());
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT version, applied_at_ms > 0, description FROM "
                               "rwmeta_migrations ORDER BY version",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 1);
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), 1);
  EXPECT_THAT(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)),
              HasSubstr("add tables cluster, system_parameter"));
  // Model version 2 added the cluster's generation.
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 2);
  EXPECT_THAT(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)),
              HasSubstr("add columns cluster.generation"));
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace rwmeta::metastore
