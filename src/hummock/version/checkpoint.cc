#include "hummock/version/checkpoint.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <xxhash.h>
#include <zstd.h>

#include <cstring>

#include "common/coding.h"
#include "hummock/names.h"
#include "hummock/version/version.h"

namespace rwmeta::hummock {
namespace {

constexpr int kZstdLevel = 3;

uint64_t Checksum(std::string_view bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

// The payload: HummockVersionCheckpoint's bytes, built from its fields (version = 1,
// stale_object_ids = 2) in field order as protobuf writes them.
Result<std::string> CheckpointPayload(const HummockVersion& version,
                                      const std::vector<uint64_t>& stale_object_ids) {
  RWMETA_ASSIGN_OR_RETURN(std::string version_bytes, SerializeMaterialized(version));
  HummockVersionCheckpoint rest;
  for (uint64_t id : stale_object_ids) rest.add_stale_object_ids(id);
  RWMETA_ASSIGN_OR_RETURN(std::string rest_bytes, SerializeDeterministic(rest));
  std::string raw;
  {
    google::protobuf::io::StringOutputStream stream(&raw);
    google::protobuf::io::CodedOutputStream coded(&stream);
    using google::protobuf::internal::WireFormatLite;
    coded.WriteTag(WireFormatLite::MakeTag(HummockVersionCheckpoint::kVersionFieldNumber,
                                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(version_bytes.size()));
  }
  raw.reserve(raw.size() + version_bytes.size() + rest_bytes.size());
  raw += version_bytes;
  raw += rest_bytes;
  return raw;
}

}  // namespace

Result<std::string> EncodeCheckpoint(const HummockVersion& version,
                                     const std::vector<uint64_t>& stale_object_ids,
                                     CheckpointCompression compression) {
  Result<std::string> serialized = CheckpointPayload(version, stale_object_ids);
  if (!serialized.ok()) return serialized.status().WithContext("checkpoint");
  const std::string& raw = *serialized;
  std::string stored;
  switch (compression) {
    case CheckpointCompression::kNone:
      stored = raw;
      break;
    case CheckpointCompression::kZstd: {
      stored.resize(ZSTD_compressBound(raw.size()));
      size_t n = ZSTD_compress(stored.data(), stored.size(), raw.data(), raw.size(), kZstdLevel);
      if (ZSTD_isError(n)) {
        return InternalError(std::string("checkpoint: zstd compression failed: ") +
                             ZSTD_getErrorName(n));
      }
      stored.resize(n);
      break;
    }
    default:
      return InternalError("checkpoint: unknown compression " +
                           std::to_string(static_cast<int>(compression)));
  }
  std::string out;
  out.reserve(kCheckpointHeaderSize + stored.size() + kCheckpointTrailerSize);
  out.append(kCheckpointMagic, sizeof(kCheckpointMagic));
  PutFixed16(&out, kCheckpointMajorVersion);
  PutFixed16(&out, kCheckpointMinorVersion);
  out.push_back(static_cast<char>(compression));
  out.append(3, '\0');  // reserved
  PutFixed64(&out, raw.size());
  PutFixed64(&out, stored.size());
  out += stored;
  PutFixed64(&out, Checksum(out));
  return out;
}

Result<std::string> EncodeCheckpoint(const HummockVersionCheckpoint& checkpoint,
                                     CheckpointCompression compression) {
  return EncodeCheckpoint(
      checkpoint.version(),
      {checkpoint.stale_object_ids().begin(), checkpoint.stale_object_ids().end()}, compression);
}

Result<HummockVersionCheckpoint> DecodeCheckpoint(std::string_view bytes,
                                                  std::string_view object_name) {
  const std::string name = "checkpoint object " + std::string(object_name);
  if (bytes.size() < sizeof(kCheckpointMagic) ||
      std::memcmp(bytes.data(), kCheckpointMagic, sizeof(kCheckpointMagic)) != 0) {
    return DataLossError(name + ": bad magic (not a checkpoint object)");
  }
  if (bytes.size() < kCheckpointHeaderSize + kCheckpointTrailerSize) {
    return DataLossError(name + ": truncated: " + std::to_string(bytes.size()) +
                         " bytes, shorter than header and checksum");
  }
  const uint64_t stored_size = DecodeFixed64(bytes.data() + 20);
  const uint64_t body_size = bytes.size() - kCheckpointHeaderSize - kCheckpointTrailerSize;
  if (stored_size != body_size) {
    return DataLossError(name + ": " + (stored_size > body_size ? "truncated" : "trailing bytes") +
                         ": header says " + std::to_string(stored_size) +
                         " payload bytes, object holds " + std::to_string(body_size));
  }
  const std::string_view covered = bytes.substr(0, bytes.size() - kCheckpointTrailerSize);
  const uint64_t expected = DecodeFixed64(bytes.data() + covered.size());
  if (Checksum(covered) != expected) {
    return DataLossError(name + ": checksum mismatch");
  }
  // Checked after the checksum: an intact object of a newer major is a newer writer, not damage.
  const uint64_t major = DecodeFixed16(bytes.data() + 4);
  if (major != kCheckpointMajorVersion) {
    return UnimplementedError(name + ": unknown format major version " + std::to_string(major) +
                              " (this build reads " + std::to_string(kCheckpointMajorVersion) +
                              ")");
  }
  const uint64_t compression = static_cast<uint8_t>(bytes[8]);
  const uint64_t raw_size = DecodeFixed64(bytes.data() + 12);
  if (raw_size > kMaxCheckpointPayloadBytes) {
    return DataLossError(name + ": implausible payload size " + std::to_string(raw_size));
  }
  const std::string_view stored = bytes.substr(kCheckpointHeaderSize, stored_size);
  std::string raw;
  switch (static_cast<CheckpointCompression>(compression)) {
    case CheckpointCompression::kNone:
      raw = std::string(stored);
      break;
    case CheckpointCompression::kZstd: {
      raw.resize(raw_size);
      size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
      if (ZSTD_isError(n)) {
        return DataLossError(name + ": payload does not decompress: " + ZSTD_getErrorName(n));
      }
      raw.resize(n);
      break;
    }
    default:
      return UnimplementedError(name + ": unknown compression " + std::to_string(compression));
  }
  if (raw.size() != raw_size) {
    return DataLossError(name + ": payload is " + std::to_string(raw.size()) +
                         " bytes uncompressed, header says " + std::to_string(raw_size));
  }
  HummockVersionCheckpoint checkpoint;
  if (!checkpoint.ParseFromString(raw)) {
    return DataLossError(name + ": payload is not a HummockVersionCheckpoint");
  }
  return checkpoint;
}

Status WriteCheckpoint(objstore::ObjectStore& store, std::string_view data_directory,
                       const HummockVersionCheckpoint& checkpoint, uint64_t generation) {
  RWMETA_ASSIGN_OR_RETURN(std::string bytes, EncodeCheckpoint(checkpoint));
  // One Put: the store replaces the object atomically, so a reader never sees half a checkpoint.
  return store.Put(CheckpointKey(data_directory, generation), bytes);
}

Status WriteCheckpoint(objstore::ObjectStore& store, std::string_view data_directory,
                       const HummockVersion& version, const std::vector<uint64_t>& stale_object_ids,
                       uint64_t generation) {
  RWMETA_ASSIGN_OR_RETURN(std::string bytes, EncodeCheckpoint(version, stale_object_ids));
  return store.Put(CheckpointKey(data_directory, generation), bytes);
}

Result<HummockVersionCheckpoint> ReadCheckpoint(objstore::ObjectStore& store,
                                                std::string_view data_directory,
                                                uint64_t generation) {
  const std::string key = CheckpointKey(data_directory, generation);
  RWMETA_ASSIGN_OR_RETURN(std::string bytes, store.Get(key));
  return DecodeCheckpoint(bytes, key);
}

Result<HummockVersion> RebuildVersion(const HummockVersion& checkpoint_version,
                                      const std::vector<HummockVersionDelta>& deltas) {
  // Checked up front so that a misordered list is reported as such, not as a gap.
  for (size_t i = 1; i < deltas.size(); ++i) {
    if (deltas[i].id() <= deltas[i - 1].id()) {
      return InvalidArgumentError(
          "version deltas are not ascending by id: " + std::to_string(deltas[i - 1].id()) +
          " then " + std::to_string(deltas[i].id()));
    }
  }
  HummockVersion version = checkpoint_version;
  // One index for all the deltas: each is then checked and applied in O(its size).
  VersionIndex index(version);
  for (const HummockVersionDelta& delta : deltas) {
    if (delta.id() <= version.id()) continue;  // already in the checkpoint
    if (delta.prev_id() != version.id()) {
      // Delta ids are consecutive (VersionDeltaBuilder: id = prev_id + 1), so the missing one is
      // the delta following the version reached so far.
      return DataLossError("version delta " + std::to_string(version.id() + 1) +
                           " is missing: reached version " + std::to_string(version.id()) +
                           ", next stored delta is " + std::to_string(delta.id()) + " (prev_id " +
                           std::to_string(delta.prev_id()) + ")");
    }
    Status s = ApplyDelta(&version, &index, delta);
    if (!s.ok()) return s.WithContext("rebuilding version");
  }
  return version;
}

}  // namespace rwmeta::hummock
