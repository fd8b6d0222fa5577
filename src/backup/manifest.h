// The backup manifest `<dir>/manifest.json`: the list of meta snapshots at a backup location. A
// snapshot object that is not in the manifest does not exist (it is an orphan to clean up). The
// JSON layout is documented in docs/format/manifest.md.
//
// Publishing (ManifestStore::Update) is a read-modify-write that never loses a concurrent update:
// - stores with conditional put: Head (etag), Get, change, Put with If-Match on that etag (or
//   If-None-Match for the first manifest). A lost race is Aborted and the update is redone.
// - stores without it (the S3 backend against s3rver): a lock made of per-writer lock objects
//   `<dir>/manifest.lock.<token>` with a lease (see ManifestStore's comment).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/names.h"
#include "backup/snapshot_details.h"
#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::backup {

// The latest restore drill of a snapshot: restored in-process into a scratch meta store and
// checked (JSON "drill").
struct DrillResult {
  int64_t at_ms = 0;        // wall-clock start, ms since the Unix epoch
  int64_t duration_ms = 0;  // how long it took
  bool passed = false;
  std::string message;  // what was checked, or what failed
  friend bool operator==(const DrillResult&, const DrillResult&) = default;
};

// One snapshot's manifest entry. Its size does not depend on the catalog: the details that do
// (object ids, state table info) live in the snapshot object's header (format 1.1), read through
// BackupStorage::Details.
struct SnapshotMetadata {
  uint64_t id = 0;
  uint64_t hummock_version_id = 0;
  // JSON `ssts` and `state_table_info`: set only for entries of manifests written before format
  // 1.1 (which carried the details inline), and then re-encoded as they were. Entries written by
  // this build leave it empty. Read details through BackupStorage::Details, never here.
  std::optional<SnapshotDetails> inline_details;
  uint32_t format_version = 0;
  std::optional<std::string> remarks;
  std::optional<std::string> rw_version;
  uint64_t max_committed_epoch = 0;
  uint64_t safe_epoch = 0;
  uint64_t size_bytes = 0;  // JSON "size"
  uint64_t checksum = 0;    // the snapshot trailer's XXH64
  int64_t created_at_ms = 0;
  // How many objects the version references, and the largest id (0 if none): what the job's
  // message and restore's id floor need, without the details. Derived from `ssts` for old
  // entries (and then not written, so they stay as they were).
  uint64_t object_count = 0;
  uint64_t max_object_id = 0;
  // Made by the meta node's schedule rather than on demand (JSON "scheduled", omitted if false).
  bool scheduled = false;
  // The latest restore drill of this snapshot; empty if never drilled.
  std::optional<DrillResult> drill;
  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Manifest {
  // Grows by one on every published change. 0 for a location without a manifest.
  uint64_t manifest_id = 0;
  // In creation order.
  std::vector<SnapshotMetadata> snapshots;

  // The entry with `id`, or nullptr.
  const SnapshotMetadata* Find(uint64_t id) const;
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// Deterministic, indented JSON ending in a newline.
std::string EncodeManifest(const Manifest& manifest);
// DataLoss naming `object_name` if `json` is not a manifest (syntax, a missing or mistyped
// required field). Unknown fields are ignored.
Result<Manifest> DecodeManifest(std::string_view json, std::string_view object_name);

struct ManifestStoreOptions {
  // Lock fallback only. A lock object older than this is taken to be left by a dead writer and
  // ignored. A holder does not publish once it has held the lock for lease_ms - safety_margin_ms.
  int64_t lease_ms = 30'000;
  int64_t safety_margin_ms = 5'000;
  // How long Update keeps retrying (lost CAS races, a held lock) before returning Aborted.
  int64_t timeout_ms = 60'000;
  // Use the lock even if the store supports conditional put (tests).
  bool force_lock = false;
};

// Reads and publishes the manifest of one backup location.
//
// Concurrency:
//   | caller                                   | guarantee                                  |
//   | Read, from any thread or process         | a whole manifest, never a mix              |
//   | Update, threads of one ManifestStore     | serialized by a mutex                      |
//   | Update, different stores or processes    | CAS: redo on Aborted; lock: mutual exclusion |
//
// The lock fallback (store without conditional put): a writer Puts its own lock object
// `<dir>/manifest.lock.<random token>`, then Lists `<dir>/manifest.lock.`; if any other live
// (younger than lease_ms by the store's modification time) lock object is there, it deletes its
// own, backs off for a random time and tries again; otherwise it holds the lock (expired lock
// objects are deleted on the way). Two writers can never both hold it: each lists after its own
// Put, so the later lister sees the other's object.
// The lease only matters when a holder dies; a holder never publishes after lease_ms -
// safety_margin_ms (Aborted instead), so a slow holder cannot overwrite a newer manifest. This
// needs read-after-write consistent List (S3, fs, memory) and clocks within safety_margin_ms.
class ManifestStore {
 public:
  // REQUIRES: `store` outlives this.
  ManifestStore(objstore::ObjectStore* store, std::string directory,
                ManifestStoreOptions options = {});

  // The current manifest; an empty one (manifest_id 0) if there is none. DataLoss if it does not
  // decode; the store's error otherwise.
  Result<Manifest> Read();

  // Applies `mutate` to the latest manifest and publishes it with manifest_id + 1, redoing the
  // whole read-modify-write when a concurrent writer got there first. `mutate` may run several
  // times and must depend only on the manifest it is given; its non-OK status is returned as is
  // and nothing is published. Returns the published manifest. Aborted if it could not publish
  // within timeout_ms.
  Result<Manifest> Update(const std::function<Status(Manifest&)>& mutate);

  const std::string& directory() const { return directory_; }

 private:
  Result<Manifest> TryUpdateCas(const std::function<Status(Manifest&)>& mutate);
  Result<Manifest> UpdateLocked(const std::function<Status(Manifest&)>& mutate);
  // Acquires the lock object; returns its key.
  Result<std::string> AcquireLock(int64_t deadline_ms);

  objstore::ObjectStore* store_;
  std::string directory_;
  ManifestStoreOptions options_;
  std::mutex mu_;
};

}  // namespace rwmeta::backup
