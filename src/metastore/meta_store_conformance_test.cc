// Runs the MetaStore conformance suite over the backends built so far: memory and SQLite.
#include "metastore/meta_store_conformance.h"

#include <stdlib.h>

#include <filesystem>

#include "metastore/memory/memory_meta_store.h"
#include "metastore/sqlite/sqlite_meta_store.h"

namespace rwmeta::metastore {
namespace {

class MemoryLocation : public MetaStoreLocation {
 public:
  Result<std::unique_ptr<MetaStore>> Open(const Model& model) override {
    return std::unique_ptr<MetaStore>(std::make_unique<MemoryMetaStore>(model, state_));
  }

 private:
  std::shared_ptr<MemoryMetaStore::State> state_ = MemoryMetaStore::NewState();
};

// A database file in a fresh temporary directory, removed with the location.
class SqliteLocation : public MetaStoreLocation {
 public:
  SqliteLocation() {
    std::string pattern = ::testing::TempDir() + "rwmeta-sqlite-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~SqliteLocation() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  Result<std::unique_ptr<MetaStore>> Open(const Model& model) override {
    if (dir_.empty()) return InternalError("could not create a temporary directory");
    // Bounded, so that a lock bug fails the suite instead of hanging it; the 4-thread NextId
    // test holds the write lock only for milliseconds at a time.
    SqliteOptions options;
    options.busy_timeout_ms = 10000;
    RWMETA_ASSIGN_OR_RETURN(auto store, SqliteMetaStore::Open(dir_ + "/meta.db", model, options));
    return std::unique_ptr<MetaStore>(std::move(store));
  }

 private:
  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(
    Backends, MetaStoreConformanceTest,
    ::testing::Values(MetaStoreBackend{"memory", [] { return std::make_unique<MemoryLocation>(); }},
                      MetaStoreBackend{"sqlite",
                                       [] { return std::make_unique<SqliteLocation>(); }}),
    MetaStoreBackendName);

}  // namespace
}  // namespace rwmeta::metastore
