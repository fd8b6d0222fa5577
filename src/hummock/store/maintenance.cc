#include "hummock/store/maintenance.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace rwmeta::hummock {

HummockMaintenance::HummockMaintenance(HummockManager& manager, MaintenanceOptions options)
    : manager_(manager), options_(std::move(options)), thread_([this] { Run(); }) {}

HummockMaintenance::~HummockMaintenance() { Stop(); }

void HummockMaintenance::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<int> HummockMaintenance::RoundLocked() {
  int compactions = 0;
  for (int i = 0; i < options_.max_compactions_per_round; ++i) {
    RWMETA_ASSIGN_OR_RETURN(std::optional<CompactionRound> round,
                            CompactOnce(manager_, options_.compaction));
    if (!round) break;
    spdlog::info("hummock: compaction {}", round->ToString());
    ++compactions;
  }
  if (!manager_.StaleObjectIds().empty()) {
    RWMETA_ASSIGN_OR_RETURN(VacuumReport vacuum, VacuumStaleObjects(manager_));
    if (!vacuum.deleted_object_ids.empty()) {
      spdlog::info("hummock: vacuum deleted {} stale objects, kept {} still referenced",
                   vacuum.deleted_object_ids.size(), vacuum.kept_referenced.size());
    }
  }
  return compactions;
}

Result<int> HummockMaintenance::RunRoundNow() {
  std::lock_guard work(work_mu_);
  return RoundLocked();
}

Result<FullGcReport> HummockMaintenance::TriggerFullGc(std::chrono::milliseconds retention) {
  std::lock_guard work(work_mu_);
  Result<int> round = RoundLocked();
  if (!round.ok())
    spdlog::warn("hummock: compaction before full GC: {}", round.status().ToString());
  RWMETA_ASSIGN_OR_RETURN(FullGcReport report, RunFullGc(manager_, retention.count(), UnixNowMs()));
  spdlog::info("hummock: full GC (retention {} ms): {}", retention.count(), report.ToString());
  return report;
}

void HummockMaintenance::Run() {
  auto next_gc = std::chrono::steady_clock::now() + options_.full_gc_interval;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    {
      std::lock_guard work(work_mu_);
      Result<int> round = RoundLocked();
      if (!round.ok()) {
        spdlog::warn("hummock: compaction/vacuum round failed (retried next round): {}",
                     round.status().ToString());
      }
      if (std::chrono::steady_clock::now() >= next_gc) {
        next_gc = std::chrono::steady_clock::now() + options_.full_gc_interval;
        auto gc = RunFullGc(manager_, options_.min_sst_retention.count(), UnixNowMs());
        if (!gc.ok()) {
          spdlog::warn("hummock: periodic full GC failed: {}", gc.status().ToString());
        } else if (!gc->deleted_object_ids.empty()) {
          spdlog::info("hummock: periodic full GC: {}", gc->ToString());
        }
      }
    }
    lock.lock();
  }
}

}  // namespace rwmeta::hummock
