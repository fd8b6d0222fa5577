// MemoryObjectStore: objects in process memory. For tests and for the "memory" object store URL
// (RisingWave's `hummock+memory`), where everything is lost when the process exits.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "objstore/object_store.h"

namespace rwmeta::objstore {

// Full ObjectStore contract, including conditional Put and OpenWriter staging (a writer's bytes
// live in the writer until Finish). Etags are per-store generation numbers: every write of a key
// gets a new one. OpenReader reads the object as it was when opened, whatever happens after.
//
// Concurrency: every method is thread-safe (one mutex over the key map; object bytes are shared
// immutably, so Get copies outside the lock only what it returns). Several MemoryObjectStore
// instances made by OpenShared with the same name share one set of objects.
class MemoryObjectStore : public ObjectStore {
 public:
  // A fresh, empty store shown as `display_url`.
  explicit MemoryObjectStore(std::string display_url = "memory");
  ~MemoryObjectStore() override;

  // A store sharing its objects with every other store opened with the same `name` in this
  // process (the process-wide registry keeps them alive until exit). `name` is also the
  // DisplayUrl. Thread-safe.
  static std::unique_ptr<MemoryObjectStore> OpenShared(std::string_view name);

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
  std::string DisplayUrl() const override { return display_url_; }
  bool SupportsConditionalPut() const override { return true; }

  struct State;  // Shared with writers and other OpenShared instances.

 private:
  MemoryObjectStore(std::string display_url, std::shared_ptr<State> state);

  std::string display_url_;
  std::shared_ptr<State> state_;
};

}  // namespace rwmeta::objstore
