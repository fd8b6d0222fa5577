// The Hummock version checkpoint object `<data_directory>/checkpoint/0`: the full version (plus
// stale object ids) written into the state store, so that a meta store can be rebuilt from it and
// the deltas after it. Byte layout and versioning rules: docs/format/checkpoint.md.
//
// All functions are thread-safe (they share no state); concurrent writers of one checkpoint object
// follow the ObjectStore rule (last finished Put wins whole).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hummock/names.h"
#include "objstore/object_store.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

// Reach disk: never change or reuse.
inline constexpr char kCheckpointMagic[4] = {'R', 'W', 'H', 'C'};
inline constexpr uint16_t kCheckpointMajorVersion = 1;
// 1.1: the version gains all_tables_committed_epoch; entries still hold every table's committed
// epoch, so a 1.0 reader that ignores the field reads the same epochs.
inline constexpr uint16_t kCheckpointMinorVersion = 1;
enum class CheckpointCompression : uint8_t { kNone = 0, kZstd = 1 };
// Fixed header before the payload, and the xxh64 trailer after it.
inline constexpr size_t kCheckpointHeaderSize = 28;
inline constexpr size_t kCheckpointTrailerSize = 8;
// A payload claiming more than this (uncompressed) is treated as corrupt rather than allocated.
inline constexpr uint64_t kMaxCheckpointPayloadBytes = uint64_t{1} << 32;

// Checkpoint objects are named by cluster generation (CheckpointKey, hummock/names.h):
// `<data_directory>/checkpoint/0` for the first generation (the name stores had before
// generations), `<data_directory>/checkpoint/<generation>` for every later one. Each generation
// writes only its own, so a superseded meta node can never replace the restored cluster's version.

// Encodes the checkpoint of `version` and `stale_object_ids` (deterministic protobuf
// serialization, so equal checkpoints give equal bytes), with every table's committed epoch
// written into its entry (SerializeMaterialized, version.h: no copy of the version is made).
// Internal if serialization or compression fails (our bug or out of memory).
Result<std::string> EncodeCheckpoint(
    const HummockVersion& version, const std::vector<uint64_t>& stale_object_ids,
    CheckpointCompression compression = CheckpointCompression::kZstd);
// The same for a checkpoint message.
Result<std::string> EncodeCheckpoint(
    const HummockVersionCheckpoint& checkpoint,
    CheckpointCompression compression = CheckpointCompression::kZstd);

// Decodes bytes made by EncodeCheckpoint. `object_name` names the object in error messages.
// - DataLoss naming the object for a bad magic, a checksum mismatch, truncation, a size that does
//   not add up, or a payload that does not decompress or parse.
// - Unimplemented for an intact object of an unknown major version or compression (a newer
//   writer). Unknown minor versions of a known major are read (they only add ignorable fields).
Result<HummockVersionCheckpoint> DecodeCheckpoint(std::string_view bytes,
                                                  std::string_view object_name);

// Encodes `checkpoint` and Puts it at CheckpointKey(data_directory, generation) in one atomic Put
// (readers see the old or the new checkpoint whole). Errors: EncodeCheckpoint's and the store's.
Status WriteCheckpoint(objstore::ObjectStore& store, std::string_view data_directory,
                       const HummockVersionCheckpoint& checkpoint, uint64_t generation = 1);
// The same for the checkpoint of `version` and `stale_object_ids`.
Status WriteCheckpoint(objstore::ObjectStore& store, std::string_view data_directory,
                       const HummockVersion& version, const std::vector<uint64_t>& stale_object_ids,
                       uint64_t generation);

// Reads and decodes CheckpointKey(data_directory, generation). NotFound if there is none (a fresh
// store); otherwise DecodeCheckpoint's errors and the store's.
Result<HummockVersionCheckpoint> ReadCheckpoint(objstore::ObjectStore& store,
                                                std::string_view data_directory,
                                                uint64_t generation = 1);

// The version after applying to `checkpoint_version` every delta in `deltas` (ascending by id)
// whose id is larger than the checkpoint's; older deltas are skipped (the checkpoint already has
// them).
// - DataLoss naming the missing delta id if a delta's prev_id is not the version reached so far
//   (a gap in the stored deltas).
// - InvalidArgument if `deltas` is not ascending by id.
// - ApplyDelta's errors, with the delta named.
Result<HummockVersion> RebuildVersion(const HummockVersion& checkpoint_version,
                                      const std::vector<HummockVersionDelta>& deltas);

}  // namespace rwmeta::hummock
