// The ObjectStore conformance suite: one set of GoogleTest TEST_Ps (object_store_conformance.cc)
// that every backend must pass. A backend's test instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, ObjectStoreConformanceTest,
//       ::testing::Values(ObjectStoreBackend{"memory", [] { ... }}), BackendName);
//
// The suite only uses the ObjectStore interface (it never looks at files or buckets), so a later S3
// backend runs it unchanged against a real server. Keys used never make one key a directory of
// another ("a" and "a/b"), which file-based backends cannot hold at once.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::objstore::testing {

// A fresh, empty store for one test, and how to clean up after it.
struct ObjectStoreUnderTest {
  std::unique_ptr<ObjectStore> store;
  // Called after the store is destroyed (e.g. removes a temp directory). May be empty.
  std::function<void()> cleanup;
};

struct ObjectStoreBackend {
  // A C identifier: it names the instantiated tests ("Backends/ObjectStoreConformanceTest.X/fs").
  std::string name;
  std::function<Result<ObjectStoreUnderTest>()> make;
  // How many times the heavy concurrency tests repeat their writes; lower it for slow backends.
  int stress_iterations = 40;
  // False for servers that write an object's data and its metadata in separate steps (s3rver), so
  // that concurrent overwrites of one key can leave a body that does not match its ETag. The
  // client must then refuse to return that body (Unavailable, "torn or damaged read"), never hand
  // it out as whole; that is what the contention test checks for such a server.
  bool atomic_overwrites = true;
};

// Prints the backend's name in test failure messages.
void PrintTo(const ObjectStoreBackend& backend, std::ostream* os);

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string BackendName(const ::testing::TestParamInfo<ObjectStoreBackend>& info);

// A new empty directory under $TEST_TMPDIR (or /tmp). Internal on failure.
Result<std::string> MakeTempDir();
// Removes `dir` and everything in it; errors are ignored (test cleanup).
void RemoveTempDir(const std::string& dir);

class ObjectStoreConformanceTest : public ::testing::TestWithParam<ObjectStoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ObjectStore& store() { return *under_test_.store; }

  ObjectStoreUnderTest under_test_;
};

}  // namespace rwmeta::objstore::testing
