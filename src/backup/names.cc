#include "backup/names.h"

#include "objstore/key.h"

namespace rwmeta::backup {
namespace {

constexpr std::string_view kSnapshotSuffix = ".snapshot";
constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kManifestLockPrefix = "manifest.lock.";

}  // namespace

std::string SnapshotKey(std::string_view directory, uint64_t snapshot_id) {
  return objstore::JoinKey(directory, objstore::NumberedName(snapshot_id, kSnapshotSuffix));
}

std::string ManifestKey(std::string_view directory) {
  return objstore::JoinKey(directory, kManifestName);
}

std::string ManifestLockPrefix(std::string_view directory) {
  return objstore::JoinKey(directory, kManifestLockPrefix);
}

std::string ManifestLockKey(std::string_view directory, std::string_view token) {
  return ManifestLockPrefix(directory) + std::string(token);
}

std::optional<uint64_t> ParseSnapshotKey(std::string_view directory, std::string_view key) {
  const std::optional<std::string_view> name = objstore::NameInDirectory(directory, key);
  if (!name.has_value() || name->find('/') != std::string_view::npos) return std::nullopt;
  return objstore::ParseNumberedName(*name, kSnapshotSuffix);
}

}  // namespace rwmeta::backup
