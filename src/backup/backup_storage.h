// BackupStorage: one backup location (an object store and a directory) holding meta snapshots:
// `<dir>/<id>.snapshot` objects and `<dir>/manifest.json` (manifest.h). The manifest is the truth:
// a snapshot exists exactly when the manifest lists it.
//
// Order of operations, so that a crash at any point leaves no listed snapshot without its object:
// - WriteSnapshot: the object first, then the manifest entry (a crash in between leaves an orphan
//   object, which CleanUpUnlisted deletes);
// - DeleteSnapshots: the manifest first, then the objects.
//
// It is also the hummock::ObjectProtectionSet of the backup location: every object a listed
// snapshot references is protected from GC.
//
// Details (object ids, state table info; snapshot_details.h) are not in manifest entries written
// by this build but in each snapshot object's header, read on demand (ReadSnapshotHeader: one
// small ranged read) and cached per snapshot id, as snapshots never change: the object ids of
// every snapshot read so far (what ProtectedObjectIds needs each GC round), the state table info
// of the most recently used ones up to BackupStorageOptions::cached_state_table_entries.
//
// Concurrency: thread-safe. Manifest changes from several processes never lose each other (see
// ManifestStore). CleanUpUnlisted must not run while a snapshot is being written at the same
// location unless `min_age_ms` exceeds the longest write: it would delete the new object before
// its manifest entry exists.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "backup/names.h"
#include "backup/snapshot_format.h"
#include "hummock/gc/object_protection.h"
#include "metastore/meta_store.h"
#include "objstore/object_store.h"

namespace rwmeta::backup {

struct BackupStorageOptions {
  ManifestStoreOptions manifest;
  SnapshotWriterOptions writer;
  // Bound on the state table entries of cached details (about 64 bytes each): 500,000 is 32 MB,
  // 50 snapshots of a 10,000-table cluster. Object ids are cached for every snapshot whatever
  // this says (GC needs all of them every round).
  size_t cached_state_table_entries = 500'000;
};

class BackupStorage : public hummock::ObjectProtectionSet {
 public:
  // REQUIRES: `store` outlives this.
  BackupStorage(objstore::ObjectStore* store, std::string directory,
                BackupStorageOptions options = {});

  // Writes snapshot `id` of `view` with `version` (header as in backup::WriteSnapshot, details
  // included), then adds its manifest entry (remarks, scheduled, rw_version from
  // header.rwmeta_version, the version's object count and largest object id, size and checksum of
  // the object; no inline details), and caches its details. AlreadyExists if the manifest lists
  // `id` already (checked before and, atomically, when publishing). Before publishing, the object
  // is read back from the store and checked whole (CheckObject): a failed check deletes it,
  // publishes nothing and returns the check's error (DataLoss for bytes that do not match, naming
  // the object). If publishing reports an error, the manifest is read again: if it lists the entry
  // after all (a lost response), that is success; if it certainly does not, the object is deleted;
  // if unsure, the object stays for CleanUpUnlisted. Returns the new entry.
  Result<SnapshotMetadata> WriteSnapshot(uint64_t id, metastore::ReadView& view,
                                         const hummock::HummockVersion& version,
                                         SnapshotHeader header,
                                         std::optional<std::string> remarks = std::nullopt,
                                         const metastore::Model& model = metastore::Model::Get(),
                                         bool scheduled = false);

  // The current manifest (empty if none). DataLoss if it does not decode.
  Result<Manifest> ReadManifest();

  // Removes `ids` from the manifest, then deletes their objects. NotFound naming every unknown id
  // if any id is not in the manifest; then nothing is deleted. An empty list is OK. If deleting
  // an object fails after the manifest changed, the error is returned and the object is an orphan
  // for CleanUpUnlisted.
  Status DeleteSnapshots(const std::vector<uint64_t>& ids);

  // A reader positioned after the preamble of snapshot `id`. NotFound if the manifest does not
  // list it; DataLoss if its object is missing or its preamble is bad; Unimplemented for an
  // unknown major version.
  Result<std::unique_ptr<SnapshotReader>> OpenSnapshot(uint64_t id);

  // Reads snapshot `id` whole without restoring anything and checks it against its manifest entry
  // (snapshot id, size, checksum, Hummock version id). Errors as OpenSnapshot and
  // SnapshotReader::ReadAll; DataLoss if the object is intact but not the one the manifest
  // describes. Returns the decoded header and version.
  Result<SnapshotContents> VerifySnapshot(uint64_t id);

  // The ids of every `<dir>/<n>.snapshot` object in the location, listed or not (one List), so
  // that a restored cluster's snapshot ids start above every object a job ever left here.
  Result<std::vector<uint64_t>> ListSnapshotObjectIds();

  // Deletes `<dir>/<n>.snapshot` objects the manifest does not list and that were last modified
  // at least `min_age_ms` ago. Returns the deleted keys, ascending. Other keys are never touched.
  Result<std::vector<std::string>> CleanUpUnlisted(int64_t min_age_ms = 0);

  // The details of snapshot `entry` (an entry of this location's manifest): its inline details
  // if it has them (an entry of the old layout), else from its object's header, cached. DataLoss
  // if the object is missing (it is listed), damaged in its header chunks, of format 1.0 (no
  // details there: the entry should have had them), or not the snapshot the entry describes
  // (snapshot id, Hummock version id, object count); Unimplemented for an unknown major version;
  // the store's error otherwise. Thread-safe; the result is shared and immutable.
  Result<std::shared_ptr<const SnapshotDetails>> Details(const SnapshotMetadata& entry);

  // The union of the object ids of every snapshot `manifest` lists (Details), ascending and
  // distinct. Exact or an error: if any listed snapshot's details cannot be read, that error
  // (with the snapshot named), so GC deletes nothing. Computed again only when the set of listed
  // snapshots changes; drops the cached details of snapshots `manifest` no longer lists.
  Result<std::vector<uint64_t>> ProtectedObjectIds(const Manifest& manifest);
  // The same over the manifest read now. Any error reading it is returned (GC then deletes
  // nothing).
  Result<std::vector<uint64_t>> ProtectedObjectIds() override;

  // Records `drill` as the latest restore drill of snapshot `id` in the manifest (replacing an
  // earlier one). NotFound if the manifest no longer lists `id`; the manifest's errors otherwise.
  // Returns the updated entry.
  Result<SnapshotMetadata> RecordDrill(uint64_t id, const DrillResult& drill);

  const std::string& directory() const { return directory_; }
  objstore::ObjectStore* store() const { return store_; }

 private:
  // Reads snapshot object `id` just written whole (every checksum, every row; the Hummock version
  // record by its checksums, not decoded: see SnapshotReadOptions) and checks it against
  // `expected` (snapshot id, size, checksum, Hummock version id), whether the manifest lists it or
  // not.
  Result<SnapshotContents> CheckObject(uint64_t id, const SnapshotMetadata& expected);
  // As CheckObject over `reader`; with options.decode_version, the version id compared is the
  // decoded version's, else the header's.
  Result<SnapshotContents> CheckContents(uint64_t id, SnapshotReader& reader,
                                         const SnapshotMetadata& expected,
                                         const SnapshotReadOptions& options = {});

  // The object ids of `entry`, from the entry, the cache or its header.
  Result<std::shared_ptr<const std::vector<uint64_t>>> ObjectIds(const SnapshotMetadata& entry);
  // Reads the details of a new-layout `entry` from its object's header and checks them against
  // the entry.
  Result<std::shared_ptr<const SnapshotDetails>> ReadDetails(const SnapshotMetadata& entry);
  // Caches `details` of snapshot `id`. REQUIRES: mu_ held.
  void CacheLocked(uint64_t id, std::shared_ptr<const SnapshotDetails> details);
  void ForgetLocked(uint64_t id);

  objstore::ObjectStore* store_;
  std::string directory_;
  BackupStorageOptions options_;
  ManifestStore manifest_;

  std::mutex mu_;  // guards the caches below
  // Snapshot id -> object ids, for every snapshot whose details were read or written.
  std::map<uint64_t, std::shared_ptr<const std::vector<uint64_t>>> object_ids_;
  // Snapshot id -> details, most recently used first in details_lru_; the sum of their state
  // table entries stays within cached_state_table_entries.
  std::map<uint64_t, std::shared_ptr<const SnapshotDetails>> details_;
  std::list<uint64_t> details_lru_;
  size_t cached_state_table_entries_ = 0;
  // The last ProtectedObjectIds union and the listed snapshot ids it was computed for.
  std::vector<uint64_t> protected_for_;
  std::vector<uint64_t> protected_ids_;
};

}  // namespace rwmeta::backup
