// The MetaStore conformance suite: the executable form of meta_store.h's contract, written once and
// run over every backend. A backend plugs in by instantiating it with a MetaStoreBackend:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, MetaStoreConformanceTest,
//                            ::testing::Values(MetaStoreBackend{"sqlite", NewSqliteLocation}),
//                            MetaStoreBackendName);
//
// The suite only uses the MetaStore interface: no backend-specific peeking. Backends that need a
// server should GTEST_SKIP() loudly from `new_location` users when it is absent (return nullptr).
//
// The suite's sources (meta_store_conformance.cc) are compiled into test binaries, not the library.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "metastore/meta_store.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

// One fresh, empty storage location (a temporary file, a new database, an etcd prefix), deleted
// when destroyed.
class MetaStoreLocation {
 public:
  virtual ~MetaStoreLocation() = default;
  // Opens a store on this location using `model`. May be called again after the previously opened
  // store was destroyed, to reopen the same data (possibly with a newer or older model).
  // REQUIRES: `model` outlives the returned store.
  virtual Result<std::unique_ptr<MetaStore>> Open(const Model& model) = 0;
};

struct MetaStoreBackend {
  std::string name;
  // A fresh location per call; nullptr if the backend is unavailable here (the test then skips).
  std::function<std::unique_ptr<MetaStoreLocation>()> new_location;
};

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string MetaStoreBackendName(const ::testing::TestParamInfo<MetaStoreBackend>& info);

class MetaStoreConformanceTest : public ::testing::TestWithParam<MetaStoreBackend> {
 protected:
  // Opens a fresh location with Model::Get() into store_ and migrates it.
  void SetUp() override;

  // A fresh location (skips the test if the backend is unavailable).
  std::unique_ptr<MetaStoreLocation> NewLocation();

  std::unique_ptr<MetaStoreLocation> location_;
  std::unique_ptr<MetaStore> store_;
};

}  // namespace rwmeta::metastore
