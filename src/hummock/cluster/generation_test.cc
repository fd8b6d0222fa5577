#include "hummock/cluster/generation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"
#include "hummock/cluster/state_store_guard.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class StoppedClock : public Clock {
 public:
  int64_t NowMs() override { return now_ms.load(); }
  void SleepMs(int64_t ms) override { now_ms += ms; }
  // 2026-12-06T01:00:00Z
  std::atomic<int64_t> now_ms{1796518800000};
};

constexpr char kDir[] = "hummock_001";

class GenerationTest : public ::testing::Test {
 protected:
  objstore::MemoryObjectStore store_;
  StoppedClock clock_;
};

TEST_F(GenerationTest, KeyAndRecordRoundTrip) {
  EXPECT_EQ(GenerationKey("hummock_001"), "hummock_001/generation");
  EXPECT_EQ(GenerationKey("a/b/"), "a/b/generation");
  EXPECT_EQ(GenerationKey(""), "generation");
  GenerationRecord r{3, "c-1", 7, 1796518800000};
  std::string bytes = EncodeGeneration(r);
  EXPECT_EQ(bytes,
            "{\"cluster_id\":\"c-1\",\"generation\":3,\"snapshot_id\":7,\"started_at_ms\":"
            "1796518800000}\n");
  ASSERT_OK_AND_ASSIGN(GenerationRecord back, DecodeGeneration(bytes, "g"));
  EXPECT_EQ(back.generation, 3u);
  EXPECT_EQ(back.cluster_id, "c-1");
  EXPECT_EQ(back.snapshot_id, 7u);
  EXPECT_EQ(back.started_at_ms, 1796518800000);
  // Unknown fields are ignored; the optional ones may be missing.
  ASSERT_OK_AND_ASSIGN(back, DecodeGeneration(R"({"generation": 2, "future": [1]})", "g"));
  EXPECT_EQ(back.generation, 2u);
  EXPECT_EQ(back.snapshot_id, 0u);
}

TEST_F(GenerationTest, DecodeRefusesWhatIsNotAGeneration) {
  for (const char* bad : {"", "garbage", "[]", "{}", R"({"generation": 0})",
                          R"({"generation": -1})", R"({"generation": "2"})"}) {
    EXPECT_THAT(DecodeGeneration(bad, "d/generation"),
                StatusIs(StatusCode::kDataLoss, HasSubstr("generation object d/generation")))
        << bad;
  }
}

TEST_F(GenerationTest, DescribeNamesTheRestore) {
  EXPECT_EQ(DescribeGeneration({2, "c", 4, 1796518800000}),
            "generation 2 (the restore of meta snapshot 4 at 2026-12-06T01:00:00Z)");
  EXPECT_EQ(DescribeGeneration({1, "c", 0, 1796518800000}),
            "generation 1 (the first start at 2026-12-06T01:00:00Z)");
}

TEST_F(GenerationTest, FirstStartCreatesGenerationOneThenAgrees) {
  ASSERT_OK_AND_ASSIGN(GenerationRecord r, CheckGeneration(store_, kDir, "c-1", 1, "sqlite:///a.db",
                                                           "fs:///s", clock_));
  EXPECT_EQ(r.generation, 1u);
  ASSERT_OK_AND_ASSIGN(StoredGeneration stored, ReadGeneration(store_, kDir));
  EXPECT_EQ(stored.record.generation, 1u);
  EXPECT_EQ(stored.record.cluster_id, "c-1");
  EXPECT_EQ(stored.record.snapshot_id, 0u);
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "sqlite:///a.db", "fs:///s", clock_).status());
}

TEST_F(GenerationTest, RestoreSupersedesTheOriginalMetaStore) {
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "sqlite:///a.db", "fs:///s", clock_).status());
  clock_.now_ms += 60'000;
  ASSERT_OK_AND_ASSIGN(GenerationRecord raised, RaiseGeneration(store_, kDir, "c-1", 1, clock_));
  EXPECT_EQ(raised.generation, 2u);
  EXPECT_EQ(raised.snapshot_id, 1u);
  // The original meta store (generation 1) is refused, naming both generations and the restore.
  EXPECT_THAT(
      CheckGeneration(store_, kDir, "c-1", 1, "sqlite:///a.db", "fs:///s/hummock_001", clock_),
      StatusIs(StatusCode::kFailedPrecondition,
               "meta store sqlite:///a.db holds generation 1 of cluster c-1, but state store "
               "fs:///s/hummock_001 is at generation 2 (the restore of meta snapshot 1 at "
               "2026-12-06T01:01:00Z): this meta store was superseded by that restore and must "
               "never write to the state store again; start the meta node on the restored meta "
               "store instead"));
  // The restored one (generation 2) starts.
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 2, "sqlite:///r.db", "fs:///s", clock_).status());
  // Restoring again supersedes the first restored store too.
  ASSERT_OK_AND_ASSIGN(raised, RaiseGeneration(store_, kDir, "c-1", 1, clock_));
  EXPECT_EQ(raised.generation, 3u);
  EXPECT_THAT(CheckGeneration(store_, kDir, "c-1", 2, "sqlite:///r.db", "fs:///s", clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("superseded")));
}

TEST_F(GenerationTest, RestoreOfAStoreWithoutGenerationsMakesGenerationTwo) {
  // A state store written before generations has no object: it was generation 1.
  ASSERT_OK_AND_ASSIGN(GenerationRecord raised, RaiseGeneration(store_, kDir, "c-1", 5, clock_));
  EXPECT_EQ(raised.generation, 2u);
  EXPECT_THAT(CheckGeneration(store_, kDir, "c-1", 1, "m", "s", clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("generation 1")));
}

TEST_F(GenerationTest, RolledBackObjectIsRefused) {
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "m", "s", clock_).status());
  EXPECT_THAT(CheckGeneration(store_, kDir, "c-1", 3, "sqlite:///r.db", "fs:///s", clock_),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("holds generation 3"), HasSubstr("rolled back"))));
}

TEST_F(GenerationTest, LostObjectIsWrittenAgainAtTheMetaStoresGeneration) {
  ASSERT_OK_AND_ASSIGN(GenerationRecord r,
                       CheckGeneration(store_, kDir, "c-1", 4, "m", "s", clock_));
  EXPECT_EQ(r.generation, 4u);
  EXPECT_THAT(CheckGeneration(store_, kDir, "c-1", 3, "m", "s", clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("superseded")));
}

TEST_F(GenerationTest, RaiseRefusesAnotherClustersObject) {
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "m", "s", clock_).status());
  EXPECT_THAT(RaiseGeneration(store_, kDir, "c-2", 1, clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("belongs to cluster c-1")));
}

TEST_F(GenerationTest, ConcurrentRaisesFromOneGenerationHaveOneWinner) {
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "m", "s", clock_).status());
  // Both read generation 1 before either writes: the second write's etag no longer matches.
  objstore::MemoryObjectStore& store = store_;
  ASSERT_OK_AND_ASSIGN(StoredGeneration seen, ReadGeneration(store, kDir));
  ASSERT_OK_AND_ASSIGN(GenerationRecord first, RaiseGeneration(store, kDir, "c-1", 1, clock_));
  EXPECT_EQ(first.generation, 2u);
  GenerationRecord stale = seen.record;
  stale.generation = 2;
  EXPECT_THAT(store.Put(GenerationKey(kDir), EncodeGeneration(stale),
                        {.if_none_match = false, .if_match_etag = seen.etag}),
              StatusIs(StatusCode::kAborted));
  // Many restores at once: every one that returned OK raised to a distinct generation, and the
  // object ends at the highest.
  constexpr int kRestores = 8;
  std::vector<std::thread> threads;
  std::atomic<int> won{0}, lost{0};
  std::vector<uint64_t> generations(kRestores, 0);
  for (int i = 0; i < kRestores; ++i) {
    threads.emplace_back([&, i] {
      auto r = RaiseGeneration(store, kDir, "c-1", 9, clock_);
      if (r.ok()) {
        ++won;
        generations[i] = r->generation;
      } else {
        EXPECT_THAT(r.status(), StatusIs(StatusCode::kAborted, HasSubstr("at the same time")));
        ++lost;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won + lost, kRestores);
  EXPECT_GE(won, 1);
  std::set<uint64_t> distinct;
  uint64_t highest = 0;
  for (uint64_t g : generations) {
    if (g == 0) continue;
    EXPECT_TRUE(distinct.insert(g).second) << "two restores won generation " << g;
    highest = std::max(highest, g);
  }
  ASSERT_OK_AND_ASSIGN(StoredGeneration now, ReadGeneration(store, kDir));
  EXPECT_EQ(now.record.generation, highest);
}

TEST_F(GenerationTest, StoreErrorsPassThroughAndWriteNothing) {
  objstore::FaultInjectionObjectStore faulty(std::make_unique<objstore::MemoryObjectStore>());
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kHead, .status = UnavailableError("down")});
  EXPECT_THAT(RaiseGeneration(faulty, kDir, "c-1", 1, clock_),
              StatusIs(StatusCode::kUnavailable, HasSubstr("down")));
  EXPECT_THAT(ReadGeneration(faulty, kDir), StatusIs(StatusCode::kNotFound));
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kPut, .status = UnavailableError("down")});
  EXPECT_THAT(CheckGeneration(faulty, kDir, "c-1", 1, "m", "s", clock_),
              StatusIs(StatusCode::kUnavailable, HasSubstr("down")));
  EXPECT_THAT(ReadGeneration(faulty, kDir), StatusIs(StatusCode::kNotFound));
}

// The lease renewal re-reads the generation: a restore that supersedes a running node fences it.
TEST_F(GenerationTest, RenewalFencesASupersededNode) {
  ASSERT_OK(CheckGeneration(store_, kDir, "c-1", 1, "sqlite:///a.db", "fs:///s", clock_).status());
  StateStoreGuardOptions o;
  o.ttl_ms = 6000;
  o.clock = &clock_;
  o.renew_in_background = false;
  o.generation = 1;
  o.meta_store_display = "sqlite:///a.db";
  o.state_store_display = "fs:///s/hummock_001";
  ASSERT_OK_AND_ASSIGN(auto guard, StateStoreGuard::Acquire(store_, kDir, o));
  EXPECT_OK(guard->CheckWritable());
  ASSERT_OK(guard->RenewOnce());
  // A paused node: a TTL without a renewal means another node may have taken over.
  clock_.now_ms += 6000;
  EXPECT_THAT(guard->CheckWritable(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("last confirmed 6000 ms ago")));
  ASSERT_OK(guard->RenewOnce());
  EXPECT_OK(guard->CheckWritable());
  // A restore raises the generation (a meta lease it does not touch).
  ASSERT_OK(RaiseGeneration(store_, kDir, "c-1", 1, clock_).status());
  EXPECT_THAT(guard->RenewOnce(), StatusIs(StatusCode::kAborted, HasSubstr("superseded")));
  EXPECT_TRUE(guard->lost());
  EXPECT_THAT(guard->CheckWritable(),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("holds generation 1"), HasSubstr("generation 2"),
                             HasSubstr("no longer writes to or deletes from the state store"))));
  EXPECT_THAT(guard->lost_reason(), HasSubstr("superseded"));
}

}  // namespace
}  // namespace rwmeta::hummock
