// Every name Hummock gives to something outside its process, defined here and nowhere else (the
// model is leveldb's filename.h: one Make and one Parse per kind of object). They reach disk and
// the meta store: never rename.
//
// Objects in the state store, under the cluster's data directory:
//
//   <data_directory>/<object id>.data     an SST (sst/); the id in canonical decimal: "7.data",
//                                         never "007.data", which is someone else's file
//   <data_directory>/checkpoint/0         the first generation's version checkpoint (version/)
//   <data_directory>/checkpoint/<g>       generation g's version checkpoint, for g >= 2
//   <data_directory>/cluster_id           which cluster the directory belongs to (cluster/)
//   <data_directory>/meta_lease           the lease of the meta node that writes here (cluster/)
//   <data_directory>/generation           the cluster's current generation (cluster/)
//
// Anything else under the directory (backups, "12.data.tmp", a subdirectory) is not Hummock's.
//
// Rows in the meta store's `id_sequence` table:
//
//   hummock_object_id     the sequence SST object ids come from
//   restore_incomplete    present while `risectl meta restore-meta` has committed the restored
//                         rows but not yet the Hummock checkpoint (restore/)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rwmeta::hummock {

enum class ObjectKind {
  kSst,         // number: the object id
  kCheckpoint,  // number: the generation (1 for checkpoint/0)
  kClusterId,
  kMetaLease,
  kGeneration,
};

struct ObjectName {
  ObjectKind kind;
  uint64_t number = 0;  // see ObjectKind; 0 for the kinds that have no number
  friend bool operator==(const ObjectName&, const ObjectName&) = default;
};

// The key of each kind of object (the table above). An empty data_directory puts the objects at
// the top of the store ("12.data"); a trailing '/' is ignored.
std::string SstObjectKey(std::string_view data_directory, uint64_t object_id);
std::string CheckpointKey(std::string_view data_directory, uint64_t generation = 1);
std::string ClusterIdKey(std::string_view data_directory);
std::string MetaLeaseKey(std::string_view data_directory);
std::string GenerationKey(std::string_view data_directory);

// What `key` names in `data_directory`, or nullopt if it is none of the objects above (every
// other spelling included: "007.data", "checkpoint/1", "checkpoint/02", "x/12.data").
std::optional<ObjectName> ParseObjectKey(std::string_view data_directory, std::string_view key);

// The object id of `key` if it is an SST object directly under `data_directory`
// (SstObjectKey(data_directory, id) == key), else nullopt.
std::optional<uint64_t> ParseSstObjectKey(std::string_view data_directory, std::string_view key);

// The meta-store sequence SST object ids come from.
inline constexpr char kObjectIdSequence[] = "hummock_object_id";

// The `id_sequence` row `risectl meta restore-meta` commits together with the restored rows and
// deletes once it has written the Hummock checkpoint. Its `next_value` is the restored snapshot's
// id. While the row exists the store is a half-done restore: its version checkpoint may be missing
// or belong to another cluster.
inline constexpr char kRestoreIncompleteMarker[] = "restore_incomplete";

}  // namespace rwmeta::hummock
