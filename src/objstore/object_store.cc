#include "objstore/object_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace rwmeta::objstore {

namespace {

// Reads an object in ranges. The size is fixed at open; a shorter object later is DataLoss.
class RangeReader : public ObjectReader {
 public:
  RangeReader(ObjectStore* store, std::string key, uint64_t size)
      : store_(store), key_(std::move(key)), size_(size) {}

  Status Read(size_t max_bytes, std::string* out) override {
    out->clear();
    if (offset_ >= size_ || max_bytes == 0) return Status::Ok();
    uint64_t want = std::min<uint64_t>(max_bytes, size_ - offset_);
    RWMETA_ASSIGN_OR_RETURN(*out, store_->GetRange(key_, offset_, want));
    if (out->size() != want) {
      return DataLossError(fmt::format("object {}: read {} bytes at offset {}, expected {}", key_,
                                       out->size(), offset_, want));
    }
    offset_ += want;
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return size_; }

 private:
  ObjectStore* store_;
  std::string key_;
  uint64_t size_;
  uint64_t offset_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectReader>> ObjectStore::OpenReader(std::string_view key) {
  RWMETA_ASSIGN_OR_RETURN(ObjectMeta meta, Head(key));
  return std::unique_ptr<ObjectReader>(new RangeReader(this, std::string(key), meta.size_bytes));
}

Status ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  Status first;
  for (const auto& key : keys) {
    Status s = Delete(key);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("invalid object key '{}': {}", key, why));
  };
  if (key.empty()) return bad("empty");
  if (key.front() == '/') return bad("leading '/'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' or '..' segment");
    start = end + 1;
  }
  if (key.find('\0') != std::string_view::npos) return bad("NUL byte");
  return Status::Ok();
}

}  // namespace rwmeta::objstore
