// Test helper: commits SSTs into a HummockManager's version whose objects are placeholders (a few
// bytes, not a real SST): enough for code that only needs a version to reference objects that are,
// or are not, present in the state store (snapshots, restore, drills, GC protection).
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "hummock/epoch.h"
#include "hummock/names.h"
#include "hummock/store/hummock_manager.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock::testing {

// Allocates `count` object ids, puts a placeholder object for each under `data_directory` of
// `state_store`, and commits them as one epoch after `*epoch` (advanced) for state table
// `table_id`. Returns the object ids.
inline Result<std::vector<uint64_t>> CommitPlaceholderSsts(HummockManager& manager,
                                                           objstore::ObjectStore& state_store,
                                                           std::string_view data_directory,
                                                           int count, uint64_t* epoch,
                                                           uint32_t table_id = 1001) {
  RWMETA_ASSIGN_OR_RETURN(uint64_t first, manager.NewObjectIds(count));
  std::vector<SstableInfo> ssts;
  std::vector<uint64_t> ids;
  for (int i = 0; i < count; ++i) {
    const uint64_t id = first + static_cast<uint64_t>(i);
    SstableInfo sst;
    sst.set_object_id(id);
    sst.set_sst_id(id);
    sst.set_file_size(100);
    sst.add_table_ids(table_id);
    RWMETA_RETURN_IF_ERROR(state_store.Put(SstObjectKey(data_directory, id), "sst bytes"));
    ssts.push_back(sst);
    ids.push_back(id);
  }
  *epoch = NextEpoch(*epoch);
  RWMETA_RETURN_IF_ERROR(manager.CommitEpoch(*epoch, ssts, {table_id}));
  return ids;
}

}  // namespace rwmeta::hummock::testing
