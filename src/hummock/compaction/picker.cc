#include "hummock/compaction/picker.h"

#include <algorithm>
#include <string_view>

#include "hummock/sst/key.h"
#include "hummock/version/version.h"

namespace rwmeta::hummock {
namespace {

// Table id + user key of an encoded full key (byte-wise order of these is the user-key order).
std::string_view UserKeyPart(const std::string& full_key) {
  if (full_key.size() < kMinFullKeyBytes) return full_key;  // garbage: compare as it is
  return TableUserKeyOf(full_key);
}

bool IsEmptySst(const SstableInfo& sst) { return sst.smallest_key().empty(); }

uint64_t TotalBytes(const std::vector<SstableInfo>& ssts) {
  uint64_t total = 0;
  for (const SstableInfo& sst : ssts) total += sst.file_size();
  return total;
}

// Whether any two of `ssts` overlap.
bool AnyOverlap(std::vector<const SstableInfo*> ssts) {
  std::sort(ssts.begin(), ssts.end(), [](const SstableInfo* a, const SstableInfo* b) {
    return UserKeyPart(a->smallest_key()) < UserKeyPart(b->smallest_key());
  });
  for (size_t i = 1; i < ssts.size(); ++i) {
    if (SstsOverlap(*ssts[i - 1], *ssts[i])) return true;
  }
  return false;
}

// The SSTs of `level` that overlap the user-key range [smallest, largest] (full keys).
std::vector<SstableInfo> OverlappingRange(const Level& level, const std::string& smallest,
                                          const std::string& largest) {
  std::vector<SstableInfo> out;
  for (const SstableInfo& sst : level.table_infos()) {
    if (IsEmptySst(sst)) continue;
    if (UserKeyPart(sst.largest_key()) < UserKeyPart(smallest) ||
        UserKeyPart(largest) < UserKeyPart(sst.smallest_key())) {
      continue;
    }
    out.push_back(sst);
  }
  return out;
}

// Fills in the target level part of `task` for `sources` (the SSTs being pushed down) and decides
// whether the task is a trivial move.
void AddTarget(const Level& target, const std::vector<const SstableInfo*>& sources,
               CompactionTask* task) {
  bool target_overlaps = false;
  for (const SstableInfo* s : sources) {
    for (const SstableInfo& t : target.table_infos()) target_overlaps |= SstsOverlap(*s, t);
  }
  if (!target_overlaps && !AnyOverlap(sources)) {
    task->trivial_move = true;
    return;
  }
  // Outputs are cut by size only, so one could span the whole range of the sources: every target
  // SST within that range must join, or the target level would end up with overlapping SSTs.
  std::string smallest, largest;
  for (const SstableInfo* s : sources) {
    if (IsEmptySst(*s)) continue;
    if (smallest.empty() || UserKeyPart(s->smallest_key()) < UserKeyPart(smallest)) {
      smallest = s->smallest_key();
    }
    if (largest.empty() || UserKeyPart(largest) < UserKeyPart(s->largest_key())) {
      largest = s->largest_key();
    }
  }
  CompactionInputLevel in{.level_idx = target.level_idx(), .sub_level_id = 0, .ssts = {}};
  if (!smallest.empty()) in.ssts = OverlappingRange(target, smallest, largest);
  task->inputs.push_back(std::move(in));
}

std::optional<CompactionTask> PickL0(const CompactionGroup& group, const CompactionConfig& config) {
  if (group.l0_sub_levels_size() == 0 || group.levels_size() < 1) return std::nullopt;
  uint64_t l0_bytes = 0;
  for (const Level& sub : group.l0_sub_levels()) {
    l0_bytes += TotalBytes({sub.table_infos().begin(), sub.table_infos().end()});
  }
  if (static_cast<uint64_t>(group.l0_sub_levels_size()) < config.l0_sub_level_trigger &&
      l0_bytes < config.l0_size_trigger_bytes) {
    return std::nullopt;
  }
  CompactionTask task;
  task.group_id = group.group_id();
  task.target_level = 1;
  std::vector<const SstableInfo*> sources;
  for (const Level& sub : group.l0_sub_levels()) {  // newest first, as stored
    task.inputs.push_back({.level_idx = 0,
                           .sub_level_id = sub.sub_level_id(),
                           .ssts = {sub.table_infos().begin(), sub.table_infos().end()}});
  }
  for (const CompactionInputLevel& in : task.inputs) {
    for (const SstableInfo& sst : in.ssts) sources.push_back(&sst);
  }
  AddTarget(group.levels(0), sources, &task);
  return task;
}

// A task pushing one SST of levels(level_pos) (level level_pos + 1) into the next level.
CompactionTask PickFromLevel(const CompactionGroup& group, int level_pos) {
  const Level& source = group.levels(level_pos);
  const Level& target = group.levels(level_pos + 1);
  const SstableInfo* best = nullptr;
  // Compare overlap / size as overlap_a * size_b < overlap_b * size_a, in 128 bits.
  unsigned __int128 best_overlap = 0, best_size = 1;
  for (const SstableInfo& sst : source.table_infos()) {
    uint64_t overlap = 0;
    for (const SstableInfo& t : target.table_infos()) {
      if (SstsOverlap(sst, t)) overlap += t.file_size();
    }
    const uint64_t size = std::max<uint64_t>(sst.file_size(), 1);
    if (best == nullptr || static_cast<unsigned __int128>(overlap) * best_size <
                               best_overlap * static_cast<unsigned __int128>(size)) {
      best = &sst;
      best_overlap = overlap;
      best_size = size;
    }
  }
  CompactionTask task;
  task.group_id = group.group_id();
  task.target_level = target.level_idx();
  task.inputs.push_back({.level_idx = source.level_idx(), .sub_level_id = 0, .ssts = {*best}});
  AddTarget(target, {&task.inputs[0].ssts[0]}, &task);
  return task;
}

}  // namespace

uint64_t LevelTargetBytes(const CompactionConfig& config, uint32_t level_idx) {
  uint64_t target = config.base_level_size_bytes;
  for (uint32_t i = 1; i < level_idx; ++i) {
    if (config.level_multiplier != 0 && target > UINT64_MAX / config.level_multiplier) {
      return UINT64_MAX;
    }
    target *= config.level_multiplier;
  }
  return target;
}

std::vector<uint64_t> CompactionTask::InputObjectIds() const {
  std::vector<uint64_t> ids;
  for (const CompactionInputLevel& in : inputs) {
    for (const SstableInfo& sst : in.ssts) ids.push_back(sst.object_id());
  }
  return ids;
}

std::string CompactionTask::ToString() const {
  std::string out = "group " + std::to_string(group_id) + ": ";
  size_t sub_levels = 0, l0_ssts = 0;
  std::string rest;
  for (const CompactionInputLevel& in : inputs) {
    if (in.level_idx == 0) {
      ++sub_levels;
      l0_ssts += in.ssts.size();
      continue;
    }
    if (in.ssts.empty()) continue;  // a target level with nothing overlapping
    rest += (rest.empty() && sub_levels == 0 ? "" : " + ");
    rest += "L" + std::to_string(in.level_idx) + " (" + std::to_string(in.ssts.size()) + " ssts)";
  }
  if (sub_levels > 0) {
    out +=
        "L0 (" + std::to_string(sub_levels) + " sub-levels, " + std::to_string(l0_ssts) + " ssts)";
  }
  out += rest + " -> L" + std::to_string(target_level);
  if (trivial_move) out += " (trivial move)";
  return out;
}

bool SstsOverlap(const SstableInfo& a, const SstableInfo& b) {
  if (IsEmptySst(a) || IsEmptySst(b)) return false;
  return !(UserKeyPart(a.largest_key()) < UserKeyPart(b.smallest_key()) ||
           UserKeyPart(b.largest_key()) < UserKeyPart(a.smallest_key()));
}

std::optional<CompactionTask> PickCompaction(const HummockVersion& version,
                                             const CompactionConfig& config) {
  for (const CompactionGroup& group : version.groups()) {
    if (std::optional<CompactionTask> task = PickL0(group, config)) return task;
  }
  const CompactionGroup* best_group = nullptr;
  int best_pos = -1;
  double best_score = 1.0;
  for (const CompactionGroup& group : version.groups()) {
    // L1..L5 can push down; the last level cannot.
    for (int pos = 0; pos + 1 < group.levels_size(); ++pos) {
      const Level& level = group.levels(pos);
      if (level.table_infos_size() == 0) continue;
      const uint64_t size = TotalBytes({level.table_infos().begin(), level.table_infos().end()});
      const uint64_t target = LevelTargetBytes(config, level.level_idx());
      const double score = target == 0 ? static_cast<double>(size) + 1.0
                                       : static_cast<double>(size) / static_cast<double>(target);
      if (score > best_score) {
        best_score = score;
        best_group = &group;
        best_pos = pos;
      }
    }
  }
  if (best_group == nullptr) return std::nullopt;
  return PickFromLevel(*best_group, best_pos);
}

}  // namespace rwmeta::hummock
