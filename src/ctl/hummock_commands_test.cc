// Runs the built risectl binary's `hummock` commands against an in-test RpcServer serving a fake
// HummockManagerService, and checks stdout, stderr, the exit code and what reached the service.
#include "ctl/hummock_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <optional>

#include "common/testing/status_matchers.h"
#include "ctl/ctl_context.h"
#include "ctl/testing/risectl_binary.h"
#include "proto/hummock_service.grpc.pb.h"
#include "rpc/meta_services.h"
#include "rpc/rpc_server.h"
#include "rpc/status_grpc.h"
#include "rpc/testing/fake_meta_backend.h"

namespace rwmeta::ctl {
namespace {

using ::rwmeta::ctl::testing::RunRisectlBinary;
using ::rwmeta::testing::CommandResult;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// 2025-11-24 16:00:00 UTC and 15:59:00 UTC as RisingWave epochs.
constexpr uint64_t kMaxCommittedEpoch = 10127985868800000;
constexpr uint64_t kSafeEpoch = 10127981936640000;

hummock::SstableInfo Sst(uint64_t object_id, uint64_t size, uint64_t keys,
                         std::vector<uint32_t> table_ids, uint64_t min_epoch, uint64_t max_epoch) {
  hummock::SstableInfo sst;
  sst.set_object_id(object_id);
  sst.set_sst_id(object_id);
  sst.set_file_size(size);
  sst.set_total_key_count(keys);
  for (uint32_t id : table_ids) sst.add_table_ids(id);
  sst.set_min_epoch(min_epoch);
  sst.set_max_epoch(max_epoch);
  return sst;
}

// Version 9 of group 2: two L0 sub-levels (9 newest, then 5), one SST in L1, L2..L6 empty;
// tables 1001 and 1002.
hummock::GetCurrentVersionResponse SampleVersion() {
  hummock::GetCurrentVersionResponse response;
  hummock::HummockVersion* v = response.mutable_current_version();
  v->set_id(9);
  v->set_max_committed_epoch(kMaxCommittedEpoch);
  v->set_safe_epoch(kSafeEpoch);
  hummock::CompactionGroup* group = v->add_groups();
  group->set_group_id(2);
  hummock::Level* l0a = group->add_l0_sub_levels();
  l0a->set_level_idx(0);
  l0a->set_sub_level_id(9);
  *l0a->add_table_infos() = Sst(17, 1024, 10, {1001}, 300, 300);
  hummock::Level* l0b = group->add_l0_sub_levels();
  l0b->set_level_idx(0);
  l0b->set_sub_level_id(5);
  *l0b->add_table_infos() = Sst(12, 980, 7, {1001, 1002}, 200, 200);
  for (uint32_t i = 1; i <= 6; ++i) {
    hummock::Level* level = group->add_levels();
    level->set_level_idx(i);
    if (i == 1) *level->add_table_infos() = Sst(3, 4096, 40, {1001, 1002}, 100, 150);
  }
  (*v->mutable_state_table_info())[1002].set_committed_epoch(kMaxCommittedEpoch);
  (*v->mutable_state_table_info())[1002].set_compaction_group_id(2);
  (*v->mutable_state_table_info())[1001].set_committed_epoch(kSafeEpoch);
  (*v->mutable_state_table_info())[1001].set_compaction_group_id(2);
  response.add_stale_object_ids(4);
  response.add_stale_object_ids(8);
  return response;
}

// Answers with what the test put in; records the retention TriggerFullGc received.
class FakeHummockService final : public hummock::HummockManagerService::Service {
 public:
  grpc::Status GetCurrentVersion(grpc::ServerContext* context,
                                 const hummock::GetCurrentVersionRequest*,
                                 hummock::GetCurrentVersionResponse* response) override {
    rpc::MarkServedByMeta(context);
    std::lock_guard lock(mu_);
    if (!fail_.ok()) return rpc::ToGrpcStatus(fail_);
    *response = version_;
    return grpc::Status::OK;
  }
  grpc::Status TriggerFullGc(grpc::ServerContext* context,
                             const hummock::TriggerFullGcRequest* request,
                             hummock::TriggerFullGcResponse* response) override {
    rpc::MarkServedByMeta(context);
    std::lock_guard lock(mu_);
    retention_secs_ = request->sst_retention_time_sec();
    if (!fail_.ok()) return rpc::ToGrpcStatus(fail_);
    *response = gc_;
    return grpc::Status::OK;
  }
  grpc::Status TriggerCompaction(grpc::ServerContext* context,
                                 const hummock::TriggerCompactionRequest*,
                                 hummock::TriggerCompactionResponse* response) override {
    rpc::MarkServedByMeta(context);
    std::lock_guard lock(mu_);
    if (!fail_.ok()) return rpc::ToGrpcStatus(fail_);
    response->set_compactions(2);
    return grpc::Status::OK;
  }

  void Set(hummock::GetCurrentVersionResponse version) {
    std::lock_guard lock(mu_);
    version_ = std::move(version);
  }
  void Set(hummock::TriggerFullGcResponse gc) {
    std::lock_guard lock(mu_);
    gc_ = std::move(gc);
  }
  void FailWith(Status status) {
    std::lock_guard lock(mu_);
    fail_ = std::move(status);
  }
  std::optional<int64_t> retention_secs() {
    std::lock_guard lock(mu_);
    return retention_secs_;
  }

 private:
  std::mutex mu_;
  hummock::GetCurrentVersionResponse version_;
  hummock::TriggerFullGcResponse gc_;
  Status fail_;
  std::optional<int64_t> retention_secs_;
};

class HummockCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.AddService(&hummock_);
    ASSERT_OK(server_.Start("127.0.0.1:0"));
    meta_addr_ = "http://" + server_.address();
  }

  CommandResult Risectl(std::vector<std::string> args) {
    args.insert(args.begin(), "hummock");
    return RunRisectlBinary(args, meta_addr_);
  }

  rpc::testing::FakeMetaBackend backend_;
  FakeHummockService hummock_;
  rpc::RpcServer server_{&backend_};
  std::string meta_addr_;
};

TEST(FormatEpochTest, ShowsTheWallClockTimeTheEpochEncodes) {
  EXPECT_EQ(FormatEpoch(kMaxCommittedEpoch), "10127985868800000 (2025-11-24 16:00:00 UTC)");
  // The low 16 bits are a sequence number, not time.
  EXPECT_EQ(FormatEpoch(kMaxCommittedEpoch + 5), "10127985868800005 (2025-11-24 16:00:00 UTC)");
  EXPECT_EQ(FormatEpoch(0), "0");
}

TEST_F(HummockCommandsTest, ListVersionPrintsLevelsAndTables) {
  hummock_.Set(SampleVersion());
  CommandResult r = Risectl({"list-version"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "Version ID:           9\n"
            "Max committed epoch:  10127985868800000 (2025-11-24 16:00:00 UTC)\n"
            "Safe epoch:           10127981936640000 (2025-11-24 15:59:00 UTC)\n"
            "SSTs:                 3 (6100 bytes)\n"
            "\n"
            "Compaction group 2:\n"
            "Level  Sub-level  SSTs  Size (bytes)\n"
            "L0     9          1     1024\n"
            "L0     5          1     980\n"
            "L1                1     4096\n"
            "L2                0     0\n"
            "L3                0     0\n"
            "L4                0     0\n"
            "L5                0     0\n"
            "L6                0     0\n"
            "\n"
            "Tables:\n"
            "Table ID  Compaction group  Committed epoch\n"
            "1001      2                 10127981936640000 (2025-11-24 15:59:00 UTC)\n"
            "1002      2                 10127985868800000 (2025-11-24 16:00:00 UTC)\n");
}

TEST_F(HummockCommandsTest, ListVersionVerboseAddsEverySst) {
  hummock_.Set(SampleVersion());
  CommandResult r = Risectl({"list-version", "--verbose"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("L6                0     0\n"
                               "\n"
                               "SSTs of compaction group 2:\n"
                               "Level  Sub-level  Object ID  Size (bytes)  Keys  Table IDs  "
                               "Min epoch  Max epoch\n"
                               "L0     9          17         1024          10    1001       "
                               "300        300\n"
                               "L0     5          12         980           7     1001,1002  "
                               "200        200\n"
                               "L1                3          4096          40    1001,1002  "
                               "100        150\n"
                               "\n"
                               "Tables:\n"));
  CommandResult short_flag = Risectl({"list-version", "-v"});
  EXPECT_EQ(short_flag.out, r.out);
}

TEST_F(HummockCommandsTest, ListVersionOfAnEmptyStore) {
  hummock::GetCurrentVersionResponse empty;
  hummock_.Set(empty);
  CommandResult r = Risectl({"list-version", "--verbose"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Version ID:           0\n"
            "Max committed epoch:  0\n"
            "Safe epoch:           0\n"
            "SSTs:                 0 (0 bytes)\n"
            "\n"
            "Tables: none\n");
}

TEST_F(HummockCommandsTest, ListSstsPrintsOneLinePerSstAndTheStaleObjects) {
  hummock_.Set(SampleVersion());
  CommandResult r = Risectl({"list-ssts"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "Version 9: 3 SSTs, 6100 bytes\n"
            "Group  Level  Sub-level  Object ID  Size (bytes)  Keys  Table IDs  Min epoch  "
            "Max epoch\n"
            "2      L0     9          17         1024          10    1001       300        300\n"
            "2      L0     5          12         980           7     1001,1002  200        200\n"
            "2      L1                3          4096          40    1001,1002  100        150\n"
            "Stale objects waiting for vacuum (2): 4, 8\n");
  // RisingWave's name for the same listing.
  CommandResult alias = Risectl({"list-sst-info"});
  EXPECT_EQ(alias.exit_code, 0) << alias.err;
  EXPECT_EQ(alias.out, r.out);
}

TEST_F(HummockCommandsTest, ListSstsOfAnEmptyStore) {
  hummock_.Set(hummock::GetCurrentVersionResponse());
  CommandResult r = Risectl({"list-ssts"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Version 0: 0 SSTs, 0 bytes\n"
            "Stale objects waiting for vacuum: none\n");
}

TEST_F(HummockCommandsTest, TriggerFullGcSendsRetentionAndPrintsTheReport) {
  hummock::TriggerFullGcResponse gc;
  gc.set_listed_sst_count(6);
  gc.set_ignored_key_count(3);
  gc.add_deleted_object_ids(4);
  gc.add_deleted_object_ids(8);
  gc.set_deleted_bytes(8192);
  gc.add_kept_referenced_object_ids(3);
  gc.add_kept_referenced_object_ids(12);
  gc.add_kept_referenced_object_ids(17);
  gc.add_kept_too_young_object_ids(20);
  hummock_.Set(gc);
  CommandResult r = Risectl({"trigger-full-gc", "-s", "3600"});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "Full GC with retention 3600 s: listed 6 SST objects (3 other keys left alone)\n"
            "Deleted 2 objects, 8192 bytes: 4, 8\n"
            "Kept 3 referenced: 3, 12, 17\n"
            "Kept 1 too young: 20\n");
  EXPECT_EQ(hummock_.retention_secs(), 3600);

  hummock_.Set(hummock::TriggerFullGcResponse());
  CommandResult none = Risectl({"trigger-full-gc", "--sst-retention-time-sec", "0"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out,
            "Full GC with retention 0 s: listed 0 SST objects (0 other keys left alone)\n"
            "Deleted 0 objects, 0 bytes\n"
            "Kept 0 referenced\n"
            "Kept 0 too young\n");
  EXPECT_EQ(hummock_.retention_secs(), 0);
}

TEST_F(HummockCommandsTest, TriggerFullGcRetentionIsRequiredAndNotNegative) {
  CommandResult negative = Risectl({"trigger-full-gc", "-s", "-1"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.out, "");
  EXPECT_THAT(negative.err, AllOf(StartsWith("error: --sst-retention-time-sec: Value -1 not in "
                                             "range"),
                                  HasSubstr("Usage:"), HasSubstr("trigger-full-gc")));

  CommandResult missing = Risectl({"trigger-full-gc"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, StartsWith("error: --sst-retention-time-sec is required"));

  CommandResult not_a_number = Risectl({"trigger-full-gc", "-s", "an hour"});
  EXPECT_EQ(not_a_number.exit_code, 2);
  EXPECT_THAT(not_a_number.err, StartsWith("error: "));
  // None of them reached the meta node.
  EXPECT_EQ(hummock_.retention_secs(), std::nullopt);
}

TEST_F(HummockCommandsTest, TriggerCompactionPrintsTheCount) {
  CommandResult r = Risectl({"trigger-compaction"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Compactions committed: 2\n");
}

TEST_F(HummockCommandsTest, ErrorsFromTheNodeExitOneWithTheirMessage) {
  hummock_.FailWith(UnavailableError("full gc: listing the state store: connection refused"));
  CommandResult gc = Risectl({"trigger-full-gc", "-s", "0"});
  EXPECT_EQ(gc.exit_code, 1);
  EXPECT_EQ(gc.out, "");
  EXPECT_EQ(gc.err, "error: full gc: listing the state store: connection refused\n");

  CommandResult list = Risectl({"list-version"});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_EQ(list.err, "error: full gc: listing the state store: connection refused\n");
}

TEST(HummockCommandsNoServiceTest, NodeWithoutTheServiceIsUnimplemented) {
  // A meta node that serves only the meta services (an older node).
  rpc::testing::FakeMetaBackend backend;
  rpc::RpcServer server(&backend);
  ASSERT_OK(server.Start("127.0.0.1:0"));
  CommandResult r = RunRisectlBinary({"hummock", "list-ssts"}, "http://" + server.address());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(StartsWith("error: meta node at 127.0.0.1:"),
                           HasSubstr(" does not serve GetCurrentVersion")));
}

TEST(HummockCommandsNoServiceTest, HelpListsEveryCommand) {
  CommandResult r = RunRisectlBinary({"hummock", "--help"}, std::nullopt);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, AllOf(HasSubstr("list-version"), HasSubstr("list-ssts"),
                           HasSubstr("trigger-full-gc"), HasSubstr("trigger-compaction")));
  CommandResult gc = RunRisectlBinary({"hummock", "trigger-full-gc", "--help"}, std::nullopt);
  EXPECT_EQ(gc.exit_code, 0);
  EXPECT_THAT(gc.out, HasSubstr("-s,--sst-retention-time-sec"));
}

}  // namespace
}  // namespace rwmeta::ctl
