#include "hummock/cluster/state_store_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

#include "common/testing/fake_clock.h"
#include "common/testing/status_matchers.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::FakeClock;
using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

class StateStoreGuardTest : public ::testing::Test {
 protected:
  StateStoreGuardOptions Options(std::string holder) {
    StateStoreGuardOptions o;
    o.ttl_ms = 6000;
    o.clock = &clock_;
    o.renew_in_background = false;
    o.holder_id = std::move(holder);
    return o;
  }
  objstore::MemoryObjectStore store_;
  FakeClock clock_;
};

TEST_F(StateStoreGuardTest, ClusterIdWrittenOnceThenChecked) {
  ASSERT_OK(CheckStateStoreClusterId(store_, "fs:///s", "hummock_001", "c-1"));
  ASSERT_OK_AND_ASSIGN(auto text, store_.Get("hummock_001/cluster_id"));
  EXPECT_EQ(text, "c-1\n");
  EXPECT_OK(CheckStateStoreClusterId(store_, "fs:///s", "hummock_001", "c-1"));
  EXPECT_THAT(CheckStateStoreClusterId(store_, "fs:///s", "hummock_001", "c-2"),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("state store fs:///s/hummock_001 belongs to cluster c-1, not c-2: "
                                 "never run two clusters on the same SSTs")));
  // Another directory in the same store is another cluster's business.
  EXPECT_OK(CheckStateStoreClusterId(store_, "fs:///s", "hummock_002", "c-2"));
}

TEST_F(StateStoreGuardTest, ConcurrentFirstStartsAgreeOnOneClusterId) {
  std::vector<Status> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      results[i] = CheckStateStoreClusterId(store_, "memory", "d", "c-" + std::to_string(i));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const auto& r : results) {
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_THAT(r, StatusIs(StatusCode::kFailedPrecondition));
    }
  }
  EXPECT_EQ(ok, 1);
}

TEST_F(StateStoreGuardTest, AbsentLeaseIsCreatedAndReleaseDeletesIt) {
  ASSERT_OK_AND_ASSIGN(auto guard, StateStoreGuard::Acquire(store_, "d", Options("a")));
  ASSERT_OK_AND_ASSIGN(auto text, store_.Get("d/meta_lease"));
  EXPECT_THAT(text, HasSubstr("\"holder_id\":\"a\""));
  EXPECT_THAT(text, HasSubstr("\"expires_at_ms\":1006000"));
  EXPECT_EQ(clock_.sleeps, 0);
  ASSERT_OK(guard->Release());
  EXPECT_THAT(store_.Head("d/meta_lease"), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(guard->Release());  // idempotent
  // Released: the next node gets it at once.
  ASSERT_OK_AND_ASSIGN(auto next, StateStoreGuard::Acquire(store_, "d", Options("b")));
  EXPECT_EQ(clock_.sleeps, 0);
}

TEST_F(StateStoreGuardTest, ConcurrentAcquirersOnlyOneWins) {
  std::vector<Result<std::unique_ptr<StateStoreGuard>>> results;
  for (int i = 0; i < 6; ++i) results.emplace_back(InternalError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      results[i] = StateStoreGuard::Acquire(store_, "d", Options("h" + std::to_string(i)));
    });
  }
  for (auto& t : threads) t.join();
  // Late starters may wait out a winner that (here) never renews and take over from it; whatever
  // the interleaving, exactly one guard still holds the lease and the others know they lost it.
  int held = 0;
  for (auto& r : results) {
    if (!r.ok()) {
      // Lost a race (Aborted) or saw another acquirer write the lease while waiting.
      EXPECT_THAT(r.status(), ::testing::AnyOf(StatusIs(StatusCode::kAborted),
                                               StatusIs(StatusCode::kFailedPrecondition)));
      continue;
    }
    Status renewed = (*r)->RenewOnce();
    if (renewed.ok()) {
      ++held;
      EXPECT_FALSE((*r)->lost());
    } else {
      EXPECT_THAT(renewed, StatusIs(StatusCode::kAborted));
      EXPECT_TRUE((*r)->lost());
    }
  }
  EXPECT_EQ(held, 1);
}

TEST_F(StateStoreGuardTest, SecondAcquirerLosesTheCreateRace) {
  // Simulates the race deterministically: the lease appears between our Head and our Put.
  class RacingStore : public objstore::MemoryObjectStore {
   public:
    Status Put(std::string_view key, std::string_view data,
               const objstore::PutOptions& options) override {
      if (options.if_none_match && !raced_) {
        raced_ = true;
        RWMETA_RETURN_IF_ERROR(MemoryObjectStore::Put(key, "{\"holder_id\":\"other\"}"));
      }
      return MemoryObjectStore::Put(key, data, options);
    }
    bool raced_ = false;
  };
  RacingStore store;
  EXPECT_THAT(StateStoreGuard::Acquire(store, "d", Options("a")).status(),
              StatusIs(StatusCode::kAborted, HasSubstr("at the same time")));
}

TEST_F(StateStoreGuardTest, RefusedWhileTheHolderKeepsRenewing) {
  ASSERT_OK_AND_ASSIGN(auto holder, StateStoreGuard::Acquire(store_, "d", Options("a")));
  int sleeps = 0;
  clock_.on_sleep = [&] {
    if (++sleeps % 3 == 0) {
      ASSERT_OK(holder->RenewOnce());
    }
  };
  auto second = StateStoreGuard::Acquire(store_, "d", Options("b"));
  EXPECT_THAT(second.status(), StatusIs(StatusCode::kFailedPrecondition,
                                        HasSubstr("state store is in use by another meta node (")));
  EXPECT_THAT(second.status().message(), HasSubstr("pass --force-state-store-lease"));
  EXPECT_EQ(sleeps, 3);
  EXPECT_FALSE(holder->lost());
  EXPECT_OK(holder->RenewOnce());
}

TEST_F(StateStoreGuardTest, DeadHolderIsTakenOverAfterItsTtlAndLosesIt) {
  ASSERT_OK_AND_ASSIGN(auto dead, StateStoreGuard::Acquire(store_, "d", Options("a")));
  const int64_t start = clock_.NowMs();
  ASSERT_OK_AND_ASSIGN(auto next, StateStoreGuard::Acquire(store_, "d", Options("b")));
  // Waited a full TTL on its own clock (polling every ttl/10), no more.
  EXPECT_EQ(clock_.NowMs() - start, 6000);
  EXPECT_EQ(clock_.sleeps, 10);
  ASSERT_OK_AND_ASSIGN(auto text, store_.Get("d/meta_lease"));
  EXPECT_THAT(text, HasSubstr("\"holder_id\":\"b\""));
  // The old holder wakes up: it learns it lost, and never crashes nor deletes the new lease.
  EXPECT_THAT(dead->RenewOnce(), StatusIs(StatusCode::kAborted, HasSubstr("was lost")));
  EXPECT_TRUE(dead->lost());
  EXPECT_THAT(dead->RenewOnce(), StatusIs(StatusCode::kAborted));
  EXPECT_OK(dead->Release());
  ASSERT_OK_AND_ASSIGN(auto after, store_.Get("d/meta_lease"));
  EXPECT_THAT(after, HasSubstr("\"holder_id\":\"b\""));
  EXPECT_OK(next->RenewOnce());
  EXPECT_FALSE(next->lost());
}

TEST_F(StateStoreGuardTest, LongExpiredLeaseIsTakenAtOnce) {
  ASSERT_OK_AND_ASSIGN(auto dead, StateStoreGuard::Acquire(store_, "d", Options("a")));
  clock_.now_ms += 2 * 6000 + 1;
  ASSERT_OK_AND_ASSIGN(auto next, StateStoreGuard::Acquire(store_, "d", Options("b")));
  EXPECT_EQ(clock_.sleeps, 0);
  EXPECT_TRUE(dead->RenewOnce().code() == StatusCode::kAborted);
}

TEST_F(StateStoreGuardTest, ForceTakesOverALiveLeaseAtOnce) {
  ASSERT_OK_AND_ASSIGN(auto live, StateStoreGuard::Acquire(store_, "d", Options("a")));
  auto options = Options("b");
  options.force = true;
  ASSERT_OK_AND_ASSIGN(auto forced, StateStoreGuard::Acquire(store_, "d", options));
  EXPECT_EQ(clock_.sleeps, 0);
  EXPECT_THAT(live->RenewOnce(), StatusIs(StatusCode::kAborted));
  EXPECT_TRUE(live->lost());
  EXPECT_OK(forced->RenewOnce());
}

TEST_F(StateStoreGuardTest, LeaseReleasedWhileWaitingIsCreated) {
  ASSERT_OK_AND_ASSIGN(auto holder, StateStoreGuard::Acquire(store_, "d", Options("a")));
  clock_.on_sleep = [&] { ASSERT_OK(holder->Release()); };
  ASSERT_OK_AND_ASSIGN(auto next, StateStoreGuard::Acquire(store_, "d", Options("b")));
  EXPECT_EQ(clock_.sleeps, 1);
  ASSERT_OK_AND_ASSIGN(auto text, store_.Get("d/meta_lease"));
  EXPECT_THAT(text, HasSubstr("\"holder_id\":\"b\""));
}

TEST_F(StateStoreGuardTest, DeletedLeaseCountsAsLost) {
  ASSERT_OK_AND_ASSIGN(auto holder, StateStoreGuard::Acquire(store_, "d", Options("a")));
  ASSERT_OK(store_.Delete("d/meta_lease"));
  EXPECT_THAT(holder->RenewOnce(), StatusIs(StatusCode::kAborted));
  EXPECT_TRUE(holder->lost());
}

TEST_F(StateStoreGuardTest, BackgroundThreadRenewsOnTheRealClock) {
  StateStoreGuardOptions o;
  o.ttl_ms = 30;  // renews every 10 ms of real time
  o.holder_id = "bg";
  ASSERT_OK_AND_ASSIGN(auto guard, StateStoreGuard::Acquire(store_, "d", o));
  ASSERT_OK_AND_ASSIGN(auto first, store_.Head("d/meta_lease"));
  // Poll (bounded) until the etag changes.
  bool changed = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       std::chrono::steady_clock::now() < deadline;) {
    auto now = store_.Head("d/meta_lease");
    if (now.ok() && now->etag != first.etag) {
      changed = true;
      break;
    }
    std::this_thread::yield();
  }
  EXPECT_TRUE(changed);
  ASSERT_OK(guard->Release());
  EXPECT_THAT(store_.Head("d/meta_lease"), StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(guard->lost());
}

}  // namespace
}  // namespace rwmeta::hummock
