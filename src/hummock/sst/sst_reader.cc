#include "hummock/sst/sst_reader.h"

#include <algorithm>

#include "common/coding.h"
#include "hummock/sst/sst_format.h"

namespace rwmeta::hummock {

using namespace sst_format;  // NOLINT(google-build-using-namespace): the format's own constants

// ---- SstReader ----

SstReader::SstReader(objstore::ObjectStore& store, std::string object_key)
    : store_(store), object_key_(std::move(object_key)) {
  size_t slash = object_key_.rfind('/');
  name_ = "sst " + (slash == std::string::npos ? object_key_ : object_key_.substr(slash + 1));
}

Status SstReader::Corrupt(std::string what) const { return DataLossError(name_ + ": " + what); }

Result<std::string> SstReader::ReadRange(uint64_t offset, uint64_t size,
                                         std::string_view what) const {
  Result<std::string> r = store_.GetRange(object_key_, offset, size);
  if (!r.ok()) {
    Status s = r.status();
    if (s.code() == StatusCode::kNotFound) {
      return NotFoundError(name_ + ": object " + object_key_ + " not found");
    }
    if (s.code() == StatusCode::kOutOfRange) {
      return Corrupt(std::string(what) + " truncated: object is shorter than its recorded size");
    }
    return s.WithContext(name_ + ": reading " + std::string(what));
  }
  if (r->size() != size) {
    return Corrupt(std::string(what) + " truncated: object is shorter than its recorded size");
  }
  return r;
}

Result<std::string> SstReader::ReadBlock(uint64_t offset, uint64_t size,
                                         std::string_view what) const {
  RWMETA_ASSIGN_OR_RETURN(std::string stored, ReadRange(offset, size, what));
  Result<std::string> payload = UnframeBlock(stored, what);
  if (!payload.ok()) return Corrupt(payload.status().message());
  return payload;
}

Result<std::unique_ptr<SstReader>> SstReader::Open(objstore::ObjectStore& store,
                                                   std::string object_key, uint64_t expected_size) {
  std::unique_ptr<SstReader> reader(new SstReader(store, std::move(object_key)));
  uint64_t size = expected_size;
  if (size == 0) {
    Result<objstore::ObjectMeta> meta = store.Head(reader->object_key_);
    if (!meta.ok()) {
      if (meta.status().code() == StatusCode::kNotFound) {
        return NotFoundError(reader->name_ + ": object " + reader->object_key_ + " not found");
      }
      return meta.status().WithContext(reader->name_);
    }
    size = meta->size_bytes;
  }
  if (size < kFooterBytes) {
    return reader->Corrupt("object of " + std::to_string(size) +
                           " bytes is shorter than the 72-byte footer");
  }
  uint64_t footer_start = size - kFooterBytes;
  RWMETA_ASSIGN_OR_RETURN(std::string footer,
                          reader->ReadRange(footer_start, kFooterBytes, "footer"));
  const char* f = footer.data();
  if (DecodeFixed64(f + 64) != kMagic) return reader->Corrupt("footer has a bad magic number");
  if (DecodeFixed64(f + 56) != Hash64(std::string_view(f, 56))) {
    return reader->Corrupt("footer checksum mismatch");
  }
  uint16_t major = DecodeFixed16(f + 48);
  if (major != kMajorVersion) {
    return UnimplementedError(reader->name_ + ": sst format version " + std::to_string(major) +
                              "." + std::to_string(DecodeFixed16(f + 50)) +
                              " is not supported (this reader knows version 1)");
  }
  uint64_t h[6];
  for (int i = 0; i < 6; ++i) h[i] = DecodeFixed64(f + 8 * i);
  const char* names[3] = {"index block", "bloom block", "meta block"};
  for (int i = 0; i < 3; ++i) {
    uint64_t off = h[2 * i], len = h[2 * i + 1];
    if (len < kBlockTrailerBytes || off > footer_start || len > footer_start - off) {
      return reader->Corrupt(std::string(names[i]) + " offset " + std::to_string(off) + " size " +
                             std::to_string(len) + " out of range");
    }
  }
  RWMETA_ASSIGN_OR_RETURN(std::string index, reader->ReadBlock(h[0], h[1], "index block"));
  RWMETA_RETURN_IF_ERROR(reader->ParseIndex(index, h[0]));
  RWMETA_ASSIGN_OR_RETURN(std::string bloom, reader->ReadBlock(h[2], h[3], "bloom block"));
  RWMETA_RETURN_IF_ERROR(reader->ParseBloom(bloom));
  RWMETA_ASSIGN_OR_RETURN(std::string meta, reader->ReadBlock(h[4], h[5], "meta block"));
  RWMETA_RETURN_IF_ERROR(reader->ParseMeta(meta));
  reader->info_.file_size = size;
  return reader;
}

Status SstReader::ParseIndex(std::string_view payload, uint64_t data_end) {
  if (payload.size() < 4) return Corrupt("index block too short");
  uint32_t count = DecodeFixed32(payload.data());
  std::string_view in = payload.substr(4);
  uint64_t expected_offset = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t key_len = 0;
    if (!GetVarint32(&in, &key_len) || in.size() < uint64_t{key_len} + 16) {
      return Corrupt("index block entry " + std::to_string(i) + " truncated");
    }
    BlockHandle b;
    b.last_key.assign(in.substr(0, key_len));
    in.remove_prefix(key_len);
    b.offset = DecodeFixed64(in.data());
    b.size = DecodeFixed64(in.data() + 8);
    in.remove_prefix(16);
    if (b.last_key.size() < kMinFullKeyBytes) {
      return Corrupt("index block entry " + std::to_string(i) + " has a short key");
    }
    if (b.offset != expected_offset || b.size < kBlockTrailerBytes || b.offset > data_end ||
        b.size > data_end - b.offset) {
      return Corrupt("block " + std::to_string(i) + " offset " + std::to_string(b.offset) +
                     " size " + std::to_string(b.size) + " out of range");
    }
    if (!blocks_.empty() && CompareFullKeys(blocks_.back().last_key, b.last_key) >= 0) {
      return Corrupt("index block keys out of order at entry " + std::to_string(i));
    }
    expected_offset = b.offset + b.size;
    blocks_.push_back(std::move(b));
  }
  if (!in.empty()) return Corrupt("index block has trailing bytes");
  return Status::Ok();
}

Status SstReader::ParseBloom(std::string_view payload) {
  if (payload.size() < 5) return Corrupt("bloom block too short");
  bloom_probes_ = static_cast<uint8_t>(payload[0]);
  uint32_t bits = DecodeFixed32(payload.data() + 1);
  if (bloom_probes_ < 1 || bloom_probes_ > 30 || bits == 0 || bits % 8 != 0 ||
      payload.size() - 5 != bits / 8) {
    return Corrupt("bloom block header is inconsistent");
  }
  bloom_bits_.assign(payload.substr(5));
  return Status::Ok();
}

Status SstReader::ParseMeta(std::string_view payload) {
  size_t pos = 0;
  while (pos < payload.size()) {
    if (payload.size() - pos < 6) return Corrupt("meta block field header truncated");
    uint16_t tag = DecodeFixed16(payload.data() + pos);
    uint32_t len = DecodeFixed32(payload.data() + pos + 2);
    pos += 6;
    if (payload.size() - pos < len)
      return Corrupt("meta block field " + std::to_string(tag) + " truncated");
    std::string_view bytes = payload.substr(pos, len);
    pos += len;
    auto u64 = [&](uint64_t* out) -> Status {
      if (bytes.size() != 8) {
        return Corrupt("meta block field " + std::to_string(tag) + " has length " +
                       std::to_string(bytes.size()));
      }
      *out = DecodeFixed64(bytes.data());
      return Status::Ok();
    };
    switch (tag) {
      case kTagObjectId:
        RWMETA_RETURN_IF_ERROR(u64(&info_.object_id));
        break;
      case kTagTableIds:
        if (bytes.size() % 4 != 0) return Corrupt("meta block table ids have a bad length");
        info_.table_ids.clear();
        for (size_t i = 0; i < bytes.size(); i += 4) {
          info_.table_ids.push_back(DecodeFixed32(bytes.data() + i));
        }
        break;
      case kTagMinEpoch:
        RWMETA_RETURN_IF_ERROR(u64(&info_.min_epoch));
        break;
      case kTagMaxEpoch:
        RWMETA_RETURN_IF_ERROR(u64(&info_.max_epoch));
        break;
      case kTagTotalKeys:
        RWMETA_RETURN_IF_ERROR(u64(&info_.total_key_count));
        break;
      case kTagTombstoneKeys:
        RWMETA_RETURN_IF_ERROR(u64(&info_.tombstone_key_count));
        break;
      case kTagSmallestKey:
        info_.smallest_key.assign(bytes);
        break;
      case kTagLargestKey:
        info_.largest_key.assign(bytes);
        break;
      case kTagBlockCount:
        RWMETA_RETURN_IF_ERROR(u64(&info_.block_count));
        if (info_.block_count != blocks_.size()) {
          return Corrupt("meta block says " + std::to_string(info_.block_count) +
                         " blocks, the index has " + std::to_string(blocks_.size()));
        }
        break;
      default:
        if (tag & kRequiredTagBit) {
          return UnimplementedError(name_ + ": meta block has required field " +
                                    std::to_string(tag) + " unknown to this reader");
        }
        break;  // optional and unknown: skipped
    }
  }
  return Status::Ok();
}

bool SstReader::MayContain(uint32_t table_id, std::string_view user_key) const {
  std::string table_user_key = EncodeFullKey(table_id, user_key, 0);
  uint64_t h = Hash64(TableUserKeyOf(table_user_key));
  uint32_t bits = static_cast<uint32_t>(bloom_bits_.size() * 8);
  uint32_t h1 = static_cast<uint32_t>(h);
  uint32_t h2 = static_cast<uint32_t>(h >> 32) | 1;
  for (uint32_t i = 0; i < bloom_probes_; ++i) {
    uint32_t bit = (h1 + i * h2) % bits;
    if ((static_cast<uint8_t>(bloom_bits_[bit / 8]) & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

Result<std::optional<std::string>> SstReader::Get(uint32_t table_id, std::string_view user_key,
                                                  uint64_t read_epoch) const {
  if (!MayContain(table_id, user_key)) return std::optional<std::string>();
  std::string target = EncodeFullKey(table_id, user_key, read_epoch);
  std::unique_ptr<SstIterator> it = NewIterator();
  it->Seek(target);
  if (!it->Valid()) {
    if (!it->status().ok()) return it->status();
    return std::optional<std::string>();
  }
  if (TableUserKeyOf(it->key()) != TableUserKeyOf(target) || it->tombstone()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(it->value()));
}

std::unique_ptr<SstIterator> SstReader::NewIterator(std::string upper_bound) const {
  return std::unique_ptr<SstIterator>(new SstIterator(this, std::move(upper_bound)));
}

// ---- SstIterator ----

void SstIterator::Fail(Status s) {
  status_ = std::move(s);
  valid_ = false;
}

bool SstIterator::LoadBlock(size_t block, std::string_view /*target*/) {
  const SstReader::BlockHandle& h = reader_->blocks_[block];
  std::string what = "block " + std::to_string(block);
  Result<std::string> payload = reader_->ReadBlock(h.offset, h.size, what);
  if (!payload.ok()) {
    Fail(payload.status());
    return false;
  }
  block_ = std::move(payload).value();
  block_index_ = block;
  key_.clear();
  restarts_.clear();
  if (block_.size() < 4) {
    Fail(reader_->Corrupt(what + " is too short for its restart count"));
    return false;
  }
  uint32_t n = DecodeFixed32(block_.data() + block_.size() - 4);
  if (n == 0 || (block_.size() - 4) / 4 < n) {
    Fail(reader_->Corrupt(what + " has a bad restart count " + std::to_string(n)));
    return false;
  }
  entries_end_ = block_.size() - 4 - 4 * size_t{n};
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t r = DecodeFixed32(block_.data() + entries_end_ + 4 * i);
    if (r >= entries_end_ || (!restarts_.empty() && r <= restarts_.back())) {
      Fail(reader_->Corrupt(what + " restart point " + std::to_string(i) + " out of range"));
      return false;
    }
    restarts_.push_back(r);
  }
  pos_ = restarts_[0];
  return true;
}

bool SstIterator::ParseEntry() {
  if (pos_ >= entries_end_) return false;
  const size_t at = pos_;
  std::string_view in(block_.data() + pos_, entries_end_ - pos_);
  uint32_t shared = 0, unshared = 0, value_len = 0;
  if (!GetVarint32(&in, &shared) || !GetVarint32(&in, &unshared) || !GetVarint32(&in, &value_len) ||
      shared > key_.size() || in.size() < uint64_t{unshared} + value_len || value_len == 0) {
    Fail(reader_->Corrupt("block " + std::to_string(block_index_) + " entry at offset " +
                          std::to_string(at) + " is corrupt"));
    return false;
  }
  key_.resize(shared);
  key_.append(in.substr(0, unshared));
  std::string_view value = in.substr(unshared, value_len);
  in.remove_prefix(uint64_t{unshared} + value_len);
  pos_ = entries_end_ - in.size();
  uint8_t flag = static_cast<uint8_t>(value[0]);
  if (key_.size() < kMinFullKeyBytes || flag > 1 || (flag == 1 && value_len != 1)) {
    Fail(reader_->Corrupt("block " + std::to_string(block_index_) + " entry at offset " +
                          std::to_string(at) + " is corrupt"));
    return false;
  }
  tombstone_ = flag == 1;
  value_ = value.substr(1);
  return true;
}

void SstIterator::SkipToValid() {
  // Called with an entry parsed (valid_ true) or the current block exhausted (valid_ false).
  while (!valid_) {
    if (!status_.ok()) return;
    if (block_index_ + 1 >= reader_->blocks_.size()) return;
    if (!LoadBlock(block_index_ + 1, {})) return;
    valid_ = ParseEntry();
  }
  if (!upper_bound_.empty() && CompareFullKeys(key_, upper_bound_) >= 0) valid_ = false;
}

void SstIterator::SeekToFirst() {
  valid_ = false;
  status_ = Status::Ok();
  if (reader_->blocks_.empty()) return;
  if (!LoadBlock(0, {})) return;
  valid_ = ParseEntry();
  SkipToValid();
}

void SstIterator::Seek(std::string_view target) {
  valid_ = false;
  status_ = Status::Ok();
  const auto& blocks = reader_->blocks_;
  auto it = std::lower_bound(blocks.begin(), blocks.end(), target,
                             [](const SstReader::BlockHandle& b, std::string_view t) {
                               return CompareFullKeys(b.last_key, t) < 0;
                             });
  if (it == blocks.end()) return;
  if (!LoadBlock(static_cast<size_t>(it - blocks.begin()), target)) return;
  // Binary search the restart points for the last one whose key is < target.
  size_t lo = 0, hi = restarts_.size();
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    pos_ = restarts_[mid];
    key_.clear();
    if (!ParseEntry()) return;  // a restart entry must parse (shared == 0)
    if (CompareFullKeys(key_, target) < 0) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  pos_ = restarts_[lo];
  key_.clear();
  while (true) {
    if (!ParseEntry()) break;
    if (CompareFullKeys(key_, target) >= 0) {
      valid_ = true;
      break;
    }
  }
  SkipToValid();
}

void SstIterator::Next() {
  valid_ = ParseEntry();
  SkipToValid();
}

}  // namespace rwmeta::hummock
