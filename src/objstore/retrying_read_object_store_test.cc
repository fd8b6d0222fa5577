#include "objstore/retrying_read_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "common/testing/status_matchers.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::objstore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

class RetryingReadObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto faulty =
        std::make_shared<FaultInjectionObjectStore>(std::make_unique<MemoryObjectStore>());
    faulty_ = faulty.get();
    ASSERT_OK(faulty_->Put("backup/manifest.json", "{}"));
    store_ = std::make_unique<RetryingReadObjectStore>(
        faulty,
        ReadRetryOptions{.attempt_timeout_ms = 5000, .retry_attempts = 3, .initial_backoff_ms = 1});
  }
  FaultInjectionObjectStore* faulty_ = nullptr;
  std::unique_ptr<RetryingReadObjectStore> store_;
};

TEST_F(RetryingReadObjectStoreTest, UnavailableReadsAreRetriedUpToTheLimit) {
  faulty_->InjectFault({.op = ObjectStoreOp::kGet, .nth = 1});
  faulty_->InjectFault({.op = ObjectStoreOp::kGet, .nth = 2});
  auto got = store_->Get("backup/manifest.json");
  ASSERT_OK(got.status());
  EXPECT_EQ(*got, "{}");
  EXPECT_EQ(store_->attempts(), 3);

  faulty_->InjectFault({.op = ObjectStoreOp::kGet,
                        .sticky = true,
                        .status = UnavailableError("connection refused")});
  EXPECT_THAT(store_->Get("backup/manifest.json").status(),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("get backup/manifest.json failed after 4 attempts")));
  EXPECT_EQ(store_->attempts(), 3 + 4);
}

TEST_F(RetryingReadObjectStoreTest, OtherErrorsReturnAtOnce) {
  EXPECT_THAT(store_->Get("backup/none").status(), StatusIs(StatusCode::kNotFound));
  faulty_->InjectFault({.op = ObjectStoreOp::kList, .status = PermissionDeniedError("no")});
  EXPECT_THAT(store_->List("backup/").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(store_->attempts(), 2);
}

// A store whose Head hangs longer than the attempt timeout.
class SlowStore : public MemoryObjectStore {
 public:
  Result<ObjectMeta> Head(std::string_view key) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return MemoryObjectStore::Head(key);
  }
};

TEST(RetryingReadObjectStoreTimeoutTest, AnAttemptOverItsTimeoutIsDeadlineExceeded) {
  auto slow = std::make_shared<SlowStore>();
  ASSERT_OK(slow->Put("k", "v"));
  RetryingReadObjectStore store(
      slow, {.attempt_timeout_ms = 20, .retry_attempts = 1, .initial_backoff_ms = 1});
  EXPECT_THAT(store.Head("k").status(),
              StatusIs(StatusCode::kDeadlineExceeded,
                       HasSubstr("no answer within the read attempt timeout of 20 ms")));
  EXPECT_EQ(store.attempts(), 2);
  // Reads that answer in time are untouched.
  EXPECT_EQ(*store.Get("k"), "v");
  // The abandoned attempts finish on their own threads, which hold the store until then.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (slow.use_count() > 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(slow.use_count(), 2);  // ours and the wrapper's
}

}  // namespace
}  // namespace rwmeta::objstore
