// HummockServiceImpl over a real HummockManager and HummockMaintenance (memory meta store and
// object store), called through gRPC as risectl calls it.
#include "server/hummock_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/testing/status_matchers.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/version.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/memory/memory_object_store.h"
#include "rpc/meta_client.h"
#include "server/testing/served_meta_node.h"

namespace rwmeta::server {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using testing::kDataDirectory;
using testing::kTableId;
using Stub = hummock::HummockManagerService::Stub;

class HummockServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(meta_.Migrate());
    ASSERT_OK_AND_ASSIGN(
        manager_, hummock::HummockManager::Open(meta_, objects_,
                                                {.data_directory = std::string(kDataDirectory)}));
    hummock::MaintenanceOptions options;
    // Only the RPCs compact and collect here, so every outcome below is theirs.
    options.interval = std::chrono::hours(1);
    options.full_gc_interval = std::chrono::hours(1);
    maintenance_ = std::make_unique<hummock::HummockMaintenance>(*manager_, options);
    backend_ = std::make_unique<HummockManagerBackend>(*manager_, *maintenance_);
    service_ = std::make_unique<HummockServiceImpl>(*backend_);
    ASSERT_OK(served_.Start({service_.get()}));
    ASSERT_OK_AND_ASSIGN(client_, served_.Connect<hummock::HummockManagerService>());
  }

  uint64_t CommitRows(int rows) {
    Result<uint64_t> id = testing::CommitRows(*manager_, objects_, rows);
    EXPECT_OK(id);
    return id.ok() ? *id : 0;
  }

  Result<hummock::GetCurrentVersionResponse> GetCurrentVersion() {
    return client_->Call("GetCurrentVersion", &Stub::GetCurrentVersion, {});
  }
  Result<hummock::TriggerFullGcResponse> TriggerFullGc(int64_t secs) {
    hummock::TriggerFullGcRequest request;
    request.set_sst_retention_time_sec(secs);
    return client_->Call("TriggerFullGc", &Stub::TriggerFullGc, request);
  }
  Result<uint32_t> TriggerCompaction() {
    RWMETA_ASSIGN_OR_RETURN(hummock::TriggerCompactionResponse response,
                            client_->Call("TriggerCompaction", &Stub::TriggerCompaction, {}));
    return response.compactions();
  }

  metastore::MemoryMetaStore meta_;
  objstore::MemoryObjectStore objects_;
  std::unique_ptr<hummock::HummockManager> manager_;
  std::unique_ptr<hummock::HummockMaintenance> maintenance_;
  std::unique_ptr<HummockManagerBackend> backend_;
  std::unique_ptr<HummockServiceImpl> service_;
  // Declared after the service and the managers: stops serving before they go.
  testing::ServedServices served_;
  std::optional<rpc::ServiceClient<hummock::HummockManagerService>> client_;
};

TEST_F(HummockServiceTest, GetCurrentVersionReturnsTheManagersVersion) {
  const uint64_t first = CommitRows(3);
  const uint64_t second = CommitRows(5);
  ASSERT_OK_AND_ASSIGN(hummock::GetCurrentVersionResponse response, GetCurrentVersion());
  const hummock::HummockVersion& version = response.current_version();
  EXPECT_EQ(version.id(), manager_->current()->id());
  EXPECT_EQ(version.max_committed_epoch(), manager_->current()->max_committed_epoch());
  EXPECT_THAT(hummock::ObjectIds(version), ElementsAre(first, second));
  ASSERT_EQ(version.groups_size(), 1);
  // Newest sub-level first.
  ASSERT_EQ(version.groups(0).l0_sub_levels_size(), 2);
  EXPECT_EQ(version.groups(0).l0_sub_levels(0).table_infos(0).object_id(), second);
  EXPECT_EQ(version.groups(0).l0_sub_levels(0).table_infos(0).total_key_count(), 5u);
  EXPECT_EQ(version.state_table_info().at(kTableId).committed_epoch(),
            version.max_committed_epoch());
  EXPECT_THAT(response.stale_object_ids(), IsEmpty());
}

TEST_F(HummockServiceTest, TriggerCompactionMovesL0IntoL1) {
  std::vector<uint64_t> inputs;
  for (int i = 0; i < 4; ++i) inputs.push_back(CommitRows(2 + i));
  ASSERT_OK_AND_ASSIGN(uint32_t compactions, TriggerCompaction());
  EXPECT_GE(compactions, 1u);
  ASSERT_OK_AND_ASSIGN(hummock::GetCurrentVersionResponse response, GetCurrentVersion());
  const hummock::CompactionGroup& group = response.current_version().groups(0);
  EXPECT_THAT(group.l0_sub_levels(), IsEmpty());
  ASSERT_GE(group.levels(0).table_infos_size(), 1);
  uint64_t keys = 0;
  for (const auto& sst : group.levels(0).table_infos()) keys += sst.total_key_count();
  // The commits wrote key1000..key1001, ..1002, ..1003, ..1004: only the newest version of each
  // of the five keys is kept (the safe epoch follows the max committed epoch).
  EXPECT_EQ(keys, 5u);
  // The round vacuumed the inputs.
  EXPECT_THAT(response.stale_object_ids(), IsEmpty());
  for (uint64_t id : inputs) {
    EXPECT_THAT(objects_.Head(hummock::SstObjectKey(kDataDirectory, id)).status(),
                StatusIs(StatusCode::kNotFound));
  }
  // Nothing crosses a trigger any more.
  ASSERT_OK_AND_ASSIGN(uint32_t again, TriggerCompaction());
  EXPECT_EQ(again, 0u);
}

TEST_F(HummockServiceTest, TriggerFullGcDeletesAnOldOrphanAndKeepsTheVersionsObjects) {
  const uint64_t live = CommitRows(3);
  const std::string orphan_key = hummock::SstObjectKey(kDataDirectory, 999);
  ASSERT_OK(objects_.Put(orphan_key, std::string(123, 'x')));
  ASSERT_OK_AND_ASSIGN(objstore::ObjectMeta orphan, objects_.Head(orphan_key));
  // Retention 0 deletes objects strictly older than now: wait (bounded) for the clock to move on.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (UnixNowMs() <= orphan.last_modified_ms && std::chrono::steady_clock::now() < deadline) {
  }

  ASSERT_OK_AND_ASSIGN(hummock::TriggerFullGcResponse report, TriggerFullGc(0));
  EXPECT_EQ(report.listed_sst_count(), 2u);
  EXPECT_THAT(report.deleted_object_ids(), ElementsAre(999u));
  EXPECT_EQ(report.deleted_bytes(), 123u);
  EXPECT_THAT(report.kept_referenced_object_ids(), ElementsAre(live));
  EXPECT_THAT(report.kept_too_young_object_ids(), IsEmpty());
  EXPECT_THAT(objects_.Head(orphan_key).status(), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(objects_.Head(hummock::SstObjectKey(kDataDirectory, live)).status());
}

TEST_F(HummockServiceTest, TriggerFullGcKeepsObjectsYoungerThanTheRetention) {
  ASSERT_OK(objects_.Put(hummock::SstObjectKey(kDataDirectory, 999), "orphan"));
  ASSERT_OK_AND_ASSIGN(hummock::TriggerFullGcResponse report, TriggerFullGc(3600));
  EXPECT_THAT(report.deleted_object_ids(), IsEmpty());
  EXPECT_THAT(report.kept_too_young_object_ids(), ElementsAre(999u));
  EXPECT_OK(objects_.Head(hummock::SstObjectKey(kDataDirectory, 999)).status());
}

TEST_F(HummockServiceTest, TriggerFullGcRefusesABadRetentionBeforeAnyWork) {
  for (int i = 0; i < 4; ++i) CommitRows(1);
  EXPECT_THAT(TriggerFullGc(-1).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("sst retention time must be at least 0 seconds, got -1")));
  EXPECT_THAT(TriggerFullGc(std::numeric_limits<int64_t>::max()).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is too large")));
  // No compaction ran: the four sub-levels are still there.
  EXPECT_EQ(manager_->current()->groups(0).l0_sub_levels_size(), 4);
}

}  // namespace
}  // namespace rwmeta::server
