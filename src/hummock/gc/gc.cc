#include "hummock/gc/gc.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_set>

#include "hummock/names.h"
#include "objstore/key.h"

namespace rwmeta::hummock {
std::string FullGcReport::ToString() const {
  std::string out = "listed " + std::to_string(listed_sst_count) + " SST objects: deleted " +
                    std::to_string(deleted_object_ids.size()) + " (" +
                    std::to_string(deleted_bytes) + " bytes";
  if (!deleted_object_ids.empty()) out += fmt::format(": {}", fmt::join(deleted_object_ids, ", "));
  out += "), kept " + std::to_string(kept_referenced.size()) + " referenced, " +
         std::to_string(kept_too_young.size()) + " too young";
  return out;
}

Result<FullGcReport> FullGc(objstore::ObjectStore& store, std::string_view data_directory,
                            int64_t retention_ms, int64_t now_ms,
                            const ReferencedObjectIdsFn& referenced_after_listing) {
  if (retention_ms < 0) {
    return InvalidArgumentError("full gc: negative retention " + std::to_string(retention_ms) +
                                " ms");
  }
  FullGcReport report;
  // 1. List first: whatever is uploaded after this point is not a candidate (object_protection.h).
  Result<std::vector<objstore::ObjectMeta>> listed =
      store.List(objstore::DirectoryPrefix(data_directory));
  if (!listed.ok()) return listed.status().WithContext("full gc: listing the state store");
  struct Candidate {
    uint64_t id;
    uint64_t size_bytes;
    std::string key;
  };
  std::vector<Candidate> old_enough;
  for (const objstore::ObjectMeta& meta : *listed) {
    std::optional<uint64_t> id = ParseSstObjectKey(data_directory, meta.key);
    if (!id) {
      ++report.ignored_key_count;
      continue;
    }
    ++report.listed_sst_count;
    if (now_ms - meta.last_modified_ms > retention_ms) {
      old_enough.push_back({*id, meta.size_bytes, meta.key});
    } else {
      report.kept_too_young.push_back(*id);
    }
  }

  // 2. Only now ask what is referenced.
  Result<std::vector<uint64_t>> referenced = referenced_after_listing();
  if (!referenced.ok()) return referenced.status().WithContext("full gc");
  const std::unordered_set<uint64_t> keep(referenced->begin(), referenced->end());

  // 3. Delete the rest.
  std::sort(old_enough.begin(), old_enough.end(),
            [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
  std::sort(report.kept_too_young.begin(), report.kept_too_young.end());
  for (const Candidate& c : old_enough) {
    if (keep.count(c.id) > 0) {
      report.kept_referenced.push_back(c.id);
      continue;
    }
    Status deleted = store.Delete(c.key);
    if (!deleted.ok()) return deleted.WithContext("full gc: deleting " + c.key);
    report.deleted_object_ids.push_back(c.id);
    report.deleted_bytes += c.size_bytes;
  }
  return report;
}

Result<VacuumReport> Vacuum(objstore::ObjectStore& store, std::string_view data_directory,
                            const std::vector<uint64_t>& stale_object_ids,
                            const ReferencedObjectIdsFn& referenced) {
  VacuumReport report;
  if (stale_object_ids.empty()) return report;
  Result<std::vector<uint64_t>> referenced_ids = referenced();
  if (!referenced_ids.ok()) return referenced_ids.status().WithContext("vacuum");
  const std::unordered_set<uint64_t> keep(referenced_ids->begin(), referenced_ids->end());
  std::vector<uint64_t> stale(stale_object_ids);
  std::sort(stale.begin(), stale.end());
  stale.erase(std::unique(stale.begin(), stale.end()), stale.end());
  for (uint64_t id : stale) {
    if (keep.count(id) > 0) {
      report.kept_referenced.push_back(id);
      continue;
    }
    const std::string key = SstObjectKey(data_directory, id);
    // Delete of a missing object is OK: a vacuum that is repeated after a crash goes through.
    Status deleted = store.Delete(key);
    if (!deleted.ok()) return deleted.WithContext("vacuum: deleting " + key);
    report.deleted_object_ids.push_back(id);
  }
  return report;
}

}  // namespace rwmeta::hummock
