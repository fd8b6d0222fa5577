#include "backup/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "backup/test_util.h"
#include "common/testing/status_matchers.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"
#include "testing/subprocess.h"

namespace rwmeta::backup {
namespace {

using ::rwmeta::testing::IsOk;
using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

// A manifest as rwmeta wrote it before snapshot format 1.1: details inline.
Manifest SampleV1Manifest() {
  Manifest m;
  m.manifest_id = 3;
  SnapshotMetadata a;
  a.id = 1;
  a.hummock_version_id = 12;
  a.inline_details = SnapshotDetails{{5, 7, 18446744073709551615ull},
                                     {{1001, {7340032, 2}}, {1002, {7340033, 3}}}};
  a.format_version = 1;
  a.remarks = "before upgrade \"quoted\" \xc3\xa9";
  a.rw_version = "0.1.0";
  a.max_committed_epoch = 7340033;
  a.safe_epoch = 65536;
  a.size_bytes = 4096;
  a.checksum = 0xfedcba9876543210ull;
  a.created_at_ms = 1767225600000;
  a.object_count = 3;  // derived from ssts on decoding
  a.max_object_id = 18446744073709551615ull;
  SnapshotMetadata b;
  b.id = 2;
  b.hummock_version_id = 13;
  b.inline_details = SnapshotDetails{};
  b.format_version = 1;
  m.snapshots = {a, b};
  return m;
}

// A location written before 1.1 and then by this build: the old entry stays as it was (now with a
// drill), the new ones carry no details, one scheduled.
Manifest SampleV2Manifest() {
  Manifest m = SampleV1Manifest();
  m.manifest_id = 7;
  m.snapshots.resize(1);
  m.snapshots[0].drill = DrillResult{1767225700000, 1234, true, "restored 3 tables"};
  SnapshotMetadata c;
  c.id = 5;
  c.hummock_version_id = 20;
  c.format_version = 1;
  c.rw_version = "0.2.0";
  c.max_committed_epoch = 7340040;
  c.safe_epoch = 7340000;
  c.size_bytes = 8192;
  c.checksum = 42;
  c.created_at_ms = 1767225800000;
  c.object_count = 4000;
  c.max_object_id = 123456;
  c.scheduled = true;
  c.drill = DrillResult{1767225900000, 987, false, "object 123 is missing from the state store"};
  SnapshotMetadata d;
  d.id = 6;
  d.hummock_version_id = 21;
  d.format_version = 1;
  d.remarks = "on demand";
  d.created_at_ms = 1767226000000;
  m.snapshots.push_back(c);
  m.snapshots.push_back(d);
  return m;
}

std::string ReadGolden(const std::string& name, const std::string& fresh) {
  const std::string path = std::string(RWMETA_BACKUP_SOURCE_DIR) + "/testdata/" + name;
  const char* update = std::getenv("RWMETA_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") std::ofstream(path) << fresh;
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream golden;
  golden << file.rdbuf();
  return golden.str();
}

// The old layout's golden file still decodes, and re-encoding keeps every byte: an old entry's
// inline details are never dropped or moved.
TEST(ManifestTest, V1GoldenDecodesAndReencodesByteEqual) {
  const Manifest m = SampleV1Manifest();
  const std::string golden = ReadGolden("manifest_v1.json", EncodeManifest(m));
  auto decoded = DecodeManifest(golden, "b/manifest.json");
  ASSERT_THAT(decoded.status(), IsOk());
  EXPECT_EQ(*decoded, m);
  EXPECT_EQ(EncodeManifest(*decoded), golden);
  // RisingWave's spelling of state_table_info.
  EXPECT_THAT(golden, HasSubstr(R"("1001": {
          "committedEpoch": 7340032,
          "compactionGroupId": 2
        })"));
}

TEST(ManifestTest, V2GoldenRoundTripsWithNewEntriesWithoutDetails) {
  const Manifest m = SampleV2Manifest();
  const std::string json = EncodeManifest(m);
  EXPECT_EQ(json, ReadGolden("manifest_v2.json", json));
  auto decoded = DecodeManifest(json, "b/manifest.json");
  ASSERT_THAT(decoded.status(), IsOk());
  EXPECT_EQ(*decoded, m);
  ASSERT_EQ(decoded->snapshots.size(), 3u);
  EXPECT_TRUE(decoded->snapshots[0].inline_details.has_value());
  EXPECT_FALSE(decoded->snapshots[1].inline_details.has_value());
  EXPECT_TRUE(decoded->snapshots[1].scheduled);
  EXPECT_FALSE(decoded->snapshots[2].scheduled);
  EXPECT_EQ(decoded->snapshots[2].drill, std::nullopt);
  // The old entry keeps ssts and state_table_info; new entries have neither, nor the defaults.
  EXPECT_THAT(json, HasSubstr(R"("ssts": [)"));
  EXPECT_EQ(json.find(R"("ssts")"), json.rfind(R"("ssts")"));
  EXPECT_EQ(json.find(R"("scheduled")"), json.rfind(R"("scheduled")"));
  EXPECT_THAT(json, HasSubstr(R"("drill": {
        "at_ms": 1767225900000,
        "duration_ms": 987,
        "passed": false,
        "message": "object 123 is missing from the state store"
      })"));
}

// The entry's size does not depend on the snapshot's tables or objects.
TEST(ManifestTest, NewEntriesCostTheSameWhateverTheCatalog) {
  SnapshotMetadata small{.id = 1, .hummock_version_id = 1, .object_count = 1, .max_object_id = 9};
  SnapshotMetadata big{
      .id = 2, .hummock_version_id = 2, .object_count = 99999, .max_object_id = 999999};
  const size_t small_bytes = EncodeManifest(Manifest{1, {small}}).size();
  const size_t big_bytes = EncodeManifest(Manifest{1, {big}}).size();
  EXPECT_LE(big_bytes, small_bytes + 12);
  EXPECT_LT(big_bytes, 512u);
}

TEST(ManifestTest, UnknownFieldsAndMissingOptionalFieldsAreAccepted) {
  auto m = DecodeManifest(
      R"({"manifest_id": 4, "future": true, "snapshot_metadata": [
            {"id": 9, "hummock_version_id": 2, "ssts": [1], "later_field": "x"}]})",
      "m");
  ASSERT_THAT(m.status(), IsOk());
  EXPECT_EQ(m->manifest_id, 4u);
  ASSERT_EQ(m->snapshots.size(), 1u);
  EXPECT_EQ(m->snapshots[0].format_version, 0u);
  EXPECT_EQ(m->snapshots[0].remarks, std::nullopt);
  ASSERT_TRUE(m->snapshots[0].inline_details.has_value());
  EXPECT_EQ(m->snapshots[0].inline_details->object_ids, std::vector<uint64_t>{1});
  EXPECT_EQ(m->snapshots[0].object_count, 1u);
  EXPECT_EQ(m->snapshots[0].max_object_id, 1u);
  // Fields this build added, absent in an old entry: not scheduled, never drilled.
  EXPECT_FALSE(m->snapshots[0].scheduled);
  EXPECT_EQ(m->snapshots[0].drill, std::nullopt);
}

TEST(ManifestTest, MalformedIsDataLossNamingTheFile) {
  for (const char* bad : {"", "{", "[]", R"({"snapshot_metadata": []})",
                          R"({"manifest_id": "x", "snapshot_metadata": []})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "ssts": [],
                              "state_table_info": {"t1": {}}}]})",
                          R"({"manifest_id": -1, "snapshot_metadata": []})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1.5,
                              "hummock_version_id": 1, "ssts": []}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "ssts": [-3]}]})",
                          // New layout: the object count and largest id are required.
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "object_count": 2}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "object_count": 2, "max_object_id": 3,
                              "state_table_info": {}}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "object_count": 0, "max_object_id": 0,
                              "scheduled": "yes"}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "object_count": 0, "max_object_id": 0,
                              "drill": {"at_ms": 1, "duration_ms": 1.5, "passed": true,
                                        "message": ""}}]})",
                          R"({"manifest_id": 1, "snapshot_metadata": [{"id": 1,
                              "hummock_version_id": 1, "object_count": 0, "max_object_id": 0,
                              "drill": {"at_ms": 1, "duration_ms": 1, "message": ""}}]})"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(DecodeManifest(bad, "b/manifest.json").status(),
                StatusIs(StatusCode::kDataLoss, HasSubstr("manifest b/manifest.json")));
  }
}

TEST(ManifestTest, MissingManifestReadsAsEmptyAndUpdateCreatesIt) {
  objstore::MemoryObjectStore objects;
  ManifestStore store(&objects, "backup");
  auto m = store.Read();
  ASSERT_THAT(m.status(), IsOk());
  EXPECT_EQ(*m, Manifest{});
  auto published = store.Update([](Manifest& m) {
    m.snapshots.push_back(SnapshotMetadata{.id = 1});
    return Status();
  });
  ASSERT_THAT(published.status(), IsOk());
  EXPECT_EQ(published->manifest_id, 1u);
  EXPECT_EQ(*store.Read(), *published);
  EXPECT_THAT(objects.Get("backup/manifest.json").status(), IsOk());
  // A mutation's error publishes nothing.
  EXPECT_THAT(store.Update([](Manifest&) { return AlreadyExistsError("nope"); }).status(),
              StatusIs(StatusCode::kAlreadyExists, "nope"));
  EXPECT_EQ(store.Read()->manifest_id, 1u);
  ASSERT_OK(objects.Put("backup/manifest.json", "{not json"));
  EXPECT_THAT(store.Read().status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("backup/manifest.json")));
}

// Many writers, each with its own ManifestStore as separate processes would have, each adding
// entries: none may be lost and manifest_id counts every publish.
void RunConcurrentPublishers(objstore::ObjectStore* objects, bool force_lock) {
  constexpr int kWriters = 6;
  constexpr int kEach = 8;
  std::vector<std::thread> threads;
  std::vector<Status> errors(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      ManifestStoreOptions options;
      options.force_lock = force_lock;
      ManifestStore store(objects, "dir/", options);
      for (int i = 0; i < kEach; ++i) {
        auto r = store.Update([&](Manifest& m) {
          m.snapshots.push_back(SnapshotMetadata{.id = static_cast<uint64_t>(w * 100 + i)});
          return Status();
        });
        if (!r.ok()) {
          errors[w] = r.status();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : errors) EXPECT_OK(s);
  ManifestStore reader(objects, "dir");
  auto m = reader.Read();
  ASSERT_THAT(m.status(), IsOk());
  EXPECT_EQ(m->manifest_id, static_cast<uint64_t>(kWriters * kEach));
  std::set<uint64_t> ids;
  for (const auto& s : m->snapshots) ids.insert(s.id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kWriters * kEach));
  // No lock object is left behind.
  EXPECT_TRUE(objects->List("dir/manifest.lock.")->empty());
}

TEST(ManifestTest, ConcurrentPublishersWithConditionalPutLoseNothing) {
  objstore::MemoryObjectStore memory;
  ASSERT_TRUE(memory.SupportsConditionalPut());
  RunConcurrentPublishers(&memory, /*force_lock=*/false);
  rwmeta::testing::TempDir dir;
  auto fs = objstore::FsObjectStore::Open(dir.path());
  ASSERT_THAT(fs.status(), IsOk());
  RunConcurrentPublishers(fs->get(), /*force_lock=*/false);
}

TEST(ManifestTest, ConcurrentPublishersWithLockFallbackLoseNothing) {
  testing::NoCasObjectStore no_cas;
  RunConcurrentPublishers(&no_cas, /*force_lock=*/false);
  rwmeta::testing::TempDir dir;
  auto fs = objstore::FsObjectStore::Open(dir.path());
  ASSERT_THAT(fs.status(), IsOk());
  RunConcurrentPublishers(fs->get(), /*force_lock=*/true);
}

TEST(ManifestTest, LiveLockOfAnotherWriterMakesUpdateAbortAtTimeoutAndStaleOneIsIgnored) {
  testing::NoCasObjectStore objects;
  ASSERT_OK(objects.Put("d/manifest.lock.someoneelse", "x"));
  ManifestStoreOptions options;
  options.timeout_ms = 300;
  ManifestStore store(&objects, "d", options);
  EXPECT_THAT(store.Update([](Manifest&) { return Status(); }).status(),
              StatusIs(StatusCode::kAborted, HasSubstr("lock held by another writer")));
  // The same lock object, but from a writer whose lease is over.
  options.lease_ms = 1;
  options.safety_margin_ms = -60'000;  // never refuse to publish in this test
  ManifestStore after_lease(&objects, "d", options);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let the 1 ms lease pass
  auto r = after_lease.Update([](Manifest&) { return Status(); });
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->manifest_id, 1u);
  EXPECT_TRUE(objects.List("d/manifest.lock.")->empty());
}

TEST(ManifestTest, ManifestKey) {
  EXPECT_EQ(ManifestKey("backup"), "backup/manifest.json");
  EXPECT_EQ(ManifestKey("a/b/"), "a/b/manifest.json");
  EXPECT_EQ(ManifestKey(""), "manifest.json");
}

}  // namespace
}  // namespace rwmeta::backup
