// RetryingReadObjectStore: the backup store as restore-meta reads it (--read-attempt-timeout-ms,
// --read-retry-attempts). Every read (Get, GetRange, Head, List, OpenReader and each
// ObjectReader::Read) is one attempt bounded by `attempt_timeout_ms`; an attempt that times out
// (DeadlineExceeded) or fails with Unavailable is retried, up to `retry_attempts` retries with
// exponential backoff, except ObjectReader::Read, which is bounded but not retried (a stream does
// not resume in the middle). Other errors return at once. Writes are forwarded as they are.
//
// An attempt that times out is abandoned, not cancelled: it finishes in the background on a thread
// that keeps the wrapped store alive (hence the shared_ptr).
// Thread-safe, as the wrapped store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "objstore/object_store.h"

namespace rwmeta::objstore {

struct ReadRetryOptions {
  int64_t attempt_timeout_ms = 600'000;
  int64_t retry_attempts = 3;
  // First backoff; doubles per retry, at most 2 s.
  int64_t initial_backoff_ms = 100;
};

class RetryingReadObjectStore : public ObjectStore {
 public:
  RetryingReadObjectStore(std::shared_ptr<ObjectStore> base, ReadRetryOptions options);

  using ObjectStore::Put;
  Status Put(std::string_view key, std::string_view data, const PutOptions& options) override {
    return base_->Put(key, data, options);
  }
  using ObjectStore::OpenWriter;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const PutOptions& options) override {
    return base_->OpenWriter(key, options);
  }
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override { return base_->Delete(key); }
  Status DeleteMany(const std::vector<std::string>& keys) override {
    return base_->DeleteMany(keys);
  }
  std::string DisplayUrl() const override { return base_->DisplayUrl(); }
  bool SupportsConditionalPut() const override { return base_->SupportsConditionalPut(); }

  // Attempts made so far (first tries and retries), for tests and logs.
  int64_t attempts() const;

 private:
  std::shared_ptr<ObjectStore> base_;
  ReadRetryOptions options_;
  std::shared_ptr<std::atomic<int64_t>> attempts_;
};

}  // namespace rwmeta::objstore
