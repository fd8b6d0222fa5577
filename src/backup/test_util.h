// Helpers shared by the backup tests: a small model with every column type, a Hummock version with
// SSTs, and an object store without conditional put (for the lock fallback).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "objstore/memory/memory_object_store.h"
#include "proto/hummock.pb.h"

namespace rwmeta::backup::testing {

// Tables: "kinds" (every column type, nullable), "runtime" (in_snapshot = false), "empty".
const metastore::Model& TestModel();

// A version with id `id`, SSTs `object_ids` in L0 and L1 of group 2, and state tables 1001 and
// 1002 committed at `epoch`.
hummock::HummockVersion MakeVersion(uint64_t id, const std::vector<uint64_t>& object_ids,
                                    uint64_t epoch);

// Rows of "kinds": int64 extremes, NUL bytes, unicode, NULLs, doubles.
std::vector<metastore::Row> InterestingRows();

// Forwards to a MemoryObjectStore but reports no conditional put (and refuses one), like the S3
// backend against s3rver.
class NoCasObjectStore : public objstore::ObjectStore {
 public:
  using objstore::ObjectStore::Put;
  Status Put(std::string_view key, std::string_view data,
             const objstore::PutOptions& options) override;
  using objstore::ObjectStore::OpenWriter;
  Result<std::unique_ptr<objstore::ObjectWriter>> OpenWriter(
      std::string_view key, const objstore::PutOptions& options) override;
  Result<std::string> Get(std::string_view key) override { return inner_.Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return inner_.GetRange(key, offset, length);
  }
  Result<std::unique_ptr<objstore::ObjectReader>> OpenReader(std::string_view key) override {
    return inner_.OpenReader(key);
  }
  Result<objstore::ObjectMeta> Head(std::string_view key) override { return inner_.Head(key); }
  Result<std::vector<objstore::ObjectMeta>> List(std::string_view prefix) override {
    return inner_.List(prefix);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  std::string DisplayUrl() const override { return "memory-nocas"; }
  bool SupportsConditionalPut() const override { return false; }

 private:
  objstore::MemoryObjectStore inner_;
};

}  // namespace rwmeta::backup::testing
