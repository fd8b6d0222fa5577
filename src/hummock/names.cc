#include "hummock/names.h"

#include "objstore/key.h"

namespace rwmeta::hummock {
namespace {

constexpr std::string_view kSstSuffix = ".data";
constexpr std::string_view kCheckpointDirectory = "checkpoint/";
constexpr std::string_view kClusterIdName = "cluster_id";
constexpr std::string_view kMetaLeaseName = "meta_lease";
constexpr std::string_view kGenerationName = "generation";

}  // namespace

std::string SstObjectKey(std::string_view data_directory, uint64_t object_id) {
  return objstore::JoinKey(data_directory, objstore::NumberedName(object_id, kSstSuffix));
}

std::string CheckpointKey(std::string_view data_directory, uint64_t generation) {
  // The first generation keeps the name stores had before generations existed.
  return objstore::JoinKey(data_directory,
                           std::string(kCheckpointDirectory) +
                               objstore::NumberedName(generation <= 1 ? 0 : generation, ""));
}

std::string ClusterIdKey(std::string_view data_directory) {
  return objstore::JoinKey(data_directory, kClusterIdName);
}

std::string MetaLeaseKey(std::string_view data_directory) {
  return objstore::JoinKey(data_directory, kMetaLeaseName);
}

std::string GenerationKey(std::string_view data_directory) {
  return objstore::JoinKey(data_directory, kGenerationName);
}

std::optional<ObjectName> ParseObjectKey(std::string_view data_directory, std::string_view key) {
  const std::optional<std::string_view> name = objstore::NameInDirectory(data_directory, key);
  if (!name.has_value()) return std::nullopt;
  if (*name == kClusterIdName) return ObjectName{ObjectKind::kClusterId};
  if (*name == kMetaLeaseName) return ObjectName{ObjectKind::kMetaLease};
  if (*name == kGenerationName) return ObjectName{ObjectKind::kGeneration};
  if (name->starts_with(kCheckpointDirectory)) {
    const std::optional<uint64_t> number =
        objstore::ParseNumberedName(name->substr(kCheckpointDirectory.size()), "");
    // checkpoint/0 is generation 1's; generation 1 is never spelled checkpoint/1.
    if (!number.has_value() || *number == 1) return std::nullopt;
    return ObjectName{ObjectKind::kCheckpoint, *number == 0 ? 1 : *number};
  }
  if (name->find('/') != std::string_view::npos) return std::nullopt;
  if (std::optional<uint64_t> id = objstore::ParseNumberedName(*name, kSstSuffix)) {
    return ObjectName{ObjectKind::kSst, *id};
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseSstObjectKey(std::string_view data_directory, std::string_view key) {
  const std::optional<ObjectName> name = ParseObjectKey(data_directory, key);
  if (!name.has_value() || name->kind != ObjectKind::kSst) return std::nullopt;
  return name->number;
}

}  // namespace rwmeta::hummock
