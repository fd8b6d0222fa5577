#include "hummock/gc/gc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "hummock/gc/object_protection.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/version.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kNowMs = 1'800'000'000'000;  // a fixed "now" for every test
constexpr std::string_view kDir = "hummock_001";

// A memory store whose listed modification times the test sets (so no test waits for time to
// pass), and which runs a hook just before each List reads the objects.
class AgedObjectStore : public objstore::ObjectStore {
 public:
  void SetLastModified(const std::string& key, int64_t ms) { mtime_[key] = ms; }
  void OnList(std::function<void()> hook) { on_list_ = std::move(hook); }
  std::vector<std::string>& events() { return events_; }

  Status Put(std::string_view key, std::string_view data,
             const objstore::PutOptions& options) override {
    return base_.Put(key, data, options);
  }
  using ObjectStore::OpenWriter;
  using ObjectStore::Put;
  Result<std::unique_ptr<objstore::ObjectWriter>> OpenWriter(
      std::string_view key, const objstore::PutOptions& options) override {
    return base_.OpenWriter(key, options);
  }
  Result<std::string> Get(std::string_view key) override { return base_.Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return base_.GetRange(key, offset, length);
  }
  Result<objstore::ObjectMeta> Head(std::string_view key) override {
    RWMETA_ASSIGN_OR_RETURN(objstore::ObjectMeta meta, base_.Head(key));
    Age(&meta);
    return meta;
  }
  Result<std::vector<objstore::ObjectMeta>> List(std::string_view prefix) override {
    if (on_list_) on_list_();
    events_.push_back("list");
    RWMETA_ASSIGN_OR_RETURN(std::vector<objstore::ObjectMeta> metas, base_.List(prefix));
    for (objstore::ObjectMeta& meta : metas) Age(&meta);
    return metas;
  }
  Status Delete(std::string_view key) override {
    deleted_.push_back(std::string(key));
    return base_.Delete(key);
  }
  std::string DisplayUrl() const override { return "aged+memory"; }
  bool SupportsConditionalPut() const override { return true; }

  const std::vector<std::string>& deleted() const { return deleted_; }

 private:
  void Age(objstore::ObjectMeta* meta) const {
    auto it = mtime_.find(meta->key);
    if (it != mtime_.end()) meta->last_modified_ms = it->second;
  }

  objstore::MemoryObjectStore base_;
  std::map<std::string, int64_t> mtime_;
  std::function<void()> on_list_;
  std::vector<std::string> events_;
  std::vector<std::string> deleted_;
};

// Puts SST object `id` (content irrelevant to GC) of `bytes` bytes, last modified at `mtime_ms`.
void PutSst(AgedObjectStore& store, uint64_t id, int64_t mtime_ms, size_t bytes = 10) {
  const std::string key = SstObjectKey(kDir, id);
  ASSERT_OK(store.Put(key, std::string(bytes, 'x')));
  store.SetLastModified(key, mtime_ms);
}

bool Exists(objstore::ObjectStore& store, const std::string& key) { return store.Head(key).ok(); }

ReferencedObjectIdsFn Referencing(std::vector<uint64_t> ids) {
  return [ids]() -> Result<std::vector<uint64_t>> { return ids; };
}

TEST(FullGcTest, DeletesOnlyOldUnreferencedSstObjects) {
  AgedObjectStore store;
  PutSst(store, 1, kNowMs - 2 * kHourMs, 100);  // old, unreferenced: deleted
  PutSst(store, 2, kNowMs - 2 * kHourMs, 200);  // old, referenced: kept
  PutSst(store, 3, kNowMs - kHourMs + 1);       // young (age < retention): kept
  PutSst(store, 4, kNowMs - kHourMs);           // age == retention: not older, kept
  PutSst(store, 5, kNowMs - kHourMs - 1, 50);   // just older than the retention: deleted
  ASSERT_OK_AND_ASSIGN(FullGcReport report, FullGc(store, kDir, kHourMs, kNowMs, Referencing({2})));
  EXPECT_EQ(report.listed_sst_count, 5u);
  EXPECT_EQ(report.ignored_key_count, 0u);
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(1, 5));
  EXPECT_EQ(report.deleted_bytes, 150u);
  EXPECT_THAT(report.kept_referenced, ElementsAre(2));
  EXPECT_THAT(report.kept_too_young, ElementsAre(3, 4));
  EXPECT_EQ(report.ToString(),
            "listed 5 SST objects: deleted 2 (150 bytes: 1, 5), kept 1 referenced, 2 too young");
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 1)));
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 5)));
  for (uint64_t id : {2, 3, 4}) EXPECT_TRUE(Exists(store, SstObjectKey(kDir, id))) << id;
}

TEST(FullGcTest, NeverTouchesNonSstKeys) {
  AgedObjectStore store;
  const std::vector<std::string> others = {
      "hummock_001/checkpoint/0", "hummock_001/cluster_id", "hummock_001/meta_lease",
      "hummock_001/007.data",     "hummock_001/9.data.tmp", "hummock_001/backup/1.snapshot",
      "hummock_001/sub/3.data",   "hummock_0010/4.data",    "other/5.data"};
  for (const std::string& key : others) {
    ASSERT_OK(store.Put(key, "keep me"));
    store.SetLastModified(key, 0);  // ancient
  }
  PutSst(store, 6, 0);
  ASSERT_OK_AND_ASSIGN(FullGcReport report, FullGc(store, kDir, 0, kNowMs, Referencing({})));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(6));
  EXPECT_EQ(report.listed_sst_count, 1u);
  // The listing of "hummock_001/" sees the first seven; "hummock_0010/" and "other/" are outside.
  EXPECT_EQ(report.ignored_key_count, 7u);
  EXPECT_THAT(store.deleted(), ElementsAre("hummock_001/6.data"));
  for (const std::string& key : others) EXPECT_TRUE(Exists(store, key)) << key;
}

TEST(FullGcTest, KeepsObjectsOfTheCurrentPinnedUncommittedAndProtectedSets) {
  AgedObjectStore store;
  for (uint64_t id = 1; id <= 6; ++id) PutSst(store, id, 0);
  HummockVersion current;
  auto add_sst = [](HummockVersion* v, uint64_t id) {
    SstableInfo sst;
    sst.set_object_id(id);
    sst.set_sst_id(id);
    VersionDeltaBuilder b(*v);
    b.CommitEpoch(v->max_committed_epoch() + 1, 2, {sst}, {1});
    ASSERT_OK(ApplyDelta(v, b.Build()));
  };
  add_sst(&current, 1);
  HummockVersion pinned;
  add_sst(&pinned, 2);
  InMemoryObjectProtectionSet protection;
  protection.Protect(/*owner_id=*/7, {4});
  ReferencedObjectIdsFn referenced = [&]() {
    return CollectReferencedObjectIds(current, {&pinned}, /*uncommitted_object_ids=*/{3},
                                      &protection);
  };
  ASSERT_OK_AND_ASSIGN(FullGcReport report, FullGc(store, kDir, 0, kNowMs, referenced));
  EXPECT_THAT(report.kept_referenced, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(5, 6));

  // Deleting the snapshot unprotects its object: the next pass deletes it.
  protection.Unprotect(7);
  ASSERT_OK_AND_ASSIGN(report, FullGc(store, kDir, 0, kNowMs, referenced));
  EXPECT_THAT(report.kept_referenced, ElementsAre(1, 2, 3));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(4));
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 4)));
}

TEST(FullGcTest, ProtectionSetErrorDeletesNothing) {
  AgedObjectStore store;
  for (uint64_t id = 1; id <= 3; ++id) PutSst(store, id, 0);
  InMemoryObjectProtectionSet protection;
  protection.SetError(UnavailableError("backup manifest unreachable"));
  HummockVersion empty;
  auto result = FullGc(store, kDir, 0, kNowMs,
                       [&]() { return CollectReferencedObjectIds(empty, {}, {}, &protection); });
  EXPECT_THAT(result,
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("full gc: reading the object protection set: backup manifest "
                                 "unreachable")));
  EXPECT_THAT(store.deleted(), IsEmpty());
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_TRUE(Exists(store, SstObjectKey(kDir, id)));
}

TEST(FullGcTest, ListingErrorDeletesNothingAndSkipsTheCallback) {
  auto faulty =
      std::make_unique<objstore::FaultInjectionObjectStore>(std::make_unique<AgedObjectStore>());
  ASSERT_OK(faulty->Put(SstObjectKey(kDir, 1), "x"));
  faulty->InjectFault(
      {.op = objstore::ObjectStoreOp::kList, .status = UnavailableError("injected list failure")});
  int calls = 0;
  auto result = FullGc(*faulty, kDir, 0, INT64_MAX, [&]() -> Result<std::vector<uint64_t>> {
    ++calls;
    return std::vector<uint64_t>{};
  });
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable,
                               HasSubstr("full gc: listing the state store: injected list")));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(faulty->CallCount(objstore::ObjectStoreOp::kDelete), 0);
}

// The order that makes GC safe: the referenced set is taken after the listing. Here an object is
// uploaded and committed to the version while GC lists (an old mtime and retention 0 make it a
// candidate): had GC asked for the referenced set before listing, it would delete a live object.
TEST(FullGcTest, ReferencedSetIsTakenAfterTheListing) {
  AgedObjectStore store;
  PutSst(store, 1, 0);
  std::set<uint64_t> version_objects;
  store.OnList([&]() {
    PutSst(store, 2, 0);
    version_objects.insert(2);  // committed
  });
  ASSERT_OK_AND_ASSIGN(
      FullGcReport report, FullGc(store, kDir, 0, kNowMs, [&]() -> Result<std::vector<uint64_t>> {
        store.events().push_back("referenced");
        return std::vector<uint64_t>(version_objects.begin(), version_objects.end());
      }));
  EXPECT_THAT(store.events(), ElementsAre("list", "referenced"));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(1));
  EXPECT_THAT(report.kept_referenced, ElementsAre(2));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 2)));
}

TEST(FullGcTest, DeleteFailureStopsAndNamesTheObject) {
  auto aged = std::make_unique<AgedObjectStore>();
  AgedObjectStore* base = aged.get();
  for (uint64_t id = 1; id <= 3; ++id) PutSst(*base, id, 0);
  objstore::FaultInjectionObjectStore faulty(std::move(aged));
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kDelete,
                      .nth = 2,
                      .status = UnavailableError("injected delete failure")});
  EXPECT_THAT(FullGc(faulty, kDir, 0, kNowMs, Referencing({})),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("full gc: deleting hummock_001/2.data: injected delete")));
  EXPECT_THAT(base->deleted(), ElementsAre("hummock_001/1.data"));
  // A later pass finishes the job.
  ASSERT_OK_AND_ASSIGN(FullGcReport report, FullGc(faulty, kDir, 0, kNowMs, Referencing({})));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(2, 3));
}

TEST(FullGcTest, NegativeRetentionIsInvalid) {
  AgedObjectStore store;
  EXPECT_THAT(FullGc(store, kDir, -1, kNowMs, Referencing({})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("negative retention")));
}

// The same pass on the filesystem store, with the modification times it really records.
TEST(FullGcTest, FsStoreUsesRealModificationTimes) {
  char dir_template[] = "/tmp/rwmeta_gc_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string root = dir_template;
  {
    ASSERT_OK_AND_ASSIGN(auto store, objstore::FsObjectStore::Open(root));
    for (uint64_t id : {1, 2, 3}) ASSERT_OK(store->Put(SstObjectKey(kDir, id), "sst bytes"));
    ASSERT_OK(store->Put("hummock_001/checkpoint/0", "checkpoint"));
    ASSERT_OK(store->Put("hummock_001/cluster_id", "c1"));
    int64_t newest_ms = 0;
    ASSERT_OK_AND_ASSIGN(auto listed, store->List(""));
    for (const auto& meta : listed) newest_ms = std::max(newest_ms, meta.last_modified_ms);
    ASSERT_GT(newest_ms, 0);
    // "Now" is when the objects were written: all too young for a one-hour retention.
    ASSERT_OK_AND_ASSIGN(FullGcReport report,
                         FullGc(*store, kDir, kHourMs, newest_ms, Referencing({})));
    EXPECT_THAT(report.kept_too_young, ElementsAre(1, 2, 3));
    EXPECT_THAT(report.deleted_object_ids, IsEmpty());
    // Two hours later they are old; 2 is referenced.
    ASSERT_OK_AND_ASSIGN(report,
                         FullGc(*store, kDir, kHourMs, newest_ms + 2 * kHourMs, Referencing({2})));
    EXPECT_EQ(report.listed_sst_count, 3u);
    EXPECT_EQ(report.ignored_key_count, 2u);
    EXPECT_THAT(report.deleted_object_ids, ElementsAre(1, 3));
    EXPECT_EQ(report.deleted_bytes, 18u);
    ASSERT_OK_AND_ASSIGN(listed, store->List(""));
    std::vector<std::string> keys;
    for (const auto& meta : listed) keys.push_back(meta.key);
    EXPECT_THAT(keys, ElementsAre("hummock_001/2.data", "hummock_001/checkpoint/0",
                                  "hummock_001/cluster_id"));
  }
  std::filesystem::remove_all(root);
}

TEST(VacuumTest, DeletesStaleObjectsUnlessReferencedAndIsIdempotent) {
  AgedObjectStore store;
  for (uint64_t id = 1; id <= 4; ++id) PutSst(store, id, kNowMs);
  PutSst(store, 9, kNowMs);  // not stale: vacuum never looks at it
  ASSERT_OK_AND_ASSIGN(VacuumReport report, Vacuum(store, kDir, {3, 1, 2, 1}, Referencing({2})));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(1, 3));
  EXPECT_THAT(report.kept_referenced, ElementsAre(2));
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 1)));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 2)));
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 3)));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 4)));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 9)));

  // Again, with 2 no longer referenced: the missing 1 and 3 are fine.
  ASSERT_OK_AND_ASSIGN(report, Vacuum(store, kDir, {1, 2, 3}, Referencing({})));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(1, 2, 3));
  EXPECT_THAT(report.kept_referenced, IsEmpty());
  EXPECT_FALSE(Exists(store, SstObjectKey(kDir, 2)));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 4)));
}

TEST(VacuumTest, ProtectedObjectsAreKept) {
  AgedObjectStore store;
  PutSst(store, 1, kNowMs);
  PutSst(store, 2, kNowMs);
  InMemoryObjectProtectionSet protection;
  protection.Protect(1, {2});
  HummockVersion empty;
  ASSERT_OK_AND_ASSIGN(VacuumReport report, Vacuum(store, kDir, {1, 2}, [&]() {
                         return CollectReferencedObjectIds(empty, {}, {}, &protection);
                       }));
  EXPECT_THAT(report.deleted_object_ids, ElementsAre(1));
  EXPECT_THAT(report.kept_referenced, ElementsAre(2));
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 2)));
}

TEST(VacuumTest, CallbackErrorDeletesNothing) {
  AgedObjectStore store;
  PutSst(store, 1, kNowMs);
  EXPECT_THAT(Vacuum(store, kDir, {1},
                     []() -> Result<std::vector<uint64_t>> {
                       return AbortedError("version manager busy");
                     }),
              StatusIs(StatusCode::kAborted, HasSubstr("vacuum: version manager busy")));
  EXPECT_THAT(store.deleted(), IsEmpty());
  EXPECT_TRUE(Exists(store, SstObjectKey(kDir, 1)));
}

TEST(InMemoryObjectProtectionSetTest, UnionOfOwnersSortedAndDistinct) {
  InMemoryObjectProtectionSet set;
  set.Protect(1, {5, 3});
  set.Protect(2, {3, 9});
  ASSERT_OK_AND_ASSIGN(auto ids, set.ProtectedObjectIds());
  EXPECT_THAT(ids, ElementsAre(3, 5, 9));
  set.Protect(1, {4});  // replaces owner 1's set
  set.Unprotect(3);     // unknown owner: no-op
  ASSERT_OK_AND_ASSIGN(ids, set.ProtectedObjectIds());
  EXPECT_THAT(ids, ElementsAre(3, 4, 9));
  set.SetError(DataLossError("manifest checksum mismatch"));
  EXPECT_THAT(set.ProtectedObjectIds(), StatusIs(StatusCode::kDataLoss));
  set.SetError(Status::Ok());
  ASSERT_OK_AND_ASSIGN(ids, set.ProtectedObjectIds());
  EXPECT_THAT(ids, ElementsAre(3, 4, 9));
}

}  // namespace
}  // namespace rwmeta::hummock
