// FaultInjectionObjectStore: wraps any ObjectStore and fails chosen calls, for crash and fault
// tests of the code above it (backup, restore, manifests).
//
//   auto faulty = std::make_unique<FaultInjectionObjectStore>(std::move(store));
//   faulty->InjectFault({.op = ObjectStoreOp::kWriterFinish, .nth = 3,
//                        .status = UnavailableError("injected")});
//   // ... the 3rd ObjectWriter::Finish from now returns Unavailable and publishes nothing.
//   faulty->InjectFault({.op = ObjectStoreOp::kWriterAppend, .nth = 2, .corrupt = true});
//   // ... the 2nd Append from now stores its data with one bit flipped, and reports OK.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "objstore/object_store.h"

namespace rwmeta::objstore {

// The operations a fault can target. Writer and reader methods count per store, over all writers
// and readers it opened.
enum class ObjectStoreOp {
  kPut,
  kOpenWriter,
  kWriterAppend,
  kWriterFinish,
  kGet,
  kGetRange,
  kOpenReader,
  kReaderRead,
  kHead,
  kList,
  kDelete,
  kDeleteMany,
};

// "put", "writer_finish", ... (for messages).
std::string_view ObjectStoreOpName(ObjectStoreOp op);

struct Fault {
  ObjectStoreOp op = ObjectStoreOp::kPut;
  // Which call of `op`, counting from 1 at the moment the fault is injected, fails.
  int64_t nth = 1;
  // Also fail every later call of `op` (a store that stays down, or everything after a "crash").
  bool sticky = false;
  // Run the operation on the wrapped store first and then report `status` anyway: the effect
  // happened but the caller cannot know (a lost response). Only for ops that change state (kPut,
  // kWriterFinish, kDelete, kDeleteMany); ignored for others. By default the operation does not
  // reach the wrapped store (a failed Finish aborts the wrapped writer: nothing is published).
  bool after_effect = false;
  // Instead of failing, let the call through with one bit flipped in the middle of its data: what
  // kPut and kWriterAppend store, what kGet, kGetRange and kReaderRead return (silent corruption
  // in flight or at rest). `status` is not used then; other ops ignore the fault.
  bool corrupt = false;
  // What the failing call returns. REQUIRES: !status.ok() unless `corrupt`.
  Status status = UnavailableError("injected fault");
};

// Forwards every call to the wrapped store unless an injected fault fires.
// Thread-safe: faults may be injected and cleared while other threads use the store; the call
// counts are kept under one mutex. Writers and readers it returns may outlive it.
class FaultInjectionObjectStore : public ObjectStore {
 public:
  explicit FaultInjectionObjectStore(std::unique_ptr<ObjectStore> base);
  ~FaultInjectionObjectStore() override;

  // Adds a fault (see Fault). Several faults may be active; the first that fires wins.
  void InjectFault(const Fault& fault);
  // Removes all faults; call counts keep running.
  void ClearFaults();
  // Calls of `op` since construction, including failed ones.
  int64_t CallCount(ObjectStoreOp op) const;
  // Faults that have fired since construction.
  int64_t FiredCount() const;

  ObjectStore& base() { return *base_; }

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
  Status DeleteMany(const std::vector<std::string>& keys) override;
  // The wrapped store's URL: faults do not change what the store is.
  std::string DisplayUrl() const override { return base_->DisplayUrl(); }
  bool SupportsConditionalPut() const override { return base_->SupportsConditionalPut(); }

  // The fault bookkeeping, shared with the writers and readers this store opened.
  class Injector;

 private:
  std::unique_ptr<ObjectStore> base_;
  std::shared_ptr<Injector> injector_;
};

}  // namespace rwmeta::objstore
