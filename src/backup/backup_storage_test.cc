#include "backup/backup_storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backup/test_util.h"
#include "common/testing/status_matchers.h"
#include "metastore/factory.h"
#include "objstore/fault_injection_object_store.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"
#include "testing/subprocess.h"

namespace rwmeta::backup {
namespace {

using ::rwmeta::testing::IsOk;
using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs every test over a memory and an fs object store.
class BackupStorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      objects_ = std::make_unique<objstore::MemoryObjectStore>();
    } else {
      auto fs = objstore::FsObjectStore::Open(dir_.path() + "/objects");
      ASSERT_THAT(fs.status(), IsOk());
      objects_ = std::move(fs).value();
    }
    auto meta = metastore::OpenMetaStore("memory", testing::TestModel());
    ASSERT_THAT(meta.status(), IsOk());
    meta_ = std::move(meta).value();
    ASSERT_OK(meta_->Migrate());
    ASSERT_OK(metastore::RunTransaction(*meta_, [&](metastore::Transaction& txn) -> Status {
      for (const auto& row : testing::InterestingRows()) {
        RWMETA_RETURN_IF_ERROR(txn.Insert(testing::TestModel().Table("kinds"), row));
      }
      return Status();
    }));
    storage_ = std::make_unique<BackupStorage>(objects_.get(), "backup");
  }

  Result<SnapshotMetadata> Write(uint64_t id, const std::vector<uint64_t>& objects) {
    auto view = meta_->BeginSnapshotRead();
    RWMETA_RETURN_IF_ERROR(view);
    SnapshotHeader header;
    header.cluster_id = "c";
    header.rwmeta_version = "0.1.0";
    header.created_at_ms = 1000 + static_cast<int64_t>(id);
    return storage_->WriteSnapshot(id, **view, testing::MakeVersion(id * 10, objects, id << 16),
                                   header, "snapshot " + std::to_string(id), testing::TestModel());
  }

  rwmeta::testing::TempDir dir_;
  std::unique_ptr<objstore::ObjectStore> objects_;
  std::unique_ptr<metastore::MetaStore> meta_;
  std::unique_ptr<BackupStorage> storage_;
};

TEST_P(BackupStorageTest, WriteListsTheSnapshotWithItsObjectsAndReadsBack) {
  auto entry = Write(1, {30, 10, 20});
  ASSERT_THAT(entry.status(), IsOk());
  EXPECT_EQ(entry->id, 1u);
  EXPECT_EQ(entry->hummock_version_id, 10u);
  // The entry carries no details, only their size; the object's header has them.
  EXPECT_EQ(entry->inline_details, std::nullopt);
  EXPECT_EQ(entry->object_count, 3u);
  EXPECT_EQ(entry->max_object_id, 30u);
  EXPECT_EQ(entry->format_version, kSnapshotFormatVersion);
  EXPECT_EQ(entry->remarks, "snapshot 1");
  EXPECT_EQ(entry->rw_version, "0.1.0");
  EXPECT_EQ(entry->max_committed_epoch, 1u << 16);
  auto details = storage_->Details(*entry);
  ASSERT_THAT(details.status(), IsOk());
  EXPECT_EQ((*details)->object_ids, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ((*details)->state_table_info.at(1001), (StateTableInfoEntry{1u << 16, 2}));
  EXPECT_EQ(entry->created_at_ms, 1001);
  EXPECT_EQ(entry->size_bytes, objects_->Head("backup/1.snapshot")->size_bytes);

  auto manifest = storage_->ReadManifest();
  ASSERT_THAT(manifest.status(), IsOk());
  EXPECT_EQ(manifest->manifest_id, 1u);
  ASSERT_EQ(manifest->snapshots.size(), 1u);
  EXPECT_EQ(manifest->snapshots[0], *entry);

  auto reader = storage_->OpenSnapshot(1);
  ASSERT_THAT(reader.status(), IsOk());
  auto contents = (*reader)->ReadAll(nullptr);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(contents->checksum, entry->checksum);
  EXPECT_EQ(contents->header.table_row_counts.at("kinds"), 5u);

  EXPECT_THAT(Write(1, {}).status(),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("snapshot 1 is already")));
  EXPECT_THAT(storage_->OpenSnapshot(2).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 2 not found")));
}

TEST_P(BackupStorageTest, ProtectedObjectIdsIsTheUnionAndFollowsDeletes) {
  ASSERT_THAT(Write(1, {5, 6}).status(), IsOk());
  ASSERT_THAT(Write(2, {6, 7}).status(), IsOk());
  hummock::ObjectProtectionSet* protection = storage_.get();
  EXPECT_THAT(*protection->ProtectedObjectIds(), ElementsAre(5, 6, 7));
  ASSERT_OK(storage_->DeleteSnapshots({1}));
  EXPECT_THAT(*protection->ProtectedObjectIds(), ElementsAre(6, 7));
  ASSERT_OK(objects_->Put("backup/manifest.json", "garbage"));
  EXPECT_THAT(protection->ProtectedObjectIds().status(), StatusIs(StatusCode::kDataLoss));
}

// Rewrites entry `id` as a manifest written before format 1.1 holds it: details inline.
Status MakeOldLayout(ManifestStore& manifest, uint64_t id, SnapshotDetails details) {
  return manifest
      .Update([&](Manifest& m) -> Status {
        for (SnapshotMetadata& s : m.snapshots) {
          if (s.id == id) s.inline_details = details;
        }
        return Status();
      })
      .status();
}

TEST_P(BackupStorageTest, DetailsComeFromTheEntryOrTheHeaderAndAreCached) {
  ASSERT_THAT(Write(1, {5, 6}).status(), IsOk());
  ASSERT_THAT(Write(2, {6, 7}).status(), IsOk());
  ManifestStore manifest(objects_.get(), "backup");
  // Inline details that differ from the object's: the entry wins, the object is not read.
  const SnapshotDetails old{{5, 100}, {{7, {42, 3}}}};
  ASSERT_OK(MakeOldLayout(manifest, 1, old));
  ASSERT_OK(objects_->Delete("backup/1.snapshot"));
  // A fresh storage (another process, a restart): nothing cached.
  BackupStorage fresh(objects_.get(), "backup");
  auto m = fresh.ReadManifest();
  ASSERT_THAT(m.status(), IsOk());
  auto one = fresh.Details(m->snapshots[0]);
  ASSERT_THAT(one.status(), IsOk());
  EXPECT_EQ(**one, old);
  auto two = fresh.Details(m->snapshots[1]);
  ASSERT_THAT(two.status(), IsOk());
  EXPECT_EQ((*two)->object_ids, (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ((*two)->state_table_info.at(1002), (StateTableInfoEntry{2u << 16, 2}));
  // Cached: the object is not read again (it could not be).
  const std::string bytes = objects_->Get("backup/2.snapshot").value();
  ASSERT_OK(objects_->Delete("backup/2.snapshot"));
  auto again = fresh.Details(m->snapshots[1]);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->get(), two->get());
  // A storage without it in its cache finds the object missing: DataLoss, it is listed.
  BackupStorage other(objects_.get(), "backup");
  EXPECT_THAT(
      other.Details(m->snapshots[1]).status(),
      StatusIs(StatusCode::kDataLoss, HasSubstr("snapshot 2 is in the manifest but its object "
                                                "backup/2.snapshot is missing")));
  // An object that is not the snapshot the entry describes.
  ASSERT_OK(objects_->Put("backup/2.snapshot", bytes));
  SnapshotMetadata lying = m->snapshots[1];
  lying.object_count = 3;
  EXPECT_THAT(
      other.Details(lying).status(),
      StatusIs(StatusCode::kDataLoss, HasSubstr("has object count 2, the manifest says 3")));
}

TEST_P(BackupStorageTest, StateTableInfoCacheIsBounded) {
  BackupStorageOptions options;
  options.cached_state_table_entries = 3;  // one snapshot's two tables at a time
  ASSERT_THAT(Write(1, {5}).status(), IsOk());
  ASSERT_THAT(Write(2, {6}).status(), IsOk());
  BackupStorage bounded(objects_.get(), "backup", options);
  auto m = bounded.ReadManifest();
  ASSERT_THAT(m.status(), IsOk());
  ASSERT_THAT(bounded.Details(m->snapshots[0]).status(), IsOk());
  ASSERT_THAT(bounded.Details(m->snapshots[1]).status(), IsOk());  // evicts snapshot 1
  ASSERT_OK(objects_->Delete("backup/1.snapshot"));
  EXPECT_THAT(bounded.Details(m->snapshots[0]).status(), StatusIs(StatusCode::kDataLoss));
  // Object ids stay cached for every snapshot: GC needs no read.
  EXPECT_THAT(*bounded.ProtectedObjectIds(), ElementsAre(5, 6));
}

// GC's protection set over a location with entries of both layouts is exactly the union of
// every listed snapshot's objects; one listed snapshot whose details cannot be read makes it
// fail (so GC deletes nothing), naming the snapshot.
TEST_P(BackupStorageTest, ProtectionSetIsExactOverOldAndNewEntries) {
  ASSERT_THAT(Write(1, {5, 6}).status(), IsOk());
  ASSERT_THAT(Write(2, {6, 7}).status(), IsOk());
  ASSERT_THAT(Write(3, {9}).status(), IsOk());
  ManifestStore manifest(objects_.get(), "backup");
  ASSERT_OK(MakeOldLayout(manifest, 1, {{5, 6, 100}, {}}));
  BackupStorage fresh(objects_.get(), "backup");
  EXPECT_THAT(*fresh.ProtectedObjectIds(), ElementsAre(5, 6, 7, 9, 100));
  ASSERT_OK(fresh.DeleteSnapshots({2}));
  EXPECT_THAT(*fresh.ProtectedObjectIds(), ElementsAre(5, 6, 9, 100));

  // Snapshot 3's object damaged in its header: a storage that has not cached it cannot protect
  // it, so it protects nothing.
  std::string bytes = objects_->Get("backup/3.snapshot").value();
  bytes[60] = static_cast<char>(bytes[60] ^ 1);
  ASSERT_OK(objects_->Put("backup/3.snapshot", bytes));
  BackupStorage other(objects_.get(), "backup");
  EXPECT_THAT(other.ProtectedObjectIds().status(),
              StatusIs(StatusCode::kDataLoss,
                       AllOf(HasSubstr("snapshot 3 (until its details can be read or it is "
                                       "deleted, garbage collection deletes nothing)"),
                             HasSubstr("checksum mismatch"))));
  ASSERT_OK(objects_->Delete("backup/3.snapshot"));
  EXPECT_THAT(
      other.ProtectedObjectIds().status(),
      StatusIs(StatusCode::kDataLoss, HasSubstr("its object backup/3.snapshot is missing")));
  ASSERT_OK(other.DeleteSnapshots({3}));
  EXPECT_THAT(*other.ProtectedObjectIds(), ElementsAre(5, 6, 100));
}

TEST_P(BackupStorageTest, RecordDrillUpdatesTheListedEntryOnly) {
  ASSERT_THAT(Write(1, {5}).status(), IsOk());
  const DrillResult drill{1767225600000, 321, false, "object 5 is missing"};
  auto updated = storage_->RecordDrill(1, drill);
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_EQ(updated->drill, drill);
  auto m = storage_->ReadManifest();
  ASSERT_THAT(m.status(), IsOk());
  EXPECT_EQ(m->snapshots[0].drill, drill);
  EXPECT_EQ(m->snapshots[0], *updated);
  EXPECT_EQ(m->manifest_id, 2u);
  const DrillResult passed{1767225700000, 100, true, "ok"};
  ASSERT_THAT(storage_->RecordDrill(1, passed).status(), IsOk());
  EXPECT_EQ(storage_->ReadManifest()->snapshots[0].drill, passed);
  ASSERT_OK(storage_->DeleteSnapshots({1}));
  EXPECT_THAT(storage_->RecordDrill(1, drill).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 1 not found in manifest")));
}

TEST_P(BackupStorageTest, DeleteRemovesManifestEntryThenObjectAndReportsUnknownIds) {
  ASSERT_THAT(Write(1, {1}).status(), IsOk());
  ASSERT_THAT(Write(2, {2}).status(), IsOk());
  EXPECT_THAT(storage_->DeleteSnapshots({1, 99, 98}),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshots 98, 99 not found")));
  // Nothing was deleted.
  EXPECT_EQ(storage_->ReadManifest()->snapshots.size(), 2u);
  EXPECT_THAT(objects_->Head("backup/1.snapshot").status(), IsOk());

  ASSERT_OK(storage_->DeleteSnapshots({1}));
  auto manifest = storage_->ReadManifest();
  ASSERT_EQ(manifest->snapshots.size(), 1u);
  EXPECT_EQ(manifest->snapshots[0].id, 2u);
  EXPECT_EQ(manifest->manifest_id, 3u);
  EXPECT_THAT(objects_->Head("backup/1.snapshot").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(objects_->Head("backup/2.snapshot").status(), IsOk());
  EXPECT_THAT(storage_->DeleteSnapshots({1}),
              StatusIs(StatusCode::kNotFound, HasSubstr("snapshot 1 not found")));
  EXPECT_OK(storage_->DeleteSnapshots({}));
}

TEST_P(BackupStorageTest, CleanUpUnlistedDeletesOnlyUnlistedSnapshotObjects) {
  ASSERT_THAT(Write(1, {1}).status(), IsOk());
  // As left by a crash between the object and the manifest, and neighbours that are not ours.
  ASSERT_OK(objects_->Put("backup/7.snapshot", "orphan"));
  ASSERT_OK(objects_->Put("backup/notes.txt", "keep"));
  ASSERT_OK(objects_->Put("backup/x7.snapshot", "keep"));
  ASSERT_OK(objects_->Put("backup/01.snapshot", "keep"));
  ASSERT_OK(objects_->Put("backup/sub/8.snapshot", "keep"));
  ASSERT_OK(objects_->Put("backup2/9.snapshot", "keep"));
  // Too young to be touched with a minimum age.
  auto none = storage_->CleanUpUnlisted(/*min_age_ms=*/3'600'000);
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_TRUE(none->empty());
  auto deleted = storage_->CleanUpUnlisted();
  ASSERT_THAT(deleted.status(), IsOk());
  EXPECT_THAT(*deleted, ElementsAre("backup/7.snapshot"));
  EXPECT_THAT(objects_->Head("backup/7.snapshot").status(), StatusIs(StatusCode::kNotFound));
  for (const char* key :
       {"backup/1.snapshot", "backup/notes.txt", "backup/x7.snapshot", "backup/01.snapshot",
        "backup/sub/8.snapshot", "backup2/9.snapshot", "backup/manifest.json"}) {
    EXPECT_THAT(objects_->Head(key).status(), IsOk()) << key;
  }
}

// Snapshot objects are written once: an unlisted object of the same id (left by a job of another
// meta store) is neither overwritten nor deleted, and nothing is listed.
TEST_P(BackupStorageTest, WriteNeverOverwritesAnExistingObject) {
  ASSERT_OK(objects_->Put("backup/7.snapshot", "not ours"));
  EXPECT_THAT(Write(7, {1}).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("snapshot 7: an object of that id already exists in the backup "
                                 "storage")));
  ASSERT_OK_AND_ASSIGN(std::string intact, objects_->Get("backup/7.snapshot"));
  EXPECT_EQ(intact, "not ours");
  ASSERT_OK_AND_ASSIGN(Manifest m, storage_->ReadManifest());
  EXPECT_TRUE(m.snapshots.empty());
  // Listing finds it (restore's id floor) beside a listed one.
  ASSERT_OK(Write(3, {1}).status());
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> ids, storage_->ListSnapshotObjectIds());
  EXPECT_EQ(ids, (std::vector<uint64_t>{3, 7}));
}

TEST_P(BackupStorageTest, VerifyChecksTheObjectAgainstItsManifestEntry) {
  ASSERT_THAT(Write(1, {1}).status(), IsOk());
  ASSERT_THAT(Write(2, {2}).status(), IsOk());
  auto verified = storage_->VerifySnapshot(1);
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_EQ(verified->version.id(), 10u);
  // An intact snapshot object, but another one than the manifest lists.
  ASSERT_OK(objects_->Put("backup/1.snapshot", objects_->Get("backup/2.snapshot").value()));
  EXPECT_THAT(storage_->VerifySnapshot(1).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("has snapshot id 2, the manifest says 1")));
  EXPECT_THAT(storage_->VerifySnapshot(5).status(), StatusIs(StatusCode::kNotFound));
}

TEST_P(BackupStorageTest, ListedSnapshotWithMissingObjectIsDataLoss) {
  ASSERT_THAT(Write(3, {1}).status(), IsOk());
  ASSERT_OK(objects_->Delete("backup/3.snapshot"));
  EXPECT_THAT(storage_->OpenSnapshot(3).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("backup/3.snapshot is missing")));
}

INSTANTIATE_TEST_SUITE_P(Stores, BackupStorageTest, ::testing::Values("memory", "fs"));

TEST(BackupStorageFaultTest, FailedWritesLeaveNoListedOrOrphanSnapshot) {
  auto owned = std::make_unique<objstore::MemoryObjectStore>();
  objstore::MemoryObjectStore* memory = owned.get();
  objstore::FaultInjectionObjectStore faulty(std::move(owned));
  auto meta = metastore::OpenMetaStore("memory", testing::TestModel());
  ASSERT_THAT(meta.status(), IsOk());
  ASSERT_OK((*meta)->Migrate());
  BackupStorage storage(&faulty, "b");
  auto write = [&](uint64_t id) {
    auto view = (*meta)->BeginSnapshotRead();
    EXPECT_THAT(view.status(), IsOk());
    return storage
        .WriteSnapshot(id, **view, testing::MakeVersion(1, {1}, 1), SnapshotHeader{}, std::nullopt,
                       testing::TestModel())
        .status();
  };
  // The manifest cannot be published: the object is removed again.
  faulty.InjectFault(
      {.op = objstore::ObjectStoreOp::kPut, .nth = 1, .status = UnavailableError("injected")});
  EXPECT_THAT(write(4), StatusIs(StatusCode::kUnavailable, HasSubstr("snapshot 4: publishing")));
  EXPECT_TRUE(storage.ReadManifest()->snapshots.empty());
  EXPECT_THAT(memory->Head("b/4.snapshot").status(), StatusIs(StatusCode::kNotFound));
  // The object cannot be finished: nothing is listed or left.
  faulty.ClearFaults();
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kWriterFinish,
                      .nth = 1,
                      .status = UnavailableError("injected")});
  EXPECT_THAT(write(5), StatusIs(StatusCode::kUnavailable, HasSubstr("snapshot 5")));
  EXPECT_TRUE(storage.ReadManifest()->snapshots.empty());
  EXPECT_TRUE(memory->List("b/")->empty());
  // The manifest put happens but its answer is lost: the snapshot is listed, so it is a success
  // and its object must stay.
  faulty.ClearFaults();
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kPut,
                      .nth = 1,
                      .after_effect = true,
                      .status = UnavailableError("injected")});
  EXPECT_OK(write(7));
  EXPECT_EQ(storage.ReadManifest()->snapshots.size(), 1u);
  EXPECT_THAT(memory->Head("b/7.snapshot").status(), IsOk());
  // And the next one succeeds.
  faulty.ClearFaults();
  EXPECT_OK(write(6));
  EXPECT_EQ(storage.ReadManifest()->snapshots.size(), 2u);
}

// Verified before it counts: a snapshot whose object comes back from the store other than it was
// written is never published, and its object is deleted.
TEST(BackupStorageFaultTest, ASnapshotCorruptedBeforePublishingIsNeverListed) {
  auto owned = std::make_unique<objstore::MemoryObjectStore>();
  objstore::MemoryObjectStore* memory = owned.get();
  objstore::FaultInjectionObjectStore faulty(std::move(owned));
  ASSERT_OK_AND_ASSIGN(auto meta, metastore::OpenMetaStore("memory", testing::TestModel()));
  ASSERT_OK(meta->Migrate());
  BackupStorage storage(&faulty, "b");
  auto write = [&](uint64_t id) -> Status {
    RWMETA_ASSIGN_OR_RETURN(auto view, meta->BeginSnapshotRead());
    return storage
        .WriteSnapshot(id, *view, testing::MakeVersion(1, {1}, 1), SnapshotHeader{}, std::nullopt,
                       testing::TestModel())
        .status();
  };
  // Bit rot on the way in: the stored bytes differ from what the writer checksummed.
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kWriterAppend, .nth = 1, .corrupt = true});
  EXPECT_THAT(write(4), StatusIs(StatusCode::kDataLoss,
                                 AllOf(HasSubstr("snapshot 4: reading b/4.snapshot back"),
                                       HasSubstr("deleted and not published"))));
  EXPECT_THAT(memory->Head("b/4.snapshot").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(memory->Head("b/manifest.json").status(), StatusIs(StatusCode::kNotFound));
  // A bad read back counts as well: the job cannot prove the object, so it does not publish it.
  faulty.ClearFaults();
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kReaderRead, .nth = 1, .corrupt = true});
  EXPECT_THAT(write(5), StatusIs(StatusCode::kDataLoss, HasSubstr("snapshot 5")));
  EXPECT_THAT(memory->Head("b/5.snapshot").status(), StatusIs(StatusCode::kNotFound));
  faulty.ClearFaults();
  faulty.InjectFault({.op = objstore::ObjectStoreOp::kOpenReader,
                      .nth = 1,
                      .status = UnavailableError("injected")});
  EXPECT_THAT(write(6), StatusIs(StatusCode::kUnavailable, HasSubstr("snapshot 6")));
  EXPECT_THAT(memory->Head("b/6.snapshot").status(), StatusIs(StatusCode::kNotFound));
  // Clean, it is written, read back and listed; the listing holds only it.
  faulty.ClearFaults();
  ASSERT_OK(write(7));
  ASSERT_OK_AND_ASSIGN(Manifest m, storage.ReadManifest());
  ASSERT_EQ(m.snapshots.size(), 1u);
  EXPECT_EQ(m.snapshots[0].id, 7u);
  EXPECT_EQ(memory->List("b/").value().size(), 2u);  // 7.snapshot, manifest.json
  EXPECT_GE(faulty.CallCount(objstore::ObjectStoreOp::kOpenReader), 4);
}

}  // namespace
}  // namespace rwmeta::backup
