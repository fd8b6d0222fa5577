#include "backup/manifest.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "common/clock.h"

namespace rwmeta::backup {
namespace {

using nlohmann::json;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A random sleep so that writers that collided do not collide again in lock step.
void Backoff(int attempt) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const int64_t cap_ms = std::min<int64_t>(200, 5LL << std::min(attempt, 5));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(1, cap_ms)(rng)));
}

std::string RandomToken() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[33];
  snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
           static_cast<unsigned long long>(rng()));
  return buf;
}

// Thrown inside DecodeManifest only, caught there: a field of the wrong kind. nlohmann converts
// -1 to a huge unsigned number and 1.5 to 1, which must not pass for a snapshot id or an epoch.
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint64_t U64(const json& obj, const char* key, std::optional<uint64_t> fallback = std::nullopt) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (fallback) return *fallback;
    throw BadField(std::string("missing field ") + key);
  }
  if (!it->is_number_unsigned())
    throw BadField(std::string("field ") + key + " is not an unsigned integer");
  return it->get<uint64_t>();
}

int64_t I64(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw BadField(std::string("missing field ") + key);
  if (!it->is_number_integer()) throw BadField(std::string("field ") + key + " is not an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw BadField(std::string("field ") + key + " out of range");
  return it->get<int64_t>();
}

// Delete is OK for a missing object, so NotFound can only mean the object is gone anyway: the fs
// store reports it when a concurrent Delete removed the emptied directory before this one synced
// it. Either way the object no longer exists.
Status DeleteObject(objstore::ObjectStore& store, const std::string& key) {
  Status s = store.Delete(key);
  return IsNotFound(s) ? Status() : s;
}

}  // namespace

const SnapshotMetadata* Manifest::Find(uint64_t id) const {
  for (const SnapshotMetadata& s : snapshots) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string EncodeManifest(const Manifest& manifest) {
  // ordered_json keeps the field order below, so the bytes are stable (golden files).
  nlohmann::ordered_json root;
  root["manifest_id"] = manifest.manifest_id;
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const SnapshotMetadata& s : manifest.snapshots) {
    nlohmann::ordered_json e;
    e["id"] = s.id;
    e["hummock_version_id"] = s.hummock_version_id;
    // An old entry keeps its inline details where they were; a new one has none (an old reader
    // refuses it for the missing `ssts` instead of protecting nothing).
    if (s.inline_details) e["ssts"] = s.inline_details->object_ids;
    e["format_version"] = s.format_version;
    e["remarks"] = s.remarks ? nlohmann::ordered_json(*s.remarks) : nullptr;
    if (s.inline_details) {
      nlohmann::ordered_json info = nlohmann::ordered_json::object();
      for (const auto& [table_id, t] : s.inline_details->state_table_info) {
        info[std::to_string(table_id)] = {{"committedEpoch", t.committed_epoch},
                                          {"compactionGroupId", t.compaction_group_id}};
      }
      e["state_table_info"] = std::move(info);
    }
    e["rw_version"] = s.rw_version ? nlohmann::ordered_json(*s.rw_version) : nullptr;
    e["max_committed_epoch"] = s.max_committed_epoch;
    e["safe_epoch"] = s.safe_epoch;
    e["size"] = s.size_bytes;
    e["checksum"] = s.checksum;
    e["created_at_ms"] = s.created_at_ms;
    if (!s.inline_details) {
      e["object_count"] = s.object_count;
      e["max_object_id"] = s.max_object_id;
    }
    if (s.scheduled) e["scheduled"] = true;
    if (s.drill) {
      e["drill"] = {{"at_ms", s.drill->at_ms},
                    {"duration_ms", s.drill->duration_ms},
                    {"passed", s.drill->passed},
                    {"message", s.drill->message}};
    }
    entries.push_back(std::move(e));
  }
  root["snapshot_metadata"] = std::move(entries);
  return root.dump(2) + "\n";
}

Result<Manifest> DecodeManifest(std::string_view text, std::string_view object_name) {
  const std::string name = "manifest " + std::string(object_name);
  // nlohmann reports every problem by exception; they end here.
  try {
    const json root = json::parse(text);
    if (!root.is_object()) return DataLossError(name + ": not a JSON object");
    Manifest m;
    m.manifest_id = U64(root, "manifest_id");
    const json& entries = root.at("snapshot_metadata");
    if (!entries.is_array()) return DataLossError(name + ": snapshot_metadata is not an array");
    for (const json& e : entries) {
      SnapshotMetadata s;
      if (!e.is_object()) return DataLossError(name + ": a snapshot entry is not an object");
      s.id = U64(e, "id");
      s.hummock_version_id = U64(e, "hummock_version_id");
      // `ssts` present: an entry of the old layout, details inline (state_table_info may be
      // missing or null there, as that writer allowed: no state tables).
      if (e.contains("ssts")) {
        const json& ssts = e["ssts"];
        if (!ssts.is_array()) throw BadField("field ssts is not an array");
        SnapshotDetails& details = s.inline_details.emplace();
        for (const json& id : ssts) {
          if (!id.is_number_unsigned()) throw BadField("ssts holds a non-id");
          details.object_ids.push_back(id.get<uint64_t>());
        }
        if (e.contains("state_table_info") && !e["state_table_info"].is_null()) {
          if (!e["state_table_info"].is_object())
            throw BadField("state_table_info is not an object");
          for (const auto& [key, v] : e["state_table_info"].items()) {
            const bool digits = !key.empty() && key.size() <= 10 &&
                                key.find_first_not_of("0123456789") == std::string::npos;
            const uint64_t table_id = digits ? std::stoull(key) : 0;
            if (!digits || table_id > UINT32_MAX) {
              return DataLossError(name + ": snapshot " + std::to_string(s.id) +
                                   ": bad state table id '" + key + "'");
            }
            if (!v.is_object()) throw BadField("state_table_info entry is not an object");
            details.state_table_info[static_cast<uint32_t>(table_id)] = {
                U64(v, "committedEpoch", 0), U64(v, "compactionGroupId", 0)};
          }
        }
        s.object_count = details.object_ids.size();
        for (uint64_t id : details.object_ids) s.max_object_id = std::max(s.max_object_id, id);
      } else {
        // The new layout: the details are in the object; GC and restore's id floor rest on
        // these two, so they are required.
        if (e.contains("state_table_info")) throw BadField("state_table_info without ssts");
        s.object_count = U64(e, "object_count");
        s.max_object_id = U64(e, "max_object_id");
      }
      const uint64_t format_version = U64(e, "format_version", 0);
      if (format_version > UINT32_MAX) throw BadField("format_version out of range");
      s.format_version = static_cast<uint32_t>(format_version);
      if (e.contains("remarks") && !e["remarks"].is_null())
        s.remarks = e["remarks"].get<std::string>();
      if (e.contains("rw_version") && !e["rw_version"].is_null()) {
        s.rw_version = e["rw_version"].get<std::string>();
      }
      s.max_committed_epoch = U64(e, "max_committed_epoch", 0);
      s.safe_epoch = U64(e, "safe_epoch", 0);
      s.size_bytes = U64(e, "size", 0);
      s.checksum = U64(e, "checksum", 0);
      const uint64_t created_at_ms = U64(e, "created_at_ms", 0);
      if (created_at_ms > static_cast<uint64_t>(INT64_MAX))
        throw BadField("created_at_ms out of range");
      s.created_at_ms = static_cast<int64_t>(created_at_ms);
      if (e.contains("scheduled") && !e["scheduled"].is_null()) {
        if (!e["scheduled"].is_boolean()) throw BadField("field scheduled is not a boolean");
        s.scheduled = e["scheduled"].get<bool>();
      }
      if (e.contains("drill") && !e["drill"].is_null()) {
        const json& d = e["drill"];
        if (!d.is_object()) throw BadField("field drill is not an object");
        DrillResult& drill = s.drill.emplace();
        drill.at_ms = I64(d, "at_ms");
        drill.duration_ms = I64(d, "duration_ms");
        if (!d.contains("passed") || !d["passed"].is_boolean())
          throw BadField("field drill.passed is not a boolean");
        drill.passed = d["passed"].get<bool>();
        if (!d.contains("message") || !d["message"].is_string())
          throw BadField("field drill.message is not a string");
        drill.message = d["message"].get<std::string>();
      }
      m.snapshots.push_back(std::move(s));
    }
    return m;
  } catch (const std::exception& e) {
    return DataLossError(name + ": not a valid manifest: " + e.what());
  }
}

ManifestStore::ManifestStore(objstore::ObjectStore* store, std::string directory,
                             ManifestStoreOptions options)
    : store_(store), directory_(std::move(directory)), options_(options) {}

Result<Manifest> ManifestStore::Read() {
  const std::string key = ManifestKey(directory_);
  Result<std::string> bytes = store_->Get(key);
  if (!bytes.ok()) {
    if (IsNotFound(bytes.status())) return Manifest{};
    return bytes.status();
  }
  return DecodeManifest(*bytes, key);
}

Result<Manifest> ManifestStore::Update(const std::function<Status(Manifest&)>& mutate) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.force_lock || !store_->SupportsConditionalPut()) return UpdateLocked(mutate);
  const int64_t deadline = SteadyMs() + options_.timeout_ms;
  for (int attempt = 0;; ++attempt) {
    Result<Manifest> r = TryUpdateCas(mutate);
    if (r.ok() || !IsAborted(r.status())) return r;
    if (SteadyMs() >= deadline) {
      return r.status().WithContext("manifest " + ManifestKey(directory_) + ": gave up after " +
                                    std::to_string(attempt + 1) + " lost races");
    }
    Backoff(attempt);
  }
}

Result<Manifest> ManifestStore::TryUpdateCas(const std::function<Status(Manifest&)>& mutate) {
  const std::string key = ManifestKey(directory_);
  objstore::PutOptions put;
  Manifest manifest;
  // Head before Get: if the object changes in between, the etag is older than the content and
  // the conditional Put fails (Aborted), so we never publish over a manifest we did not read.
  Result<objstore::ObjectMeta> head = store_->Head(key);
  if (head.ok()) {
    put.if_match_etag = head->etag;
    Result<std::string> bytes = store_->Get(key);
    if (!bytes.ok()) {
      // Deleted between Head and Get: someone else is changing it; redo.
      if (IsNotFound(bytes.status())) return AbortedError("manifest " + key + " changed");
      return bytes.status();
    }
    RWMETA_ASSIGN_OR_RETURN(manifest, DecodeManifest(*bytes, key));
  } else if (IsNotFound(head.status())) {
    put.if_none_match = true;
  } else {
    return head.status();
  }
  RWMETA_RETURN_IF_ERROR(mutate(manifest));
  ++manifest.manifest_id;
  RWMETA_RETURN_IF_ERROR(store_->Put(key, EncodeManifest(manifest), put));
  return manifest;
}

Result<std::string> ManifestStore::AcquireLock(int64_t deadline_ms) {
  const std::string prefix = ManifestLockPrefix(directory_);
  const std::string mine = ManifestLockKey(directory_, RandomToken());
  for (int attempt = 0;; ++attempt) {
    RWMETA_RETURN_IF_ERROR(store_->Put(mine, "rwmeta manifest lock\n"));
    Result<std::vector<objstore::ObjectMeta>> listed = store_->List(prefix);
    if (!listed.ok()) {
      store_->Delete(mine).IgnoreError();  // the lease expires it anyway
      return listed.status();
    }
    const int64_t now = UnixNowMs();
    bool contended = false;
    for (const objstore::ObjectMeta& m : *listed) {
      if (m.key == mine) continue;
      if (now - m.last_modified_ms < options_.lease_ms) {
        contended = true;
      } else {
        // Left by a writer that died (a live holder stops before its lease ends): tidy up.
        store_->Delete(m.key).IgnoreError();  // ignored anyway while stale
      }
    }
    if (!contended) return mine;
    RWMETA_RETURN_IF_ERROR(DeleteObject(*store_, mine));
    if (SteadyMs() >= deadline_ms) {
      return AbortedError("manifest " + ManifestKey(directory_) +
                          ": lock held by another writer until the timeout");
    }
    Backoff(attempt);
  }
}

Result<Manifest> ManifestStore::UpdateLocked(const std::function<Status(Manifest&)>& mutate) {
  const int64_t start = SteadyMs();
  RWMETA_ASSIGN_OR_RETURN(std::string lock_key, AcquireLock(start + options_.timeout_ms));
  const int64_t acquired = SteadyMs();
  auto body = [&]() -> Result<Manifest> {
    RWMETA_ASSIGN_OR_RETURN(Manifest manifest, Read());
    RWMETA_RETURN_IF_ERROR(mutate(manifest));
    ++manifest.manifest_id;
    // Measured from before our lock object was written, so the lease is never overestimated.
    if (SteadyMs() - start >= options_.lease_ms - options_.safety_margin_ms) {
      return AbortedError("manifest " + ManifestKey(directory_) + ": lock lease ran out after " +
                          std::to_string(SteadyMs() - acquired) + " ms; not published");
    }
    RWMETA_RETURN_IF_ERROR(store_->Put(ManifestKey(directory_), EncodeManifest(manifest)));
    return manifest;
  };
  Result<Manifest> result = body();
  Status released = DeleteObject(*store_, lock_key);
  if (result.ok() && !released.ok()) {
    // Published; the lock object left behind only delays others until its lease ends.
    released.IgnoreError();
  }
  return result;
}

}  // namespace rwmeta::backup
