// SstReader: reads one SST object (format: docs/format/sst.md) from an ObjectStore with ranged
// gets. Open reads the footer, index, bloom filter and meta block; data blocks are read lazily, one
// per iterator position, and not cached.
//
// Errors (messages start with the object's name, "sst 12.data: "):
//   NotFound        the object does not exist
//   DataLoss        bad magic, checksum mismatch ("block 3 checksum mismatch", "index block ..."),
//                   truncated object, offsets out of range, undecodable entries
//   Unimplemented   unknown major format version, or a required meta field this reader lacks
//   others          as the ObjectStore returned them (Unavailable, ...)
// Garbage never crashes the reader. An SstReader is immutable after Open and thread-safe for
// concurrent Get and NewIterator; each SstIterator is used by one thread. The ObjectStore must
// outlive the reader, and the reader its iterators.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hummock/sst/key.h"
#include "hummock/sst/sst_writer.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock {

class SstReader;

// Forward iterator over the entries of one SST in CompareFullKeys order, optionally bounded above.
// After an error Valid() is false and status() says why.
class SstIterator {
 public:
  // Positions at the first entry (>= lower bound is the caller's choice through Seek).
  void SeekToFirst();
  // Positions at the first entry whose full key is >= `full_key` (CompareFullKeys).
  void Seek(std::string_view full_key);
  // REQUIRES: Valid().
  void Next();
  bool Valid() const { return valid_; }
  // REQUIRES: Valid(). The views stay valid until the next Seek/Next.
  std::string_view key() const { return key_; }
  bool tombstone() const { return tombstone_; }
  std::string_view value() const { return value_; }
  // OK unless an error ended the iteration.
  const Status& status() const { return status_; }

 private:
  friend class SstReader;
  SstIterator(const SstReader* reader, std::string upper_bound)
      : reader_(reader), upper_bound_(std::move(upper_bound)) {}
  // Loads data block `block` and positions at its first entry >= target (all if target empty).
  bool LoadBlock(size_t block, std::string_view target);
  // Parses the entry at pos_ within the current block; false at the block's end or on error.
  bool ParseEntry();
  void Fail(Status s);
  void SkipToValid();

  const SstReader* reader_;
  std::string upper_bound_;  // exclusive; empty = none
  size_t block_index_ = 0;
  std::string block_;       // current block payload
  size_t entries_end_ = 0;  // where the restart array starts
  std::vector<uint32_t> restarts_;
  size_t pos_ = 0;  // next entry to parse
  std::string key_;
  std::string_view value_;
  bool tombstone_ = false;
  bool valid_ = false;
  Status status_;
};

class SstReader {
 public:
  // Opens the SST at `object_key`, whose size the version records as `expected_size` (0: ask the
  // store with Head). Errors as in the file comment.
  static Result<std::unique_ptr<SstReader>> Open(objstore::ObjectStore& store,
                                                 std::string object_key, uint64_t expected_size);

  // The newest version of (table_id, user_key) with epoch <= read_epoch: its bytes, or nullopt if
  // there is none or it is a tombstone. Consults the bloom filter first (no block read when it
  // says no). Errors as in the file comment.
  Result<std::optional<std::string>> Get(uint32_t table_id, std::string_view user_key,
                                         uint64_t read_epoch) const;

  // False only if (table_id, user_key) is certainly absent.
  bool MayContain(uint32_t table_id, std::string_view user_key) const;

  // An iterator over the whole SST, or over keys < `upper_bound` (an encoded full key) if given.
  // Unpositioned: call SeekToFirst or Seek.
  std::unique_ptr<SstIterator> NewIterator(std::string upper_bound = {}) const;

  // What the meta block and footer say (file_size is the object's size).
  const SstInfo& info() const { return info_; }
  const std::string& object_key() const { return object_key_; }

 private:
  friend class SstIterator;
  struct BlockHandle {
    std::string last_key;
    uint64_t offset;
    uint64_t size;
  };
  SstReader(objstore::ObjectStore& store, std::string object_key);
  // "sst 12.data: <what>"
  Status Corrupt(std::string what) const;
  // Reads [offset, offset + size) exactly; DataLoss if the object is shorter.
  Result<std::string> ReadRange(uint64_t offset, uint64_t size, std::string_view what) const;
  Result<std::string> ReadBlock(uint64_t offset, uint64_t size, std::string_view what) const;
  Status ParseIndex(std::string_view payload, uint64_t data_end);
  Status ParseBloom(std::string_view payload);
  Status ParseMeta(std::string_view payload);

  objstore::ObjectStore& store_;
  std::string object_key_;
  std::string name_;  // "sst 12.data"
  std::vector<BlockHandle> blocks_;
  uint32_t bloom_probes_ = 0;
  std::string bloom_bits_;
  SstInfo info_;
};

}  // namespace rwmeta::hummock
