// Test helper: a MetaStore of each backend the meta and frontend tests run over.
//   TestStore store("sqlite");   // a fresh SQLite file under the test temp dir, removed afterwards
//   BootstrapCluster(store, ...) // converts to metastore::MetaStore&
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "metastore/factory.h"

namespace rwmeta::meta::testing {

// The backends every catalog test is instantiated for.
inline const std::string kTestBackends[] = {"memory", "sqlite"};

class TestStore {
 public:
  explicit TestStore(const std::string& backend) {
    std::string url = "memory";
    if (backend == "sqlite") {
      static std::atomic<int> counter{0};
      std::string dir = ::testing::TempDir();
      if (dir.empty() || dir.back() != '/') dir += '/';
      path_ = dir + "rwmeta_meta_test_" + std::to_string(getpid()) + "_" +
              std::to_string(counter++) + ".db";
      RemoveFiles();
      url = "sqlite://" + path_;
    }
    auto store = metastore::OpenMetaStore(url);
    if (!store.ok()) {
      // No store means no test: fail loudly rather than pass vacuously.
      std::cerr << "cannot open test meta store " << url << ": " << store.status() << "\n";
      std::abort();
    }
    store_ = std::move(*store);
  }
  ~TestStore() {
    store_.reset();
    RemoveFiles();
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  operator metastore::MetaStore&() { return *store_; }  // NOLINT(google-explicit-constructor)
  metastore::MetaStore& get() { return *store_; }

 private:
  void RemoveFiles() {
    if (path_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::remove((path_ + suffix).c_str());
    }
  }

  std::string path_;
  std::unique_ptr<metastore::MetaStore> store_;
};

}  // namespace rwmeta::meta::testing
