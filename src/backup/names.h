// Every name a backup location's objects and the backup bookkeeping carry, defined here and nowhere
// else (one Make and one Parse per kind of object). They reach disk: never rename.
//
// Objects at a backup location (`backup_storage_url` + `backup_storage_directory`):
//
//   <dir>/manifest.json           the manifest: the list of meta snapshots (manifest.h)
//   <dir>/manifest.lock.<token>   a writer's manifest lock, on stores without conditional put
//   <dir>/<id>.snapshot           meta snapshot <id> (snapshot_format.h); the id in canonical
//                                 decimal, so "007.snapshot" is not snapshot 7's and never touched
//
// Rows in the meta store's `id_sequence` table:
//
//   meta_backup    the sequence snapshot (and backup job) ids come from; restore carries it forward
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "metastore/model.h"

namespace rwmeta::backup {

// The key of each kind of object. An empty directory puts them at the top of the store; a
// trailing '/' is ignored.
std::string SnapshotKey(std::string_view directory, uint64_t snapshot_id);
std::string ManifestKey(std::string_view directory);
// What every lock object's key starts with (to List them), and one writer's lock object.
std::string ManifestLockPrefix(std::string_view directory);
std::string ManifestLockKey(std::string_view directory, std::string_view token);

// The snapshot id of `key` if it is a snapshot object directly under `directory`
// (SnapshotKey(directory, id) == key), else nullopt.
std::optional<uint64_t> ParseSnapshotKey(std::string_view directory, std::string_view key);

// The meta-store sequence snapshot ids come from (declared by the model as backup_job's).
using metastore::kSnapshotIdSequence;

}  // namespace rwmeta::backup
