// HummockBackend: what the gRPC HummockManagerService (hummock_service.h) needs from the meta
// node's state store, so that the service is a thin adapter and its tests may stand a fake in for
// the manager and its maintenance. The shape of BackupBackend (backup_backend.h) and
// rpc::MetaBackend; the meta node serves HummockManagerBackend.
//
// Thread-safety: implementations must be thread-safe; gRPC calls them concurrently from its worker
// threads. Every returned Status crosses the wire unchanged (rpc/status_grpc.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "hummock/gc/gc.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/store/maintenance.h"

namespace rwmeta::server {

class HummockBackend {
 public:
  virtual ~HummockBackend() = default;

  // The current version: one whole version (a commit landing meanwhile is wholly in it or not at
  // all), immutable. Never null.
  virtual std::shared_ptr<const hummock::HummockVersion> CurrentVersion() = 0;
  // Object ids no version references any more and vacuum has not deleted yet.
  virtual std::vector<uint64_t> StaleObjectIds() = 0;
  // A compaction and vacuum round, then a full GC pass that deletes unreferenced objects older than
  // `retention` (at least 0). Returns when the pass is done; the store's and the meta store's
  // errors otherwise.
  virtual Result<hummock::FullGcReport> TriggerFullGc(std::chrono::milliseconds retention) = 0;
  // One compaction and vacuum round now; the number of compactions it committed.
  virtual Result<int> TriggerCompaction() = 0;
};

// The meta node's HummockBackend: forwards to its HummockManager (CurrentVersion, StaleObjectIds)
// and HummockMaintenance (TriggerFullGc; RunRoundNow for TriggerCompaction).
class HummockManagerBackend final : public HummockBackend {
 public:
  // Neither is owned; both must outlive the backend.
  HummockManagerBackend(hummock::HummockManager& manager, hummock::HummockMaintenance& maintenance)
      : manager_(manager), maintenance_(maintenance) {}

  std::shared_ptr<const hummock::HummockVersion> CurrentVersion() override {
    return manager_.current();
  }
  std::vector<uint64_t> StaleObjectIds() override { return manager_.StaleObjectIds(); }
  Result<hummock::FullGcReport> TriggerFullGc(std::chrono::milliseconds retention) override {
    return maintenance_.TriggerFullGc(retention);
  }
  Result<int> TriggerCompaction() override { return maintenance_.RunRoundNow(); }

 private:
  hummock::HummockManager& manager_;
  hummock::HummockMaintenance& maintenance_;
};

}  // namespace rwmeta::server
