// Runs the ObjectStore conformance suite over the memory and fs backends.
#include "objstore/object_store_conformance.h"

#include "objstore/fault_injection_object_store.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::objstore::testing {
namespace {

ObjectStoreBackend MemoryBackend() {
  return ObjectStoreBackend{"memory", []() -> Result<ObjectStoreUnderTest> {
                              return ObjectStoreUnderTest{
                                  std::make_unique<MemoryObjectStore>("memory-isolated"), nullptr};
                            }};
}

ObjectStoreBackend FsBackend() {
  return ObjectStoreBackend{
      "fs",
      []() -> Result<ObjectStoreUnderTest> {
        RWMETA_ASSIGN_OR_RETURN(std::string dir, MakeTempDir());
        // A sub-directory, so that Open also has to create the root.
        Result<std::unique_ptr<FsObjectStore>> store = FsObjectStore::Open(dir + "/root");
        if (!store.ok()) {
          RemoveTempDir(dir);
          return store.status();
        }
        return ObjectStoreUnderTest{std::move(store).value(), [dir] { RemoveTempDir(dir); }};
      },
      // Each publish fsyncs; keep the stress tests to a few seconds on a slow disk.
      20};
}

// The fault-injection wrapper with no faults must be a faithful pass-through.
ObjectStoreBackend FaultInjectionOverMemoryBackend() {
  return ObjectStoreBackend{"fault_injection_memory", []() -> Result<ObjectStoreUnderTest> {
                              return ObjectStoreUnderTest{
                                  std::make_unique<FaultInjectionObjectStore>(
                                      std::make_unique<MemoryObjectStore>("memory-isolated")),
                                  nullptr};
                            }};
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreConformanceTest,
                         ::testing::Values(MemoryBackend(), FsBackend(),
                                           FaultInjectionOverMemoryBackend()),
                         BackendName);

}  // namespace
}  // namespace rwmeta::objstore::testing
