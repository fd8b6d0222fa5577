// HummockMaintenance: the meta node's background compactor, vacuum and full GC.
//
// Every `interval` it compacts while a task is triggered (at most `max_compactions_per_round`
// rounds), vacuums the stale objects, and every `full_gc_interval` runs a full GC pass with
// `min_sst_retention`. TriggerFullGc runs a pass now (risectl hummock trigger-full-gc) and
// returns what it deleted. Errors are logged and retried next round; nothing here can lose data:
// deletion decisions come from HummockManager::ReferencedObjectIds (version, pins, in-flight ids,
// the protection set), see gc/object_protection.h.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "hummock/compaction/compaction_driver.h"
#include "hummock/compaction/picker.h"
#include "hummock/gc/gc.h"
#include "hummock/store/hummock_manager.h"

namespace rwmeta::hummock {

// The compaction settings the meta node runs with: the picker's defaults, outputs compressed like
// the SSTs checkpoints write.
inline CompactionConfig DefaultCompactionConfig() {
  CompactionConfig c;
  c.output_sst_options.compress = true;
  return c;
}

struct MaintenanceOptions {
  std::chrono::milliseconds interval{1000};
  int max_compactions_per_round = 8;
  std::chrono::milliseconds full_gc_interval{std::chrono::hours(1)};
  // Full GC only deletes unreferenced objects older than this (an upload in flight is younger).
  std::chrono::milliseconds min_sst_retention{std::chrono::hours(24)};
  CompactionConfig compaction = DefaultCompactionConfig();
};

class HummockMaintenance {
 public:
  // Starts the background thread. REQUIRES: `manager` outlives this.
  HummockMaintenance(HummockManager& manager, MaintenanceOptions options);
  ~HummockMaintenance();  // Stop()
  HummockMaintenance(const HummockMaintenance&) = delete;
  HummockMaintenance& operator=(const HummockMaintenance&) = delete;

  void Stop();

  // A full GC pass now with `retention` (at least 0), after compaction and vacuum have run, so
  // that what they made stale goes too. Serialized with the background rounds.
  Result<FullGcReport> TriggerFullGc(std::chrono::milliseconds retention);

  // Runs one background round now (compaction + vacuum), for tests and benchmarks. Returns the
  // number of compactions committed.
  Result<int> RunRoundNow();

 private:
  void Run();
  Result<int> RoundLocked();

  HummockManager& manager_;
  const MaintenanceOptions options_;
  std::mutex work_mu_;  // one round or GC pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rwmeta::hummock
