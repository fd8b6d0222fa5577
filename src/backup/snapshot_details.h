// A meta snapshot's details: what of its Hummock version grows with the catalog (every object id
// the version references, one entry per state table). Snapshot objects of format 1.1 on carry
// them in their header (snapshot_format.h); manifest entries written before that carry them
// inline (manifest.h, fields `ssts` and `state_table_info`). BackupStorage::Details gives them
// for any listed snapshot, whichever holds them.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace rwmeta::backup {

// One state table's entry, shown as RisingWave shows it: {"committedEpoch":..,
// "compactionGroupId":..}.
struct StateTableInfoEntry {
  uint64_t committed_epoch = 0;
  uint64_t compaction_group_id = 0;
  friend bool operator==(const StateTableInfoEntry&, const StateTableInfoEntry&) = default;
};

struct SnapshotDetails {
  // Every object id the snapshot's Hummock version references (hummock::ObjectIds), ascending
  // and distinct: GC keeps them while the snapshot is listed.
  std::vector<uint64_t> object_ids;
  // State table id -> its committed epoch and compaction group in the snapshot's version.
  std::map<uint32_t, StateTableInfoEntry> state_table_info;
  friend bool operator==(const SnapshotDetails&, const SnapshotDetails&) = default;
};

}  // namespace rwmeta::backup
