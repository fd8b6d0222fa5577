// ObjectProtectionSet: SST objects that must outlive every Hummock version referencing them,
// because something outside the live version needs them (today: meta snapshots, filled in by the
// backup issue). Full GC and vacuum never delete a protected object.
//
// ## Why GC cannot race a backup into deleting a referenced object
//
// An object can be needed by: the current version, a version some reader or job has pinned, a
// write or compaction that has allocated its id but not committed it yet, or a meta snapshot.
// The protocol has two halves.
//
// Backup (the writer of this set):
//   1. pin the version it captures (pinned versions' objects are never deleted);
//   2. write the snapshot, then register the snapshot's object ids here (Protect);
//   3. only then unpin.
// So at every instant each object of a snapshot, in progress or finished, is pinned or protected
// (or both). Deleting a snapshot unprotects its objects; the next GC may then delete them.
//
// GC (the reader of this set; gc.h):
//   1. LIST the state store first;
//   2. then, in ONE critical section of the version manager, take the current version, the pinned
//      versions and the ids allocated but not yet committed;
//   3. then ask ProtectedObjectIds();
//   4. delete only listed objects older than the retention and in none of the sets of 2 and 3.
// Why this order is enough:
//   - An object id is never referenced again once no version holds it: versions only add objects
//     that were freshly allocated, so an object listed in 1 that is in no set of 2 can only become
//     needed through a snapshot of a version that already existed at 2.
//   - A backup that pinned before 2 and unpinned after it is caught by the pinned versions of 2.
//     One that unpinned before 2 protected its objects before that, so before 3: caught by 3.
//     One that pins after 2 pins a version at least as new as the current one of 2: each of its
//     objects was in that current version, or uncommitted at 2, or allocated after 2 and so
//     uploaded after the LIST of 1 (not a candidate).
//   - Reading pinned versions before the protection set matters: the other order misses a backup
//     that protects and unpins between the two reads.
//   - Objects uploaded after the LIST are not candidates at all; the retention is a second margin
//     for writers that upload before allocating ids are tracked.
// An error from ProtectedObjectIds aborts the GC pass: it never deletes on partial knowledge.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

class ObjectProtectionSet {  // thread-safe
 public:
  virtual ~ObjectProtectionSet() = default;
  // Every SST object id some meta snapshot references: GC and vacuum never delete these. Order and
  // duplicates do not matter. Any error (the backup manifest is unreadable, ...) makes the caller
  // abort its GC pass without deleting anything.
  virtual Result<std::vector<uint64_t>> ProtectedObjectIds() = 0;
};

// An in-memory protection set keyed by owner (a snapshot id): for tests and for a node without
// backups. Thread-safe.
class InMemoryObjectProtectionSet : public ObjectProtectionSet {
 public:
  // Protects `object_ids` on behalf of `owner_id`, replacing what that owner protected before.
  void Protect(uint64_t owner_id, std::vector<uint64_t> object_ids);
  // Drops every protection of `owner_id`. No-op for an unknown owner.
  void Unprotect(uint64_t owner_id);
  // Makes ProtectedObjectIds fail with `status` (OK clears it): to test that callers abort.
  void SetError(Status status);

  // The union over all owners, ascending and distinct, or the error set by SetError.
  Result<std::vector<uint64_t>> ProtectedObjectIds() override;

 private:
  std::mutex mu_;
  std::map<uint64_t, std::vector<uint64_t>> by_owner_;
  Status error_;
};

// The referenced set GC and vacuum keep (steps 2 and 3 above): objects of `current` and every
// version in `pinned`, `uncommitted_object_ids`, then `protection->ProtectedObjectIds()` (asked
// last; `protection` may be null when there are no snapshots). Ascending and distinct.
// REQUIRES: `current`, `pinned` and `uncommitted_object_ids` were taken in one critical section
// of the version manager. Returns the protection set's error unchanged, with context.
Result<std::vector<uint64_t>> CollectReferencedObjectIds(
    const HummockVersion& current, const std::vector<const HummockVersion*>& pinned,
    const std::vector<uint64_t>& uncommitted_object_ids, ObjectProtectionSet* protection);

}  // namespace rwmeta::hummock
