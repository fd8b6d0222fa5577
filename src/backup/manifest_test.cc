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

Manifest SampleManifest() {
  Manifest m;
  m.manifest_id = 3;
  SnapshotMetadata a;
  a.id = 1;
  a.hummock_version_id = 12;
  a.ssts = {5, 7, 18446744073709551615ull};
  a.format_version = 1;
  a.remarks = "before upgrade \"quoted\" \xc3\xa9";
  a.state_table_info = {{1001, {7340032, 2}}, {1002, {7340033, 3}}};
  a.rw_version = "0.1.0";
  a.max_committed_epoch = 7340033;
  a.safe_epoch = 65536;
  a.size_bytes = 4096;
  a.checksum = 0xfedcba9876543210ull;
  a.created_at_ms = 1767225600000;
  SnapshotMetadata b;
  b.id = 2;
  b.hummock_version_id = 13;
  b.format_version = 1;
  m.snapshots = {a, b};
  return m;
}

TEST(ManifestTest, RoundTripAndGoldenJson) {
  const Manifest m = SampleManifest();
  const std::string json = EncodeManifest(m);
  auto decoded = DecodeManifest(json, "b/manifest.json");
  ASSERT_THAT(decoded.status(), IsOk());
  EXPECT_EQ(*decoded, m);

  const std::string path = std::string(RWMETA_BACKUP_SOURCE_DIR) + "/testdata/manifest_v1.json";
  const char* update = std::getenv("RWMETA_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") std::ofstream(path) << json;
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << path;
  std::stringstream golden;
  golden << file.rdbuf();
  EXPECT_EQ(json, golden.str());
  // RisingWave's spelling of state_table_info.
  EXPECT_THAT(json, HasSubstr(R"("1001": {
          "committedEpoch": 7340032,
          "compactionGroupId": 2
        })"));
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
  EXPECT_EQ(m->snapshots[0].ssts, std::vector<uint64_t>{1});
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
                              "hummock_version_id": 1, "ssts": [-3]}]})"}) {
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
