// ObjectStore: the one interface to every place rwmeta keeps objects (SSTs, version checkpoints,
// meta snapshots, manifests). Backends: memory (memory_object_store.h), local filesystem
// (fs/fs_object_store.h), S3 (s3/, a later addition). Pick one by URL with OpenObjectStore
// (factory.h).
//
// Keys are '/'-separated relative paths ("backup/manifest.json", "hummock_001/12.data"): no leading
// '/', no empty segments, no "." or ".." segments; anything else is InvalidArgument.
//
// Guarantees every backend gives (the conformance suite, object_store_conformance.h, checks them):
// - Put and a finished ObjectWriter replace the object atomically: a reader sees the whole old
// object
//   or the whole new one, never a mix or a prefix. An aborted or never-finished writer leaves
//   nothing visible (and no old object is disturbed).
// - Missing objects are NotFound for Get, GetRange, Head and OpenReader. Delete of a missing object
// is
//   OK (idempotent, as in S3).
// - List returns keys in byte-wise ascending order.
// - All methods are thread-safe; concurrent writers to one key: last finished write wins whole.
//   Conditional writes (PutOptions, for Put and OpenWriter alike) are compare-and-swaps: an
//   if_none_match write never replaces an object, whoever created it and whenever.
// - Backend failures: Unavailable when retrying might help (network, 5xx, timeouts), DataLoss for
//   short reads, PermissionDenied/Unauthenticated for credentials, Internal for local I/O bugs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rwmeta::objstore {

struct ObjectMeta {
  std::string key;
  uint64_t size_bytes = 0;
  // Milliseconds since the Unix epoch of the last write.
  int64_t last_modified_ms = 0;
  // Opaque version tag: changes whenever the content changes. Used for conditional writes.
  std::string etag;
};

// Conditions for a conditional Put or ObjectWriter (compare-and-swap on the whole object).
struct PutOptions {
  // Succeed only if the object does not exist. Otherwise Aborted, so that callers redo their
  // read-modify-write.
  bool if_none_match = false;
  // Succeed only if the object exists with this etag. Otherwise Aborted.
  std::optional<std::string> if_match_etag;
};

// Streaming upload. Bytes go to a staging place (a temp file, multipart parts) and become visible
// under the key only when Finish succeeds. Destroying an unfinished writer aborts it.
// Not thread-safe: one writer is used by one thread at a time.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  // Publishes the object atomically. After Finish (OK or not) only the destructor may be called.
  virtual Status Finish() = 0;
  // Discards everything written. OK if already aborted.
  virtual Status Abort() = 0;
  // Bytes appended so far.
  virtual uint64_t size_bytes() const = 0;
};

// Streaming download of one object as of when it was opened.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Reads up to `max_bytes` into `out` (replacing its contents). An empty `out` with OK means end
  // of object. DataLoss if the object turns out shorter than its size at open.
  virtual Status Read(size_t max_bytes, std::string* out) = 0;
  virtual uint64_t size_bytes() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Writes the whole object. With `options`, Aborted if the condition does not hold.
  virtual Status Put(std::string_view key, std::string_view data, const PutOptions& options) = 0;
  Status Put(std::string_view key, std::string_view data) { return Put(key, data, PutOptions{}); }

  // Starts a streaming upload to `key` (see ObjectWriter). With options.if_none_match, Finish fails
  // with Aborted (and publishes nothing, overwriting nothing) if the object exists by then; with
  // options.if_match_etag, Finish fails with Aborted unless the object exists with that etag.
  // The condition is checked atomically with publishing: of two if_none_match writers of one
  // key, exactly one Finish succeeds. Stores whose SupportsConditionalPut() is false return
  // Unimplemented for conditional options (from OpenWriter, before any byte is sent).
  virtual Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                           const PutOptions& options) = 0;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key) {
    return OpenWriter(key, PutOptions{});
  }

  // Reads the whole object. NotFound if missing.
  virtual Result<std::string> Get(std::string_view key) = 0;

  // Reads [offset, offset + length) clipped to the object's end. OutOfRange if offset > size.
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) = 0;

  // Opens a streaming reader. NotFound if missing. The default reads in ranges through GetRange
  // and only notices a replaced object if it got shorter (DataLoss); backends override it to read
  // the version that existed at open (memory keeps the bytes, fs keeps the open file, S3 should
  // read with If-Match on the etag), which the conformance suite checks.
  virtual Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key);

  // Size, modification time and etag. NotFound if missing.
  virtual Result<ObjectMeta> Head(std::string_view key) = 0;

  // Every object whose key starts with `prefix` (plain string prefix, not only whole segments),
  // ascending by key. An empty prefix lists everything.
  virtual Result<std::vector<ObjectMeta>> List(std::string_view prefix) = 0;

  // Deletes one object; OK if it does not exist.
  virtual Status Delete(std::string_view key) = 0;

  // Deletes every key in `keys`; missing keys are fine. The default calls Delete for each and
  // returns the first error after trying all.
  virtual Status DeleteMany(const std::vector<std::string>& keys);

  // "memory", "fs:///var/lib/x", "s3://bucket" — credentials never included.
  virtual std::string DisplayUrl() const = 0;

  // Whether Put and OpenWriter honour PutOptions natively. Stores that don't reject conditional
  // Puts and writers with Unimplemented, and callers fall back to a lock.
  virtual bool SupportsConditionalPut() const = 0;
};

// Checks `key` against the rules above: InvalidArgument naming the key if it breaks one.
Status ValidateKey(std::string_view key);

}  // namespace rwmeta::objstore
