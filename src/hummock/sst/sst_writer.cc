#include "hummock/sst/sst_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/coding.h"
#include "hummock/sst/sst_format.h"

namespace rwmeta::hummock {

using namespace sst_format;  // NOLINT(google-build-using-namespace): the format's own constants

namespace {
constexpr std::string_view kCollision = "already exists in the state store";
}  // namespace

Result<std::unique_ptr<objstore::ObjectWriter>> OpenSstObjectWriter(objstore::ObjectStore& store,
                                                                    std::string_view data_directory,
                                                                    uint64_t object_id) {
  objstore::PutOptions once;
  once.if_none_match = store.SupportsConditionalPut();
  return store.OpenWriter(SstObjectKey(data_directory, object_id), once);
}

bool IsSstCollision(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find(kCollision) != std::string_view::npos;
}

SstWriter::SstWriter(std::unique_ptr<objstore::ObjectWriter> out, SstWriterOptions options)
    : out_(std::move(out)), options_(options) {
  if (options_.restart_interval < 1) options_.restart_interval = 1;
  if (options_.block_size_bytes < 1) options_.block_size_bytes = 1;
  if (options_.bloom_bits_per_key < 1) options_.bloom_bits_per_key = 1;
  info_.object_id = options_.object_id;
}

SstWriter::~SstWriter() {
  // Nothing may become visible from an unfinished writer.
  if (!done_) Abort().IgnoreError();
}

Status SstWriter::Write(std::string_view bytes) {
  Status s = out_->Append(bytes);
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  offset_ += bytes.size();
  return Status::Ok();
}

Status SstWriter::Add(std::string_view full_key, const Value& value) {
  if (done_) return FailedPreconditionError("sst writer: Add after Finish or Abort");
  if (!failed_.ok()) return failed_;
  if (full_key.size() < kMinFullKeyBytes) {
    return InvalidArgumentError("sst writer: full key of " + std::to_string(full_key.size()) +
                                " bytes is shorter than 12");
  }
  if (value.tombstone && !value.bytes.empty()) {
    return InvalidArgumentError("sst writer: tombstone with value bytes");
  }
  if (info_.total_key_count > 0 && CompareFullKeys(full_key, last_key_) <= 0) {
    return InvalidArgumentError("sst writer: keys out of order (a key not greater than the last)");
  }

  // Bloom: one hash per distinct (table id, user key); equal ones arrive consecutively.
  std::string_view table_user_key = TableUserKeyOf(full_key);
  if (info_.total_key_count == 0 || TableUserKeyOf(last_key_) != table_user_key) {
    bloom_hashes_.push_back(Hash64(table_user_key));
  }
  uint32_t table_id = DecodeFullKey(full_key)->table_id;
  if (info_.table_ids.empty() || info_.table_ids.back() != table_id) {
    info_.table_ids.push_back(table_id);  // ascending: the table id leads the key order
  }
  uint64_t epoch = EpochOf(full_key);
  if (info_.total_key_count == 0) {
    info_.smallest_key.assign(full_key);
    info_.min_epoch = info_.max_epoch = epoch;
  }
  info_.min_epoch = std::min(info_.min_epoch, epoch);
  info_.max_epoch = std::max(info_.max_epoch, epoch);
  ++info_.total_key_count;
  if (value.tombstone) ++info_.tombstone_key_count;

  // Entry: shared u32v, unshared u32v, value length u32v, key delta, value.
  size_t shared = 0;
  if (entries_since_restart_ == options_.restart_interval || block_.empty()) {
    restarts_.push_back(static_cast<uint32_t>(block_.size()));
    entries_since_restart_ = 0;
  } else {
    size_t limit = std::min(last_key_.size(), full_key.size());
    while (shared < limit && last_key_[shared] == full_key[shared]) ++shared;
  }
  PutVarint32(&block_, static_cast<uint32_t>(shared));
  PutVarint32(&block_, static_cast<uint32_t>(full_key.size() - shared));
  PutVarint32(&block_, static_cast<uint32_t>(1 + value.bytes.size()));
  block_.append(full_key.substr(shared));
  AppendValue(value.tombstone, value.bytes, &block_);
  ++entries_since_restart_;
  last_key_.assign(full_key);
  peak_block_bytes_ = std::max(peak_block_bytes_, block_.size());

  if (block_.size() >= options_.block_size_bytes) return FlushBlock();
  return Status::Ok();
}

Status SstWriter::FlushBlock() {
  if (block_.empty()) return Status::Ok();
  for (uint32_t r : restarts_) PutFixed32(&block_, r);
  PutFixed32(&block_, static_cast<uint32_t>(restarts_.size()));
  peak_block_bytes_ = std::max(peak_block_bytes_, block_.size());
  std::string stored = FrameBlock(block_, options_.compress, options_.zstd_level);
  index_.push_back(IndexEntry{last_key_, offset_, stored.size()});
  block_.clear();
  restarts_.clear();
  entries_since_restart_ = 0;
  return Write(stored);
}

Result<SstInfo> SstWriter::Finish() {
  if (done_) return FailedPreconditionError("sst writer: Finish called twice or after Abort");
  if (!failed_.ok()) return failed_;
  RWMETA_RETURN_IF_ERROR(FlushBlock());
  info_.largest_key = last_key_;
  info_.block_count = index_.size();

  // Index block: count u32, then per block: key length u32v, last key, offset u64, size u64.
  std::string index;
  PutFixed32(&index, static_cast<uint32_t>(index_.size()));
  for (const IndexEntry& e : index_) {
    PutVarint32(&index, static_cast<uint32_t>(e.last_key.size()));
    index.append(e.last_key);
    PutFixed64(&index, e.offset);
    PutFixed64(&index, e.size);
  }
  uint64_t index_offset = offset_;
  std::string stored = FrameBlock(index, false, 0);
  RWMETA_RETURN_IF_ERROR(Write(stored));
  uint64_t index_size = stored.size();

  // Bloom block: probes u8, bit count u32, bits.
  // At least 64 bits; at most what a u32 bit count holds (a multiple of 8).
  uint32_t bits = static_cast<uint32_t>(std::clamp<uint64_t>(
      bloom_hashes_.size() * static_cast<uint64_t>(options_.bloom_bits_per_key), 64, 0xFFFFFFF8));
  bits = (bits + 7) / 8 * 8;
  int probes = std::clamp(static_cast<int>(options_.bloom_bits_per_key * 0.69), 1, 30);
  std::string bloom;
  bloom.push_back(static_cast<char>(probes));
  PutFixed32(&bloom, bits);
  size_t bits_at = bloom.size();
  bloom.append(bits / 8, '\0');
  for (uint64_t h : bloom_hashes_) {
    uint32_t h1 = static_cast<uint32_t>(h);
    uint32_t h2 = static_cast<uint32_t>(h >> 32) | 1;
    for (int i = 0; i < probes; ++i) {
      uint32_t bit = (h1 + static_cast<uint32_t>(i) * h2) % bits;
      bloom[bits_at + bit / 8] = static_cast<char>(bloom[bits_at + bit / 8] | (1 << (bit % 8)));
    }
  }
  bloom_hashes_.clear();
  bloom_hashes_.shrink_to_fit();
  uint64_t bloom_offset = offset_;
  stored = FrameBlock(bloom, false, 0);
  RWMETA_RETURN_IF_ERROR(Write(stored));
  uint64_t bloom_size = stored.size();

  // Meta block: fields of tag u16, length u32, bytes.
  std::string meta;
  auto field = [&meta](uint16_t tag, std::string_view bytes) {
    PutFixed16(&meta, tag);
    PutFixed32(&meta, static_cast<uint32_t>(bytes.size()));
    meta.append(bytes);
  };
  auto u64_field = [&field](uint16_t tag, uint64_t v) {
    std::string b;
    PutFixed64(&b, v);
    field(tag, b);
  };
  u64_field(kTagObjectId, info_.object_id);
  std::string tables;
  for (uint32_t t : info_.table_ids) PutFixed32(&tables, t);
  field(kTagTableIds, tables);
  u64_field(kTagMinEpoch, info_.min_epoch);
  u64_field(kTagMaxEpoch, info_.max_epoch);
  u64_field(kTagTotalKeys, info_.total_key_count);
  u64_field(kTagTombstoneKeys, info_.tombstone_key_count);
  field(kTagSmallestKey, info_.smallest_key);
  field(kTagLargestKey, info_.largest_key);
  u64_field(kTagBlockCount, info_.block_count);
  uint64_t meta_offset = offset_;
  stored = FrameBlock(meta, false, 0);
  RWMETA_RETURN_IF_ERROR(Write(stored));
  uint64_t meta_size = stored.size();

  std::string footer;
  for (uint64_t v : {index_offset, index_size, bloom_offset, bloom_size, meta_offset, meta_size}) {
    PutFixed64(&footer, v);
  }
  PutFixed16(&footer, kMajorVersion);
  PutFixed16(&footer, kMinorVersion);
  PutFixed32(&footer, 0);  // reserved
  PutFixed64(&footer, Hash64(footer));
  PutFixed64(&footer, kMagic);
  RWMETA_RETURN_IF_ERROR(Write(footer));
  info_.file_size = offset_;

  done_ = true;
  Status s = out_->Finish();
  if (IsAborted(s)) {
    // if-none-match (OpenSstObjectWriter) lost: the id is someone else's object.
    s = FailedPreconditionError(fmt::format(
        "sst object {} {} (written by a superseded generation of the cluster or another meta "
        "node): nothing was overwritten; {}",
        options_.object_id, kCollision, s.message()));
  }
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  return info_;
}

Status SstWriter::Abort() {
  if (done_) return Status::Ok();
  done_ = true;
  return out_->Abort();
}

}  // namespace rwmeta::hummock
