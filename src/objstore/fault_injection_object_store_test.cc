#include "objstore/fault_injection_object_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/testing/status_matchers.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::objstore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

class FaultInjectionObjectStoreTest : public ::testing::Test {
 protected:
  FaultInjectionObjectStoreTest()
      : store_(std::make_unique<MemoryObjectStore>("memory-isolated")) {}

  FaultInjectionObjectStore store_;
};

TEST_F(FaultInjectionObjectStoreTest, NthPutFailsWithoutEffect) {
  store_.InjectFault({.op = ObjectStoreOp::kPut, .nth = 2, .status = UnavailableError("boom")});
  ASSERT_OK(store_.Put("k", "v1"));
  EXPECT_THAT(store_.Put("k", "v2"), StatusIs(StatusCode::kUnavailable, HasSubstr("boom")));
  ASSERT_OK_AND_ASSIGN(std::string v, store_.Get("k"));
  EXPECT_EQ(v, "v1");
  ASSERT_OK(store_.Put("k", "v3"));
  ASSERT_OK_AND_ASSIGN(v, store_.Get("k"));
  EXPECT_EQ(v, "v3");
  EXPECT_EQ(store_.CallCount(ObjectStoreOp::kPut), 3);
  EXPECT_EQ(store_.CallCount(ObjectStoreOp::kGet), 2);
  EXPECT_EQ(store_.FiredCount(), 1);
}

TEST_F(FaultInjectionObjectStoreTest, NthCountsFromInjection) {
  ASSERT_OK(store_.Put("k", "v"));
  for (int i = 0; i < 5; ++i) ASSERT_OK(store_.Get("k").status());
  store_.InjectFault({.op = ObjectStoreOp::kGet, .nth = 1, .status = DataLossError("bad")});
  EXPECT_THAT(store_.Get("k"), StatusIs(StatusCode::kDataLoss));
  EXPECT_OK(store_.Get("k").status());
}

TEST_F(FaultInjectionObjectStoreTest, StickyFaultFailsEveryLaterCallUntilCleared) {
  store_.InjectFault(
      {.op = ObjectStoreOp::kHead, .nth = 2, .sticky = true, .status = UnavailableError("down")});
  ASSERT_OK(store_.Put("k", "v"));
  EXPECT_OK(store_.Head("k").status());
  for (int i = 0; i < 4; ++i) EXPECT_THAT(store_.Head("k"), StatusIs(StatusCode::kUnavailable));
  store_.ClearFaults();
  EXPECT_OK(store_.Head("k").status());
  EXPECT_EQ(store_.FiredCount(), 4);
}

TEST_F(FaultInjectionObjectStoreTest, AfterEffectPutAppliesButReportsFailure) {
  store_.InjectFault({.op = ObjectStoreOp::kPut,
                      .nth = 1,
                      .after_effect = true,
                      .status = UnavailableError("response lost")});
  EXPECT_THAT(store_.Put("k", "applied"), StatusIs(StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(std::string v, store_.Get("k"));
  EXPECT_EQ(v, "applied");
}

TEST_F(FaultInjectionObjectStoreTest, AfterEffectDeleteAppliesButReportsFailure) {
  ASSERT_OK(store_.Put("k", "v"));
  store_.InjectFault({.op = ObjectStoreOp::kDelete,
                      .after_effect = true,
                      .status = UnavailableError("response lost")});
  EXPECT_THAT(store_.Delete("k"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store_.Get("k"), StatusIs(StatusCode::kNotFound));
}

TEST_F(FaultInjectionObjectStoreTest, FailedFinishPublishesNothing) {
  ASSERT_OK(store_.Put("obj", "old"));
  store_.InjectFault({.op = ObjectStoreOp::kWriterFinish, .status = InternalError("crash")});
  ASSERT_OK_AND_ASSIGN(auto w, store_.OpenWriter("obj"));
  ASSERT_OK(w->Append("new"));
  EXPECT_EQ(w->size_bytes(), 3u);
  EXPECT_THAT(w->Finish(), StatusIs(StatusCode::kInternal));
  w.reset();
  ASSERT_OK_AND_ASSIGN(std::string v, store_.Get("obj"));
  EXPECT_EQ(v, "old");
}

TEST_F(FaultInjectionObjectStoreTest, AfterEffectFinishPublishes) {
  store_.InjectFault({.op = ObjectStoreOp::kWriterFinish,
                      .after_effect = true,
                      .status = UnavailableError("lost")});
  ASSERT_OK_AND_ASSIGN(auto w, store_.OpenWriter("obj"));
  ASSERT_OK(w->Append("new"));
  EXPECT_THAT(w->Finish(), StatusIs(StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(std::string v, store_.Get("obj"));
  EXPECT_EQ(v, "new");
}

TEST_F(FaultInjectionObjectStoreTest, AppendAndReadFaults) {
  store_.InjectFault({.op = ObjectStoreOp::kWriterAppend,
                      .nth = 2,
                      .status = ResourceExhaustedError("disk full")});
  ASSERT_OK_AND_ASSIGN(auto w, store_.OpenWriter("obj"));
  ASSERT_OK(w->Append("a"));
  EXPECT_THAT(w->Append("b"), StatusIs(StatusCode::kResourceExhausted));
  ASSERT_OK(w->Abort());
  EXPECT_THAT(store_.Head("obj"), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(store_.Put("r", "0123456789"));
  store_.InjectFault(
      {.op = ObjectStoreOp::kReaderRead, .nth = 2, .status = DataLossError("short")});
  ASSERT_OK_AND_ASSIGN(auto r, store_.OpenReader("r"));
  std::string out;
  ASSERT_OK(r->Read(4, &out));
  EXPECT_EQ(out, "0123");
  EXPECT_THAT(r->Read(4, &out), StatusIs(StatusCode::kDataLoss));
  EXPECT_EQ(out, "");
  ASSERT_OK(r->Read(4, &out));
  EXPECT_EQ(out, "4567");
}

TEST_F(FaultInjectionObjectStoreTest, CorruptFaultsFlipOneBitAndReportOk) {
  // What is stored: a Put and a writer's second Append.
  store_.InjectFault({.op = ObjectStoreOp::kPut, .nth = 1, .corrupt = true});
  ASSERT_OK(store_.Put("p", "abc"));
  EXPECT_EQ(store_.base().Get("p").value(), "acc");  // 'b' ^ 1 == 'c'
  store_.InjectFault({.op = ObjectStoreOp::kWriterAppend, .nth = 2, .corrupt = true});
  ASSERT_OK_AND_ASSIGN(auto writer, store_.OpenWriter("w"));
  ASSERT_OK(writer->Append("xx"));
  ASSERT_OK(writer->Append("abc"));
  ASSERT_OK(writer->Finish());
  EXPECT_EQ(store_.base().Get("w").value(), "xxacc");
  // What is returned: the stored bytes stay intact.
  ASSERT_OK(store_.base().Put("r", "abcd"));
  store_.InjectFault({.op = ObjectStoreOp::kGet, .nth = 1, .corrupt = true});
  EXPECT_EQ(store_.Get("r").value(), "abbd");  // 'c' ^ 1 == 'b'
  EXPECT_EQ(store_.Get("r").value(), "abcd");
  store_.InjectFault({.op = ObjectStoreOp::kGetRange, .nth = 1, .corrupt = true});
  EXPECT_EQ(store_.GetRange("r", 1, 2).value(), "bb");
  store_.InjectFault({.op = ObjectStoreOp::kReaderRead, .nth = 1, .corrupt = true});
  ASSERT_OK_AND_ASSIGN(auto reader, store_.OpenReader("r"));
  std::string chunk;
  ASSERT_OK(reader->Read(4, &chunk));
  EXPECT_EQ(chunk, "abbd");
  EXPECT_EQ(store_.base().Get("r").value(), "abcd");
  EXPECT_EQ(store_.FiredCount(), 5);
}

TEST_F(FaultInjectionObjectStoreTest, EveryOperationCanFail) {
  ASSERT_OK(store_.Put("k", "v"));
  const std::vector<std::pair<ObjectStoreOp, std::function<Status()>>> calls = {
      {ObjectStoreOp::kGet, [&] { return store_.Get("k").status(); }},
      {ObjectStoreOp::kGetRange, [&] { return store_.GetRange("k", 0, 1).status(); }},
      {ObjectStoreOp::kOpenReader, [&] { return store_.OpenReader("k").status(); }},
      {ObjectStoreOp::kOpenWriter, [&] { return store_.OpenWriter("k2").status(); }},
      {ObjectStoreOp::kHead, [&] { return store_.Head("k").status(); }},
      {ObjectStoreOp::kList, [&] { return store_.List("").status(); }},
      {ObjectStoreOp::kDelete, [&] { return store_.Delete("k"); }},
      {ObjectStoreOp::kDeleteMany, [&] { return store_.DeleteMany({"k"}); }},
  };
  for (const auto& [op, call] : calls) {
    SCOPED_TRACE(std::string(ObjectStoreOpName(op)));
    store_.InjectFault({.op = op, .status = PermissionDeniedError("no")});
    EXPECT_THAT(call(), StatusIs(StatusCode::kPermissionDenied));
    store_.ClearFaults();
  }
  // None of the failed deletes took effect.
  ASSERT_OK_AND_ASSIGN(std::string v, store_.Get("k"));
  EXPECT_EQ(v, "v");
}

TEST_F(FaultInjectionObjectStoreTest, ExactlyOneConcurrentCallFails) {
  store_.InjectFault({.op = ObjectStoreOp::kPut, .nth = 50, .status = UnavailableError("x")});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        Status s = store_.Put("k" + std::to_string(t) + "/" + std::to_string(i), "v");
        if (s.code() == StatusCode::kUnavailable) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(store_.CallCount(ObjectStoreOp::kPut), 100);
  ASSERT_OK_AND_ASSIGN(auto list, store_.List(""));
  EXPECT_EQ(list.size(), 99u);
}

}  // namespace
}  // namespace rwmeta::objstore
