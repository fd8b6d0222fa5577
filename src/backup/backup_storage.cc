#include "backup/backup_storage.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "common/clock.h"
#include "hummock/version/version.h"
#include "objstore/key.h"

namespace rwmeta::backup {
BackupStorage::BackupStorage(objstore::ObjectStore* store, std::string directory,
                             BackupStorageOptions options)
    : store_(store),
      directory_(std::move(directory)),
      options_(options),
      manifest_(store, directory_, options.manifest) {}

Result<SnapshotMetadata> BackupStorage::WriteSnapshot(uint64_t id, metastore::ReadView& view,
                                                      const hummock::HummockVersion& version,
                                                      SnapshotHeader header,
                                                      std::optional<std::string> remarks,
                                                      const metastore::Model& model,
                                                      bool scheduled) {
  auto exists = [id](const Manifest& m) -> Status {
    if (m.Find(id) != nullptr) {
      return AlreadyExistsError("snapshot " + std::to_string(id) + " is already in the manifest");
    }
    return Status();
  };
  {
    RWMETA_ASSIGN_OR_RETURN(Manifest current, manifest_.Read());
    RWMETA_RETURN_IF_ERROR(exists(current));
  }
  const std::string key = SnapshotKey(directory_, id);
  SnapshotMetadata entry;
  entry.id = id;
  entry.hummock_version_id = version.id();
  entry.format_version = kSnapshotFormatVersion;
  entry.remarks = std::move(remarks);
  entry.scheduled = scheduled;
  if (!header.rwmeta_version.empty()) entry.rw_version = header.rwmeta_version;
  entry.max_committed_epoch = version.max_committed_epoch();
  entry.safe_epoch = version.safe_epoch();
  entry.created_at_ms = header.created_at_ms;
  RWMETA_ASSIGN_OR_RETURN(WrittenSnapshot written,
                          backup::WriteSnapshot(view, version, id, std::move(header), *store_, key,
                                                options_.writer, model));
  // The details as a reader of the header will find them: from the header as written.
  auto details = std::make_shared<SnapshotDetails>(DetailsFromHeader(written.header));
  entry.object_count = details->object_ids.size();
  entry.max_object_id = details->object_ids.empty() ? 0 : details->object_ids.back();
  entry.size_bytes = written.size_bytes;
  entry.checksum = written.checksum;
  // Verified before it counts: the object as the backup storage gives it back, every block and
  // trailer checksum and the whole-object checksum, before any manifest lists it. The object is
  // ours (written if-none-match), so a failed check may delete it.
  if (Result<SnapshotContents> read_back = CheckObject(id, entry); !read_back.ok()) {
    store_->Delete(key).IgnoreError();  // an orphan for CleanUpUnlisted otherwise
    return read_back.status().WithContext(fmt::format(
        "snapshot {}: reading {} back before publishing it failed, so it was deleted and not "
        "published",
        id, key));
  }
  Result<Manifest> published = manifest_.Update([&](Manifest& m) -> Status {
    RWMETA_RETURN_IF_ERROR(exists(m));
    m.snapshots.push_back(entry);
    return Status();
  });
  if (!published.ok()) {
    const Status failed = published.status().WithContext("snapshot " + std::to_string(id) +
                                                         ": publishing the manifest entry");
    // AlreadyExists: another writer listed this id meanwhile, so the object may be in use.
    if (failed.code() == StatusCode::kAlreadyExists) return failed;
    // The put may have happened although it reported an error (a lost response). Only an object
    // that the manifest certainly does not list may be deleted; when unsure it stays for
    // CleanUpUnlisted.
    Result<Manifest> now = manifest_.Read();
    if (now.ok() && now->Find(id) != nullptr && *now->Find(id) == entry) {
      std::lock_guard lock(mu_);
      CacheLocked(id, details);
      return entry;
    }
    if (now.ok()) store_->Delete(key).IgnoreError();  // an orphan for CleanUpUnlisted otherwise
    return failed;
  }
  // Known without reading the header back: the first GC round after the job reads nothing.
  std::lock_guard lock(mu_);
  CacheLocked(id, std::move(details));
  return entry;
}

Result<Manifest> BackupStorage::ReadManifest() { return manifest_.Read(); }

Status BackupStorage::DeleteSnapshots(const std::vector<uint64_t>& ids) {
  if (ids.empty()) return Status();
  const std::set<uint64_t> wanted(ids.begin(), ids.end());
  Result<Manifest> published = manifest_.Update([&](Manifest& m) -> Status {
    std::vector<uint64_t> unknown;
    for (uint64_t id : wanted) {
      if (m.Find(id) == nullptr) unknown.push_back(id);
    }
    if (!unknown.empty()) {
      return NotFoundError(std::string(unknown.size() == 1 ? "snapshot " : "snapshots ") +
                           fmt::format("{}", fmt::join(unknown, ", ")) + " not found in manifest " +
                           ManifestKey(directory_) + "; nothing deleted");
    }
    std::erase_if(m.snapshots, [&](const SnapshotMetadata& s) { return wanted.count(s.id) > 0; });
    return Status();
  });
  RWMETA_RETURN_IF_ERROR(published);
  {
    std::lock_guard lock(mu_);
    for (uint64_t id : wanted) ForgetLocked(id);
  }
  std::vector<std::string> keys;
  for (uint64_t id : wanted) keys.push_back(SnapshotKey(directory_, id));
  Status deleted = store_->DeleteMany(keys);
  // Deleting a missing object is OK, so NotFound means gone (the fs store says so when a
  // concurrent delete removed the emptied directory first).
  return IsNotFound(deleted) ? Status() : deleted;
}

Result<std::unique_ptr<SnapshotReader>> BackupStorage::OpenSnapshot(uint64_t id) {
  RWMETA_ASSIGN_OR_RETURN(Manifest m, manifest_.Read());
  if (m.Find(id) == nullptr) {
    return NotFoundError("snapshot " + std::to_string(id) + " not found in manifest " +
                         ManifestKey(directory_));
  }
  const std::string key = SnapshotKey(directory_, id);
  Result<std::unique_ptr<objstore::ObjectReader>> in = store_->OpenReader(key);
  if (!in.ok()) {
    if (IsNotFound(in.status())) {
      return DataLossError("snapshot " + std::to_string(id) +
                           " is in the manifest but its object " + key + " is missing");
    }
    return in.status();
  }
  return SnapshotReader::Open(std::move(in).value(), key);
}

Result<SnapshotContents> BackupStorage::VerifySnapshot(uint64_t id) {
  RWMETA_ASSIGN_OR_RETURN(Manifest m, manifest_.Read());
  const SnapshotMetadata* entry = m.Find(id);
  if (entry == nullptr) {
    return NotFoundError("snapshot " + std::to_string(id) + " not found in manifest " +
                         ManifestKey(directory_));
  }
  const SnapshotMetadata expected = *entry;
  RWMETA_ASSIGN_OR_RETURN(auto reader, OpenSnapshot(id));
  return CheckContents(id, *reader, expected);
}

Result<SnapshotContents> BackupStorage::CheckObject(uint64_t id, const SnapshotMetadata& expected) {
  const std::string key = SnapshotKey(directory_, id);
  RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<objstore::ObjectReader> in, store_->OpenReader(key));
  RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader,
                          SnapshotReader::Open(std::move(in), key));
  return CheckContents(id, *reader, expected, {.decode_version = false});
}

Result<SnapshotContents> BackupStorage::CheckContents(uint64_t id, SnapshotReader& reader,
                                                      const SnapshotMetadata& expected,
                                                      const SnapshotReadOptions& options) {
  RWMETA_ASSIGN_OR_RETURN(SnapshotContents contents, reader.ReadAll(nullptr, options));
  auto mismatch = [&](std::string_view what, uint64_t object, uint64_t manifest) {
    return DataLossError("snapshot " + std::to_string(id) + ": object " +
                         SnapshotKey(directory_, id) + " has " + std::string(what) + " " +
                         std::to_string(object) + ", the manifest says " +
                         std::to_string(manifest));
  };
  if (contents.snapshot_id != id) return mismatch("snapshot id", contents.snapshot_id, id);
  if (contents.size_bytes != expected.size_bytes) {
    return mismatch("size", contents.size_bytes, expected.size_bytes);
  }
  if (contents.checksum != expected.checksum) {
    return mismatch("checksum", contents.checksum, expected.checksum);
  }
  const uint64_t version_id =
      options.decode_version ? contents.version.id() : contents.header.hummock_version_id;
  if (version_id != expected.hummock_version_id) {
    return mismatch("hummock version", version_id, expected.hummock_version_id);
  }
  return contents;
}

Result<std::vector<uint64_t>> BackupStorage::ListSnapshotObjectIds() {
  const std::string prefix = objstore::DirectoryPrefix(directory_);
  RWMETA_ASSIGN_OR_RETURN(std::vector<objstore::ObjectMeta> objects, store_->List(prefix));
  std::vector<uint64_t> ids;
  for (const objstore::ObjectMeta& o : objects) {
    if (std::optional<uint64_t> id = ParseSnapshotKey(directory_, o.key)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<std::string>> BackupStorage::CleanUpUnlisted(int64_t min_age_ms) {
  const std::string prefix = objstore::DirectoryPrefix(directory_);
  // Listing before reading the manifest: an object written and listed after our List is not a
  // candidate, and one listed in the manifest we read is kept.
  RWMETA_ASSIGN_OR_RETURN(std::vector<objstore::ObjectMeta> objects, store_->List(prefix));
  RWMETA_ASSIGN_OR_RETURN(Manifest m, manifest_.Read());
  const int64_t now = UnixNowMs();
  std::vector<std::string> doomed;
  for (const objstore::ObjectMeta& o : objects) {
    std::optional<uint64_t> id = ParseSnapshotKey(directory_, o.key);
    if (!id || m.Find(*id) != nullptr) continue;
    if (now - o.last_modified_ms < min_age_ms) continue;
    doomed.push_back(o.key);
  }
  if (!doomed.empty()) {
    Status deleted = store_->DeleteMany(doomed);
    if (!IsNotFound(deleted)) RWMETA_RETURN_IF_ERROR(deleted);  // NotFound: gone, as above
  }
  return doomed;
}

Result<std::shared_ptr<const SnapshotDetails>> BackupStorage::Details(
    const SnapshotMetadata& entry) {
  if (entry.inline_details) return std::make_shared<const SnapshotDetails>(*entry.inline_details);
  {
    std::lock_guard lock(mu_);
    auto it = details_.find(entry.id);
    if (it != details_.end()) {
      details_lru_.remove(entry.id);
      details_lru_.push_front(entry.id);
      return it->second;
    }
  }
  // Read outside the lock: GC and listings must not wait behind one slow object read. Two
  // readers of one snapshot may both read it; they get equal details.
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<const SnapshotDetails> details, ReadDetails(entry));
  std::lock_guard lock(mu_);
  CacheLocked(entry.id, details);
  return details;
}

Result<std::shared_ptr<const std::vector<uint64_t>>> BackupStorage::ObjectIds(
    const SnapshotMetadata& entry) {
  if (entry.inline_details) {
    return std::make_shared<const std::vector<uint64_t>>(entry.inline_details->object_ids);
  }
  {
    std::lock_guard lock(mu_);
    auto it = object_ids_.find(entry.id);
    if (it != object_ids_.end()) return it->second;
  }
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<const SnapshotDetails> details, ReadDetails(entry));
  std::lock_guard lock(mu_);
  CacheLocked(entry.id, details);
  return object_ids_.at(entry.id);
}

Result<std::shared_ptr<const SnapshotDetails>> BackupStorage::ReadDetails(
    const SnapshotMetadata& entry) {
  const std::string key = SnapshotKey(directory_, entry.id);
  Result<SnapshotHeaderRead> read = ReadSnapshotHeader(*store_, key);
  if (!read.ok()) {
    if (IsNotFound(read.status())) {
      return DataLossError(fmt::format(
          "snapshot {} is in the manifest but its object {} is missing", entry.id, key));
    }
    return read.status().WithContext(fmt::format("snapshot {}: reading its details", entry.id));
  }
  auto mismatch = [&](std::string_view what, uint64_t object, uint64_t manifest) {
    return DataLossError(fmt::format("snapshot {}: object {} has {} {}, the manifest says {}",
                                     entry.id, key, what, object, manifest));
  };
  if (read->snapshot_id != entry.id) return mismatch("snapshot id", read->snapshot_id, entry.id);
  if (!read->has_details()) {
    return DataLossError(fmt::format(
        "snapshot {}: its manifest entry has no ssts and its object {} is of format {}.{}, whose "
        "header does not carry them either",
        entry.id, key, read->major_version, read->minor_version));
  }
  if (read->header.hummock_version_id != entry.hummock_version_id) {
    return mismatch("hummock version", read->header.hummock_version_id, entry.hummock_version_id);
  }
  if (read->header.object_ids.size() != entry.object_count) {
    return mismatch("object count", read->header.object_ids.size(), entry.object_count);
  }
  return std::make_shared<const SnapshotDetails>(DetailsFromHeader(read->header));
}

void BackupStorage::CacheLocked(uint64_t id, std::shared_ptr<const SnapshotDetails> details) {
  object_ids_[id] = std::shared_ptr<const std::vector<uint64_t>>(details, &details->object_ids);
  if (details_.contains(id)) return;
  const size_t entries = details->state_table_info.size();
  if (entries > options_.cached_state_table_entries) return;  // would evict everything else
  while (cached_state_table_entries_ + entries > options_.cached_state_table_entries) {
    const uint64_t victim = details_lru_.back();
    details_lru_.pop_back();
    cached_state_table_entries_ -= details_.at(victim)->state_table_info.size();
    details_.erase(victim);
  }
  details_[id] = std::move(details);
  details_lru_.push_front(id);
  cached_state_table_entries_ += entries;
}

void BackupStorage::ForgetLocked(uint64_t id) {
  object_ids_.erase(id);
  auto it = details_.find(id);
  if (it == details_.end()) return;
  cached_state_table_entries_ -= it->second->state_table_info.size();
  details_.erase(it);
  details_lru_.remove(id);
}

Result<std::vector<uint64_t>> BackupStorage::ProtectedObjectIds(const Manifest& manifest) {
  std::vector<uint64_t> listed;
  for (const SnapshotMetadata& s : manifest.snapshots) listed.push_back(s.id);
  {
    std::lock_guard lock(mu_);
    if (listed == protected_for_) return protected_ids_;
  }
  std::vector<uint64_t> ids;
  for (const SnapshotMetadata& s : manifest.snapshots) {
    Result<std::shared_ptr<const std::vector<uint64_t>>> of = ObjectIds(s);
    if (!of.ok()) {
      return of.status().WithContext(fmt::format(
          "backup location {} {}: protected objects: snapshot {} (until its details can be read "
          "or it is deleted, garbage collection deletes nothing)",
          store_->DisplayUrl(), directory_, s.id));
    }
    ids.insert(ids.end(), (*of)->begin(), (*of)->end());
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::lock_guard lock(mu_);
  // Snapshots deleted by another process (or another BackupStorage) leave the cache here.
  const std::set<uint64_t> keep(listed.begin(), listed.end());
  std::vector<uint64_t> gone;
  for (const auto& [id, unused] : object_ids_) {
    if (!keep.contains(id)) gone.push_back(id);
  }
  for (uint64_t id : gone) ForgetLocked(id);
  protected_for_ = std::move(listed);
  protected_ids_ = ids;
  return ids;
}

Result<std::vector<uint64_t>> BackupStorage::ProtectedObjectIds() {
  Result<Manifest> m = manifest_.Read();
  if (!m.ok())
    return m.status().WithContext("backup location " + store_->DisplayUrl() + " " + directory_ +
                                  ": protected objects");
  return ProtectedObjectIds(*m);
}

Result<SnapshotMetadata> BackupStorage::RecordDrill(uint64_t id, const DrillResult& drill) {
  SnapshotMetadata updated;
  RWMETA_RETURN_IF_ERROR(manifest_.Update([&](Manifest& m) -> Status {
    for (SnapshotMetadata& s : m.snapshots) {
      if (s.id != id) continue;
      s.drill = drill;
      updated = s;
      return Status();
    }
    return NotFoundError(fmt::format("snapshot {} not found in manifest {}; drill not recorded", id,
                                     ManifestKey(directory_)));
  }));
  return updated;
}

}  // namespace rwmeta::backup
