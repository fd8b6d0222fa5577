#include "objstore/memory/memory_object_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "common/clock.h"

namespace rwmeta::objstore {

namespace {

struct Object {
  // Immutable once stored: readers hold on to it while writers replace the map entry.
  std::shared_ptr<const std::string> data;
  int64_t last_modified_ms = 0;
  uint64_t generation = 0;
};

std::string EtagOf(const Object& o) { return fmt::format("m{}", o.generation); }

ObjectMeta MetaOf(const std::string& key, const Object& o) {
  return ObjectMeta{key, o.data->size(), o.last_modified_ms, EtagOf(o)};
}

}  // namespace

struct MemoryObjectStore::State {
  std::mutex mu;
  // std::less<> for lookups by string_view; std::string compares byte-wise (as unsigned char),
  // which is the listing order the contract asks for.
  std::map<std::string, Object, std::less<>> objects;
  uint64_t next_generation = 1;

  Status Put(std::string_view key, std::shared_ptr<const std::string> data,
             const PutOptions& options) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = objects.find(key);
    if (options.if_none_match && it != objects.end()) {
      return AbortedError(fmt::format("object {}: already exists (if_none_match)", key));
    }
    if (options.if_match_etag) {
      if (it == objects.end()) {
        return AbortedError(
            fmt::format("object {}: does not exist (if_match {})", key, *options.if_match_etag));
      }
      if (EtagOf(it->second) != *options.if_match_etag) {
        return AbortedError(fmt::format("object {}: etag is {}, not {} (if_match)", key,
                                        EtagOf(it->second), *options.if_match_etag));
      }
    }
    Object o{std::move(data), UnixNowMs(), next_generation++};
    if (it == objects.end()) {
      objects.emplace(std::string(key), std::move(o));
    } else {
      it->second = std::move(o);
    }
    return Status::Ok();
  }

  Result<Object> Find(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = objects.find(key);
    if (it == objects.end()) return NotFoundError(fmt::format("object {}: not found", key));
    return it->second;
  }
};

namespace {

class MemoryWriter : public ObjectWriter {
 public:
  MemoryWriter(std::shared_ptr<MemoryObjectStore::State> state, std::string key, PutOptions options)
      : state_(std::move(state)), key_(std::move(key)), options_(std::move(options)) {}

  Status Append(std::string_view data) override {
    if (done_) return FailedPreconditionError(fmt::format("writer for {}: already finished", key_));
    buffer_.append(data);
    return Status::Ok();
  }

  Status Finish() override {
    if (done_) return FailedPreconditionError(fmt::format("writer for {}: already finished", key_));
    done_ = true;
    // The condition is checked under the same lock that publishes, as for a conditional Put.
    return state_->Put(key_, std::make_shared<const std::string>(std::move(buffer_)), options_);
  }

  Status Abort() override {
    done_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return buffer_.size(); }

 private:
  std::shared_ptr<MemoryObjectStore::State> state_;
  std::string key_;
  PutOptions options_;
  std::string buffer_;
  bool done_ = false;
};

// Reads from the bytes captured at open: later replacements or deletes do not affect it.
class MemoryReader : public ObjectReader {
 public:
  explicit MemoryReader(std::shared_ptr<const std::string> data) : data_(std::move(data)) {}

  Status Read(size_t max_bytes, std::string* out) override {
    size_t n = std::min(max_bytes, data_->size() - offset_);
    out->assign(*data_, offset_, n);
    offset_ += n;
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return data_->size(); }

 private:
  std::shared_ptr<const std::string> data_;
  size_t offset_ = 0;
};

}  // namespace

MemoryObjectStore::MemoryObjectStore(std::string display_url)
    : MemoryObjectStore(std::move(display_url), std::make_shared<State>()) {}

MemoryObjectStore::MemoryObjectStore(std::string display_url, std::shared_ptr<State> state)
    : display_url_(std::move(display_url)), state_(std::move(state)) {}

MemoryObjectStore::~MemoryObjectStore() = default;

std::unique_ptr<MemoryObjectStore> MemoryObjectStore::OpenShared(std::string_view name) {
  // Leaked on purpose: shared stores live as long as the process, like RisingWave's `memory`.
  static std::mutex* const registry_mu = new std::mutex;
  static auto* const registry = new std::map<std::string, std::shared_ptr<State>, std::less<>>;
  std::lock_guard<std::mutex> lock(*registry_mu);
  auto it = registry->find(name);
  if (it == registry->end()) {
    it = registry->emplace(std::string(name), std::make_shared<State>()).first;
  }
  return std::unique_ptr<MemoryObjectStore>(new MemoryObjectStore(std::string(name), it->second));
}

Status MemoryObjectStore::Put(std::string_view key, std::string_view data,
                              const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  return state_->Put(key, std::make_shared<const std::string>(data), options);
}

Result<std::unique_ptr<ObjectWriter>> MemoryObjectStore::OpenWriter(std::string_view key,
                                                                    const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  return std::unique_ptr<ObjectWriter>(new MemoryWriter(state_, std::string(key), options));
}

Result<std::string> MemoryObjectStore::Get(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  RWMETA_ASSIGN_OR_RETURN(Object o, state_->Find(key));
  return *o.data;
}

Result<std::string> MemoryObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                uint64_t length) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  RWMETA_ASSIGN_OR_RETURN(Object o, state_->Find(key));
  if (offset > o.data->size()) {
    return OutOfRangeError(fmt::format("object {}: offset {} is past its end ({} bytes)", key,
                                       offset, o.data->size()));
  }
  uint64_t n = std::min<uint64_t>(length, o.data->size() - offset);
  return o.data->substr(offset, n);
}

Result<std::unique_ptr<ObjectReader>> MemoryObjectStore::OpenReader(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  RWMETA_ASSIGN_OR_RETURN(Object o, state_->Find(key));
  return std::unique_ptr<ObjectReader>(new MemoryReader(std::move(o.data)));
}

Result<ObjectMeta> MemoryObjectStore::Head(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  RWMETA_ASSIGN_OR_RETURN(Object o, state_->Find(key));
  return MetaOf(std::string(key), o);
}

Result<std::vector<ObjectMeta>> MemoryObjectStore::List(std::string_view prefix) {
  std::vector<ObjectMeta> out;
  std::lock_guard<std::mutex> lock(state_->mu);
  for (auto it = state_->objects.lower_bound(prefix); it != state_->objects.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(MetaOf(it->first, it->second));
  }
  return out;
}

Status MemoryObjectStore::Delete(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->objects.find(key);
  if (it != state_->objects.end()) state_->objects.erase(it);
  return Status::Ok();
}

}  // namespace rwmeta::objstore
