// EtcdMetaStore against real etcd servers, started once for this binary (metastore_etcd_test): one
// plain, one with authentication enabled. The MetaStore contract runs as the conformance suite on
// both; the cases below cover what is etcd's own: conflicts, revisions, compaction, paging, the
// operation limit, bulk loads, fail-over and authentication.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "common/testing/status_matchers.h"
#include "metastore/endpoint.h"
#include "metastore/etcd/etcd_client.h"
#include "metastore/etcd/etcd_codec.h"
#include "metastore/etcd/etcd_meta_store.h"
#include "metastore/factory.h"
#include "metastore/meta_store_conformance.h"
#include "testing/etcd_server.h"

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::EtcdServer;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

// The servers of this binary.
struct Servers {
  std::unique_ptr<EtcdServer> plain;
  std::unique_ptr<EtcdServer> auth;
  std::string missing;  // why they are not there
};

Servers& TheServers() {
  static Servers* const kServers = new Servers();
  return *kServers;
}

class EtcdEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Servers& s = TheServers();
    if (!EtcdServer::Installed()) {
      s.missing = "etcd is not installed (Debian packages etcd-server and etcd-client)";
      return;
    }
    auto plain = EtcdServer::Start();
    auto auth = EtcdServer::Start({.auth = true});
    if (!plain.ok() || !auth.ok()) {
      s.missing = fmt::format("etcd did not start: {} / {}", plain.status().ToString(),
                              auth.status().ToString());
      return;
    }
    s.plain = std::move(*plain);
    s.auth = std::move(*auth);
  }
  void TearDown() override {
    TheServers().plain.reset();
    TheServers().auth.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

// --- the conformance suite on both servers ---------------------------------------------------

class EtcdLocation final : public MetaStoreLocation {
 public:
  EtcdLocation(const EtcdServer& server, std::string prefix)
      : url_(server.Url(std::move(prefix))) {}
  Result<std::unique_ptr<MetaStore>> Open(const Model& model) override {
    return OpenMetaStore(url_, model);
  }

 private:
  std::string url_;
};

std::unique_ptr<MetaStoreLocation> NewLocation(bool auth) {
  const Servers& s = TheServers();
  const EtcdServer* server = auth ? s.auth.get() : s.plain.get();
  if (server == nullptr) {
    if (::rwmeta::testing::RequireServers()) {
      ADD_FAILURE() << "required server missing (RWMETA_REQUIRE_SERVERS=1): " << s.missing;
    }
    return nullptr;
  }
  return std::make_unique<EtcdLocation>(*server, EtcdServer::NewPrefix());
}

INSTANTIATE_TEST_SUITE_P(
    Etcd, MetaStoreConformanceTest,
    ::testing::Values(MetaStoreBackend{"etcd", [] { return NewLocation(false); }},
                      MetaStoreBackend{"etcd_auth", [] { return NewLocation(true); }}),
    MetaStoreBackendName);

// --- helpers ---------------------------------------------------------------------------------

const Model& M() { return Model::Get(); }
const TableSchema& Params() { return M().Table("system_parameter"); }

Row Param(std::string name, std::string value) {
  return Row{std::move(name), std::move(value), true, std::monostate{}};
}

Result<std::unique_ptr<EtcdMetaStore>> OpenUrl(const std::string& url,
                                               const Model& model = Model::Get()) {
  RWMETA_ASSIGN_OR_RETURN(EtcdMetaStoreOptions options, ParseEtcdUrl(url));
  return EtcdMetaStore::Open(std::move(options), model);
}

Status Put(MetaStore& store, const Row& row) {
  return RunTransaction(store, [&](Transaction& t) { return t.Upsert(Params(), row); });
}

// Every system_parameter row as (name, value) pairs, through `view`.
Result<std::vector<std::pair<std::string, std::string>>> ParamsIn(ReadView& view) {
  std::vector<std::pair<std::string, std::string>> out;
  RWMETA_RETURN_IF_ERROR(view.Scan(Params(), [&](const Row& r) {
    out.emplace_back(std::get<std::string>(r[0]), std::get<std::string>(r[1]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> CommittedParams(MetaStore& store) {
  RWMETA_ASSIGN_OR_RETURN(auto view, store.BeginSnapshotRead());
  return ParamsIn(*view);
}

std::string Name(int i) { return fmt::format("k{:03}", i); }

class EtcdMetaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (TheServers().plain == nullptr) RWMETA_SKIP_OR_FAIL(TheServers().missing);
  }
  EtcdServer& plain() { return *TheServers().plain; }
  EtcdServer& auth() { return *TheServers().auth; }

  // A URL of a fresh prefix on the plain server.
  std::string FreshUrl(const std::string& params = "") {
    return plain().Url(EtcdServer::NewPrefix(), params);
  }
};

// --- transactions ----------------------------------------------------------------------------

TEST_F(EtcdMetaStoreTest, ConflictingTransactionsAbortAndRunTransactionRedoesThem) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl()));
  ASSERT_OK(store->Migrate());
  const TableSchema& versions = M().Table("catalog_version");
  ASSERT_OK(Put(*store, Param("a", "0")));
  {
    // Lost update: both read a, both write it; the second commit loses.
    ASSERT_OK_AND_ASSIGN(auto t1, store->BeginTransaction());
    ASSERT_OK_AND_ASSIGN(auto t2, store->BeginTransaction());
    ASSERT_OK(t1->Get(Params(), Key{std::string("a")}).status());
    ASSERT_OK(t2->Get(Params(), Key{std::string("a")}).status());
    ASSERT_OK(t1->Update(Params(), Param("a", "1")));
    ASSERT_OK(t2->Update(Params(), Param("a", "2")));
    ASSERT_OK(t1->Commit());
    EXPECT_THAT(t2->Commit(),
                StatusIs(StatusCode::kAborted, HasSubstr("conflicts with a later commit")));
  }
  {
    // Phantom: t1 counted the table, t2 then inserted into it.
    ASSERT_OK_AND_ASSIGN(auto t1, store->BeginTransaction());
    ASSERT_OK_AND_ASSIGN(int64_t n, t1->Count(Params()));
    EXPECT_EQ(n, 1);
    ASSERT_OK(t1->Insert(versions, Row{std::string("catalog"), n}));
    ASSERT_OK(Put(*store, Param("b", "x")));
    EXPECT_THAT(t1->Commit(), StatusIs(StatusCode::kAborted));
  }
  {
    // Disjoint transactions both commit.
    ASSERT_OK_AND_ASSIGN(auto t1, store->BeginTransaction());
    ASSERT_OK_AND_ASSIGN(auto t2, store->BeginTransaction());
    ASSERT_OK(t1->Insert(Params(), Param("c", "1")));
    ASSERT_OK(t2->Insert(versions, Row{std::string("catalog"), int64_t{7}}));
    ASSERT_OK(t1->Commit());
    ASSERT_OK(t2->Commit());
  }
  // RunTransaction redoes a transaction that lost to a commit made during its first attempt.
  int attempts = 0;
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) -> Status {
    ++attempts;
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> a, t.Get(Params(), Key{std::string("a")}));
    if (attempts == 1) RWMETA_RETURN_IF_ERROR(Put(*store, Param("a", "interloper")));
    return t.Update(Params(), Param("a", std::get<std::string>((*a)[1]) + "+"));
  }));
  EXPECT_EQ(attempts, 2);
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "interloper+"},
                                std::pair<std::string, std::string>{"b", "x"},
                                std::pair<std::string, std::string>{"c", "1"}));
}

TEST_F(EtcdMetaStoreTest, SnapshotReadSeesOneRevisionWhileWritesContinue) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("page_size=4")));
  ASSERT_OK(store->Migrate());
  std::vector<std::pair<std::string, std::string>> before;
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    for (int i = 0; i < 30; ++i) RWMETA_RETURN_IF_ERROR(t.Insert(Params(), Param(Name(i), "v0")));
    return Status::Ok();
  }));
  for (int i = 0; i < 30; ++i) before.emplace_back(Name(i), "v0");
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());

  std::atomic<bool> writer_done{false};
  Status writer_status;
  std::thread writer([&] {
    for (int i = 0; i < 15 && writer_status.ok(); ++i) {
      writer_status = RunTransaction(*store, [&](Transaction& t) {
        RWMETA_RETURN_IF_ERROR(t.Update(Params(), Param(Name(i), "v1")));
        RWMETA_RETURN_IF_ERROR(t.Delete(Params(), Key{Name(29 - i)}));
        return t.Insert(Params(), Param("new" + Name(i), "v1"));
      });
    }
    writer_done = true;
  });
  // Scan over and over while the writer commits: always the rows as of the view's revision.
  // (No ASSERT before the join: the writer thread must be joined.)
  int scans = 0;
  while (!writer_done || scans < 2) {
    auto rows = ParamsIn(*view);
    auto n = view->Count(Params());
    EXPECT_OK(rows.status());
    EXPECT_OK(n.status());
    if (!rows.ok() || !n.ok()) break;
    EXPECT_EQ(*rows, before) << "scan " << scans;
    EXPECT_EQ(*n, 30);
    ++scans;
  }
  writer.join();
  ASSERT_OK(writer_status);
  ASSERT_OK_AND_ASSIGN(auto still, ParamsIn(*view));
  EXPECT_EQ(still, before);
  ASSERT_OK_AND_ASSIGN(auto now, CommittedParams(*store));
  ASSERT_EQ(now.size(), 30u);
  EXPECT_EQ(now[0], (std::pair<std::string, std::string>{"k000", "v1"}));
  EXPECT_EQ(now[15], (std::pair<std::string, std::string>{"new" + Name(0), "v1"}));
}

TEST_F(EtcdMetaStoreTest, CompactedRevisionIsAClearError) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("page_size=2")));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    for (int i = 0; i < 5; ++i) RWMETA_RETURN_IF_ERROR(t.Insert(Params(), Param(Name(i), "v")));
    return Status::Ok();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t revision, store->CurrentRevision());
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  ASSERT_OK(Put(*store, Param(Name(0), "changed")));
  ASSERT_OK_AND_ASSIGN(int64_t now, store->CurrentRevision());
  ASSERT_GT(now, revision);
  ASSERT_OK(store->Compact(now));

  const std::string compacted = fmt::format("snapshot revision {} has been compacted", revision);
  EXPECT_THAT(ParamsIn(*view), StatusIs(StatusCode::kFailedPrecondition, HasSubstr(compacted)));
  EXPECT_THAT(view->Count(Params()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr(compacted)));
  EXPECT_THAT(view->Get(Params(), Key{Name(1)}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr(compacted)));
  // A transaction that read at a compacted revision is redone.
  EXPECT_THAT(txn->Get(Params(), Key{Name(1)}),
              StatusIs(StatusCode::kAborted,
                       HasSubstr(fmt::format("read revision {} has been compacted", revision))));
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_EQ(rows.size(), 5u);
}

TEST_F(EtcdMetaStoreTest, ScansPageThroughMoreKeysThanAPageMergingOwnWrites) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("page_size=7")));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) {
    for (int i = 0; i < 50; ++i) RWMETA_RETURN_IF_ERROR(t.Insert(Params(), Param(Name(i), "v")));
    return Status::Ok();
  }));
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 50; ++i) expected[Name(i)] = "v";
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  for (int i : {0, 7, 13, 14, 49}) {
    ASSERT_OK(txn->Delete(Params(), Key{Name(i)}));
    expected.erase(Name(i));
  }
  ASSERT_OK(txn->Update(Params(), Param(Name(20), "new")));
  expected[Name(20)] = "new";
  for (const char* name : {"a", "k007x", "k013", "z"}) {
    ASSERT_OK(txn->Insert(Params(), Param(name, "ins")));
    expected[name] = "ins";
  }
  const std::vector<std::pair<std::string, std::string>> want(expected.begin(), expected.end());
  ASSERT_OK_AND_ASSIGN(auto own, ParamsIn(*txn));
  EXPECT_EQ(own, want);
  ASSERT_OK_AND_ASSIGN(int64_t n, txn->Count(Params()));
  EXPECT_EQ(n, static_cast<int64_t>(want.size()));
  ASSERT_OK(txn->Commit());
  txn.reset();
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  ASSERT_OK_AND_ASSIGN(auto committed, ParamsIn(*view));
  EXPECT_EQ(committed, want);
  ASSERT_OK_AND_ASSIGN(n, view->Count(Params()));
  EXPECT_EQ(n, static_cast<int64_t>(want.size()));
}

TEST_F(EtcdMetaStoreTest, WritesStopAtEtcdsOperationLimit) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl()));
  ASSERT_OK(store->Migrate());
  {
    // 127 rows and one table guard: exactly etcd's default 128.
    ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
    for (int i = 0; i < 127; ++i) ASSERT_OK(txn->Insert(Params(), Param(Name(i), "v")));
    EXPECT_THAT(txn->Insert(Params(), Param(Name(127), "v")),
                StatusIs(StatusCode::kResourceExhausted,
                         AllOf(HasSubstr("129 keys (128 rows and 1 table guards)"),
                               HasSubstr("more than the 128 operations"))));
    // The refused write changed nothing; the rest commits.
    ASSERT_OK_AND_ASSIGN(int64_t n, txn->Count(Params()));
    EXPECT_EQ(n, 127);
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_EQ(rows.size(), 127u);

  // A store told a higher limit than the server's: etcd itself refuses, and nothing is written.
  ASSERT_OK_AND_ASSIGN(auto lax, OpenUrl(FreshUrl("max_txn_ops=1000")));
  ASSERT_OK(lax->Migrate());
  EXPECT_THAT(RunTransaction(*lax,
                             [&](Transaction& t) {
                               for (int i = 0; i < 200; ++i) {
                                 RWMETA_RETURN_IF_ERROR(t.Insert(Params(), Param(Name(i), "v")));
                               }
                               return Status::Ok();
                             }),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("too many operations")));
  ASSERT_OK_AND_ASSIGN(auto none, CommittedParams(*lax));
  EXPECT_TRUE(none.empty());
}

TEST_F(EtcdMetaStoreTest, ACommitWhoseAnswerIsLostIsConfirmedNotRedone) {
  int drop = 0;                     // how many of the next write answers to lose
  std::function<void()> meanwhile;  // runs when one is lost
  ASSERT_OK_AND_ASSIGN(EtcdMetaStoreOptions options, ParseEtcdUrl(FreshUrl()));
  options.drop_write_response_for_testing = [&] {
    if (drop == 0) return false;
    --drop;
    if (meanwhile) meanwhile();
    return true;
  };
  ASSERT_OK_AND_ASSIGN(auto store, EtcdMetaStore::Open(options));
  ASSERT_OK(store->Migrate());
  // NextId's commit happens but its answer is lost: it is confirmed, not redone.
  drop = 1;
  int attempts = 0;
  int64_t id = 0;
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) -> Status {
    ++attempts;
    RWMETA_ASSIGN_OR_RETURN(id, NextId(t, "object"));
    return Status::Ok();
  }));
  EXPECT_EQ(drop, 0);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(id, 1);
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) -> Status {
    RWMETA_ASSIGN_OR_RETURN(id, NextId(t, "object"));
    return Status::Ok();
  }));
  EXPECT_EQ(id, 2);
  // Another commit to the table before the check: the outcome cannot be told, and says so.
  drop = 1;
  meanwhile = [&] { EXPECT_OK(Put(*store, Param("other", "x"))); };
  EXPECT_THAT(Put(*store, Param("mine", "y")),
              StatusIs(StatusCode::kUnavailable, HasSubstr("outcome unknown")));
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"mine", "y"},
                                std::pair<std::string, std::string>{"other", "x"}));
}

TEST_F(EtcdMetaStoreTest, ManyPointReadsFoldIntoTheTableGuard) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl()));
  ASSERT_OK(store->Migrate());
  // 300 compared reads would pass the limit: they fold into one guard comparison.
  auto read_many_then_write = [&](Transaction& t, const std::string& name) -> Status {
    for (int i = 0; i < 300; ++i) RWMETA_RETURN_IF_ERROR(t.Get(Params(), Key{Name(i)}).status());
    return t.Insert(M().Table("catalog_version"), Row{name, int64_t{1}});
  };
  ASSERT_OK(RunTransaction(*store, [&](Transaction& t) { return read_many_then_write(t, "a"); }));
  // ... and still catch a conflicting write to one of the keys read.
  ASSERT_OK_AND_ASSIGN(auto txn, store->BeginTransaction());
  ASSERT_OK(read_many_then_write(*txn, "b"));
  ASSERT_OK(Put(*store, Param(Name(5), "v")));
  EXPECT_THAT(txn->Commit(), StatusIs(StatusCode::kAborted));
}

TEST_F(EtcdMetaStoreTest, MigrateAbortsTransactionsOfTheOlderVersion) {
  using T = ColumnType;
  const Model v1(1, {{"parent", {{"id", T::kInt64}}, {"id"}, {}, {}}});
  TableSchema child{"child", {{"id", T::kInt64, false, 2}}, {"id"}, {}, {}};
  child.added_in_version = 2;
  const Model v2(2, {{"parent", {{"id", T::kInt64}}, {"id"}, {}, {}}, child});
  const std::string url = FreshUrl();
  ASSERT_OK_AND_ASSIGN(auto old_store, OpenUrl(url, v1));
  ASSERT_OK(old_store->Migrate());
  ASSERT_OK_AND_ASSIGN(auto txn, old_store->BeginTransaction());
  ASSERT_OK(txn->Insert(v1.Table("parent"), Row{int64_t{1}}));
  ASSERT_OK_AND_ASSIGN(auto new_store, OpenUrl(url, v2));
  ASSERT_OK(new_store->Migrate());
  EXPECT_THAT(txn->Commit(), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(old_store->BeginTransaction(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("schema version 2")));
  ASSERT_OK_AND_ASSIGN(SchemaState state, new_store->Inspect());
  EXPECT_EQ(state.version, 2);
  EXPECT_TRUE(state.empty);
}

TEST_F(EtcdMetaStoreTest, CorruptRowsAndForeignKeys) {
  const std::string prefix = EtcdServer::NewPrefix();
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(plain().Url(prefix)));
  ASSERT_OK(store->Migrate());
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_TRUE(state.empty);
  // Bytes written behind the store's back, with our own client.
  ASSERT_OK_AND_ASSIGN(auto client, EtcdClient::Create({.endpoints = {plain().endpoint()}}));
  auto put = [&](const std::string& key, const std::string& value) {
    etcdserverpb::TxnRequest txn;
    auto* p = txn.add_success()->mutable_request_put();
    p->set_key(key);
    p->set_value(value);
    return client->Txn(txn).status();
  };
  ASSERT_OK(put(etcd::RowKey(prefix, Params(), Key{std::string("x")}), "\x01\x09"));
  ASSERT_OK(put(etcd::RowKey(prefix, Params(), Key{std::string("y")}), "\x07"));
  ASSERT_OK_AND_ASSIGN(auto view, store->BeginSnapshotRead());
  EXPECT_THAT(view->Get(Params(), Key{std::string("x")}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("table system_parameter")));
  EXPECT_THAT(view->Get(Params(), Key{std::string("y")}),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("unknown row format 7")));
  EXPECT_THAT(ParamsIn(*view), StatusIs(StatusCode::kDataLoss));

  // Keys under the prefix that are not ours make the store non-empty (never a restore target).
  const std::string other_prefix = EtcdServer::NewPrefix();
  ASSERT_OK(put(other_prefix + "/something/else", "v"));
  ASSERT_OK_AND_ASSIGN(auto foreign, OpenUrl(plain().Url(other_prefix)));
  ASSERT_OK_AND_ASSIGN(state, foreign->Inspect());
  EXPECT_EQ(state.version, 0);
  EXPECT_FALSE(state.empty);
  EXPECT_THAT(foreign->BeginBulkLoad(),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("not empty"),
                             HasSubstr("etcdctl del --prefix " + other_prefix + "/"))));
}

// --- bulk load -------------------------------------------------------------------------------

TEST_F(EtcdMetaStoreTest, BulkLoadIsInvisibleUntilFinished) {
  const std::string url = FreshUrl("max_txn_ops=16");
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(url));
  ASSERT_OK_AND_ASSIGN(auto loader, store->BeginEtcdBulkLoad());
  std::vector<std::pair<std::string, std::string>> want;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(loader->Add(Params(), Param(Name(i), "loaded")));
    want.emplace_back(Name(i), "loaded");
  }
  // 15 rows (and the marker comparison) per Txn: six batches sent, ten rows waiting.
  EXPECT_EQ(loader->rows_loaded(), 90);
  EXPECT_THAT(loader->Add(Params(), Row{std::string("bad")}),
              StatusIs(StatusCode::kInvalidArgument));
  // Nobody may use the store meanwhile, through any handle.
  ASSERT_OK_AND_ASSIGN(auto other, OpenUrl(url));
  for (MetaStore* s :
       {static_cast<MetaStore*>(store.get()), static_cast<MetaStore*>(other.get())}) {
    ASSERT_OK_AND_ASSIGN(SchemaState hidden, s->Inspect());
    EXPECT_TRUE(hidden.unfinished_bulk_load);
    EXPECT_THAT(s->BeginTransaction(),
                StatusIs(StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr("did not finish"), HasSubstr("restore_incomplete"))));
    EXPECT_THAT(s->BeginSnapshotRead(), StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(s->Migrate(), StatusIs(StatusCode::kFailedPrecondition));
  }
  ASSERT_OK(loader->Finish());
  EXPECT_EQ(loader->rows_loaded(), 100);
  ASSERT_OK_AND_ASSIGN(SchemaState state, other->Inspect());
  EXPECT_EQ(state.version, kModelVersion);
  EXPECT_FALSE(state.empty);
  EXPECT_FALSE(state.unfinished_bulk_load);
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*other));
  EXPECT_EQ(rows, want);
  // The loaded store takes transactions.
  ASSERT_OK(Put(*other, Param(Name(0), "after")));
  // A second load into the now non-empty store is refused.
  EXPECT_THAT(store->BeginBulkLoad(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not empty")));
}

TEST_F(EtcdMetaStoreTest, ReRunningAnInterruptedBulkLoadStartsOver) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("max_txn_ops=16")));
  {
    ASSERT_OK_AND_ASSIGN(auto loader, store->BeginEtcdBulkLoad());
    for (int i = 0; i < 40; ++i) ASSERT_OK(loader->Add(Params(), Param(Name(i), "first")));
    EXPECT_EQ(loader->rows_loaded(), 30);
    // Dropped without Finish: the process died mid-restore.
  }
  ASSERT_OK_AND_ASSIGN(SchemaState interrupted, store->Inspect());
  EXPECT_TRUE(interrupted.unfinished_bulk_load);
  EXPECT_THAT(store->BeginTransaction(), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto rerun, store->BeginBulkLoad());
  ASSERT_OK(rerun->Add(Params(), Param("a", "second")));
  ASSERT_OK(rerun->Add(Params(), Param(Name(3), "second")));
  EXPECT_THAT(rerun->Add(Params(), Param("a", "again")),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("loaded twice")));
  ASSERT_OK(rerun->Finish());
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "second"},
                                std::pair<std::string, std::string>{Name(3), "second"}));
  EXPECT_THAT(rerun->Finish(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(EtcdMetaStoreTest, BulkLoadBatchesByBytesToo) {
  const std::string prefix = EtcdServer::NewPrefix();
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(plain().Url(prefix, "max_txn_bytes=4096")));
  const std::string value(200, 'v');
  // Every row here has the same size: a batch holds as many as fit in 4 KiB, far fewer than 127.
  const size_t row_bytes = etcd::RowKey(prefix, Params(), Key{Name(0)}).size() +
                           etcd::EncodeRow(Param(Name(0), value)).size();
  const int64_t per_batch = static_cast<int64_t>(4096 / row_bytes);
  ASSERT_LT(per_batch, 127);
  ASSERT_OK_AND_ASSIGN(auto loader, store->BeginEtcdBulkLoad());
  for (int i = 0; i < 500; ++i) {
    ASSERT_OK(loader->Add(Params(), Param(Name(i), value)));
    if (i == per_batch) {
      EXPECT_EQ(loader->rows_loaded(), per_batch);
    }
  }
  ASSERT_OK(loader->Finish());
  EXPECT_EQ(loader->rows_loaded(), 500);
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  ASSERT_EQ(rows.size(), 500u);
  EXPECT_EQ(rows[0], (std::pair<std::string, std::string>{Name(0), value}));
  EXPECT_EQ(rows[499], (std::pair<std::string, std::string>{Name(499), value}));
}

// Batches travel several at once; a key loaded again in a later batch is still refused (by a later
// Add or by Finish), and the store stays hidden until a re-run.
TEST_F(EtcdMetaStoreTest, BatchesInFlightStillRefuseAKeyLoadedTwice) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("max_txn_ops=16&bulk_load_txns_in_flight=4")));
  ASSERT_OK_AND_ASSIGN(auto loader, store->BeginEtcdBulkLoad());
  Status refused;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    // Name(5) again in the fifth batch, while earlier batches may still be in flight.
    refused = loader->Add(Params(), Param(Name(i == 70 ? 5 : i), "loaded"));
  }
  if (refused.ok()) refused = loader->Finish();
  EXPECT_THAT(refused, StatusIs(StatusCode::kAlreadyExists, HasSubstr("loaded twice")));
  loader.reset();
  ASSERT_OK_AND_ASSIGN(SchemaState state, store->Inspect());
  EXPECT_TRUE(state.unfinished_bulk_load);
  ASSERT_OK_AND_ASSIGN(auto rerun, store->BeginBulkLoad());
  ASSERT_OK(rerun->Add(Params(), Param(Name(5), "again")));
  ASSERT_OK(rerun->Finish());
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{Name(5), "again"}));
}

TEST_F(EtcdMetaStoreTest, ASecondBulkLoadTakesOverAndTheFirstStops) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(FreshUrl("max_txn_ops=16")));
  ASSERT_OK_AND_ASSIGN(auto first, store->BeginBulkLoad());
  for (int i = 0; i < 20; ++i) ASSERT_OK(first->Add(Params(), Param(Name(i), "first")));
  // The first restore looks dead to the operator, who runs it again.
  ASSERT_OK_AND_ASSIGN(auto second, store->BeginBulkLoad());
  EXPECT_THAT(first->Finish(),
              StatusIs(StatusCode::kAborted, HasSubstr("another restore took over")));
  ASSERT_OK(second->Add(Params(), Param("b", "second")));
  ASSERT_OK(second->Finish());
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"b", "second"}));
}

// --- endpoints -------------------------------------------------------------------------------

TEST_F(EtcdMetaStoreTest, FailsOverToTheNextEndpoint) {
  const int dead = ::rwmeta::testing::PickFreePort();
  const std::string prefix = EtcdServer::NewPrefix();
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(fmt::format("etcd://127.0.0.1:{},{}{}", dead,
                                                       plain().endpoint(), prefix)));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(Put(*store, Param("a", "1")));
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "1"}));
  const int dead2 = ::rwmeta::testing::PickFreePort();
  EXPECT_THAT(
      OpenUrl(fmt::format("etcd://127.0.0.1:{},127.0.0.1:{}/x", dead, dead2)),
      StatusIs(
          StatusCode::kUnavailable,
          AllOf(HasSubstr(fmt::format("no endpoint of 127.0.0.1:{},127.0.0.1:{}", dead, dead2)),
                HasSubstr("answered"))));
}

TEST_F(EtcdMetaStoreTest, ServerDownIsUnavailableAndBackIsUsable) {
  ASSERT_OK_AND_ASSIGN(auto own, EtcdServer::Start());
  const int dead = ::rwmeta::testing::PickFreePort();
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(fmt::format("etcd://{},127.0.0.1:{}/p?timeout_ms=2000",
                                                       own->endpoint(), dead)));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(Put(*store, Param("a", "1")));
  ASSERT_OK(own->Stop());
  EXPECT_THAT(store->BeginTransaction(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store->Inspect(), StatusIs(StatusCode::kUnavailable));
  ASSERT_OK(own->Restart());
  // The channel reconnects on its own (backoff at most 2 s): poll with a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Result<std::vector<std::pair<std::string, std::string>>> rows = CommittedParams(*store);
  while (!rows.ok() && IsUnavailable(rows.status()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rows = CommittedParams(*store);
  }
  ASSERT_OK(rows.status());
  EXPECT_THAT(*rows, ElementsAre(std::pair<std::string, std::string>{"a", "1"}));
}

// --- authentication --------------------------------------------------------------------------

TEST_F(EtcdMetaStoreTest, AuthRightPasswordWorks) {
  const std::string prefix = EtcdServer::NewPrefix();
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(auth().Url(prefix)));
  EXPECT_EQ(store->DisplayUrl(), fmt::format("etcd://root@{}{}", auth().endpoint(), prefix));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(Put(*store, Param("a", "1")));
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "1"}));
  // What was written is visible to etcdctl as root, at the documented key.
  ASSERT_OK_AND_ASSIGN(std::string version,
                       auth().Etcdctl({"get", "--print-value-only", etcd::VersionKey(prefix)}));
  EXPECT_EQ(version, fmt::format("{}\n", kModelVersion));
}

TEST_F(EtcdMetaStoreTest, AuthUserLimitedToItsPrefix) {
  // The setup docs/metastore-etcd.md recommends: a role with readwrite on the prefix only.
  const std::string prefix = EtcdServer::NewPrefix();
  ASSERT_OK(auth().Etcdctl({"role", "add", "limited"}).status());
  ASSERT_OK(auth()
                .Etcdctl({"role", "grant-permission", "limited", "--prefix=true", "readwrite",
                          prefix + "/"})
                .status());
  ASSERT_OK(auth().Etcdctl({"user", "add", "limited:limited-pw"}).status());
  ASSERT_OK(auth().Etcdctl({"user", "grant-role", "limited", "limited"}).status());
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(fmt::format("etcd://limited:limited-pw@{}{}",
                                                       auth().endpoint(), prefix)));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(Put(*store, Param("a", "1")));
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_THAT(OpenUrl(fmt::format("etcd://limited:limited-pw@{}/elsewhere", auth().endpoint())),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("user 'limited'")));
}

TEST_F(EtcdMetaStoreTest, AuthFlagsBuildAWorkingUrl) {
  // --etcd-endpoints, --etcd-auth, --etcd-username, --etcd-password as meta-node and risectl take
  // them, with a password that needs percent-encoding.
  ASSERT_OK(auth().Etcdctl({"user", "add", "odd:p@ss/w:rd?%"}).status());
  ASSERT_OK(auth().Etcdctl({"user", "grant-role", "odd", "root"}).status());
  MetaStoreEndpoint flags;
  flags.type = "etcd";
  flags.etcd_endpoints =
      fmt::format("127.0.0.1:{},{}", ::rwmeta::testing::PickFreePort(), auth().endpoint());
  flags.etcd_auth = true;
  flags.etcd_username = "odd";
  flags.etcd_password = "p@ss/w:rd?%";
  ASSERT_OK_AND_ASSIGN(std::string url, BuildMetaStoreUrl(flags));
  ASSERT_OK_AND_ASSIGN(auto store, OpenMetaStore(url));
  EXPECT_EQ(store->backend(), "etcd");
  EXPECT_THAT(store->DisplayUrl(), AllOf(HasSubstr("etcd://odd@"), Not(HasSubstr("p@ss"))));
  ASSERT_OK(store->Inspect().status());
  flags.etcd_password = "wrong";
  ASSERT_OK_AND_ASSIGN(url, BuildMetaStoreUrl(flags));
  EXPECT_THAT(OpenMetaStore(url), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(EtcdMetaStoreTest, AuthWrongPasswordIsUnauthenticated) {
  EXPECT_THAT(OpenUrl(fmt::format("etcd://root:not-it@{}/p", auth().endpoint())),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("authentication failed for user 'root'"),
                             HasSubstr("wrong user name or password"), Not(HasSubstr("not-it")))));
  EXPECT_THAT(OpenUrl(fmt::format("etcd://nobody:pw@{}/p", auth().endpoint())),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(EtcdMetaStoreTest, AuthEnabledButNoCredentialsIsUnauthenticated) {
  EXPECT_THAT(OpenUrl(auth().Url("/p", "", /*with_credentials=*/false)),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("requires authentication"), HasSubstr("--etcd-auth"))));
}

TEST_F(EtcdMetaStoreTest, CredentialsButAuthDisabledIsFailedPrecondition) {
  EXPECT_THAT(
      OpenUrl(fmt::format("etcd://root:pw@{}/p", plain().endpoint())),
      StatusIs(StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("authentication is not enabled"), HasSubstr("drop --etcd-auth"))));
}

TEST_F(EtcdMetaStoreTest, AuthReauthenticatesWhenEtcdForgetsTheToken) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenUrl(auth().Url(EtcdServer::NewPrefix())));
  ASSERT_OK(store->Migrate());
  ASSERT_OK(Put(*store, Param("a", "1")));
  // Simple tokens live in the member's memory: a restart invalidates ours.
  ASSERT_OK(auth().Stop());
  ASSERT_OK(auth().Restart());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Status s = Put(*store, Param("a", "2"));
  while (IsUnavailable(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = Put(*store, Param("a", "2"));
  }
  ASSERT_OK(s);
  ASSERT_OK_AND_ASSIGN(auto rows, CommittedParams(*store));
  EXPECT_THAT(rows, ElementsAre(std::pair<std::string, std::string>{"a", "2"}));
}

}  // namespace
}  // namespace rwmeta::metastore
