// Table data end to end inside one process: SQL sessions over the state store, with compaction,
// vacuum, full GC and restarts, checked against a model.
#include "frontend/table_data.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "common/testing/status_matchers.h"
#include "frontend/session.h"
#include "frontend/testing/session_test_util.h"
#include "hummock/gc/object_protection.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/store/maintenance.h"
#include "hummock/version/version.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::frontend {
namespace {

using ::rwmeta::testing::StatusIs;
using test_util::Rows;
using ::testing::HasSubstr;

class TableDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(test_util::BootstrapForTest(meta_));
    Start();
  }

  // (Re)creates everything above the two stores, as a restart of the meta node does.
  void Start() {
    session_.reset();
    factory_.reset();
    maintenance_.reset();
    data_.reset();
    store_.reset();
    hummock_.reset();
    ASSERT_OK_AND_ASSIGN(test_util::Managers managers, test_util::OpenManagers(meta_));
    catalog_ = std::move(managers.catalog);
    params_ = std::move(managers.params);
    ASSERT_OK_AND_ASSIGN(hummock_, hummock::HummockManager::Open(meta_, objects_,
                                                                 {.data_directory = "hummock_001",
                                                                  .checkpoint_every_deltas = 5}));
    store_ = std::make_unique<hummock::StateStore>(
        *hummock_, hummock::StateStoreOptions{.target_sst_bytes = 2048, .block_size_bytes = 256});
    data_ = std::make_unique<TableData>(*store_, *catalog_);
    ASSERT_OK(data_->Reconcile());
    hummock::MaintenanceOptions m;
    m.interval = std::chrono::hours(1);  // rounds run when the test says
    m.full_gc_interval = std::chrono::hours(1);
    m.compaction.l0_sub_level_trigger = 3;
    m.compaction.target_file_size_bytes = 4096;
    m.compaction.base_level_size_bytes = 16384;
    m.compaction.level_multiplier = 4;
    m.compaction.output_sst_options.block_size_bytes = 256;
    maintenance_ = std::make_unique<hummock::HummockMaintenance>(*hummock_, m);
    factory_ = std::make_unique<FrontendSessionFactory>(*catalog_, *params_, data_.get());
    ASSERT_OK_AND_ASSIGN(session_, factory_->OpenSession("root", "dev", {}));
  }

  Result<pgwire::ResultSet> Run(std::string_view sql) { return test_util::RunOne(*session_, sql); }
  Rows Query(std::string_view sql) { return test_util::ExpectRows(*session_, sql); }

  void Exec(std::string_view sql) { ASSERT_OK(Run(sql).status()) << sql; }

  metastore::MemoryMetaStore meta_;
  objstore::MemoryObjectStore objects_;
  std::unique_ptr<meta::CatalogManager> catalog_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<hummock::HummockManager> hummock_;
  std::unique_ptr<hummock::StateStore> store_;
  std::unique_ptr<TableData> data_;
  std::unique_ptr<hummock::HummockMaintenance> maintenance_;
  std::unique_ptr<FrontendSessionFactory> factory_;
  std::unique_ptr<pgwire::Session> session_;
};

// The model: k -> (v, n).
using Model = std::map<int, std::pair<std::string, int64_t>>;

Rows ModelRows(const Model& m) {
  Rows out;
  for (const auto& [k, vn] : m)
    out.push_back({std::to_string(k), vn.first, std::to_string(vn.second)});
  return out;
}

TEST_F(TableDataTest, RandomizedWorkloadWithCompactionVacuumGcAndRestartsMatchesModel) {
  Exec("CREATE TABLE kv (k int PRIMARY KEY, v varchar, n bigint)");
  Exec("CREATE TABLE scratch (x int)");
  Exec("CREATE MATERIALIZED VIEW kv_stats AS SELECT count(*) AS c, sum(n) AS s FROM kv");
  Model model;
  std::mt19937 rng(20261125);
  auto rand = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int compactions = 0, flushes = 0;
  uint64_t max_ssts_seen = 0;
  for (int step = 0; step < 60; ++step) {
    int op = rand(0, 9);
    if (op <= 4) {
      // Insert (overwrite on conflict) a batch.
      std::string values;
      for (int i = 0, n = rand(1, 20); i < n; ++i) {
        int k = rand(0, 199);
        int64_t n_val = rand(-1000, 1000);
        std::string v = fmt::format("v{}_{}", step, i);
        values += fmt::format("{}({}, '{}', {})", values.empty() ? "" : ", ", k, v, n_val);
        model[k] = {v, n_val};
      }
      Exec("INSERT INTO kv VALUES " + values);
    } else if (op <= 6) {
      int lo = rand(0, 199), hi = lo + rand(0, 30);
      int delta = rand(-5, 5);
      Exec(fmt::format("UPDATE kv SET n = n + {}, v = v || 'u' WHERE k BETWEEN {} AND {}", delta,
                       lo, hi));
      for (auto& [k, vn] : model) {
        if (k >= lo && k <= hi) {
          vn.second += delta;
          vn.first += "u";
        }
      }
    } else {
      int lo = rand(0, 199), hi = lo + rand(0, 15);
      Exec(fmt::format("DELETE FROM kv WHERE k >= {} AND k <= {}", lo, hi));
      for (auto it = model.lower_bound(lo); it != model.end() && it->first <= hi;) {
        it = model.erase(it);
      }
    }
    Exec("INSERT INTO scratch VALUES (1)");
    if (rand(0, 2) == 0) continue;  // several statements per epoch
    Exec("FLUSH");
    ++flushes;
    max_ssts_seen = std::max(max_ssts_seen, hummock::SstCount(*hummock_->current()));
    if (rand(0, 1) == 0) {
      ASSERT_OK_AND_ASSIGN(int n, maintenance_->RunRoundNow());
      compactions += n;
    }
    if (step % 17 == 16) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ASSERT_OK(maintenance_->TriggerFullGc(std::chrono::milliseconds(0)).status());
    }
    if (step % 23 == 22) Start();  // a restart: version rebuilt from checkpoint + deltas
    ASSERT_EQ(Query("SELECT k, v, n FROM kv ORDER BY k"), ModelRows(model)) << "step " << step;
    int64_t sum = 0;
    for (const auto& [k, vn] : model) sum += vn.second;
    ASSERT_EQ(Query("SELECT c, s FROM kv_stats"),
              (Rows{{std::to_string(model.size()), model.empty() ? "NULL" : std::to_string(sum)}}))
        << "step " << step;
  }
  Exec("FLUSH");
  // An orphan (an upload whose commit never happened) and an object a meta snapshot protects.
  ASSERT_OK(objects_.Put(hummock::SstObjectKey("hummock_001", 999999), "orphan", {}));
  ASSERT_OK(objects_.Put(hummock::SstObjectKey("hummock_001", 999998), "protected", {}));
  hummock::InMemoryObjectProtectionSet protection;
  protection.Protect(1, {999998});
  hummock_->SetProtectionSet(&protection);
  // Everything compacted that is triggered; then no garbage may remain.
  ASSERT_OK_AND_ASSIGN(int n, maintenance_->RunRoundNow());
  compactions += n;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_OK_AND_ASSIGN(hummock::FullGcReport gc,
                       maintenance_->TriggerFullGc(std::chrono::milliseconds(0)));
  EXPECT_THAT(gc.deleted_object_ids, ::testing::Contains(999999u));
  EXPECT_THAT(gc.kept_referenced, ::testing::Contains(999998u));
  hummock_->SetProtectionSet(nullptr);
  ASSERT_OK(objects_.Delete(hummock::SstObjectKey("hummock_001", 999998)));
  EXPECT_GT(flushes, 20);
  EXPECT_GT(compactions, 3);
  EXPECT_THAT(hummock_->StaleObjectIds(), ::testing::IsEmpty());
  // Every SST object left in the store is one the version references.
  ASSERT_OK_AND_ASSIGN(auto listed, objects_.List("hummock_001/"));
  std::vector<uint64_t> stored;
  for (const auto& o : listed) {
    if (auto id = hummock::ParseSstObjectKey("hummock_001", o.key)) stored.push_back(*id);
  }
  EXPECT_EQ(stored, hummock::ObjectIds(*hummock_->current()));
  EXPECT_LT(hummock::SstCount(*hummock_->current()), max_ssts_seen + 1);
  EXPECT_EQ(Query("SELECT k, v, n FROM kv ORDER BY k"), ModelRows(model));
  EXPECT_EQ(Query("SELECT count(*) FROM scratch"), (Rows{{"60"}}));
}

TEST_F(TableDataTest, DroppedTableDataLeavesTheStoreAtCompaction) {
  Exec("CREATE TABLE keep (a int PRIMARY KEY)");
  Exec("CREATE TABLE gone (a int PRIMARY KEY)");
  uint32_t gone_id = 0;
  for (const auto& t : catalog_->Snapshot()->tables) {
    if (t.name == "gone") gone_id = static_cast<uint32_t>(t.id);
  }
  ASSERT_NE(gone_id, 0u);
  for (int i = 0; i < 4; ++i) {
    Exec(fmt::format("INSERT INTO keep VALUES ({})", i));
    Exec(fmt::format("INSERT INTO gone VALUES ({})", i));
    Exec("FLUSH");
  }
  Exec("DROP TABLE gone");
  ASSERT_OK_AND_ASSIGN(int n, maintenance_->RunRoundNow());
  EXPECT_GE(n, 1);
  for (const auto& group : hummock_->current()->groups()) {
    for (const auto& level : group.levels()) {
      for (const auto& sst : level.table_infos()) {
        EXPECT_THAT(sst.table_ids(), ::testing::Not(::testing::Contains(gone_id)));
      }
    }
  }
  EXPECT_EQ(Query("SELECT count(*) FROM keep"), (Rows{{"4"}}));
}

TEST_F(TableDataTest, CorruptOrMissingSstIsAClearErrorNamingTheObject) {
  Exec("CREATE TABLE t (a int PRIMARY KEY, b varchar)");
  Exec("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 200) AS g");
  Exec("FLUSH");
  std::vector<uint64_t> ids = hummock::ObjectIds(*hummock_->current());
  ASSERT_FALSE(ids.empty());
  std::string key = hummock::SstObjectKey("hummock_001", ids.front());
  ASSERT_OK_AND_ASSIGN(std::string bytes, objects_.Get(key));
  bytes[bytes.size() / 3] ^= 0x40;  // inside a data block
  ASSERT_OK(objects_.Put(key, bytes, {}));
  Start();  // no cached readers
  auto r = Run("SELECT count(*) FROM t");
  EXPECT_THAT(r,
              StatusIs(StatusCode::kDataLoss, HasSubstr(fmt::format("sst {}.data", ids.front()))));
  EXPECT_THAT(r.status().message(), HasSubstr("\"t\""));
  ASSERT_OK(objects_.Delete(key));
  Start();
  EXPECT_THAT(Run("SELECT count(*) FROM t"),
              StatusIs(StatusCode::kNotFound, HasSubstr(fmt::format("{}.data", ids.front()))));
}

}  // namespace
}  // namespace rwmeta::frontend
