// SstWriter: builds one immutable SST object (format: docs/format/sst.md) by streaming blocks to an
// ObjectWriter as they fill. It holds at most one data block being built, the index (last key,
// offset and size per block) and 8 bytes of bloom-filter hash per distinct user key — never the
// whole SST.
//
// Usage:
//   SstWriter w(std::move(object_writer), {.object_id = 12});
//   RWMETA_RETURN_IF_ERROR(w.Add(EncodeFullKey(t, k, e), Value::Put("v")));  // increasing order
//   RWMETA_ASSIGN_OR_RETURN(SstInfo info, w.Finish());  // publishes the object
// Not thread-safe. Destroying an unfinished writer aborts the upload (nothing becomes visible).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hummock/names.h"
#include "hummock/sst/key.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock {

// Opens the upload of a new SST object. SST objects are written once and never replaced: where
// the store honours conditional puts the writer is if-none-match, so an object of the same id that
// exists by the time the upload finishes (written by a superseded generation of the cluster, or by
// anyone else) is never overwritten, and SstWriter::Finish fails with FailedPrecondition
// (IsSstCollision). The store's errors otherwise.
Result<std::unique_ptr<objstore::ObjectWriter>> OpenSstObjectWriter(objstore::ObjectStore& store,
                                                                    std::string_view data_directory,
                                                                    uint64_t object_id);

// Whether `status` (from SstWriter::Finish) says the object already existed and nothing was
// written: the caller must not delete that object, which is not its own.
bool IsSstCollision(const Status& status);

struct SstWriterOptions {
  // Recorded in the meta block and the SstInfo; names the object in messages.
  uint64_t object_id = 0;
  // A data block is closed once its uncompressed entries reach this size.
  size_t block_size_bytes = 64 * 1024;
  // Every this many entries the full key is stored (a restart point) instead of a delta.
  int restart_interval = 16;
  // Compress data blocks with zstd (each block keeps the compressed form only if smaller).
  bool compress = false;
  int zstd_level = 3;
  // Bloom filter bits per distinct (table id, user key).
  int bloom_bits_per_key = 10;
};

// What a finished SST holds: the version keeps this per SST.
struct SstInfo {
  uint64_t object_id = 0;
  std::string smallest_key;  // encoded full keys; empty for an SST with no keys
  std::string largest_key;
  uint64_t file_size = 0;
  std::vector<uint32_t> table_ids;  // ascending, distinct
  uint64_t min_epoch = 0;           // 0/0 for an SST with no keys
  uint64_t max_epoch = 0;
  uint64_t total_key_count = 0;
  uint64_t tombstone_key_count = 0;
  uint64_t block_count = 0;

  friend bool operator==(const SstInfo&, const SstInfo&) = default;
};

class SstWriter {
 public:
  SstWriter(std::unique_ptr<objstore::ObjectWriter> out, SstWriterOptions options);
  ~SstWriter();
  SstWriter(const SstWriter&) = delete;
  SstWriter& operator=(const SstWriter&) = delete;

  // Adds one entry. `full_key` must be an encoded full key (EncodeFullKey) strictly greater than
  // the previous one under CompareFullKeys: InvalidArgument otherwise (also for keys shorter than
  // 12 bytes), and the writer stays usable. Errors of the ObjectWriter are returned as they are
  // and leave the writer failed (every later call returns the same error).
  Status Add(std::string_view full_key, const Value& value);
  Status Add(uint32_t table_id, std::string_view user_key, uint64_t epoch, const Value& value) {
    return Add(EncodeFullKey(table_id, user_key, epoch), value);
  }

  // Writes the last data block, the index, bloom filter, meta block and footer, and publishes the
  // object (ObjectWriter::Finish). FailedPrecondition if called twice or after a failure.
  Result<SstInfo> Finish();

  // Discards the upload. OK if already finished or aborted.
  Status Abort();

  // Bytes of the data block being built (uncompressed), and the largest that ever was: how much
  // table data the writer holds at most.
  size_t buffered_block_bytes() const { return block_.size(); }
  size_t peak_buffered_block_bytes() const { return peak_block_bytes_; }

 private:
  Status FlushBlock();
  Status Write(std::string_view bytes);

  struct IndexEntry {
    std::string last_key;
    uint64_t offset;
    uint64_t size;
  };

  std::unique_ptr<objstore::ObjectWriter> out_;
  SstWriterOptions options_;
  Status failed_;
  bool done_ = false;
  uint64_t offset_ = 0;

  std::string block_;
  std::vector<uint32_t> restarts_;
  int entries_since_restart_ = 0;
  std::string last_key_;
  size_t peak_block_bytes_ = 0;

  std::vector<IndexEntry> index_;
  std::vector<uint64_t> bloom_hashes_;
  SstInfo info_;
};

}  // namespace rwmeta::hummock
