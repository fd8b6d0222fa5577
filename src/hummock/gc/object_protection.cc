#include "hummock/gc/object_protection.h"

#include <set>
#include <utility>

#include "hummock/version/version.h"

namespace rwmeta::hummock {

void InMemoryObjectProtectionSet::Protect(uint64_t owner_id, std::vector<uint64_t> object_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  by_owner_[owner_id] = std::move(object_ids);
}

void InMemoryObjectProtectionSet::Unprotect(uint64_t owner_id) {
  std::lock_guard<std::mutex> lock(mu_);
  by_owner_.erase(owner_id);
}

void InMemoryObjectProtectionSet::SetError(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  error_ = std::move(status);
}

Result<std::vector<uint64_t>> InMemoryObjectProtectionSet::ProtectedObjectIds() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) return error_;
  std::set<uint64_t> ids;
  for (const auto& [owner, owned] : by_owner_) ids.insert(owned.begin(), owned.end());
  return std::vector<uint64_t>(ids.begin(), ids.end());
}

Result<std::vector<uint64_t>> CollectReferencedObjectIds(
    const HummockVersion& current, const std::vector<const HummockVersion*>& pinned,
    const std::vector<uint64_t>& uncommitted_object_ids, ObjectProtectionSet* protection) {
  std::set<uint64_t> ids;
  for (uint64_t id : ObjectIds(current)) ids.insert(id);
  for (const HummockVersion* version : pinned) {
    for (uint64_t id : ObjectIds(*version)) ids.insert(id);
  }
  ids.insert(uncommitted_object_ids.begin(), uncommitted_object_ids.end());
  // Asked last, after the versions were taken: see the protocol in the header.
  if (protection != nullptr) {
    Result<std::vector<uint64_t>> protected_ids = protection->ProtectedObjectIds();
    if (!protected_ids.ok()) {
      return protected_ids.status().WithContext("reading the object protection set");
    }
    ids.insert(protected_ids->begin(), protected_ids->end());
  }
  return std::vector<uint64_t>(ids.begin(), ids.end());
}

}  // namespace rwmeta::hummock
