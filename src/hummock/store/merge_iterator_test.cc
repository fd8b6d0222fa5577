#include "hummock/store/merge_iterator.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "hummock/sst/sst_writer.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

void Put(KvBatch* b, uint32_t table, const std::string& key, uint64_t epoch, std::string v) {
  (*b)[EncodeFullKey(table, key, epoch)] = Value::Put(std::move(v));
}
void Del(KvBatch* b, uint32_t table, const std::string& key, uint64_t epoch) {
  (*b)[EncodeFullKey(table, key, epoch)] = Value::Delete();
}

std::unique_ptr<KvIterator> Merge(const std::vector<const KvBatch*>& batches) {
  std::vector<std::unique_ptr<KvIterator>> inputs;
  for (const KvBatch* b : batches) inputs.push_back(std::make_unique<MemKvIterator>(b));
  return std::make_unique<MergeIterator>(std::move(inputs));
}

std::vector<std::pair<std::string, std::string>> Visible(UserKeyIterator& it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    out.emplace_back(std::string(it.user_key()), std::string(it.value()));
  }
  EXPECT_OK(it.status());
  return out;
}

TEST(MergeIteratorTest, MergesInFullKeyOrderAndFirstInputWinsTies) {
  KvBatch newer, older;
  Put(&newer, 1, "b", 20, "b20");
  Put(&newer, 1, "a", 10, "a10-newer-input");
  Put(&older, 1, "a", 10, "a10-older-input");
  Put(&older, 1, "a", 5, "a5");
  Put(&older, 1, "c", 5, "c5");
  auto m = Merge({&newer, &older});
  std::vector<std::string> seen;
  for (m->SeekToFirst(); m->Valid(); m->Next()) seen.push_back(std::string(m->value()));
  ASSERT_OK(m->status());
  EXPECT_THAT(seen, ElementsAre("a10-newer-input", "a5", "b20", "c5"));
}

TEST(MergeIteratorTest, SeekLandsOnFirstKeyAtOrAfterTarget) {
  KvBatch x, y;
  Put(&x, 1, "a", 1, "a");
  Put(&y, 1, "c", 1, "c");
  Put(&x, 1, "e", 1, "e");
  auto m = Merge({&x, &y});
  m->Seek(EncodeFullKey(1, "b", UINT64_MAX));
  ASSERT_TRUE(m->Valid());
  EXPECT_EQ(m->value(), "c");
  m->Next();
  ASSERT_TRUE(m->Valid());
  EXPECT_EQ(m->value(), "e");
  m->Next();
  EXPECT_FALSE(m->Valid());
}

TEST(UserKeyIteratorTest, NewestVersionAtOrBelowReadEpochTombstonesHidden) {
  KvBatch b;
  Put(&b, 7, "a", 10, "a10");
  Put(&b, 7, "a", 30, "a30");
  Put(&b, 7, "b", 10, "b10");
  Del(&b, 7, "b", 20);
  Del(&b, 7, "c", 10);
  Put(&b, 7, "c", 25, "c25");
  Put(&b, 6, "z", 10, "other table");
  Put(&b, 8, "a", 10, "other table");
  UserKeyIterator at15(Merge({&b}), 7, 15);
  EXPECT_THAT(Visible(at15), ElementsAre(Pair("a", "a10"), Pair("b", "b10")));
  UserKeyIterator at20(Merge({&b}), 7, 20);
  EXPECT_THAT(Visible(at20), ElementsAre(Pair("a", "a10")));
  UserKeyIterator at99(Merge({&b}), 7, 99);
  EXPECT_THAT(Visible(at99), ElementsAre(Pair("a", "a30"), Pair("c", "c25")));
}

TEST(UserKeyIteratorTest, OverlayTombstoneInNewerInputHidesOlderPut) {
  KvBatch committed, overlay;
  Put(&committed, 1, "k1", 10, "v1");
  Put(&committed, 1, "k2", 10, "v2");
  Del(&overlay, 1, "k1", 20);
  Put(&overlay, 1, "k3", 20, "v3");
  UserKeyIterator it(Merge({&overlay, &committed}), 1, UINT64_MAX);
  EXPECT_THAT(Visible(it), ElementsAre(Pair("k2", "v2"), Pair("k3", "v3")));
}

TEST(UserKeyIteratorTest, RangeBoundsAreStartInclusiveEndExclusive) {
  KvBatch b;
  for (std::string k : {"a", "b", "c", "d"}) Put(&b, 1, k, 1, k);
  UserKeyIterator it(Merge({&b}), 1, 1, {.start = "b", .end = "d"});
  EXPECT_THAT(Visible(it), ElementsAre(Pair("b", "b"), Pair("c", "c")));
}

TEST(UserKeyIteratorTest, SstInputErrorEndsIterationWithItsStatus) {
  objstore::MemoryObjectStore store;
  SstWriterOptions opts{.object_id = 3, .block_size_bytes = 64};
  ASSERT_OK_AND_ASSIGN(auto w, store.OpenWriter(SstObjectKey("d", 3)));
  SstWriter writer(std::move(w), opts);
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(writer.Add(1, fmt::format("key{:04}", i), 1, Value::Put(std::string(20, 'x'))));
  }
  ASSERT_OK_AND_ASSIGN(SstInfo info, writer.Finish());
  ASSERT_OK_AND_ASSIGN(auto reader, SstReader::Open(store, SstObjectKey("d", 3), info.file_size));
  std::shared_ptr<const SstReader> shared = std::move(reader);
  // Corrupt a data block in the middle after the reader has its index.
  ASSERT_OK_AND_ASSIGN(std::string bytes, store.Get(SstObjectKey("d", 3)));
  bytes[info.file_size / 2] ^= 0x5a;
  ASSERT_OK(store.Put(SstObjectKey("d", 3), bytes, {}));
  std::vector<std::unique_ptr<KvIterator>> inputs;
  inputs.push_back(std::make_unique<SstKvIterator>(shared));
  UserKeyIterator it(std::make_unique<MergeIterator>(std::move(inputs)), 1, 1);
  int rows = 0;
  for (it.SeekToFirst(); it.Valid(); it.Next()) ++rows;
  EXPECT_LT(rows, 200);
  EXPECT_THAT(it.status(), StatusIs(StatusCode::kDataLoss, ::testing::HasSubstr("sst 3.data")));
}

}  // namespace
}  // namespace rwmeta::hummock
