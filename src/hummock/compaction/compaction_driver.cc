#include "hummock/compaction/compaction_driver.h"

#include <set>
#include <utility>

#include "hummock/version/version.h"

namespace rwmeta::hummock {
namespace {

Result<std::vector<uint64_t>> ReferencedIds(HummockManager& manager) {
  RWMETA_ASSIGN_OR_RETURN(std::set<uint64_t> ids, manager.ReferencedObjectIds());
  return std::vector<uint64_t>(ids.begin(), ids.end());
}

}  // namespace

std::string CompactionRound::ToString() const {
  return task.ToString() + ": " + std::to_string(stats.input_keys) + " keys in, " +
         std::to_string(stats.output_keys) + " out (" +
         std::to_string(stats.dropped_stale_versions) + " old versions, " +
         std::to_string(stats.dropped_tombstones) + " tombstones, " +
         std::to_string(stats.dropped_table_keys) + " of dropped tables dropped), " +
         std::to_string(new_object_ids.size()) + " new objects, " +
         std::to_string(stale_object_ids.size()) + " stale, version " + std::to_string(version_id);
}

Result<std::optional<CompactionRound>> CompactOnce(HummockManager& manager,
                                                   const CompactionConfig& config,
                                                   const CompactOnceOptions& options) {
  std::shared_ptr<const HummockVersion> base = manager.current();
  if (options.advance_safe_epoch && base->safe_epoch() < base->max_committed_epoch()) {
    RWMETA_RETURN_IF_ERROR(
        manager.CommitDelta([](const HummockVersion& v) -> Result<HummockVersionDelta> {
          return VersionDeltaBuilder(v).SetSafeEpoch(v.max_committed_epoch()).Build();
        }));
    base = manager.current();
  }
  std::optional<CompactionTask> task = PickCompaction(*base, config);
  if (!task) return std::optional<CompactionRound>();

  // Every id taken, so that all of them are given back if the round fails. RunCompaction calls
  // the callback on this thread only.
  std::vector<uint64_t> taken;
  auto release = [&]() {
    if (!taken.empty()) manager.ReleaseObjectIds(taken);
  };
  Result<CompactionResult> result = RunCompaction(
      manager.state_store(), manager.options().data_directory, *base, *task,
      [&]() -> Result<uint64_t> {
        RWMETA_ASSIGN_OR_RETURN(uint64_t id, manager.NewObjectIds(1));
        taken.push_back(id);
        return id;
      },
      config);
  if (!result.ok()) {
    release();
    return result.status();
  }
  uint64_t version_id = 0;
  Status committed =
      manager.CommitDelta([&](const HummockVersion& current) -> Result<HummockVersionDelta> {
        RWMETA_ASSIGN_OR_RETURN(HummockVersionDelta delta,
                                RebaseCompactionDelta(current, *task, *result));
        version_id = delta.id();  // the last attempt is the one that commits
        return delta;
      });
  if (!committed.ok()) {
    // The outputs stay: if the commit did happen after all, the version references them. Full GC
    // deletes them once they are old enough and unreferenced.
    release();
    return committed.WithContext("committing compaction " + task->ToString());
  }
  CompactionRound round;
  round.stats = result->stats;
  round.version_id = version_id;
  for (const SstableInfo& sst : result->new_ssts) round.new_object_ids.push_back(sst.object_id());
  if (!task->trivial_move) round.stale_object_ids = task->InputObjectIds();
  round.task = std::move(*task);
  return std::optional<CompactionRound>(std::move(round));
}

Result<VacuumReport> VacuumStaleObjects(HummockManager& manager) {
  RWMETA_ASSIGN_OR_RETURN(
      VacuumReport report,
      Vacuum(manager.state_store(), manager.options().data_directory, manager.StaleObjectIds(),
             [&]() { return ReferencedIds(manager); }));
  manager.ForgetStaleObjectIds(report.deleted_object_ids);
  return report;
}

Result<FullGcReport> RunFullGc(HummockManager& manager, int64_t retention_ms, int64_t now_ms) {
  return FullGc(manager.state_store(), manager.options().data_directory, retention_ms, now_ms,
                [&]() { return ReferencedIds(manager); });
}

}  // namespace rwmeta::hummock
