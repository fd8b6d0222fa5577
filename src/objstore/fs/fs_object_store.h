// FsObjectStore: objects as files under a local directory ("fs:///var/lib/rwmeta/objects").
//
// Layout under the root directory:
//   <root>/<key>                  one regular file per object; '/' in keys are subdirectories
//   <root>/.rwmeta/tmp/<name>     staging files of writers in flight (never listed)
//   <root>/.rwmeta/lock           flock'ed to order conditional writes against other writes
// Keys whose first segment is ".rwmeta" are therefore reserved: InvalidArgument.
//
// Atomic replace: a writer streams into a staging file on the same filesystem, fsyncs it, renames
// it over the key and fsyncs the key's directory. Readers open the file, so a reader holds the old
// inode or the new one, never a mix. Staging files left by crashed processes are deleted when a
// store is opened on the directory (a live writer holds an flock on its staging file, so it is
// never mistaken for a stale one).
//
// Conditional Put and a conditional writer's Finish are safe across threads and processes: they
// hold <root>/.rwmeta/lock exclusively while they compare the etag and rename; every other publish
// or delete holds it shared. The etag
// is "<inode>-<size>-<mtime_ns>", and each publish stamps its staging file with a fresh,
// strictly increasing (per process) nanosecond mtime, so a new object never repeats the etag of
// the one it replaced even when the filesystem reuses the inode.
//
// Files and directories: a key cannot be both an object and a directory ("a" and "a/b"); a Put
// that would need that is FailedPrecondition. Reading or deleting a key that names a directory is
// NotFound / OK. Empty directories left by Delete are removed (best effort).
//
// Errors map errno: ENOENT -> NotFound, EACCES/EPERM/EROFS -> PermissionDenied,
// ENOSPC/EDQUOT -> ResourceExhausted, ENOTDIR -> FailedPrecondition (a
// file where a directory is needed), ENAMETOOLONG -> InvalidArgument (a key segment longer than
// the filesystem allows, usually 255 bytes), anything else -> Internal with strerror and the path.
//
// Thread-safe: all methods may be called concurrently; any number of stores (in this process or
// others) may share a root directory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "objstore/object_store.h"

namespace rwmeta::objstore {

class FsObjectStore : public ObjectStore {
 public:
  // Opens (creating if needed, with parents) the store rooted at `root_dir` and deletes stale
  // staging files. InvalidArgument if `root_dir` is not absolute; errno-mapped codes (above) if the
  // directory cannot be created or used.
  static Result<std::unique_ptr<FsObjectStore>> Open(std::string_view root_dir);

  Status Put(std::string_view key, std::string_view data, const PutOptions& options) override;
  using ObjectStore::Put;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const PutOptions& options) override;
  using ObjectStore::OpenWriter;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  // "fs://" + the root directory: "fs:///var/lib/x".
  std::string DisplayUrl() const override;
  bool SupportsConditionalPut() const override { return true; }

  const std::string& root_dir() const { return root_; }

  // The directory (relative to the root) holding staging files and the lock. Reserved as a key
  // prefix.
  static constexpr std::string_view kReservedDir = ".rwmeta";

  // Staging files younger than this are never deleted as stale, whatever their lock state (a
  // writer locks its file a moment after creating it).
  static constexpr int64_t kStaleStagingAgeMs = 10'000;

 private:
  explicit FsObjectStore(std::string root) : root_(std::move(root)) {}

  // ValidateKey plus the reserved prefix.
  Status CheckKey(std::string_view key) const;
  Status RemoveStaleStagingFiles();

  std::string root_;  // Absolute, no trailing '/' (except for "/" itself).
};

}  // namespace rwmeta::objstore
